"""FVD conventions of the cited tools (issue 18 point 6): the content-debiased-FVD package's resize without
antialiasing and its covariance with divisor n, as options of the FVD scorer, checked by hand and against
that package's formulas written out here."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from metrics import GaussianStats, covariance_with_ddof
from mvbench.encoders.i3d import I3D_PREPROCESS
from mvbench.encoders.videomae import VIDEOMAE_PREPROCESS
from mvbench.errors import MvbenchError
from mvbench.fvd_reference import (
    ReferenceStats,
    clip_protocol,
    fvd_frame_preprocess,
    load_reference,
    protocol_with_resize,
    save_reference,
)
from mvbench.scorers import ItemVideos, VideoRef
from mvbench.scorers.fvd import FVDScorer
from mvbench.suite import Scene, SuiteItem
from mvbench.video.protocols import prepare_clip_frames


def test_two_sample_covariance_by_hand():
    # x1 = (0, 0), x2 = (2, 4): mean (1, 2), deviations -(1, 2) and +(1, 2); sum of outer products
    # 2 * [[1, 2], [2, 4]] = [[2, 4], [4, 8]]; divisor n - 1 = 1 or n = 2
    st = GaussianStats.from_features(np.array([[0.0, 0.0], [2.0, 4.0]]))
    np.testing.assert_array_equal(covariance_with_ddof(st, 1), [[2.0, 4.0], [4.0, 8.0]])
    np.testing.assert_array_equal(covariance_with_ddof(st, 0), [[1.0, 2.0], [2.0, 4.0]])
    x = np.random.default_rng(0).normal(size=(7, 3))
    st = GaussianStats.from_features(x)
    np.testing.assert_allclose(covariance_with_ddof(st, 0), np.cov(x, rowvar=False, bias=True), rtol=1e-12)
    np.testing.assert_allclose(covariance_with_ddof(st, 1), np.cov(x, rowvar=False), rtol=1e-12)
    with pytest.raises(ValueError):
        covariance_with_ddof(GaussianStats.from_features(x[:1]), 1)


def test_plain_resize_equals_the_packages_preprocessing():
    g = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (3, 9, 13, 3), generator=g, dtype=torch.uint8)
    prep = fvd_frame_preprocess("plain")
    # cdfvd/third_party/i3d/utils.py preprocess_i3d: float 0..255, bilinear (align_corners False, no antialias),
    # then 2 x / 255 - 1
    x = frames.permute(0, 3, 1, 2).float()
    want = 2.0 * F.interpolate(x, size=(5, 5), mode="bilinear", align_corners=False) / 255.0 - 1
    i3d_small = type(I3D_PREPROCESS)(16, 5, value_range="symmetric")
    torch.testing.assert_close(prepare_clip_frames(frames, prep, i3d_small), want, atol=1e-5, rtol=0)
    # cdfvd/third_party/VideoMAEv2/utils.py preprocess_videomae: / 255, then the same interpolation
    want = F.interpolate(x / 255.0, size=(5, 5), mode="bilinear", align_corners=False)
    mae_small = type(VIDEOMAE_PREPROCESS)(16, 5, value_range="unit")
    torch.testing.assert_close(prepare_clip_frames(frames, prep, mae_small), want, atol=1e-6, rtol=0)
    # hand-worked: 2x2 -> 1x1 is the mean of the four pixels, (10 + 20 + 30 + 41) / 4 = 25.25
    tiny = torch.tensor([[10, 20], [30, 41]], dtype=torch.uint8).view(1, 2, 2, 1).expand(1, 2, 2, 3).contiguous()
    one = type(VIDEOMAE_PREPROCESS)(16, 1)
    assert float(prepare_clip_frames(tiny, prep, one)[0, 0, 0, 0]) * 255 == pytest.approx(25.25, abs=1e-4)
    assert fvd_frame_preprocess("antialias") is None
    with pytest.raises(MvbenchError):
        fvd_frame_preprocess("nearest")


def _reference(path, features, resize="antialias"):
    proto = protocol_with_resize(clip_protocol(I3D_PREPROCESS, 1), resize)
    return save_reference(path, ReferenceStats(GaussianStats.from_features(features), "i3d-k400", None, proto,
                                               "synthetic", {}))


def _item(k: int) -> ItemVideos:
    return ItemVideos(SuiteItem(f"x{k}", (Scene("a"), Scene("b"))),
                      tuple(VideoRef(f"/v/{k}_{s}.mp4", 0, 20, 8.0) for s in range(2)))


def cdfvd_fd(gen: np.ndarray, real: np.ndarray) -> float:
    """The package's compute_fvd_from_stats: FeatureStats.get_mean_cov (raw_cov / n - mu mu^T), scipy sqrtm."""
    def mean_cov(x):
        mu = x.sum(0) / len(x)
        return mu, (x.T @ x) / len(x) - np.outer(mu, mu)

    mu_f, s_f = mean_cov(gen)
    mu_r, s_r = mean_cov(real)
    s = scipy.linalg.sqrtm(s_r @ s_f)
    return float(np.real(np.square(mu_r - mu_f).sum() + np.trace(s_f + s_r - 2 * s)))


