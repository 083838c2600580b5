"""Plain-text summary of a results file for the terminal."""

from __future__ import annotations


def _fmt(x: float | None, decimals: int = 2) -> str:
    return "-" if x is None else f"{x:.{decimals}f}"


def metrics_table(results: dict) -> str:
    rows = [("metric", "mean", "95% CI", "std", "n", "")]
    for name, m in results["metrics"].items():
        ci = m.get("ci95")
        arrow = "↑" if m.get("higher_is_better") else "↓"
        flag = " (unreliable)" if m.get("unreliable") else ""
        rows.append((name, _fmt(m.get("mean")), f"[{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else "-",
                     _fmt(m.get("std")), str(m.get("n", 0)), arrow + flag))
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
