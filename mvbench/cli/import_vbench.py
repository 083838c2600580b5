"""``mvbench import-vbench``: turn a VBench-2.0 prompt file into an mvbench suite JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("import-vbench",
                       help="convert a VBench-2.0 prompt file (txt / meta-info JSON) into a suite JSON")
    p.add_argument("prompts", help="VBench-2.0 prompt file, e.g. prompts/prompt/Complex_Plot.txt or "
                                   "prompts/meta_info/Complex_Plot.json")
    p.add_argument("--out", required=True, help="suite JSON file to write")
    p.add_argument("--dimension", help="dimension name (default: the file name); filters JSON info files")
    p.add_argument("--frame-prompts", help="side file with frame-level prompts per prompt index or item id "
                                           "(schema mvbench.frame_prompts/1, see docs/confusion_degree.md)")
    p.add_argument("--aux-frame-prompts", action="store_true",
                   help="use a meta-info file's auxiliary_info sentences as frame-level prompts")
    p.add_argument("--name", help="suite name (default vbench2-<dimension>)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.atomic import atomic_write_text
    from mvbench.importers.vbench import load_vbench_suite
    from mvbench.suite import suite_to_dict

    suite = load_vbench_suite(args.prompts, dimension=args.dimension, frame_prompts=args.frame_prompts,
                              aux_as_frame_prompts=args.aux_frame_prompts, name=args.name)
    out = Path(args.out)
    atomic_write_text(out, json.dumps(suite_to_dict(suite), indent=2, ensure_ascii=False) + "\n")
    with_frames = sum(1 for it in suite.items if any(s.frame_prompts for s in it.scenes))
    print(f"wrote {out}: suite {suite.name} with {len(suite.items)} items "
          f"({with_frames} with frame-level prompts)")
    return 0