def test_scorer_with_cd_fvd_conventions(tmp_path):
    rng = np.random.default_rng(3)
    d = 4
    real = rng.normal(size=(30, d))
    gen = rng.normal(loc=0.3, size=(8, 2, d))
    plain_ref = _reference(tmp_path / "plain.npz", real, "plain")
    assert load_reference(plain_ref).protocol["resize"] == "plain"
    opts = {"metrics": "fvd", "fvd_reference": str(plain_ref), "bootstrap": 20, "fvd_resize": "plain",
            "fvd_cov_ddof": 0}
    scorer = FVDScorer(opts)
    assert scorer.config()["resize"] == "plain" and scorer.config()["cov_ddof"] == 0
    scores = {}
    for k in range(8):
        videos = _item(k)
        reqs = scorer.requests(videos)
        assert all(r.preprocess == fvd_frame_preprocess("plain") for r in reqs)
        scores[videos.item.id] = scorer.score(videos, {r: gen[k, j] for j, r in enumerate(reqs)})
    value = scorer.aggregate(scores)["fvd"]["mean"]
    assert value == pytest.approx(cdfvd_fd(gen.reshape(-1, d), real), rel=1e-6)
    # the default divisor n - 1 gives another number on the same features
    unbiased = FVDScorer({**opts, "fvd_cov_ddof": 1}).aggregate(scores)["fvd"]["mean"]
    assert abs(unbiased - value) > 1e-3
    # a reference made with mvbench's antialiased resize does not fit a plain-resize run, and vice versa
    aa_ref = _reference(tmp_path / "aa.npz", real)
    with pytest.raises(MvbenchError, match="'resize' is None there, 'plain' here"):
        FVDScorer({**opts, "fvd_reference": str(aa_ref)})
    with pytest.raises(MvbenchError, match="'resize' is 'plain' there, None here"):
        FVDScorer({"metrics": "fvd", "fvd_reference": str(plain_ref)})


def test_fvd_stats_and_evaluate_with_plain_resize(demo_videos, demo_suite, tiny_encoder, tmp_path):
    from mvbench.cli import main
    from mvbench.runner import run_evaluation
    from mvbench.submission import Submission

    out = tmp_path / "plain_tiny.npz"
    assert main(["fvd-stats", "--videos", str(demo_videos), "--extractor", "tiny", "--out", str(out), "--fvd-resize",
                 "plain", "--no-cache", "--device", "cpu", "--no-progress"]) == 0
    assert load_reference(out).protocol["resize"] == "plain"
    opts = {"no_cache": True, "progress": False, "fvd_extractor": "tiny", "fvd_reference": str(out),
            "bootstrap": 20, "fvd_resize": "plain", "fvd_cov_ddof": 0}
    res = run_evaluation(demo_suite, Submission.open(demo_videos), ["fvd"], opts, encoders={"tiny": tiny_encoder})
    assert res["metrics"]["fvd"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert res["config"]["scorers"]["fvd"]["resize"] == "plain"
    assert res["config"]["options"]["fvd_cov_ddof"] == 0
