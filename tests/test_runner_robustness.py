"""Inputs that must fail one item (or nothing), never the run; and bookkeeping that must not depend
on how a run was split."""

import json
import os

import numpy as np
import pytest

from mvbench.cli import main
from mvbench.errors import MvbenchError, SubmissionError
from mvbench.features import clip_key
from mvbench.runner import run_evaluation
from mvbench.scorers import ClipRequest, VideoRef
from mvbench.submission import Submission
from mvbench.suite import parse_suite
from mvbench.video.write import write_video

OPTS = {"encoder": "tiny", "no_cache": True, "progress": False}


def _video(path, n, h=32, w=32, seed=0, fps=8):
    frames = np.random.default_rng(seed).integers(0, 255, (n, h, w, 3), dtype=np.uint8)
    return write_video(path, frames, fps=fps)


def _suite(items):
    return parse_suite({"suite": "t", "version": "1", "items": items})


def test_item_too_short_for_its_segments_fails_alone(tmp_path, tiny_encoder):
    fp = [f"event number {k}" for k in range(6)]
    suite = _suite([{"id": "a", "global_prompt": "g", "scenes": [{"prompt": "p", "frame_prompts": fp}]},
                    {"id": "b", "global_prompt": "g", "scenes": [{"prompt": "p", "frame_prompts": fp}]}])
    _video(tmp_path / "a" / "scene_1.mp4", 16)
    _video(tmp_path / "b" / "scene_1.mp4", 4)
    res = run_evaluation(suite, Submission.open(tmp_path), ["confusion_degree"], OPTS, encoders={"tiny": tiny_encoder})
    assert list(res["items"]) == ["a"]
    assert res["failures"]["b"]["stage"] == "plan" and "6" in res["failures"]["b"]["error"]


def test_scenes_of_different_sizes_share_a_whole_video_clip(tmp_path, tiny_encoder):
    suite = _suite([{"id": "a", "global_prompt": "g", "scenes": [{"prompt": "one"}, {"prompt": "two"}]}])
    _video(tmp_path / "a" / "scene_1.mp4", 12, 64, 64)
    _video(tmp_path / "a" / "scene_2.mp4", 12, 64, 96, seed=1)
    res = run_evaluation(suite, Submission.open(tmp_path), ["confusion_degree", "visual_consistency"], OPTS,
                         encoders={"tiny": tiny_encoder})
    assert res["failures"] == {} and "visual_consistency" in res["items"]["a"]["scores"]
    assert any("resolution_mismatch" in w for w in res["items"]["a"]["warnings"])
    assert any("1 item(s) have warnings" in w for w in res["warnings"])


def test_truncated_prompt_count_is_distinct_and_outside_config(tmp_path, tiny_encoder):
    long = "a very long prompt " * 20
    suite = _suite([{"id": i, "scenes": [{"prompt": long}, {"prompt": "short"}]} for i in ("x", "y")])
    for i in ("x", "y"):
        for k in (1, 2):
            _video(tmp_path / i / f"scene_{k}.mp4", 8, seed=k)
    runs = [run_evaluation(suite, Submission.open(tmp_path), None, {**OPTS, "chunk_items": c},
                           encoders={"tiny": tiny_encoder}) for c in (1, 8)]
    assert runs[0]["truncated_prompts"] == runs[1]["truncated_prompts"] == {"tiny": 1}
    assert "truncated_prompts" not in runs[0]["config"]
    assert runs[0]["config"] == runs[1]["config"]


def test_bootstrap_option_changes_the_interval(demo_videos, demo_suite, tiny_encoder):
    sub = Submission.open(demo_videos)
    few = run_evaluation(demo_suite, sub, None, {**OPTS, "bootstrap": 7}, encoders={"tiny": tiny_encoder})
    many = run_evaluation(demo_suite, sub, None, OPTS, encoders={"tiny": tiny_encoder})
    assert few["config"]["bootstrap_resamples"] == 7
    assert few["metrics"]["visual_consistency"]["mean"] == many["metrics"]["visual_consistency"]["mean"]
    assert few["metrics"]["visual_consistency"]["ci95"] != many["metrics"]["visual_consistency"]["ci95"]


def test_cache_key_covers_numeric_precision(tmp_path):
    path = _video(tmp_path / "v.mp4", 8)
    req = ClipRequest("tiny", (VideoRef(str(path), 0, 8, 8.0),))
    desc = {"name": "tiny", "weights_sha256": "x", "preprocess": {"size": 32}}
    assert clip_key(req, desc, 8, "fp32") != clip_key(req, desc, 8, "bf16-autocast")
    assert clip_key(req, desc, 8, "fp32") == clip_key(req, desc, 8, "fp32")


