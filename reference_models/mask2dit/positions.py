"""Positional embeddings over a whole multi-scene sequence for CogVideoX (1.0: 2B sinusoidal, 5B rotary).

CogVideoX-2B adds a 3D sin-cos embedding to the video tokens (its text positions are zeros) and that table
is sized for one prompt and ``sample_frames``; CogVideoX-5B uses 3D rotary embeddings on the video tokens.
Both are handled here by recomputing the embedding for the frames of all scenes:

* ``"continuous"`` (default): the scenes are one long video; scene i's latent frames get temporal indices
  that continue after scene i-1's (the paper trains on n scenes concatenated into one n-times-longer video,
  Sec. 3.4). Spatial positions are the model's.
* ``"per_scene"``: every scene restarts at temporal index 0 (each scene looks like a stock single clip).

With one scene both equal the stock model's embedding. Text tokens get no positional term, as in CogVideoX.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

TEMPORAL_POSITIONS = ("continuous", "per_scene")


def _scene_frame_spans(frames: Sequence[int], mode: str) -> list[int]:
    if mode not in TEMPORAL_POSITIONS:
        raise ValueError(f"temporal_positions must be one of {TEMPORAL_POSITIONS}, got {mode!r}")
    return [sum(frames)] if mode == "continuous" else list(frames)


def sincos_video_positions(
    transformer, frames: Sequence[int], height: int, width: int, mode: str, device: torch.device
) -> torch.Tensor:
    """``[sum_i F_i * h * w, dim]`` sin-cos embedding of all video tokens (latent ``height`` x ``width``)."""
    patch_embed = transformer.patch_embed
    ratio = patch_embed.temporal_compression_ratio
    parts = []
    for span in _scene_frame_spans(frames, mode):
        joint = patch_embed._get_positional_embeddings(height, width, (span - 1) * ratio + 1, device=device)
        parts.append(joint[0, patch_embed.max_text_seq_length:])
    return torch.cat(parts, dim=0)


def centered_crop_region(grid: tuple[int, int], base: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where a ``grid = (h, w)`` token grid sits inside the ``base = (H, W)`` grid RoPE was trained on.

    The grid is scaled to fit the base keeping its aspect ratio (``H`` high if ``h / w > H / W``, else ``W``
    wide, the other side rounded), then centred; returns ``((top, left), (bottom, right))``.
    """
    (h, w), (base_h, base_w) = grid, base
    if h / w > base_h / base_w:
        fit_h, fit_w = base_h, int(round(base_h / h * w))
    else:
        fit_h, fit_w = int(round(base_w / w * h)), base_w
    top, left = int(round((base_h - fit_h) / 2.0)), int(round((base_w - fit_w) / 2.0))
    return (top, left), (top + fit_h, left + fit_w)


def rotary_video_positions(
    transformer, frames: Sequence[int], height: int, width: int, mode: str, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(cos, sin)``, each ``[sum_i F_i * h * w, head_dim]``: 3D RoPE of all video tokens.

    Same grid and crop region as diffusers' CogVideoX (1.0) pipeline, over the frames of all scenes.
    """
    from diffusers.models.embeddings import get_3d_rotary_pos_embed

    config = transformer.config
    patch = config.patch_size
    grid = (height // patch, width // patch)
    crops = centered_crop_region(grid, (config.sample_height // patch, config.sample_width // patch))
    cos_parts, sin_parts = [], []
    for span in _scene_frame_spans(frames, mode):
        cos, sin = get_3d_rotary_pos_embed(
            embed_dim=config.attention_head_dim, crops_coords=crops, grid_size=grid, temporal_size=span,
            device=device,
        )
        cos_parts.append(cos)
        sin_parts.append(sin)
    return torch.cat(cos_parts, dim=0), torch.cat(sin_parts, dim=0)
