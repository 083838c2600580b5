"""VBench per-video formulas (metrics/vbench_quality.py) against hand-worked cases and against
re-implementations that follow VBench's own loops (torch cosine per frame, cv2.absdiff per pair)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from metrics import (
    aesthetic_quality,
    frame_pair_mae,
    imaging_quality,
    temporal_flickering,
    temporal_flickering_from_mae,
    vbench_consistency,
    vbench_long_clip_ranges,
)


def vbench_loop_consistency(features: torch.Tensor) -> float:
    """VBench's subject_consistency loop, frame by frame, with F.cosine_similarity and max(0, .)."""
    video_sim = 0.0
    first = former = None
    for i in range(len(features)):
        f = F.normalize(features[i:i + 1], dim=-1, p=2)
        if i == 0:
            first = f
        else:
            sim_pre = max(0.0, F.cosine_similarity(former, f).item())
            sim_fir = max(0.0, F.cosine_similarity(first, f).item())
            video_sim += (sim_pre + sim_fir) / 2
        former = f
    return video_sim / (len(features) - 1)


def test_consistency_hand_worked():
    # f0 = (1, 0), f1 = (0.6, 0.8), f2 = (0, 1): frame 1: (0.6 + 0.6) / 2 = 0.6; frame 2: (0.8 + 0) / 2 = 0.4
    assert vbench_consistency([[1, 0], [0.6, 0.8], [0, 1]]) == pytest.approx(0.5, abs=1e-12)
    # negative cosines are clamped at 0: f2 = (-1, 0): cos(f1, f2) = -0.6 -> 0, cos(f0, f2) = -1 -> 0
    assert vbench_consistency([[1, 0], [0.6, 0.8], [-1, 0]]) == pytest.approx(0.3, abs=1e-12)
    # scale of a feature does not matter (features are normalised)
    assert vbench_consistency([[2, 0], [3, 4], [0, 7]]) == pytest.approx(0.5, abs=1e-12)
    # identical frames: 1
    assert vbench_consistency(np.ones((5, 3))) == pytest.approx(1.0, abs=1e-12)


def test_consistency_matches_vbench_loop():
    g = torch.Generator().manual_seed(0)
    for t in (2, 3, 17):
        feats = torch.randn(t, 24, generator=g, dtype=torch.float64) + 0.3
        assert vbench_consistency(feats) == pytest.approx(vbench_loop_consistency(feats), abs=1e-12)


def test_consistency_needs_two_frames():
    with pytest.raises(ValueError, match="at least 2 frames"):
        vbench_consistency(np.ones((1, 4)))
    with pytest.raises(ValueError, match="all zeros"):
        vbench_consistency(np.array([[1.0, 0.0], [0.0, 0.0]]))


def test_flickering_hand_worked():
    frames = np.zeros((3, 1, 2, 3), dtype=np.uint8)
    frames[1] = 255  # pair 0->1 differs by 255 everywhere, pair 1->2 by 255 as well
    assert temporal_flickering(frames) == pytest.approx(0.0, abs=1e-12)
    frames[2] = 255  # pair 1->2 is identical now: mean MAE = (255 + 0) / 2
    assert temporal_flickering(frames) == pytest.approx(0.5, abs=1e-12)
    # one pixel of six values changes by 51: MAE 51 / 6 = 8.5; score (255 - 8.5) / 255
    two = np.zeros((2, 1, 2, 3), dtype=np.uint8)
    two[1, 0, 0, 0] = 51
    assert frame_pair_mae(two).tolist() == [8.5]
    assert temporal_flickering(two) == pytest.approx((255 - 8.5) / 255, abs=1e-12)
    assert temporal_flickering_from_mae([25.5]) == pytest.approx(0.9, abs=1e-12)
    with pytest.raises(ValueError, match="at least 2 frames"):
        temporal_flickering(two[:1])


def test_flickering_matches_vbench_with_cv2():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, size=(6, 9, 11, 3), dtype=np.uint8)
    maes = [np.mean(cv2.absdiff(np.array(frames[i], dtype=np.float32), np.array(frames[i + 1], dtype=np.float32)))
            for i in range(len(frames) - 1)]
    expected = (255.0 - np.mean(np.array(maes)).item()) / 255.0
    assert temporal_flickering(frames) == pytest.approx(expected, abs=1e-6)
    # channel order does not matter (VBench reads BGR with cv2)
    assert temporal_flickering(frames[..., ::-1]) == pytest.approx(temporal_flickering(frames), abs=1e-12)


def test_frame_means():
    assert aesthetic_quality([4.0, 5.0, 9.0]) == pytest.approx(0.6, abs=1e-12)
    assert imaging_quality(np.array([[40.0], [80.0]])) == pytest.approx(0.6, abs=1e-12)
    with pytest.raises(ValueError):
        aesthetic_quality([])


@pytest.mark.parametrize("n, fps, seconds, expected", [
    (49, 8.0, 2, [(0, 16), (16, 32), (32, 48), (33, 49)]),  # CogVideoX 49 frames at 8 fps: 3 clips + last 16
    (48, 8.0, 2, [(0, 16), (16, 32), (32, 48)]),            # exact multiple: no extra clip
    (15, 8.0, 2, [(0, 15)]),                                 # shorter than a clip: the whole video
    (100, 23.976, 2, [(0, 46), (46, 92), (54, 100)]),        # int(23.976) = 23 frames per second
    (100, 24.0, 1.9, [(0, 24), (24, 48), (48, 72), (72, 96), (76, 100)]),  # int(1.9) = 1 second
])
def test_long_clip_ranges(n, fps, seconds, expected):
    ranges = vbench_long_clip_ranges(n, fps, seconds)
    assert ranges == expected
    length = int(fps) * int(seconds)
    if n >= length:
        assert all(e - s == length for s, e in ranges)
        assert ranges[-1][1] == n and math.ceil(n / length) == len(ranges)


def test_long_clip_ranges_errors():
    with pytest.raises(ValueError, match="frame rate"):
        vbench_long_clip_ranges(10, 0.5)
    with pytest.raises(ValueError, match="at least one frame"):
        vbench_long_clip_ranges(0, 8.0)