def test_single_scene_items_are_explained(tmp_path, tiny_encoder):
    suite = _suite([{"id": "one", "scenes": [{"prompt": "p"}]},
                    {"id": "two", "scenes": [{"prompt": "p"}, {"prompt": "q"}]}])
    _video(tmp_path / "one" / "scene_1.mp4", 8)
    for k in (1, 2):
        _video(tmp_path / "two" / f"scene_{k}.mp4", 8, seed=k)
    res = run_evaluation(suite, Submission.open(tmp_path), None, OPTS, encoders={"tiny": tiny_encoder})
    assert res["metrics"]["visual_consistency"]["n"] == 1 and res["metrics"]["semantic_consistency"]["n"] == 2
    assert "single scene" in res["metrics"]["sequence_consistency"]["warnings"][0]


def test_bad_submission_metadata_and_output_path_fail_early(demo_videos, tmp_path, capsys):
    (demo_videos / "submission.json").write_text(json.dumps({"model": "m", "fps": "8 fps"}))
    with pytest.raises(SubmissionError, match="'fps' must be a number"):
        Submission.open(demo_videos)
    (demo_videos / "submission.json").write_bytes(b"\xff\xfe{not utf8")
    with pytest.raises(SubmissionError, match="UTF-8"):
        Submission.open(demo_videos)
    (demo_videos / "submission.json").write_text("{}")
    outdir = tmp_path / "an_existing_folder"
    outdir.mkdir()
    rc = main(["evaluate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--encoder", "tiny",
               "--out", str(outdir), "--no-progress"])
    assert rc == 2 and "is a folder" in capsys.readouterr().err


def test_symlinks_dotted_ids_uppercase_extensions_and_bare_lists(tmp_path):
    outside = tmp_path / "elsewhere"
    sub = tmp_path / "sub"
    suite = _suite([{"id": "ep.01", "scenes": [{"prompt": "p"}, {"prompt": "q"}]},
                    {"id": "ep.02", "scenes": [{"prompt": "p"}]},
                    {"id": "ep.03", "scenes": [{"prompt": "p"}, {"prompt": "q"}]},
                    {"id": "linked", "scenes": [{"prompt": "p"}]}])
    _video(sub / "ep.01" / "scene_1.mp4", 8)
    _video(sub / "ep.01" / "scene_2.mp4", 8, fps=12)  # fps mismatch, attributed to the dotted id
    _video(sub / "ep.02.MP4", 8)
    _video(sub / "ep.03" / "scene_1.mp4", 8)
    _video(sub / "ep.03" / "scene_2.mp4", 8)
    _video(outside / "real.mp4", 8)
    os.symlink(outside / "real.mp4", sub / "linked.mp4")
    (sub / "submission.json").write_text(json.dumps({"items": {"ep.03": [[0, 4], [4, 8]]}}))
    res = Submission.open(sub).resolve(suite)
    kinds = {(p.kind, p.item) for p in res.problems}
    assert ("fps_mismatch", "ep.01") in kinds
    assert "ep.02" in res.items and "linked" in res.items
    assert ("bad_entry", "ep.03") in kinds  # a bare list where an object with "scenes" belongs
    assert not any(p.kind == "path_escape" for p in res.problems)


def test_fetch_with_wrong_hash_installs_nothing(tmp_path):
    from mvbench import weights

    src = tmp_path / "up.bin"
    src.write_bytes(b"bytes that do not match")
    weights.register(weights.WeightSpec("unit-bad-hash", "bad.bin", src.as_uri(), sha256="0" * 64))
    try:
        with pytest.raises(MvbenchError, match="nothing was installed"):
            weights.fetch("unit-bad-hash", progress=False)
        assert not weights.weight_path("unit-bad-hash").exists()
        assert not list(weights.weight_path("unit-bad-hash").parent.glob(".bad.bin*"))
    finally:
        weights.REGISTRY.pop("unit-bad-hash", None)


def test_missing_weights_stop_the_run_instead_of_failing_every_item(demo_videos, demo_suite, tiny_encoder,
                                                                     monkeypatch):
    from mvbench.errors import WeightsMissingError
    from mvbench.scorers.consistency import ConsistencyScorer

    def no_weights(self, videos, results):
        raise WeightsMissingError("weights 'x' are not in the cache", hint="mvbench weights fetch x")

    monkeypatch.setattr(ConsistencyScorer, "score", no_weights)
    with pytest.raises(WeightsMissingError):
        run_evaluation(demo_suite, Submission.open(demo_videos), None, OPTS, encoders={"tiny": tiny_encoder})
