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

Besides the numbers, a run records what it scored and how long it took: per item the files scored (in
scene order, with their content sha256, the hashes the feature cache key uses) and the prompts
(:func:`item_record`), ``model.videos_digest`` over every scored scene's file (:func:`videos_digest`),
and ``runtime.stage_seconds`` (:data:`STAGES`).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
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

__all__ = ["run_evaluation", "plan_run", "run_request", "build_scorers", "check_weights_present", "RunPlan",
           "item_record", "videos_digest", "STAGES"]

#: the stages timed in ``runtime.stage_seconds`` (wall seconds, :func:`time.perf_counter`): ``plan`` matching
#: the submission against the suite (probing files) and planning every item; ``compute`` waiting for decoded
#: frames and encoded features (decoding and encoding run in background threads and overlap with scoring:
#: this is the part scoring did not hide); ``score`` the scorers' per-item scores and summaries;
#: ``aggregate`` the metric summaries, intervals and results document. Writing the file is not included.
STAGES = ("plan", "compute", "score", "aggregate")


def build_scorers(metrics: list[str], options: dict) -> list[Scorer]:
    return [scorer_class(name)(options) for name in scorers_for_metrics(metrics)]


def run_request(metrics: list[str] | None, options: dict | None) -> tuple[list[str], dict, dict | None]:
    """``(metrics, options, preset record)`` of a run: the paper preset of ``options["protocol"]`` applied
    (:func:`mvbench.protocols.apply_protocol`), metrics defaulting to the preset's, else
    :data:`~mvbench.scorers.DEFAULT_METRICS`; group names expanded."""
    from mvbench.protocols import apply_protocol

    metrics, opts, preset = apply_protocol(list(metrics) if metrics else None, options)
    return expand_metric_names(list(metrics or DEFAULT_METRICS)), opts, preset


def missing_weights(scorer_classes, opts: Mapping[str, Any]) -> list[str]:
    """Weights entries the scorers would load with ``opts`` that are not in the cache (file checks only)."""
    from mvbench.weights import weight_path

    needed = [n for cls in scorer_classes for n in cls.required_weights(opts)]
    return [n for n in dict.fromkeys(needed) if not weight_path(n).is_file()]


def check_weights_present(metrics: list[str] | None, options: dict | None) -> None:
    """Raise one :class:`WeightsMissingError` naming every weight file the run would load but that is
    missing, before any network is built (cheap: file checks only). ``metrics`` None: the preset's
    (``options["protocol"]``) or the default ones."""
    from mvbench.weights import missing_message

    metrics, opts, _ = run_request(metrics, options)
    opts["metrics"] = metrics
    missing = missing_weights([scorer_class(name) for name in scorers_for_metrics(metrics)], opts)
    if not missing:
        return
    if len(missing) == 1:
        raise WeightsMissingError(*missing_message(missing[0]))
    lines = [missing_message(n)[0] for n in missing]
    raise WeightsMissingError(f"{len(missing)} weight files are missing:\n  " + "\n  ".join(lines),
                              hint="for each: `mvbench weights fetch NAME`, or `mvbench weights import NAME PATH` "
                                   "if you already have the file")


def missing_weight_errors(scorers: list[Scorer], opts: dict) -> list[str]:
    """One line per weight file the scorers would load that is not in the cache (what to run included)."""
    from mvbench.weights import missing_message

    return [" ".join(missing_message(n)).replace(" download them", "; download them")
            for n in missing_weights([type(s) for s in scorers], opts)]


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
    #: the paper preset applied (``--protocol``): name, paper, options it set, its metrics; None without one
    preset: dict | None = None
    #: wall seconds :func:`plan_run` took
    seconds: float = 0.0

    def problems(self) -> list[Problem]:
        """Every problem found, blocking first per item, in suite order."""
        return list(self.resolution.problems)


