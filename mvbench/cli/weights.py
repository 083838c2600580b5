"""``mvbench weights list | fetch NAME | import NAME PATH | verify [NAME]``."""

from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser("weights", help="list, download, import or verify pretrained weight files")
    wsub = p.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    wsub.add_parser("list", help="registered weights and whether they are present").set_defaults(func=run_list)
    f = wsub.add_parser("fetch", help="download a weight file into the cache (Hub files through huggingface_hub)",
                        description="Download a registered weight file (with a progress bar) and check its size and, "
                                    "where published, its sha256. Files hosted on the Hugging Face Hub go through "
                                    "huggingface_hub: an existing HF cache is reused, HF_ENDPOINT, HF_TOKEN and "
                                    "HF_HUB_OFFLINE are honoured.")
    f.add_argument("name", help="registered entry (see `mvbench weights list`)")
    f.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    f.set_defaults(func=run_fetch)
    i = wsub.add_parser("import", help="adopt a file you already have (copied into the cache)")
    i.add_argument("name", help="registered entry the file is for (see `mvbench weights list`)")
    i.add_argument("path", help="the weight file you already have")
    i.add_argument("--link", action="store_true", help="symlink instead of copying")
    i.set_defaults(func=run_import)
    v = wsub.add_parser("verify", help="check files against their registered sha256 (exit 1 if any is "
                                       "missing or differs)")
    v.add_argument("name", nargs="?", help="one entry (default: every registered entry)")
    v.set_defaults(func=run_verify)


def _register_dynamic(name: str | None) -> None:
    """``clip:ARCH:TAG`` entries are registered on demand from open_clip's pretrained table."""
    if name and name.startswith("clip:"):
        from mvbench.encoders.openclip import register_openclip_weights

        register_openclip_weights(name)


def run_list(args: argparse.Namespace) -> int:
    import textwrap

    from mvbench.weights import REGISTRY, mvbench_home, weight_path

    print(f"cache: {mvbench_home()}")
    width = max(len(n) for n in REGISTRY) + 2
    print(f"{'NAME':{width}s}{'STATUS':9s}{'SIZE':>9s}  FILE")
    for name, spec in sorted(REGISTRY.items()):
        present = "present" if weight_path(name).is_file() else "missing"
        size = f"{spec.size / 1e6:.0f} MB" if spec.size else "?"
        print(f"{name:{width}s}{present:9s}{size:>9s}  {spec.filename}")
        if spec.description:
            print(textwrap.fill(spec.description, width=100, initial_indent="    ", subsequent_indent="    "))
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    _register_dynamic(args.name)
    from mvbench.weights import fetch_report

    report = fetch_report(args.name, progress=args.progress)
    origin = {"present": "", "hub-cache": " from the Hugging Face cache", "hub": " from the Hugging Face Hub",
              "url": ""}[report.source]
    print(f"{args.name}: {report.path}{origin} ({report.verified})")
    return 0


def run_import(args: argparse.Namespace) -> int:
    _register_dynamic(args.name)
    from mvbench.weights import import_file

    print(f"{args.name}: imported to {import_file(args.name, args.path, link=args.link)}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    _register_dynamic(args.name)
    from mvbench.weights import REGISTRY, verify

    names = [args.name] if args.name else sorted(REGISTRY)
    bad = 0
    for name in names:
        r = verify(name)
        print(f"{name:20s} {r.status:10s} {r.path}" + (f"  sha256={r.sha256}" if r.sha256 else ""))
        bad += r.status in ("MISMATCH", "missing")
    if bad:
        print(f"{bad} of {len(names)} weight file(s) missing or not matching; fetch or import them "
              "(`mvbench weights fetch NAME`, `mvbench weights import NAME PATH`)", file=sys.stderr)
    return 1 if bad else 0
