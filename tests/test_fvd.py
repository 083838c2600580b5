"""FVD scorer, reference-statistics files and ``mvbench fvd-stats``, against scipy references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from metrics import GaussianStats
from mvbench.encoders.i3d import I3D_PREPROCESS
from mvbench.errors import MvbenchError
from mvbench.fvd_reference import (
    ReferenceStats,
    clip_protocol,
    find_videos,
    load_reference,
    merge_references,
    save_reference,
)
from mvbench.scorers import ItemVideos, VideoRef
from mvbench.scorers.fvd import FVDScorer
from mvbench.suite import Scene, SuiteItem


def scipy_fvd(gen: np.ndarray, ref: np.ndarray) -> float:
    mu1, s1 = gen.mean(0), np.cov(gen, rowvar=False)
    mu2, s2 = ref.mean(0), np.cov(ref, rowvar=False)
    covmean = np.real(scipy.linalg.sqrtm(s1 @ s2))
    return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def make_reference(path, features, extractor="i3d-k400", stride=1, sha=None):
    ref = ReferenceStats(GaussianStats.from_features(features), extractor, sha,
                         clip_protocol(I3D_PREPROCESS, stride), "synthetic", {})
    return save_reference(path, ref)


def test_reference_roundtrip_and_merge(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 5))
    a = make_reference(tmp_path / "a.npz", x[:12])
    b = make_reference(tmp_path / "b.npz", x[12:])
    loaded = load_reference(a)
    assert loaded.extractor == "i3d-k400" and loaded.protocol["num_frames"] == 16
    assert loaded.protocol["stride"] == 1 and loaded.protocol["value_range"] == "symmetric"
    np.testing.assert_allclose(loaded.stats.mean(), x[:12].mean(0), rtol=1e-12)
    merged = merge_references([a, b])
    assert merged.stats.count == 30
    np.testing.assert_allclose(merged.stats.covariance(), np.cov(x, rowvar=False), rtol=1e-10)
    c = make_reference(tmp_path / "c.npz", x, stride=2)
    with pytest.raises(MvbenchError, match="'stride' is 2 there, 1 here"):
        merge_references([a, c])


def test_unreadable_reference_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    with pytest.raises(MvbenchError, match="not a readable FVD reference"):
        load_reference(bad)
    with pytest.raises(MvbenchError, match="does not exist"):
        load_reference(tmp_path / "missing.npz")


def _item(n_scenes: int, frames: list[int]) -> ItemVideos:
    scenes = tuple(Scene(f"prompt {k}") for k in range(n_scenes))
    item = SuiteItem("x", scenes)
    return ItemVideos(item, tuple(VideoRef(f"/v/s{k}.mp4", 0, f, 8.0) for k, f in enumerate(frames)))


def test_scorer_matches_scipy_and_flags_small_sets(tmp_path):
    rng = np.random.default_rng(1)
    d = 6
    real = rng.normal(size=(40, d)) @ rng.normal(size=(d, d))
    ref_path = make_reference(tmp_path / "ref.npz", real)
    scorer = FVDScorer({"metrics": "visual_consistency,fvd", "fvd_reference": str(ref_path), "bootstrap": 200})
    assert scorer.encoders() == ["i3d-k400"]
    gen = rng.normal(loc=0.4, size=(5, 3, d))  # 5 items x 3 scenes
    scores = {}
    for i in range(5):
        videos = _item(3, [20, 16, 10])  # third scene too short for a 16-frame clip
        reqs = scorer.requests(videos)
        assert [r.videos[0].path for r in reqs] == ["/v/s0.mp4", "/v/s1.mp4"]
        assert all(r.sampling == "first" and r.num_frames == 16 and r.stride == 1 for r in reqs)
        results = {r: gen[i, k].astype(np.float32) for k, r in enumerate(reqs)}
        scores[f"item{i}"] = scorer.score(videos, results)
        assert scores[f"item{i}"].details == {"fvd_clips": 2, "fvd_short_scenes": [3]}
    out = scorer.aggregate(scores, seed=3)
    assert set(out) == {"fvd"}
    m = out["fvd"]
    used = gen[:, :2].reshape(-1, d).astype(np.float32).astype(np.float64)
    assert m["mean"] == pytest.approx(scipy_fvd(used, real), rel=1e-5)
    assert m["n"] == 10 and m["n_reference"] == 40 and m["higher_is_better"] is False
    assert m["ci95"][0] <= m["mean"] <= m["ci95"][1] and m["interval"] == "jackknife"
    assert m["jackknife_groups"] == 5  # one group per item (2 clips each)
    half = (m["ci95"][1] - m["ci95"][0]) / 2
    assert half == pytest.approx(1.959964 * m["std"], rel=1e-4)  # std: the jackknife standard error
    assert m["bias_corrected"]["ci95"][0] <= m["bias_corrected"]["value"] <= m["bias_corrected"]["ci95"][1]
    assert m["bias_corrected"]["value"] == pytest.approx(m["mean"] - m["bootstrap_bias"], abs=2e-6)
    assert scorer.config()["interval"] == "jackknife"
    assert m["unreliable"] is False  # 10 generated and 40 reference clips >= d + 1 = 7
    assert any("shorter than 16 frames" in w for w in m["warnings"])
    # same inputs, same seed -> same numbers; another seed moves only the CI
    again = scorer.aggregate(scores, seed=3)["fvd"]
    assert again == m
    assert scorer.aggregate(scores, seed=4)["fvd"]["mean"] == m["mean"]


def test_min_clips_threshold(tmp_path):
    rng = np.random.default_rng(2)
    ref_path = make_reference(tmp_path / "ref.npz", rng.normal(size=(50, 4)))
    gen = {f"i{k}": rng.normal(size=(1, 4)) for k in range(12)}

    def run(min_clips):
        opts = {"metrics": ["fvd"], "fvd_reference": str(ref_path), "bootstrap": 50, "fvd_min_clips": min_clips}
        scorer = FVDScorer(opts)
        from mvbench.scorers import ItemScore

        return scorer.aggregate({k: ItemScore(payload={"fvd": v}) for k, v in gen.items()})["fvd"]

    assert run(None)["unreliable"] is False  # default minimum: d + 1 = 5 clips (12 generated, 50 reference)
    flagged = run(20)
    assert flagged["unreliable"] is True and any("12 generated clips (< 20)" in w for w in flagged["warnings"])


def test_bootstrap_replicates_default_and_cap(tmp_path):
    ref_path = make_reference(tmp_path / "ref.npz", np.random.default_rng(0).normal(size=(9, 3)))
    base = {"metrics": "fvd", "fvd_reference": str(ref_path), "bootstrap": 1000}
    assert FVDScorer(base)._replicates(150, 1408) == 1000  # Gram matrix 150 x 150: cheap
    assert FVDScorer(base)._replicates(2048, 1408) == 200  # 1408 x 1408 per replicate: capped
    assert FVDScorer({**base, "fvd_bootstrap": 700})._replicates(2048, 1408) == 700


def test_missing_or_mismatched_reference_is_refused(tmp_path):
    with pytest.raises(MvbenchError, match="--fvd-reference") as err:
        FVDScorer({"metrics": "fvd"})
    assert "mvbench fvd-stats" in str(err.value)
    ref_path = make_reference(tmp_path / "ref.npz", np.random.default_rng(0).normal(size=(9, 3)), stride=2)
    with pytest.raises(MvbenchError, match="'stride' is 2 there, 1 here"):
        FVDScorer({"metrics": "fvd", "fvd_reference": str(ref_path)})
    assert FVDScorer({"metrics": "fvd", "fvd_reference": str(ref_path), "fvd_stride": 2}).stride == 2
    with pytest.raises(MvbenchError, match="extractor 'i3d-k400', this run uses 'i3d-torchscript'"):
        FVDScorer({"metrics": "fvd", "fvd_reference": str(ref_path), "fvd_stride": 2,
                   "fvd_extractor": "i3d-torchscript"})


def test_weights_hash_mismatch_is_refused(tmp_path, monkeypatch):
    import mvbench.fvd_reference as fr

    ref_path = make_reference(tmp_path / "ref.npz", np.zeros((3, 2)) + np.arange(3)[:, None], sha="a" * 64)
    monkeypatch.setattr(fr, "extractor_info", lambda name: (I3D_PREPROCESS, "b" * 64))
    monkeypatch.setattr("mvbench.scorers.fvd.extractor_info", fr.extractor_info)
    with pytest.raises(MvbenchError, match="weights have sha256 aaaaaaaaaaaa"):
        FVDScorer({"metrics": "fvd", "fvd_reference": str(ref_path)})


def test_find_videos_recursive(tmp_path):
    for rel in ["a.mp4", "sub/b.MOV", "sub/deeper/c.webm", "d.mkv", "e.avi", "notes.txt", "f.gif"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    names = [p.relative_to(tmp_path).as_posix() for p in find_videos(tmp_path)]
    assert names == ["a.mp4", "d.mkv", "e.avi", "sub/b.MOV", "sub/deeper/c.webm"]


def test_fvd_stats_cli_and_evaluate_end_to_end(demo_videos, demo_suite, tiny_encoder, tmp_path):
    """Reference from the demo videos themselves: the run's FVD against it is 0 (same features)."""
    from mvbench.cli import main
    from mvbench.runner import run_evaluation
    from mvbench.submission import Submission

    out = tmp_path / "stats" / "real_tiny.npz"
    assert main(["fvd-stats", "--videos", str(demo_videos), "--extractor", "tiny", "--out", str(out),
                 "--no-cache", "--device", "cpu", "--no-progress"]) == 0
    ref = load_reference(out)
    assert ref.extractor == "tiny" and ref.stats.count == 12 and ref.protocol["sampling"] == "first"
    opts = {"no_cache": True, "progress": False, "fvd_extractor": "tiny", "fvd_reference": str(out),
            "bootstrap": 100}
    res = run_evaluation(demo_suite, Submission.open(demo_videos), ["fvd"], opts, encoders={"tiny": tiny_encoder})
    fvd = res["metrics"]["fvd"]
    assert fvd["n"] == 12 and fvd["n_reference"] == 12
    assert fvd["mean"] == pytest.approx(0.0, abs=1e-6)
    assert fvd["unreliable"] is True  # 12 clips < 32 + 1 feature dimensions
    assert res["config"]["scorers"]["fvd"]["metrics"]["fvd"]["extractor"] == "tiny"
    # a reference made with a stride the run does not use is refused, naming the difference
    assert main(["evaluate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--metrics", "fvd",
                 "--fvd-extractor", "tiny", "--fvd-reference", str(out), "--fvd-stride", "2", "--no-cache",
                 "--out", str(tmp_path / "r.json"), "--no-progress"]) == 2


