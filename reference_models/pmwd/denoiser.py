"""The denoiser interface every sampler in this package calls, and a call counter for benchmarks.

A denoiser maps a batch of latent windows to flow-matching velocities, one timestep and one caption
per latent frame::

    velocity = denoiser(latents, timesteps, caption_ids)
    latents:     (B, C, F, H, W)  float
    timesteps:   (B, F)           float, 1000 * sigma of each frame (Wan's timestep scale)
    caption_ids: (B, F)           int64, index of each frame's caption in the denoiser's caption table
    velocity:    (B, C, F, H, W)  same dtype as latents

``denoiser.window`` is the model's native number of latent frames (21 for Wan's 81 video frames).
:class:`~reference_models.pmwd.wan_denoiser.WanFrameDenoiser` wraps diffusers' Wan transformer;
tests use toy denoisers with known outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Denoiser(Protocol):
    window: int

    def __call__(self, latents: torch.Tensor, timesteps: torch.Tensor, caption_ids: torch.Tensor) -> torch.Tensor: ...


@dataclass
class DenoiserStats:
    """What a sampler asked of its denoiser: calls (batched forwards) and windows (batch rows)."""

    calls: int = 0
    windows: int = 0
    frames: int = 0


class CountingDenoiser:
    """Wraps a denoiser and counts its calls, windows and latent frames processed."""

    def __init__(self, inner: Denoiser) -> None:
        self.inner = inner
        self.window = inner.window
        self.stats = DenoiserStats()

    def __call__(self, latents: torch.Tensor, timesteps: torch.Tensor, caption_ids: torch.Tensor) -> torch.Tensor:
        self.stats.calls += 1
        self.stats.windows += latents.shape[0]
        self.stats.frames += latents.shape[0] * latents.shape[2]
        return self.inner(latents, timesteps, caption_ids)


def check_denoiser_inputs(latents: torch.Tensor, timesteps: torch.Tensor, caption_ids: torch.Tensor) -> None:
    """Raise a clear error when the three inputs do not agree on (B, F)."""
    if latents.ndim != 5:
        raise ValueError(f"latents must be (B, C, F, H, W), got shape {tuple(latents.shape)}")
    expected = (latents.shape[0], latents.shape[2])
    for name, t in (("timesteps", timesteps), ("caption_ids", caption_ids)):
        if tuple(t.shape) != expected:
            raise ValueError(f"{name} must be (B, F) = {expected} for latents {tuple(latents.shape)}, got {tuple(t.shape)}")
