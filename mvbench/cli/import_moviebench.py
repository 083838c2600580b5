"""``mvbench import-moviebench``: MovieBench shot annotations (+ character banks) -> an mvbench suite file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "import-moviebench", help="build a suite from MovieBench shot annotations and character banks",
        description="Read MovieBench shot-level annotation files (MOVIE/MOVIE_HH.MM.SS.mmm-HH.MM.SS.mmm.json) "
                    "and, optionally, character bank folders (BANK/MOVIE/NAME.jpg or BANK/MOVIE/ACTOR-NAME/*.jpg) "
                    "into an mvbench suite: one item per movie, its shots in time order as scenes.")
    p.add_argument("annotations", help="folder of shot annotation files (one sub-folder per movie, or flat)")
    p.add_argument("--bank", default=None, help="character bank root (one sub-folder per movie)")
    p.add_argument("--out", required=True, help="suite JSON file to write")
    p.add_argument("--name", default="moviebench", help="suite name (default: %(default)s)")
    p.add_argument("--movies", default=None, help="comma-separated movie folder names to keep (default: all)")
    p.add_argument("--prompt-fields", default="Plot",
                   help="annotation fields joined into each scene prompt (default: %(default)s)")
    p.add_argument("--link-videos", default=None, metavar="DIR",
                   help="generated shot videos named like the annotations (DIR/MOVIE/SHOT.mp4): lay them out "
                        "as a submission folder next to --out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mvbench.atomic import atomic_write_text
    from mvbench.importers.moviebench import link_submission, load_moviebench

    movies = [m.strip() for m in args.movies.split(",") if m.strip()] if args.movies else None
    fields = tuple(f.strip() for f in args.prompt_fields.split(",") if f.strip())
    doc = load_moviebench(args.annotations, args.bank, suite_name=args.name, movies=movies, prompt_fields=fields)
    out = Path(args.out)
    atomic_write_text(out, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    n_shots = sum(len(it["scenes"]) for it in doc["items"])
    n_portraits = sum(1 for it in doc["items"] for c in it["characters"].values() if isinstance(c, dict))
    print(f"wrote {out}: {len(doc['items'])} movie(s), {n_shots} shot(s), {n_portraits} character(s) with portraits")
    if args.link_videos:
        sub = out.with_suffix("").with_name(out.stem + "_submission")
        link_submission(doc, args.link_videos, sub)
        print(f"submission folder: {sub}")
    return 0
