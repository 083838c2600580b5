"""The confusion scorer: what it asks the runner for, how it scores an item and aggregates items."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mvbench.scorers import ClipRequest, TextRequest, scorer_class, scorers_for_metrics
from mvbench.scorers.base import ItemVideos, VideoRef
from mvbench.scorers.confusion import ConfusionScorer
from mvbench.suite import parse_suite

D = 16


def numpy_cd(t: np.ndarray, v: np.ndarray, eps: float = 0.01) -> tuple[float | None, int]:
    """Eq. 3-5 vectorised in numpy float64, 'exclude' policy."""
    t = t / np.linalg.norm(t, axis=1, keepdims=True)
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    stt, stf = t @ t.T, t @ v.T
    diag = np.diag(stf)
    keep = diag >= eps
    per = np.maximum(stf / diag[:, None] - stt / np.diag(stt)[:, None], 0).sum(axis=1)
    return (float(per[keep].mean()) if keep.any() else None), int((~keep).sum())


def make_item(item_id: str, frame_prompts: list[str], frames: int = 40, global_prompt: str | None = "g"):
    raw = {"id": item_id, "scenes": [{"prompt": "scene prompt", "frame_prompts": frame_prompts}]}
    if global_prompt:
        raw["global_prompt"] = f"{global_prompt} {item_id}"
    item = parse_suite({"suite": "t", "version": "1", "items": [raw]}).items[0]
    return ItemVideos(item, (VideoRef(f"/sub/{item_id}/scene_1.mp4", 0, frames, 8.0),))


def fake_results(scorer, videos, text_emb: dict[str, np.ndarray], seg_emb: list[np.ndarray],
                 whole: np.ndarray) -> dict:
    """Answer the scorer's requests with hand-made embeddings (segment k = k-th clip in time order)."""
    out = {}
    seg_clips = sorted((r for r in scorer.requests(videos) if isinstance(r, ClipRequest) and len(r.videos) == 1
                        and r.num_frames == scorer.segment_frames and r.videos[0] != videos.scenes[0]),
                       key=lambda r: r.videos[0].start)
    for k, r in enumerate(seg_clips):
        out[r] = torch.tensor(seg_emb[k], dtype=torch.float32)
    for r in scorer.requests(videos):
        if isinstance(r, TextRequest):
            out[r] = torch.tensor(text_emb[r.text], dtype=torch.float32)
        elif r not in out:
            out[r] = torch.tensor(whole, dtype=torch.float32)
    return out


def test_registered_for_its_three_metrics():
    assert scorers_for_metrics(["confusion_degree", "video_text_consistency", "frame_text_consistency"]) == [
        "confusion"]
    assert scorer_class("confusion") is ConfusionScorer


def test_requests_per_segment_prompt_and_whole_video():
    videos = make_item("a", ["p1", "p1", "p2", "p3"], frames=40)
    scorer = ConfusionScorer({"encoder": "tiny"})
    reqs = scorer.requests(videos)
    clips = [r for r in reqs if isinstance(r, ClipRequest)]
    texts = [r for r in reqs if isinstance(r, TextRequest)]
    # 4 segment clips of 8 frames over [0,10), [10,20), [20,30), [30,40) plus the whole-video clip
    assert sorted((r.videos[0].start, r.videos[0].end, r.num_frames) for r in clips if r.videos != videos.scenes) \
        == [(0, 10, 8), (10, 20, 8), (20, 30, 8), (30, 40, 8)]
    whole = [r for r in clips if r.videos == videos.scenes]
    assert len(whole) == 1 and whole[0].num_frames == 8 and whole[0].sampling == "middle"
    assert sorted(r.text for r in texts) == ["g a", "p1", "p2", "p3"]  # shared text asked for once
    assert all(r.encoder == "tiny" for r in reqs)
    single = ConfusionScorer({"encoder": "tiny", "cd_segment_frames": 1})
    assert {r.num_frames for r in single.requests(videos) if isinstance(r, ClipRequest)} == {1, 8}
    assert single.config()["cd_segmentation"] == "single-middle-frame"


def test_default_encoder_is_viclip_l14_and_config_records_segmentation():
    s = ConfusionScorer({})
    assert s.encoders() == ["viclip-l14"]
    cfg = s.config()
    assert cfg["cd_boundaries"] == "auto" and cfg["cd_segment_frames"] == 8 and cfg["cd_degenerate"] == "exclude"