def plan_run(suite: Suite, submission: Submission, metrics: list[str] | None = None, options: dict | None = None,
             *, exact: bool = False, progress: bool = False, planning_only: bool = False) -> RunPlan:
    """Resolve options, build scorers, match the submission and plan every item (see module doc).

    ``planning_only`` (``validate``) collects scorer set-up problems (e.g. a missing FVD reference) in
    ``setup_errors`` instead of raising them, so that every problem is reported at once.
    """
    started = time.perf_counter()
    metrics, options, preset = run_request(metrics, options)
    opts = resolve_options(options)
    if planning_only:
        opts["_planning_only"] = True
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
    rank, world = 0, 1
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # torchrun: each rank probes its own items, all see all
        from mvbench.distributed import dist_info, gather_objects

        rank, world = dist_info()
    resolution = submission.resolve(suite, exact=exact, min_frames=need, pad_min_frames=hard if pad else None,
                                    limit=limit, progress=progress and rank == 0,
                                    part=(rank, world) if world > 1 else None,
                                    gather=(lambda got: gather_objects(got, world)) if world > 1 else None)
    scope = list(suite.ids if limit is None else suite.ids[:limit])
    plan = RunPlan(opts, metrics, scorers, resolution, scope, preset=preset)
    plan.setup_errors = [str(e).split("\n")[0] for s in scorers for e in s.setup_errors]
    if planning_only:  # evaluate refuses to start without these files: validate names each one
        plan.setup_errors += missing_weight_errors(scorers, opts)

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
    plan.seconds = time.perf_counter() - started
    return plan


