"""Rectified-flow (flow-matching) noise schedule and Euler update used by Wan2.1.

Wan is trained with flow matching: a clean latent ``x0`` and Gaussian noise ``eps`` are mixed as
``x_sigma = (1 - sigma) * x0 + sigma * eps`` and the network predicts the velocity
``v = eps - x0`` (the derivative of ``x_sigma`` with respect to ``sigma``). The network's timestep
input is ``t = 1000 * sigma``.

Sampling walks a decreasing ladder ``sigma_0 = 1 > sigma_1 > ... > sigma_N = 0`` with the Euler
rule ``x_{i+1} = x_i + (sigma_{i+1} - sigma_i) * v(x_i, sigma_i)``. Every sampler in this package
uses that rule per latent frame, so frames may sit at different noise levels (Diffusion Forcing).
"""

from __future__ import annotations

import torch

#: Wan's timestep scale: the transformer's timestep input is ``NUM_TRAIN_TIMESTEPS * sigma``.
NUM_TRAIN_TIMESTEPS = 1000


def shift_sigma(s: torch.Tensor, shift: float) -> torch.Tensor:
    """Time-shift of the flow schedule: ``shift * s / (1 + (shift - 1) * s)`` (identity for shift 1).

    A shift above 1 keeps more of the ladder at high noise, as Wan does for 480p/720p sampling.
    """
    if shift <= 0:
        raise ValueError(f"shift must be positive, got {shift}")
    return shift * s / (1.0 + (shift - 1.0) * s)


def flow_sigmas(num_steps: int, shift: float = 5.0) -> torch.Tensor:
    """The sampling ladder: ``num_steps + 1`` float64 sigmas from 1 down to exactly 0.

    ``sigma_i = shift_sigma(1 - i / num_steps)``, so ``sigma_0 = 1`` (pure noise) and
    ``sigma_N = 0`` (clean). Index ``i`` is a frame's *progress*: how many steps it has taken.
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    s = 1.0 - torch.arange(num_steps + 1, dtype=torch.float64) / num_steps
    return shift_sigma(s, shift)


def sigma_to_timestep(sigma: torch.Tensor) -> torch.Tensor:
    """The transformer's timestep input for a noise level: ``1000 * sigma`` (float)."""
    return sigma * NUM_TRAIN_TIMESTEPS


def add_flow_noise(x0: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor, frame_dim: int = 2) -> torch.Tensor:
    """``(1 - sigma_f) * x0 + sigma_f * noise`` with one sigma per latent frame.

    ``x0`` and ``noise`` are ``(..., F, H, W)`` with the frame axis at ``frame_dim``; ``sigma`` holds
    one value per frame, shaped like the leading dims up to and including the frame axis, i.e.
    ``(B, F)`` for ``(B, C, F, H, W)`` latents or ``(F,)`` for ``(C, F, H, W)``.
    """
    s = _per_frame(sigma, x0, frame_dim)
    return (1.0 - s) * x0 + s * noise


def euler_update(
    x: torch.Tensor, velocity: torch.Tensor, sigma_from: torch.Tensor, sigma_to: torch.Tensor, frame_dim: int = 1
) -> torch.Tensor:
    """One Euler step of the flow ODE per frame: ``x + (sigma_to_f - sigma_from_f) * v``.

    ``x`` and ``velocity`` are ``(C, F, H, W)`` (``frame_dim=1``) or ``(B, C, F, H, W)``
    (``frame_dim=2``); ``sigma_from``/``sigma_to`` hold one float64 value per frame. A frame with
    ``sigma_to == sigma_from`` is returned unchanged, which is how frames that do not move at an
    iteration of a Diffusion Forcing schedule are held still.
    """
    delta = (sigma_to.to(torch.float64) - sigma_from.to(torch.float64)).to(x.dtype)
    return x + _per_frame(delta, x, frame_dim) * velocity


def _per_frame(values: torch.Tensor, like: torch.Tensor, frame_dim: int) -> torch.Tensor:
    """Reshape per-frame ``values`` ((F,) or (B, F)) to broadcast against ``like`` at ``frame_dim``."""
    values = values.to(device=like.device, dtype=like.dtype)
    frame_dim = frame_dim % like.ndim
    if values.shape[-1] != like.shape[frame_dim]:
        raise ValueError(
            f"expected one sigma per frame ({like.shape[frame_dim]} frames), got shape {tuple(values.shape)}"
        )
    if values.ndim == 2:
        if frame_dim != 2 or values.shape[0] != like.shape[0]:
            raise ValueError(f"(B, F) sigmas need (B, C, F, H, W) latents, got {tuple(like.shape)}")
        values = values.unsqueeze(1)
    elif values.ndim != 1:
        raise ValueError(f"sigmas must be (F,) or (B, F), got shape {tuple(values.shape)}")
    return values.reshape(values.shape + (1,) * (like.ndim - frame_dim - 1))
