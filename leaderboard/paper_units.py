"""Measured values in a paper's printed units.

A paper column states ``scale`` (paper number = mvbench value × scale) for mvbench's value in
``unit``. When a results file records the unit of a metric (``metrics[NAME]["unit"]``) and it is a
different known unit, the factor is adjusted (a column expecting a ``fraction`` ×100 given a
``percent`` becomes ×1); two different units that cannot be converted are an error rather than a
silently wrong number.
"""

from __future__ import annotations

import dataclasses

from leaderboard.errors import LeaderboardError
from leaderboard.paper_vocab import UNITS, unit_factor


def measured_factor(column, summary: dict, source: str = "") -> float:
    """The factor that puts ``summary["mean"]`` (a results metric summary) in the paper's units.

    >>> from leaderboard.paper_tables import PaperColumn
    >>> col = PaperColumn("m", "Motion Smoothness", "number", True, 2, "motion_smoothness", scale=100, unit="fraction")
    >>> measured_factor(col, {"mean": 0.9843}), measured_factor(col, {"mean": 98.43, "unit": "percent"})
    (100.0, 1.0)
    """
    recorded = summary.get("unit")
    if recorded is None or column.unit is None or recorded == column.unit:
        return float(column.scale)
    if recorded in UNITS:
        return float(column.scale) * unit_factor(column.unit) / unit_factor(recorded)
    raise LeaderboardError(
        f"{source}: metric {column.metric!r} is recorded in {recorded!r} but the paper column "
        f"{column.label!r} expects {column.unit!r}",
        hint="the table's scale cannot be applied; check the results file or the table's unit")


def scaled_cell(cell, factor: float):
    """A copy of a board cell with value, std and CI multiplied by ``factor`` (deltas are computed later).

    >>> from leaderboard.board import Cell
    >>> scaled_cell(Cell(value=0.5, std=0.1, ci95=(0.4, 0.6)), 100.0).ci95
    (40.0, 60.0)
    """
    if factor == 1.0:
        return dataclasses.replace(cell)

    def times(x):
        return None if x is None else x * factor

    ci = None if cell.ci95 is None else (cell.ci95[0] * factor, cell.ci95[1] * factor)
    return dataclasses.replace(cell, value=times(cell.value), std=times(cell.std), ci95=ci)
