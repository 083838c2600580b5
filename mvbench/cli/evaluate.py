"""``mvbench evaluate``: score a submission folder on a suite and write a results file."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mvbench.cli.common import add_scoring_arguments, metric_list, options_from_args, write_and_report


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="score a submission folder on a suite and write a results file",
        description="Score generated videos against a suite and write a results JSON file. Every problem "
                    "`mvbench validate` reports for an item fails that item here (recorded in the results file); "
                    "the other items are scored.",
        epilog="metrics: `mvbench list metrics` (default: visual_consistency, semantic_consistency, "
               "sequence_consistency)\nencoders: `mvbench list encoders`; paper protocols: `mvbench list protocols`")
    add_scoring_arguments(p, evaluate=True)
    p.add_argument("--out", default=None, metavar="PATH",
                   help="results JSON path (default: results/MODEL__SUITE.json; $MVBENCH_RESULTS sets the folder)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing results file written with a different configuration")
    p.add_argument("--strict", action="store_true", help="exit 1 if any item in scope failed")
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="score only part K of N (K = 0 .. N-1: items K, K+N, ...) and write partial results "
                        "(default --out: results/MODEL__SUITE.partK-of-N.json); combine the N parts with "
                        "`mvbench merge` (job arrays, see docs/scaling.md)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.results import check_output_path, default_out_path
    from mvbench.submission import open_submission
    from mvbench.suite import load_suite

    t0 = time.perf_counter()
    options = options_from_args(args)
    shard = None
    if args.shard is not None:
        from mvbench.shards import parse_shard

        shard = parse_shard(args.shard)
        options["shard"] = f"{shard[0]}/{shard[1]}"
    suite = load_suite(args.suite)
    submission = open_submission(args.videos)
    out = Path(args.out) if args.out else default_out_path(submission.model, suite.name)
    if shard is not None and not args.out:
        out = out.with_name(f"{out.stem}.part{shard[0]}-of-{shard[1]}.json")
    metrics = metric_list(args.metrics)

    from mvbench.runner import check_weights_present

    check_weights_present(metrics, options)  # before any heavy import: the first error comes fast

    from mvbench.runner import plan_run, run_config, run_evaluation

    plan = plan_run(suite, submission, metrics, options, progress=sys.stderr.isatty())
    if shard is not None:
        from mvbench.shards import check_partial_output

        check_partial_output(out, overwrite=args.overwrite, model=submission.describe(), suite=suite,
                             config=run_config(plan), shard=shard)
    else:
        check_output_path(out, overwrite=args.overwrite, model=submission.describe(), suite=suite,
                          config=run_config(plan))  # fail now, not after an hour of encoding
    results = run_evaluation(suite, submission, metrics, options, plan=plan)
    if not results:  # non-zero rank of a distributed run
        return 0
    if shard is not None:
        from mvbench.shards import write_partial

        write_partial(out, results)
        n_items = len(results["part"]["scores"])
        print(f"shard {shard[0]}/{shard[1]}: {n_items} item(s) scored, {len(results['part']['failures'])} failed; "
              f"partial results written to {out} ({time.perf_counter() - t0:.1f} s); combine all {shard[1]} "
              f"parts with `mvbench merge PARTS --out results.json`")
        return 1 if args.strict and results["part"]["failures"] else 0
    return write_and_report(out, results, f"results written to {out} ({time.perf_counter() - t0:.1f} s)",
                            args.strict)
