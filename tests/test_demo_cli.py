"""The quickstart's `mvbench demo`: offline, writes a results file, persistent scenes score higher."""

import json
import subprocess
import sys


def test_demo_runs_offline(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mvbench", "demo", "--workdir", str(tmp_path / "d"), "--frames", "10"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "visual_consistency" in proc.stdout and "UNCALIBRATED" in proc.stdout
    res = json.loads((tmp_path / "d" / "results.json").read_text())
    assert res["schema"] == "mvbench.results/1" and not res["failures"]
    vc = {i: r["scores"]["visual_consistency"] for i, r in res["items"].items()}
    # same shapes and background in every scene vs everything changing between scenes
    assert vc["demo_01_persistent_pair"] > vc["demo_02_changing_world"]


def test_help_lists_commands():
    proc = subprocess.run([sys.executable, "-m", "mvbench", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for cmd in ("demo", "evaluate", "validate", "weights"):
        assert cmd in proc.stdout
