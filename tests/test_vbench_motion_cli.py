"""End to end: `mvbench evaluate --metrics motion_smoothness,dynamic_degree` on the rendered demo submission
with fabricated amt-s.pth and raft-things.pth in $MVBENCH_HOME/weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import _vbench_motion_weights as fab

from mvbench.demo import render_submission


def test_evaluate_writes_both_motion_metrics_with_intervals(tmp_path, demo_suite, _isolated_home):
    # 64 px is the smallest size VBench's networks run at; 3 frames at 16 fps: one AMT-S pair (frames 0, 2 ->
    # frame 1) and one RAFT pair (frames 0 and 2) per scene
    videos = render_submission(demo_suite, tmp_path / "videos", n_frames=3, size=64, fps=16.0)
    weights = _isolated_home / "weights"
    weights.mkdir(parents=True, exist_ok=True)
    fab.write_amt_checkpoint(weights / "amt-s.pth")
    fab.write_raft_checkpoint(weights / "raft-things.pth")
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "mvbench", "evaluate", "--suite", "mvbench-demo", "--videos", str(videos),
         "--metrics", "motion_smoothness,dynamic_degree", "--out", str(out), "--no-cache", "--device", "cpu",
         "--no-progress", "--bootstrap", "200"],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "OMP_NUM_THREADS": "1"})  # tiny tensors: threads only add overhead on shared CPUs
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert not res["failures"]
    for name in ("motion_smoothness", "dynamic_degree"):
        m = res["metrics"][name]
        assert m["n"] == 4 and m["unit"] == "fraction" and m["mode"] == "scene"
        assert 0.0 <= m["ci95"][0] <= m["mean"] <= m["ci95"][1] <= 1.0
        assert any("under 128 px" in w for w in m["warnings"])  # 64 px demo frames: degenerate but VBench's numbers
    for item in res["items"].values():
        assert set(item["scores"]) == {"motion_smoothness", "dynamic_degree"}
        per_scene = item["details"]["vbench_motion"]["dynamic_degree"]
        assert len(per_scene) == 3 and set(per_scene) <= {0.0, 1.0}  # VBench's boolean per video
        assert item["scores"]["dynamic_degree"] == round(sum(per_scene) / 3, 6)  # fraction of dynamic scenes
        assert len(item["details"]["vbench_motion"]["motion_smoothness"]) == 3
    cfg = res["config"]["scorers"]["vbench_motion"]
    assert cfg["motion_smoothness"]["weights_sha256"] and cfg["dynamic_degree"]["weights_sha256"]
    assert cfg["mode"] == "scene"
