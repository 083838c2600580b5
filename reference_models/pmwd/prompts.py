"""Frame-level prompts of a long video mapped to latent frames (frame-level captions paper, Sec. 3-4.2).

A :class:`FramePromptPlan` holds the distinct prompt texts (identical captions are shared, as in
the paper's adaptive annotation) and, for each latent frame, the index of its prompt; the texts are
encoded once and ``caption_ids`` feeds the samplers.

Causal grouping. Wan's causal VAE decodes latent frame 0 to video frame 0 alone and latent frame
``f >= 1`` to the ``s`` video frames ``[s (f - 1) + 1, s f + 1)`` (``s = 4``), so ``1 + s k`` video
frames are ``1 + k`` latent frames (:func:`latent_frames_for_video_frames`, :func:`latent_video_span`).

Placement rule. Prompts with explicit ``frame_ranges`` (video frames ``[start, end)`` of their scene)
are placed by overlap: latent frame ``f`` takes the prompt whose range holds most of the video frames
``f`` decodes to (ties: the earlier prompt; a latent frame in a gap between ranges takes the nearest
range). Ranges written for another scene length are scaled to the scene's video frames. Prompts
without ranges are spread evenly over latent frames: frame ``f`` of ``L`` takes prompt
``floor((f + 0.5) * n / L)`` (the prompt whose equal share contains the frame's centre).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

#: video frames per latent frame after the first (Wan's and CogVideoX's causal VAEs)
TEMPORAL_STRIDE = 4


@dataclass(frozen=True)
class FramePromptPlan:
    """``prompts``: distinct texts; ``frame_to_prompt[f]``: index into ``prompts`` of latent frame ``f``."""

    prompts: tuple[str, ...]
    frame_to_prompt: tuple[int, ...]

    @property
    def num_frames(self) -> int:
        return len(self.frame_to_prompt)

    def caption_ids(self) -> torch.Tensor:
        """``(L,)`` int64 tensor for the samplers."""
        return torch.tensor(self.frame_to_prompt, dtype=torch.long)

    def frame_prompts(self) -> list[str]:
        """The text of every latent frame (with repeats)."""
        return [self.prompts[i] for i in self.frame_to_prompt]


def latent_frames_for_video_frames(num_video_frames: int, temporal_stride: int = TEMPORAL_STRIDE) -> int:
    """Latent frames of Wan's causal VAE: ``(num_video_frames - 1) // stride + 1`` (81 -> 21).

    >>> latent_frames_for_video_frames(81)
    21
    """
    if num_video_frames < 1:
        raise ValueError(f"need at least one video frame, got {num_video_frames}")
    return (num_video_frames - 1) // temporal_stride + 1


def video_frame_start(latent_frame: int, temporal_stride: int = TEMPORAL_STRIDE) -> int:
    """First video frame decoded from ``latent_frame``: 0 for frame 0, ``s (f - 1) + 1`` after.

    ``video_frame_start(L)`` is the video length of ``L`` latent frames, ``s (L - 1) + 1``.

    >>> [video_frame_start(f) for f in range(4)]
    [0, 1, 5, 9]
    """
    if latent_frame < 0:
        raise ValueError(f"latent frame index must be >= 0, got {latent_frame}")
    return 0 if latent_frame == 0 else temporal_stride * (latent_frame - 1) + 1


def latent_video_span(latent_frame: int, temporal_stride: int = TEMPORAL_STRIDE) -> tuple[int, int]:
    """``[start, end)`` video frames the causal VAE decodes from ``latent_frame`` (1 frame, then ``s``).

    >>> latent_video_span(0), latent_video_span(1), latent_video_span(2)
    ((0, 1), (1, 5), (5, 9))
    """
    return video_frame_start(latent_frame, temporal_stride), video_frame_start(latent_frame + 1, temporal_stride)


def plan_from_frame_texts(texts: Sequence[str]) -> FramePromptPlan:
    """Deduplicate per-latent-frame texts (first-occurrence order).

    >>> plan_from_frame_texts(["a", "b", "a"]).frame_to_prompt
    (0, 1, 0)
    """
    prompts: list[str] = []
    slot: dict[str, int] = {}
    mapping = []
    for text in texts:
        if text not in slot:
            slot[text] = len(prompts)
            prompts.append(text)
        mapping.append(slot[text])
    return FramePromptPlan(tuple(prompts), tuple(mapping))


def spread_evenly(prompts: Sequence[str], num_frames: int, where: str = "prompts") -> list[str]:
    """``num_frames`` texts: frame ``f`` gets ``prompts[floor((f + 0.5) * n / L)]``.

    >>> spread_evenly(["a", "b"], 5)
    ['a', 'a', 'b', 'b', 'b']
    """
    n = len(prompts)
    if n == 0:
        raise ValueError(f"{where}: no prompts to place")
    if n > num_frames:
        raise ValueError(
            f"{where}: {n} prompts cannot each get a latent frame of a {num_frames}-frame video; "
            "generate a longer video or merge prompts"
        )
    return [prompts[((2 * f + 1) * n) // (2 * num_frames)] for f in range(num_frames)]


def place_by_ranges(
    prompts: Sequence[str], ranges: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]], where: str = "prompts"
) -> list[str]:
    """One prompt per latent frame from video-frame ``ranges``, by overlap with each frame's video ``spans``.

    ``spans[f]`` are the video frames ``[a, b)`` of latent frame ``f`` relative to the scene start (see
    :func:`latent_video_span`); the ranges are scaled by ``(scene video frames) / max(range end)``.
    Latent frame ``f`` takes ``argmax_k |[a, b) ∩ range_k|`` (ties: smallest ``k``); with no overlap, the
    range nearest to ``[a, b)``. A prompt that no latent frame takes is an error.

    >>> place_by_ranges(["A", "B"], [(0, 5), (5, 9)], [latent_video_span(f) for f in range(3)])
    ['A', 'A', 'B']
    """
    if len(prompts) != len(ranges) or not prompts:
        raise ValueError(f"{where}: need one frame range per prompt, got {len(prompts)} prompts and {len(ranges)} ranges")
    total = max(end for _, end in ranges)
    scene_frames = spans[-1][1] - spans[0][0]
    scale = scene_frames / total
    scaled = [(a * scale, b * scale) for a, b in ranges]
    texts = []
    for a, b in spans:
        overlaps = [max(0.0, min(b, hi) - max(a, lo)) for lo, hi in scaled]
        best = max(overlaps)
        if best > 0:
            texts.append(prompts[overlaps.index(best)])
        else:  # a gap between ranges: the nearest range
            gaps = [max(lo - b, a - hi, 0.0) for lo, hi in scaled]
            texts.append(prompts[gaps.index(min(gaps))])
    missing = [p for p in prompts if p not in texts]
    if missing:
        raise ValueError(f"{where}: prompts {missing} get no latent frame; use a longer video")
    return texts


def even_scene_split(num_frames: int, num_scenes: int) -> list[int]:
    """Latent frames per scene when ``L`` frames are split evenly: scene k gets ``[kL/n, (k+1)L/n)``.

    >>> even_scene_split(10, 3)
    [3, 3, 4]
    """
    bounds = [(k * num_frames) // num_scenes for k in range(num_scenes + 1)]
    return [b - a for a, b in zip(bounds, bounds[1:])]


def plan_from_suite_item(
    item, num_frames: int, scene_frames: Sequence[int] | None = None, temporal_stride: int = TEMPORAL_STRIDE
) -> FramePromptPlan:
    """Frame-level prompts of an mvbench suite item (:class:`mvbench.suite.SuiteItem`) over ``L`` latent frames.

    Scenes split the ``L`` frames evenly (``scene_frames`` gives explicit counts). Inside a scene its
    ``frame_prompts`` are placed by ``frame_ranges`` when given (by overlap with the video frames each latent
    frame decodes to, see the module docstring), else spread evenly; a scene without frame prompts uses its
    ``prompt`` for all of its frames.
    """
    scenes = item.scenes
    if scene_frames is None:
        scene_frames = even_scene_split(num_frames, len(scenes))
    if len(scene_frames) != len(scenes) or sum(scene_frames) != num_frames:
        raise ValueError(
            f"item {item.id!r}: scene_frames {list(scene_frames)} must give one count per scene "
            f"({len(scenes)}) summing to {num_frames}"
        )
    texts: list[str] = []
    first = 0
    for k, (scene, count) in enumerate(zip(scenes, scene_frames), start=1):
        where = f"item {item.id!r}, scene {k}"
        if count < 1:
            raise ValueError(f"{where}: gets no latent frames out of {num_frames}; generate a longer video")
        if scene.frame_prompts and scene.frame_ranges:
            start = video_frame_start(first, temporal_stride)
            spans = [tuple(v - start for v in latent_video_span(f, temporal_stride)) for f in range(first, first + count)]
            texts += place_by_ranges(scene.frame_prompts, scene.frame_ranges, spans, where)
        elif scene.frame_prompts:
            texts += spread_evenly(scene.frame_prompts, count, where)
        else:
            texts += [scene.prompt] * count
        first += count
    return plan_from_frame_texts(texts)


def plan_from_global_prompt(
    global_prompt: str, num_frames: int, expand: Callable[[str, int], Sequence[str]], num_prompts: int | None = None
) -> FramePromptPlan:
    """Expand a global prompt into frame-level prompts with a user function, then spread them.

    ``expand(global_prompt, n)`` returns ``n`` frame-level prompts (the paper uses an LLM for this);
    ``num_prompts`` defaults to ``L``.
    """
    n = num_frames if num_prompts is None else int(num_prompts)
    prompts = list(expand(global_prompt, n))
    if len(prompts) != n or not all(isinstance(p, str) and p.strip() for p in prompts):
        raise ValueError(f"expand() must return {n} non-empty strings, got {len(prompts)} items")
    return plan_from_frame_texts(spread_evenly(prompts, num_frames, "expanded global prompt"))
