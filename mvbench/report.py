"""Plain-text summary of a results file for the terminal."""

from __future__ import annotations


def _fmt(x: float | None, decimals: int = 2) -> str:
    return "-" if x is None else f"{x:.{decimals}f}"


def f_range(f) -> str:
    """The number of frame-level prompts F behind a Confusion Degree summary, as printed beside it:
    ``"3"``, ``"7-8"`` (min-max over items), or ``""`` when the summary has none. Accepts the
    ``{"min", "max", "mean"}`` of current results files and the list of distinct values of older ones.

    >>> f_range({"min": 7, "max": 8, "mean": 7.5}), f_range({"min": 3, "max": 3, "mean": 3}), f_range([3, 4])
    ('7-8', '3', '3-4')
    """
    if isinstance(f, dict) and f.get("min") is not None:
        lo, hi = int(f["min"]), int(f["max"])
    elif isinstance(f, (list, tuple)) and f:
        lo, hi = int(min(f)), int(max(f))
    else:
        return ""
    return str(lo) if lo == hi else f"{lo}-{hi}"


def metrics_table(results: dict) -> str:
    """The metric summaries as an aligned table: mean, 95% CI ``[lo, hi]``, std, n, direction and, for
    the Confusion Degree metrics, F (the number of frame-level prompts per item, which CD grows with)."""
    rows = [("metric", "mean", "95% CI", "std", "n", "F", "")]
    for name, m in results["metrics"].items():
        ci = m.get("ci95")
        arrow = "↑" if m.get("higher_is_better") else "↓"
        flag = " (unreliable)" if m.get("unreliable") else ""
        rows.append((name, _fmt(m.get("mean")), f"[{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else "-",
                     _fmt(m.get("std")), str(m.get("n", 0)), f_range(m.get("F")), arrow + flag))
    if not any(r[5] for r in rows[1:]):  # no Confusion Degree metric: no F column
        rows = [r[:5] + r[6:] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    head = f"{results['model']['name']} on {results['suite']['name']} v{results['suite']['version']}"
    out = [head, *lines]
    if not results.get("calibrated", True):
        out[0] += "  [UNCALIBRATED: not comparable with published numbers]"
        reasons = results.get("calibration") or {}
        out += [f"  uncalibrated {name}: {why}" for name, why in reasons.items()]
    n_fail = len(results.get("failures", {}))
    if n_fail:
        out.append(f"{n_fail} item(s) failed:")
        out += [f"  {i}: {f.get('file') or ''} {f['error']}" for i, f in results["failures"].items()]
    return "\n".join(out)
