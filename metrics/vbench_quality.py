"""VBench's per-video formulas for its appearance / quality dimensions (Huang et al., CVPR 2024; the
reference is the code of Vchitect/VBench, ``vbench/<dimension>.py``), on per-frame features or
pixels. Networks and preprocessing live in :mod:`mvbench.encoders`; this module only does the math
(float64), so every formula can be checked against a hand computation.

* subject / background consistency (``vbench/subject_consistency.py``,
  ``vbench/background_consistency.py``): :func:`vbench_consistency` of the L2-normalised DINO /
  CLIP frame features.
* temporal flickering (``vbench/temporal_flickering.py``): :func:`temporal_flickering` of the
  frames' pixels.
* aesthetic quality (``vbench/aesthetic_quality.py``): :func:`aesthetic_quality` of the per-frame
  LAION scores.
* imaging quality (``vbench/imaging_quality.py``): :func:`imaging_quality` of the per-frame MUSIQ
  scores.
* VBench-Long's clips (``vbench2_beta_long/utils.py:split_video_into_clips``):
  :func:`vbench_long_clip_ranges`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    pass

__all__ = [
    "aesthetic_quality",
    "frame_pair_mae",
    "imaging_quality",
    "temporal_flickering",
    "temporal_flickering_from_mae",
    "vbench_consistency",
    "vbench_long_clip_ranges",
]


def _as_float64(x) -> np.ndarray:
    import torch

    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def vbench_consistency(features) -> float:
    """VBench's subject / background consistency of one video from its frame features ``[T, d]``.

    With ``f_t`` the L2-normalised feature of frame ``t`` (``t = 0..T-1``)::

        S = 1/(T-1) · Σ_{t=1}^{T-1} ( max(0, cos(f_{t-1}, f_t)) + max(0, cos(f_0, f_t)) ) / 2

    i.e. the mean over frames 1..T-1 of the average of the similarity to the previous frame and to the
    first frame, each clamped at 0 (VBench: ``sim_pre = max(0.0, cos(former, cur))``,
    ``sim_fir = max(0.0, cos(first, cur))``, ``video_sim / (len(images) - 1)``). Features need not
    be normalised. Needs ``T >= 2`` (VBench divides by zero otherwise).

    >>> round(vbench_consistency([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]), 6)  # ((0.6+0.6)/2 + (0.8+0)/2) / 2
    0.5
    """
    f = _as_float64(features)
    if f.ndim != 2:
        raise ValueError(f"expected frame features [T, d], got shape {f.shape}")
    if f.shape[0] < 2:
        raise ValueError(f"consistency needs at least 2 frames, got {f.shape[0]}")
    norms = np.linalg.norm(f, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a frame feature is all zeros; its cosine similarity is undefined")
    f = f / norms
    sim_prev = np.maximum(0.0, np.sum(f[1:] * f[:-1], axis=1))
    sim_first = np.maximum(0.0, f[1:] @ f[0])
    return float(np.mean((sim_prev + sim_first) / 2.0))


def frame_pair_mae(frames, chunk: int = 16) -> np.ndarray:
    """Mean absolute difference of each pair of consecutive frames, ``[T-1]`` (float64).

    ``mae_t = mean over pixels and channels of |x_{t+1} - x_t|`` on 0..255 values (VBench's
    ``calculate_mae``: ``np.mean(cv2.absdiff(img1, img2))`` on float32 frames). ``frames`` is uint8
    ``[T, H, W, C]`` (numpy or torch, on any device; any channel order: the mean is the same for BGR and
    RGB). The differences are summed exactly in integers (on a GPU ``chunk`` pairs at a time).

    >>> frame_pair_mae(np.array([[[[0, 0, 0]]], [[[30, 60, 90]]], [[[30, 60, 90]]]], dtype=np.uint8)).tolist()
    [60.0, 0.0]
    """
    import torch

    on_gpu = isinstance(frames, torch.Tensor) and frames.device.type != "cpu"
    if not on_gpu:
        frames = frames.numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if frames.ndim != 4:
        raise ValueError(f"expected frames [T, H, W, C], got shape {tuple(frames.shape)}")
    if frames.shape[0] < 2:
        raise ValueError(f"temporal flickering needs at least 2 frames, got {frames.shape[0]}")
    if str(frames.dtype) not in ("uint8", "torch.uint8"):
        raise TypeError(f"expected uint8 frames, got {frames.dtype}")
    per_pixel = int(np.prod(frames.shape[1:]))
    if on_gpu:  # chunks of pairs at once
        sums = []
        for t in range(0, frames.shape[0] - 1, chunk):
            a = frames[t:t + chunk + 1].to(torch.int16)
            sums.append((a[1:] - a[:-1]).abs_().sum(dim=(1, 2, 3), dtype=torch.int64).cpu())
        return torch.cat(sums).double().numpy() / per_pixel
    sums = [np.abs(frames[t + 1].astype(np.int16) - frames[t].astype(np.int16)).sum(dtype=np.int64)
            for t in range(frames.shape[0] - 1)]  # one pair at a time: no copy of a whole long video
    return np.array(sums, dtype=np.float64) / per_pixel


def temporal_flickering_from_mae(pair_mae) -> float:
    """``(255 - mean_t mae_t) / 255`` from the consecutive-pair MAEs of :func:`frame_pair_mae`
    (VBench's ``cal_score``).

    >>> temporal_flickering_from_mae([51.0, 0.0])
    0.9
    """
    m = _as_float64(pair_mae)
    if m.ndim != 1 or m.size == 0:
        raise ValueError("temporal flickering needs at least one pair of frames")
    return float((255.0 - m.mean()) / 255.0)


def temporal_flickering(frames) -> float:
    """VBench's temporal flickering of one video: ``(255 - mean_t MAE(x_t, x_{t+1})) / 255`` over
    all consecutive pairs of its uint8 frames ``[T, H, W, C]`` (1 for a perfectly static video).

    >>> still = np.zeros((3, 2, 2, 3), dtype=np.uint8)
    >>> temporal_flickering(still)
    1.0
    """
    return temporal_flickering_from_mae(frame_pair_mae(frames))


def aesthetic_quality(frame_scores) -> float:
    """VBench's aesthetic quality of one video: the mean over frames of the LAION aesthetic
    predictor's score (a 1-10 rating), divided by 10 (``normalized_aesthetic_scores = scores / 10``,
    then ``torch.mean``).

    >>> aesthetic_quality([5.0, 6.0, 7.0])
    0.6
    """
    s = _as_float64(frame_scores).reshape(-1)
    if s.size == 0:
        raise ValueError("aesthetic quality needs at least one frame")
    return float(np.mean(s / 10.0))


def imaging_quality(frame_scores) -> float:
    """VBench's imaging quality of one video: the mean over frames of the MUSIQ (SPAQ) score
    (0-100), divided by 100 (VBench divides the average of the per-video means by 100; per video the
    same as dividing each video's mean).

    >>> imaging_quality([60.0, 70.0])
    0.65
    """
    s = _as_float64(frame_scores).reshape(-1)
    if s.size == 0:
        raise ValueError("imaging quality needs at least one frame")
    return float(np.mean(s) / 100.0)


def vbench_long_clip_ranges(num_frames: int, fps: float, seconds: float = 2.0) -> list[tuple[int, int]]:
    """Frame ranges ``[start, end)`` of the clips VBench-Long cuts a (scene) video into.

    As ``vbench2_beta_long/utils.py:split_video_into_clips``: a clip has ``L = int(fps) · int(seconds)``
    frames (``int(avg fps)`` from decord; the per-dimension duration, 2 s for every quality dimension
    in ``clip_length_mix.yaml``, passed through ``int()``). A video shorter than ``L`` is one clip of
    all its frames. Otherwise clips are ``[kL, (k+1)L)`` for ``k < N // L``, and a remainder of
    ``r > 0`` frames gives one more clip made of the last ``L`` frames, ``[N - L, N)`` (VBench
    "borrows" ``L - r`` frames from the previous clip).

    >>> vbench_long_clip_ranges(40, 8.0)       # L = 16: two full clips, then the last 16 frames
    [(0, 16), (16, 32), (24, 40)]
    >>> vbench_long_clip_ranges(10, 8.0)
    [(0, 10)]
    """
    if num_frames <= 0:
        raise ValueError(f"a video needs at least one frame, got {num_frames}")
    length = int(fps) * int(seconds)
    if length <= 0:
        raise ValueError(f"VBench-Long clips of int({fps}) fps x int({seconds}) s have no frames; "
                         "the video needs a frame rate >= 1 and a clip length >= 1 s")
    if num_frames < length:
        return [(0, num_frames)]
    full = num_frames // length
    ranges = [(k * length, (k + 1) * length) for k in range(full)]
    if num_frames % length:
        ranges.append((num_frames - length, num_frames))
    return ranges
