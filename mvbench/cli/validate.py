"""``mvbench validate``: check a submission's completeness and readability before spending GPU time."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("validate", help="check a submission folder against a suite (all problems at once)")
    p.add_argument("--suite", required=True, help="bundled suite name or path to a suite JSON")
    p.add_argument("--videos", required=True, help="submission folder")
    p.add_argument("--min-frames", type=int, default=16,
                   help="fewest frames a scene must have (default 16: FVD clips; ViCLIP samples 8)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.submission import BLOCKING, open_submission
    from mvbench.suite import load_suite

    suite = load_suite(args.suite)
    sub = open_submission(args.videos)
    res = sub.resolve(suite, exact=True, min_frames=args.min_frames)
    n_ok = len(res.items)
    print(f"{sub.model}: {n_ok}/{len(suite.items)} items of {suite.name} v{suite.version} ready "
          f"({len(res.infos)} files decoded)")
    for p in res.problems:
        tag = "error" if p.kind in BLOCKING or p.kind == "unknown_item" else "warning"
        print(f"{tag}: {p}")
    if res.problems:
        print(f"{len(res.problems)} problem(s) found")
        return 1
    print("ok: no problems found")
    return 0