def test_score_matches_numpy_reference():
    rng = np.random.default_rng(0)
    prompts = ["p1", "p2", "p3", "p4", "p5"]
    videos = make_item("a", prompts, frames=50)
    text = {p: rng.normal(size=D) for p in prompts}
    text["g a"] = rng.normal(size=D)
    seg = [text[p] + 0.7 * rng.normal(size=D) for p in prompts]
    whole = rng.normal(size=D)
    scorer = ConfusionScorer({"encoder": "tiny"})
    result = scorer.score(videos, fake_results(scorer, videos, text, seg, whole))
    t32 = np.stack([text[p] for p in prompts]).astype(np.float32).astype(np.float64)
    v32 = np.stack(seg).astype(np.float32).astype(np.float64)
    want_cd, want_deg = numpy_cd(t32, v32)
    assert result.values["confusion_degree"] == pytest.approx(want_cd, abs=2e-6)
    assert result.details["degenerate_prompts"] == want_deg
    tn = t32 / np.linalg.norm(t32, axis=1, keepdims=True)
    vn = v32 / np.linalg.norm(v32, axis=1, keepdims=True)
    assert result.values["frame_text_consistency"] == pytest.approx(float((tn * vn).sum(1).mean()), abs=2e-6)
    g = text["g a"].astype(np.float32).astype(np.float64)
    w = whole.astype(np.float32).astype(np.float64)
    assert result.values["video_text_consistency"] == pytest.approx(
        float(g @ w / np.linalg.norm(g) / np.linalg.norm(w)), abs=2e-6)
    assert result.details["F"] == 5 and len(result.details["cd_per_prompt"]) == 5
    assert result.details["segments"][0] == [1, 0, 10]
    json.dumps(result.details, allow_nan=False)


def test_shuffled_video_scores_worse_than_ordered_one():
    rng = np.random.default_rng(1)
    prompts = [f"p{k}" for k in range(6)]
    text = {p: rng.normal(size=D) for p in prompts}
    text["g a"] = rng.normal(size=D)
    seg = [text[p] + 0.3 * rng.normal(size=D) for p in prompts]
    videos = make_item("a", prompts, frames=60)
    scorer = ConfusionScorer({"encoder": "tiny"})
    ordered = scorer.score(videos, fake_results(scorer, videos, text, seg, seg[0]))
    shuffled = scorer.score(videos, fake_results(scorer, videos, text, seg[::-1], seg[0]))
    assert shuffled.values["confusion_degree"] > ordered.values["confusion_degree"]
    assert shuffled.values["frame_text_consistency"] < ordered.values["frame_text_consistency"]


def test_single_prompt_item_has_no_cd_but_other_metrics():
    videos = make_item("solo", ["only"], frames=16, global_prompt=None)
    scorer = ConfusionScorer({"encoder": "tiny"})
    text = {"only": np.ones(D), "scene prompt": np.ones(D)}  # no global prompt: scene prompts joined
    result = scorer.score(videos, fake_results(scorer, videos, text, [np.ones(D)], np.ones(D)))
    assert "confusion_degree" not in result.values
    assert result.values["frame_text_consistency"] == pytest.approx(1.0)
    assert result.values["video_text_consistency"] == pytest.approx(1.0)
    assert "not defined" in result.details["warnings"][0]


def test_aggregate_mean_std_ci_and_degenerate_count():
    scorer = ConfusionScorer({"encoder": "tiny"})
    rng = np.random.default_rng(2)
    scores, want = {}, []
    for k in range(4):
        prompts = [f"q{k}_{j}" for j in range(3)]
        videos = make_item(f"i{k}", prompts, frames=30)
        text = {p: rng.normal(size=D) for p in prompts}
        text[f"g i{k}"] = rng.normal(size=D)
        seg = [text[p] + 0.5 * rng.normal(size=D) for p in prompts]
        if k == 3:  # make prompt 0 of the last item degenerate: its segment points away from it
            seg[0] = -text[prompts[0]]
        scores[f"i{k}"] = scorer.score(videos, fake_results(scorer, videos, text, seg, seg[0]))
        cd, _ = numpy_cd(np.stack([text[p] for p in prompts]), np.stack(seg))
        want.append(cd)
    agg = scorer.aggregate(scores, seed=0)
    cd = agg["confusion_degree"]
    assert cd["mean"] == pytest.approx(np.mean(want), abs=1e-5)
    assert cd["std"] == pytest.approx(np.std(want, ddof=1), abs=1e-5)
    assert cd["ci95"][0] <= cd["mean"] <= cd["ci95"][1]
    assert cd["n"] == 4 and cd["higher_is_better"] is False
    assert cd["degenerate_prompts"] >= 1 and cd["prompts"] == 12 and cd["F"] == {"min": 3, "max": 3, "mean": 3}
    norm = agg["confusion_degree_normalized"]
    assert norm["mean"] == pytest.approx(np.mean(want) / 2, abs=1e-5)  # F - 1 = 2 for every item
    assert norm["F"] == cd["F"] and norm["higher_is_better"] is False and norm["n"] == 4
    assert "frame-level prompts have an own-segment similarity" in cd["warnings"][0]
    assert agg["frame_text_consistency"]["higher_is_better"] is True
    json.dumps(agg, allow_nan=False)


