"""Which frames a clip is made of.

``middle`` (mvbench's default): split the ``n_total`` frames into ``n`` equal segments and take the
frame at each segment's exact midpoint, ``idx_i = floor((i + 1/2) * n_total / n)``, ``i = 0..n-1``.
With ``n_total < n`` some frames repeat. This is mvbench's own rule: InternVid's evaluation code and
VBench pick the *lower* middle of integer segments (``interval-middle``), InternVid's demo every
``(n_total // n)``-th frame (``step``); for 49 frames and n = 8 the three give ``[3, 9, 15, ...]``,
``[2, 8, 14, ...]`` and ``[0, 6, 12, ...]``.

``interval-middle`` (InternVideo ``Pretrain/ViCLIP/dataset/video_utils.py`` and VBench
``vbench/utils.py``, ``get_frame_indices(num_frames, vlen, sample='middle')``): ``m = min(n, n_total)``
segment bounds ``b = numpy.linspace(0, n_total, m + 1).astype(int)`` (numpy's floating-point values,
truncated), segment ``k`` is ``[b_k, b_{k+1} - 1]`` and its frame ``(b_k + b_{k+1} - 1) // 2``; when
``n_total < n`` the list is padded with its last index.

``step`` (InternVid demo, ``Data/InternVid/viclip/__init__.py``, ``frames2tensor``): every
``s = n_total // n``-th frame from frame 0, the first ``n`` of them (``frames[::s][:n]``); the demo
asserts ``n_total >= n``, so fewer frames are an error here too.

``first``: the first ``n`` frames with step ``stride`` (FVD clips: consecutive frames at the
native frame rate), ``idx_i = i * stride``; needs ``(n - 1) * stride + 1 <= n_total``.

``uniform``: ``n`` frames evenly spaced from the first to the last frame, both included,
``idx_i = round(i * (n_total - 1) / (n - 1))``.
"""

from __future__ import annotations

import math

SAMPLING_MODES = ("middle", "first", "uniform", "interval-middle", "step")


def sample_indices(n_total: int, n: int, mode: str = "middle", stride: int = 1) -> list[int]:
    """Frame indices (ascending, in ``[0, n_total)``) of an ``n``-frame clip (modes: module doc).

    >>> sample_indices(49, 8, "middle")
    [3, 9, 15, 21, 27, 33, 39, 45]
    >>> sample_indices(49, 8, "interval-middle")
    [2, 8, 14, 20, 26, 32, 38, 45]
    >>> sample_indices(49, 8, "step")
    [0, 6, 12, 18, 24, 30, 36, 42]
    """
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
    if mode == "interval-middle":
        return _interval_middle(n_total, n)
    if mode == "step":
        if n_total < n:
            raise ValueError(f"'step' sampling of {n} frames needs at least {n} frames, the video has {n_total}")
        return list(range(0, n_total, n_total // n))[:n]
    raise ValueError(f"unknown sampling mode {mode!r}; choose from {SAMPLING_MODES}")


def _interval_middle(n_total: int, n: int) -> list[int]:
    import numpy as np

    m = min(n, n_total)
    bounds = np.linspace(0, n_total, m + 1).astype(int).tolist()
    idx = [(bounds[k] + bounds[k + 1] - 1) // 2 for k in range(m)]
    return idx + [idx[-1]] * (n - m)


def min_frames_needed(n: int, mode: str = "middle", stride: int = 1) -> int:
    """Fewest frames a video needs so that sampling repeats no frame."""
    return (n - 1) * stride + 1 if mode == "first" else n
