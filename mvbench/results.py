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


#: columns of :func:`to_dataframe` / :func:`metrics_dataframe` by type (for readers of exported tables)
FLOAT_COLUMNS = ("value", "mean", "ci_lo", "ci_hi", "std")
INT_COLUMNS = ("n",)
BOOL_COLUMNS = ("higher_is_better",)


def _suite_for_prompts(results: dict, suite):
    """The suite whose prompts go into the table: ``suite`` itself, or with ``"auto"`` the suite the
    results were computed on when it can be loaded from its recorded source with the same content hash."""
    from mvbench.suite import Suite, load_suite

    recorded = results.get("suite") or {}
    if suite is None:
        return None
    if suite == "auto":
        for candidate in (recorded.get("source"), recorded.get("name")):  # a suite file, else a bundled name
            try:
                found = load_suite(str(candidate)) if candidate else None
            except (MvbenchError, OSError, ValueError):
                continue
            if found is not None and found.content_hash == recorded.get("content_hash"):
                return found
        return None
    found = suite if isinstance(suite, Suite) else load_suite(str(suite))
    if recorded.get("content_hash") and found.content_hash != recorded["content_hash"]:
        raise MvbenchError(f"suite {found.name!r} v{found.version} is not the suite these results were computed on "
                           f"({recorded.get('name')!r} v{recorded.get('version')})",
                           hint="pass the suite file the run used, or leave the suite out")
    return found


def to_dataframe(results: dict, suite="auto"):
    """The per-item scores of a results dict as a long pandas table: one row per item x metric.

    Columns: ``model``, ``model_version``, ``suite``, ``suite_version``, ``item``, ``metric``,
    ``value`` (NaN where the item has no value for the metric, e.g. visual consistency of a
    one-scene item, or a failed item), ``higher_is_better``, ``status`` (``scored`` or ``failed``)
    and ``error`` (``stage/kind: message`` of a failed item, else empty); then ``global_prompt`` and
    ``prompts`` (the scene prompts, one per line) when the prompts are known, and ``files`` when the
    results record each item's files. Prompts come from the item entries of the results when they
    hold them, else from ``suite`` (a :class:`~mvbench.suite.Suite`, name or path; ``"auto"``, the
    default: the suite recorded in the results, when it is found with the same content hash; None:
    no prompts). Rows follow the results' item order (suite order), failed items last; metrics in
    the order of the results' ``metrics``. Text cells are never missing (empty string instead), so
    the table survives CSV.

    >>> res = {"model": {"name": "m", "version": "1"}, "suite": {"name": "s", "version": "1"},
    ...        "metrics": {"visual_consistency": {"mean": 80.0, "higher_is_better": True}},
    ...        "items": {"a": {"scores": {"visual_consistency": 80.0}}}, "failures": {}}
    >>> to_dataframe(res, suite=None)[["item", "metric", "value", "status"]].values.tolist()
    [['a', 'visual_consistency', 80.0, 'scored']]
    """
    import pandas as pd

    model = results.get("model") or {}
    recorded = results.get("suite") or {}
    summaries = results.get("metrics") or {}
    metric_names = list(summaries) or list((results.get("config") or {}).get("metrics") or [])
    items = results.get("items") or {}
    failures = results.get("failures") or {}
    suite_obj = _suite_for_prompts(results, suite)
    by_id = {it.id: it for it in suite_obj.items} if suite_obj is not None else {}

    def texts(item_id: str, entry: dict) -> dict:
        out = {}
        it = by_id.get(item_id)
        glob = entry.get("global_prompt", it.global_prompt if it is not None else None)
        prompts = entry.get("prompts", [s.prompt for s in it.scenes] if it is not None else None)
        if glob is not None or prompts is not None:
            out["global_prompt"] = glob or ""
            out["prompts"] = "\n".join(prompts or [])
        if entry.get("files") is not None:
            out["files"] = "\n".join(str(f) for f in entry["files"])
        return out

    rows = []
    base = {"model": str(model.get("name", "")), "model_version": str(model.get("version") or ""),
            "suite": str(recorded.get("name", "")), "suite_version": str(recorded.get("version") or "")}
    for item_id, entry in items.items():
        scores = entry.get("scores") or {}
        extra = texts(item_id, entry)
        for m in metric_names:
            value = scores.get(m)
            rows.append({**base, "item": str(item_id), "metric": m,
                         "value": float("nan") if value is None else float(value),
                         "higher_is_better": bool((summaries.get(m) or {}).get("higher_is_better", True)),
                         "status": "scored", "error": "", **extra})
    for item_id, fail in failures.items():
        if item_id in items:
            continue
        message = f"{fail.get('stage', '')}/{fail.get('kind', '')}: {fail.get('error', '')}"
        extra = texts(item_id, {"files": [fail["file"]]} if fail.get("file") else {})
        for m in metric_names:
            rows.append({**base, "item": str(item_id), "metric": m, "value": float("nan"),
                         "higher_is_better": bool((summaries.get(m) or {}).get("higher_is_better", True)),
                         "status": "failed", "error": message, **extra})
    columns = ["model", "model_version", "suite", "suite_version", "item", "metric", "value",
               "higher_is_better", "status", "error"]
    for optional in ("global_prompt", "prompts", "files"):
        if any(optional in r for r in rows):
            columns.append(optional)
    frame = pd.DataFrame(rows, columns=columns)
    for c in ("global_prompt", "prompts", "files"):
        if c in frame:
            frame[c] = frame[c].fillna("")
    return frame.astype({"value": "float64", "higher_is_better": "bool"})


def metrics_dataframe(results: dict):
    """The metric summaries of a results dict as a pandas table: one row per metric with ``model``,
    ``model_version``, ``suite``, ``suite_version``, ``metric``, ``mean``, ``ci_lo``, ``ci_hi``, ``std``
    (NaN where undefined), ``n`` and ``higher_is_better``.

    >>> res = {"model": {"name": "m"}, "suite": {"name": "s", "version": "1"},
    ...        "metrics": {"fvd": {"mean": 310.5, "ci95": [290.0, 330.0], "n": 12, "higher_is_better": False}}}
    >>> metrics_dataframe(res)[["metric", "mean", "ci_lo", "n"]].values.tolist()
    [['fvd', 310.5, 290.0, 12]]
    """
    import pandas as pd

    model = results.get("model") or {}
    recorded = results.get("suite") or {}
    rows = []
    for name, m in (results.get("metrics") or {}).items():
        ci = m.get("ci95") or [None, None]
        rows.append({"model": str(model.get("name", "")), "model_version": str(model.get("version") or ""),
                     "suite": str(recorded.get("name", "")), "suite_version": str(recorded.get("version") or ""),
                     "metric": name, "mean": m.get("mean"), "ci_lo": ci[0], "ci_hi": ci[1], "std": m.get("std"),
                     "n": int(m.get("n") or 0), "higher_is_better": bool(m.get("higher_is_better", True))})
    columns = ["model", "model_version", "suite", "suite_version", "metric", "mean", "ci_lo", "ci_hi", "std", "n",
               "higher_is_better"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"mean": "float64", "ci_lo": "float64", "ci_hi": "float64", "std": "float64",
                         "n": "int64", "higher_is_better": "bool"})
