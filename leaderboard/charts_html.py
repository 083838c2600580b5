"""Inline-SVG charts of the HTML leaderboard, one colour per model (row):

- a radar chart over the board's metric columns, each normalised over the rows shown (the rule is
  :data:`RADAR_NORMALISATION`, printed under the chart);
- per metric, a strip plot: every per-item score of a measured row as a dot, its mean and its 95% CI
  drawn as it is (asymmetric intervals stay asymmetric); published rows show their mean and, where
  the paper prints one, ± std.
"""

from __future__ import annotations

import math
from html import escape

from leaderboard.board import Board, Column
from leaderboard.svg import jitter, model_color, nice_ticks, text, tick_text, title

RADAR_NORMALISATION = (
    "Radar: each axis is one metric rescaled over the rows of this table, r = (v − worst) / (best − worst): "
    "the centre is the worst value shown and the rim the best (for ↓ metrics the lowest value is the best, so "
    "outward is always better; all rows equal: r = 1). A row without a value on an axis has no point there and "
    "its outline is broken. The scale is relative to these rows: adding or removing a row can move the others.")

#: page styles of the charts and the row markers (added to the leaderboard page's stylesheet)
CHART_STYLE = """
svg.sw{vertical-align:-1px}.badge{font-size:11px;padding:1px 6px;border-radius:8px;margin-left:4px}
.badge.published{background:#eeeeee;color:#555;border:1px solid #bbb}.badge.measured{background:#dceaf7;color:#0b4a7d}
tr.published td{color:#555}tr.published td a{color:#444}a.report{font-size:12px;margin-left:6px}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:6px 0}.charts{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
figure{margin:6px 0}figure.radar figcaption,.chart-note{color:#555;font-size:12px;max-width:560px}
"""

#: rows drawn in the radar (more would be unreadable); the table lists them all
RADAR_MAX_ROWS = 12
LABEL_CHARS = 26


def row_colors(board: Board) -> list[str]:
    """One colour per row, in board order."""
    return [model_color(i) for i in range(len(board.rows))]


def swatch(color: str, dashed: bool = False) -> str:
    """A small coloured marker for a model's name (hollow for published rows)."""
    if dashed:
        return (f'<svg class="sw" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true"><circle cx="6" cy="6" '
                f'r="4.5" fill="#ffffff" stroke="{color}" stroke-width="2"/></svg>')
    return (f'<svg class="sw" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true"><circle cx="6" cy="6" '
            f'r="5.5" fill="{color}"/></svg>')


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"


def radar_columns(board: Board) -> list[Column]:
    """Number columns with a direction and a value in at least two rows."""
    out = []
    for col in board.number_columns:
        if col.higher_is_better is None:
            continue
        if sum(r.cell(col.key).value is not None for r in board.rows) >= 2:
            out.append(col)
    return out


def radar_scores(board: Board, cols: list[Column]) -> list[dict[str, float]]:
    """Per row, column -> r in [0, 1] (see :data:`RADAR_NORMALISATION`); missing values are absent."""
    bounds = {}
    for col in cols:
        vals = [r.cell(col.key).value for r in board.rows if r.cell(col.key).value is not None]
        best, worst = (max(vals), min(vals)) if col.higher_is_better else (min(vals), max(vals))
        bounds[col.key] = (best, worst)
    out = []
    for row in board.rows:
        got = {}
        for col in cols:
            v = row.cell(col.key).value
            if v is None:
                continue
            best, worst = bounds[col.key]
            got[col.key] = 1.0 if best == worst else (v - worst) / (best - worst)
        out.append(got)
    return out


def radar_svg(board: Board, colors: list[str], width: int = 560, height: int = 380) -> str:
    """The radar chart, or "" when fewer than 3 metric columns can be drawn."""
    cols = radar_columns(board)
    if len(cols) < 3:
        return ""
    scores = radar_scores(board, cols)
    cx, cy = width / 2, height / 2
    radius = height / 2 - 40
    k = len(cols)

    def point(i: int, r: float) -> tuple[float, float]:
        a = -math.pi / 2 + 2 * math.pi * i / k
        return cx + r * radius * math.cos(a), cy + r * radius * math.sin(a)

    out = [f'<svg class="radar" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">', title("radar chart of the normalised metrics")]
    for ring in (0.25, 0.5, 0.75, 1.0):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(k)))
        out.append(f'<polygon points="{pts}" fill="none" stroke="#dddddd"/>')
    for i, col in enumerate(cols):
        x, y = point(i, 1.0)
        out.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#dddddd"/>')
        lx, ly = point(i, 1.1)
        anchor = "middle" if abs(lx - cx) < 8 else ("start" if lx > cx else "end")
        out.append(text(lx, ly + 4, _short(col.heading), anchor=anchor, size=11, fill="#333"))
    for row, color, got in list(zip(board.rows, colors, scores))[:RADAR_MAX_ROWS]:
        if not got:
            continue
        dash = ' stroke-dasharray="5 3"' if row.published else ""
        tip = title(row.name + ": " + ", ".join(f"{c.label} r={got[c.key]:.2f}" for c in cols if c.key in got))
        pts = [point(i, got[c.key]) if c.key in got else None for i, c in enumerate(cols)]
        if all(p is not None for p in pts):
            poly = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(f'<polygon class="model" points="{poly}" fill="{color}" fill-opacity="0.04" stroke="{color}" '
                       f'stroke-width="2"{dash}>{tip}</polygon>')
        else:
            for i in range(k):
                a, b = pts[i], pts[(i + 1) % k]
                if a is not None and b is not None:
                    out.append(f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" '
                               f'stroke="{color}" stroke-width="2"{dash}/>')
        for p in pts:
            if p is not None:
                out.append(f'<circle cx="{p[0]:.1f}" cy="{p[1]:.1f}" r="3" fill="{color}">{tip}</circle>')
    out.append("</svg>")
    return "".join(out)


