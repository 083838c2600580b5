"""A results file records enough to trace a number (issue 18, point 9): the mvbench git revision, the versions
of av and its FFmpeg, numpy, open_clip and scipy, the GPU, CUDA and cuDNN, the command line, the wall time per
stage, a digest of the scored videos, and per item the files scored and the prompts. Every expected value is
recomputed here independently (git, importlib.metadata, hashlib over the files' bytes, the suite's raw JSON)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mvbench.cli import main

REPO = Path(__file__).resolve().parents[1]
ARGS = ["--suite", "mvbench-demo", "--encoder", "tiny", "--metrics", "visual_consistency,semantic_consistency",
        "--device", "cpu", "--no-progress"]
#: the stages documented in docs/results.md, in order
STAGE_NAMES = ["plan", "compute", "score", "aggregate"]


def _raw_suite() -> dict:
    return json.loads((REPO / "mvbench" / "data" / "suites" / "mvbench-demo.json").read_text(encoding="utf-8"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expected_digest(videos: Path, items: list[dict]) -> str:
    """sha256 over "ITEM\\tK\\tSHA256\\n" lines, sorted by item then scene, hashing the files' bytes here."""
    lines = []
    for item in items:
        for k in range(1, len(item["scenes"]) + 1):
            lines.append((item["id"], k, _sha256(videos / item["id"] / f"scene_{k}.mp4")))
    text = "".join(f"{i}\t{k}\t{h}\n" for i, k, h in sorted(lines))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.timeout(600)
def test_results_file_carries_every_point_9_field(demo_videos, tmp_path):
    out = tmp_path / "res.json"
    args = ["evaluate", *ARGS, "--videos", str(demo_videos), "--out", str(out)]
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mvbench", *args], capture_output=True, text=True, timeout=500,
                          env=os.environ | {"PYTHONPATH": str(REPO)})
    wall = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text(encoding="utf-8"))
    env = res["environment"]

    # the mvbench git revision (this test runs from a checkout)
    assert (REPO / ".git").exists()
    assert env["mvbench_git"]["commit"] == _git("rev-parse", "HEAD")
    assert env["mvbench_git"]["dirty"] == bool(_git("status", "--porcelain", "--untracked-files=no"))

    # library versions, from the installed distributions' metadata
    import av

    for key, dist in (("av", "av"), ("numpy", "numpy"), ("scipy", "scipy"), ("open_clip", "open_clip_torch"),
                      ("torch", "torch")):
        assert env[key] == importlib.metadata.version(dist), key
    assert env["libraries"]["open_clip_torch"] == importlib.metadata.version("open_clip_torch")
    assert env["ffmpeg"] == str(av.ffmpeg_version_info)
    for lib, version in av.library_versions.items():
        assert env["ffmpeg_libraries"][lib] == "{}.{}.{}".format(*version)

    # the accelerator: keys always there, None on a CPU run
    for key in ("gpu", "cuda", "cudnn", "gpu_count"):
        assert key in env, key
    assert env["device"] == "cpu" and env["gpu"] is None and env["cuda"] is None and env["cudnn"] is None

    # the command line, as the process received it
    assert env["command"][1:] == args and Path(env["command"][0]).name == "__main__.py"

    # wall seconds per stage, as documented, within the process's wall time
    stages = res["runtime"]["stage_seconds"]
    assert list(stages) == STAGE_NAMES
    assert all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in stages.values())
    assert stages["compute"] > 0 and sum(stages.values()) < wall
    doc = (REPO / "docs" / "results.md").read_text(encoding="utf-8")
    assert "stage_seconds" in doc and all(f"`{name}`" in doc for name in STAGE_NAMES)

    # one digest of the scored videos, recomputed from the files' bytes
    raw = _raw_suite()
    assert set(res["items"]) == {it["id"] for it in raw["items"]} and not res["failures"]
    assert res["model"]["videos_digest"] == _expected_digest(demo_videos, raw["items"])

    # per item: the files scored (scene order, with their sha256) and the prompts
    for item in raw["items"]:
        rec = res["items"][item["id"]]
        names = [f"{item['id']}/scene_{k}.mp4" for k in range(1, len(item["scenes"]) + 1)]
        assert rec["files"] == names
        assert rec["files_sha256"] == [_sha256(demo_videos / n) for n in names]
        assert rec["prompts"] == [s["prompt"] for s in item["scenes"]]
        if item.get("global_prompt"):
            assert rec["global_prompt"] == item["global_prompt"]
        else:
            assert "global_prompt" not in rec


