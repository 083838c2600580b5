"""The quickstart's `mvbench demo`: offline, deterministic, safe to run twice in the folder where the
tests then run, files readable by the team (issue 19, points 1, 4 and 6)."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path


def _demo(cwd: Path, *args: str, umask: int = 0o022) -> subprocess.CompletedProcess:
    def set_umask():
        os.umask(umask)

    return subprocess.run([sys.executable, "-m", "mvbench", "demo", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, preexec_fn=set_umask,
                          env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])})


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_demo_twice_in_one_folder_then_elsewhere_is_deterministic_and_readable(tmp_path):
    first = _demo(tmp_path)  # default work folder ./mvbench-demo, named like the bundled suite
    assert first.returncode == 0, first.stderr
    assert "visual_consistency" in first.stdout and "UNCALIBRATED" in first.stdout
    work = tmp_path / "mvbench-demo"
    res1 = json.loads((work / "results.json").read_text())
    assert res1["schema"] == "mvbench.results/1" and not res1["failures"]
    vc = {i: r["scores"]["visual_consistency"] for i, r in res1["items"].items()}
    # same shapes and background in every scene vs everything changing between scenes
    assert vc["demo_01_persistent_pair"] > vc["demo_02_changing_world"]
    videos1 = _files(work / "videos")
    # the demo ends with its report: keyframes of every scene and each item's scene-pair matrix
    assert f"report written to {Path('mvbench-demo') / 'report.html'}" in first.stdout
    page = (work / "report.html").read_text(encoding="utf-8")
    assert page.count('<img class="keyframes"') == 3 * len(res1["items"]) and page.count('class="heatmap"') == 4
    assert all(len(r["details"]["consistency"]["scene_similarity"]) == 3 for r in res1["items"].values())
    assert videos1 and all(name.endswith((".mkv", ".json")) for name in videos1)

    again = _demo(tmp_path)  # the README's second run, in the same folder
    assert again.returncode == 0, again.stderr
    res2 = json.loads((work / "results.json").read_text())
    assert res2["metrics"] == res1["metrics"] and res2["items"] == res1["items"]
    assert _files(work / "videos") == videos1

    other = _demo(tmp_path, "--workdir", "elsewhere")
    assert other.returncode == 0, other.stderr
    assert _files(tmp_path / "elsewhere" / "videos") == videos1  # byte-identical video files
    res3 = json.loads((tmp_path / "elsewhere" / "results.json").read_text())
    assert res3["metrics"] == res1["metrics"] and res3["items"] == res1["items"]

    # umask 022: results and cache files are readable by group and others
    written = [work / "results.json"] + [p for p in (work / "cache").rglob("*") if p.is_file()]
    assert len(written) > 1
    for path in written:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o044 == 0o044, f"{path} has mode {oct(mode)}"

    # the bundled suite name still means the bundled suite next to the ./mvbench-demo folder
    proc = subprocess.run([sys.executable, "-c", "from mvbench.suite import load_suite; "
                           "print(load_suite('mvbench-demo').source)"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and "(bundled)" in proc.stdout, proc.stderr


def test_help_lists_commands_quickly_without_torch():
    code = ("import sys, io, contextlib\nfrom mvbench.cli import main\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n    try:\n        main(['--help'])\n"
            "    except SystemExit:\n        pass\n"
            "print(buf.getvalue()); print('TORCH_LOADED' if 'torch' in sys.modules else 'NO_TORCH')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for cmd in ("demo", "evaluate", "validate", "weights", "list"):
        assert cmd in proc.stdout
    assert "NO_TORCH" in proc.stdout
