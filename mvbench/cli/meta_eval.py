"""``mvbench meta-eval character-id``: do the character-ID metrics move the right way on real faces?

Builds multi-scene videos from real photographs available offline (installed packages, or
``--photos DIR``), perturbs the casting (swap, missing, extra, stranger), scores every case with the
real face pipeline and prints expected vs measured precision, recall, F1 and similarity. Exits 1 when
a metric moves the wrong way. See :mod:`mvbench.faces.meta_eval` and docs/character_id.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("meta-eval", help="check that metrics move the right way on controlled real content")
    msub = p.add_subparsers(dest="meta_eval_command", metavar="METRIC_FAMILY", required=True)
    c = msub.add_parser(
        "character-id", help="character-ID metrics on real face photographs (offline; needs the [face] extra)",
        description="Build multi-scene videos from real face photographs, perturb the casting and check that "
                    "id_precision, id_recall, id_f1 and character_similarity move the expected way.")
    c.add_argument("--photos", default=None, metavar="DIR",
                   help="your photographs: DIR/NAME.jpg (each face a person) or DIR/NAME/*.jpg (one person); "
                        "default: photographs shipped by installed packages")
    c.add_argument("--sources", default=None,
                   help="bundled photographs to use, comma-separated (default: all installed: astronaut, "
                        "grace_hopper, insightface_t1)")
    c.add_argument("--cast", default=None, help="comma-separated people in the bank (default: the first --n-cast found)")
    c.add_argument("--strangers", default=None, help="comma-separated people in no bank (default: everyone else)")
    c.add_argument("--n-cast", type=int, default=4, help="cast size when --cast is not given (2-4, default 4)")
    c.add_argument("--frames", type=int, default=8, help="frames per scene video (default 8)")
    c.add_argument("--seed", type=int, default=0, help="augmentation seed (default 0)")
    c.add_argument("--keep", default=None, metavar="DIR",
                   help="write the suite, bank and submission here and keep them (default: a temporary folder)")
    c.add_argument("--json", default=None, metavar="PATH", help="also write the table and set-up as JSON")
    g = c.add_argument_group("face pipeline (as for mvbench evaluate)")
    g.add_argument("--face-model", default="Dlib", help="DeepFace recognition model (default Dlib: offline weights)")
    g.add_argument("--face-detector", default="dlib", help="DeepFace frame detector (default dlib)")
    g.add_argument("--face-crop-detector", default=None, help="detector inside each face crop (default: as evaluate)")
    g.add_argument("--face-distance", default=None, help="face distance (default euclidean_l2)")
    g.add_argument("--face-threshold", type=float, default=None, help="match threshold (default DeepFace's)")
    g.add_argument("--face-min-confidence", type=float, default=None, help="detection confidence filter")
    g.add_argument("--id-protocol", default=None, choices=("mvbench", "moviebench"), help="default mvbench")
    g.add_argument("--id-frames", type=int, default=None, help="frames sampled per shot (default 5)")
    c.set_defaults(func=run_character_id)


def _num(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def run_character_id(args: argparse.Namespace) -> int:
    from mvbench.faces.deepface_backend import DeepFaceBackend, DeepFaceOptions
    from mvbench.faces.meta_eval import format_table, run_meta_eval

    t0 = time.perf_counter()
    given = {"model": args.face_model, "detector": args.face_detector, "crop_detector": args.face_crop_detector,
             "distance": args.face_distance, "threshold": args.face_threshold}
    backend = DeepFaceBackend(DeepFaceOptions(**{k: v for k, v in given.items() if v is not None}))
    options = {k: v for k, v in {"id_protocol": args.id_protocol, "id_frames": args.id_frames,
                                  "face_min_confidence": args.face_min_confidence}.items() if v is not None}
    with tempfile.TemporaryDirectory(prefix="mvbench-meta-eval-") as tmp:
        out = Path(args.keep) if args.keep else Path(tmp)
        res = run_meta_eval(backend, out, photos=args.photos, sources=_names(args.sources), cast=_names(args.cast),
                            strangers=_names(args.strangers), n_cast=args.n_cast, n_frames=args.frames,
                            seed=args.seed, options=options)
    tier = res.backend.get("tier", {})
    print(f"face pipeline: {res.backend.get('model')} / {res.backend.get('detector')} "
          f"(crop {res.backend.get('crop_detector')}, {res.backend.get('distance')} <= {res.backend.get('threshold')}); "
          f"{tier.get('note', '')}")
    print(f"photographs: {', '.join(res.sources)}")
    for name, how in res.missing_sources.items():
        print(f"  not installed: {name} ({how})")
    print(f"cast (banked): {', '.join(res.plan.cast)}; strangers: {', '.join(res.plan.strangers) or 'none'}")
    print("script: " + "  ".join(f"[{', '.join(s)}]" for s in res.plan.script))
    for r in res.rows:
        print(f"  {r['case']:9s} {r['description']}")
    print()
    print(format_table(res.rows))
    print("\nP, R, F1 x100 (exp: a perfect recogniser); similarity: cosine, (<) lower than correct casting expected, "
          "(=) unchanged within 0.02")
    mg = res.margins
    if mg.get("faces"):
        print(f"face distances ({mg['faces']} faces): recognised <= {_num(mg['recognised_max'])}, "
              f"unrecognised >= {_num(mg['unrecognised_min'])}, threshold {mg['threshold']}")
    if args.keep:
        print(f"\nkept in {args.keep}: suite.json, bank/, submission/ (score them with mvbench evaluate, "
              "see docs/character_id.md)")
    if args.json:
        Path(args.json).write_text(json.dumps(res.as_dict(), indent=1))
        print(f"written {args.json}")
    bad = res.violations
    for v in bad:
        print(f"WRONG WAY: {v}", file=sys.stderr)
    print(f"{'FAILED' if bad else 'ok'}: {len(bad)} metric(s) moved the wrong way ({time.perf_counter() - t0:.1f} s)")
    return 1 if bad else 0
