"""Grouped attention (Mask²DiT Sec. 3.2 "Grouped Attention Mechanism", Fig. 3): no mask tensor.

The sequence is split into the 2n token groups; each query group attends, with plain unmasked SDPA, to the
concatenation of the key/value groups its rule allows. Because softmax is taken over exactly the allowed
keys, ``grouped == dense_masked`` exactly (up to float rounding). Adjacent groups with identical key sets
are fused (``masks.attention_blocks``) and single contiguous key ranges are sliced without a copy, so memory
is O(S) beyond the unmasked attention's and compute is the allowed-pair count of ``masks.allowed_pairs``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .attention_dense import _check_lengths
from .layout import SceneLayout
from .masks import MaskRule, attention_blocks


def _gather_keys(tensor: torch.Tensor, ranges: tuple[tuple[int, int], ...]) -> torch.Tensor:
    if len(ranges) == 1:
        start, end = ranges[0]
        return tensor[:, :, start:end]
    return torch.cat([tensor[:, :, start:end] for start, end in ranges], dim=2)


def grouped_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, layout: SceneLayout, rule: MaskRule | str
) -> torch.Tensor:
    """Masked attention over ``[B, H, S, D]`` tensors as a sequence of unmasked cross-attentions."""
    _check_lengths(query, key, layout)
    outputs = []
    for block in attention_blocks(rule, layout):
        q = query[:, :, block.query_start:block.query_end]
        k = _gather_keys(key, block.key_ranges)
        v = _gather_keys(value, block.key_ranges)
        outputs.append(F.scaled_dot_product_attention(q, k, v))
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=2)
