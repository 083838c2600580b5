"""The ``mvbench`` command. Each sub-command lives in its own module ``mvbench/cli/<name>.py``
exposing ``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.

Only the invoked sub-command's module is imported (the others appear in ``mvbench --help`` from
:data:`COMMANDS`), so ``mvbench --help`` and early input errors come back without loading torch.
Every sub-command's help ends with its exit codes (:data:`EXIT_CODES`) and shows option defaults.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from mvbench import __version__
from mvbench.errors import MvbenchError

#: sub-command -> one-line help, in the order ``mvbench --help`` lists them
COMMANDS: dict[str, str] = {
    "demo": "render a small synthetic submission, score it with the tiny encoder, print a table and write a report",
    "evaluate": "score a submission folder on a suite and write a results file",
    "validate": "check a submission folder against a suite (every problem at once)",
    "list": "list metrics, encoders, suites, weights or protocols",
    "weights": "list, download, import or verify pretrained weight files",
    "import": "convert another benchmark's prompts or annotations into a suite (vbench, moviebench, "
              "activitynet, coref-sv)",
    "import-vbench": "convert a VBench-2.0 prompt file into a suite (same as `mvbench import vbench`)",
    "import-moviebench": "convert MovieBench annotations into a suite (same as `mvbench import moviebench`)",
    "leaderboard": "render results files and published paper tables",
    "merge": "combine the partial results of `evaluate --shard K/N` jobs into one results file",
    "report": "one results file -> a self-contained HTML report with keyframes per scene",
    "plot": "results files -> paper figures (radar, bars, strip, scene-distance) with matplotlib",
    "compare": "compare two results files; exit 1 on a regression beyond the thresholds",
    "export": "write results files as a CSV, JSON Lines or Parquet table",
    "fvd-stats": "compute FVD reference statistics of real videos",
    "generate": "generate a submission for a suite with a baseline model",
    "meta-eval": "check that metrics move the right way on controlled real content (character-id)",
}

_COMMON_EXIT = {"0": "success", "2": "bad input or set-up (the message says what to fix)",
                "130": "interrupted (finished work is kept)"}

#: exit codes per sub-command (added to each sub-command's --help)
EXIT_CODES: dict[str, dict[str, str]] = {
    "evaluate": {"0": "results written (items that failed are recorded in the file)",
                 "1": "--strict and at least one item failed",
                 "2": "bad input or set-up: suite, submission, options, weights, output path, or no item of "
                      "the suite in the submission"},
    "validate": {"0": "no errors (warnings may be printed)", "1": "at least one error: evaluate would fail "
                 "or skip those items", "2": "the check could not run (bad suite, folder or options)"},
    "weights": {"0": "success", "1": "verify: a file is missing or does not match its sha256",
                "2": "bad input (unknown name, unreadable file, download failed)"},
    "compare": {"0": "pass", "1": "regression beyond a threshold",
                "2": "incomparable results, an incomplete new run, or bad input"},
    "meta-eval": {"0": "every metric moved the expected way", "1": "a metric moved the wrong way",
                  "2": "bad input or set-up (photographs, weights, extras)"},
}


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps epilog layout and appends ``(default: X)`` to options whose help does not state it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" in text or action.default in (None, False, argparse.SUPPRESS) or action.option_strings == []
                or isinstance(action.default, list) and not action.default):
            return text
        return text + " (default: %(default)s)"


def exit_code_epilog(command: str) -> str:
    codes = EXIT_CODES.get(command, _COMMON_EXIT)
    lines = [f"  {code:>3}  {meaning}" for code, meaning in codes.items()]
    if "130" not in codes:
        lines.append(f"  130  {_COMMON_EXIT['130']}")
    return "exit codes:\n" + "\n".join(lines)


class _SubcommandParser(argparse.ArgumentParser):
    """Parser class of every sub-command: shared formatter, exit codes appended to the epilog."""

    def __init__(self, *args, **kwargs):
        kwargs["formatter_class"] = _HelpFormatter
        prog_words = str(kwargs.get("prog", "")).split()
        command = prog_words[1] if len(prog_words) > 1 else ""
        if command in COMMANDS and len(prog_words) == 2:
            epilog = kwargs.get("epilog")
            kwargs["epilog"] = (epilog + "\n\n" if epilog else "") + exit_code_epilog(command)
        super().__init__(*args, **kwargs)


#: sub-commands whose module name differs from the command (a module named ``list`` would shadow the builtin)
_MODULE_NAMES = {"list": "listing", "import": "importers"}


def _module(name: str):
    return importlib.import_module(f"mvbench.cli.{_MODULE_NAMES.get(name, name.replace('-', '_'))}")


def build_parser(commands: list[str] | None = None) -> argparse.ArgumentParser:
    """The full parser; ``commands`` limits which sub-commands get their options (others are listed)."""
    parser = argparse.ArgumentParser(
        prog="mvbench", description="Evaluate multi-scene long video generation.",
        formatter_class=_HelpFormatter,
        epilog="Run `mvbench COMMAND --help` for a command's options and exit codes.\n"
               "Quickstart: `mvbench demo` (offline), then `mvbench evaluate --suite NAME --videos DIR`.")
    parser.add_argument("--version", action="version", version=f"mvbench {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_SubcommandParser)
    for name, help_text in COMMANDS.items():
        if commands is None or name in commands:
            _module(name).register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _invoked_command(argv: list[str]) -> str | None:
    for token in argv:
        if token in COMMANDS:
            return token
        if not token.startswith("-"):
            return None
    return None


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """Log records of the ``mvbench``, ``metrics``, ``leaderboard``, ``baselines`` and ``reference_models``
    loggers go to stderr as ``mvbench: level: message`` (warnings and up by default)."""
    level = logging.ERROR if quiet else logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 \
        else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mvbench: %(levelname)s: %(message)s"))
    for name in ("mvbench", "metrics", "leaderboard", "baselines", "reference_models"):
        lg = logging.getLogger(name)
        lg.handlers = [handler]
        lg.setLevel(level)
        lg.propagate = False


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _invoked_command(argv)
    parser = build_parser([command] if command else [])
    args = parser.parse_args(argv)
    configure_logging(args.verbose, args.quiet)
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
