"""``mvbench validate``: check a submission's completeness and readability before spending GPU time."""

from __future__ import annotations

import argparse
import sys

from mvbench.scorers import DEFAULT_METRICS, expand_metric_names, scorers_for_metrics

#: frames sampled per clip by the default protocols (ViCLIP clips; I3D / VideoMAE-v2 FVD clips)
VICLIP_FRAMES = 8
FVD_CLIP_FRAMES = 16


def register(sub) -> None:
    p = sub.add_parser("validate", help="check a submission folder against a suite (all problems at once)")
    p.add_argument("--suite", required=True, help="bundled suite name or path to a suite JSON")
    p.add_argument("--videos", required=True, help="submission folder")
    p.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                   help="metrics you will evaluate; they set how many frames a scene needs (default: %(default)s)")
    p.add_argument("--min-frames", type=int, default=None,
                   help="fewest frames a scene must have (default: 16 if an FVD metric is asked for, else 8, "
                        "the ViCLIP clip length)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.submission import BLOCKING, open_submission
    from mvbench.suite import load_suite

    suite = load_suite(args.suite)
    sub = open_submission(args.videos)
    metrics = expand_metric_names([m.strip() for m in args.metrics.split(",") if m.strip()])
    scorers_for_metrics(metrics)  # unknown names fail here, with the list of known ones
    min_frames = args.min_frames or (FVD_CLIP_FRAMES if any(m.startswith("fvd") for m in metrics) else VICLIP_FRAMES)
    res = sub.resolve(suite, exact=True, min_frames=min_frames, progress=sys.stderr.isatty())
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
