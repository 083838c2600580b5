"""Bad inputs that `validate` must name and `evaluate` must fail per item (or refuse up front), with the
documented exit codes with and without --strict (issue 19, points 2, 5, 7 and 9)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mvbench.cli import COMMANDS, build_parser, main
from mvbench.errors import ConfigError
from mvbench.scorers import SCORERS
from mvbench.video.write import write_video

ROOT = Path(__file__).resolve().parents[1]
ITEMS = ("demo_01_persistent_pair", "demo_02_changing_world")
BAD, GOOD = ITEMS


@pytest.fixture
def two_items(tmp_path, demo_videos):
    """A 2-item suite (first two demo items) and its submission folder."""
    suite = json.loads((Path(__file__).resolve().parents[1] / "mvbench/data/suites/mvbench-demo.json").read_text())
    suite["suite"] = "two-items"
    suite["items"] = [it for it in suite["items"] if it["id"] in ITEMS]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(suite))
    for child in demo_videos.iterdir():
        if child.is_dir() and child.name not in ITEMS:
            shutil.rmtree(child)
    return path, demo_videos


def _validate(suite, videos, capsys, *extra):
    # the options evaluate gets below (validate reports what evaluate with the same options would fail)
    rc = main(["validate", "--suite", str(suite), "--videos", str(videos), "--encoder", "tiny", *extra])
    return rc, capsys.readouterr().out


def _evaluate(suite, videos, out, capsys, *extra):
    args = ["evaluate", "--suite", str(suite), "--videos", str(videos), "--out", str(out), "--encoder", "tiny",
            "--no-cache", "--no-progress", "--device", "cpu", "--bootstrap", "50", *extra]
    rc = main(args)
    captured = capsys.readouterr()
    return rc, captured.out + captured.err


def _check_item_fault(two_items, tmp_path, capsys, kind: str, text: str, *extra: str):
    """validate names the problem; evaluate records it as BAD's failure, scores GOOD; exit 0 / 1 (--strict)."""
    suite, videos = two_items
    rc, out = _validate(suite, videos, capsys, *extra)
    assert rc == 1, out
    line = next(ln for ln in out.splitlines() if ln.startswith("error:"))
    assert f"[{kind}]" in line and BAD in line and text in line, out
    rc, out = _evaluate(suite, videos, tmp_path / "r.json", capsys, *extra)
    assert rc == 0, out
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["failures"][BAD]["kind"] == kind and text in res["failures"][BAD]["error"] + str(
        res["failures"][BAD]["file"])
    assert GOOD in res["items"] and BAD not in res["items"]
    rc, out = _evaluate(suite, videos, tmp_path / "r.json", capsys, "--strict", *extra)
    assert rc == 1, out
    return res


def _write_clip(path: Path, n: int, faststart: bool = False) -> Path:
    import av

    frames = np.random.default_rng(0).integers(0, 255, (n, 48, 48, 3), dtype=np.uint8)
    if not faststart:
        return write_video(path, frames)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as c:
        s = c.add_stream("libx264", rate=8)
        s.width, s.height, s.pix_fmt = 48, 48, "yuv420p"
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def test_truncated_faststart_mp4(two_items, tmp_path, capsys):
    _, videos = two_items
    path = _write_clip(videos / BAD / "scene_2.mp4", 12, faststart=True)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])  # the last 40% of the bytes cut
    _check_item_fault(two_items, tmp_path, capsys, "truncated", "scene_2.mp4")


@pytest.mark.parametrize("n_frames", [1, 5])
def test_short_scenes_fail_by_default_and_pad_on_request(two_items, tmp_path, capsys, n_frames):
    _, videos = two_items
    _write_clip(videos / BAD / "scene_3.mp4", n_frames)
    _check_item_fault(two_items, tmp_path, capsys, "too_few_frames", f"scene 3 has {n_frames} frame")

    suite, videos = two_items
    rc, out = _validate(suite, videos, capsys, "--short-scenes", "pad")
    assert rc == 0 and "warning: [short_scene]" in out and BAD in out, out
    rc, out = _evaluate(suite, videos, tmp_path / "p.json", capsys, "--short-scenes", "pad", "--strict")
    assert rc == 0, out
    res = json.loads((tmp_path / "p.json").read_text())
    assert BAD in res["items"] and not res["failures"]
    assert any("short_scene" in w and "scene 3" in w for w in res["items"][BAD]["warnings"])
    assert res["config"]["short_scenes"] == "pad" and res["config"]["options"]["short_scenes"] == "pad"


