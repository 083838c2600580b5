"""``mvbench leaderboard``: results files and/or a published paper table → a table or HTML page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leaderboard.formatting import CI_STYLES
from leaderboard.render import FORMATS


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "leaderboard", help="results files / paper tables -> Markdown, LaTeX, CSV or HTML",
        description="Build a leaderboard from results files, render a published paper table, or put measured "
                    "rows beside a paper table (with deltas, in the paper's units). Under a paper table: "
                    "which columns mvbench computes (metric, preset, scale), which are human studies or not "
                    "reproducible, and the paper's own inconsistencies.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  mvbench leaderboard results/*.json --format html --out board.html --plots plots/\n"
               "  mvbench leaderboard results/*.json --format html --out board.html --reports reports/\n"
               "  mvbench leaderboard --paper mask2dit:table1 --format latex\n"
               "  mvbench leaderboard --paper mask2dit:table1 results/*.json\n"
               "  mvbench leaderboard --list-papers")
    p.add_argument("results", nargs="*", help="results JSON files written by `mvbench evaluate`")
    p.add_argument("--paper", metavar="PAPER:TABLE", help="a published table, e.g. mask2dit:table1 (see --list-papers)")
    p.add_argument("--format", choices=FORMATS, default="markdown")
    p.add_argument("--out", metavar="PATH", help="write here instead of standard output")
    p.add_argument("--metrics", metavar="M1,M2", help="metric columns and their order (results-only tables)")
    p.add_argument("--sort", metavar="METRIC",
                   help="sort rows best-first by this metric; 'none' keeps the input order "
                        "(default: first metric for results tables, the paper's order for paper tables)")
    p.add_argument("--ci", choices=CI_STYLES, default="pm", help="show the 95%% CI as ± half-width or [lo, hi]")
    p.add_argument("--allow-mixed", action="store_true", help="allow rows from different suites (the table says so)")
    p.add_argument("--reference", metavar="ROW",
                   help="published row (name, full label or #N, the N-th published row) that the deltas of measured "
                        "rows refer to when no single published row has their name")
    p.add_argument("--plots", metavar="DIR", help="also write per-metric bar charts and a comparison figure (PNG+PDF)")
    p.add_argument("--title", help="table title (results-only tables)")
    p.add_argument("--reports", metavar="DIR",
                   help="HTML: link each measured row to its `mvbench report` page DIR/<results file stem>.html")
    p.add_argument("--list-papers", action="store_true", help="list the shipped paper tables and exit")
    p.add_argument("--check-papers", action="store_true",
                   help="recompute derived columns and cross-check numbers printed twice in every shipped "
                        "table; report disagreements")
    p.set_defaults(func=run)


def _list_papers() -> int:
    from leaderboard.paper_tables import list_paper_tables, load_paper_table

    for table_id in list_paper_tables():
        print(f"{table_id:22s} {load_paper_table(table_id).title}")
    return 0


def _check_papers() -> int:
    from leaderboard.cross_check import all_cross_checks
    from leaderboard.derived_check import check_derived_columns
    from leaderboard.paper_tables import list_paper_tables, load_paper_table

    found = [d for t in list_paper_tables() for d in check_derived_columns(load_paper_table(t))]
    for d in found:
        print(f"disagreement: {d}")
    checks = all_cross_checks()
    for result in checks:
        print(f"{'agreement' if result.ok else 'disagreement'}: {result}")
    bad = sum(not r.ok for r in checks)
    print(f"{bad} of {len(checks)} cross-check(s) find numbers the papers print twice differently")
    print(f"{len(found)} row(s) where a paper's derived column disagrees with its inputs beyond rounding")
    return 0


def run(args) -> int:
    from leaderboard.board import add_measured_rows, board_from_paper, board_from_results, sort_rows
    from leaderboard.errors import LeaderboardError
    from leaderboard.paper_tables import load_paper_table
    from leaderboard.render import render

    if args.list_papers:
        return _list_papers()
    if args.check_papers:
        return _check_papers()
    sort = None if (args.sort or "").lower() == "none" else args.sort
    if args.paper:
        from leaderboard.board import load_many
        from leaderboard.paper_notes import describe_paper_board

        table = load_paper_table(args.paper)
        board = board_from_paper(table)
        if args.results:
            board = add_measured_rows(board, table, args.results, allow_mixed=args.allow_mixed,
                                      reference=args.reference)
        describe_paper_board(board, table, load_many(args.results) if args.results else [])
        if sort:
            sort_rows(board, sort)
    else:
        if not args.results:
            raise LeaderboardError("give results files or --paper PAPER:TABLE",
                                   hint="mvbench leaderboard results/*.json  |  mvbench leaderboard --list-papers")
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
        board = board_from_results(args.results, metrics=metrics, allow_mixed=args.allow_mixed,
                                   sort="auto" if args.sort is None else sort,
                                   title=args.title or "mvbench leaderboard")
    if args.reports:
        from leaderboard.report_links import attach_reports

        for missing in attach_reports(board, args.reports, args.out):
            print(f"note: no report for {missing} in {args.reports} (mvbench report {missing} --out "
                  f"{args.reports}/{Path(missing).stem}.html)", file=sys.stderr)
    text = render(board, args.format, args.ci)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.plots:
        from leaderboard.plots import write_plots

        for path in write_plots(board, args.plots):
            print(f"wrote {path}", file=sys.stderr)
    return 0
