"""Paper figures from results files (``mvbench plot``), drawn with matplotlib's object API (no pyplot, no
display; the Agg canvas for raster output) in a style readable at one column width (3.3 in, 7 pt text,
fonts embedded as TrueType so the text stays editable in PDF).

Kinds:

- ``radar``: one polygon per results file over the chosen metrics, each axis normalised over the files
  shown (:data:`leaderboard.charts_html.RADAR_NORMALISATION`: centre = worst, rim = best);
- ``bars``: one panel per metric, a bar per file with its 95% CI as an asymmetric error bar;
- ``strip``: one panel per metric, every per-item score of each file, its mean and 95% CI;
- ``scene-distance``: mean scene-pair similarity (cos ×100, the pairs Visual Consistency averages) against
  the distance ``|i - j|`` between the scenes, from each item's stored pair matrix
  (``items.ITEM.details.consistency.scene_similarity``): per item the mean over its pairs at that distance,
  then the mean over items with a 95% percentile-bootstrap CI over items.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from leaderboard.board import Board, board_from_results
from leaderboard.errors import LeaderboardError
from leaderboard.svg import model_color

KINDS = ("radar", "bars", "strip", "scene-distance")
COLUMN_WIDTH = 3.3  # inches: one column of a two-column paper
LABEL_CHARS = 22
FORMATS = ("pdf", "svg", "png", "eps")

PAPER_STYLE = {
    "font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "xtick.labelsize": 6, "ytick.labelsize": 6,
    "legend.fontsize": 6, "axes.linewidth": 0.6, "lines.linewidth": 1.0, "lines.markersize": 3.5,
    "xtick.major.width": 0.6, "ytick.major.width": 0.6, "xtick.major.size": 2.5, "ytick.major.size": 2.5,
    "axes.spines.top": False, "axes.spines.right": False, "pdf.fonttype": 42, "ps.fonttype": 42,
    "svg.fonttype": "none", "font.family": "DejaVu Sans", "legend.frameon": False, "axes.titlepad": 3,
}


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"


def runs_board(paths, metrics: list[str] | None = None, allow_mixed: bool = False) -> Board:
    """The results files as a board in the given order (one colour per file, by position)."""
    return board_from_results(paths, metrics=metrics, allow_mixed=allow_mixed, sort=None, title="")


def _metric_cols(board: Board):
    cols = [c for c in board.number_columns if any(r.cell(c.key).value is not None for r in board.rows)]
    if not cols:
        raise LeaderboardError("no metric has a value in these results files", hint="check --metrics")
    return cols


def _ci_err(cell) -> tuple[float, float]:
    if cell.ci95 is None or cell.value is None:
        return 0.0, 0.0
    return max(cell.value - cell.ci95[0], 0.0), max(cell.ci95[1] - cell.value, 0.0)


def radar_figure(board: Board, width: float = COLUMN_WIDTH):
    """Radar over the board's metrics, normalised per axis over the rows (centre worst, rim best)."""
    from matplotlib.figure import Figure

    from leaderboard.charts_html import radar_columns, radar_scores

    cols = radar_columns(board)
    if len(cols) < 3 or len(board.rows) < 2:
        raise LeaderboardError("a radar needs at least 3 metrics with values in at least 2 results files",
                               hint="use --kind bars or strip, or pass more results files / --metrics")
    scores = radar_scores(board, cols)
    k = len(cols)
    angles = [2 * math.pi * i / k for i in range(k)]
    fig = Figure(figsize=(width, width * 0.85), layout="constrained")
    ax = fig.add_subplot(1, 1, 1, projection="polar")
    ax.set_theta_zero_location("N")  # first metric at the top, then clockwise
    ax.set_theta_direction(-1)
    for i, (row, got) in enumerate(zip(board.rows, scores)):
        color = model_color(i)
        pts = [(angles[j], got[c.key]) for j, c in enumerate(cols) if c.key in got]
        if len(pts) == k:
            pts.append(pts[0])
        ax.plot([a for a, _ in pts], [r for _, r in pts], color=color, marker="o", markersize=2.5,
                label=_short(row.name), linestyle="-" if len(pts) > k else ":")
        if len(pts) > k:
            ax.fill([a for a, _ in pts], [r for _, r in pts], color=color, alpha=0.06)
    ax.set_xticks(angles, labels=[c.heading for c in cols])
    for label, a in zip(ax.get_xticklabels(), angles):  # labels grow outwards, clear of the rim
        x = math.sin(a)
        label.set_horizontalalignment("left" if x > 0.1 else "right" if x < -0.1 else "center")
    ax.set_xlim(0, 2 * math.pi)
    ax.set_ylim(0, 1.0)
    ax.set_yticks([0.25, 0.5, 0.75, 1.0], labels=[])
    ax.grid(linewidth=0.4, alpha=0.6)
    ax.spines["polar"].set_linewidth(0.5)
    fig.legend(loc="outside lower center", ncols=min(3, len(board.rows)), handlelength=1.5)
    return fig


