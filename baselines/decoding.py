"""CogVideoX latents to uint8 RGB frames.

Latents ``z`` of one video, ``[1, F, C, h, w]`` (diffusers' CogVideoX layout), are divided by the VAE's
``scaling_factor``, decoded by the 3D causal VAE to pixels ``x`` in [-1, 1] with ``1 + 4 (F - 1)`` frames, and
mapped to bytes as ``round(255 * clamp(x / 2 + 1/2, 0, 1))``.
"""

from __future__ import annotations

import numpy as np
import torch

from .base import frames_to_uint8


@torch.no_grad()
def decode_to_frames(vae, latents: torch.Tensor) -> np.ndarray:
    """uint8 frames ``[T, H, W, 3]`` of one video's latents ``[1, F, C, h, w]``."""
    if latents.dim() != 5 or latents.shape[0] != 1:
        raise ValueError(f"expected the latents of one video, [1, F, C, h, w]; got {tuple(latents.shape)}")
    scaled = latents.permute(0, 2, 1, 3, 4).to(device=vae.device, dtype=vae.dtype) / vae.config.scaling_factor
    return frames_to_uint8(vae.decode(scaled).sample[0])  # [3, T, H, W] in [-1, 1]
