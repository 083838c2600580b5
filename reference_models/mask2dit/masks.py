"""Symmetric binary attention masks of Mask²DiT (Sec. 3.2, Fig. 2, Table 2) as scene-level rules.

A rule says, for a query token of scene i, whether it may attend to key tokens of four kinds: the text of
its own scene, the texts of other scenes, the video of its own scene, the videos of other scenes. The same
rule gives three equivalent descriptions of the mask:

* ``group_visibility``: a ``[2n, 2n]`` boolean table over token groups (text 1..n, video 1..n);
* ``dense_mask``: the ``[S, S]`` boolean token mask, ``True`` = may attend (reference and tests only: it is
  O(S^2) memory);
* ``attention_blocks``: the block description used by grouped attention (Fig. 3): for each run of query
  tokens, the key token ranges it attends to. No O(S^2) tensor is ever built.

Variants (rows of Table 2; v2 is the paper's default):

=======  =========  ===========  ==========  ============  ==========  ============  ==========  ============
variant  text→own   text→other   text→own    text→other    video→own   video→other   video→own   video→other
         text       texts        video       videos        text        texts         video       videos
=======  =========  ===========  ==========  ============  ==========  ============  ==========  ============
v1       yes        no           yes         no            yes         no            yes         no
v2       yes        no           yes         no            yes         no            yes         yes
v3       yes        yes          yes         no            yes         no            yes         yes
v4       yes        no           yes         yes           yes         yes           yes         yes
v5       yes        yes          yes         yes           yes         yes           yes         yes
=======  =========  ===========  ==========  ============  ==========  ============  ==========  ============

Choice where the paper is ambiguous: Fig. 2 only draws v4; we read it as "every prompt interacts with every
video segment, in both directions (the mask stays symmetric), but prompts do not see each other", so v4 =
v5 minus text↔text. To make v4 = v3 plus prompt↔all-video instead, set ``text_sees_other_texts=True`` in
its line of ``VARIANTS`` (then v4 equals v5).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .layout import SceneLayout


@dataclass(frozen=True)
class MaskRule:
    """Which key groups a query group may see. Own-text-from-text and own-video-from-video are always on."""

    name: str
    text_sees_other_texts: bool
    text_sees_own_video: bool
    text_sees_other_videos: bool
    video_sees_own_text: bool
    video_sees_other_texts: bool
    video_sees_other_videos: bool

    @property
    def is_symmetric(self) -> bool:
        """True when text_i→video_j is allowed exactly when video_j→text_i is (all paper variants)."""
        return (self.text_sees_own_video == self.video_sees_own_text) and (
            self.text_sees_other_videos == self.video_sees_other_texts
        )


VARIANTS: dict[str, MaskRule] = {
    "v1": MaskRule("v1", False, True, False, True, False, False),
    "v2": MaskRule("v2", False, True, False, True, False, True),
    "v3": MaskRule("v3", True, True, False, True, False, True),
    "v4": MaskRule("v4", False, True, True, True, True, True),
    "v5": MaskRule("v5", True, True, True, True, True, True),
}
DEFAULT_VARIANT = "v2"


def get_rule(variant: str | MaskRule) -> MaskRule:
    """Look up a variant by name (``"v1"`` .. ``"v5"``) or pass a ``MaskRule`` through."""
    if isinstance(variant, MaskRule):
        return variant
    try:
        return VARIANTS[variant]
    except KeyError:
        raise ValueError(f"unknown Mask²DiT mask variant {variant!r}; choose one of {sorted(VARIANTS)}") from None


def group_visibility(rule: MaskRule | str, num_scenes: int) -> torch.Tensor:
    """Boolean ``[2n, 2n]`` table: ``table[q, k]`` is True when query group q may attend to key group k.

    Groups ``0..n-1`` are the scene texts, ``n..2n-1`` the scene videos (see ``SceneLayout``).
    """
    rule = get_rule(rule)
    n = num_scenes
    same = torch.eye(n, dtype=torch.bool)
    other = ~same

    def block(own: bool, others: bool) -> torch.Tensor:
        return (same & own) | (other & others)

    text_rows = torch.cat([block(True, rule.text_sees_other_texts),
                           block(rule.text_sees_own_video, rule.text_sees_other_videos)], dim=1)
    video_rows = torch.cat([block(rule.video_sees_own_text, rule.video_sees_other_texts),
                            block(True, rule.video_sees_other_videos)], dim=1)
    return torch.cat([text_rows, video_rows], dim=0)


def dense_mask(rule: MaskRule | str, layout: SceneLayout, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean ``[S, S]`` token mask, ``mask[q, k] = table[group(q), group(k)]`` (O(S^2): reference only)."""
    table = group_visibility(rule, layout.num_scenes).to(device)
    groups = layout.group_ids(device)
    return table[groups[:, None], groups[None, :]]


@dataclass(frozen=True)
class AttentionBlock:
    """One cross-attention of grouped attention: query tokens ``[query_start, query_end)`` attend to the
    concatenation of the key ranges ``key_ranges`` (each ``(start, end)``, in sequence order)."""

    query_start: int
    query_end: int
    key_ranges: tuple[tuple[int, int], ...]

    @property
    def num_keys(self) -> int:
        return sum(end - start for start, end in self.key_ranges)


def _merge_ranges(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def attention_blocks(rule: MaskRule | str, layout: SceneLayout) -> tuple[AttentionBlock, ...]:
    """Block description of the mask: the paper's 2n cross-attentions (Fig. 3), compacted.

    Each query group becomes one block whose keys are the groups it may see; adjacent key groups are merged
    into one range, and adjacent query groups that see the same keys are merged into one block (so v5 is a
    single unmasked attention). Empty groups are skipped.
    """
    table = group_visibility(rule, layout.num_scenes)
    ranges = layout.group_ranges
    blocks: list[AttentionBlock] = []
    for query_group, (q_start, q_end) in enumerate(ranges):
        if q_end == q_start:
            continue
        keys = _merge_ranges([ranges[k] for k in range(len(ranges)) if table[query_group, k]])
        if blocks and blocks[-1].key_ranges == keys and blocks[-1].query_end == q_start:
            blocks[-1] = AttentionBlock(blocks[-1].query_start, q_end, keys)
        else:
            blocks.append(AttentionBlock(q_start, q_end, keys))
    return tuple(blocks)


def allowed_pairs(rule: MaskRule | str, layout: SceneLayout) -> int:
    """Number of (query, key) token pairs the mask allows: the work an exact masked attention must do."""
    return sum((b.query_end - b.query_start) * b.num_keys for b in attention_blocks(rule, layout))
