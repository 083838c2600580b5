"""Markdown summary of a :class:`~leaderboard.compare.Comparison`, for a CI log or a PR comment."""

from __future__ import annotations

from leaderboard.compare import Comparison, describe_runs, finite
from leaderboard.formatting import fmt, fmt_signed
from leaderboard.metric_info import metric_info

VERDICT = {0: "PASS", 1: "REGRESSION", 2: "INCOMPARABLE"}
INCOMPLETE = "INCOMPLETE"
STATUS = {"regression": "**regression**", "improved": "improved", "pass": "pass", "worse": "worse (no gate)",
          "same": "unchanged", "missing": "missing value",
          "noise": "pass (beyond the threshold, but the paired CI contains 0)"}


def _md(text: str) -> str:
    """Text for a Markdown table cell or list item: pipes escaped, one line (no HTML escaping: the
    summary is read in terminals and CI logs as well as rendered)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _summary(summary: dict, d: int) -> str:
    if finite(summary.get("mean")) is None:
        return "-" if summary.get("mean") is None else str(summary["mean"])
    ci = summary.get("ci95")
    return fmt(summary["mean"], d) + (f" [{fmt(ci[0], d)}, {fmt(ci[1], d)}]" if ci else "")


def render_comparison(cmp: Comparison) -> str:
    code = cmp.exit_code
    verdict = INCOMPLETE if cmp.incomplete and not cmp.incomparable else VERDICT[code]
    lines = [f"## mvbench compare: {verdict}", "", _md(describe_runs(cmp)), ""]
    if cmp.problems:
        head = "Compared anyway (--force), although:" if cmp.forced else "Not comparable:"
        lines += [head, ""] + [f"- {_md(p)}" for p in cmp.problems] + [""]
        if not cmp.forced:
            lines.append("Re-run both on the same suite, encoders and protocol, or pass --force.")
            return "\n".join(lines) + "\n"
    if cmp.incomplete:
        lines += [f"Not passed: {_md(cmp.incomplete_message)}.", ""]
    if cmp.gate_mode == "interval":
        lines += ["Gate mode `interval`: a gated metric fails only when its paired change is beyond the threshold "
                  "and its paired 95% CI excludes 0.", ""]
    lines += ["| Metric | Base [95% CI] | New [95% CI] | Δ new − base | paired Δ [95% CI] (items) | Gate | Result |",
              "| :-- | --: | --: | --: | --: | :-- | :-- |"]
    for m in cmp.metrics:
        info = metric_info(m.metric, m.higher_is_better)
        d = info.decimals
        arrow = "↑" if m.higher_is_better else "↓"
        delta = "-" if m.delta is None else fmt_signed(m.delta, d)
        paired = "-"
        if m.paired and m.paired.get("mean") is not None:
            lo, hi = m.paired["ci95"]
            paired = f"{fmt_signed(m.paired['mean'], d)} [{fmt_signed(lo, d)}, {fmt_signed(hi, d)}] ({m.paired['n']})"
        gate = "-" if m.gate is None else f"{m.gate[0]} {m.gate[1]:g}"
        if m.gate is not None and m.gated_on_interval:
            gate += " (paired, CI must exclude 0)"
        elif m.gate is not None and m.gated_on_paired:
            gate += " (paired)"
        lines.append(f"| {_md(m.metric)} {arrow} | {_summary(m.base, d)} | {_summary(m.new, d)} | {delta} | "
                     f"{paired} | {gate} | {STATUS[m.status]} |")
    if cmp.notes:
        lines += [""] + [f"- {_md(n)}" for n in cmp.notes]
    if cmp.regressions:
        lines += ["", "Regressions: " + ", ".join(m.metric for m in cmp.regressions)]
    return "\n".join(lines) + "\n"
