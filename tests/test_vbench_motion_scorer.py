"""The vbench_motion scorer with fake networks: which frames reach each network, padding, VBench's
per-video formulas, multi-scene modes (scene / long / video), aggregation with units, options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mvbench.errors import ConfigError, WeightsMissingError
from mvbench.scorers import METRIC_TO_SCORER, FrameRequest, ItemVideos, VideoRef, scorer_class
from mvbench.scorers.vbench_motion import VBenchMotionScorer, score_dynamic_degree, score_motion_smoothness
from mvbench.suite import Scene, SuiteItem


class CopyFirst(nn.Module):
    """Fake interpolator: the 'midframe' is the first input frame; records the (padded) input sizes."""

    def __init__(self):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))
        self.calls: list[tuple] = []

    def forward(self, img0, img1, embt, scale_factor=1.0):
        self.calls.append((tuple(img0.shape), float(embt.flatten()[0]), scale_factor))
        return img0.clone()


class BrightnessFlow(nn.Module):
    """Fake RAFT: a uniform horizontal flow equal to the brightness change of the pair (frames in 0..255);
    records the mean brightness of every first frame it sees (the frame index, in these tests)."""

    def __init__(self):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))
        self.seen: list[float] = []
        self.shapes: list[tuple] = []

    def forward(self, image1, image2, iters=20):
        self.shapes.append(tuple(image1.shape))
        self.seen += [float(v) for v in image1.mean(dim=(1, 2, 3))]
        b, _, h, w = image1.shape
        du = (image2 - image1).mean(dim=(1, 2, 3)).view(b, 1, 1, 1)
        return torch.cat([du.expand(b, 1, h, w), torch.zeros(b, 1, h, w)], dim=1)


def index_frames(n: int, h: int = 64, w: int = 64, step: int = 1) -> np.ndarray:
    """Frame t is uniformly t * step (so a frame's brightness tells its index)."""
    return np.stack([np.full((h, w, 3), t * step, np.uint8) for t in range(n)])


# ----------------------------------------------------------------------------- per-video pipelines
def test_motion_smoothness_feeds_even_frames_and_compares_odd_ones():
    frames = index_frames(9, step=10)  # 0, 10, ..., 80
    fake = CopyFirst()
    res = score_motion_smoothness(frames, fake)
    assert len(fake.calls) == 4 and all(c[1] == 0.5 and c[2] == 1.0 for c in fake.calls)  # pairs (0,2) (2,4) (4,6) (6,8)
    # prediction k = frame 2k (value 20k), compared with frame 2k+1 (value 20k + 10): error 10 everywhere
    assert res["value"] == pytest.approx((255 - 10) / 255) and res["num_predictions"] == 4


def test_motion_smoothness_pads_to_16_and_unpads():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(7, 70, 90, 3), dtype=np.uint8)
    fake = CopyFirst()
    res = score_motion_smoothness(frames, fake)
    assert {c[0] for c in fake.calls} == {(1, 3, 80, 96)}  # 70 -> 80, 90 -> 96
    # independent: prediction = even frame 2k (x / 255 * 255 is exact in float32), vs odd frame 2k + 1
    expected = np.mean([np.abs(frames[2 * k + 1].astype(int) - frames[2 * k]).mean() for k in range(3)])
    assert res["value"] == pytest.approx((255 - expected) / 255, abs=1e-12)


def test_motion_smoothness_with_an_averaging_interpolator_truncates_like_vbench():
    class Average(CopyFirst):
        def forward(self, img0, img1, embt, scale_factor=1.0):
            return (img0 + img1) / 2

    frames = index_frames(5, step=3)  # 0, 3, 6, 9, 12: the midframes should be 3 and 9
    f32 = np.float32

    def predicted(a: int, b: int) -> int:  # float32 as the pipeline: x / 255, average, * 255, truncate
        mid = (f32(f32(a) / f32(255)) + f32(f32(b) / f32(255))) / f32(2)
        return int(np.floor(f32(mid * f32(255))))

    err = np.mean([abs(3 - predicted(0, 6)), abs(9 - predicted(6, 12))])
    assert score_motion_smoothness(frames, Average())["value"] == pytest.approx((255 - err) / 255)


