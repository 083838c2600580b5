"""``mvbench import FORMAT SOURCE --out suite.json``: outside prompt and annotation formats -> a suite file.

Formats: ``vbench`` (VBench-2.0 prompt files), ``moviebench`` (MovieBench shot annotations, character
banks, its data split), ``activitynet`` (ActivityNet Captions), ``coref-sv`` (Coref-SV stories). The
older ``import-vbench`` and ``import-moviebench`` commands are aliases of the first two.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path


def _write(doc: dict, out: str | Path, extra: str = "") -> Path:
    """Validate and write a suite document; print one summary line."""
    from mvbench.atomic import atomic_write_text
    from mvbench.suite import parse_suite

    suite = parse_suite(doc, source=str(out))
    out = Path(out)
    atomic_write_text(out, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    n_scenes = sum(len(it.scenes) for it in suite.items)
    with_entities = sum(1 for it in suite.items if any(s.entities for s in it.scenes))
    print(f"wrote {out}: suite {suite.name} with {len(suite.items)} items{extra}, {n_scenes} scenes, "
          f"{with_entities} items with entities")
    return out


def _add_common(p: argparse.ArgumentParser, default_name: str | None = None) -> None:
    p.add_argument("--out", required=True, help="suite JSON file to write")
    p.add_argument("--name", default=default_name,
                   help="suite name" + (f" (default: {default_name})" if default_name else ""))


# ------------------------------------------------------------------ vbench
def add_vbench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("prompts", help="VBench-2.0 prompt file, e.g. prompts/prompt/Complex_Plot.txt or "
                                   "prompts/meta_info/Complex_Plot.json")
    _add_common(p)
    p.add_argument("--dimension", help="dimension name (default: the file name); filters JSON info files")
    p.add_argument("--frame-prompts", help="side file with frame-level prompts per prompt index or item id "
                                           "(schema mvbench.frame_prompts/1, see docs/confusion_degree.md)")
    p.add_argument("--aux-frame-prompts", action="store_true",
                   help="use a meta-info file's auxiliary_info sentences as frame-level prompts")


def run_vbench(args: argparse.Namespace) -> int:
    from mvbench.importers.vbench import load_vbench_suite
    from mvbench.suite import suite_to_dict

    suite = load_vbench_suite(args.prompts, dimension=args.dimension, frame_prompts=args.frame_prompts,
                              aux_as_frame_prompts=args.aux_frame_prompts, name=args.name)
    with_frames = sum(1 for it in suite.items if any(s.frame_prompts for s in it.scenes))
    _write(suite_to_dict(suite), args.out, f" ({with_frames} with frame-level prompts)")
    return 0


# ------------------------------------------------------------------ moviebench
def add_moviebench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("annotations", help="folder of shot annotation files (one sub-folder per movie, or flat), "
                                       "e.g. Annotation_Shot_Desc_11.15_V2_160movies")
    _add_common(p, "moviebench")
    p.add_argument("--bank", default=None, help="character bank root (one sub-folder per movie)")
    p.add_argument("--movies", default=None, help="comma-separated movie folder names to keep (default: all)")
    p.add_argument("--split", default=None, metavar="DATA_SPLIT_JSON",
                   help="MovieBench's data_split.json: keep the movies of --split-name")
    p.add_argument("--split-name", default="Test", help="split of --split to keep (default: %(default)s)")
    p.add_argument("--prompt-fields", default="Plot",
                   help="annotation fields joined into each scene prompt (default: %(default)s)")
    p.add_argument("--link-videos", default=None, metavar="DIR",
                   help="generated shot videos named like the annotations (DIR/MOVIE/SHOT.mp4): lay them out "
                        "as a submission folder next to --out")


def run_moviebench(args: argparse.Namespace) -> int:
    from mvbench.importers.moviebench import link_submission, load_moviebench, read_split

    movies = [m.strip() for m in args.movies.split(",") if m.strip()] if args.movies else None
    if args.split:
        in_split = read_split(args.split, args.split_name)
        movies = [m for m in in_split if movies is None or m in movies]
    fields = tuple(f.strip() for f in args.prompt_fields.split(",") if f.strip())
    doc = load_moviebench(args.annotations, args.bank, suite_name=args.name, movies=movies, prompt_fields=fields)
    n_portraits = sum(1 for it in doc["items"] for c in it["characters"].values() if isinstance(c, dict))
    out = _write(doc, args.out, f" ({n_portraits} characters with portraits)")
    if args.link_videos:
        sub = out.with_suffix("").with_name(out.stem + "_submission")
        link_submission(doc, args.link_videos, sub)
        print(f"submission folder: {sub}")
    return 0


# ------------------------------------------------------------------ activitynet
def add_activitynet_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("annotations", help="ActivityNet Captions file, e.g. val_1.json")
    _add_common(p)
    p.add_argument("--ids", default=None, help="keep these videos: a JSON list (val_ids.json) or one id per line")
    p.add_argument("--sample", type=int, default=None, metavar="N",
                   help="keep N videos drawn at random (VideoStudio / VideoDirectorGPT use 165 of the validation "
                        "split; their draw is not published)")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample (default: %(default)s)")
    p.add_argument("--entities", default=None, metavar="JSON", help="entity side file (see docs/suites.md)")
    p.add_argument("--subject-parser", default=None, metavar="SPACY_MODEL",
                   help="entity = subject of the first caption, found by this spaCy pipeline (e.g. en_core_web_sm, "
                        "as VideoDirectorGPT); needs spaCy installed")


def run_activitynet(args: argparse.Namespace) -> int:
    from mvbench.importers.activitynet import load_activitynet, load_spacy, read_id_list
    from mvbench.importers.entities import apply_entities, read_entity_file

    ids = read_id_list(args.ids) if args.ids else None
    nlp = load_spacy(args.subject_parser) if args.subject_parser else None
    doc = load_activitynet(args.annotations, name=args.name, ids=ids, sample=args.sample, seed=args.seed,
                           subject_nlp=nlp)
    if args.entities:
        apply_entities(doc, read_entity_file(args.entities), args.entities)
    _write(doc, args.out)
    return 0


# ------------------------------------------------------------------ coref-sv
def add_coref_sv_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stories", help="Coref-SV stories JSON (layout in docs/suites.md)")
    _add_common(p)
    p.add_argument("--oracle", action="store_true",
                   help="use each story's oracle_scenes (pronouns replaced by the entity) as the prompts")


def run_coref_sv(args: argparse.Namespace) -> int:
    from mvbench.importers.coref_sv import load_coref_sv

    _write(load_coref_sv(args.stories, name=args.name, oracle=args.oracle), args.out)
    return 0


#: format -> (help, add-arguments, run)
FORMATS: dict[str, tuple[str, Callable, Callable]] = {
    "vbench": ("VBench-2.0 prompt files (txt / meta-info JSON / full-text info JSON)", add_vbench_arguments,
               run_vbench),
    "moviebench": ("MovieBench shot annotations, character banks and data split", add_moviebench_arguments,
                   run_moviebench),
    "activitynet": ("ActivityNet Captions (event captions as scenes; VideoStudio Table 4)",
                    add_activitynet_arguments, run_activitynet),
    "coref-sv": ("Coref-SV stories (VideoStudio Table 5)", add_coref_sv_arguments, run_coref_sv),
}


def add_format_parser(sub, command: str, fmt: str, help_text: str | None = None) -> argparse.ArgumentParser:
    """Add ``command`` (a format of ``mvbench import``, or an alias command) for format ``fmt``."""
    desc, add, run = FORMATS[fmt]
    p = sub.add_parser(command, help=help_text or desc, description=f"Convert {desc} into an mvbench suite JSON.")
    add(p)
    p.set_defaults(func=run, import_format=fmt)
    return p


def register(sub) -> None:
    p = sub.add_parser("import", help="convert an outside prompt or annotation format into a suite JSON",
                       description="Convert the evaluation sets of other benchmarks and papers into mvbench suites "
                                   "(files you already have; nothing is downloaded). See docs/suites.md.")
    fsub = p.add_subparsers(dest="format", metavar="FORMAT", required=True)
    for fmt in FORMATS:
        add_format_parser(fsub, fmt, fmt)
