"""``mvbench validate``: check a submission against a suite, under the options ``evaluate`` will use,
before spending GPU time. It reports exactly the problems that make ``evaluate`` fail or skip an item."""

from __future__ import annotations

import argparse
import os
import sys

from mvbench.cli.common import add_scoring_arguments, metric_list, options_from_args


def register(sub) -> None:
    p = sub.add_parser(
        "validate", help="check a submission folder against a suite (every problem at once)",
        description="Decode every file of the submission and report every problem at once: missing, "
                    "unreadable, truncated or too-short scenes, bad scene ranges, unknown items, fps or size "
                    "mismatches, items a metric cannot plan. Give the same --metrics and options you will "
                    "give `mvbench evaluate`: errors are what evaluate would fail; warnings are scored.")
    add_scoring_arguments(p, evaluate=False)
    p.add_argument("--min-frames", type=int, default=None,
                   help="override the fewest frames a scene must have (default: what the requested metrics "
                        "sample, e.g. 8 for ViCLIP clips, 16 for FVD clips)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.runner import plan_run
    from mvbench.submission import BLOCKING, open_submission
    from mvbench.suite import load_suite

    suite = load_suite(args.suite)
    sub = open_submission(args.videos)
    options = options_from_args(args)
    plan = plan_run(suite, sub, metric_list(args.metrics), options, exact=True, progress=sys.stderr.isatty(),
                    planning_only=True)
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun: every rank checked its share; rank 0 reports all
        return 0
    res = plan.resolution
    if args.min_frames is not None:
        from mvbench.submission import Problem

        for item_id, videos in list(res.items.items()):
            for k, ref in enumerate(videos.scenes, start=1):
                if ref.num_frames < args.min_frames:
                    p = Problem("too_few_frames", item_id, None,
                                f"scene {k} has {ref.num_frames} frame(s); --min-frames is {args.min_frames}")
                    res.problems.append(p)
                    plan.blocking.setdefault(item_id, p)
    ready = [i for i in plan.scope if i in res.items and i not in plan.blocking]
    scope = f"the first {len(plan.scope)} of {len(suite.items)}" if len(plan.scope) < len(suite.items) \
        else f"{len(suite.items)}"
    print(f"{sub.model}: {len(ready)}/{len(plan.scope)} items ready ({scope} items of {suite.name} "
          f"v{suite.version}; {len(res.infos)} files decoded)")
    n_err = len(plan.setup_errors)
    n_warn = 0
    for text in plan.setup_errors:
        print(f"error: [setup] {text}")
    for p in res.problems:
        is_error = p.kind in BLOCKING and p.item in plan.scope
        n_err += is_error
        n_warn += not is_error
        print(f"{'error' if is_error else 'warning'}: {p}")
    if n_err:
        effect = ("evaluate would stop before scoring (set-up errors)" if plan.setup_errors
                  else "evaluate would fail the items with errors")
        print(f"{n_err} error(s), {n_warn} warning(s): {effect}")
        return 1
    print(f"ok: no errors ({n_warn} warning(s))" if n_warn else "ok: no problems found")
    return 0
