"""Video decoding (PyAV), frame sampling and the clip preprocessing shared by every metric.

The frame-tensor helpers (:mod:`mvbench.video.frames`) import torch; they are loaded on first use, so
``from mvbench.video import probe`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mvbench.video.decode import VideoInfo, count_frames, decode_frames, probe
from mvbench.video.sampling import sample_indices

if TYPE_CHECKING:
    from mvbench.video.frames import preprocess_frames, resize, to_float

_FRAMES = ("preprocess_frames", "resize", "to_float")


def __getattr__(name: str):
    if name in _FRAMES:
        from mvbench.video import frames

        return getattr(frames, name)
    raise AttributeError(f"module 'mvbench.video' has no attribute {name!r}")


__all__ = [
    "VideoInfo", "count_frames", "decode_frames", "probe", "preprocess_frames", "resize", "to_float",
    "sample_indices",
]
