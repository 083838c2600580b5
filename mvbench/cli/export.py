"""``mvbench export RESULTS... --format csv|jsonl|parquet``: results files as tables for pandas,
spreadsheets and dashboards."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser(
        "export", help="write results files as a CSV, JSON Lines or Parquet table",
        description="Write the per-item scores (one row per item x metric, with the suite's prompts when the "
                    "suite is found) or the metric summaries (one row per metric) of one or more results files "
                    "as a table. `mvbench.export.read_table` (or pandas) reads it back into the same table.",
        epilog="example:\n  mvbench export results/mymodel.json --format parquet\n"
               "  mvbench export results/*.json --table metrics --out all_metrics.csv")
    p.add_argument("results", nargs="+", help="results file(s) written by `mvbench evaluate`")
    p.add_argument("--format", choices=("csv", "jsonl", "parquet"), default=None,
                   help="table format (default: from --out's suffix, else csv); parquet needs the [parquet] extra")
    p.add_argument("--table", choices=("items", "metrics"), default="items",
                   help="items: one row per item x metric; metrics: one row per metric")
    p.add_argument("--suite", default="auto", metavar="SUITE",
                   help="suite name or file for the prompt columns; 'auto' (default) uses the suite recorded in the "
                        "results when found with the same content hash; 'none' leaves prompts out")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="output file (default: the results file with the format's suffix; required for several files)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.errors import MvbenchError
    from mvbench.export import format_of, write_table

    fmt = args.format or (format_of(args.out) if args.out else "csv")
    if args.out:
        out = Path(args.out)
    elif len(args.results) == 1:
        out = Path(args.results[0]).with_suffix("." + fmt)
    else:
        raise MvbenchError("--out is required when exporting several results files")
    suite = None if args.suite == "none" else args.suite
    from leaderboard.results_frame import results_frame

    frame = results_frame(args.results, table=args.table, suite=suite)
    if len(args.results) == 1:
        frame = frame.drop(columns="source")
    write_table(frame, out, fmt)
    print(f"{len(frame)} row(s) written to {out}")
    return 0