def test_end_to_end_with_the_runner_and_tiny_encoder(tmp_path, tiny_encoder):
    from mvbench.results import load_results, write_results
    from mvbench.runner import run_evaluation
    from mvbench.submission import Submission
    from mvbench.video.write import write_video

    suite = parse_suite({"suite": "cd-e2e", "version": "1", "items": [
        {"id": "one", "global_prompt": "a red ball rolls, stops, then a blue cube falls",
         "scenes": [{"prompt": "whole", "frame_prompts": ["a red ball rolls", "a red ball stops",
                                                          "a blue cube falls", "a blue cube rests"]}]},
        {"id": "two", "scenes": [
            {"prompt": "first scene", "frame_prompts": ["green field", "grey sky"],
             "frame_ranges": [[0, 6], [6, 16]]},
            {"prompt": "second scene: a boat at sea"}]},
    ]})
    rng = np.random.default_rng(0)
    root = tmp_path / "sub"
    for item_id, n_scenes in (("one", 1), ("two", 2)):
        for k in range(1, n_scenes + 1):
            write_video(root / item_id / f"scene_{k}.mp4",
                        rng.integers(0, 255, (16, 32, 32, 3), dtype=np.uint8), fps=8.0)
    (root / "submission.json").write_text(json.dumps({"model": "noise", "version": "1", "fps": 8}))
    metrics = ["confusion_degree", "video_text_consistency", "frame_text_consistency"]
    res = run_evaluation(suite, Submission.open(root), metrics,
                         {"encoder": "tiny", "no_cache": True, "progress": False, "cd_eps": 1e-9},
                         encoders={"tiny": tiny_encoder})
    assert res["failures"] == {}
    assert res["config"]["scorers"]["confusion"]["cd_segment_frames"] == 8
    assert res["config"]["scorers"]["confusion"]["cd_boundaries"] == "auto"
    det_one = res["items"]["one"]["details"]["confusion"]
    det_two = res["items"]["two"]["details"]["confusion"]
    assert det_one["F"] == 4 and det_one["segments"] == [[1, 0, 4], [1, 4, 8], [1, 8, 12], [1, 12, 16]]
    assert det_two["F"] == 3 and det_two["segments"] == [[1, 0, 6], [1, 6, 16], [2, 0, 16]]
    assert det_two["boundaries"] == ["equal", "ranges"]
    for item_id, det in (("one", det_one), ("two", det_two)):
        usable = [v for v in det["cd_per_prompt"] if v is not None]
        if "confusion_degree" in res["items"][item_id]["scores"]:
            assert res["items"][item_id]["scores"]["confusion_degree"] == pytest.approx(np.mean(usable), abs=1e-5)
    for m in metrics:
        assert res["metrics"][m]["n"] >= 1 and res["metrics"][m]["std"] is not None
    assert "degenerate_prompts" in res["metrics"]["confusion_degree"]
    path = write_results(tmp_path / "r.json", res)
    loaded = load_results(path)["metrics"]
    n_cd = loaded["confusion_degree"]["n"]
    with_cd = [d["F"] for i, d in (("one", det_one), ("two", det_two)) if "confusion_degree" in res["items"][i]["scores"]]
    assert n_cd == len(with_cd) and loaded["confusion_degree"]["F"] == {
        "min": min(with_cd), "max": max(with_cd), "mean": pytest.approx(np.mean(with_cd))}
    assert "confusion_degree_normalized" not in loaded  # only the requested metrics are reported
    normed = run_evaluation(suite, Submission.open(root), ["confusion_degree", "confusion_degree_normalized"],
                            {"encoder": "tiny", "no_cache": True, "progress": False, "cd_eps": 1e-9},
                            encoders={"tiny": tiny_encoder})
    for item_id, det in (("one", det_one), ("two", det_two)):
        scores = normed["items"][item_id]["scores"]
        if "confusion_degree" in scores:
            assert scores["confusion_degree_normalized"] == pytest.approx(scores["confusion_degree"] / (det["F"] - 1),
                                                                          abs=2e-6)
    assert normed["metrics"]["confusion_degree_normalized"]["F"] == loaded["confusion_degree"]["F"]
    # 1-frame segment clips and the 8-frame whole-video clip of one encoder are batched separately
    single = run_evaluation(suite, Submission.open(root), metrics,
                            {"encoder": "tiny", "no_cache": True, "progress": False, "cd_segment_frames": 1,
                             "batch_size": 16},
                            encoders={"tiny": tiny_encoder})
    assert single["failures"] == {}
    assert single["config"]["scorers"]["confusion"]["cd_segmentation"] == "single-middle-frame"
