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
                  failures: dict, device: str | None = None, warnings: list[str] | None = None,
                  calibration: dict[str, str] | None = None) -> dict:
    """The results document. ``calibrated`` is True only when every encoder and every weight file the run
    loaded is a verified published checkpoint; otherwise ``calibration`` says why, per encoder or
    weights entry (``calibration``: the weights entries' reasons, see
    :func:`mvbench.encoders.base.weights_calibration`)."""
    reasons = {n: e.get("calibration") or "not calibrated" for n, e in encoders.items()
               if not e.get("calibrated", True)}
    reasons.update(calibration or {})
    calibrated = not reasons
    doc = {
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
    if reasons:
        doc["calibration"] = dict(sorted(reasons.items()))
    return doc


def write_results(path: str | Path, results: dict) -> Path:
    """Write ``results`` as indented JSON via a temp file and rename (never a half-written file)."""
    path = Path(path)
    atomic_write_text(path, json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return path


#: longest file name the results writer uses (the temporary name adds a prefix and a random suffix)
MAX_FILE_NAME = 120

def check_writable(path: str | Path) -> None:
    """Raise unless a results file can be written at ``path``: the folder can be created and a file by
    the temporary name the atomic writer uses can be created there (checked before a long run)."""
    import tempfile

    path = Path(path)
    try:
        is_dir = path.is_dir()
    except OSError as exc:
        raise MvbenchError(f"cannot write results at {path}: {exc.strerror or exc}",
                           hint="choose another --out (a shorter file name, a writable folder)") from exc
    if is_dir:
        raise MvbenchError(f"--out {path} is a folder", hint="give a file path such as results/mymodel.json")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MvbenchError(f"cannot create the folder for {path}: {exc.strerror or exc}") from exc
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise MvbenchError(f"cannot write results at {path}: {exc.strerror or exc}",
                           hint="choose another --out (a shorter file name, a writable folder)") from exc
    os.close(fd)
    os.unlink(probe)


def comparable_config(config: dict) -> dict:
    """The parts of a results ``config`` that decide the numbers (options such as batch size left out)."""
    return {"metrics": config.get("metrics"), "options": dict(config.get("options") or {})}


def check_output_path(path: str | Path, *, overwrite: bool, model: dict, suite, config: dict) -> None:
    """Fail before any work if ``path`` cannot be written, or holds the results of a different run
    (another model, suite or configuration) and ``overwrite`` is not set. Re-running the same
    configuration over its own results file is allowed (it resumes from the feature cache)."""
    path = Path(path)
    check_writable(path)
    if overwrite or not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    if not isinstance(old, dict) or old.get("schema") != SCHEMA:
        raise MvbenchError(f"{path} exists and is not an mvbench results file; refusing to replace it",
                           hint="pass --overwrite to replace it, or another --out")
    diffs = []
    if (old.get("model") or {}).get("name") != model.get("name"):
        diffs.append(f"model {old.get('model', {}).get('name')!r} -> {model.get('name')!r}")
    if (old.get("suite") or {}).get("content_hash") != suite.content_hash:
        diffs.append(f"suite {old.get('suite', {}).get('name')!r} v{old.get('suite', {}).get('version')} -> "
                     f"{suite.name!r} v{suite.version}")
    before, after = comparable_config(old.get("config") or {}), comparable_config(config)
    if before != after:
        keys = sorted({*before["options"], *after["options"]})
        changed = [f"{k} {before['options'].get(k)!r} -> {after['options'].get(k)!r}" for k in keys
                   if before["options"].get(k) != after["options"].get(k)]
        if before["metrics"] != after["metrics"]:
            changed.insert(0, f"metrics {before['metrics']} -> {after['metrics']}")
        diffs.append("configuration: " + ("; ".join(changed) or "differs"))
    if diffs:
        raise MvbenchError(f"{path} holds results of a different run ({'; '.join(diffs)}); refusing to overwrite",
                           hint="pass --overwrite to replace it, or choose another --out")


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
    """``results/MODEL__SUITE.json`` with a file-system-safe, bounded name (a long model name is cut and
    made unique with a short hash). ``$MVBENCH_RESULTS`` sets the folder.

    >>> default_out_path("my model/v2", "mvbench-3scene").name
    'my_model_v2__mvbench-3scene.json'
    >>> len(default_out_path("m" * 300, "mvbench-3scene").name) <= MAX_FILE_NAME
    True
    """
    import hashlib

    def safe(text: str) -> str:
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).lstrip(".") or "model"

    name = f"{safe(model)}__{safe(suite)}.json"
    if len(name) > MAX_FILE_NAME:
        digest = hashlib.sha256(f"{model}\0{suite}".encode()).hexdigest()[:10]
        keep = MAX_FILE_NAME - len(digest) - len(".json") - 2
        name = f"{name[:keep]}-{digest}.json"
    return Path(os.environ.get("MVBENCH_RESULTS", "results")) / name
