"""CI integration (issue 14): the mvbench-compare GitHub Action, its script run with a stand-in `gh`, the
example workflow of docs/ci.md and the pre-commit configuration."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_compare import BASE, items
from test_leaderboard_support import make_results, write

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / ".github" / "actions" / "mvbench-compare"


def _action() -> dict:
    return yaml.safe_load((ACTION / "action.yml").read_text())


def test_action_is_a_composite_action_using_only_declared_inputs():
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert {"base", "new"} <= {k for k, v in action["inputs"].items() if v.get("required")}
    text = (ACTION / "action.yml").read_text()
    used = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert used and used <= set(action["inputs"]), used - set(action["inputs"])
    steps = action["runs"]["steps"]
    assert all(s.get("shell") == "bash" for s in steps if "run" in s)
    assert any("compare.sh" in s.get("run", "") for s in steps)
    assert (ACTION / "compare.sh").is_file()
    for step in steps:  # inputs go through env, never into the shell text
        assert "${{" not in step.get("run", ""), step["run"]
    assert set(re.findall(r"steps\.compare\.outputs\.([a-z-]+)", text)) == {"exit-code", "summary-file"}


def test_docs_example_workflow_uses_the_action():
    text = (ROOT / "docs" / "ci.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    assert blocks
    workflow = yaml.safe_load(blocks[0])
    steps = workflow["jobs"]["evaluate"]["steps"]
    uses = [s for s in steps if "mvbench-compare" in s.get("uses", "")]
    assert len(uses) == 1 and uses[0]["uses"].endswith(".github/actions/mvbench-compare@main")
    assert set(uses[0]["with"]) <= set(_action()["inputs"])
    assert workflow["permissions"]["pull-requests"] == "write"
    assert "docs/ci.md" in (ROOT / "README.md").read_text()


def test_pre_commit_runs_ruff():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    ruff = [r for r in config["repos"] if r["repo"].endswith("astral-sh/ruff-pre-commit")]
    assert len(ruff) == 1 and re.fullmatch(r"v\d+\.\d+\.\d+", ruff[0]["rev"])
    assert [h["id"] for h in ruff[0]["hooks"]] == ["ruff"]


FAKE_GH = """#!/usr/bin/env bash
echo "gh $*" >> "$FAKE_GH_LOG"
if [ "$1" = "pr" ]; then
  while [ $# -gt 0 ]; do [ "$1" = "--body-file" ] && cp "$2" "$FAKE_GH_LOG.body"; shift; done
elif [ "$1" = "api" ] && [ "$2" = "--method" ]; then
  for a in "$@"; do case "$a" in body=@*) cp "${a#body=@}" "$FAKE_GH_LOG.body";; esac; done
else
  echo "${FAKE_GH_EXISTING:-}"
fi
"""


@pytest.fixture
def runner(tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)

    def run(base, new, **env):
        log = tmp_path / "gh.log"
        log.unlink(missing_ok=True)
        Path(f"{log}.body").unlink(missing_ok=True)
        outputs, step_summary = tmp_path / "outputs", tmp_path / "step_summary.md"
        outputs.write_text("")
        step_summary.write_text("")
        full = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_GH_LOG": str(log),
                "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                "MVBENCH_COMMAND": f"{sys.executable} -m mvbench", "RUNNER_TEMP": str(tmp_path),
                "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(step_summary),
                "MVBENCH_BASE": str(base), "MVBENCH_NEW": str(new), "GH_REPO": "org/repo", "PR_NUMBER": "7",
                "MAX_DROP": "sequence_consistency=0.5", "MAX_RISE": "fvd=10", **env}
        proc = subprocess.run(["bash", str(ACTION / "compare.sh")], capture_output=True, text=True, env=full,
                              timeout=300)
        calls = log.read_text().splitlines() if log.exists() else []
        body = Path(f"{log}.body").read_text() if Path(f"{log}.body").exists() else None
        return proc, calls, body, outputs.read_text(), step_summary.read_text()

    return run


@pytest.mark.timeout(600)
def test_compare_script_comments_and_gates(runner, tmp_path):
    base = write(tmp_path, "base.json", make_results("model", BASE, items=items([40.0, 47.0, 55.35])))
    good = write(tmp_path, "good.json", make_results("model", {**BASE, "fvd": 725.0}, version="2",
                                                     items=items([40.0, 47.0, 55.35])))
    bad = write(tmp_path, "bad.json", make_results("model", {**BASE, "fvd": 760.0}, version="2",
                                                   items=items([40.0, 47.0, 55.35])))

    proc, calls, body, outputs, summary = runner(base, good)
    assert proc.returncode == 0, proc.stderr
    assert calls[0].startswith("gh api repos/org/repo/issues/7/comments --paginate")
    assert calls[1] == f"gh pr comment 7 --repo org/repo --body-file {tmp_path / 'mvbench-compare-comment.md'}"
    assert body.startswith("<!-- mvbench-compare -->\n## mvbench compare: PASS")
    assert "exit-code=0" in outputs and summary.startswith("## mvbench compare: PASS")

    proc, calls, body, outputs, _ = runner(base, bad, FAKE_GH_EXISTING="4242")  # an earlier comment exists
    assert proc.returncode == 1
    assert calls[1].startswith("gh api --method PATCH repos/org/repo/issues/comments/4242")
    assert "REGRESSION" in body and "exit-code=1" in outputs

    proc, calls, body, outputs, _ = runner(base, bad, FAIL_ON_REGRESSION="false", COMMENT="false")
    assert proc.returncode == 0 and calls == [] and "exit-code=1" in outputs

    proc, calls, body, outputs, _ = runner(base, tmp_path / "missing.json", PR_NUMBER="")  # not a pull request
    assert proc.returncode == 2 and calls == [] and "exit-code=2" in outputs
    assert (tmp_path / "mvbench-compare.md").read_text().startswith("## mvbench compare: ERROR (exit 2)")
    assert "does not exist" in (tmp_path / "mvbench-compare.md").read_text()