def _per_item_file(videos: Path, item: str, scenes) -> None:
    frames = np.concatenate([np.full((12, 48, 48, 3), 40 * k, np.uint8) for k in range(4)])
    write_video(videos / f"{item}.mp4", frames)
    shutil.rmtree(videos / item)
    meta = json.loads((videos / "submission.json").read_text())
    meta["items"] = {item: scenes}
    (videos / "submission.json").write_text(json.dumps(meta))


def test_overlapping_scene_ranges(two_items, tmp_path, capsys):
    _, videos = two_items
    _per_item_file(videos, BAD, {"scenes": [[0, 16], [8, 32], [32, 48]]})
    _check_item_fault(two_items, tmp_path, capsys, "bad_boundaries", "overlaps")


def test_non_string_file_entry(two_items, tmp_path, capsys):
    _, videos = two_items
    _per_item_file(videos, BAD, {"file": 123, "scenes": [[0, 16], [16, 32], [32, 48]]})
    _check_item_fault(two_items, tmp_path, capsys, "bad_entry", "must be a path")


def test_gif_in_place_of_a_scene_names_the_file(two_items, tmp_path, capsys):
    _, videos = two_items
    (videos / BAD / "scene_2.mp4").unlink()
    (videos / BAD / "scene_2.gif").write_bytes(b"GIF89a" + b"\0" * 64)
    _check_item_fault(two_items, tmp_path, capsys, "unsupported_format", "scene_2.gif")


@pytest.mark.parametrize("fps", ["NaN", "Infinity", "-8", "0"])
def test_non_finite_or_non_positive_fps_is_refused_up_front(two_items, tmp_path, capsys, fps):
    suite, videos = two_items
    meta = json.loads((videos / "submission.json").read_text())
    (videos / "submission.json").write_text(json.dumps(meta).replace(f'"fps": {json.dumps(meta["fps"])}',
                                                                      f'"fps": {fps}'))
    rc, out = _validate(suite, videos, capsys)
    err = capsys.readouterr().err
    assert rc == 2
    rc, out = _evaluate(suite, videos, tmp_path / "r.json", capsys)
    assert rc == 2 and "'fps' must be a positive, finite number" in out
    assert not (tmp_path / "r.json").exists()
    rc, out = _evaluate(suite, videos, tmp_path / "r.json", capsys, "--strict")
    assert rc == 2
    del err


def test_long_model_name_gets_a_safe_default_path(two_items, tmp_path, capsys, monkeypatch):
    suite, videos = two_items
    meta = json.loads((videos / "submission.json").read_text())
    meta["model"] = "m" * 300
    (videos / "submission.json").write_text(json.dumps(meta))
    monkeypatch.setenv("MVBENCH_RESULTS", str(tmp_path / "results"))
    assert main(["evaluate", "--suite", str(suite), "--videos", str(videos), "--encoder", "tiny", "--no-cache",
                 "--no-progress", "--device", "cpu", "--bootstrap", "50"]) == 0
    written = list((tmp_path / "results").glob("*.json"))
    assert len(written) == 1 and len(written[0].name) <= 120
    assert json.loads(written[0].read_text())["model"]["name"] == "m" * 300
    # an explicit path whose name the file system refuses fails before any work, naming the path
    rc, out = _evaluate(suite, videos, tmp_path / ("x" * 300 + ".json"), capsys)
    assert rc == 2 and "cannot write results" in out


def test_no_silent_overwrite_of_a_different_run(two_items, tmp_path, capsys):
    suite, videos = two_items
    out = tmp_path / "r.json"
    assert _evaluate(suite, videos, out, capsys)[0] == 0
    assert _evaluate(suite, videos, out, capsys)[0] == 0  # same configuration: a re-run may replace it
    before = out.read_text()
    rc, text = _evaluate(suite, videos, out, capsys, "--vc-pairs", "consecutive")
    assert rc == 2 and "refusing to overwrite" in text and "vc_pairs 'all' -> 'consecutive'" in text
    assert out.read_text() == before
    rc, text = _evaluate(suite, videos, out, capsys, "--vc-pairs", "consecutive", "--overwrite")
    assert rc == 0 and json.loads(out.read_text())["config"]["options"]["vc_pairs"] == "consecutive"


def test_wrong_suite_is_an_error_not_an_empty_success(demo_videos, tmp_path, capsys):
    rc, out = _evaluate("mvbench-3scene", demo_videos, tmp_path / "r.json", capsys)
    assert rc == 2 and "none of the 50 item(s) of suite 'mvbench-3scene'" in out
    assert not (tmp_path / "r.json").exists()
    rc = main(["validate", "--suite", "mvbench-3scene", "--videos", str(demo_videos)])
    assert rc == 2 and "none of the 50 item(s)" in capsys.readouterr().err