@pytest.mark.parametrize("fps, expected", [
    (8, list(range(48))),  # all 49 frames: 48 pairs
    (16, list(range(0, 48, 2))),  # 25 frames: 24 pairs starting at 0, 2, ..., 46
    (24, list(range(0, 48, 3))),  # 17 frames: 16 pairs starting at 0, 3, ..., 45
])
def test_dynamic_degree_feeds_raft_every_round_fps_over_8th_frame(fps, expected):
    fake = BrightnessFlow()
    res = score_dynamic_degree(index_frames(49), fps, fake, early_exit=False)
    assert [round(v) for v in fake.seen] == expected
    assert res["num_sampled"] == len(expected) + 1 and res["interval"] == {8: 1, 16: 2, 24: 3}[fps]


def test_dynamic_degree_threshold_and_count_with_fake_flow():
    # 64 x 64: threshold 6 * 64 / 256 = 1.5 px. 17 frames at 8 fps: 16 pairs, round(4 * 17 / 16) = 4 needed.
    fake = BrightnessFlow()
    steps = [2, 2, 2] + [1] * 13  # brightness change per pair = flow magnitude: three pairs move 2 px
    frames = np.stack([np.full((64, 64, 3), v, np.uint8) for v in np.concatenate([[0], np.cumsum(steps)])])
    res = score_dynamic_degree(frames, 8, fake, early_exit=False)
    assert (res["threshold"], res["count_needed"]) == (1.5, 4)
    assert res["pair_scores"] == pytest.approx([2.0] * 3 + [1.0] * 13)
    assert res["value"] == 0.0  # 3 < 4
    steps[10] = 5
    frames = np.stack([np.full((64, 64, 3), v, np.uint8) for v in np.concatenate([[0], np.cumsum(steps)])])
    assert score_dynamic_degree(frames, 8, BrightnessFlow(), early_exit=False)["value"] == 1.0


def test_dynamic_degree_early_exit_gives_the_same_verdict_with_fewer_pairs():
    frames = index_frames(17, step=3)  # every pair moves 3 px > 1.5
    full = score_dynamic_degree(frames, 8, BrightnessFlow(), early_exit=False)
    fake = BrightnessFlow()
    quick = score_dynamic_degree(frames, 8, fake, early_exit=True)
    assert full["value"] == quick["value"] == 1.0
    assert len(full["pair_scores"]) == 16 and len(quick["pair_scores"]) == 4 == len(fake.seen)


def test_dynamic_degree_pads_to_8_and_a_single_frame_is_static():
    fake = BrightnessFlow()
    score_dynamic_degree(index_frames(3, h=66, w=70), 8, fake)
    assert fake.shapes[0] == (1, 3, 72, 72)
    res = score_dynamic_degree(index_frames(4), 30, BrightnessFlow())  # interval 4: only frame 0
    assert res["value"] == 0.0 and res["pair_scores"] == [] and res["count_needed"] == 0


def test_too_small_frames_fail_with_a_clear_message():
    with pytest.raises(ValueError, match="too small for VBench's AMT-S"):
        score_motion_smoothness(index_frames(5, h=48, w=96), CopyFirst(), path="x/scene_1.mp4")
    with pytest.raises(ValueError, match="x/scene_1.mp4: 96x48 frames are too small for VBench's RAFT"):
        score_dynamic_degree(index_frames(5, h=48, w=96), 8, BrightnessFlow(), path="x/scene_1.mp4")
    with pytest.raises(ValueError, match="at least 3 frames"):
        score_motion_smoothness(index_frames(2), CopyFirst())


# ----------------------------------------------------------------------------- the scorer
def _item(scene_frames: list[np.ndarray], fps: float = 8.0, same_file: bool = False):
    """ItemVideos + the results mapping the runner would hand over (frames decoded elsewhere)."""
    item = SuiteItem("it", tuple(Scene(f"scene {k}") for k in range(len(scene_frames))))
    refs, start = [], 0
    for k, f in enumerate(scene_frames):
        if same_file:
            refs.append(VideoRef("it.mp4", start, start + len(f), fps))
            start += len(f)
        else:
            refs.append(VideoRef(f"it/scene_{k + 1}.mp4", 0, len(f), fps))
    videos = ItemVideos(item, tuple(refs))
    results = {FrameRequest(r, r.num_frames, "first"): torch.from_numpy(f) for r, f in zip(refs, scene_frames)}
    return videos, results


