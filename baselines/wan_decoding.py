"""Wan latents to uint8 frames, streamed so that long videos fit in memory.

Wan's sampler works on normalised latents ``z``; the VAE decodes ``z * std + mean`` (per channel, the
``latents_mean`` / ``latents_std`` of the VAE config) into pixels in [-1, 1], mapped to bytes as
``round(255 * clamp(x / 2 + 1/2, 0, 1))``.

``AutoencoderKLWan`` already decodes one latent frame at a time through a causal feature cache, but
``vae.decode`` keeps the whole decoded video (``3 x T x H x W`` floats) on the device and concatenates it
as it goes. :func:`decode_wan_video` runs the same per-frame loop (``post_quant_conv``, then the decoder
with the VAE's own cache, ``first_chunk`` on frame 0) and moves each decoded group of frames to the CPU
as uint8 at once, so device memory stays that of one latent frame whatever the video length; the result
is identical to ``vae.decode``. With spatial tiling (``vae.enable_tiling()``) the VAE's own tiled decode
is used (whole video at once, tiles of 256 px). A VAE without the cache interface falls back to
``vae.decode``.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from .base import frames_to_uint8

log = logging.getLogger(__name__)


def unnormalize(vae, latents: torch.Tensor) -> torch.Tensor:
    """``latents * std + mean`` per channel (``[1, C, F, h, w]``), in the VAE's dtype and device."""
    z = latents.to(device=vae.device, dtype=vae.dtype)
    shape = (1, vae.config.z_dim, 1, 1, 1)
    mean = torch.tensor(vae.config.latents_mean, dtype=z.dtype, device=z.device).view(shape)
    std = torch.tensor(vae.config.latents_std, dtype=z.dtype, device=z.device).view(shape)
    return z / (1.0 / std) + mean


def _can_stream(vae) -> bool:
    return all(hasattr(vae, name) for name in ("clear_cache", "_feat_map", "post_quant_conv", "decoder")) \
        and getattr(vae.config, "patch_size", None) is None


@torch.no_grad()
def decode_wan_video(vae, latents: torch.Tensor) -> np.ndarray:
    """uint8 frames ``[T, H, W, 3]`` (``T = 1 + 4 (F - 1)``) of normalised latents ``[1, C, F, h, w]``."""
    if latents.dim() != 5 or latents.shape[0] != 1:
        raise ValueError(f"expected the latents of one video, [1, C, F, h, w]; got {tuple(latents.shape)}")
    z = unnormalize(vae, latents)
    tile_h, tile_w = (getattr(vae, "tile_sample_min_height", 0) // vae.spatial_compression_ratio,
                      getattr(vae, "tile_sample_min_width", 0) // vae.spatial_compression_ratio)
    tiled = getattr(vae, "use_tiling", False) and (z.shape[-1] > tile_w or z.shape[-2] > tile_h)
    if tiled or not _can_stream(vae):
        if not tiled:
            log.info("this VAE has no per-frame cache interface; decoding the whole video at once")
        return frames_to_uint8(vae.decode(z).sample[0].clamp(-1, 1))
    chunks = []
    vae.clear_cache()
    try:
        for i in range(z.shape[2]):
            vae._conv_idx = [0]
            x = vae.post_quant_conv(z[:, :, i:i + 1])
            out = vae.decoder(x, feat_cache=vae._feat_map, feat_idx=vae._conv_idx, first_chunk=i == 0)
            chunks.append(frames_to_uint8(out[0].clamp(-1, 1)))
    finally:
        vae.clear_cache()
    return np.concatenate(chunks, axis=0)