def _aggregate(ref_path, gen: np.ndarray, seed: int, **options) -> dict:
    from mvbench.scorers import ItemScore

    scorer = FVDScorer({"metrics": ["fvd"], "fvd_reference": str(ref_path), "bootstrap": 200, **options})
    return scorer.aggregate({f"i{k}": ItemScore(payload={"fvd": row[None]}) for k, row in enumerate(gen)},
                            seed=seed)["fvd"]


@pytest.mark.parametrize("n, d", [(30, 48), (120, 24)])  # fewer clips than dimensions, and more
def test_fvd_interval_contains_the_fvd_on_random_features(tmp_path, n, d):
    """The issue's failure: resampling clips inflates the Fréchet distance, so the replicates sit above the
    estimate and their percentile interval excluded it. The shifted interval contains the FVD for every seed."""
    excluded = 0
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        real = rng.normal(size=(400, d))
        ref_path = make_reference(tmp_path / f"ref{seed}.npz", real)
        gen = rng.normal(loc=0.1, scale=1.1, size=(n, d))
        m = _aggregate(ref_path, gen, seed)
        assert m["mean"] == pytest.approx(scipy_fvd(gen, real), rel=1e-6)  # the point estimate is the plug-in FD
        assert m["interval"] == "jackknife" and m["jackknife_groups"] == min(n, 200)
        for method in ("jackknife", "shifted"):
            lo, hi = _aggregate(ref_path, gen, seed, fvd_interval=method)["ci95"]
            assert lo <= m["mean"] <= hi, (method, seed, m["mean"], (lo, hi))
        assert m["bootstrap_bias"] > 0  # the replicates do sit above the estimate
        bc = m["bias_corrected"]
        if n < d + 1:  # fewer clips than dimensions: no bias correction is reported
            assert bc is None and m["unreliable"] is True
        else:
            assert bc["ci95"][0] <= bc["value"] <= bc["ci95"][1] and bc["value"] < m["mean"]
        old = _aggregate(ref_path, gen, seed, fvd_interval="percentile")
        assert old["mean"] == m["mean"] and old["interval"] == "percentile"
        excluded += not (old["ci95"][0] <= old["mean"] <= old["ci95"][1])
    if n < d:
        assert excluded == 5  # the old interval missed the estimate every time in this regime


def test_jackknife_groups_are_items_and_tiny_sets_fall_back(tmp_path):
    from mvbench.scorers import ItemScore
    from mvbench.scorers.fvd import _jackknife_labels

    assert _jackknife_labels([3, 0, 2, 1]).tolist() == [0, 0, 0, 1, 1, 2]
    assert _jackknife_labels([4, 1]).tolist() == [0, 1, 2, 3, 4]  # leaving the big item out would leave 1 clip
    assert len(set(_jackknife_labels([1] * 1000).tolist())) == 200
    rng = np.random.default_rng(3)
    ref_path = make_reference(tmp_path / "ref.npz", rng.normal(size=(50, 3)))
    scorer = FVDScorer({"metrics": ["fvd"], "fvd_reference": str(ref_path), "bootstrap": 50})
    two = scorer.aggregate({"a": ItemScore(payload={"fvd": rng.normal(size=(2, 3))})})["fvd"]
    assert two["interval"] == "shifted" and "no jackknife interval" in " ".join(two["warnings"])
    assert two["ci95"][0] <= two["mean"] <= two["ci95"][1]