def _scorer(**options) -> VBenchMotionScorer:
    return VBenchMotionScorer({"metrics": ["motion_smoothness", "dynamic_degree"], **options},
                              interpolator=CopyFirst(), flow_model=BrightnessFlow())


def test_registered_for_both_metrics():
    assert METRIC_TO_SCORER["motion_smoothness"] == METRIC_TO_SCORER["dynamic_degree"] == "vbench_motion"
    assert scorer_class("vbench_motion") is VBenchMotionScorer


def test_requests_all_frames_of_each_scene_once():
    videos, results = _item([index_frames(9), index_frames(12)], same_file=True)
    reqs = _scorer().requests(videos)
    assert reqs == list(results) and [r.num_frames for r in reqs] == [9, 12]
    assert all(r.sampling == "first" for r in reqs)


def test_scene_mode_means_over_scenes():
    # scene 1: steps of 10 (MS error 10, flow 10 px > 1.5: dynamic); scene 2: static (MS 1, no flow)
    videos, results = _item([index_frames(9, step=10), index_frames(9, step=0)])
    score = _scorer().score(videos, results)
    assert score.details["motion_smoothness"] == [round(245 / 255, 6), 1.0]
    assert score.details["dynamic_degree"] == [1.0, 0.0]
    assert score.values == {"motion_smoothness": round((245 / 255 + 1) / 2, 6), "dynamic_degree": 0.5}
    assert score.details["videos"] == ["scene_1", "scene_2"]


def test_long_mode_splits_scenes_into_two_second_clips():
    # 40 frames at 8 fps -> clips [0, 16), [16, 32), [24, 40); frames 0..15 move, the rest are still
    frames = np.concatenate([index_frames(16, step=5), np.full((24, 64, 64, 3), 75, np.uint8)])
    videos, results = _item([frames, index_frames(10, step=0)])
    scorer = _scorer(vbench_mode="long")
    score = scorer.score(videos, results)
    assert score.details["videos"] == ["scene_1_clip_000", "scene_1_clip_001", "scene_1_clip_002", "scene_2_clip_000"]
    assert score.details["dynamic_degree"] == [1.0, 0.0, 0.0, 0.0]
    assert score.values["dynamic_degree"] == 0.25  # mean over the item's 4 clips
    ms = score.details["motion_smoothness"]
    assert ms[0] == round(250 / 255, 6) and ms[1:] == [1.0, 1.0, 1.0]
    assert score.values["motion_smoothness"] == round(np.mean([250 / 255, 1, 1, 1]), 6)
    assert scorer.config()["long_clip_seconds"] == 2


def test_long_mode_uses_integer_fps_for_the_dynamic_degree_interval():
    # 23.976 fps: VBench-Long writes clips at int(fps) = 23 fps -> 46-frame clips, interval round(23/8) = 3
    videos, results = _item([index_frames(49)], fps=23.976)
    score = _scorer(vbench_mode="long").score(videos, results)
    assert len(score.details["videos"]) == 2
    assert [d["interval"] for d in score.details["dynamic_degree_pairs"]] == [3, 3]
    assert [d["sampled_frames"] for d in score.details["dynamic_degree_pairs"]] == [16, 16]


def test_video_mode_joins_the_scenes():
    videos, results = _item([index_frames(9, step=10), index_frames(8, step=0)], same_file=True)
    fake = BrightnessFlow()
    scorer = VBenchMotionScorer({"metrics": ["dynamic_degree"], "vbench_mode": "video", "dd_all_pairs": True},
                                flow_model=fake)
    score = scorer.score(videos, results)
    assert score.details["videos"] == ["video"] and len(fake.seen) == 16  # 17 frames joined: 16 pairs
    assert "motion_smoothness" not in score.values
    _, bad = _item([index_frames(9), index_frames(9, h=128)])
    with pytest.raises(ValueError, match="different frame sizes"):
        scorer.score(_item([index_frames(9), index_frames(9, h=128)])[0], bad)


