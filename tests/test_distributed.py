"""A 2-process gloo run (torchrun) gives exactly the single-process numbers (issue 3), FVD included, and so
do two `--shard K/2` jobs merged with `mvbench merge` (issue 15)."""

import json
import os
import subprocess
import sys

import pytest

from mvbench.demo import render_submission


@pytest.mark.timeout(480)
def test_two_process_gloo_equals_single_process(demo_videos, demo_suite, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # reference statistics from a differently seeded rendering, so the FVD is not trivially 0
    real = render_submission(demo_suite, tmp_path / "real", n_frames=16, size=48, seed=1)
    ref = tmp_path / "real_tiny.npz"
    stats = subprocess.run([sys.executable, "-m", "mvbench", "fvd-stats", "--videos", str(real), "--extractor", "tiny",
                            "--out", str(ref), "--no-cache", "--no-progress", "--device", "cpu"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert stats.returncode == 0, stats.stderr
    common = ["evaluate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--encoder", "tiny",
              "--metrics", "visual_consistency,semantic_consistency,sequence_consistency,fvd",
              "--fvd-extractor", "tiny", "--fvd-reference", str(ref),
              "--device", "cpu", "--no-cache", "--no-progress"]
    single = subprocess.run([sys.executable, "-m", "mvbench", *common, "--out", str(tmp_path / "one.json")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert single.returncode == 0, single.stderr
    multi = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                            "-m", "mvbench", *common, "--out", str(tmp_path / "two.json")],
                           capture_output=True, text=True, env=env, timeout=300)
    assert multi.returncode == 0, multi.stderr[-3000:]
    for k in range(2):
        part = subprocess.run([sys.executable, "-m", "mvbench", *common, "--shard", f"{k}/2",
                               "--out", str(tmp_path / f"part{k}.json")], capture_output=True, text=True, env=env,
                              timeout=300)
        assert part.returncode == 0, part.stderr
    merge = subprocess.run([sys.executable, "-m", "mvbench", "merge", str(tmp_path / "part0.json"),
                            str(tmp_path / "part1.json"), "--out", str(tmp_path / "merged.json")],
                           capture_output=True, text=True, env=env, timeout=300)
    assert merge.returncode == 0, merge.stderr
    one = json.loads((tmp_path / "one.json").read_text())
    two = json.loads((tmp_path / "two.json").read_text())
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert two["runtime"]["world_size"] == 2 and one["runtime"]["world_size"] == 1
    assert merged["runtime"]["shards"] == 2
    assert one["metrics"]["fvd"]["mean"] > 0 and one["metrics"]["fvd"]["n"] == 12
    assert one["metrics"]["fvd"]["ci95"] is not None
    for other in (two, merged):
        assert one["metrics"] == other["metrics"]
        assert one["items"] == other["items"]
        assert one["failures"] == other["failures"]
        assert one["config"] == other["config"] and one["warnings"] == other["warnings"]
