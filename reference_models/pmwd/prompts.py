"""Frame-level prompts of a long video mapped to latent frames (frame-level captions paper, Sec. 3-4.2).

A :class:`FramePromptPlan` holds the distinct prompt texts (identical captions are shared, as in
the paper's adaptive annotation) and, for each latent frame, the index of its prompt; the texts are
encoded once and ``caption_ids`` feeds the samplers.

Placement rule. ``n`` prompts spread evenly over ``L`` latent frames: latent frame ``f`` takes
prompt ``floor((f + 0.5) * n / L)`` (the prompt whose equal share contains the frame's centre).
Prompts with explicit ``frame_ranges`` (video frames, ``[start, end)``) are placed by the video
time of the latent frame's centre instead. Wan's VAE maps ``1 + 4k`` video frames to ``1 + k``
latent frames (:func:`latent_frames_for_video_frames`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch


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


def latent_frames_for_video_frames(num_video_frames: int, temporal_stride: int = 4) -> int:
    """Latent frames of Wan's causal VAE: ``(num_video_frames - 1) // stride + 1`` (81 -> 21)."""
    if num_video_frames < 1:
        raise ValueError(f"need at least one video frame, got {num_video_frames}")
    return (num_video_frames - 1) // temporal_stride + 1


def plan_from_frame_texts(texts: Sequence[str]) -> FramePromptPlan:
    """Deduplicate per-latent-frame texts (first-occurrence order)."""
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
    """``num_frames`` texts: frame ``f`` gets ``prompts[floor((f + 0.5) * n / L)]``."""
    n = len(prompts)
    if n == 0:
        raise ValueError(f"{where}: no prompts to place")
    if n > num_frames:
        raise ValueError(
            f"{where}: {n} prompts cannot each get a latent frame of a {num_frames}-frame video; "
            "generate a longer video or merge prompts"
        )
    return [prompts[((2 * f + 1) * n) // (2 * num_frames)] for f in range(num_frames)]


def _by_ranges(prompts: Sequence[str], ranges: Sequence[tuple[int, int]], num_frames: int, where: str) -> list[str]:
    """Place prompts by video-frame ranges: latent frame ``f`` at video time ``(f + 0.5) / L * T``."""
    total = max(end for _, end in ranges)
    texts = []
    for f in range(num_frames):
        t = (f + 0.5) * total / num_frames
        inside = [i for i, (a, b) in enumerate(ranges) if a <= t < b]
        if inside:
            texts.append(prompts[inside[0]])
        else:  # a gap in the ranges: take the prompt whose range is nearest
            dist = [min(abs(t - a), abs(t - b)) for a, b in ranges]
            texts.append(prompts[dist.index(min(dist))])
    missing = set(prompts) - set(texts)
    if missing:
        raise ValueError(f"{where}: prompts {sorted(missing)} fall between latent frames; use a longer video")
    return texts


def plan_from_suite_item(item, num_frames: int, scene_frames: Sequence[int] | None = None) -> FramePromptPlan:
    """Frame-level prompts of an mvbench suite item (:class:`mvbench.suite.SuiteItem`) over ``L`` latent frames.

    Scenes split the ``L`` frames evenly (``scene_frames`` gives explicit counts). Inside a scene
    its ``frame_prompts`` are placed by ``frame_ranges`` when given, else spread evenly; a scene
    without frame prompts uses its ``prompt`` for all of its frames.
    """
    scenes = item.scenes
    if scene_frames is None:
        bounds = [(k * num_frames) // len(scenes) for k in range(len(scenes) + 1)]
        scene_frames = [b - a for a, b in zip(bounds, bounds[1:])]
    if len(scene_frames) != len(scenes) or sum(scene_frames) != num_frames:
        raise ValueError(
            f"item {item.id!r}: scene_frames {list(scene_frames)} must give one count per scene "
            f"({len(scenes)}) summing to {num_frames}"
        )
    texts: list[str] = []
    for k, (scene, count) in enumerate(zip(scenes, scene_frames), start=1):
        where = f"item {item.id!r}, scene {k}"
        if count < 1:
            raise ValueError(f"{where}: gets no latent frames out of {num_frames}; generate a longer video")
        if scene.frame_prompts and scene.frame_ranges:
            texts += _by_ranges(scene.frame_prompts, scene.frame_ranges, count, where)
        elif scene.frame_prompts:
            texts += spread_evenly(scene.frame_prompts, count, where)
        else:
            texts += [scene.prompt] * count
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
