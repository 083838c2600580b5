"""The evaluation runner: suite + submission -> decoded clips -> encoders (cached) -> scorers -> results.

:func:`plan_run` is shared by ``mvbench validate`` and ``mvbench evaluate``, so both see the same
problems: options are resolved and checked, scorers are built, the submission is matched against
the suite (only the first ``limit`` items when a limit is set), the frames a scene needs come from
the scorers (with the ``short_scenes`` policy: fail, or pad and warn), and every scorer plans every
item (an item a scorer cannot plan is a ``cannot_plan`` problem). A submission that holds none of
the suite's items is an error.

:func:`run_evaluation` then works in chunks of items: every scorer's requests are decoded in a
thread pool (PyAV releases the GIL), preprocessed, encoded in batches of ``batch_size`` on the GPU
with bf16 autocast when one is available (fp32 on CPU), and each feature is written to the
:class:`~mvbench.features.FeatureCache` as soon as its batch finishes, so an interrupted run
resumes where it stopped. A file that fails to decode fails its item only (recorded under
``failures``). Per-item scores are rounded to :data:`mvbench.stats.DECIMALS`, so the numbers do not
depend on the batch size or on how a run was split or resumed.

Under ``torchrun`` (``WORLD_SIZE > 1``) items are sharded round-robin over ranks, per-item scores
are gathered with ``all_gather_object`` and rank 0 aggregates and writes; aggregation always
walks items in suite order, so the numbers equal a single-process run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mvbench.errors import MissingExtraError, MvbenchError, WeightsMissingError
from mvbench.options import recorded_options, resolve_options
from mvbench.scorers import (
    DEFAULT_METRICS,
    METRIC_TO_SCORER,
    ItemScore,
    Scorer,
    expand_metric_names,
    scorer_class,
    scorers_for_metrics,
)
from mvbench.submission import BLOCKING, Problem, Resolution, Submission
from mvbench.suite import Suite

__all__ = ["run_evaluation", "plan_run", "build_scorers", "check_weights_present", "RunPlan"]


def build_scorers(metrics: list[str], options: dict) -> list[Scorer]:
    return [scorer_class(name)(options) for name in scorers_for_metrics(metrics)]


def check_weights_present(metrics: list[str], options: dict | None) -> None:
    """Raise one :class:`WeightsMissingError` naming every weight file the run would load but that is
    missing, before any network is built (cheap: file checks only)."""
    from mvbench.weights import missing_message, weight_path

    opts = dict(options or {})
    opts["metrics"] = expand_metric_names(list(metrics))
    needed: list[str] = []
    for name in scorers_for_metrics(opts["metrics"]):
        needed += scorer_class(name).required_weights(opts)
    missing = [n for n in dict.fromkeys(needed) if not weight_path(n).is_file()]
    if not missing:
        return
    if len(missing) == 1:
        raise WeightsMissingError(*missing_message(missing[0]))
    lines = [missing_message(n)[0] for n in missing]
    raise WeightsMissingError(f"{len(missing)} weight files are missing:\n  " + "\n  ".join(lines),
                              hint="for each: `mvbench weights fetch NAME`, or `mvbench weights import NAME PATH` "
                                   "if you already have the file")


@dataclass
class RunPlan:
    """Everything decided before any frame is decoded for scoring."""

    options: dict
    metrics: list[str]
    scorers: list[Scorer]
    resolution: Resolution
    #: items in scope: the suite's first ``limit`` items (all when no limit)
    scope: list[str]
    #: item -> every scorer's requests, for the items that can be scored
    item_requests: dict[str, list] = field(default_factory=dict)
    #: per-item problems that block scoring (missing files, unreadable, too short, cannot plan ...)
    blocking: dict[str, Problem] = field(default_factory=dict)
    #: per-item warnings (short scenes padded, fps or size mismatch) and folder-level warnings
    item_warnings: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: scorer set-up problems (only with ``planning_only``; evaluate raises them)
    setup_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[Problem]:
        """Every problem found, blocking first per item, in suite order."""
        return list(self.resolution.problems)


def plan_run(suite: Suite, submission: Submission, metrics: list[str] | None = None, options: dict | None = None,
             *, exact: bool = False, progress: bool = False, planning_only: bool = False) -> RunPlan:
    """Resolve options, build scorers, match the submission and plan every item (see module doc).

    ``planning_only`` (``validate``) collects scorer set-up problems (e.g. a missing FVD reference) in
    ``setup_errors`` instead of raising them, so that every problem is reported at once.
    """
    opts = resolve_options(options)
    if planning_only:
        opts["_planning_only"] = True
    metrics = expand_metric_names(list(metrics or DEFAULT_METRICS))
    if opts.get("suite_dir") is None and suite.source.endswith(".json") and os.path.isfile(suite.source):
        opts["suite_dir"] = os.path.dirname(os.path.abspath(suite.source))  # relative portrait paths
    opts.setdefault("suite_ids", list(suite.ids))  # per-item character banks are recognised by item-id folders
    opts["metrics"] = metrics  # scorers that serve several metrics read which ones were asked for
    scorers = build_scorers(metrics, opts)
    opts.pop("_planning_only", None)

    need = max((s.frames_needed() for s in scorers), default=1)
    hard = max((s.frames_needed() for s in scorers if not s.can_pad), default=1)
    pad = opts["short_scenes"] == "pad"
    limit = opts["limit"]
    resolution = submission.resolve(suite, exact=exact, min_frames=need, pad_min_frames=hard if pad else None,
                                    limit=limit, progress=progress)
    scope = list(suite.ids if limit is None else suite.ids[:limit])
    plan = RunPlan(opts, metrics, scorers, resolution, scope)
    plan.setup_errors = [str(e).split("\n")[0] for s in scorers for e in s.setup_errors]

    absent = {p.item for p in resolution.problems if p.kind == "missing_item"}
    if scope and len(absent & set(scope)) == len(scope):
        found = sorted({p.item for p in resolution.problems if p.kind == "unknown_item" and p.item})
        raise MvbenchError(
            f"none of the {len(scope)} item(s) of suite {suite.name!r} is in {submission.root}"
            + (f"; the folder holds {len(found)} other item(s), e.g. {', '.join(found[:3])}" if found else ""),
            hint="check that --suite is the suite these videos were generated for (`mvbench list suites`), and "
                 "that files are named ITEM_ID/scene_K.mp4 or ITEM_ID.mp4")

    for i in resolution.items:
        try:
            plan.item_requests[i] = [r for s in scorers for r in s.requests(resolution.items[i])]
        except (WeightsMissingError, MissingExtraError):
            raise
        except (ValueError, MvbenchError) as exc:
            problem = Problem("cannot_plan", i, None, str(exc).split("\n")[0])
            resolution.problems.append(problem)
    for p in resolution.problems:
        if p.item in scope and (p.kind in BLOCKING):
            plan.blocking.setdefault(p.item, p)
        elif p.item in scope:
            plan.item_warnings.setdefault(p.item, []).append(str(p))
        else:
            plan.warnings.append(str(p))
    for i in plan.blocking:
        plan.item_requests.pop(i, None)
    return plan


def run_evaluation(suite: Suite, submission: Submission, metrics: list[str] | None = None,
                   options: dict | None = None, *, encoders: dict | None = None, plan: RunPlan | None = None) -> dict:
    """Evaluate ``submission`` on ``suite`` and return the results dict (see :mod:`mvbench.results`).

    ``encoders`` may supply prebuilt encoders by name (tests, notebooks); ``plan`` a plan already made
    by :func:`plan_run` with the same arguments.
    """
    from tqdm import tqdm

    from mvbench.compute import ComputePipeline, ComputeStats, EncoderPool
    from mvbench.distributed import dist_info, gather_objects
    from mvbench.features import FeatureCache
    from mvbench.results import build_results
    from mvbench.scorers import ClipRequest
    from mvbench.weights import mvbench_home

    if plan is None:
        check_weights_present(list(metrics or DEFAULT_METRICS), options)
        plan = plan_run(suite, submission, metrics, options)
    opts, metrics, scorers = plan.options, plan.metrics, plan.scorers
    resolution = plan.resolution
    rank, world = dist_info()

    failures: dict[str, dict] = {}
    for i, p in plan.blocking.items():
        stage = "plan" if p.kind == "cannot_plan" else "input"
        failures[i] = {"stage": stage, "kind": p.kind, "file": p.file, "error": p.message}

    mine = [i for i in plan.scope if i in plan.item_requests][rank::world]
    pool = EncoderPool(opts["device"], encoders)
    cache = FeatureCache(None if opts["no_cache"] else (opts["cache_dir"] or mvbench_home() / "features"))
    stats = ComputeStats()
    scores: dict[str, dict[str, ItemScore]] = {}
    local_failures: dict[str, dict] = {}
    chunk = max(1, int(opts["chunk_items"]))
    item_requests = plan.item_requests
    n_clips = sum(isinstance(r, ClipRequest) for i in mine for r in item_requests[i])
    bar = tqdm(total=n_clips, unit="clip", desc=f"{submission.model} [{suite.name}]",
               disable=not opts["progress"] or rank != 0, dynamic_ncols=True)
    chunks = [mine[start:start + chunk] for start in range(0, len(mine), chunk)]
    pipeline = ComputePipeline(opts, encoders=pool, cache=cache, stats=stats, progress=bar)
    try:
        for ids, got in zip(chunks, pipeline.run([r for i in ids for r in item_requests[i]] for ids in chunks)):
            for i in ids:
                bad = next((got[r] for r in item_requests[i] if isinstance(got.get(r), Exception)), None)
                if bad is not None:
                    local_failures[i] = {"stage": "decode", "kind": getattr(bad, "kind", "unreadable"),
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
        if plan.item_warnings.get(i):
            items_out[i]["warnings"] = plan.item_warnings[i]

    warnings = list(plan.warnings)
    n_warned = sum(1 for i in plan.scope if plan.item_warnings.get(i))
    if n_warned:
        warnings.append(f"{n_warned} item(s) have warnings (see items.ITEM.warnings and failures)")
    if any(truncated.values()):
        warnings.append("distinct prompts truncated to the text encoder's context (the encoder reads only "
                        f"their start): {truncated}")
    config = run_config(plan)
    runtime = {"world_size": world, "batch_size": int(opts["batch_size"]),
               "clips_encoded": sum(g[4].clips_encoded for g in gathered),
               "clips_from_cache": sum(g[4].clips_cached for g in gathered),
               "texts_encoded": sum(g[4].texts_encoded for g in gathered),
               "texts_from_cache": sum(g[4].texts_cached for g in gathered),
               "files_decoded": sum(g[4].decode.files_decoded for g in gathered),
               "files_decoded_by_seeking": sum(g[4].decode.seeks for g in gathered),
               "options": recorded_options(opts, runtime=True)}
    return build_results(
        model=submission.describe(),
        suite={"name": suite.name, "version": suite.version, "content_hash": suite.content_hash,
               "source": suite.source, "n_items": len(suite.items), "n_items_in_scope": len(plan.scope)},
        encoders=encoder_desc, config=config, metrics=summary, items=items_out,
        failures={i: failures[i] for i in suite.ids if i in failures}, device=str(opts["device"]),
        warnings=warnings,
    ) | {"truncated_prompts": truncated, "runtime": runtime}


def run_config(plan: RunPlan) -> dict:
    """The ``config`` block of a results file: metrics, resolved options and each scorer's settings."""
    opts = plan.options
    return {
        "metrics": plan.metrics,
        "seed": int(opts["seed"]),
        "bootstrap_resamples": int(opts["bootstrap"]),
        "scorers": {s.name: s.config() for s in plan.scorers},
        "limit": opts["limit"],
        "short_scenes": opts["short_scenes"],
        "options": recorded_options(opts),
    }


def _rel(exc: Exception, submission: Submission) -> str | None:
    msg = str(exc)
    path = msg.split(": ", 1)[0]
    try:
        return os.path.relpath(path, submission.root)
    except ValueError:
        return path
