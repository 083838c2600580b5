"""Small inline-SVG building blocks shared by the HTML leaderboard and the per-run report.

Everything is drawn with SVG presentation attributes (``fill=``, ``stroke=``), never ``style=``, so the
pages' Content-Security-Policy needs no inline-style exception for the charts; every text goes through
:func:`html.escape`.
"""

from __future__ import annotations

import math
from html import escape

#: one colour per model: Okabe-Ito (colour-blind safe) then Tableau's darker tones
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#8C6D31", "#000000",
           "#7B4173", "#637939", "#843C39", "#3182BD")
#: light to dark sequential ramp (ColorBrewer Blues end points) for heatmaps
RAMP = ((247, 251, 255), (8, 48, 107))


def model_color(index: int) -> str:
    """Colour of the ``index``-th model (cycles through :data:`PALETTE`).

    >>> model_color(0), model_color(len(PALETTE))
    ('#0072B2', '#0072B2')
    """
    return PALETTE[index % len(PALETTE)]


def ramp_color(t: float) -> str:
    """Colour at position ``t`` in [0, 1] of the light-to-dark ramp (clamped).

    >>> ramp_color(0.0), ramp_color(1.0), ramp_color(2.0)
    ('#f7fbff', '#08306b', '#08306b')
    """
    t = min(1.0, max(0.0, t))
    rgb = [round(a + (b - a) * t) for a, b in zip(*RAMP)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]`` (steps of 1, 2 or 5 times a power of ten).

    >>> nice_ticks(0.0, 1.0)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    >>> nice_ticks(47.3, 52.1)
    [47.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    k = 0
    while True:
        t = start + k * step
        ticks.append(round(t, 10))
        if t >= hi - 1e-12:
            break
        k += 1
    return ticks


def tick_text(value: float, ticks: list[float]) -> str:
    """``value`` with as many decimals as the tick step needs.

    >>> tick_text(0.2, [0.0, 0.2, 0.4]), tick_text(50.0, [40.0, 50.0])
    ('0.2', '50')
    """
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    return f"{value:.{decimals}f}"


def text(x: float, y: float, label: str, *, anchor: str = "start", size: int = 11, fill: str = "#333",
         weight: str | None = None, extra: str = "") -> str:
    """An escaped ``<text>`` element."""
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{bold}{extra}>'
            f"{escape(label)}</text>")


def title(label: str) -> str:
    """A hover tooltip (an SVG ``<title>`` child), escaped."""
    return f"<title>{escape(label)}</title>"


def jitter(i: int, spread: float) -> float:
    """Deterministic offset in ``[-spread, spread]`` for the ``i``-th point of a strip plot (golden-ratio
    sequence: points spread evenly, the same on every render).

    >>> jitter(0, 5.0), round(jitter(1, 5.0), 3)
    (-5.0, 1.18)
    """
    frac = (i * 0.6180339887498949) % 1.0
    return (2 * frac - 1) * spread
