"""Mask²DiT attention with PyTorch FlexAttention and a block mask built from the scene rule.

The block mask is computed analytically from the group layout, never from an ``[S, S]`` tensor: with
``C_q[b, g]`` the number of tokens of group g in query tile b and ``C_k`` likewise for key tiles, the number
of allowed pairs of tile (i, j) is ``(C_q T C_k^T)[i, j]`` for the ``[2n, 2n]`` visibility table T. A tile is
*empty* (skipped) when that count is 0, *full* (no mask evaluation) when it equals the tile's size, and
*partial* otherwise; partial tiles evaluate ``mask_mod(q, k) = T[group(q), group(k)]``. Memory for the mask is
O((S / block)^2 + S).
"""

from __future__ import annotations

import functools

import torch

from .attention_dense import _check_lengths
from .layout import SceneLayout
from .masks import MaskRule, get_rule, group_visibility

DEFAULT_BLOCK_SIZE = 128


def flex_attention_available() -> bool:
    """True when ``torch.nn.attention.flex_attention`` can be imported (PyTorch >= 2.5)."""
    try:
        from torch.nn.attention import flex_attention  # noqa: F401
    except ImportError:
        return False
    return True


def _tile_counts(layout: SceneLayout, num_tiles: int, block_size: int, device: torch.device) -> torch.Tensor:
    """``[num_tiles, 2n]``: tokens of each group inside each tile of ``block_size`` tokens."""
    counts = torch.zeros(num_tiles, 2 * layout.num_scenes, dtype=torch.float64)
    for group, (start, end) in enumerate(layout.group_ranges):
        for tile in range(start // block_size, (end - 1) // block_size + 1 if end > start else 0):
            lo, hi = max(start, tile * block_size), min(end, (tile + 1) * block_size)
            counts[tile, group] += hi - lo
    return counts.to(device)


def build_block_mask(
    layout: SceneLayout, rule: MaskRule | str, device: torch.device | str, block_size: int = DEFAULT_BLOCK_SIZE
):
    """FlexAttention ``BlockMask`` equal to ``masks.dense_mask(rule, layout)``, built without O(S^2) memory."""
    from torch.nn.attention.flex_attention import BlockMask

    device = torch.device(device)
    seq = layout.total_length
    num_tiles = -(-seq // block_size)
    table = group_visibility(rule, layout.num_scenes)
    counts = _tile_counts(layout, num_tiles, block_size, torch.device("cpu"))
    allowed = counts @ table.double() @ counts.T
    tile_sizes = counts.sum(dim=1)
    full = allowed == tile_sizes[:, None] * tile_sizes[None, :]
    partial = (allowed > 0) & ~full

    def indices(selected: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        order = torch.argsort((~selected).to(torch.int8), dim=1, stable=True)
        return (selected.sum(dim=1).to(torch.int32)[None, None].to(device),
                order.to(torch.int32)[None, None].contiguous().to(device))

    # Padded positions past the sequence end map to an extra group that sees nothing.
    padded_table = torch.zeros(table.shape[0] + 1, table.shape[1] + 1, dtype=torch.bool)
    padded_table[:-1, :-1] = table
    padded_table = padded_table.to(device)
    group_ids = torch.full((num_tiles * block_size,), table.shape[0], dtype=torch.long, device=device)
    group_ids[:seq] = layout.group_ids(device)

    def mask_mod(batch, head, q_idx, kv_idx):
        return padded_table[group_ids[q_idx], group_ids[kv_idx]]

    kv_num, kv_idx = indices(partial)
    full_num, full_idx = indices(full)
    return BlockMask.from_kv_blocks(
        kv_num, kv_idx, full_num, full_idx, BLOCK_SIZE=block_size, mask_mod=mask_mod, seq_lengths=(seq, seq)
    )


@functools.lru_cache(maxsize=32)
def _cached_block_mask(layout: SceneLayout, rule: MaskRule, device: str, block_size: int):
    """Block masks are reused across layers and denoising steps (same layout, rule and device)."""
    return build_block_mask(layout, rule, device, block_size)


@functools.cache
def _compiled_flex_attention():
    from torch.nn.attention.flex_attention import flex_attention

    return torch.compile(flex_attention, dynamic=False)


def flex_masked_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, layout: SceneLayout, rule: MaskRule | str,
    block_mask=None, compiled: bool | None = None, block_size: int = DEFAULT_BLOCK_SIZE,
) -> torch.Tensor:
    """Masked attention over ``[B, H, S, D]`` tensors with FlexAttention.

    ``compiled`` defaults to True on CUDA (the fused Triton kernel) and False elsewhere (the eager
    reference path of FlexAttention, exact but not memory-efficient: fine for CPU tests).
    """
    _check_lengths(query, key, layout)
    if block_mask is None:
        block_mask = _cached_block_mask(layout, get_rule(rule), str(query.device), block_size)
    if compiled is None:
        compiled = query.device.type == "cuda"
    if compiled:
        return _compiled_flex_attention()(query, key, value, block_mask=block_mask)
    import warnings

    from torch.nn.attention.flex_attention import flex_attention

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*flex_attention called without torch.compile.*")
        return flex_attention(query, key, value, block_mask=block_mask)
