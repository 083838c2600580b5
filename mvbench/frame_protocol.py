"""Which frames of a scene the frame-level image metrics look at, and how they are resized first.

A :class:`FrameProtocol` names:

* ``sampling``: ``"interval"`` is MovieBench's frame reader (``video_to_frames_average`` in its
  ``metrics/utils/read_mp4_as_img.py``): with ``T`` frames and ``n < T`` it keeps frames
  ``0, s, 2s, ..., (n - 1) s`` with ``s = T // n``, otherwise every frame;
  ``"middle"``, ``"uniform"`` and ``"first"`` are :func:`mvbench.video.sampling.sample_indices`;
  ``"all"`` takes every frame of the scene (``num_frames`` is ignored);
* ``drop_last``: drop the last sampled frame (MovieBench's FID script keeps
  ``min(len(generated), len(real)) - 1`` frames of each shot, i.e. 24 of 25);
* ``resize``: ``R`` resizes every frame to ``R x R`` with PIL's default (bicubic) filter before the
  metric's own preprocessing, as MovieBench's reader does with its ``--Resolution R``; None keeps
  the native size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mvbench.scorers.base import FrameRequest, VideoRef
from mvbench.video.sampling import sample_indices

SAMPLINGS = ("interval", "middle", "uniform", "first", "all")


def interval_indices(n_total: int, n: int) -> list[int]:
    """MovieBench's reader: ``i * (T // n)`` for ``i < n`` when ``n < T``, else every frame.

    >>> interval_indices(100, 4), interval_indices(3, 25)
    ([0, 25, 50, 75], [0, 1, 2])
    """
    if n_total <= 0:
        raise ValueError("cannot sample from a video with no frames")
    if n <= 0:
        raise ValueError(f"number of frames to sample must be positive, got {n}")
    if n >= n_total:
        return list(range(n_total))
    step = n_total // n
    return [i * step for i in range(n)]


def pil_resize_square(frames, size: int) -> np.ndarray:
    """uint8 frames ``[N, H, W, 3]`` resized to ``size`` x ``size`` with PIL bicubic (``Image.resize``'s
    default filter for RGB images).

    >>> pil_resize_square(np.zeros((2, 10, 20, 3), np.uint8), 8).shape
    (2, 8, 8, 3)
    """
    from PIL import Image

    arr = np.asarray(frames)
    return np.stack([np.asarray(Image.fromarray(f).resize((size, size), resample=Image.Resampling.BICUBIC))
                     for f in arr])


@dataclass(frozen=True)
class FrameProtocol:
    """Frames of one scene for a frame-level metric (module doc).

    >>> p = FrameProtocol("interval", 25, drop_last=True)
    >>> p.indices(100)[:3], len(p.indices(100))
    ([0, 4, 8], 24)
    """

    sampling: str = "middle"
    num_frames: int = 16
    drop_last: bool = False
    resize: int | None = None

    def __post_init__(self) -> None:
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"unknown frame sampling {self.sampling!r}; choose from {SAMPLINGS}")
        if self.sampling != "all" and int(self.num_frames) < 1:
            raise ValueError(f"frames per scene must be >= 1, got {self.num_frames}")
        if self.resize is not None and int(self.resize) < 1:
            raise ValueError(f"resize must be a positive size, got {self.resize}")

    def as_dict(self) -> dict:
        return {"sampling": self.sampling, "num_frames": None if self.sampling == "all" else int(self.num_frames),
                "drop_last": bool(self.drop_last), "resize": None if self.resize is None else int(self.resize)}

    def indices(self, n_total: int) -> list[int]:
        """Frame indices (into the scene) this protocol uses for a scene of ``n_total`` frames."""
        if self.sampling == "interval":
            idx = interval_indices(n_total, int(self.num_frames))
        elif self.sampling == "all":
            idx = list(range(n_total))
        else:
            idx = sample_indices(n_total, int(self.num_frames), self.sampling)
        if self.drop_last and len(idx) > 1:
            idx = idx[:-1]
        return idx

    def requests(self, ref: VideoRef) -> list[FrameRequest]:
        """The frame requests of one scene (one per frame for ``interval``, else one for the clip)."""
        if self.sampling == "interval":
            return [FrameRequest(ref.sub(i, i + 1), 1, "middle") for i in interval_indices(ref.num_frames,
                                                                                              int(self.num_frames))]
        if self.sampling == "all":
            return [FrameRequest(ref, ref.num_frames, "first")]
        return [FrameRequest(ref, int(self.num_frames), self.sampling)]

    def frames(self, ref: VideoRef, results: Mapping[Any, Any]) -> np.ndarray:
        """The scene's uint8 frames ``[n, H', W', 3]`` from the runner's results (dropped, resized)."""
        frames = np.concatenate([np.asarray(results[r]) for r in self.requests(ref)], axis=0)
        if self.drop_last and frames.shape[0] > 1:
            frames = frames[:-1]
        if self.resize is not None:
            frames = pil_resize_square(frames, int(self.resize))
        return frames
