"""Mask²DiT training objectives (Eq. 1–3) and one training step any loop can call (Sec. 3.3–3.4).

v-prediction (Eq. 1): ``z_t = add_noise(z_V, eps, t)``, target ``v = get_velocity(z_V, eps, t)`` from the
diffusers scheduler (CogVideoX's zero-SNR schedule).

* Pre-training (Eq. 3): all n scenes are noised at the same t; the loss covers every scene.
* Segment-level conditional mask (Eq. 2, supplementary): the first n-1 scenes enter clean (no noise, their
  AdaLN conditioned on timestep 0), only scene n is noised at t, and the loss mask m_c = (0, …, 0, 1).
* SFT: each sample uses the conditional mask with probability p (paper: p = 0.5, Table 10), Eq. 3 otherwise.

Loss: ``sum_i m_i * mean(|v_i - v_theta,i|^2) / sum_i m_i`` per sample, averaged over the batch — Eq. 2/3 up
to the constant 1 / sum_i m_i, so both objectives have the same per-scene scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

STAGES = ("pretrain", "sft")


def conditional_scene_mask(num_scenes: int, conditional: torch.Tensor) -> torch.Tensor:
    """Loss mask m_c ``[B, n]``: ones, except rows with ``conditional`` True are ``(0, …, 0, 1)`` (Eq. 2)."""
    weights = torch.ones(conditional.shape[0], num_scenes, device=conditional.device)
    weights[conditional, : num_scenes - 1] = 0.0
    return weights


def masked_scene_loss(
    predictions: Sequence[torch.Tensor], targets: Sequence[torch.Tensor], scene_weights: torch.Tensor
) -> torch.Tensor:
    """Weighted v-prediction MSE: mean over the batch of ``sum_i w_i * mse_i / sum_i w_i``.

    Scenes with weight 0 are excluded exactly (their predictions do not enter the value or the gradient).
    """
    per_scene = torch.stack([
        ((p.float() - t.float()) ** 2).flatten(1).mean(dim=1) for p, t in zip(predictions, targets)
    ], dim=1)
    per_scene = torch.where(scene_weights > 0, per_scene, torch.zeros_like(per_scene))
    return ((per_scene * scene_weights).sum(dim=1) / scene_weights.sum(dim=1)).mean()


def noisy_scene_inputs(
    clean: Sequence[torch.Tensor], noise: Sequence[torch.Tensor], timesteps: torch.Tensor,
    conditional: torch.Tensor, scheduler,
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Model inputs and per-scene timesteps ``[B, n]``.

    Every scene is noised at ``timesteps[b]``, except that in rows with ``conditional[b]`` the first n-1 scenes
    are the clean latents themselves and their timestep is 0.
    """
    num_scenes = len(clean)
    scene_t = timesteps[:, None].repeat(1, num_scenes)
    inputs = []
    for i, (z0, eps) in enumerate(zip(clean, noise)):
        noisy = scheduler.add_noise(z0, eps, timesteps)
        if i < num_scenes - 1:
            keep = conditional.view(-1, *([1] * (z0.dim() - 1)))
            noisy = torch.where(keep, z0, noisy)
            scene_t[conditional, i] = 0
        inputs.append(noisy)
    return inputs, scene_t


@dataclass
class TrainingStepOutput:
    """``loss`` (scalar, with grad), which samples used the conditional mask, and the sampled timesteps."""

    loss: torch.Tensor
    conditional: torch.Tensor
    timesteps: torch.Tensor
    scene_weights: torch.Tensor


def training_step(
    model,
    clean_latents: Sequence[torch.Tensor],
    prompt_embeds: Sequence[torch.Tensor],
    scheduler,
    stage: str = "sft",
    conditional_probability: float = 0.5,
    generator: torch.Generator | None = None,
) -> TrainingStepOutput:
    """Loss of one Mask²DiT training step; call ``.loss.backward()`` and step the optimizer yourself.

    ``model``: a ``MultiSceneTransformer`` (or any callable with its signature). ``clean_latents``: per-scene
    VAE latents ``[B, F_i, C, H, W]``. ``scheduler``: a diffusers scheduler with ``add_noise`` and
    ``get_velocity`` (e.g. ``CogVideoXDDIMScheduler`` from the checkpoint). ``stage``: ``"pretrain"`` (Eq. 3
    only) or ``"sft"`` (conditional mask with probability ``conditional_probability``, Eq. 3 otherwise).
    """
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    if not 0.0 <= conditional_probability <= 1.0:
        raise ValueError(f"conditional_probability must be in [0, 1], got {conditional_probability}")
    clean = list(clean_latents)
    batch, device = clean[0].shape[0], clean[0].device
    num_train = scheduler.config.num_train_timesteps
    draw_on = generator.device if generator is not None else torch.device("cpu")
    timesteps = torch.randint(0, num_train, (batch,), generator=generator, device=draw_on).to(device)
    noise = [torch.randn(z.shape, generator=generator, device=draw_on, dtype=z.dtype).to(device) for z in clean]
    draw = torch.rand(batch, generator=generator, device=draw_on).to(device)
    conditional = draw < conditional_probability
    if stage == "pretrain" or len(clean) < 2:
        conditional = torch.zeros_like(conditional)
    inputs, scene_t = noisy_scene_inputs(clean, noise, timesteps, conditional, scheduler)
    targets = [scheduler.get_velocity(z0, eps, timesteps) for z0, eps in zip(clean, noise)]
    predictions = model(inputs, prompt_embeds, scene_t)
    weights = conditional_scene_mask(len(clean), conditional)
    return TrainingStepOutput(masked_scene_loss(predictions, targets, weights), conditional, timesteps, weights)
