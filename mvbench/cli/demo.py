"""``mvbench demo``: offline, self-contained run of the main job on the bundled demo suite."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("demo", help="render a small synthetic submission, score it with the tiny encoder, print a table and write "
                       "a report")
    p.add_argument("--workdir", default="mvbench-demo", help="where the videos, cache and results go (default %(default)s)")
    p.add_argument("--frames", type=int, default=16, help="frames per rendered scene")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.demo import render_submission
    from mvbench.report import metrics_table
    from mvbench.results import write_results
    from mvbench.runner import run_evaluation
    from mvbench.submission import open_submission
    from mvbench.suite import load_suite

    t0 = time.perf_counter()
    work = Path(args.workdir)
    suite = load_suite("mvbench-demo")
    videos = render_submission(suite, work / "videos", n_frames=args.frames)
    print(f"rendered {len(suite.items)} items x 3 scenes into {videos}")
    results = run_evaluation(suite, open_submission(videos), None,
                             {"encoder": "tiny", "cache_dir": str(work / "cache"), "device": "cpu"})
    out = write_results(work / "results.json", results)
    print(metrics_table(results))
    print("\nper item:")
    for item_id, rec in results["items"].items():
        s = rec["scores"]
        print(f"  {item_id:32s} visual {s['visual_consistency']:7.2f}  semantic {s['semantic_consistency']:7.2f}")
    print(f"\nresults written to {out} ({time.perf_counter() - t0:.1f} s)")
    from leaderboard.report import build_report

    report = build_report(out, work / "report.html", videos=videos)
    print(f"report written to {report.path} (open it in a browser: keyframes, per-scene scores, scene pairs)")
    print("Next: mvbench evaluate --suite mvbench-3scene --videos YOUR_RUN --out results/yours.json")
    return 0
