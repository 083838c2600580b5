"""The ``mvbench`` command. Each sub-command lives in its own module ``mvbench/cli/<name>.py``
exposing ``register(subparsers)``, which adds its parser and sets ``func(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import sys

from mvbench import __version__
from mvbench.errors import MvbenchError

#: sub-command modules, in the order ``mvbench --help`` lists them
COMMANDS: list[str] = [
    "demo",
    "evaluate",
    "validate",
    "weights",
    "import-vbench",
    "import-moviebench",
    "leaderboard",
    "compare",
    "fvd-stats",
    "generate",
    "meta-eval",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mvbench", description="Evaluate multi-scene long video generation."
    )
    parser.add_argument("--version", action="version", version=f"mvbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"mvbench.cli.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MvbenchError as exc:
        print(f"mvbench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted; finished work is cached and a re-run resumes", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
