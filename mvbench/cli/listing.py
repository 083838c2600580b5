"""``mvbench list metrics|encoders|suites|weights|protocols``: what this installation can evaluate."""

from __future__ import annotations

import argparse

KINDS = ("metrics", "encoders", "suites", "weights", "protocols")


def register(sub) -> None:
    p = sub.add_parser("list", help="list metrics, encoders, suites, weights or protocols",
                       description="List what mvbench can evaluate with: metric names for --metrics (with "
                                   "their scorer and direction), encoders for --encoder, bundled suites, "
                                   "registered weight files and paper protocols.")
    p.add_argument("kind", choices=KINDS, help="what to list: " + ", ".join(KINDS))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench import catalog

    rows = getattr(catalog, f"list_{args.kind}")()
    if not rows:
        print(f"no {args.kind} available")
        return 0
    width = max(len(r[0]) for r in rows) + 2
    for name, text in rows:
        print(f"{name:{width}s}{text}")
    return 0