def bars_figure(board: Board, width: float = COLUMN_WIDTH):
    """One panel per metric: a horizontal bar per results file, 95% CI as an asymmetric error bar."""
    from matplotlib.figure import Figure

    cols = _metric_cols(board)
    n = len(board.rows)
    fig = Figure(figsize=(width, len(cols) * (0.16 * n + 0.42) + 0.1), layout="constrained")
    axes = fig.subplots(len(cols), 1, squeeze=False)[:, 0]
    for ax, col in zip(axes, cols):
        ys, vals, errs, colors = [], [], [[], []], []
        for i, row in enumerate(board.rows):
            cell = row.cell(col.key)
            if cell.value is None:
                continue
            lo, hi = _ci_err(cell)
            ys.append(i)
            vals.append(cell.value)
            errs[0].append(lo)
            errs[1].append(hi)
            colors.append(model_color(i))
        ax.barh(ys, vals, color=colors, height=0.7)
        ax.errorbar(vals, ys, xerr=errs, fmt="none", ecolor="#222222", elinewidth=0.7, capsize=1.5)
        ax.set_yticks(range(n), labels=[_short(r.name) for r in board.rows])
        ax.invert_yaxis()
        ax.set_title(col.heading, loc="left")
        ax.grid(axis="x", linewidth=0.4, alpha=0.4)
    return fig


def strip_figure(board: Board, width: float = COLUMN_WIDTH):
    """One panel per metric: per-item scores (dots), mean (large dot) and 95% CI (line) per results file."""
    from matplotlib.figure import Figure

    from leaderboard.svg import jitter

    cols = _metric_cols(board)
    n = len(board.rows)
    fig = Figure(figsize=(width, len(cols) * (0.2 * n + 0.45) + 0.1), layout="constrained")
    axes = fig.subplots(len(cols), 1, squeeze=False)[:, 0]
    for ax, col in zip(axes, cols):
        for i, row in enumerate(board.rows):
            color = model_color(i)
            items = row.item_values.get(col.key, [])
            if items:
                ax.scatter(items, [i + jitter(j, 0.22) for j in range(len(items))], s=2.5, color=color, alpha=0.35,
                           linewidths=0, rasterized=len(items) > 2000)
            cell = row.cell(col.key)
            if cell.value is not None:
                lo, hi = _ci_err(cell)
                ax.errorbar([cell.value], [i], xerr=[[lo], [hi]], fmt="o", color=color, markersize=3.5,
                            markeredgecolor="white", markeredgewidth=0.5, elinewidth=1.0, capsize=1.5)
        ax.set_yticks(range(n), labels=[_short(r.name) for r in board.rows])
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_title(col.heading, loc="left")
        ax.grid(axis="x", linewidth=0.4, alpha=0.4)
    return fig


def scene_distance_curve(doc: dict, seed: int = 0, n_resamples: int = 1000) -> dict[int, tuple[float, float, float, int]]:
    """``{d: (mean, lo, hi, n_items)}``: per scene distance ``d = |i - j|`` (1, 2, ...), the mean over items of
    each item's mean pair similarity at that distance, with a 95% percentile-bootstrap CI over items.

    >>> doc = {"items": {"a": {"details": {"consistency": {"scene_similarity": [[100, 80, 60], [80, 100, 70],
    ...                                                                        [60, 70, 100]]}}},
    ...                  "b": {"details": {"consistency": {"scene_similarity": [[100, 90], [90, 100]]}}}}}
    >>> curve = scene_distance_curve(doc)
    >>> curve[1][0], curve[1][3], curve[2][0], curve[2][3]
    (82.5, 2, 60.0, 1)
    """
    from metrics.bootstrap import bootstrap_ci

    per_d: dict[int, list[float]] = {}
    for rec in (doc.get("items") or {}).values():
        m = (((rec or {}).get("details") or {}).get("consistency") or {}).get("scene_similarity")
        if not isinstance(m, list) or len(m) < 2:
            continue
        a = np.asarray(m, dtype=np.float64)
        for d in range(1, a.shape[0]):
            per_d.setdefault(d, []).append(float(np.diagonal(a, offset=d).mean()))
    out = {}
    for d in sorted(per_d):
        vals = per_d[d]
        lo, hi = bootstrap_ci(vals, n_resamples=n_resamples, seed=seed, method="percentile")
        out[d] = (float(np.mean(vals)), lo, hi, len(vals))
    return out