@dataclass
class Part:
    """What one process (or one ``--shard`` job) contributes to a run: per-item scores (payloads of
    scorers with a :meth:`~mvbench.scorers.Scorer.partial` summary stripped), failures, those summaries,
    the encoders used, truncated prompts, counters, the scored items' records (:func:`item_record`) and
    the wall seconds of its stages. Parts of any split finish into the same results (wall times aside)."""

    scores: dict[str, dict[str, ItemScore]] = field(default_factory=dict)
    failures: dict[str, dict] = field(default_factory=dict)
    #: scorer -> summaries of :meth:`Scorer.partial`, one per process that scored items
    partials: dict[str, list] = field(default_factory=dict)
    encoders: dict[str, dict] = field(default_factory=dict)
    truncated: dict[str, set[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    #: item -> :func:`item_record` of each scored item
    records: dict[str, dict] = field(default_factory=dict)
    #: one ``{stage: seconds}`` per process that contributed (see :data:`STAGES`)
    stage_seconds: list[dict] = field(default_factory=list)

    def merge(self, other: Part) -> Part:
        out = Part({**self.scores, **other.scores}, {**self.failures, **other.failures},
                   {k: list(self.partials.get(k, [])) for k in self.partials}, {**self.encoders, **other.encoders},
                   {k: set(v) for k, v in self.truncated.items()}, dict(self.counts),
                   {**self.records, **other.records}, [*self.stage_seconds, *other.stage_seconds])
        for k, v in other.partials.items():
            out.partials.setdefault(k, []).extend(v)
        for k, v in other.truncated.items():
            out.truncated.setdefault(k, set()).update(v)
        for k, v in other.counts.items():
            out.counts[k] = out.counts.get(k, 0) + v
        return out


def run_header(plan: RunPlan, suite: Suite, submission: Submission) -> dict:
    """Everything :func:`finish_results` needs besides the parts (identical in every part of a run)."""
    opts = plan.options
    return {
        "model": submission.describe(),
        "suite": {"name": suite.name, "version": suite.version, "content_hash": suite.content_hash,
                  "source": suite.source, "n_items": len(suite.items), "n_items_in_scope": len(plan.scope)},
        "scope": list(plan.scope),
        "config": run_config(plan),
        "metrics": list(plan.metrics),
        "item_warnings": {i: plan.item_warnings[i] for i in plan.scope if plan.item_warnings.get(i)},
        "warnings": list(plan.warnings),
        "device": str(opts["device"]),
        "batch_size": int(opts["batch_size"]),
        "runtime_options": recorded_options(opts, runtime=True),
    }


def finish_results(header: dict, parts: list[Part], scorers: list[Scorer], *, world_size: int = 1,
                   extra_runtime: dict | None = None, options: dict | None = None) -> dict:
    """Aggregate the parts of a run (processes, shards) into its results dict. Items are walked in suite
    order whatever the split, so the numbers equal a single-process run's. ``options``: the run's resolved
    options (for the weights' calibration notes)."""
    from mvbench.results import build_results

    started = time.perf_counter()
    part = Part()
    for p in parts:
        part = part.merge(p)
    metrics = header["metrics"]
    seed = int(header["config"]["seed"])
    ordered = [i for i in header["scope"] if i in part.scores]
    summary: dict[str, dict] = {}
    for s in scorers:
        per_item = {i: part.scores[i][s.name] for i in ordered}
        if s.name in part.partials:
            got = s.aggregate_partials(per_item, part.partials[s.name], seed=seed)
        else:
            got = s.aggregate(per_item, seed=seed)
        for name, value in got.items():
            if name in metrics or METRIC_TO_SCORER.get(name) is None:
                summary[name] = value
    for name in metrics:
        summary.setdefault(name, {"mean": None, "ci95": None, "n": 0, "higher_is_better": True, "std": None})

    items_out = {}
    item_warnings = header["item_warnings"]
    for i in ordered:
        vals: dict[str, float] = {}
        details: dict[str, Any] = {}
        for sname, sc in part.scores[i].items():
            vals.update({k: v for k, v in sc.values.items() if k in summary})
            if sc.details:
                details[sname] = sc.details
        items_out[i] = {"scores": vals, "details": details, **part.records.get(i, {})}
        if item_warnings.get(i):
            items_out[i]["warnings"] = item_warnings[i]

    truncated = {k: len(v) for k, v in sorted(part.truncated.items())}
    warnings = list(header["warnings"])
    if item_warnings:
        warnings.append(f"{len(item_warnings)} item(s) have warnings (see items.ITEM.warnings and failures)")
    if any(truncated.values()):
        warnings.append("distinct prompts truncated to the text encoder's context (the encoder reads only "
                        f"their start): {truncated}")
    stages = _slowest(part.stage_seconds)
    runtime = {"world_size": world_size, "batch_size": header["batch_size"], **part.counts,
               **(extra_runtime or {}), "options": header["runtime_options"], "stage_seconds": stages}
    if len(part.stage_seconds) > 1:
        runtime["part_stage_seconds"] = [dict(s) for s in part.stage_seconds]
    notes = _weights_calibration(scorers, options or {}, part.encoders)
    digest = videos_digest({i: part.records[i] for i in ordered}) if all(i in part.records for i in ordered) else None
    doc = build_results(
        model={**header["model"], "videos_digest": digest}, suite=header["suite"], encoders=part.encoders,
        config=header["config"], metrics=summary, items=items_out,
        failures={i: part.failures[i] for i in header["scope"] if i in part.failures}, device=header["device"],
        warnings=warnings, calibration=notes,
    ) | {"truncated_prompts": truncated, "runtime": runtime}
    stages["aggregate"] = round(time.perf_counter() - started, 3)
    return doc


def _slowest(per_part: list[dict]) -> dict:
    """``{stage: seconds}`` of the slowest part per stage (parts run side by side), in :data:`STAGES` order."""
    return {k: max(float(s.get(k, 0.0)) for s in per_part) if per_part else 0.0 for k in STAGES[:-1]}


def _relative(path: str, root) -> str:
    """``path`` relative to the submission folder, with ``/`` separators (``mem://RUN/`` dropped)."""
    if path.startswith("mem://"):
        return path.split("/", 3)[-1]
    rel = os.path.relpath(path, root)
    return rel.replace(os.sep, "/")


def item_record(videos, root) -> dict:
    """What was scored for one item: ``files`` (one path per scene, relative to the submission folder
    ``root``, in scene order; an item held in one file repeats it), ``files_sha256`` (each file's content
    sha256, from :func:`mvbench.features.content_hash`, the memoised hash the feature cache keys use, so no
    file is read twice), ``prompts`` (the suite's scene prompts) and ``global_prompt`` when the item has one.

    >>> import tempfile, pathlib
    >>> from mvbench.scorers.base import ItemVideos, VideoRef
    >>> from mvbench.suite import Scene, SuiteItem
    >>> root = pathlib.Path(tempfile.mkdtemp()); _ = (root / "a.mp4").write_bytes(b"x")
    >>> refs = (VideoRef(str(root / "a.mp4"), 0, 4, 8.0), VideoRef(str(root / "a.mp4"), 4, 8, 8.0))
    >>> rec = item_record(ItemVideos(SuiteItem("a", (Scene("p1"), Scene("p2"))), refs), root)
    >>> rec["files"], rec["prompts"], rec["files_sha256"][0] == hashlib.sha256(b"x").hexdigest()
    (['a.mp4', 'a.mp4'], ['p1', 'p2'], True)
    """
    from mvbench.features import content_hash

    out = {"files": [_relative(v.path, root) for v in videos.scenes],
           "files_sha256": [content_hash(v.path) for v in videos.scenes],
           "prompts": [s.prompt for s in videos.item.scenes]}
    if videos.item.global_prompt is not None:
        out["global_prompt"] = videos.item.global_prompt
    return out


def videos_digest(records: dict[str, dict]) -> str:
    r"""One sha256 over the videos scored: the UTF-8 lines ``ITEM<TAB>K<TAB>SHA256<LF>``, one per scene ``K``
    (from 1) of each scored item, sorted by item then scene, where SHA256 is the scene's file content hash
    (``files_sha256`` of :func:`item_record`). Equal digests: the same bytes were scored for every scene.

    >>> videos_digest({"b": {"files_sha256": ["22"]}, "a": {"files_sha256": ["11", "11"]}}) == hashlib.sha256(
    ...     b"a\t1\t11\na\t2\t11\nb\t1\t22\n").hexdigest()
    True
    """
    h = hashlib.sha256()
    for item in sorted(records):
        for k, sha in enumerate(records[item]["files_sha256"], start=1):
            h.update(f"{item}\t{k}\t{sha}\n".encode())
    return h.hexdigest()


#: raw frames (uint8, FrameRequest results) a chunk of items may hold before its items are scored
FRAME_BUDGET_BYTES = 2 * 2**30


def chunk_size(plan: RunPlan, submission: Submission, items: list[str]) -> int:
    """Items decoded and encoded together: ``chunk_items``, fewer when the items' raw-frame requests
    (frame metrics reading every frame at native size) would hold more than :data:`FRAME_BUDGET_BYTES`."""
    from mvbench.scorers import FrameRequest

    size = {str(submission.root / rel): info.width * info.height * 3 for rel, info in plan.resolution.infos.items()}
    per_item = 0
    for i in items:
        per_item = max(per_item, sum(r.num_frames * size.get(r.video.path, 0) for r in plan.item_requests[i]
                                     if isinstance(r, FrameRequest)))
    chunk = max(1, int(plan.options["chunk_items"]))
    return max(1, min(chunk, FRAME_BUDGET_BYTES // per_item)) if per_item else chunk


def shard_items(scope: list[str], shard: tuple[int, int] | None) -> list[str]:
    """The items of part ``K`` of ``N`` (``--shard K/N``): every N-th item of the scope from the K-th.

    >>> shard_items(["a", "b", "c", "d", "e"], (1, 2))
    ['b', 'd']
    """
    return list(scope) if shard is None else list(scope)[shard[0]::shard[1]]


def run_evaluation(suite: Suite, submission: Submission, metrics: list[str] | None = None,
                   options: dict | None = None, *, encoders: dict | None = None, plan: RunPlan | None = None) -> dict:
    """Evaluate ``submission`` on ``suite`` and return the results dict (see :mod:`mvbench.results`), or,
    with the ``shard`` option, the partial results of that part (see :mod:`mvbench.shards`).

    ``encoders`` may supply prebuilt encoders by name (tests, notebooks); ``plan`` a plan already made
    by :func:`plan_run` with the same arguments.
    """
    from tqdm import tqdm

    from mvbench.compute import ComputePipeline, ComputeStats, EncoderPool
    from mvbench.distributed import dist_info, gather_objects
    from mvbench.features import FeatureCache
    from mvbench.scorers import ClipRequest
    from mvbench.shards import parse_shard
    from mvbench.weights import mvbench_home

    if plan is None:
        check_weights_present(metrics, options)
        plan = plan_run(suite, submission, metrics, options)
    opts, metrics, scorers = plan.options, plan.metrics, plan.scorers
    resolution = plan.resolution
    rank, world = dist_info()
    shard = parse_shard(opts.get("shard"))
    part_items = shard_items(plan.scope, shard)

    failures: dict[str, dict] = {}
    for i in part_items[rank::world]:
        p = plan.blocking.get(i)
        if p is not None:
            stage = "plan" if p.kind == "cannot_plan" else "input"
            failures[i] = {"stage": stage, "kind": p.kind, "file": p.file, "error": p.message}

    mine = [i for i in part_items[rank::world] if i in plan.item_requests]
    pool = EncoderPool(opts["device"], encoders)
    cache = FeatureCache(None if opts["no_cache"] else (opts["cache_dir"] or mvbench_home() / "features"))
    stats = ComputeStats()
    scores: dict[str, dict[str, ItemScore]] = {}
    item_requests = plan.item_requests
    chunk = chunk_size(plan, submission, mine)
    n_clips = sum(isinstance(r, ClipRequest) for i in mine for r in item_requests[i])
    bar = tqdm(total=n_clips, unit="clip", desc=f"{submission.model} [{suite.name}]",
               disable=not opts["progress"] or rank != 0, dynamic_ncols=True)
    chunks = [mine[start:start + chunk] for start in range(0, len(mine), chunk)]
    pipeline = ComputePipeline(opts, encoders=pool, cache=cache, stats=stats, progress=bar)
    seconds = {"plan": plan.seconds, "compute": 0.0, "score": 0.0}
    try:
        waited = time.perf_counter()
        for ids, got in zip(chunks, pipeline.run([r for i in ids for r in item_requests[i]] for ids in chunks)):
            scoring = time.perf_counter()
            seconds["compute"] += scoring - waited
            for i in ids:
                files = [_relative(v.path, submission.root) for v in resolution.items[i].scenes]
                bad = next((got[r] for r in item_requests[i] if isinstance(got.get(r), Exception)), None)
                if bad is not None:
                    failures[i] = {"stage": "decode", "kind": getattr(bad, "kind", "unreadable"),
                                   "file": _rel(bad, submission), "error": str(bad).split("\n")[0],
                                   "files": files}
                    continue
                try:
                    scores[i] = {s.name: s.score(resolution.items[i], got) for s in scorers}
                except (WeightsMissingError, MissingExtraError):
                    raise  # the run's set-up is incomplete: stop at once, for every item alike
                except (ValueError, MvbenchError) as exc:
                    failures[i] = {"stage": "score", "kind": "error", "file": None, "error": str(exc),
                                   "files": files}
            waited = time.perf_counter()
            seconds["score"] += waited - scoring
        seconds["compute"] += time.perf_counter() - waited
    finally:
        bar.close()

    local = Part(failures=failures, encoders=pool.describe(), truncated=pool.truncated_texts(),
                 counts={"clips_encoded": stats.clips_encoded, "clips_from_cache": stats.clips_cached,
                         "texts_encoded": stats.texts_encoded, "texts_from_cache": stats.texts_cached,
                         "files_decoded": stats.decode.files_decoded,
                         "files_decoded_by_seeking": stats.decode.seeks},
                 records={i: item_record(resolution.items[i], submission.root) for i in scores})
    stripped: set[str] = set()
    summing = time.perf_counter()
    for s in scorers:
        state = s.partial({i: sc[s.name] for i, sc in scores.items()})
        if state is not None:
            local.partials[s.name] = [state]
            stripped.add(s.name)
    seconds["score"] += time.perf_counter() - summing
    local.stage_seconds = [{k: round(v, 3) for k, v in seconds.items()}]
    local.scores = {i: {n: (ItemScore(sc.values, sc.details) if n in stripped else sc) for n, sc in per.items()}
                    for i, per in scores.items()}

    gathered = gather_objects(local, world)
    if rank != 0:
        return {}
    header = run_header(plan, suite, submission)
    if shard is not None:
        from mvbench.shards import partial_results

        merged = Part()
        for p in gathered:
            merged = merged.merge(p)
        return partial_results(header, merged, shard, world_size=world)
    return finish_results(header, gathered, scorers, world_size=world, options=opts)


def run_config(plan: RunPlan) -> dict:
    """The ``config`` block of a results file: metrics, resolved options and each scorer's settings."""
    opts = plan.options
    return {
        "metrics": plan.metrics,
        "seed": int(opts["seed"]),
        "bootstrap_resamples": int(opts["bootstrap"]),
        "ci_method": opts["ci_method"],
        "scorers": {s.name: s.config() for s in plan.scorers},
        "limit": opts["limit"],
        "short_scenes": opts["short_scenes"],
        "options": recorded_options(opts),
        "protocol": plan.preset,
    }


def weights_calibration(plan: RunPlan, encoder_desc: dict[str, dict]) -> dict[str, str]:
    """Why the weight files the run's scorers loaded are not verified published checkpoints, per weights
    entry (see :func:`mvbench.encoders.base.weights_calibration`); entries of the encoders in
    ``encoder_desc`` are left out (their description carries their own calibration)."""
    return _weights_calibration(plan.scorers, plan.options, encoder_desc)


def _weights_calibration(scorers: list[Scorer], options: dict, encoder_desc: dict[str, dict]) -> dict[str, str]:
    from mvbench.encoders.base import weights_calibration as check

    names = [n for s in scorers for n in type(s).required_weights(options)]
    own = {d.get("weights") for d in encoder_desc.values()} | set(encoder_desc)
    return check([n for n in names if n not in own])


def _rel(exc: Exception, submission: Submission) -> str | None:
    msg = str(exc)
    path = msg.split(": ", 1)[0]
    try:
        return os.path.relpath(path, submission.root)
    except ValueError:
        return path
