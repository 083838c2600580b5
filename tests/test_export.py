"""Results as data (issue 14): to_dataframe / metrics_dataframe, ``mvbench export`` to CSV, JSONL and
Parquet loading back into the same table, and many results files as one DataFrame."""

from __future__ import annotations

import json
import math
import sys

import pandas as pd
import pytest

from leaderboard.results_frame import results_frame
from mvbench.cli import main as cli_main
from mvbench.errors import MissingExtraError, MvbenchError
from mvbench.export import read_table, write_table
from mvbench.results import metrics_dataframe, to_dataframe
from mvbench.suite import load_suite


def _results(suite=None, items=None, model="m1") -> dict:
    """A results document in the shape `mvbench evaluate` writes (numbers made up)."""
    suite_block = ({"name": suite.name, "version": suite.version, "content_hash": suite.content_hash,
                    "source": suite.source} if suite else {"name": "numbers", "version": "2", "content_hash": "x"})
    items = items or {"001": {"scores": {"visual_consistency": 81.5, "fvd": None}, "details": {}},
                      "1e3": {"scores": {"visual_consistency": 70.25}, "details": {}}}
    return {
        "schema": "mvbench.results/1", "model": {"name": model, "version": "7", "notes": "", "fps": 8},
        "suite": suite_block, "mvbench_version": "0.1.0", "encoders": {}, "created": "2025-01-01T00:00:00+00:00",
        "config": {"metrics": ["visual_consistency", "fvd"]},
        "metrics": {"visual_consistency": {"mean": 75.875, "ci95": [70.25, 81.5], "n": 2, "higher_is_better": True,
                                           "std": 8.0},
                    "fvd": {"mean": None, "ci95": None, "n": 0, "higher_is_better": False, "std": None}},
        "items": items,
        "failures": {"broken": {"stage": "decode", "kind": "truncated", "file": "broken/scene_2.mp4",
                                "error": "needed frame 9, video ends after 8"}},
        "warnings": [],
    }


def test_to_dataframe_rows_columns_and_values():
    df = to_dataframe(_results(), suite=None)
    assert list(df.columns) == ["model", "model_version", "suite", "suite_version", "item", "metric", "value",
                                "higher_is_better", "status", "error", "files"]
    assert df[["item", "metric"]].values.tolist() == [
        ["001", "visual_consistency"], ["001", "fvd"], ["1e3", "visual_consistency"], ["1e3", "fvd"],
        ["broken", "visual_consistency"], ["broken", "fvd"]]
    assert df["value"].tolist()[:3] == [81.5, pytest.approx(math.nan, nan_ok=True), 70.25]
    assert df["higher_is_better"].tolist() == [True, False] * 3
    assert df["status"].tolist() == ["scored"] * 4 + ["failed"] * 2
    assert df["error"].iloc[-1] == "decode/truncated: needed frame 9, video ends after 8"
    assert df["files"].tolist() == ["", "", "", "", "broken/scene_2.mp4", "broken/scene_2.mp4"]
    m = metrics_dataframe(_results())
    assert m[["metric", "mean", "ci_lo", "ci_hi", "n"]].values.tolist()[0] == ["visual_consistency", 75.875, 70.25,
                                                                              81.5, 2]
    assert math.isnan(m["mean"].iloc[1]) and m["higher_is_better"].tolist() == [True, False]


def test_prompts_come_from_the_recorded_suite():
    suite = load_suite("mvbench-demo")
    a, b = suite.items[0], suite.items[1]
    res = _results(suite, {a.id: {"scores": {"visual_consistency": 80.0}}, b.id: {"scores": {}}})
    df = to_dataframe(res)  # "auto": the recorded bundled suite, same content hash
    row = df[df["item"] == a.id].iloc[0]
    assert row["global_prompt"] == a.global_prompt
    assert row["prompts"].split("\n") == [s.prompt for s in a.scenes]
    assert "prompts" not in to_dataframe(res, suite=None)
    res["suite"]["content_hash"] = "something else"
    assert "prompts" not in to_dataframe(res)  # auto never guesses across suite versions
    with pytest.raises(MvbenchError, match="is not the suite these results were computed on"):
        to_dataframe(res, suite="mvbench-demo")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_loads_back_into_the_same_table(fmt, tmp_path, capsys):
    suite = load_suite("mvbench-demo")
    res = _results(suite, {suite.items[0].id: {"scores": {"visual_consistency": 80.0, "fvd": 1.5}},
                           "001": {"scores": {"visual_consistency": -3.0}}})
    (tmp_path / "r.json").write_text(json.dumps(res))
    assert cli_main(["export", str(tmp_path / "r.json"), "--format", fmt]) == 0
    out = tmp_path / f"r.{fmt}"
    assert f"row(s) written to {out}" in capsys.readouterr().out
    expected = to_dataframe(res)
    assert "prompts" in expected and expected["prompts"].str.contains("\n").any()  # multi-line text survives
    pd.testing.assert_frame_equal(read_table(out), expected)
    # and with pandas alone
    if fmt == "parquet":
        plain = pd.read_parquet(out)
    elif fmt == "jsonl":
        plain = pd.read_json(out, lines=True, dtype=False)
    else:
        plain = pd.read_csv(out, dtype={"item": str}, keep_default_na=False, na_values={"value": [""]})
    assert plain["item"].tolist() == expected["item"].tolist()
    assert plain["value"].astype(float).tolist()[:2] == [80.0, 1.5]

    assert cli_main(["export", str(tmp_path / "r.json"), "--table", "metrics", "--out", str(tmp_path / f"m.{fmt}")]) == 0
    pd.testing.assert_frame_equal(read_table(tmp_path / f"m.{fmt}"), metrics_dataframe(res))


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(MissingExtraError, match=r"\[parquet\]"):
        write_table(to_dataframe(_results(), suite=None), tmp_path / "t.parquet")


def test_many_results_files_one_frame(tmp_path, capsys):
    suite = load_suite("mvbench-demo")
    first = _results(suite, {suite.items[0].id: {"scores": {"visual_consistency": 80.0}}}, model="a")
    second = _results(None, model="b")
    (tmp_path / "a.json").write_text(json.dumps(first))
    (tmp_path / "b.json").write_text(json.dumps(second))
    frame = results_frame([tmp_path / "a.json", tmp_path / "b.json"])
    assert frame["source"].tolist() == [str(tmp_path / "a.json")] * 4 + [str(tmp_path / "b.json")] * 6
    assert frame["model"].unique().tolist() == ["a", "b"]
    assert frame["prompts"].isna().sum() == 0 and (frame["prompts"].iloc[-1] == "")  # b has no prompts
    metrics = results_frame([tmp_path / "a.json", tmp_path / "b.json"], table="metrics")
    assert len(metrics) == 4
    assert cli_main(["export", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 2
    assert "--out is required" in capsys.readouterr().err
    assert cli_main(["export", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out",
                     str(tmp_path / "all.jsonl")]) == 0
    pd.testing.assert_frame_equal(read_table(tmp_path / "all.jsonl"), frame)
