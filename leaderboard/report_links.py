"""Links from the HTML leaderboard's measured rows to their per-run reports (``mvbench report``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from leaderboard.board import Board

log = logging.getLogger(__name__)


def report_for(results: str | Path, reports_dir: str | Path) -> Path:
    """The report of a results file in ``reports_dir``: ``<results stem>.html``.

    >>> report_for("results/mymodel.json", "reports").as_posix()
    'reports/mymodel.html'
    """
    return Path(reports_dir) / (Path(results).stem + ".html")


def attach_reports(board: Board, reports_dir: str | Path, page: str | Path | None = None) -> list[str]:
    """Set ``row.report`` of every measured row whose report exists in ``reports_dir`` to a link relative to
    the leaderboard ``page`` (the current folder when None); returns the results files without a report."""
    base = Path(page).resolve().parent if page is not None else Path.cwd()
    missing = []
    for row in board.rows:
        if row.published or not row.source:
            continue
        target = report_for(row.source, reports_dir)
        if not target.is_file():
            missing.append(row.source)
            continue
        rel = Path(os.path.relpath(target.resolve(), base)).as_posix()
        row.report = rel if rel.startswith(("./", "../")) else "./" + rel  # never read as a scheme ("x:...")
    return missing
