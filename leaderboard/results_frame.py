"""Many results files as one pandas DataFrame (for notebooks, plots and ``mvbench export``).

>>> import json, os, tempfile
>>> doc = {"schema": "mvbench.results/1", "model": {"name": "m"}, "suite": {"name": "s", "version": "1"},
...        "mvbench_version": "0", "encoders": {}, "config": {}, "failures": {},
...        "metrics": {"fvd": {"mean": 300.0, "ci95": None, "n": 2, "higher_is_better": False}},
...        "items": {"a": {"scores": {}}, "b": {"scores": {}}}}
>>> path = os.path.join(tempfile.mkdtemp(), "m.json")
>>> with open(path, "w") as fh:
...     _ = fh.write(json.dumps(doc))
>>> results_frame([path, path], table="metrics")[["metric", "mean"]].values.tolist()
[['fvd', 300.0], ['fvd', 300.0]]
"""

from __future__ import annotations

from pathlib import Path

from leaderboard.errors import LeaderboardError
from leaderboard.results_input import read_results

TABLES = ("items", "metrics")


def results_frame(paths, table: str = "items", suite="auto"):
    """One DataFrame from several results files: :func:`mvbench.results.to_dataframe` (``table="items"``:
    one row per file x item x metric) or :func:`~mvbench.results.metrics_dataframe` (``"metrics"``: one
    row per file x metric), with a first column ``source`` (the file's path). Files are read and checked
    as the leaderboard reads them; text columns a file lacks (prompts) are empty strings."""
    import pandas as pd

    from mvbench.results import BOOL_COLUMNS, FLOAT_COLUMNS, INT_COLUMNS, metrics_dataframe, to_dataframe

    if table not in TABLES:
        raise LeaderboardError(f"unknown table {table!r}", hint="choose items or metrics")
    paths = [Path(p) for p in paths]
    if not paths:
        raise LeaderboardError("no results files given")
    frames = []
    for p in paths:
        doc = read_results(p)
        frame = to_dataframe(doc, suite=suite) if table == "items" else metrics_dataframe(doc)
        frame.insert(0, "source", str(p))
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    for c in out.columns:
        if c not in (*FLOAT_COLUMNS, *INT_COLUMNS, *BOOL_COLUMNS):
            out[c] = out[c].fillna("")
    return out
