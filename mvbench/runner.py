"""The evaluation runner: suite + submission -> decoded clips -> encoders (cached) -> scorers -> results.

Work is done in chunks of items. For each chunk every scorer lists its requests; clips are
decoded in a thread pool (PyAV releases the GIL), preprocessed, encoded in batches of
``batch_size`` on the GPU with bf16 autocast when one is available (fp32 on CPU), and each
feature is written to the :class:`~mvbench.features.FeatureCache` as soon as its batch finishes,
so an interrupted run resumes where it stopped. A file that fails to decode fails its item only
(recorded under ``failures``). Per-item scores are rounded to :data:`mvbench.stats.DECIMALS`, so the
numbers do not depend on the batch size or on how a run was split or resumed.

Under ``torchrun`` (``WORLD_SIZE > 1``) items are sharded round-robin over ranks, per-item scores
are gathered with ``all_gather_object`` and rank 0 aggregates and writes; aggregation always
walks items in suite order, so the numbers equal a single-process run.
"""

from __future__ import annotations

import os
from typing import Any

from tqdm import tqdm

from mvbench.compute import ComputeStats, EncoderPool, compute_requests
from mvbench.distributed import dist_info, gather_objects
from mvbench.encoders import VideoEncoder
from mvbench.errors import MissingExtraError, MvbenchError, WeightsMissingError
from mvbench.features import FeatureCache
from mvbench.options import resolve_options
from mvbench.results import build_results
from mvbench.scorers import (
    DEFAULT_METRICS,
    METRIC_TO_SCORER,
    ClipRequest,
    ItemScore,
    Scorer,
    expand_metric_names,
    scorer_class,
    scorers_for_metrics,
)
from mvbench.submission import BLOCKING, Submission
from mvbench.suite import Suite
from mvbench.weights import mvbench_home

__all__ = ["run_evaluation", "build_scorers", "compute_requests", "EncoderPool", "resolve_options"]


def build_scorers(metrics: list[str], options: dict) -> list[Scorer]:
    return [scorer_class(name)(options) for name in scorers_for_metrics(metrics)]


