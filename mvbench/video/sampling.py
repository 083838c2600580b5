"""Which frames a clip is made of.

``middle`` (the default, as in ViCLIP/InternVid evaluation): split the ``n_total`` frames into
``n`` equal segments and take the frame at each segment's midpoint,
``idx_i = floor((i + 1/2) * n_total / n)``, ``i = 0..n-1``. With ``n_total < n`` some frames repeat.

``first``: the first ``n`` frames with step ``stride`` (FVD clips: consecutive frames at the
native frame rate), ``idx_i = i * stride``; needs ``(n - 1) * stride + 1 <= n_total``.

``uniform``: ``n`` frames evenly spaced from the first to the last frame, both included,
``idx_i = round(i * (n_total - 1) / (n - 1))``.
"""

from __future__ import annotations

import math

SAMPLING_MODES = ("middle", "first", "uniform")


def sample_indices(n_total: int, n: int, mode: str = "middle", stride: int = 1) -> list[int]:
    """Frame indices (ascending, in ``[0, n_total)``) of an ``n``-frame clip."""
    if n_total <= 0:
        raise ValueError("cannot sample from a video with no frames")
    if n <= 0:
        raise ValueError(f"number of frames to sample must be positive, got {n}")
    if mode == "middle":
        return [min(n_total - 1, math.floor((i + 0.5) * n_total / n)) for i in range(n)]
    if mode == "first":
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        need = (n - 1) * stride + 1
        if need > n_total:
            raise ValueError(f"'first' sampling of {n} frames with stride {stride} needs {need} frames, "
                             f"the video has {n_total}")
        return [i * stride for i in range(n)]
    if mode == "uniform":
        if n == 1:
            return [(n_total - 1) // 2]
        return [round(i * (n_total - 1) / (n - 1)) for i in range(n)]
    raise ValueError(f"unknown sampling mode {mode!r}; choose from {SAMPLING_MODES}")


def min_frames_needed(n: int, mode: str = "middle", stride: int = 1) -> int:
    """Fewest frames a video needs so that sampling repeats no frame."""
    return (n - 1) * stride + 1 if mode == "first" else n
