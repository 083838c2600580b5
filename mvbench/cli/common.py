"""Command-line options shared by the commands that decode, encode and score videos. Flags are
generated from the :class:`~mvbench.config.Option` data of :mod:`mvbench.options` and of the scorers,
so the command line, the Python API and the results file agree on names, types and defaults."""

from __future__ import annotations

import argparse

from mvbench.config import add_options_to_parser

RUN_OPTIONS = ("device", "batch_size", "num_workers", "decoder", "cache_dir", "no_cache")


def _core(*names: str):
    from mvbench.options import CORE_OPTIONS

    by_name = {o.name: o for o in CORE_OPTIONS}
    return [by_name[n] for n in names]


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs encoders (device, batching, cache, progress bars)."""
    add_options_to_parser(p, _core(*RUN_OPTIONS))
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None, help="hide progress bars")


def add_scoring_arguments(p: argparse.ArgumentParser, *, evaluate: bool) -> None:
    """Options of ``validate`` and ``evaluate``: what to score and how (the scorers' own flags included),
    so that ``validate`` checks a submission under exactly the options ``evaluate`` will use."""
    from mvbench.scorers import DEFAULT_METRICS, SCORERS, scorer_class

    p.add_argument("--suite", required=True, metavar="SUITE",
                   help="bundled suite name (see `mvbench list suites`) or path to a suite JSON file")
    p.add_argument("--videos", required=True, metavar="DIR",
                   help="submission folder (ITEM/scene_K.mp4, or ITEM.mp4 with scene ranges in submission.json)")
    p.add_argument("--metrics", default=None,
                   help="comma-separated metric names or groups (see `mvbench list metrics`; default: the "
                        f"--protocol preset's metrics, else {','.join(DEFAULT_METRICS)})")
    names = ["protocol", "encoder", "limit", "short_scenes"] + (["seed", "bootstrap", "ci_method"] if evaluate else [])
    add_options_to_parser(p, _core(*names))
    if evaluate:
        add_run_arguments(p)
    for name in SCORERS:
        scorer_class(name).add_cli_arguments(p)


def options_from_args(args: argparse.Namespace) -> dict:
    """The evaluation options a user gave on the command line (flags left at None are not given)."""
    from mvbench.options import option_names

    known = option_names()
    return {k: v for k, v in vars(args).items() if k in known and v is not None}


def metric_list(text: str | None) -> list[str] | None:
    """``--metrics`` as a list; None when the flag was not given (the preset's or the default metrics)."""
    if text is None:
        return None
    return [m.strip() for m in text.split(",") if m.strip()]


def write_and_report(out, results: dict, done: str, strict: bool) -> int:
    """Write a results file, print its metrics table, its warnings (stderr) and ``done``; the exit code:
    1 under ``--strict`` when an item failed, else 0 (``evaluate`` and ``merge``)."""
    import sys

    from mvbench.report import metrics_table
    from mvbench.results import write_results

    write_results(out, results)
    print(metrics_table(results))
    for w in results.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    print(done)
    if strict and results["failures"]:
        print(f"--strict: {len(results['failures'])} item(s) failed", file=sys.stderr)
        return 1
    return 0
