"""Split one evaluation into independent jobs and merge them: ``mvbench evaluate --shard K/N`` scores
part K of N (items ``K, K + N, K + 2N, ...`` of the suite's scope) and writes a *partial results* file;
``mvbench merge part*.json --out results.json`` turns the N parts into exactly the results file one
run would have written (same metrics, intervals, per-item scores, failures and config).

A partial file (``"schema": "mvbench.partial/1"``) holds what the final aggregation needs: the run's
header (model, suite, scope, config, warnings; identical in every part), each scored item's per-scorer
scores with their payloads and its record (files scored with their sha256, prompts), every failure of its
items, the part's stage wall times, and the mergeable summaries of scorers that
have one (FVD: count, sum and sum of outer products of the clip features, plus the features themselves
while the bootstrap CI needs them). Arrays are stored losslessly (base64 of their bytes), so merging
recomputes every aggregate from the same numbers a single run uses, in suite order.

>>> parse_shard("2/8")
(2, 8)
>>> parse_shard("8/8")
Traceback (most recent call last):
...
mvbench.errors.ConfigError: option 'shard' (--shard): '8/8' needs 0 <= K < N, e.g. 0/8 ... 7/8
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from mvbench.errors import ConfigError, MvbenchError

PARTIAL_SCHEMA = "mvbench.partial/1"


def parse_shard(value: Any) -> tuple[int, int] | None:
    """``"K/N"`` (or ``(K, N)``) -> ``(K, N)`` with ``0 <= K < N``; None stays None."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        k, n = value
    else:
        text = str(value).strip()
        try:
            k, n = (int(x) for x in text.split("/"))
        except ValueError:
            raise ConfigError(f"option 'shard' (--shard): expected K/N such as 0/4, got {value!r}") from None
    if n < 1 or not 0 <= k < n:
        raise ConfigError(f"option 'shard' (--shard): '{k}/{n}' needs 0 <= K < N, e.g. 0/{n} ... {n - 1}/{n}")
    return int(k), int(n)


def check_shard(value: str) -> None:
    """``check`` of the ``shard`` option (raises ValueError on a bad value)."""
    try:
        parse_shard(value)
    except ConfigError as exc:
        raise ValueError(str(exc).split(": ", 1)[-1]) from None


# ----------------------------------------------------------------------------------------- codec
def encode(value: Any) -> Any:
    """A JSON-able, lossless form of scores, payloads and summaries (numpy arrays and scalars, tensors,
    tuples, sets, non-finite floats, dataclasses such as :class:`~mvbench.scorers.ItemScore`).

    >>> decode(encode({"x": np.arange(3, dtype=np.float32), "t": (1, float("nan"))}))["x"].dtype
    dtype('float32')
    """
    if isinstance(value, np.generic):  # before float: np.float64 is a float
        return {"__npscalar__": value.dtype.str, "b64": base64.b64encode(value.tobytes()).decode()}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        if arr.dtype.hasobject:
            return {"__objarray__": [encode(v) for v in arr.ravel().tolist()], "shape": list(arr.shape)}
        return {"__ndarray__": base64.b64encode(arr.tobytes()).decode(), "dtype": arr.dtype.str,
                "shape": list(arr.shape)}
    try:
        import torch

        if isinstance(value, torch.Tensor):
            return {"__tensor__": encode(value.detach().cpu().numpy())}
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"__set__": [encode(v) for v in sorted(value, key=repr)]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise TypeError(f"cannot store a value of type {type(value).__name__} in a partial results file")