def test_aggregate_reports_fractions_with_intervals():
    scorer = _scorer()
    scores = {}
    for i, step in enumerate([10, 0, 10, 5]):
        videos, results = _item([index_frames(9, step=step)])
        scores[f"i{i}"] = scorer.score(videos, results)
    out = scorer.aggregate(scores, seed=0)
    assert set(out) == {"motion_smoothness", "dynamic_degree"}
    dd = out["dynamic_degree"]
    assert dd["mean"] == 0.75 and dd["n"] == 4 and dd["unit"] == "fraction" and dd["mode"] == "scene"
    lo, hi = dd["ci95"]
    assert 0.0 <= lo <= 0.75 <= hi <= 1.0
    ms = out["motion_smoothness"]
    assert ms["unit"] == "fraction" and ms["mean"] == pytest.approx(np.mean([245, 255, 245, 250]) / 255, abs=1e-6)


def test_only_requested_metrics_are_built(monkeypatch):
    scorer = VBenchMotionScorer({"metrics": ["motion_smoothness"]}, interpolator=CopyFirst())
    videos, results = _item([index_frames(9)])
    assert set(scorer.score(videos, results).values) == {"motion_smoothness"}
    assert set(scorer.aggregate({"a": scorer.score(videos, results)})) == {"motion_smoothness"}
    assert "dynamic_degree" not in scorer.config()
    # the missing RAFT checkpoint is only an error when dynamic degree is asked for
    with pytest.raises(WeightsMissingError, match="raft-things"):
        VBenchMotionScorer({"metrics": ["dynamic_degree"]})


def test_bad_option_values_fail_early():
    with pytest.raises(ConfigError, match="vbench_mode.*'clips' is not one of scene, video, long"):
        _scorer(vbench_mode="clips")
    with pytest.raises(ConfigError, match="'whole' is now 'video'"):
        _scorer(vbench_mode="whole")
    with pytest.raises(ConfigError, match="motion_pair_batch"):
        _scorer(motion_pair_batch=0)


def test_ms_vram_option_applies_the_cuda_rule():
    from metrics.vbench_motion import amt_padding_divisor, amt_scale

    fake = CopyFirst()
    gib = 2510 / 1024  # 256 x 256 frames: s = 8 * sqrt(10 / 1500) = 0.653 -> scale 16 / floor(19.8) = 16 / 19
    scorer = VBenchMotionScorer({"metrics": ["motion_smoothness"], "ms_vram_gib": gib}, interpolator=fake)
    videos, results = _item([index_frames(5, h=256, w=256)])
    scorer.score(videos, results)
    scale = amt_scale(256, 256, gib * 1024**3)
    assert scale == pytest.approx(16 / 19) and fake.calls[0][2] == scale
    d = amt_padding_divisor(scale)  # VBench pads to multiples of int(16 / scale)
    assert fake.calls[0][0] == (1, 3, -(-256 // d) * d, -(-256 // d) * d)
    assert "VBench CUDA" in scorer.config()["motion_smoothness"]["downscale_rule"]


def test_nan_flows_are_static_and_written_as_null():
    class NanFlow(BrightnessFlow):
        def forward(self, image1, image2, iters=20):
            return torch.full((image1.shape[0], 2, *image1.shape[2:]), float("nan"))

    videos, results = _item([index_frames(9, step=10)])
    scorer = VBenchMotionScorer({"metrics": ["dynamic_degree"]}, flow_model=NanFlow())
    score = scorer.score(videos, results)
    assert score.values == {"dynamic_degree": 0.0}  # NaN is never above the threshold, as in VBench
    assert score.details["dynamic_degree_pairs"][0]["pair_magnitudes"] == [None] * 8
    assert score.details["under_128px"] == ["scene_1"]  # 64 px frames: degenerate pyramid, flagged
    out = scorer.aggregate({"it": score})
    assert "under 128 px" in out["dynamic_degree"]["warnings"][0]
