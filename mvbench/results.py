"""Results files (``"schema": "mvbench.results/1"``): what was measured, on what, with what.

Like lm-evaluation-harness's, a results file records enough to trace a number: the model, the
suite name/version/content hash, the mvbench version, every encoder with its weight-file sha256,
the full evaluation config, the environment and the creation time; then ``metrics`` (mean, 95%
bootstrap CI, n, direction), per-item ``items`` and per-item ``failures``. Written atomically.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from mvbench import __version__
from mvbench.atomic import atomic_write_text
from mvbench.errors import MvbenchError

SCHEMA = "mvbench.results/1"
REQUIRED_KEYS = ("schema", "model", "suite", "mvbench_version", "encoders", "config", "metrics", "items",
                 "failures")


def environment(device: str | None = None) -> dict:
    import torch

    return {"python": sys.version.split()[0], "torch": torch.__version__, "platform": platform.platform(),
            "device": device or "cpu"}


def build_results(*, model: dict, suite: dict, encoders: dict, config: dict, metrics: dict, items: dict,
                  failures: dict, device: str | None = None, warnings: list[str] | None = None) -> dict:
    calibrated = all(e.get("calibrated", True) for e in encoders.values())
    return {
        "schema": SCHEMA,
        "model": model,
        "suite": suite,
        "mvbench_version": __version__,
        "encoders": encoders,
        "config": config,
        "calibrated": calibrated,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": environment(device),
        "metrics": metrics,
        "items": items,
        "failures": failures,
        "warnings": list(warnings or []),
    }


def write_results(path: str | Path, results: dict) -> Path:
    """Write ``results`` as indented JSON via a temp file and rename (never a half-written file)."""
    path = Path(path)
    atomic_write_text(path, json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return path


def check_writable(path: str | Path) -> None:
    """Raise unless a results file can be written at ``path`` (checked before a long run)."""
    path = Path(path)
    if path.is_dir():
        raise MvbenchError(f"--out {path} is a folder", hint="give a file path such as results/mymodel.json")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MvbenchError(f"cannot create the folder for {path}: {exc}") from exc
    if not os.access(parent, os.W_OK):
        raise MvbenchError(f"cannot write results into {parent}: permission denied")


def load_results(path: str | Path) -> dict:
    """Read and check a results file; errors name the file and what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MvbenchError(f"results file {path} does not exist") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MvbenchError(f"{path}: not a readable JSON results file ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise MvbenchError(f"{path}: not an mvbench results file (schema {found!r}, expected {SCHEMA!r})",
                           hint="pass a file written by `mvbench evaluate --out`")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise MvbenchError(f"{path}: results file lacks {', '.join(missing)}")
    for name, m in data["metrics"].items():
        if not isinstance(m, dict) or not {"mean", "ci95", "n", "higher_is_better"} <= set(m):
            raise MvbenchError(f"{path}: metric {name!r} lacks mean/ci95/n/higher_is_better")
    return data


def default_out_path(model: str, suite: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)
    return Path(os.environ.get("MVBENCH_RESULTS", "results")) / f"{safe}__{suite}.json"
