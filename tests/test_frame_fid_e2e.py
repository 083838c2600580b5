"""End to end: `mvbench fvd-stats --extractor inception-fid` and `mvbench evaluate` with every frame-level
image metric on the demo submission, with fabricated weights (Inception runs at 299 x 299 on the CPU: slow)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from test_clip_scores import make_tiny_clip_folder
from test_frame_fid import fabricate_inception

pytest.importorskip("transformers")


def _run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "mvbench", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.timeout(1800)
def test_evaluate_all_frame_metrics_on_demo(tmp_path, demo_videos):
    from mvbench import weights

    weights_file = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(fabricate_inception(), weights_file)
    for name in ("inception-fid", "inception-torch-fidelity"):  # what `mvbench weights import` does
        weights.import_file(name, weights_file)
    clip = make_tiny_clip_folder(tmp_path / "clip")
    ref = tmp_path / "frames_ref.npz"
    out = _run("fvd-stats", "--videos", str(demo_videos), "--extractor", "inception-fid", "--frames", "1",
               "--out", str(ref), "--device", "cpu", "--no-progress")
    assert "12 frames, 2048-d inception-fid features" in out.stdout
    results = tmp_path / "results.json"
    _run("evaluate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--out", str(results),
         "--metrics", "clip_score,clipsim,frame_consistency,fid,fid_per_frame,inception_score",
         "--clip-score-model", str(clip), "--videostudio-clip-model", str(clip), "--clip-score-frames", "4",
         "--fid-reference", str(ref), "--fid-frames", "1", "--device", "cpu", "--no-cache", "--no-progress",
         "--bootstrap", "20")
    res = json.loads(results.read_text())
    assert not res["failures"]
    m = res["metrics"]
    assert {k: m[k]["unit"] for k in m} == {"clip_score": "percent", "clipsim": "fraction",
                                            "frame_consistency": "percent", "fid": "distance",
                                            "fid_per_frame": "distance", "inception_score": "score"}
    assert 0.0 <= m["clip_score"]["mean"] <= 100.0 and m["clip_score"]["n_units"] == 12
    assert -1.0 <= m["clipsim"]["mean"] <= 1.0
    assert 0.0 < m["frame_consistency"]["mean"] <= 100.0
    # the reference holds the very frames scored: FID is 0 up to float noise; one frame per scene gives a
    # single frame position, so the per-frame mean is the same number
    assert m["fid"]["mean"] == pytest.approx(0.0, abs=1e-3)
    assert m["fid_per_frame"]["mean"] == pytest.approx(m["fid"]["mean"], abs=1e-6)
    assert m["fid"]["n_frames"] == 12 and m["fid"]["unreliable"] is True
    assert m["inception_score"]["mean"] >= 1.0 and m["inception_score"]["n_frames"] == 12
    for item in res["items"].values():
        assert set(item["scores"]) == {"clip_score", "clipsim", "frame_consistency"}
        assert np.isfinite(list(item["scores"].values())).all()
    scorers = res["config"]["scorers"]
    assert scorers["frame_fid"]["fid"]["reference_frames"] == 12
    assert scorers["clip_scores"]["clip_score"]["protocol"] == "moviebench"