def decode(value: Any) -> Any:
    """Inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__float__" in value:
        return float(value["__float__"])
    if "__npscalar__" in value:
        return np.frombuffer(base64.b64decode(value["b64"]), dtype=np.dtype(value["__npscalar__"]))[0]
    if "__ndarray__" in value:
        raw = base64.b64decode(value["__ndarray__"])
        return np.frombuffer(raw, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
    if "__objarray__" in value:
        arr = np.empty(len(value["__objarray__"]), dtype=object)
        arr[:] = [decode(v) for v in value["__objarray__"]]
        return arr.reshape(value["shape"])
    if "__tensor__" in value:
        import torch

        return torch.from_numpy(decode(value["__tensor__"]))
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__set__" in value:
        return {decode(v) for v in value["__set__"]}
    if "__dict__" in value:
        return {decode(k): decode(v) for k, v in value["__dict__"]}
    if "__dataclass__" in value:
        import importlib

        module, qualname = value["__dataclass__"].split(":")
        obj: Any = importlib.import_module(module)
        for attr in qualname.split("."):
            obj = getattr(obj, attr)
        return obj(**{k: decode(v) for k, v in value["fields"].items()})
    return {k: decode(v) for k, v in value.items()}


# ------------------------------------------------------------------------------------ partial files
def partial_results(header: dict, part, shard: tuple[int, int], world_size: int = 1) -> dict:
    """The partial results document of part ``shard`` of a run (see the module doc)."""
    from datetime import datetime, timezone

    from mvbench import __version__

    try:
        body = {
            "scores": encode(part.scores),
            "failures": part.failures,
            "partials": encode(part.partials),
            "encoders": part.encoders,
            "truncated": {k: sorted(v) for k, v in part.truncated.items()},
            "counts": part.counts,
            "records": part.records,
            "stage_seconds": part.stage_seconds,
        }
    except TypeError as exc:
        raise MvbenchError(f"cannot write the partial results of shard {shard[0]}/{shard[1]}: {exc}",
                           hint="a scorer's per-item payload must be made of numbers, text, lists, dicts "
                                "and numpy arrays") from exc
    return {"schema": PARTIAL_SCHEMA, "shard": {"index": shard[0], "count": shard[1]},
            "mvbench_version": __version__, "world_size": world_size,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "header": header, "part": body}


def write_partial(path: str | Path, doc: dict) -> Path:
    """Write a partial results document atomically (compact JSON: it holds arrays)."""
    from mvbench.atomic import atomic_write_text

    path = Path(path)
    atomic_write_text(path, json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n")
    return path


def check_partial_output(path: str | Path, *, overwrite: bool, model: dict, suite, config: dict,
                         shard: tuple[int, int]) -> None:
    """Like :func:`mvbench.results.check_output_path` for a shard's partial file: writable, and an existing
    file is replaced only when it is this same part of the same run (or with ``overwrite``)."""
    from mvbench.results import check_writable, comparable_config

    path = Path(path)
    check_writable(path)
    if overwrite or not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    same = (is_partial(old) and old["header"]["model"].get("name") == model.get("name")
            and old["header"]["suite"].get("content_hash") == suite.content_hash
            and comparable_config(old["header"]["config"]) == comparable_config(json.loads(json.dumps(config)))
            and [old["shard"]["index"], old["shard"]["count"]] == list(shard))
    if not same:
        raise MvbenchError(f"{path} exists and is not partial results of this shard of this run; refusing to "
                           "replace it", hint="pass --overwrite to replace it, or another --out")


def is_partial(doc: dict) -> bool:
    return isinstance(doc, dict) and doc.get("schema") == PARTIAL_SCHEMA


def load_partial(path: str | Path) -> dict:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MvbenchError(f"cannot read partial results {path}: {exc}") from exc
    if not is_partial(doc):
        raise MvbenchError(f"{path} is not a partial results file (schema {doc.get('schema')!r}, "
                           f"expected {PARTIAL_SCHEMA!r})",
                           hint="merge the files written by `mvbench evaluate --shard K/N`")
    return doc


def _part_from_doc(doc: dict):
    from mvbench.runner import Part

    body = doc["part"]
    return Part(scores=decode(body["scores"]), failures=body["failures"], partials=decode(body["partials"]),
                encoders=body["encoders"], truncated={k: set(v) for k, v in body["truncated"].items()},
                counts=dict(body["counts"]), records=dict(body.get("records") or {}),
                stage_seconds=list(body.get("stage_seconds") or []))


#: header keys every part must agree on (the run's identity and protocol)
_SAME = ("model", "suite", "scope", "config", "metrics", "item_warnings", "warnings")


def merge_partials(paths: list[str | Path]) -> dict:
    """The results of the run whose parts are ``paths`` (every shard 0..N-1 exactly once, same run)."""
    from mvbench.options import resolve_options
    from mvbench.runner import build_scorers, finish_results

    if not paths:
        raise MvbenchError("no partial results files given")
    docs = [(Path(p), load_partial(p)) for p in paths]
    first_path, first = docs[0]
    n = int(first["shard"]["count"])
    seen: dict[int, Path] = {}
    for path, doc in docs:
        k, count = int(doc["shard"]["index"]), int(doc["shard"]["count"])
        if count != n:
            raise MvbenchError(f"{path} is shard {k}/{count} but {first_path} belongs to a run split in {n}")
        if k in seen:
            raise MvbenchError(f"{path} and {seen[k]} are both shard {k}/{n}")
        seen[k] = path
        for key in _SAME:
            if doc["header"][key] != first["header"][key]:
                raise MvbenchError(f"{path} and {first_path} are parts of different runs: their {key} differ",
                                   hint="merge the parts of one `mvbench evaluate --shard K/N` run, all with the "
                                        "same suite, videos, metrics and options")
    missing = sorted(set(range(n)) - set(seen))
    if missing:
        raise MvbenchError(f"shard(s) {', '.join(f'{k}/{n}' for k in missing)} missing: got {len(seen)} of {n} parts",
                           hint="wait for every job of the array to finish (or re-run the missing ones)")
    parts = [_part_from_doc(doc) for _, doc in sorted(docs, key=lambda d: d[1]["shard"]["index"])]
    scored: dict[str, int] = {}
    for k, part in enumerate(parts):
        for item in part.scores:
            if item in scored:
                raise MvbenchError(f"item {item!r} was scored by shards {scored[item]} and {k}")
            scored[item] = k
    header = first["header"]
    options = dict(header["config"]["options"])
    options = resolve_options({k: v for k, v in options.items() if v is not None})
    options["metrics"] = header["metrics"]
    scorers = build_scorers(header["metrics"], options)
    world = sum(int(doc.get("world_size", 1)) for _, doc in docs)
    return finish_results(header, parts, scorers, world_size=world, options=options,
                          extra_runtime={"shards": n, "merged_from": [str(p) for p, _ in docs]})
