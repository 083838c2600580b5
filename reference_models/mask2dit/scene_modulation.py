"""Per-scene AdaLN modulation: each scene's tokens use the conditioning of that scene's own timestep.

CogVideoX modulates every token with one timestep embedding per sample. Mask²DiT's segment-level conditional
mask (Sec. 3.3, supplementary) feeds conditioning scenes at t = 0 and the target scene at t, so the
shift/scale/gate vectors become per scene: for tokens of scene i in ``x``,
``y = x * mult[:, i] + add[:, i]``. Scenes are contiguous token ranges, so this is done by slicing (no
per-token copy of the modulation vectors).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def token_ranges(lengths: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive ``(start, end)`` ranges for the given group lengths."""
    ranges, start = [], 0
    for length in lengths:
        ranges.append((start, start + int(length)))
        start += int(length)
    return ranges


def scene_affine(
    x: torch.Tensor, ranges: Sequence[tuple[int, int]], mult: torch.Tensor, add: torch.Tensor | None = None
) -> torch.Tensor:
    """``x[:, s:e] * mult[:, i, None, :] (+ add[:, i, None, :])`` for each scene range i, concatenated.

    ``x`` is ``[B, N, D]``; ``mult`` and ``add`` are ``[B, n, D]``.
    """
    parts = []
    for scene, (start, end) in enumerate(ranges):
        part = x[:, start:end] * mult[:, scene, None, :]
        if add is not None:
            part = part + add[:, scene, None, :]
        parts.append(part)
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
