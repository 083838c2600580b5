"""``mvbench evaluate``: score a submission folder on a suite and write a results file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mvbench.cli.common import add_run_arguments
from mvbench.results import check_writable, default_out_path, write_results
from mvbench.scorers import DEFAULT_METRICS, SCORERS, scorer_class


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="score a submission folder on a suite",
                       description="Score generated videos against a suite and write a results JSON file.")
    p.add_argument("--suite", required=True, help="bundled suite name (e.g. mvbench-3scene) or path to a suite JSON")
    p.add_argument("--videos", required=True, help="submission folder (ITEM/scene_K.mp4 or ITEM.mp4 + submission.json)")
    p.add_argument("--out", default=None, help="results JSON path (default results/MODEL__SUITE.json)")
    p.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                   help="comma-separated metric names (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% CIs (default %(default)s)")
    p.add_argument("--ci-method", choices=("percentile", "bca"), default="bca",
                   help="bootstrap interval of item means: bca (default) or percentile (docs/results.md)")
    p.add_argument("--limit", type=int, default=None, help="score only the first N items (smoke runs)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any item failed")
    p.add_argument("--encoder", default=None,
                   help="video-text encoder for consistency metrics (default viclip-l14; 'tiny' for offline tests)")
    add_run_arguments(p)
    for name in SCORERS:
        scorer_class(name).add_cli_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.report import metrics_table
    from mvbench.runner import run_evaluation
    from mvbench.submission import open_submission
    from mvbench.suite import load_suite

    suite = load_suite(args.suite)
    submission = open_submission(args.videos)
    out = Path(args.out) if args.out else default_out_path(submission.model, suite.name)
    check_writable(out)  # fail now, not after an hour of encoding
    options = {k: v for k, v in vars(args).items() if k not in {"func", "command", "suite", "videos", "out"}}
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    results = run_evaluation(suite, submission, metrics, options)
    if not results:  # non-zero rank of a distributed run
        return 0
    write_results(out, results)
    print(metrics_table(results))
    for w in results.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    print(f"results written to {out}")
    if args.strict and results["failures"]:
        print(f"--strict: {len(results['failures'])} item(s) failed", file=sys.stderr)
        return 1
    return 0
