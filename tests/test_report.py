"""The terminal summary of a results file (mvbench/report.py)."""

from __future__ import annotations

from test_leaderboard_support import make_results

from mvbench.report import f_range, metrics_table


def test_table_shows_intervals_and_f_beside_confusion_degree():
    doc = make_results("m", {"confusion_degree": 0.25, "fvd": 0.09})
    doc["metrics"]["confusion_degree"]["F"] = {"min": 7, "max": 8, "mean": 7.5}
    doc["metrics"]["fvd"]["ci95"] = [0.05, 0.30]
    text = metrics_table(doc)
    header, _, *rows = text.splitlines()[1:]
    assert header.split() == ["metric", "mean", "95%", "CI", "std", "n", "F"]
    cd = next(r for r in rows if r.startswith("confusion_degree"))
    assert cd.split()[-2:] == ["7-8", "↓"]
    fvd = next(r for r in rows if r.startswith("fvd"))
    assert "[0.05, 0.30]" in fvd and "±" not in text


def test_no_f_column_without_confusion_degree():
    text = metrics_table(make_results("m", {"sequence_consistency": 47.0}))
    assert " F " not in text.splitlines()[1] + " "


def test_f_range_forms():
    assert f_range({"min": 3, "max": 3, "mean": 3.0}) == "3"
    assert f_range({"min": 5, "max": 12, "mean": 7.0}) == "5-12"
    assert f_range([8, 7]) == "7-8"
    assert f_range(None) == "" and f_range({}) == "" and f_range([]) == ""
