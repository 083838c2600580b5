"""``mvbench fvd-stats``: reference statistics (.npz) of real videos for FVD / content-debiased FVD."""

from __future__ import annotations

import argparse
import sys

from mvbench.cli.common import add_run_arguments


def register(sub) -> None:
    p = sub.add_parser(
        "fvd-stats", help="build FVD (or frame FID) reference statistics from a folder of real videos",
        description="Encode the first clip of every video under --videos (.mp4 .avi .mov .webm .mkv, recursively) "
                    "and write the sufficient statistics (count, sum, sum of outer products) with the extractor, "
                    "its weights hash and the clip protocol. Use the file with `mvbench evaluate --fvd-reference`. "
                    "With --extractor inception-fid or inception-moviebench it encodes frames instead (reference for "
                    "`mvbench evaluate --fid-reference`, metrics fid and fid_per_frame). "
                    "With --merge, add up existing files (shards) instead.")
    p.add_argument("--videos", help="folder of real videos (searched recursively)")
    p.add_argument("--extractor", default="i3d-k400",
                   help="i3d-k400 (alias i3d), i3d-torchscript, videomae-v2-g (alias videomae); for frame FID: "
                        "inception-fid (pytorch-fid protocol) or inception-moviebench; default %(default)s")
    p.add_argument("--stride", type=int, default=1, help="take every S-th frame for the clips (default 1)")
    p.add_argument("--frames", type=int, default=None,
                   help="frame extractors: frames per video (as --fid-frames of evaluate; default 16, 25 for "
                        "inception-moviebench)")
    p.add_argument("--resize", type=int, default=None, metavar="R",
                   help="frame extractors: resize frames to R x R first (as --fid-resize of evaluate)")
    p.add_argument("--fvd-resize", choices=("antialias", "plain"), default="antialias",
                   help="video extractors: antialiased bilinear (default) or plain bilinear as the content-debiased-FVD "
                        "package (must match the --fvd-resize of the runs that use the file)")
    p.add_argument("--merge", nargs="+", metavar="NPZ", help="merge these reference files instead of encoding videos")
    p.add_argument("--out", required=True, help="output .npz path")
    add_run_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.errors import MvbenchError
    from mvbench.fvd_reference import (
        FRAME_EXTRACTORS,
        compute_frame_reference,
        compute_reference,
        merge_references,
        save_reference,
    )

    if bool(args.videos) == bool(args.merge):
        raise MvbenchError("give either --videos DIR or --merge FILE.npz ...", hint="see `mvbench fvd-stats --help`")
    if args.merge:
        ref = merge_references(args.merge)
    else:
        options = {k: getattr(args, k) for k in ("device", "batch_size", "num_workers", "cache_dir", "no_cache",
                                                  "progress")}

        def warn(msg: str) -> None:
            print(f"warning: {msg}", file=sys.stderr)

        if args.extractor in FRAME_EXTRACTORS:
            ref = compute_frame_reference(args.videos, args.extractor, args.frames, args.resize, options, log=warn)
        else:
            if args.frames is not None or args.resize is not None:
                raise MvbenchError("--frames and --resize apply to the frame extractors only",
                                   hint="inception-fid or inception-moviebench")
            ref = compute_reference(args.videos, args.extractor, args.stride, options, log=warn,
                                    resize=args.fvd_resize)
    save_reference(args.out, ref)
    unit = "frames" if ref.protocol.get("unit") == "frame" else "clips"
    metric = "FID" if unit == "frames" else "FVD"
    print(f"{ref.stats.count} {unit}, {ref.stats.dim}-d {ref.extractor} features -> {args.out}")
    if ref.stats.count <= ref.stats.dim:
        print(f"warning: fewer {unit} than feature dimensions + 1 ({ref.stats.dim + 1}); {metric} against this "
              "reference will be flagged unreliable (see docs/fvd.md)", file=sys.stderr)
    return 0