def scene_distance_figure(loaded: list[tuple[str, dict]], names: list[str], width: float = COLUMN_WIDTH):
    """Mean scene-pair similarity against scene distance, one line per results file (95% CI bars)."""
    from matplotlib.figure import Figure

    curves = [scene_distance_curve(doc) for _, doc in loaded]
    empty = [path for (path, _), c in zip(loaded, curves) if not c]
    if empty:
        raise LeaderboardError(f"no scene-pair similarities in {', '.join(empty)}",
                               hint="these results were written before mvbench stored them "
                                    "(items.ITEM.details.consistency.scene_similarity): re-run `mvbench evaluate` "
                                    "with the consistency metrics (cached features make it fast)")
    fig = Figure(figsize=(width, width * 0.72), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    dmax = max(max(c) for c in curves)
    for i, (name, curve) in enumerate(zip(names, curves)):
        ds = sorted(curve)
        means = [curve[d][0] for d in ds]
        err = [[curve[d][0] - curve[d][1] for d in ds], [curve[d][2] - curve[d][0] for d in ds]]
        shift = (i - (len(curves) - 1) / 2) * 0.06  # keep error bars of different files apart
        ax.errorbar([d + shift for d in ds], means, yerr=err, color=model_color(i), marker="o", capsize=1.5,
                    elinewidth=0.7, label=_short(name))
    ax.set_xticks(range(1, dmax + 1))
    ax.set_xlabel("scene distance |i − j|")
    from leaderboard.report.model import consistency_unit

    units = {consistency_unit(doc) for _, doc in loaded}
    if len(units) > 1:
        raise LeaderboardError("these results mix consistency scales (×100 and raw cosines)",
                               hint="plot runs evaluated with the same --consistency-scale / --clip-protocol together")
    ax.set_ylabel("scene-pair similarity (cos)" if units == {"fraction"} else "scene-pair similarity (cos ×100)")
    ax.grid(axis="y", linewidth=0.4, alpha=0.4)
    ax.legend(loc="best", handlelength=1.5)
    return fig


def save_figure(fig, out: str | Path) -> Path:
    """Write ``fig`` at its own size in the format its suffix names (pdf, svg, eps: vector; png: 300 dpi),
    without timestamps or software versions (the same input gives the same file)."""
    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise LeaderboardError(f"--out {out}: unknown figure format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    meta = {"pdf": {"Creator": None, "Producer": None, "CreationDate": None},
            "svg": {"Creator": None, "Date": None}, "png": {"Software": None}, "eps": {"Creator": None}}[fmt]
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format=fmt, dpi=300, metadata=meta)  # the figure's own size: exactly the width asked for
    return out


def plot(paths, kind: str, out: str | Path, metrics: list[str] | None = None, width: float = COLUMN_WIDTH,
         allow_mixed: bool = False) -> Path:
    """Draw figure ``kind`` (:data:`KINDS`) of the results files ``paths`` and write it to ``out``."""
    import matplotlib

    if kind not in KINDS:
        raise LeaderboardError(f"unknown figure kind {kind!r}", hint=f"choose one of {', '.join(KINDS)}")
    with matplotlib.rc_context(PAPER_STYLE):
        board = runs_board(paths, metrics if kind != "scene-distance" else ["visual_consistency"], allow_mixed)
        if kind == "radar":
            fig = radar_figure(board, width)
        elif kind == "bars":
            fig = bars_figure(board, width)
        elif kind == "strip":
            fig = strip_figure(board, width)
        else:
            from leaderboard.board import load_many

            fig = scene_distance_figure(load_many(paths), [r.name for r in board.rows], width)
        return save_figure(fig, out)
