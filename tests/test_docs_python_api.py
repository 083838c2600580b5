"""docs/python_api.md is runnable (issue 14): every ``python`` block runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "python_api.md"


@pytest.mark.timeout(900)
def test_python_api_doc_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for k, code in enumerate(blocks, start=1):
        exec(compile(code, f"{DOC.name}[block {k}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert (tmp_path / "two_models.png").stat().st_size > 1000
    results = namespace["results"]
    vc = {name: res["metrics"]["visual_consistency"]["mean"] for name, res in results.items()}
    assert vc["model A"] > vc["model B"]  # what the page says the plot shows
    assert "consecutive" in out and "True torch.Size([3, 32])" in out
    summary = namespace["summary"]
    assert sorted(summary["model"].unique()) == ["model A", "model B"]
