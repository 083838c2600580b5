"""VBench motion formulas (metrics.vbench_motion) against hand-worked cases and independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metrics.vbench_motion import (
    amt_padding_divisor,
    amt_scale,
    dynamic_degree_frames,
    dynamic_degree_interval,
    dynamic_degree_params,
    flow_top_magnitude,
    frames_to_uint8,
    input_padding,
    interpolation_error,
    is_dynamic,
    long_clip_ranges,
    motion_smoothness,
    motion_smoothness_frames,
)


# ----------------------------------------------------------------------------- frame indices
def test_motion_smoothness_frames_of_a_49_frame_clip():
    inputs, targets = motion_smoothness_frames(49)
    assert inputs == [2 * k for k in range(25)]  # 0, 2, ..., 48 go to AMT-S
    assert targets == [2 * k + 1 for k in range(24)]  # 24 midframes compared with 1, 3, ..., 47


def test_motion_smoothness_frames_even_length_drops_last_odd_frame():
    inputs, targets = motion_smoothness_frames(48)
    assert inputs == list(range(0, 48, 2)) and len(inputs) == 24
    assert targets == list(range(1, 46, 2))  # 23 predictions; frame 47 is never compared
    assert motion_smoothness_frames(3) == ([0, 2], [1])
    with pytest.raises(ValueError, match="at least 3 frames"):
        motion_smoothness_frames(2)


@pytest.mark.parametrize("fps, step, n_sampled", [(8, 1, 49), (16, 2, 25), (24, 3, 17), (30, 4, 13), (25, 3, 17)])
def test_dynamic_degree_frames_of_a_49_frame_clip(fps, step, n_sampled):
    idx = dynamic_degree_frames(49, fps)
    assert idx == list(range(0, 49, step)) and len(idx) == n_sampled
    assert idx[0] == 0 and idx[-1] <= 48


def test_dynamic_degree_interval_rounds_half_to_even_like_python():
    # round(fps / 8): 12 -> 1.5 -> 2, 20 -> 2.5 -> 2, 28 -> 3.5 -> 4, 36 -> 4.5 -> 4; never below 1
    assert [dynamic_degree_interval(f) for f in (1, 4, 8, 12, 20, 28, 36, 60)] == [1, 1, 1, 2, 2, 4, 4, 8]
    assert dynamic_degree_interval(23.976) == 3 and dynamic_degree_interval(29.97) == 4


# ----------------------------------------------------------------------------- dynamic degree rule
def test_dynamic_degree_params_hand_worked():
    # 720x480 at 24 fps, 49 frames -> 17 sampled: threshold 6 * 480 / 256 = 11.25 px, round(4 * 17 / 16) = 4 pairs
    assert dynamic_degree_params(480, 720, 17) == (11.25, 4)
    # 49 frames at 8 fps: round(12.25) = 12 pairs; 16 fps: round(6.25) = 6
    assert dynamic_degree_params(480, 720, 49)[1] == 12
    assert dynamic_degree_params(480, 720, 25)[1] == 6
    # Python rounding: 4 * 10 / 16 = 2.5 -> 2, 4 * 6 / 16 = 1.5 -> 2, 4 * 2 / 16 = 0.5 -> 0
    assert [dynamic_degree_params(256, 256, n)[1] for n in (10, 6, 2)] == [2, 2, 0]
    # the shorter side sets the scale (portrait video)
    assert dynamic_degree_params(1024, 512, 16) == (12.0, 4)


def test_flow_top_magnitude_on_a_synthetic_flow_field():
    # 10 x 10 field: pixel p has flow (u, v) = (0.6 m, -0.8 m) with magnitude m = p (0..99); 5% of 100 = 5
    m = np.arange(100, dtype=np.float32).reshape(10, 10)
    flow = np.stack([0.6 * m, -0.8 * m]).astype(np.float32)
    assert flow_top_magnitude(flow) == pytest.approx((99 + 98 + 97 + 96 + 95) / 5, rel=1e-6)
    # 20 x 20 = 400 pixels -> the 20 largest: one moving square of 20 pixels at (3, 4) -> magnitude 5
    flow = np.zeros((2, 20, 20), np.float32)
    flow[0, :4, :5] = 3.0
    flow[1, :4, :5] = -4.0
    assert flow_top_magnitude(flow) == pytest.approx(5.0)
    flow[0, 10, 10] = 30.0  # one more, larger pixel: the 20 largest are it and 19 of the square
    assert flow_top_magnitude(flow) == pytest.approx((30.0 + 19 * 5.0) / 20)


def test_flow_top_magnitude_matches_an_independent_computation():
    rng = np.random.default_rng(3)
    flow = rng.normal(0, 4, size=(2, 37, 53)).astype(np.float32)
    mags = sorted((math.hypot(float(u), float(v)) for u, v in zip(flow[0].ravel(), flow[1].ravel())), reverse=True)
    k = int(37 * 53 * 0.05)  # 97
    assert flow_top_magnitude(flow) == pytest.approx(sum(mags[:k]) / k, rel=1e-5)
    assert math.isnan(flow_top_magnitude(np.ones((2, 4, 4), np.float32)))  # 16 pixels: int(0.8) = 0 selected


def test_is_dynamic_counts_strictly_greater_pairs():
    assert is_dynamic([12.0, 11.25, 11.3, 0.0, 20.0], 11.25, 3) is True  # 12, 11.3, 20 > 11.25
    assert is_dynamic([12.0, 11.25, 11.3, 0.0], 11.25, 3) is False  # equal to the threshold does not count
    assert is_dynamic([], 1.0, 0) is False  # a single sampled frame: no pair, static
    assert is_dynamic([0.0], 1.0, 0) is True  # VBench returns True once count >= 0 after the first pair
    assert is_dynamic([float("nan"), 5.0], 1.0, 1) is True


def test_dynamic_degree_rule_end_to_end_on_synthetic_flows():
    """A 49-frame 720x480 clip at 24 fps: 16 pairs, threshold 11.25 px, 4 pairs needed."""
    idx = dynamic_degree_frames(49, 24)
    threshold, needed = dynamic_degree_params(480, 720, len(idx))
    h, w = 480, 720  # multiples of 8: no padding, flow on the frame grid

    def field(speed: float) -> np.ndarray:  # 10% of the pixels move at `speed`, the rest are still
        f = np.zeros((2, h, w), np.float32)
        f[0, : h // 10] = speed
        return f

    scores = [flow_top_magnitude(field(s)) for s in [12.0] * 3 + [11.0] * 13]
    assert scores[:3] == [12.0] * 3 and is_dynamic(scores, threshold, needed) is False  # 3 of 4
    scores[-1] = flow_top_magnitude(field(11.5))
    assert is_dynamic(scores, threshold, needed) is True


# ----------------------------------------------------------------------------- motion smoothness
def test_interpolation_error_normalisation_hand_worked():
    a = np.zeros((2, 3, 3), np.uint8)
    b = np.full((2, 3, 3), 30, np.uint8)
    c = np.zeros((2, 3, 3), np.uint8)
    c[0, 0, 0] = 200  # one of 18 values differs by 200
    assert interpolation_error([a, a], [b, c]) == pytest.approx((30 + 200 / 18) / 2)
    assert motion_smoothness([a], [b]) == pytest.approx((255 - 30) / 255)
    # absolute difference, not wrapped uint8 subtraction: |10 - 250| = 240
    assert interpolation_error([np.full((1, 1, 3), 10, np.uint8)], [np.full((1, 1, 3), 250, np.uint8)]) == 240.0
    assert motion_smoothness([a], [a]) == 1.0


def test_interpolation_error_ignores_extra_targets_and_checks_inputs():
    a = np.zeros((1, 1, 3), np.uint8)
    assert interpolation_error([a, a, np.full_like(a, 9)], [a, a]) == 0.0
    with pytest.raises(ValueError):
        interpolation_error([a], [a, a])
    with pytest.raises(ValueError):
        interpolation_error([a.astype(np.float32)], [a])


def test_frames_to_uint8_truncates_like_tensor2img():
    x = np.random.default_rng(0).random(1000, dtype=np.float32)
    got = frames_to_uint8(x)
    expected = np.array([math.floor(float(np.float32(v) * np.float32(255.0))) for v in x], dtype=np.uint8)
    np.testing.assert_array_equal(got, expected)  # truncation, not rounding:
    assert (got != np.round(x * 255).astype(np.uint8)).sum() > 300
    assert frames_to_uint8(np.array([-0.5, 0.0039, 1.5], np.float32)).tolist() == [0, 0, 255]


def test_amt_scale_and_padding():
    assert amt_scale(480, 720) == 1.0 and amt_padding_divisor(1.0) == 16
    # CUDA rule, 24 GiB, 4K: s = 524288 / 8294400 * sqrt((24576 - 2500) / 1500) = 0.2425 -> 16 / floor(32.49) = 0.5
    s = 1024 * 512 / (2160 * 3840) * math.sqrt((24 * 1024 - 2500) / 1500)
    assert amt_scale(2160, 3840, 24 * 1024**3) == 16 / math.floor(16 / math.sqrt(s)) == 0.5
    assert amt_padding_divisor(0.5) == 32
    assert amt_scale(1080, 1920, 80 * 1024**3) == 1.0  # a large GPU keeps 1080p at full size


@pytest.mark.parametrize("h, w, d, expected", [
    (480, 720, 16, (0, 0, 0, 0)),
    (70, 90, 16, (3, 3, 5, 5)),  # 90 -> 96 (6 = 3 + 3), 70 -> 80 (10 = 5 + 5)
    (65, 65, 16, (7, 8, 7, 8)),  # 65 -> 80: 15 = 7 + 8, the smaller half first
    (270, 481, 8, (3, 4, 1, 1)),  # 481 -> 488, 270 -> 272
    (64, 64, 8, (0, 0, 0, 0)),
])
def test_input_padding(h, w, d, expected):
    assert input_padding(h, w, d) == expected
    left, right, top, bottom = expected
    assert (h + top + bottom) % d == 0 and (w + left + right) % d == 0


# ----------------------------------------------------------------------------- VBench-Long clips
def test_long_clip_ranges():
    assert long_clip_ranges(50, 8.0) == [(0, 16), (16, 32), (32, 48), (34, 50)]  # last clip = last 16 frames
    assert long_clip_ranges(32, 8.0) == [(0, 16), (16, 32)]
    assert long_clip_ranges(12, 8.0) == [(0, 12)]  # shorter than 2 s: the whole video
    assert long_clip_ranges(49, 24.0) == [(0, 48), (1, 49)]
    assert long_clip_ranges(49, 23.976) == [(0, 46), (3, 49)]  # int(23.976) = 23 fps -> 46-frame clips
    assert long_clip_ranges(100, 8.0, seconds=5) == [(0, 40), (40, 80), (60, 100)]
    with pytest.raises(ValueError):
        long_clip_ranges(10, 0.5)
