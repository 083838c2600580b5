"""``mvbench report``: one results file -> a self-contained HTML page to look at a run item by item."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="one results file -> a self-contained HTML report with keyframes per scene",
        description="Write one HTML page about a run: the summary with 95% intervals [lo, hi]; a sortable, "
                    "filterable, paginated table of items; per item the keyframes of every scene (the frames the "
                    "consistency clips were made of), the per-scene semantic scores, the scene-pair similarity "
                    "heatmap, Confusion Degree per prompt, character-ID matches per shot, warnings and failures. "
                    "Nothing is loaded from the network when the page is opened.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  mvbench report results/mymodel.json --videos runs/mymodel --out reports/mymodel.html\n"
               "  mvbench report results/mymodel.json            # no keyframes; writes results/mymodel.html")
    p.add_argument("results", help="results JSON file written by `mvbench evaluate`")
    p.add_argument("--videos", metavar="DIR", help="the submission folder that was evaluated (for keyframes)")
    p.add_argument("--out", metavar="PATH", help="HTML file to write (default: the results path with .html)")
    p.add_argument("--suite", metavar="SUITE",
                   help="suite for the prompts (default: the one the results name; bundled name or JSON path)")
    p.add_argument("--thumb-height", type=int, default=64, help="keyframe thumbnail height in pixels")
    p.add_argument("--page-size", type=int, default=25, help="items per page of the item table")
    p.add_argument("--workers", type=int, default=4, help="threads decoding keyframes")
    p.set_defaults(func=run)


def run(args) -> int:
    from leaderboard.report import build_report
    from mvbench.errors import MvbenchError

    if args.thumb_height < 8 or args.page_size < 1:
        raise MvbenchError("--thumb-height must be >= 8 and --page-size >= 1")
    if args.videos is not None and not Path(args.videos).is_dir():
        raise MvbenchError(f"--videos {args.videos} is not a folder",
                           hint="pass the submission folder that `mvbench evaluate --videos` scored")
    out = Path(args.out) if args.out else Path(args.results).with_suffix(".html")
    info = build_report(args.results, out, videos=args.videos, suite=args.suite, thumb_height=args.thumb_height,
                        page_size=args.page_size, workers=args.workers)
    for note in info.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"report written to {info.path} ({info.items} items, {info.scenes_with_keyframes} scenes with keyframes, "
          f"{info.seconds:.1f} s)")
    return 0
