"""``mvbench plot``: results files -> one paper figure (radar, bars, strip or scene-distance) with matplotlib."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "plot", help="results files -> paper figures (radar, bars, strip, scene-distance) with matplotlib",
        description="Draw one figure from results files, one colour per file, sized for one column of a paper "
                    "(3.3 in wide, 7 pt text; PDF/SVG/EPS are vector, PNG is 300 dpi). radar: metrics normalised "
                    "over the files shown (centre = worst, rim = best); bars: means with their 95% CI; strip: "
                    "every per-item score, mean and 95% CI; scene-distance: scene-pair similarity against the "
                    "distance |i - j| between scenes, from the pair matrices stored per item.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  mvbench plot results/*.json --kind radar --out fig/radar.pdf\n"
               "  mvbench plot results/*.json --kind strip --metrics visual_consistency,semantic_consistency "
               "--out fig/strip.pdf\n"
               "  mvbench plot results/*.json --kind scene-distance --out fig/scene_distance.pdf")
    p.add_argument("results", nargs="+", help="results JSON files written by `mvbench evaluate` (one colour each)")
    p.add_argument("--kind", required=True, choices=("radar", "bars", "strip", "scene-distance"), help="figure to draw")
    p.add_argument("--out", required=True, metavar="PATH", help="figure file: .pdf, .svg, .eps or .png")
    p.add_argument("--metrics", metavar="M1,M2", help="metrics and their order (default: all the files have)")
    p.add_argument("--width", type=float, default=3.3, help="figure width in inches (3.3: one column; 6.9: two)")
    p.add_argument("--allow-mixed", action="store_true", help="allow results of different suites")
    p.set_defaults(func=run)


def run(args) -> int:
    from leaderboard.figures import plot
    from mvbench.errors import MvbenchError

    if not 1.0 <= args.width <= 20.0:
        raise MvbenchError(f"--width {args.width} is not a figure width in inches (1 to 20)")
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    out = plot(args.results, args.kind, args.out, metrics=metrics, width=args.width, allow_mixed=args.allow_mixed)
    print(f"wrote {out}")
    return 0
