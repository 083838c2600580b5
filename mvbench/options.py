"""Evaluation options: defaults and their resolution (device, worker count, validation)."""

from __future__ import annotations

import os
from typing import Any

import torch

from mvbench.errors import MvbenchError

DEFAULTS: dict[str, Any] = {
    "encoder": "viclip-l14",
    "device": None,
    "batch_size": 16,
    "num_workers": None,
    "cache_dir": None,
    "no_cache": False,
    "seed": 0,
    "bootstrap": 1000,
    "ci_method": "bca",
    "chunk_items": 32,
    "limit": None,
    "progress": True,
}


def resolve_options(options: dict | None) -> dict:
    opts = dict(DEFAULTS)
    opts.update({k: v for k, v in (options or {}).items() if v is not None or k not in DEFAULTS})
    if opts["device"] is None:
        opts["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    if opts["num_workers"] is None:
        opts["num_workers"] = max(1, min(8, (os.cpu_count() or 2)))
    if int(opts["batch_size"]) < 1:
        raise MvbenchError(f"batch size must be >= 1, got {opts['batch_size']}")
    return opts
