"""benchmarks/mask2dit_attention.py runs from a clean checkout (no install, no PYTHONPATH) and reports
forward + backward, memory, and failures as failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "mask2dit_attention.py"


def test_runs_without_installation_and_reports_backward_and_failures(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--config", "tiny", "--device", "cpu", "--methods",
                           "dense,grouped,flex",
                           "--repeats", "1", "--threads", "1", "--json", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    rows = {r["method"]: r for r in result["rows"]}
    assert result["batch"] == 2 and result["memory"].startswith("peak RSS")
    grouped = rows["grouped"]
    assert grouped["forward_backward_ms"] > 0 and grouped["max_abs_diff_vs_dense"] < 1e-4
    # PyTorch has no FlexAttention backward on CPU: the row keeps its forward and says the backward failed
    assert "backward_error" in rows["flex"] and rows["flex"]["forward_ms"] > 0
    assert "failed: flex (backward)" in proc.stdout
