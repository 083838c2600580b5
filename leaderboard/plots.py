"""Matplotlib figures of a board: one bar chart per metric (95% CI or ± std as error bars) and a
multi-metric comparison figure (one small panel per metric, since metrics have different scales).

Uses :class:`matplotlib.figure.Figure` directly (no pyplot state, no display needed).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from leaderboard.board import Board, Column, Row

BEST_COLOR, SECOND_COLOR, OTHER_COLOR = "#1b7837", "#7fbf7b", "#9e9e9e"
#: longer row names are shortened on the axis
LABEL_CHARS = 32


def _bars(ax, board: Board, col: Column, rows: list[Row]) -> None:
    names, values, lower, upper, colors = [], [], [], [], []
    for row in rows:
        cell = row.cell(col.key)
        if cell.value is None:
            continue
        names.append(row.name if len(row.name) <= LABEL_CHARS else row.name[: LABEL_CHARS - 1] + "…")
        values.append(cell.value)
        if cell.ci95 is not None:
            lower.append(max(cell.value - cell.ci95[0], 0.0))
            upper.append(max(cell.ci95[1] - cell.value, 0.0))
        else:
            spread = cell.std or 0.0
            lower.append(spread)
            upper.append(spread)
        colors.append({"best": BEST_COLOR, "second": SECOND_COLOR}.get(cell.mark or "", OTHER_COLOR))
    positions = list(range(len(values)))
    ax.barh(positions, values, color=colors)
    spread = [i for i in positions if lower[i] > 0 or upper[i] > 0]  # published rows often have none
    if spread:
        ax.errorbar([values[i] for i in spread], spread, xerr=[[lower[i] for i in spread], [upper[i] for i in spread]],
                    fmt="none", ecolor="#333333", capsize=3)
    ax.set_yticks(positions, labels=names, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(col.heading, fontsize=9)
    ax.grid(axis="x", alpha=0.3)


def _save(fig, stem: Path, formats=("png", "pdf")) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for ext in formats:
        path = stem.with_suffix(f".{ext}")
        meta = {"Software": None} if ext == "png" else {"Creator": None, "Producer": None, "CreationDate": None}
        fig.savefig(path, format=ext, bbox_inches="tight", dpi=120, metadata=meta)
        written.append(path)
    return written


def bar_chart_figure(board: Board, key: str):
    """Bar chart of metric column ``key`` with its error bars (rows with a value only)."""
    from matplotlib.figure import Figure

    col = next(c for c in board.number_columns if c.key == key)
    fig = Figure(figsize=(6.0, 0.45 * max(len(board.rows), 2) + 1.0), layout="constrained")
    _bars(fig.add_subplot(1, 1, 1), board, col, board.rows)
    return fig


def comparison_figure(board: Board):
    """All metric columns side by side, one panel each, with error bars and best/second colours."""
    from matplotlib.figure import Figure

    cols = [c for c in board.number_columns if any(r.cell(c.key).value is not None for r in board.rows)]
    ncols = min(3, max(len(cols), 1))
    nrows = max(1, math.ceil(len(cols) / ncols))
    fig = Figure(figsize=(4.6 * ncols, (0.4 * max(len(board.rows), 2) + 1.2) * nrows), layout="constrained")
    for i, col in enumerate(cols):
        _bars(fig.add_subplot(nrows, ncols, i + 1), board, col, board.rows)
    fig.suptitle(board.title, fontsize=10)
    return fig


def write_plots(board: Board, out_dir: str | Path, formats=("png", "pdf")) -> list[Path]:
    """``<metric>.png/.pdf`` per metric column and ``comparison.png/.pdf``; returns the paths."""
    out_dir = Path(out_dir)
    written = []
    for col in board.number_columns:
        if any(r.cell(col.key).value is not None for r in board.rows):
            written += _save(bar_chart_figure(board, col.key), out_dir / col.key, formats)
    written += _save(comparison_figure(board), out_dir / "comparison", formats)
    return written


def figure_png(fig) -> bytes:
    """PNG bytes of ``fig`` (for embedding in the HTML page)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=100, metadata={"Software": None})
    return buf.getvalue()
