"""Mask²DiT attention: dense-masked SDPA, grouped attention and FlexAttention agree with a float64 reference."""

import numpy as np
import pytest
import torch
from test_mask2dit_masks import KINDS, reference_token_mask

from reference_models.mask2dit import (
    SceneLayout,
    build_block_mask,
    dense_masked_attention,
    flex_masked_attention,
    grouped_attention,
    masked_attention,
    resolve_backend,
)

TEXT, VIDEO = (3, 5, 2), (11, 7, 13)  # unequal scene lengths


def numpy_masked_attention(q, k, v, mask) -> np.ndarray:
    """softmax(q k^T / sqrt(d) with disallowed pairs at -inf) v, in float64 numpy."""
    q, k, v = (x.double().numpy() for x in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    scores = np.where(mask.numpy(), scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v


@pytest.fixture(scope="module")
def qkv():
    gen = torch.Generator().manual_seed(7)
    total = sum(TEXT) + sum(VIDEO)
    return tuple(torch.randn(2, 3, total, 8, generator=gen) for _ in range(3))


@pytest.mark.parametrize("variant", sorted(KINDS))
def test_three_implementations_match_reference(variant, qkv):
    layout = SceneLayout(TEXT, VIDEO)
    reference = numpy_masked_attention(*qkv, reference_token_mask(variant, TEXT, VIDEO))
    dense = dense_masked_attention(*qkv, layout, variant)
    grouped = grouped_attention(*qkv, layout, variant)
    flex_small_tiles = flex_masked_attention(*qkv, layout, variant, block_size=8)  # full/partial/empty tiles
    flex_default = flex_masked_attention(*qkv, layout, variant)
    for out in (dense, grouped, flex_small_tiles, flex_default):
        assert np.abs(out.double().numpy() - reference).max() < 1e-5
    assert (grouped - dense).abs().max() < 1e-5
    assert (flex_small_tiles - dense).abs().max() < 1e-5


def test_grouped_gradients_match_dense(qkv):
    layout = SceneLayout(TEXT, VIDEO)
    grads = []
    for attention in (dense_masked_attention, grouped_attention):
        leaves = [x.clone().requires_grad_(True) for x in qkv]
        (attention(*leaves, layout, "v2") ** 2).sum().backward()
        grads.append([x.grad for x in leaves])
    for a, b in zip(*grads):
        assert (a - b).abs().max() < 1e-5


def test_block_mask_tiles_follow_the_rule():
    layout = SceneLayout((4, 4), (8, 8))  # 24 tokens, tiles of 4: every tile lies in one group
    mask = build_block_mask(layout, "v1", "cpu", block_size=4)
    dense = mask.to_dense()[0, 0].bool()  # [6 q-tiles, 6 kv-tiles]: tiles that are not skipped
    tile_groups = [0, 1, 2, 2, 3, 3]
    groups = reference_token_mask("v1", (1, 1), (1, 1))
    expected = groups[torch.tensor(tile_groups)[:, None], torch.tensor(tile_groups)[None, :]]
    assert torch.equal(dense, expected)
    assert int(mask.full_kv_num_blocks.sum()) == int(expected.sum())  # all visible tiles are full here
    assert int(mask.kv_num_blocks.sum()) == 0


def test_backend_choice_and_errors(qkv):
    assert resolve_backend("auto", torch.device("cpu")) == "grouped"
    layout = SceneLayout(TEXT, VIDEO)
    out = masked_attention(*qkv, layout, "v3", backend="auto")
    assert (out - dense_masked_attention(*qkv, layout, "v3")).abs().max() < 1e-5
    with pytest.raises(ValueError, match="unknown Mask²DiT attention backend"):
        masked_attention(*qkv, layout, "v3", backend="magic")
    with pytest.raises(ValueError, match="scene layout describes"):
        grouped_attention(*qkv, SceneLayout((1,), (1,)), "v2")
