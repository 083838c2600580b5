"""Evaluation options: the core options as :class:`~mvbench.config.Option` data, and their resolution
together with every scorer's declared options (unknown keys are an error with a did-you-mean
suggestion; values are coerced and checked; the device and worker count are filled in).

>>> opts = resolve_options({"batch_size": "4", "device": "cpu"})
>>> opts["batch_size"], opts["device"], opts["vc_pairs"]
(4, 'cpu', 'all')
>>> resolve_options({"vc_pair": "consecutive"})
Traceback (most recent call last):
...
mvbench.errors.ConfigError: unknown option 'vc_pair'; did you mean 'vc_pairs'?
  hint: run `mvbench evaluate --help` for every option
"""

from __future__ import annotations

import argparse
import os
from functools import cache
from typing import Any

from metrics.bootstrap import CI_METHODS, DEFAULT_CI_METHOD
from mvbench.config import Option, positive, resolve
from mvbench.errors import ConfigError
from mvbench.protocols import PROTOCOLS

SHORT_SCENE_POLICIES = ("fail", "pad")
#: frame decoding backends (see :mod:`mvbench.video.backends`)
DECODERS = ("pyav", "torchcodec", "torchcodec-cuda")

def _check_shard(value: str) -> None:
    from mvbench.shards import check_shard

    check_shard(value)


#: options of the runner itself (scorers add theirs through ``Scorer.option_specs``)
CORE_OPTIONS: tuple[Option, ...] = (
    Option("encoder", None, "video-text encoder for the consistency and Confusion Degree metrics "
           "(default viclip-l14; 'tiny' needs no weights; see `mvbench list encoders`)", type=str),
    Option("device", None, "cpu, cuda, cuda:1 ... (default: cuda if available)", type=str),
    Option("batch_size", 16, "clips per encoder batch (does not change results)", check=positive),
    Option("num_workers", None, "decoding threads (default: min(8, cores))", type=int, check=positive),
    Option("decoder", "pyav", "frame decoding backend: pyav (FFmpeg on the CPU), torchcodec (CPU) or "
           "torchcodec-cuda (NVDEC on the GPU); needs `pip install torchcodec` and FFmpeg libraries for "
           "the latter two", choices=DECODERS),
    Option("cache_dir", None, "feature cache folder (default $MVBENCH_HOME/features)", type=str),
    Option("no_cache", False, "do not read or write the feature cache"),
    Option("seed", 0, "bootstrap seed"),
    Option("bootstrap", 1000, "bootstrap resamples for the 95% CIs", check=positive),
    Option("ci_method", DEFAULT_CI_METHOD, "bootstrap interval of item means: bca or percentile "
           "(docs/results.md, Confidence intervals)", choices=CI_METHODS),
    Option("chunk_items", 32, "items whose clips are decoded and encoded together", check=positive, cli=False),
    Option("limit", None, "score only the first N items of the suite (smoke runs)", type=int, check=positive),
    Option("progress", True, "show progress bars", cli=False),
    Option("shard", None, "score only part K of N of the items (K from 0) and write partial results for "
           "`mvbench merge` (job arrays; see docs/scaling.md)", type=str, metavar="K/N", check=_check_shard,
           cli=False),
    Option("short_scenes", "fail", "a scene with fewer frames than a metric samples: fail its item (fail) or "
           "repeat frames and record a warning (pad)", choices=SHORT_SCENE_POLICIES),
    Option("protocol", None, "paper preset: sets the metrics (unless --metrics is given) and the options of that "
           "paper's protocol; explicit options that contradict it are refused (see `mvbench list protocols`, "
           "docs/protocols.md)", type=str, choices=tuple(PROTOCOLS)),
)

#: keys the runner sets for scorers (not user options; accepted unchecked)
INTERNAL_KEYS = ("metrics", "suite_dir", "suite_ids", "_planning_only")

DEFAULTS: dict[str, Any] = {o.name: o.default for o in CORE_OPTIONS}


def _legacy_options(cls) -> list[tuple[str, Any]]:
    """(name, default) of the options of a scorer that adds its flags by hand in ``add_cli_arguments``."""
    parser = argparse.ArgumentParser(add_help=False)
    cls.add_cli_arguments(parser)
    return [(a.dest, a.default) for a in parser._actions if a.dest != "help"]


@cache
def scorer_option_specs() -> tuple[Option, ...]:
    """Every registered scorer's options (declared specs; hand-added flags as untyped options)."""
    from mvbench.scorers import SCORERS, scorer_class

    specs: dict[str, Option] = {}
    for name in SCORERS:
        cls = scorer_class(name)
        for spec in cls.option_specs:
            specs.setdefault(spec.name, spec)
        for dest, default in _legacy_options(cls):
            specs.setdefault(dest, Option(dest, default, f"option of the {name} scorer", cli=False))
    return tuple(specs.values())


def all_option_specs() -> tuple[Option, ...]:
    return CORE_OPTIONS + tuple(s for s in scorer_option_specs() if s.name not in DEFAULTS)


def option_names() -> set[str]:
    """Every key :func:`resolve_options` accepts from a user."""
    return {s.name for s in all_option_specs()}


def resolve_options(options: dict | None) -> dict:
    """Every option with its value (given, else default), checked; device and workers filled in."""
    opts = resolve(options, all_option_specs(), passthrough=INTERNAL_KEYS)
    if opts["device"] is None:
        import torch

        opts["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    if opts["num_workers"] is None:
        opts["num_workers"] = max(1, min(8, (os.cpu_count() or 2)))
    return opts


#: options that change how a run goes, never its numbers (recorded under ``runtime``, not ``config``)
RUNTIME_OPTIONS = ("batch_size", "num_workers", "cache_dir", "no_cache", "progress", "chunk_items", "shard")


def recorded_options(opts: dict, runtime: bool = False) -> dict:
    """The resolved options as written into a results file (JSON values; internal keys left out): the
    options that can change a number, or with ``runtime`` the others (:data:`RUNTIME_OPTIONS`)."""
    out = {}
    for k, v in sorted(opts.items()):
        if k in INTERNAL_KEYS or (k in RUNTIME_OPTIONS) != runtime:
            continue
        if not isinstance(v, (str, int, float, bool, type(None), list, tuple, dict)):
            raise ConfigError(f"option {k!r} has a value of type {type(v).__name__} that cannot be recorded")
        out[k] = list(v) if isinstance(v, tuple) else v
    return out
