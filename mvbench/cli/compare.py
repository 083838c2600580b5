"""``mvbench compare``: the regression gate between two results files (exit 0 pass, 1 regression,
2 incomparable, incomplete new run or bad input), with a Markdown summary for CI logs and
pull-request comments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="compare two results files; exit 1 on a regression beyond the thresholds",
        description="Per-metric differences between two results files with CIs, gated by thresholds. "
                    "Exit code: 0 pass, 1 regression, 2 incomparable, new run failed items the base scored "
                    "(see --allow-failures) or bad input.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  mvbench compare results/base.json results/new.json "
               "--max-drop sequence_consistency=0.5 --max-rise fvd=10\n"
               "  mvbench compare results/base.json results/new.json --max-drop sequence_consistency=0.5 "
               "--gate-mode interval")
    p.add_argument("base", help="results file of the reference run")
    p.add_argument("new", help="results file of the run under test")
    p.add_argument("--max-drop", action="append", metavar="METRIC=X", default=[],
                   help="fail when a higher-is-better metric drops by more than X (repeatable, or comma-separated)")
    p.add_argument("--max-rise", action="append", metavar="METRIC=X", default=[],
                   help="fail when a lower-is-better metric rises by more than X (repeatable, or comma-separated)")
    p.add_argument("--force", action="store_true", help="compare even if suites, encoders or protocols differ")
    p.add_argument("--allow-failures", action="store_true",
                   help="when the new run failed items the base scored, gate on the paired mean over the items "
                        "both runs scored instead of refusing (exit 2)")
    p.add_argument("--gate-mode", choices=("point", "interval"), default="point",
                   help="point (default): fail when the change of the means is beyond the threshold; interval: "
                        "fail only when the paired change is beyond the threshold AND its paired bootstrap 95%% CI "
                        "excludes 0 (see docs/leaderboard.md)")
    p.add_argument("--ci-method", choices=("percentile", "bca"), default=None,
                   help="bootstrap method of the paired intervals (default: bca)")
    p.add_argument("--out", metavar="PATH", help="also write the Markdown summary to this file")
    p.set_defaults(func=run)


def _split(values: list[str]) -> list[str]:
    return [part for value in values for part in value.split(",") if part.strip()]


def run(args) -> int:
    from leaderboard.compare import compare_results, parse_thresholds
    from leaderboard.compare_report import render_comparison
    from leaderboard.results_input import read_results

    max_drop = parse_thresholds(_split(args.max_drop), "--max-drop")
    max_rise = parse_thresholds(_split(args.max_rise), "--max-rise")
    base, new = read_results(args.base), read_results(args.new)
    cmp = compare_results(base, new, args.base, args.new, max_drop=max_drop, max_rise=max_rise, force=args.force,
                          allow_failures=args.allow_failures, gate_mode=args.gate_mode, ci_method=args.ci_method)
    text = render_comparison(cmp)
    sys.stdout.write(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    if cmp.incomplete and not cmp.incomparable:
        print(f"mvbench compare: error: {cmp.incomplete_message}", file=sys.stderr)
    return cmp.exit_code
