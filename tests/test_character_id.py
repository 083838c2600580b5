"""The character_id scorer end to end with the deterministic fake face backend.

Four 10-frame shots (64x96) of one item; faces are painted on chosen frames. The ``mvbench``
protocol samples frames 1, 3, 5, 7, 9 (segment midpoints) and takes the union; ``moviebench``
samples 0, 2, 4, 6, 8 and scores only frame 8 (its last). Expected counts are worked out by hand:

=====  ==========  ===================================================  =============  =============
shot   scripted    painted                                              mvbench        moviebench
=====  ==========  ===================================================  =============  =============
1      Alice, Bob  f1 Alice; f3 Bob; f5 Alice + Carol (extra)           TP2 FP1 FN0    TP0 FP0 FN2
2      Alice, Bob  f1 Alice + unknown face; f3 Bob at confidence 0.5;    TP1 FP0 FN1    TP1 FP0 FN1
                   f8 Alice
3      Carol       f1 Carol; f8 Bob                                      TP1 FP0 FN0    TP0 FP1 FN1
4      Bob         f8 and f9 Bob in the top-left corner                 TP1 FP0 FN0    TP0 FP0 FN1
=====  ==========  ===================================================  =============  =============

Totals: mvbench TP5 FP1 FN1 (P = R = F1 = 5/6); moviebench TP1 FP1 FN5 (P 1/2, R 1/6, F1 1/4).
The corner face survives MovieBench's frame-8 crop only if crops are clipped; MovieBench's slicing
with a negative start gives an empty crop, so it is dropped there.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from test_faces_fakebackend import COLORS, UNKNOWN, FakeFaceBackend, paint, portrait

from mvbench.scorers import FrameRequest, ItemVideos, VideoRef, scorers_for_metrics
from mvbench.scorers.character_id import CharacterIdScorer
from mvbench.suite import parse_suite
from mvbench.video.sampling import sample_indices

T, H, W = 10, 64, 96
SCRIPT = [["Alice", "Bob"], ["Alice", "Bob"], ["Carol"], ["Bob"]]


def shot_videos() -> list[np.ndarray]:
    v = [np.zeros((T, H, W, 3), np.uint8) for _ in range(4)]
    paint(v[0][1], 10, 20, COLORS["Alice"])
    paint(v[0][3], 60, 20, COLORS["Bob"])
    paint(v[0][5], 10, 20, COLORS["Alice"])
    paint(v[0][5], 60, 30, COLORS["Carol"])
    paint(v[1][1], 10, 20, COLORS["Alice"])
    paint(v[1][1], 60, 30, UNKNOWN)
    paint(v[1][3], 60, 20, COLORS["Bob"], confidence=0.5)
    paint(v[1][8], 40, 24, COLORS["Alice"])
    paint(v[2][1], 40, 24, COLORS["Carol"])
    paint(v[2][8], 40, 24, COLORS["Bob"])
    paint(v[3][8], 2, 2, COLORS["Bob"])
    paint(v[3][9], 2, 2, COLORS["Bob"])
    return v


def suite_doc() -> dict:
    return {"suite": "faces-test", "version": "1", "items": [{
        "id": "movie1", "characters": {"Alice": "a", "Bob": "b", "Carol": "c"},
        "scenes": [{"prompt": f"shot {k}", "characters": c} for k, c in enumerate(SCRIPT, start=1)]}]}


@pytest.fixture
def bank_dir(tmp_path):
    d = tmp_path / "bank"
    d.mkdir()
    for name, rb in COLORS.items():
        Image.fromarray(portrait(rb)).save(d / f"{name}.png")
    return d


def answer(requests, videos: dict[str, np.ndarray]) -> dict:
    """What the runner returns for frame requests, taken from in-memory videos keyed by path."""
    out = {}
    for r in requests:
        assert isinstance(r, FrameRequest)
        idx = sample_indices(r.video.num_frames, r.num_frames, r.sampling)
        out[r] = torch.from_numpy(videos[r.video.path][[r.video.start + i for i in idx]])
    return out


def run_scorer(protocol: str, bank_dir, backend=None):
    item = parse_suite(suite_doc()).items[0]
    vids = {f"shot{k}.mp4": v for k, v in enumerate(shot_videos(), start=1)}
    iv = ItemVideos(item, tuple(VideoRef(p, 0, T, 8.0) for p in vids))
    backend = backend or FakeFaceBackend()
    scorer = CharacterIdScorer({"character_bank": str(bank_dir), "id_protocol": protocol, "bootstrap": 200},
                               backend=backend)
    reqs = scorer.requests(iv)
    score = scorer.score(iv, answer(reqs, vids))
    return scorer, reqs, score, backend


def test_mvbench_protocol_union_over_frames(bank_dir):
    scorer, reqs, score, _ = run_scorer("mvbench", bank_dir)
    assert [(r.num_frames, r.sampling) for r in reqs] == [(5, "middle")] * 4
    d = score.details
    assert (d["tp"], d["fp"], d["fn"]) == (5, 1, 1)
    assert [s["predicted"] for s in d["shots"]] == [["Alice", "Bob", "Carol"], ["Alice"], ["Carol"], ["Bob"]]
    # the unknown face was matched to nobody; the 0.5-confidence face never reached matching
    shot2 = d["shots"][1]["faces"]
    assert [(f["frame"], f["name"]) for f in shot2] == [(1, "Alice"), (1, None)]
    assert shot2[1]["distance"] > 0.15
    for key in ("id_precision", "id_recall", "id_f1"):
        assert score.values[key] == pytest.approx(100 * 5 / 6, abs=1e-4)
    assert d["per_character"]["Carol"] == [1, 1, 0]  # right in shot 3, extra in shot 1


def test_moviebench_protocol_scores_last_frame_only(bank_dir):
    scorer, reqs, score, backend = run_scorer("moviebench", bank_dir)
    # one 1-frame request per shot: frame 8 = 4 * (10 // 5)
    assert [(r.video.start, r.video.end, r.num_frames) for r in reqs] == [(8, 9, 1)] * 4
    d = score.details
    assert (d["tp"], d["fp"], d["fn"]) == (1, 1, 5)
    assert score.values["id_precision"] == pytest.approx(50.0)
    assert score.values["id_recall"] == pytest.approx(100 / 6, abs=1e-4)
    assert score.values["id_f1"] == pytest.approx(25.0)
    assert backend.detect_calls == 4  # the earlier sampled frames are never looked at


def test_aggregate_micro_sums_over_items(bank_dir):
    scorer, _, score, _ = run_scorer("mvbench", bank_dir)
    from mvbench.scorers.base import ItemScore

    other = ItemScore({"id_recall": 0.0}, {"tp": 0, "fp": 0, "fn": 3})  # an item where nobody was found
    agg = scorer.aggregate({"a": score, "b": other}, seed=0)
    # micro: TP5 FP1 FN4 -> P 5/6, R 5/9, F1 2/3  (the mean of item F1s would differ)
    assert agg["id_precision"]["mean"] == pytest.approx(100 * 5 / 6, abs=1e-4)
    assert agg["id_recall"]["mean"] == pytest.approx(100 * 5 / 9, abs=1e-4)
    assert agg["id_f1"]["mean"] == pytest.approx(100 * 2 / 3, abs=1e-4)
    assert agg["id_f1"]["n"] == 2 and agg["id_f1"]["micro"] == {"tp": 5, "fp": 1, "fn": 4}
    lo, hi = agg["id_recall"]["ci95"]
    assert 0 <= lo <= agg["id_recall"]["mean"] <= hi <= 100


def test_metric_group_and_registry():
    assert scorers_for_metrics(["character_id"]) == ["character_id"]
    assert scorers_for_metrics(["id_f1", "id_precision"]) == ["character_id"]


def test_missing_bank_is_a_clear_error(tmp_path):
    from mvbench.errors import MvbenchError

    item = parse_suite(suite_doc()).items[0]
    scorer = CharacterIdScorer({}, backend=FakeFaceBackend())
    with pytest.raises(MvbenchError, match="--character-bank"):
        scorer.bank_for(item)


def test_runner_end_to_end_on_real_videos(tmp_path, bank_dir, monkeypatch):
    """Real mp4 files through the runner (PyAV decoding), fake faces, results file round trip."""
    from mvbench.results import load_results, write_results
    from mvbench.runner import run_evaluation
    from mvbench.submission import open_submission
    from mvbench.video.write import write_video

    sub = tmp_path / "sub"
    for k, v in enumerate(shot_videos(), start=1):
        write_video(sub / "movie1" / f"scene_{k}.mp4", v, fps=8, crf=10)
    (sub / "submission.json").write_text(json.dumps({"model": "fake", "version": "1"}))
    fake = FakeFaceBackend()
    monkeypatch.setattr(CharacterIdScorer, "backend", property(lambda self: fake))
    res = run_evaluation(parse_suite(suite_doc()), open_submission(sub), ["id_precision", "id_recall", "id_f1"],
                         {"character_bank": str(bank_dir), "progress": False, "no_cache": True, "device": "cpu"})
    assert res["failures"] == {}
    for key in ("id_precision", "id_recall", "id_f1"):
        assert res["metrics"][key]["mean"] == pytest.approx(100 * 5 / 6, abs=1e-4)
    assert res["items"]["movie1"]["details"]["character_id"]["shots"][0]["predicted"] == ["Alice", "Bob", "Carol"]
    path = write_results(tmp_path / "r.json", res)
    assert load_results(path)["metrics"]["id_f1"]["n"] == 1


def test_scripted_character_without_portrait_is_reported(tmp_path, bank_dir):
    (bank_dir / "Carol.png").unlink()  # Carol is scripted in shots 1 and 3 but has no portrait now
    scorer, _, score, _ = run_scorer("mvbench", bank_dir)
    assert score.details["unbanked_characters"] == ["Carol"]
    assert score.details["bank"] == ["Alice", "Bob"]
    agg = scorer.aggregate({"movie1": score}, seed=0)
    (warning,) = agg["id_f1"]["warnings"]
    assert "1 item(s)" in warning and "movie1: Carol" in warning


def test_suite_ids_make_a_bank_per_item(tmp_path, bank_dir):
    from mvbench.errors import MvbenchError

    per_item = tmp_path / "per_item"
    (per_item / "other_movie").mkdir(parents=True)
    for name, rb in COLORS.items():
        Image.fromarray(portrait(rb)).save(per_item / "other_movie" / f"{name}.png")
    item = parse_suite(suite_doc()).items[0]
    scorer = CharacterIdScorer({"character_bank": str(per_item), "suite_ids": ["movie1", "other_movie"]},
                               backend=FakeFaceBackend())
    with pytest.raises(MvbenchError, match="expected .*per_item/movie1"):
        scorer.bank_for(item)


def test_character_similarity_hand_worked(bank_dir):
    """Fake embeddings are (R, B) / 255 of the painted colour, so cosines are worked out by hand.

    mvbench protocol (frames 1, 3, 5, 7, 9; 0 when a scripted character has no face of its own):
    shot 1 (Alice, Bob): f1 Alice -> A 1, B 0 (the Alice face is closer to Alice); f3 Bob -> A 0, B 1;
    f5 Alice + Carol -> A 1, B cos(Carol, Bob) = 270 / (sqrt(2) * sqrt(54500)) = 0.817806 (Carol's
    face is as close to Alice as to Bob, so it is not taken from Bob); f7, f9 empty.
    A = 2/5 = 0.4, B = (1 + 0.817806) / 5 = 0.363561.
    shot 2: f1 Alice + unknown (130, 120), which is closer to Alice than to Bob -> A 1/5, B 0.
    shot 3: f1 Carol -> 1/5.  shot 4: f9 Bob (corner, clipped crop) -> 1/5.
    Item: mean of the six (shot, character) pairs = (0.4 + 0.363561 + 0.2 + 0 + 0.2 + 0.2) / 6.
    moviebench protocol (frame 8 only): shot 1 empty (0, 0); shot 2 Alice (1, 0); shot 3 Bob's face for
    Carol (no rival scripted) -> cos(Bob, Carol) = 0.817806; shot 4 the corner face is dropped (0).
    That protocol passes frames and crops through JPEG, which shifts the painted colours a little
    (hence the looser tolerance there).
    """
    c = 270 / (np.sqrt(2) * np.sqrt(40 ** 2 + 230 ** 2))
    _, _, score, _ = run_scorer("mvbench", bank_dir)
    sims = [s["similarity"] for s in score.details["shots"]]
    assert sims[0] == pytest.approx({"Alice": 0.4, "Bob": (1 + c) / 5}, abs=1e-6)
    assert sims[1:] == [{"Alice": 0.2, "Bob": 0.0}, {"Carol": 0.2}, {"Bob": 0.2}]
    assert score.values["character_similarity"] == pytest.approx((0.4 + (1 + c) / 5 + 0.6) / 6, abs=1e-6)
    _, _, score, _ = run_scorer("moviebench", bank_dir)
    assert score.values["character_similarity"] == pytest.approx((1 + c) / 6, abs=5e-3)


def test_character_similarity_aggregate_pools_pairs(bank_dir):
    scorer, _, score, _ = run_scorer("mvbench", bank_dir)
    from mvbench.scorers.base import ItemScore

    other = ItemScore({"character_similarity": 1.0}, {"tp": 1, "fp": 0, "fn": 0, "similarity_sum": 2.0,
                                                      "similarity_pairs": 2})
    agg = scorer.aggregate({"a": score, "b": other}, seed=0)["character_similarity"]
    c = 270 / (np.sqrt(2) * np.sqrt(40 ** 2 + 230 ** 2))
    # pooled over the 6 + 2 pairs (not the mean of the two item means)
    assert agg["mean"] == pytest.approx((0.4 + (1 + c) / 5 + 0.6 + 2.0) / 8, abs=1e-6)
    assert agg["unit"] == "cosine" and agg["pairs"] == 8 and agg["n"] == 2
    assert agg["ci95"][0] <= agg["mean"] <= agg["ci95"][1]


def test_options_are_declared_as_data():
    names = {o.name for o in CharacterIdScorer.option_specs}
    assert {"character_bank", "id_protocol", "face_model", "face_detector", "face_crop_detector",
            "face_distance", "face_threshold", "face_min_confidence", "id_frames"} == names
    import argparse

    p = argparse.ArgumentParser()
    CharacterIdScorer.add_cli_arguments(p)
    ns = p.parse_args(["--face-model", "Dlib", "--face-detector", "dlib", "--id-frames", "2"])
    assert (ns.face_model, ns.face_detector, ns.id_frames, ns.face_threshold) == ("Dlib", "dlib", 2, None)


def test_dlib_detector_turns_the_confidence_filter_off():
    """dlib's HOG score is a margin, not a probability: the filter defaults to 0 for it, 0.8 otherwise."""
    assert CharacterIdScorer({"face_detector": "dlib"}).protocol.min_confidence == 0.0
    assert CharacterIdScorer({}).protocol.min_confidence == 0.8
    assert CharacterIdScorer({"face_detector": "dlib", "face_min_confidence": 0.5}).protocol.min_confidence == 0.5
    cfg = CharacterIdScorer({"face_detector": "dlib", "face_model": "Dlib"}).config()
    assert cfg["face_backend"]["crop_detector"] == "dlib" and cfg["face_backend"]["tier"]["name"] == "dlib-offline"
    assert CharacterIdScorer({}).config()["face_backend"]["tier"]["name"] == "moviebench"
