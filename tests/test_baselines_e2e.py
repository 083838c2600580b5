"""Every baseline end to end at toy scale, through the command line only:

tiny random model folder -> ``mvbench generate`` on a 2-item suite -> ``mvbench validate`` (no problems) ->
``mvbench evaluate --encoder tiny --no-cache`` (every item scored) -> ``mvbench leaderboard`` shows the row.

CPU budget: one intra-op thread, 2 sampling steps, 32x32 frames, 9 frames per CogVideoX scene, 21 frames per
Wan item (6 latent frames, window 3).
"""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from test_baselines_tiny_models import (  # noqa: E402
    build_tiny_cogvideox,
    build_tiny_cogvideox_i2v,
    build_tiny_sd,
    build_tiny_wan,
    tiny_cogvideox_transformer,
    write_official_mask2dit_transformer,
)

from mvbench.cli import main  # noqa: E402

SUITE = {"suite": "tiny-gen", "version": "1", "items": [
    {"id": "harbor", "global_prompt": "a harbor in the rain", "characters": {"Ann": "old woman red coat"},
     "meta": {"camera": ["moving left, fast", "zoom in, slow"]},
     "scenes": [{"prompt": "Ann walks in the rain", "characters": ["Ann"]},
                {"prompt": "Ann at sea in a red boat", "characters": ["Ann"],
                 "frame_prompts": ["a red boat", "a blue boat"], "frame_ranges": [[0, 5], [5, 12]]}]},
    {"id": "city", "scenes": [{"prompt": "a woman runs in the city at night"}, {"prompt": "a blue dog"}]},
]}
COMMON = ["--steps", "2", "--height", "32", "--width", "32", "--device", "cpu", "--dtype", "fp32", "--no-progress"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_models")
    cog = build_tiny_cogvideox(root / "cogvideox", rotary=True)
    official = write_official_mask2dit_transformer(tiny_cogvideox_transformer(9, rotary=True, seed=7),
                                                   root / "mask2dit" / "transformer")
    suite = root / "suite.json"
    suite.write_text(json.dumps(SUITE))
    return {"cogvideox": cog, "mask2dit": official, "wan": build_tiny_wan(root / "wan"),
            "i2v": build_tiny_cogvideox_i2v(root / "i2v"), "t2i": build_tiny_sd(root / "sd"), "suite": suite}


def baseline_args(name: str, f: dict) -> tuple[list[str], int]:
    """CLI arguments of one baseline and the frames of its shortest scene."""
    if name == "cogvideox-concat":
        return ["--model-dir", str(f["cogvideox"]), "--frames", "9"], 9
    if name == "mask2dit":
        return ["--model-dir", str(f["cogvideox"]), "--transformer-dir", str(f["mask2dit"]), "--frames", "9",
                "--attention-backend", "grouped"], 9
    if name in ("pmwd", "sliding", "fifo"):
        return ["--model-dir", str(f["wan"]), "--frames", "21", "--window", "3", "--guidance", "3"], 9
    return ["--model-dir", str(f["i2v"]), "--t2i-dir", str(f["t2i"]), "--frames", "9", "--camera-step", "1",
            "--reference-steps", "2"], 9


@pytest.mark.parametrize("name", ["cogvideox-concat", "mask2dit", "pmwd", "sliding", "fifo", "videostudio"])
def test_generate_validate_evaluate_leaderboard(name, folders, tmp_path, capsys):
    out, results = tmp_path / "submission", tmp_path / f"{name}.json"
    args, shortest = baseline_args(name, folders)
    suite = str(folders["suite"])
    assert main(["generate", "--baseline", name, "--suite", suite, "--out", str(out), *args, *COMMON]) == 0
    assert f"--min-frames {shortest}" in capsys.readouterr().out
    meta = json.loads((out / "submission.json").read_text())
    assert meta["model"] == name and meta["generation"]["baseline"] == name
    if name in ("pmwd", "sliding", "fifo"):  # one file per item, scene boundaries from the causal 1 + 4k grouping
        assert meta["items"] == {i: {"file": f"{i}.mp4", "scenes": [[0, 9], [9, 21]]} for i in ("harbor", "city")}
        assert meta["generation"]["solver"] == "unipc" and meta["fps"] == 16.0
    else:
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4")) == [
            "city/scene_1.mp4", "city/scene_2.mp4", "harbor/scene_1.mp4", "harbor/scene_2.mp4"]
    if name == "mask2dit":
        assert meta["generation"]["checkpoint_class"] == "MultiPromptCogVideoXTransformer3DModel"
        assert meta["generation"]["variant"] == "v2" and meta["generation"]["temporal_positions"] == "official"
    assert main(["validate", "--suite", suite, "--videos", str(out), "--encoder", "tiny",
                 "--min-frames", str(shortest)]) == 0
    assert "no problems found" in capsys.readouterr().out
    assert main(["evaluate", "--suite", suite, "--videos", str(out), "--encoder", "tiny", "--no-cache",
                 "--out", str(results), "--no-progress", "--device", "cpu", "--strict", "--bootstrap", "50"]) == 0
    scores = json.loads(results.read_text())
    assert scores["model"]["name"] == name if isinstance(scores["model"], dict) else scores["model"] == name
    assert scores["metrics"]["visual_consistency"]["n"] == 2 and not scores.get("failures")
    capsys.readouterr()
    assert main(["leaderboard", str(results)]) == 0
    board = capsys.readouterr().out
    assert any(line.startswith("|") and f" {name} " in line for line in board.splitlines())