def test_limit_scores_a_prefix_and_only_reports_it(demo_videos, tmp_path, capsys):
    shutil.rmtree(demo_videos / "demo_03_day_to_night")  # outside --limit 2: not a failure
    rc, out = _evaluate("mvbench-demo", demo_videos, tmp_path / "r.json", capsys, "--limit", "2", "--strict")
    assert rc == 0, out
    res = json.loads((tmp_path / "r.json").read_text())
    assert list(res["items"]) == list(ITEMS) and not res["failures"]
    rc, out = _validate("mvbench-demo", demo_videos, capsys, "--limit", "2")
    assert rc == 0 and "2/2 items ready" in out and "demo_03" not in out
    shutil.rmtree(demo_videos / GOOD)  # inside the limit: a failure, so --strict exits 1
    rc, out = _evaluate("mvbench-demo", demo_videos, tmp_path / "r2.json", capsys, "--limit", "2", "--strict")
    assert rc == 1
    assert json.loads((tmp_path / "r2.json").read_text())["failures"][GOOD]["kind"] == "missing_item"
    rc, out = _validate("mvbench-demo", demo_videos, capsys, "--limit", "2")
    assert rc == 1 and "[missing_item]" in out


def test_misspelled_option_is_an_error_with_a_suggestion(demo_suite, demo_videos):
    from mvbench.runner import run_evaluation
    from mvbench.submission import open_submission

    with pytest.raises(ConfigError, match="unknown option 'vc_pair'; did you mean 'vc_pairs'"):
        run_evaluation(demo_suite, open_submission(demo_videos), None, {"vc_pair": "consecutive", "encoder": "tiny"})
    with pytest.raises(ConfigError, match="vc_pairs"):
        run_evaluation(demo_suite, open_submission(demo_videos), None, {"vc_pairs": "neighbours", "encoder": "tiny"})
    with pytest.raises(ConfigError, match="batch_size"):
        run_evaluation(demo_suite, open_submission(demo_videos), None, {"batch_size": 0, "encoder": "tiny"})


def test_resolved_configuration_is_recorded(two_items, tmp_path, capsys):
    suite, videos = two_items
    assert _evaluate(suite, videos, tmp_path / "r.json", capsys, "--vc-pairs", "consecutive")[0] == 0
    options = json.loads((tmp_path / "r.json").read_text())["config"]["options"]
    assert options["vc_pairs"] == "consecutive" and options["encoder"] == "tiny" and options["bootstrap"] == 50
    assert options["short_scenes"] == "fail" and "cd_boundaries" in options  # defaults of every scorer too


def _all_parsers():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices


def test_every_command_documents_exit_codes_and_positionals():
    for name, p in _all_parsers().items():
        text = p.format_help()
        assert "exit codes:" in text, name
        for action in p._actions:
            if not action.option_strings and action.dest not in ("help",) and not action.choices:
                assert action.help, f"{name}: positional {action.dest!r} has no help"
    assert set(_all_parsers()) == set(COMMANDS)


def test_evaluate_help_points_to_metric_list_and_shows_defaults():
    text = _all_parsers()["evaluate"].format_help()
    assert "mvbench list metrics" in text and "mvbench list encoders" in text
    assert "(default: 16)" in text  # --batch-size
    assert "(default: all)" in text  # --vc-pairs


def test_list_command(capsys):
    assert main(["list", "metrics"]) == 0
    out = capsys.readouterr().out
    assert "visual_consistency" in out and "fvd" in out and "higher is better" in out
    assert main(["list", "suites"]) == 0 and "mvbench-3scene" in capsys.readouterr().out
    assert main(["list", "encoders"]) == 0 and "viclip-l14" in capsys.readouterr().out


def test_weights_verify_without_name_fails_when_files_are_missing(capsys):
    assert main(["weights", "verify"]) == 1
    assert "missing" in capsys.readouterr().out


# -- issue 19, point 8: the first error comes fast (no torch, open_clip or torchvision imported before it) ----

def _fresh_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter on this checkout (MVBENCH_HOME: the test's empty folder)."""
    env = os.environ | {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env,
                          cwd=ROOT)


HEAVY = ("torch", "open_clip", "torchvision", "transformers", "timm")
_REPORT_HEAVY = f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))"