@pytest.mark.timeout(600)
def test_digest_follows_the_bytes_and_failed_items_name_their_files(demo_videos, tmp_path):
    raw = _raw_suite()
    first_id, second_id = raw["items"][0]["id"], raw["items"][1]["id"]

    def run(name: str) -> dict:
        out = tmp_path / f"{name}.json"
        assert main(["evaluate", *ARGS, "--videos", str(demo_videos), "--out", str(out), "--no-cache"]) == 0
        return json.loads(out.read_text(encoding="utf-8"))

    before = run("before")
    assert before["model"]["videos_digest"] == _expected_digest(demo_videos, raw["items"])

    # the record never makes two runs incomparable: other wall times, digest, files and command compare equal
    from leaderboard.compare import EXIT_PASS, compare_results

    other = json.loads(json.dumps(before))
    other["runtime"]["stage_seconds"] = {k: v + 5.0 for k, v in other["runtime"]["stage_seconds"].items()}
    other["model"]["videos_digest"] = "0" * 64
    other["items"][first_id]["files_sha256"][0] = "0" * 64
    other["environment"]["command"] = ["mvbench", "evaluate"]
    cmp = compare_results(before, other)
    assert not cmp.problems and cmp.exit_code == EXIT_PASS and all(r.status == "same" for r in cmp.metrics)

    # another valid video with other bytes in one scene: another digest, and only that file's hash moves
    target = demo_videos / first_id / "scene_1.mp4"
    shutil.copyfile(demo_videos / second_id / "scene_2.mp4", target)
    after = run("after")
    assert after["model"]["videos_digest"] != before["model"]["videos_digest"]
    assert after["model"]["videos_digest"] == _expected_digest(demo_videos, raw["items"])
    hashes_before, hashes_after = before["items"][first_id]["files_sha256"], after["items"][first_id]["files_sha256"]
    assert hashes_after[0] == _sha256(target) != hashes_before[0] and hashes_after[1:] == hashes_before[1:]

    # an unreadable scene: its item fails at the input check naming the file, and leaves the digest
    (demo_videos / first_id / "scene_2.mp4").write_bytes(b"not a video" * 100)
    broken = run("broken")
    assert broken["failures"][first_id]["file"] == f"{first_id}/scene_2.mp4"
    assert first_id not in broken["items"]
    assert broken["model"]["videos_digest"] == _expected_digest(demo_videos, raw["items"][1:])


def test_an_item_failing_at_scoring_names_its_files(demo_videos, tmp_path, monkeypatch):
    from mvbench.scorers.consistency import ConsistencyScorer

    raw = _raw_suite()
    victim = raw["items"][2]["id"]
    original = ConsistencyScorer.score

    def score(self, videos, results):
        if videos.item.id == victim:
            raise ValueError("scene features out of range")
        return original(self, videos, results)

    monkeypatch.setattr(ConsistencyScorer, "score", score)
    out = tmp_path / "res.json"
    assert main(["evaluate", *ARGS, "--videos", str(demo_videos), "--out", str(out), "--no-cache"]) == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    fail = res["failures"][victim]
    assert fail["stage"] == "score"
    assert fail["files"] == [f"{victim}/scene_{k}.mp4" for k in range(1, len(raw["items"][2]["scenes"]) + 1)]
    kept = [it for it in raw["items"] if it["id"] != victim]
    assert res["model"]["videos_digest"] == _expected_digest(demo_videos, kept)
