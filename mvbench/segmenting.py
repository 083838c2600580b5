"""Cutting a video into the F conceptual frames that a list of frame-level prompts describes.

Confusion Degree (frame-level captions paper, Sec. 5.3) compares F frame-level prompts P_1..P_F
with the F video segments V_1..V_F they describe. This module decides where those segments are.

Boundaries (``boundaries``):

* ``"auto"`` (default): a scene's explicit ``frame_ranges`` from the suite when it has them,
  otherwise equal segments.
* ``"equal"``: always equal segments, ignoring ``frame_ranges``. For a scene of N frames and F
  prompts, segment k (0-based) is ``[floor(k N / F), floor((k + 1) N / F))``: contiguous,
  covering every frame once, lengths differing by at most one. Needs N >= F.

Explicit ranges are ``[start, end)`` frame indices relative to the scene's own video; they may
overlap or leave gaps, but must lie inside the decoded scene (an error names item, scene and range).

Multi-scene items: every scene is segmented on its own by its own frame prompts (a scene without
``frame_prompts`` contributes its scene ``prompt`` as a single frame-level prompt covering the whole
scene), and the item's segments are the concatenation over scenes, in order. An item of the
bundled ``mvbench-longplot`` suite has a single scene, so its F is the number of its frame prompts.

How each segment becomes an embedding (an 8-frame clip at segment midpoints, or the segment's
single middle frame) is the scorer's choice; see :mod:`mvbench.scorers.confusion`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mvbench.errors import SubmissionError
from mvbench.scorers.base import ItemVideos, VideoRef

BOUNDARY_MODES = ("auto", "equal")


@dataclass(frozen=True)
class Segment:
    """One conceptual frame: ``prompt`` describes frames ``[start, end)`` of scene ``scene`` (1-based)."""

    scene: int
    prompt: str
    start: int
    end: int
    ref: VideoRef
    #: "equal" or "ranges": where the boundaries came from
    source: str


def equal_ranges(num_frames: int, num_segments: int) -> list[tuple[int, int]]:
    """``num_segments`` contiguous ranges ``[floor(k N / F), floor((k + 1) N / F))`` covering N frames."""
    if num_segments < 1:
        raise ValueError(f"number of segments must be >= 1, got {num_segments}")
    if num_frames < num_segments:
        raise ValueError(f"cannot cut {num_frames} frames into {num_segments} non-empty segments")
    return [(k * num_frames // num_segments, (k + 1) * num_frames // num_segments) for k in range(num_segments)]


def check_ranges(ranges: list[tuple[int, int]] | tuple[tuple[int, int], ...], num_frames: int,
                 where: str) -> list[tuple[int, int]]:
    """Explicit ``[start, end)`` ranges, checked to be non-empty and inside ``num_frames`` frames."""
    out = []
    for start, end in ranges:
        if not (0 <= start < end <= num_frames):
            raise SubmissionError(
                f"{where}: frame range [{start}, {end}) does not fit the decoded video of {num_frames} frames",
                hint="the suite's frame_ranges assume a longer video; regenerate at the suite's length "
                     "or evaluate with --cd-boundaries equal",
            )
        out.append((int(start), int(end)))
    return out


def segment_scene(ref: VideoRef, prompts: list[str], ranges: list[tuple[int, int]] | None, scene: int,
                  boundaries: str = "auto", where: str = "") -> list[Segment]:
    """Segments of one scene video ``ref`` for its frame-level ``prompts`` (see the module docstring)."""
    if boundaries not in BOUNDARY_MODES:
        raise ValueError(f"boundaries must be one of {BOUNDARY_MODES}, got {boundaries!r}")
    if not prompts:
        raise ValueError("a scene needs at least one frame-level prompt")
    where = where or f"scene {scene}"
    if ranges and boundaries == "auto":
        if len(ranges) != len(prompts):
            raise ValueError(f"{where}: {len(ranges)} frame ranges for {len(prompts)} frame prompts")
        spans, source = check_ranges(ranges, ref.num_frames, where), "ranges"
    else:
        try:
            spans, source = equal_ranges(ref.num_frames, len(prompts)), "equal"
        except ValueError as exc:
            raise SubmissionError(f"{where}: {exc}",
                                  hint="the video is shorter than its number of frame-level prompts") from exc
    return [Segment(scene, p, s, e, ref.sub(s, e), source) for p, (s, e) in zip(prompts, spans)]


def segment_item(videos: ItemVideos, boundaries: str = "auto") -> list[Segment]:
    """All segments of an item, scene by scene in order (F = total number of frame-level prompts)."""
    item = videos.item
    if len(videos.scenes) != len(item.scenes):
        raise SubmissionError(f"item {item.id!r}: {len(videos.scenes)} scene videos for {len(item.scenes)} scenes")
    segments: list[Segment] = []
    for k, (scene, ref) in enumerate(zip(item.scenes, videos.scenes), start=1):
        prompts = list(scene.frame_prompts) or [scene.prompt]
        ranges = [tuple(r) for r in scene.frame_ranges] if scene.frame_prompts else None
        segments += segment_scene(ref, prompts, ranges, k, boundaries, where=f"item {item.id!r}, scene {k}")
    return segments
