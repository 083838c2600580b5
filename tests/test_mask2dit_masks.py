"""Mask²DiT masks: the five variants of Fig. 2 / Table 2 against a hand-written table, and the layout."""

import pytest
import torch

from reference_models.mask2dit import (
    SceneLayout,
    allowed_pairs,
    attention_blocks,
    dense_mask,
    group_visibility,
)

# Two scenes with one token per group. Rows: queries T1 T2 V1 V2; columns: keys T1 T2 V1 V2.
# Written from the rules of the paper / issue 7: v1 per-pair; v2 text<->own video, video<->all video;
# v3 = v2 + text<->text; v4 = prompts<->all videos (no text<->text); v5 = full attention.
EXPECTED_TWO_SCENES = {
    "v1": ["1010",
           "0101",
           "1010",
           "0101"],
    "v2": ["1010",
           "0101",
           "1011",
           "0111"],
    "v3": ["1110",
           "1101",
           "1011",
           "0111"],
    "v4": ["1011",
           "0111",
           "1111",
           "1111"],
    "v5": ["1111",
           "1111",
           "1111",
           "1111"],
}

# Same rules as scene-level kinds: may a query of kind (row) see a key of kind (column)?
KINDS = {  # (text->other text, text->own video, text->other video, video->own text, video->other text, video->other video)
    "v1": (0, 1, 0, 1, 0, 0),
    "v2": (0, 1, 0, 1, 0, 1),
    "v3": (1, 1, 0, 1, 0, 1),
    "v4": (0, 1, 1, 1, 1, 1),
    "v5": (1, 1, 1, 1, 1, 1),
}


def reference_token_mask(variant: str, text_lengths, video_lengths) -> torch.Tensor:
    """Token mask by a plain double loop over (query, key) from the KINDS table."""
    t_other, t_own_v, t_other_v, v_own_t, v_other_t, v_other_v = KINDS[variant]
    tokens = [("text", i) for i, n in enumerate(text_lengths) for _ in range(n)]
    tokens += [("video", i) for i, n in enumerate(video_lengths) for _ in range(n)]
    mask = torch.zeros(len(tokens), len(tokens), dtype=torch.bool)
    for q, (q_kind, q_scene) in enumerate(tokens):
        for k, (k_kind, k_scene) in enumerate(tokens):
            same = q_scene == k_scene
            if q_kind == "text" and k_kind == "text":
                ok = same or t_other
            elif q_kind == "text":
                ok = t_own_v if same else t_other_v
            elif k_kind == "text":
                ok = v_own_t if same else v_other_t
            else:
                ok = same or v_other_v
            mask[q, k] = bool(ok)
    return mask


@pytest.mark.parametrize("variant", sorted(EXPECTED_TWO_SCENES))
def test_two_scene_table(variant):
    expected = torch.tensor([[c == "1" for c in row] for row in EXPECTED_TWO_SCENES[variant]])
    assert torch.equal(group_visibility(variant, 2), expected)
    assert torch.equal(dense_mask(variant, SceneLayout((1, 1), (1, 1))), expected)


@pytest.mark.parametrize("variant", sorted(KINDS))
def test_dense_mask_unequal_scenes_and_symmetry(variant):
    text, video = (3, 0, 2), (4, 6, 5)
    mask = dense_mask(variant, SceneLayout(text, video))
    assert torch.equal(mask, reference_token_mask(variant, text, video))
    assert torch.equal(mask, mask.T)  # the paper's masks are symmetric
    assert allowed_pairs(variant, SceneLayout(text, video)) == int(mask.sum())


def test_block_description_is_the_papers_grouped_attention():
    layout = SceneLayout.uniform(3, 4, 10)
    blocks = attention_blocks("v2", layout)
    assert len(blocks) == 6  # 2n cross-attentions (Fig. 3)
    # Text group 1: own text + own video; scene group 1: own text + all videos (one contiguous range).
    assert blocks[0].key_ranges == ((0, 4), (12, 22))
    assert blocks[3].query_start == 12 and blocks[3].key_ranges == ((0, 4), (12, 42))
    assert len(attention_blocks("v5", layout)) == 1  # full attention collapses to one unmasked call
    covered = [t for b in blocks for t in range(b.query_start, b.query_end)]
    assert covered == list(range(layout.total_length))


def test_layout_ids_and_errors():
    layout = SceneLayout((2, 1), (3, 2))
    assert layout.group_ids().tolist() == [0, 0, 1, 2, 2, 2, 3, 3]
    assert layout.scene_ids().tolist() == [0, 0, 1, 0, 0, 0, 1, 1]
    assert layout.group_ranges == ((0, 2), (2, 3), (3, 6), (6, 8))
    with pytest.raises(ValueError, match="one text and one video length"):
        SceneLayout((1,), (1, 2))
    with pytest.raises(ValueError, match="unknown Mask²DiT mask variant"):
        group_visibility("v9", 2)