def _interval(cell) -> tuple[float, float] | None:
    if cell.ci95 is not None:
        return float(cell.ci95[0]), float(cell.ci95[1])
    if cell.std is not None and cell.value is not None:
        return cell.value - cell.std, cell.value + cell.std
    return None


def strip_svg(board: Board, col: Column, colors: list[str], width: int = 560) -> str:
    """Per-item scores (dots), mean (large dot) and 95% CI (whisker, as it is) of every row, for one column."""
    rows = [(r, c) for r, c in zip(board.rows, colors) if r.cell(col.key).value is not None or r.item_values.get(col.key)]
    if not rows:
        return ""
    span: list[float] = []
    for r, _ in rows:
        cell = r.cell(col.key)
        span += r.item_values.get(col.key, [])
        span += [cell.value] if cell.value is not None else []
        span += list(_interval(cell) or ())
    ticks = nice_ticks(min(span), max(span), 6)
    lo, hi = ticks[0], ticks[-1]
    left, right, lane, top = 190, width - 16, 24, 26
    height = top + lane * len(rows) + 28

    def x(v: float) -> float:
        return left + (right - left) * (0.5 if hi <= lo else (v - lo) / (hi - lo))

    out = [f'<svg class="strip" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">', title(f"{col.heading}: per-item scores, mean and 95% CI"),
           text(8, 16, col.heading, size=13, weight="600", fill="#222")]
    axis_y = top + lane * len(rows) + 4
    for t in ticks:
        out.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{axis_y}" stroke="#eeeeee"/>')
        out.append(text(x(t), axis_y + 14, tick_text(t, ticks), anchor="middle", size=10, fill="#777"))
    for n, (row, color) in enumerate(rows):
        cy = top + lane * n + lane / 2
        cell = row.cell(col.key)
        out.append(text(left - 10, cy + 4, _short(row.name), anchor="end", size=11,
                        fill="#666" if row.published else "#222"))
        for i, v in enumerate(row.item_values.get(col.key, [])):
            out.append(f'<circle cx="{x(v):.1f}" cy="{cy + jitter(i, 6):.1f}" r="2.2" fill="{color}" '
                       'fill-opacity="0.35"/>')
        interval = _interval(cell)
        dash = ' stroke-dasharray="4 3"' if cell.ci95 is None else ""
        if interval is not None:
            a, b = x(interval[0]), x(interval[1])
            out.append(f'<line x1="{a:.1f}" y1="{cy:.1f}" x2="{b:.1f}" y2="{cy:.1f}" stroke="{color}" '
                       f'stroke-width="2"{dash}/>')
            for end in (a, b):
                out.append(f'<line x1="{end:.1f}" y1="{cy - 5:.1f}" x2="{end:.1f}" y2="{cy + 5:.1f}" stroke="{color}" '
                           'stroke-width="2"/>')
        if cell.value is not None:
            d = col.decimals
            what = f"{row.name}: {cell.value:.{d}f}"
            if cell.ci95 is not None:
                what += f", 95% CI [{cell.ci95[0]:.{d}f}, {cell.ci95[1]:.{d}f}]"
            elif cell.std is not None:
                what += f" ± {cell.std:.{d}f} (std, as published)"
            if row.item_values.get(col.key):
                what += f", {len(row.item_values[col.key])} items"
            fill = "#ffffff" if row.published else color
            out.append(f'<circle cx="{x(cell.value):.1f}" cy="{cy:.1f}" r="5" fill="{fill}" stroke="{color}" '
                       f'stroke-width="2">{title(what)}</circle>')
    out.append("</svg>")
    return "".join(out)


def charts_section(board: Board, colors: list[str]) -> list[str]:
    """The charts part of the leaderboard page: legend, radar (with its normalisation) and strip plots."""
    cols = [c for c in board.number_columns
            if any(r.cell(c.key).value is not None or r.item_values.get(c.key) for r in board.rows)]
    if not cols:
        return []
    out = ['<h2>Charts</h2><div class="legend">']
    for row, color in zip(board.rows, colors):
        kind = "published" if row.published else "measured"
        out.append(f'<span class="legend-item {kind}">{swatch(color, row.published)} {escape(row.name)}</span>')
    out.append("</div>")
    radar = radar_svg(board, colors)
    out.append('<div class="charts">')
    if radar:
        extra = f" Only the first {RADAR_MAX_ROWS} rows are drawn." if len(board.rows) > RADAR_MAX_ROWS else ""
        out.append(f'<figure class="radar">{radar}<figcaption>{escape(RADAR_NORMALISATION + extra)}</figcaption></figure>')
    for col in cols:
        svg = strip_svg(board, col, colors)
        if svg:
            out.append(f'<figure class="strip">{svg}</figure>')
    out.append("</div>")
    out.append('<p class="chart-note">Strip plots: small dots are per-item scores of measured runs, the large dot is '
               "the mean and the whisker its 95% bootstrap CI, drawn as it is (asymmetric where the interval is); "
               "hollow dots with dashed whiskers are published means ± the std the paper prints.</p>")
    return out
