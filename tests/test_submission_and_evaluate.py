"""Submission validation and the evaluate command on a submission with broken parts
(issue 2, done-means: one corrupt file, one missing scene, one unknown item)."""

import json
import shutil

import numpy as np
import pytest

from mvbench.cli import main
from mvbench.results import load_results
from mvbench.submission import Submission
from mvbench.video.write import write_video


def _break(videos):
    (videos / "demo_02_changing_world" / "scene_2.mp4").write_bytes(b"\x00garbage" * 500)  # corrupt
    (videos / "demo_03_day_to_night" / "scene_3.mp4").unlink()  # missing scene
    shutil.copytree(videos / "demo_04_same_place_new_faces", videos / "demo_99_typo")  # unknown item


def test_validate_clean_submission(demo_videos, capsys):
    assert main(["validate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--encoder", "tiny",
                 "--min-frames", "8"]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_validate_lists_every_problem(demo_videos, capsys):
    _break(demo_videos)
    rc = main(["validate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--encoder", "tiny",
                 "--min-frames", "8"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "[unreadable] item 'demo_02_changing_world' demo_02_changing_world/scene_2.mp4" in out
    assert "[missing_scene] item 'demo_03_day_to_night' demo_03_day_to_night/scene_3.mp4" in out
    assert "[unknown_item] item 'demo_99_typo'" in out
    assert "2 error(s), 1 warning(s)" in out


def test_validate_frame_count_fps_resolution_and_escape(demo_videos, tmp_path, demo_suite):
    rng = np.random.default_rng(0)
    # too short and wrong size / fps
    write_video(demo_videos / "demo_01_persistent_pair" / "scene_1.mp4",
                rng.integers(0, 255, (4, 32, 32, 3), dtype=np.uint8), fps=12)
    res = Submission.open(demo_videos).resolve(demo_suite, exact=True, min_frames=8)
    kinds = {(p.kind, p.item) for p in res.problems}
    assert ("too_few_frames", "demo_01_persistent_pair") in kinds
    assert ("resolution_mismatch", "demo_01_persistent_pair") in kinds
    assert ("fps_mismatch", "demo_01_persistent_pair") in kinds
    # a per-item file whose path escapes the folder
    outside = tmp_path / "outside.mp4"
    write_video(outside, rng.integers(0, 255, (12, 48, 48, 3), dtype=np.uint8))
    shutil.rmtree(demo_videos / "demo_02_changing_world")
    meta = json.loads((demo_videos / "submission.json").read_text())
    meta["items"] = {"demo_02_changing_world": {"file": "../outside.mp4", "scenes": [[0, 4], [4, 8], [8, 12]]}}
    (demo_videos / "submission.json").write_text(json.dumps(meta))
    res = Submission.open(demo_videos).resolve(demo_suite)
    assert any(p.kind == "path_escape" and p.item == "demo_02_changing_world" for p in res.problems)


def test_single_file_per_item_layout(demo_videos, demo_suite, tiny_encoder, tmp_path):
    """One ITEM.mp4 with scene boundaries gives the same scores as per-scene files."""
    from mvbench.runner import run_evaluation
    from mvbench.video import decode_frames, probe

    item = "demo_01_persistent_pair"
    parts = [decode_frames(p, list(range(probe(p).num_frames)))
             for p in sorted((demo_videos / item).glob("scene_*.mp4"))]
    joined = np.concatenate([p.numpy() for p in parts])
    opts = {"encoder": "tiny", "no_cache": True, "progress": False}
    per_scene = run_evaluation(demo_suite, Submission.open(demo_videos), None, opts,
                               encoders={"tiny": tiny_encoder})
    # re-encode losslessly so decoded frames are identical to the per-scene files' decoded frames
    single = tmp_path / "single"
    shutil.copytree(demo_videos, single)
    shutil.rmtree(single / item)
    for k, p in enumerate(parts, start=1):
        write_video(single / item / f"scene_{k}.mp4", p.numpy(), crf=0)
    write_video(single / f"{item}_joined.mp4", joined, crf=0)
    ref = run_evaluation(demo_suite, Submission.open(single), None, opts, encoders={"tiny": tiny_encoder})
    shutil.rmtree(single / item)
    (single / f"{item}_joined.mp4").rename(single / f"{item}.mp4")
    meta = json.loads((single / "submission.json").read_text())
    b = np.cumsum([0] + [len(p) for p in parts]).tolist()
    meta["items"] = {item: {"scenes": [[b[k], b[k + 1]] for k in range(3)]}}
    (single / "submission.json").write_text(json.dumps(meta))
    joined_res = run_evaluation(demo_suite, Submission.open(single), None, opts, encoders={"tiny": tiny_encoder})
    assert joined_res["items"][item]["scores"] == pytest.approx(ref["items"][item]["scores"], abs=1e-4)
    assert set(per_scene["items"]) == set(joined_res["items"])


def test_evaluate_scores_the_rest_and_records_failures(demo_videos, tmp_path, capsys):
    _break(demo_videos)
    out = tmp_path / "res.json"
    args = ["evaluate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--encoder", "tiny",
            "--out", str(out), "--no-progress"]
    assert main(args) == 0
    res = load_results(out)
    assert set(res["items"]) == {"demo_01_persistent_pair", "demo_04_same_place_new_faces"}
    assert res["failures"]["demo_02_changing_world"]["file"] == "demo_02_changing_world/scene_2.mp4"
    assert res["failures"]["demo_03_day_to_night"]["kind"] == "missing_scene"
    assert any("demo_99_typo" in w for w in res["warnings"])
    assert res["metrics"]["visual_consistency"]["n"] == 2
    assert res["calibrated"] is False and res["encoders"]["tiny"]["calibrated"] is False
    assert main(args + ["--strict"]) == 1


def test_validate_frame_needs_follow_the_metrics(demo_videos, capsys):
    # the rendered demo scenes have 12 frames: enough for ViCLIP's 8, not for a 16-frame FVD clip
    base = ["validate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--encoder", "tiny"]
    assert main(base) == 0
    assert main(base + ["--metrics", "visual_consistency,fvd"]) == 1
    out = capsys.readouterr().out
    assert out.count("[too_few_frames]") == 12 and "the protocol samples 16" in out
    assert "error: [setup] metric 'fvd' needs reference statistics" in out  # what evaluate would refuse
    assert main(base + ["--metrics", "no_such_metric"]) == 2
