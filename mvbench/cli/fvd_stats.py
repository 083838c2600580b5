"""``mvbench fvd-stats``: reference statistics (.npz) of real videos for FVD / content-debiased FVD."""

from __future__ import annotations

import argparse
import sys

from mvbench.cli.common import add_run_arguments


def register(sub) -> None:
    p = sub.add_parser(
        "fvd-stats", help="build FVD reference statistics from a folder of real videos",
        description="Encode the first clip of every video under --videos (.mp4 .avi .mov .webm .mkv, recursively) "
                    "and write the sufficient statistics (count, sum, sum of outer products) with the extractor, "
                    "its weights hash and the clip protocol. Use the file with `mvbench evaluate --fvd-reference`. "
                    "With --merge, add up existing files (shards) instead.")
    p.add_argument("--videos", help="folder of real videos (searched recursively)")
    p.add_argument("--extractor", default="i3d-k400",
                   help="i3d-k400 (alias i3d), i3d-torchscript, videomae-v2-g (alias videomae); default %(default)s")
    p.add_argument("--stride", type=int, default=1, help="take every S-th frame for the clips (default 1)")
    p.add_argument("--resize", choices=("antialias", "plain"), default="antialias",
                   help="frame resizing: antialiased bilinear (default) or plain bilinear as the content-debiased-FVD "
                        "package (must match the --fvd-resize of the runs that use the file)")
    p.add_argument("--merge", nargs="+", metavar="NPZ", help="merge these reference files instead of encoding videos")
    p.add_argument("--out", required=True, help="output .npz path")
    add_run_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.errors import MvbenchError
    from mvbench.fvd_reference import compute_reference, merge_references, save_reference

    if bool(args.videos) == bool(args.merge):
        raise MvbenchError("give either --videos DIR or --merge FILE.npz ...", hint="see `mvbench fvd-stats --help`")
    if args.merge:
        ref = merge_references(args.merge)
    else:
        options = {k: getattr(args, k) for k in ("device", "batch_size", "num_workers", "cache_dir", "no_cache",
                                                  "progress")}
        ref = compute_reference(args.videos, args.extractor, args.stride, options,
                                log=lambda msg: print(f"warning: {msg}", file=sys.stderr), resize=args.resize)
    save_reference(args.out, ref)
    print(f"{ref.stats.count} clips, {ref.stats.dim}-d {ref.extractor} features -> {args.out}")
    if ref.stats.count <= ref.stats.dim:
        print(f"warning: fewer clips than feature dimensions + 1 ({ref.stats.dim + 1}); FVD against this "
              "reference will be flagged unreliable (see docs/fvd.md)", file=sys.stderr)
    return 0
