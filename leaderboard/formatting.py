"""Number and cell text shared by the renderers (same decimals for a whole column)."""

from __future__ import annotations

from dataclasses import dataclass

from leaderboard.board import FLAG_FAILURES, FLAG_UNCALIBRATED, Board, Cell, Column, Row

MISSING = "-"
#: how a 95% CI is printed: ``[lo, hi]``, asymmetric bounds ``+a/-b`` around the value, or not at all.
#: (A ``±`` half-width would misstate the bootstrap intervals, which are asymmetric.)
CI_STYLES = ("brackets", "asymmetric", "none")
DEFAULT_CI_STYLE = "brackets"

#: row and cell markers and what they mean (printed under every table that uses them)
ROW_MARKERS = {FLAG_UNCALIBRATED: "†", FLAG_FAILURES: "‡"}
UNRELIABLE_MARKER = "*"
LEGEND = {
    "†": "uncalibrated encoder: numbers are not comparable to calibrated runs",
    "‡": "some items failed and are left out (see the results file's failures)",
    "*": "marked unreliable by the scorer (see the results file's warnings)",
}


def fmt(value: float | None, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals; ``-`` for a missing value."""
    return MISSING if value is None else f"{value:.{decimals}f}"


def fmt_signed(value: float, decimals: int) -> str:
    text = f"{value:+.{decimals}f}"
    return text[1:] if float(text) == 0 else text


@dataclass(frozen=True)
class CellText:
    """``value`` is what best/second marks wrap; ``spread`` (± std / CI) and ``suffix`` follow it."""

    value: str
    spread: str = ""
    suffix: str = ""


def ci_text(value: float, ci95, decimals: int, ci_style: str = DEFAULT_CI_STYLE) -> str:
    """The interval ``ci95`` of ``value`` as printed: ``[lo, hi]`` (``brackets``), ``+a/-b`` with
    ``a = hi - value`` and ``b = value - lo`` (``asymmetric``; an interval that does not contain the
    value, as old FVD files have, falls back to brackets), or ``""`` (``none``).

    >>> ci_text(0.09, (0.106, 0.297), 2)
    '[0.11, 0.30]'
    >>> ci_text(47.0, (46.2, 47.5), 2, "asymmetric")
    '+0.50/-0.80'
    >>> ci_text(0.09, (0.106, 0.297), 2, "asymmetric")
    '[0.11, 0.30]'
    """
    if ci95 is None or ci_style == "none":
        return ""
    lo, hi = float(ci95[0]), float(ci95[1])
    if ci_style == "asymmetric" and lo <= value <= hi:
        return f"+{fmt(hi - value, decimals)}/-{fmt(value - lo, decimals)}"
    return f"[{fmt(lo, decimals)}, {fmt(hi, decimals)}]"


def cell_text(cell: Cell, col: Column, ci_style: str = DEFAULT_CI_STYLE) -> CellText:
    """Printed parts of one cell: value, "± std" (published mean ± std) or the CI by ``ci_style``, then
    markers, F for Confusion Degree cells (CD grows with it) and Δ."""
    if cell.value is None:
        return CellText(MISSING)
    d = col.decimals
    spread = ""
    if cell.std is not None and cell.ci95 is None:
        spread = f"± {fmt(cell.std, d)}"
    elif cell.ci95 is not None:
        spread = ci_text(cell.value, cell.ci95, d, ci_style)
    suffix = UNRELIABLE_MARKER if cell.unreliable else ""
    if cell.frames:
        suffix += f" (F={cell.frames})"
    if cell.delta is not None:
        suffix += f" (Δ {fmt_signed(cell.delta, d)})"
    return CellText(fmt(cell.value, d), spread, suffix)


def row_markers(row: Row) -> str:
    return "".join(mark for flag, mark in ROW_MARKERS.items() if flag in row.flags)


def legend_lines(board: Board) -> list[str]:
    """Legend entries for the markers this board actually uses."""
    used = set()
    for row in board.rows:
        used.update(row_markers(row))
        if any(c.unreliable for c in row.cells.values()):
            used.add(UNRELIABLE_MARKER)
    return [f"{m} {text}" for m, text in LEGEND.items() if m in used]


def group_runs(columns: list[Column]) -> list[tuple[str | None, int]]:
    """Consecutive column groups as (group, count), for two-level headers."""
    runs: list[tuple[str | None, int]] = []
    for col in columns:
        if runs and runs[-1][0] == col.group:
            runs[-1] = (col.group, runs[-1][1] + 1)
        else:
            runs.append((col.group, 1))
    return runs