@pytest.mark.parametrize("scorer", sorted(SCORERS))
def test_importing_a_scorer_module_leaves_torch_unimported(scorer):
    module = SCORERS[scorer].split(":")[0]
    proc = _fresh_python(f"import sys\nimport {module}\n{_REPORT_HEAVY}")
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout


@pytest.mark.parametrize("argv", [["--help"], ["evaluate", "--help"], ["validate", "--help"]])
def test_help_does_not_import_torch(argv):
    code = (f"import sys\nfrom mvbench.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit as e:\n"
            f"    print('EXIT', e.code)\n{_REPORT_HEAVY}")
    proc = _fresh_python(code)
    assert "EXIT 0" in proc.stdout, proc.stdout + proc.stderr
    assert "usage:" in proc.stdout and "HEAVY []" in proc.stdout, proc.stdout


def test_missing_weights_error_comes_before_torch_is_imported(demo_videos, tmp_path):
    code = ("import sys\nfrom mvbench.cli import main\n"
            f"rc = main(['evaluate', '--suite', 'mvbench-demo', '--videos', {str(demo_videos)!r}, "
            f"'--out', {str(tmp_path / 'r.json')!r}])\n"
            "print('RC', rc, 'TORCH_LOADED' if 'torch' in sys.modules else 'NO_TORCH')")
    proc = _fresh_python(code)
    assert "RC 2" in proc.stdout, proc.stdout + proc.stderr
    assert "mvbench weights fetch viclip-l14" in proc.stderr
    assert "NO_TORCH" in proc.stdout
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("metric, entry", [("confusion_degree", "viclip-l14"), ("subject_consistency", "dino-vitb16"),
                                           ("motion_smoothness", "amt-s"), ("dynamic_degree", "raft-things"),
                                           ("fvd", "i3d-k400"), ("fid", "inception-fid")])
def test_each_scorers_missing_weights_are_reported_before_torch(demo_videos, tmp_path, metric, entry):
    code = ("import sys\nfrom mvbench.cli import main\n"
            f"rc = main(['evaluate', '--suite', 'mvbench-demo', '--videos', {str(demo_videos)!r}, "
            f"'--out', {str(tmp_path / 'r.json')!r}, '--metrics', {metric!r}])\n"
            f"print('RC', rc)\n{_REPORT_HEAVY}")
    proc = _fresh_python(code)
    assert "RC 2" in proc.stdout, proc.stdout + proc.stderr
    assert f"mvbench weights fetch {entry}" in proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout


@pytest.mark.parametrize("metrics, entries", [
    ("visual_consistency", ["viclip-l14"]),
    ("subject_consistency,motion_smoothness,dynamic_degree", ["dino-vitb16", "amt-s", "raft-things"]),
    ("fid", ["inception-fid"]),
    ("scene_consistency", ["grounding-dino-tiny", "grounding-dino-tiny:config.json"]),
])
def test_validate_names_every_missing_weight_file_that_evaluate_would_stop_on(demo_videos, tmp_path, capsys,
                                                                              metrics, entries):
    # what evaluate refuses to start without, validate names (all of it at once, as errors: exit 1)
    extra = ["--fid-reference", str(tmp_path / "none.npz")] if metrics == "fid" else []
    args = ["--suite", "mvbench-demo", "--videos", str(demo_videos), "--metrics", metrics, *extra]
    assert main(["validate", *args]) == 1
    out = capsys.readouterr().out
    for entry in entries:
        assert f"error: [setup] weights {entry!r}" in out and f"mvbench weights fetch {entry}" in out, out
    assert "evaluate would stop before scoring" in out
    assert main(["evaluate", *args, "--out", str(tmp_path / "r.json"), "--no-progress"]) == 2
    assert f"weights {entries[0]!r}" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_items_without_portraits_are_named_by_validate_and_failed_at_planning(demo_videos, tmp_path, capsys):
    args = ["--suite", "mvbench-demo", "--videos", str(demo_videos), "--metrics", "character_id"]
    assert main(["validate", *args]) == 1
    out = capsys.readouterr().out
    assert out.count("[cannot_plan]") == 4 and "has no character portraits" in out
    out_file = tmp_path / "r.json"
    assert main(["evaluate", *args, "--out", str(out_file), "--no-progress"]) == 0
    assert main(["evaluate", *args, "--out", str(out_file), "--no-progress", "--strict"]) == 1
    failures = json.loads(out_file.read_text())["failures"]
    assert len(failures) == 4 and {f["stage"] for f in failures.values()} == {"plan"}
    assert all("no character portraits" in f["error"] for f in failures.values())
