"""Token layout of one multi-scene sequence (Mask²DiT, Sec. 3.2, Fig. 1).

The sequence is ``[z_T1, ..., z_Tn ; z_t1, ..., z_tn]``: the text tokens of all n scenes first, then the
video tokens of all scenes in time order. Token groups are numbered the same way: group ``i`` (0 <= i < n)
is the text of scene ``i`` and group ``n + i`` is the video of scene ``i``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch


@dataclass(frozen=True)
class SceneLayout:
    """Lengths of the text and video token groups of each scene.

    ``text_lengths[i]`` and ``video_lengths[i]`` are the number of tokens of scene ``i``; scenes may differ
    in length (unequal scene durations are allowed everywhere).
    """

    text_lengths: tuple[int, ...]
    video_lengths: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "text_lengths", tuple(int(n) for n in self.text_lengths))
        object.__setattr__(self, "video_lengths", tuple(int(n) for n in self.video_lengths))
        if len(self.text_lengths) != len(self.video_lengths) or not self.text_lengths:
            raise ValueError(
                f"SceneLayout needs one text and one video length per scene, got {len(self.text_lengths)} "
                f"text and {len(self.video_lengths)} video lengths"
            )
        if min(self.text_lengths + self.video_lengths) < 0 or min(self.video_lengths) == 0:
            raise ValueError(
                f"SceneLayout lengths must be >= 0 and every scene needs video tokens: "
                f"text={self.text_lengths}, video={self.video_lengths}"
            )

    @property
    def num_scenes(self) -> int:
        return len(self.text_lengths)

    @property
    def num_text_tokens(self) -> int:
        return sum(self.text_lengths)

    @property
    def num_video_tokens(self) -> int:
        return sum(self.video_lengths)

    @property
    def total_length(self) -> int:
        return self.num_text_tokens + self.num_video_tokens

    @property
    def group_lengths(self) -> tuple[int, ...]:
        """Lengths of the 2n groups in sequence order: n text groups, then n video groups."""
        return self.text_lengths + self.video_lengths

    @cached_property
    def group_ranges(self) -> tuple[tuple[int, int], ...]:
        """``(start, end)`` token range of each of the 2n groups."""
        ranges, start = [], 0
        for length in self.group_lengths:
            ranges.append((start, start + length))
            start += length
        return tuple(ranges)

    def text_group(self, scene: int) -> int:
        return scene

    def video_group(self, scene: int) -> int:
        return self.num_scenes + scene

    def group_ids(self, device: torch.device | str | None = None) -> torch.Tensor:
        """Long tensor ``[total_length]``: the group index of every token."""
        lengths = torch.tensor(self.group_lengths, device=device)
        return torch.repeat_interleave(torch.arange(2 * self.num_scenes, device=device), lengths)

    def scene_ids(self, device: torch.device | str | None = None) -> torch.Tensor:
        """Long tensor ``[total_length]``: the scene index of every token (text and video alike)."""
        return self.group_ids(device) % self.num_scenes

    @classmethod
    def uniform(cls, num_scenes: int, text_length: int, video_length: int) -> SceneLayout:
        """Layout with equal lengths for all scenes (the CogVideoX setting: 226 text tokens per prompt)."""
        return cls((text_length,) * num_scenes, (video_length,) * num_scenes)
