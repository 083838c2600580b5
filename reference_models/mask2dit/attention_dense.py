"""Reference Mask²DiT attention: one SDPA call with the dense boolean token mask (Sec. 3.2).

``out = softmax(q k^T / sqrt(d) + log m_attn) v`` with ``m_attn`` the ``[S, S]`` mask of ``masks.dense_mask``.
O(S^2) memory for the mask: used as the ground truth in tests and as the slow baseline in the benchmark.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .layout import SceneLayout
from .masks import MaskRule, dense_mask


def dense_masked_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, layout: SceneLayout, rule: MaskRule | str,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Masked attention over ``[B, H, S, D]`` tensors; ``mask`` may be passed to reuse a prebuilt one."""
    _check_lengths(query, key, layout)
    if mask is None:
        mask = dense_mask(rule, layout, device=query.device)
    return F.scaled_dot_product_attention(query, key, value, attn_mask=mask)


def _check_lengths(query: torch.Tensor, key: torch.Tensor, layout: SceneLayout) -> None:
    if query.shape[-2] != layout.total_length or key.shape[-2] != layout.total_length:
        raise ValueError(
            f"Mask²DiT attention: query/key have {query.shape[-2]}/{key.shape[-2]} tokens but the scene layout "
            f"describes {layout.total_length} (text {layout.text_lengths}, video {layout.video_lengths})"
        )