def run_evaluation(suite: Suite, submission: Submission, metrics: list[str] | None = None,
                   options: dict | None = None, *, encoders: dict[str, VideoEncoder] | None = None) -> dict:
    """Evaluate ``submission`` on ``suite`` and return the results dict (see :mod:`mvbench.results`).

    ``encoders`` may supply prebuilt encoders by name (tests, notebooks).
    """
    opts = resolve_options(options)
    metrics = expand_metric_names(list(metrics or DEFAULT_METRICS))
    if opts.get("suite_dir") is None and suite.source.endswith(".json") and os.path.isfile(suite.source):
        opts["suite_dir"] = os.path.dirname(os.path.abspath(suite.source))  # relative portrait paths
    opts.setdefault("suite_ids", list(suite.ids))  # per-item character banks are recognised by item-id folders
    opts["metrics"] = metrics  # scorers that serve several metrics read which ones were asked for
    scorers = build_scorers(metrics, opts)
    rank, world = dist_info()

    resolution = submission.resolve(suite)
    failures: dict[str, dict] = {}
    warnings: list[str] = []
    for p in resolution.problems:
        if p.kind in BLOCKING and p.item in suite.ids:
            failures.setdefault(p.item, {"stage": "input", "kind": p.kind, "file": p.file, "error": p.message})
        else:
            warnings.append(str(p))

    item_ids = [i for i in suite.ids if i in resolution.items]
    if opts["limit"]:
        item_ids = item_ids[: int(opts["limit"])]
    mine = item_ids[rank::world]

    pool = EncoderPool(opts["device"], encoders)
    cache = FeatureCache(None if opts["no_cache"] else (opts["cache_dir"] or mvbench_home() / "features"))
    stats = ComputeStats()
    scores: dict[str, dict[str, ItemScore]] = {}
    local_failures: dict[str, dict] = {}
    chunk = max(1, int(opts["chunk_items"]))
    item_requests: dict[str, list] = {}
    for i in mine:  # a scorer that cannot plan an item (e.g. too few frames to segment) fails that item only
        try:
            item_requests[i] = [r for s in scorers for r in s.requests(resolution.items[i])]
        except (WeightsMissingError, MissingExtraError):
            raise
        except (ValueError, MvbenchError) as exc:
            local_failures[i] = {"stage": "requests", "kind": "error", "file": None,
                                 "error": str(exc).split("\n")[0]}
    mine = [i for i in mine if i in item_requests]
    n_clips = sum(isinstance(r, ClipRequest) for i in mine for r in item_requests[i])
    bar = tqdm(total=n_clips, unit="clip", desc=f"{submission.model} [{suite.name}]",
               disable=not opts["progress"] or rank != 0, dynamic_ncols=True)
    try:
        for start in range(0, len(mine), chunk):
            ids = mine[start:start + chunk]
            got = compute_requests([r for i in ids for r in item_requests[i]], opts, encoders=pool, cache=cache,
                                   stats=stats, progress=bar)
            for i in ids:
                bad = next((got[r] for r in item_requests[i] if isinstance(got.get(r), Exception)), None)
                if bad is not None:
                    local_failures[i] = {"stage": "decode", "kind": "unreadable",
                                         "file": _rel(bad, submission), "error": str(bad).split("\n")[0]}
                    continue
                try:
                    scores[i] = {s.name: s.score(resolution.items[i], got) for s in scorers}
                except (WeightsMissingError, MissingExtraError):
                    raise  # the run's set-up is incomplete: stop at once, for every item alike
                except (ValueError, MvbenchError) as exc:
                    local_failures[i] = {"stage": "score", "kind": "error", "file": None, "error": str(exc)}
    finally:
        bar.close()

    gathered = gather_objects((scores, local_failures, pool.describe(), pool.truncated_texts(), stats), world)
    if rank != 0:
        return {}
    all_scores: dict[str, dict[str, ItemScore]] = {}
    encoder_desc: dict[str, dict] = {}
    truncated_texts: dict[str, set[str]] = {}
    for sc, fl, desc, trunc, _st in gathered:
        all_scores.update(sc)
        failures.update(fl)
        encoder_desc.update(desc)
        for k, texts in trunc.items():
            truncated_texts.setdefault(k, set()).update(texts)
    truncated = {k: len(v) for k, v in sorted(truncated_texts.items())}
    ordered = [i for i in suite.ids if i in all_scores]

    summary: dict[str, dict] = {}
    for s in scorers:
        per_item = {i: all_scores[i][s.name] for i in ordered}
        for name, value in s.aggregate(per_item, seed=int(opts["seed"])).items():
            if name in metrics or METRIC_TO_SCORER.get(name) is None:
                summary[name] = value
    for name in metrics:
        summary.setdefault(name, {"mean": None, "ci95": None, "n": 0, "higher_is_better": True, "std": None})

    items_out = {}
    for i in ordered:
        vals: dict[str, float] = {}
        details: dict[str, Any] = {}
        for sname, sc in all_scores[i].items():
            vals.update({k: v for k, v in sc.values.items() if k in summary})
            if sc.details:
                details[sname] = sc.details
        items_out[i] = {"scores": vals, "details": details}

    if any(truncated.values()):
        warnings.append("distinct prompts truncated to the text encoder's context (the encoder reads only "
                        f"their start): {truncated}")
    config = {
        "metrics": metrics,
        "seed": int(opts["seed"]),
        "bootstrap_resamples": int(opts["bootstrap"]),
        "ci_method": opts["ci_method"],
        "scorers": {s.name: s.config() for s in scorers},
        "limit": opts["limit"],
    }
    return build_results(
        model=submission.describe(),
        suite={"name": suite.name, "version": suite.version, "content_hash": suite.content_hash,
               "source": suite.source, "n_items": len(suite.items)},
        encoders=encoder_desc, config=config, metrics=summary, items=items_out,
        failures={i: failures[i] for i in suite.ids if i in failures}, device=str(opts["device"]),
        warnings=warnings,
    ) | {"truncated_prompts": truncated, "runtime": {"world_size": world, "batch_size": int(opts["batch_size"]),
                     "clips_encoded": sum(g[4].clips_encoded for g in gathered),
                     "clips_from_cache": sum(g[4].clips_cached for g in gathered)}}


def _rel(exc: Exception, submission: Submission) -> str | None:
    msg = str(exc)
    path = msg.split(": ", 1)[0]
    try:
        return os.path.relpath(path, submission.root)
    except ValueError:
        return path
