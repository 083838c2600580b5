"""Inline-SVG charts of the per-run report: the scene-pair heatmap and the per-metric strip of item scores."""

from __future__ import annotations

from leaderboard.svg import jitter, nice_ticks, ramp_color, text, tick_text, title


def heatmap_svg(matrix: list[list[float | None]], lo: float, hi: float, *, label: str = "scene",
                caption: str = "", cell: int = 30, decimals: int = 1, diagonal: bool = False) -> str:
    """An ``n x n`` heatmap, light (``lo``) to dark (``hi``), values printed in the cells; the diagonal is
    drawn grey and left blank unless ``diagonal``. Rows and columns are labelled ``label`` 1..n."""
    n = len(matrix)
    pad_left, pad_top = 22, 18
    width, height = pad_left + n * cell + 2, pad_top + n * cell + 2
    out = [f'<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">', title(caption or f"{label} x {label}")]
    for j in range(n):
        out.append(text(pad_left + (j + 0.5) * cell, pad_top - 5, str(j + 1), anchor="middle", size=10, fill="#666"))
    for i in range(n):
        out.append(text(pad_left - 5, pad_top + (i + 0.5) * cell + 3.5, str(i + 1), anchor="end", size=10, fill="#666"))
        for j in range(n):
            x, y = pad_left + j * cell, pad_top + i * cell
            v = matrix[i][j]
            if (i == j and not diagonal) or v is None:
                out.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="#eeeeee"/>')
                continue
            t = 0.5 if hi <= lo else (v - lo) / (hi - lo)
            fill = ramp_color(t)
            ink = "#ffffff" if t > 0.55 else "#222222"
            out.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{fill}">'
                       f"{title(f'{label}s {i + 1} and {j + 1}: {v:.{decimals + 2}f}')}</rect>")
            out.append(text(x + (cell - 1) / 2, y + cell / 2 + 3, f"{v:.{decimals}f}", anchor="middle", size=9,
                            fill=ink))
    out.append("</svg>")
    return "".join(out)


def item_strip_svg(values: list[float], mean: float | None, ci: tuple[float, float] | None, *,
                   width: int = 240, height: int = 34, decimals: int = 2) -> str:
    """Per-item values of one metric as dots on a line, with the mean (tick) and its 95% CI (band)."""
    points = [v for v in values if v is not None]
    span = points + ([mean] if mean is not None else []) + (list(ci) if ci else [])
    if not span:
        return ""
    ticks = nice_ticks(min(span), max(span), 3)
    lo, hi = ticks[0], ticks[-1]
    left, right, mid = 4, width - 4, 12

    def x(v: float) -> float:
        return left + (right - left) * (0.5 if hi <= lo else (v - lo) / (hi - lo))

    out = [f'<svg class="strip" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">',
           title(f"{len(points)} item scores; mean and 95% CI"),
           f'<line x1="{left}" y1="{mid}" x2="{right}" y2="{mid}" stroke="#ddd"/>']
    if ci:
        out.append(f'<rect x="{x(ci[0]):.1f}" y="{mid - 7}" width="{max(1.0, x(ci[1]) - x(ci[0])):.1f}" height="14" '
                   f'fill="#0072B2" fill-opacity="0.18">{title(f"95% CI [{ci[0]:.{decimals}f}, {ci[1]:.{decimals}f}]")}'
                   "</rect>")
    for i, v in enumerate(points):
        out.append(f'<circle cx="{x(v):.1f}" cy="{mid + jitter(i, 4):.1f}" r="2" fill="#333" fill-opacity="0.55"/>')
    if mean is not None:
        out.append(f'<line x1="{x(mean):.1f}" y1="{mid - 9}" x2="{x(mean):.1f}" y2="{mid + 9}" stroke="#0072B2" '
                   f'stroke-width="2">{title(f"mean {mean:.{decimals}f}")}</line>')
    for t in (lo, hi):
        out.append(text(x(t), height - 2, tick_text(t, ticks), anchor="start" if t == lo else "end", size=9,
                        fill="#888"))
    out.append("</svg>")
    return "".join(out)


def bars_svg(values: list[float | None], *, labels: list[str], width: int = 220, decimals: int = 3,
             color: str = "#D55E00") -> str:
    """Horizontal bars from 0 for small per-prompt values (Confusion Degree CD_i), values printed."""
    finite = [abs(v) for v in values if v is not None]
    top = max(finite) if finite and max(finite) > 0 else 1.0
    row = 16
    height = row * len(values) + 4
    left = 40
    out = [f'<svg class="bars" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">']
    for i, (v, lab) in enumerate(zip(values, labels)):
        y = 2 + i * row
        out.append(text(left - 4, y + 11, lab, anchor="end", size=10, fill="#666"))
        if v is None:
            out.append(text(left + 2, y + 11, "-", size=10, fill="#999"))
            continue
        w = (width - left - 50) * abs(v) / top
        out.append(f'<rect x="{left}" y="{y + 2}" width="{max(w, 0.5):.1f}" height="{row - 5}" fill="{color}"/>')
        out.append(text(left + w + 4, y + 11, f"{v:.{decimals}f}", size=10))
    out.append("</svg>")
    return "".join(out)
