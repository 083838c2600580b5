"""Issue 11's end-to-end check: one `mvbench evaluate` with all seven VBench dimensions on a rendered demo
submission, fabricated checkpoints in $MVBENCH_HOME/weights (toy-size appearance networks with their official
key layout, real-size AMT-S and RAFT), every metric written with its interval."""

from __future__ import annotations

import json

import _vbench_motion_weights as motion_fab
import pytest
from vbench_appearance_fakes import TINY, install_fake_weights

import mvbench.scorers.vbench_appearance as va
from mvbench.demo import render_submission

SEVEN = ["subject_consistency", "background_consistency", "motion_smoothness", "dynamic_degree",
         "aesthetic_quality", "imaging_quality", "temporal_flickering"]


@pytest.fixture
def all_weights(_isolated_home, monkeypatch):
    for key, arch in TINY.items():
        monkeypatch.setitem(va.ARCHITECTURES, key, arch)
    install_fake_weights(_isolated_home)
    weights = _isolated_home / "weights"
    motion_fab.write_amt_checkpoint(weights / "amt-s.pth")
    motion_fab.write_raft_checkpoint(weights / "raft-things.pth")


def test_evaluate_all_seven_vbench_dimensions(all_weights, demo_suite, tmp_path):
    from mvbench.cli import main

    # 64 px, 3 frames at 16 fps: the smallest input VBench's motion networks take (one pair per scene)
    videos = render_submission(demo_suite, tmp_path / "videos", n_frames=3, size=64, fps=16.0)
    out = tmp_path / "r.json"
    rc = main(["evaluate", "--suite", "mvbench-demo", "--videos", str(videos), "--metrics", ",".join(SEVEN),
               "--out", str(out), "--no-cache", "--device", "cpu", "--no-progress", "--bootstrap", "200"])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["failures"] == {}
    assert set(SEVEN) <= set(res["metrics"])
    for name in SEVEN:
        m = res["metrics"][name]
        assert m["n"] == 4 and m["unit"] == "fraction", name
        assert m["ci95"][0] <= m["mean"] <= m["ci95"][1], name
    for item in res["items"].values():
        assert set(item["scores"]) == set(SEVEN)
    assert res["calibrated"] is False, (res.get("calibration"), res["encoders"])  # fabricated weights are never reported as the published ones
