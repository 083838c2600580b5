"""One Diffusion Forcing training step with Wan's flow-matching objective (Sec. 4.3).

For clean latents ``x0`` ``(B, C, F, H, W)``, per-frame noise levels ``sigma_bf`` from the
reference-segment scheme, and noise ``eps``:

    x_t   = (1 - sigma_bf) * x0 + sigma_bf * eps          (per latent frame)
    loss  = mean || v_theta(x_t, 1000 * sigma, c) - (eps - x0) ||^2

Any training loop can call :func:`diffusion_forcing_step` and back-propagate the returned loss. The
prediction is always the model's own conditional velocity: classifier-free guidance is a sampling-time
device and is never applied in training (``WanFrameDenoiser.predict`` ignores the negative prompt).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from reference_models.pmwd.diffusion_forcing import reference_segment_noise_levels
from reference_models.pmwd.flow_matching import add_flow_noise, shift_sigma, sigma_to_timestep

VelocityModel = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class TrainingStep:
    """The loss (a scalar with autograd history) and the sampled per-frame sigmas ``(B, F)``."""

    loss: torch.Tensor
    sigmas: torch.Tensor


def flow_matching_targets(
    x0: torch.Tensor, noise: torch.Tensor, sigmas: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x_t, v)`` with ``x_t = (1 - sigma_f) x0 + sigma_f eps`` and ``v = eps - x0``; ``sigmas`` ``(B, F)``."""
    return add_flow_noise(x0, noise, sigmas, frame_dim=2), noise - x0


def diffusion_forcing_step(
    model: VelocityModel,
    x0: torch.Tensor,
    caption_ids: torch.Tensor,
    step_size: float = 0.1,
    shift: float = 1.0,
    generator: torch.Generator | None = None,
    noise: torch.Tensor | None = None,
) -> TrainingStep:
    """Sample per-frame noise levels, noise ``x0`` and return the velocity MSE.

    ``model(x_t, timesteps (B, F), caption_ids (B, F)) -> v`` (e.g. ``WanFrameDenoiser.predict``); an object
    with a ``predict`` method (a ``WanFrameDenoiser`` itself) is called through ``predict``, which never applies
    classifier-free guidance, so the loss is the same with or without negative embeddings set.
    ``step_size`` bounds the noise-level difference of neighbouring frames (0: synchronous);
    ``shift`` maps the uniform level ``u`` through the schedule shift (1: none).
    """
    if x0.ndim != 5:
        raise ValueError(f"x0 must be (B, C, F, H, W), got shape {tuple(x0.shape)}")
    batch, frames = x0.shape[0], x0.shape[2]
    u = reference_segment_noise_levels(batch, frames, step_size, generator=generator)
    sigmas = shift_sigma(u, shift)
    if noise is None:
        noise = torch.randn(x0.shape, generator=generator, dtype=torch.float32).to(x0.device, x0.dtype)
    x_t, target = flow_matching_targets(x0, noise, sigmas)
    timesteps = sigma_to_timestep(sigmas).to(device=x0.device, dtype=torch.float32)
    predict = model.predict if callable(getattr(model, "predict", None)) else model
    prediction = predict(x_t, timesteps, caption_ids.to(x0.device))
    loss = torch.mean((prediction.float() - target.float()) ** 2)
    return TrainingStep(loss, sigmas)
