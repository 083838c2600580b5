"""``mvbench merge``: combine the partial results of ``mvbench evaluate --shard K/N`` jobs into one results
file, with exactly the numbers a single run gives."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "merge", help="combine the partial results of `evaluate --shard K/N` jobs into one results file",
        description="Combine the N partial results files of a run split with `mvbench evaluate --shard K/N` "
                    "(every part 0..N-1 exactly once, same suite, videos, metrics and options) into the results "
                    "file a single run would have written: same metrics, confidence intervals (FVD included), "
                    "per-item scores and failures.",
        epilog="example: mvbench merge results/mymodel__mvbench-3scene.part*-of-8.json --out results/mymodel.json")
    p.add_argument("parts", nargs="+", metavar="PART", help="partial results files (shell globs welcome)")
    p.add_argument("--out", required=True, metavar="PATH", help="results JSON path to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file at --out")
    p.add_argument("--strict", action="store_true", help="exit 1 if any item in scope failed")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.cli.common import write_and_report
    from mvbench.errors import MvbenchError
    from mvbench.results import check_writable
    from mvbench.shards import merge_partials

    out = Path(args.out)
    check_writable(out)
    if out.exists() and not args.overwrite:
        raise MvbenchError(f"{out} exists; refusing to replace it", hint="pass --overwrite, or another --out")
    results = merge_partials(args.parts)
    return write_and_report(out, results, f"merged {results['runtime']['shards']} parts into {out}", args.strict)
