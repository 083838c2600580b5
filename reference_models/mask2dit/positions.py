"""Positional embeddings over a whole multi-scene sequence for CogVideoX (1.0: 2B sinusoidal, 5B rotary).

CogVideoX-2B adds a 3D sin-cos embedding to the video tokens (its text positions are zeros) and that table
is sized for one prompt and ``sample_frames``; CogVideoX-5B uses 3D rotary embeddings on the video tokens.
Three ways to extend them over the frames of all scenes:

* ``"official"`` (default): what the authors' released code does (``CogVideoXPatchEmbed.forward`` of
  github.com/Tianhao-Qi/Mask2DiT). For 2B, the model's own ``T0 x h0 x w0`` sin-cos table (``T0`` latent
  frames of ``sample_frames``) is stretched by trilinear interpolation (``align_corners=False``) to
  ``(T0 * text_tokens // max_text_seq_length) x h x w``, i.e. ``n T0`` frames for n prompts of
  ``max_text_seq_length`` tokens, and its first ``sum_i F_i * h * w`` rows are used. Interpolated rows are
  not the sin-cos values of any index (up to 1.85 apart from ``"continuous"`` at CogVideoX-2B's size).
  For 5B, the rotary table over all ``sum_i F_i`` frames, i.e. ``"continuous"``.
* ``"continuous"``: the scenes are one long video; scene i's latent frames get temporal indices that
  continue after scene i-1's (the sin-cos or rotary table recomputed for ``sum_i F_i`` frames).
* ``"per_scene"``: every scene restarts at temporal index 0 (each scene looks like a stock single clip).

With one scene at the model's sample size all three equal the stock model's embedding. Text tokens get no
positional term, as in CogVideoX.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

TEMPORAL_POSITIONS = ("official", "continuous", "per_scene")
DEFAULT_TEMPORAL_POSITIONS = "official"


def _scene_frame_spans(frames: Sequence[int], mode: str) -> list[int]:
    if mode not in TEMPORAL_POSITIONS:
        raise ValueError(f"temporal_positions must be one of {TEMPORAL_POSITIONS}, got {mode!r}")
    return list(frames) if mode == "per_scene" else [sum(frames)]


def official_sincos_video_positions(
    transformer, frames: Sequence[int], height: int, width: int, text_tokens: int, device: torch.device
) -> torch.Tensor:
    """``[sum_i F_i * h * w, dim]``: the released Mask²DiT code's stretched 2B table (see the module docstring).

    ``text_tokens`` is the length of all scenes' prompt tokens together (``n * max_text_seq_length``).
    Interpolated in the dtype of the model's ``pos_embedding`` buffer, as the released code does.
    """
    embed = transformer.patch_embed
    patch = embed.patch_size
    base_t = (embed.sample_frames - 1) // embed.temporal_compression_ratio + 1
    base_h, base_w = embed.sample_height // patch, embed.sample_width // patch
    table = embed.pos_embedding[:, embed.max_text_seq_length:].to(device)
    table = table.reshape(1, base_t, base_h, base_w, -1).permute(0, 4, 1, 2, 3)
    size = [base_t * text_tokens // embed.max_text_seq_length, height // patch, width // patch]
    stretched = F.interpolate(table, size=size, mode="trilinear", align_corners=False)
    rows = stretched.permute(0, 2, 3, 4, 1).reshape(-1, table.shape[1])
    needed = sum(frames) * size[1] * size[2]
    if rows.shape[0] < needed:
        raise ValueError(f"the official position scheme stretches the {base_t}-frame table to {size[0]} frames "
                         f"for {text_tokens} text tokens, fewer than the {sum(frames)} latent frames of the scenes; "
                         "use temporal_positions='continuous' for scenes longer than sample_frames")
    return rows[:needed]


def sincos_video_positions(
    transformer, frames: Sequence[int], height: int, width: int, mode: str, device: torch.device,
    text_tokens: int | None = None,
) -> torch.Tensor:
    """``[sum_i F_i * h * w, dim]`` sin-cos embedding of all video tokens (latent ``height`` x ``width``).

    ``text_tokens`` (all scenes' prompt tokens) is needed by ``mode="official"``.
    """
    if mode == "official":
        if text_tokens is None:
            raise ValueError("temporal_positions='official' needs the number of text tokens of all scenes")
        return official_sincos_video_positions(transformer, frames, height, width, text_tokens, device)
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

    Same grid and crop region as diffusers' CogVideoX (1.0) pipeline, over the frames of all scenes
    (``"official"`` = ``"continuous"``: the released pipeline builds the table for all latent frames).
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
