"""Forward of one diffusers ``CogVideoXBlock`` over a multi-scene sequence with per-scene timesteps.

Same computation as ``CogVideoXBlock.forward`` (its own weights: norm1/attn1/norm2/ff), except that the
LayerNorm-Zero modulation is taken per scene (``scene_modulation.scene_affine``) and the attention gets the
multi-scene layout, so that the installed ``Mask2DiTAttnProcessor`` applies the Mask²DiT mask. With one
scene it reduces to the stock block.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .layout import SceneLayout
from .scene_modulation import scene_affine


def multi_scene_block_forward(
    block,
    video: torch.Tensor,
    text: torch.Tensor,
    scene_temb: torch.Tensor,
    layout: SceneLayout,
    text_ranges: Sequence[tuple[int, int]],
    video_ranges: Sequence[tuple[int, int]],
    rotary: tuple[torch.Tensor, torch.Tensor] | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One block: ``video`` ``[B, Nv, D]``, ``text`` ``[B, Nt, D]``, ``scene_temb`` ``[B, n, D_t]``."""
    num_text = text.shape[1]

    def modulation(norm_zero) -> list[torch.Tensor]:
        return list(norm_zero.linear(norm_zero.silu(scene_temb)).chunk(6, dim=-1))

    shift, scale, gate, text_shift, text_scale, text_gate = modulation(block.norm1)
    attn_video, attn_text = block.attn1(
        hidden_states=scene_affine(block.norm1.norm(video), video_ranges, 1 + scale, shift),
        encoder_hidden_states=scene_affine(block.norm1.norm(text), text_ranges, 1 + text_scale, text_shift),
        image_rotary_emb=rotary,
        scene_layout=layout,
    )
    video = video + scene_affine(attn_video, video_ranges, gate)
    text = text + scene_affine(attn_text, text_ranges, text_gate)

    shift, scale, gate, text_shift, text_scale, text_gate = modulation(block.norm2)
    normed = torch.cat([
        scene_affine(block.norm2.norm(text), text_ranges, 1 + text_scale, text_shift),
        scene_affine(block.norm2.norm(video), video_ranges, 1 + scale, shift),
    ], dim=1)
    ff_out = block.ff(normed)
    video = video + scene_affine(ff_out[:, num_text:], video_ranges, gate)
    text = text + scene_affine(ff_out[:, :num_text], text_ranges, text_gate)
    return video, text
