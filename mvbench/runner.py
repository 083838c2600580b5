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
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from mvbench.encoders import VideoEncoder, create_encoder
from mvbench.errors import MvbenchError, VideoDecodeError
from mvbench.features import FeatureCache, clip_key
from mvbench.results import build_results
from mvbench.scorers import (
    DEFAULT_METRICS,
    METRIC_TO_SCORER,
    ClipRequest,
    FrameRequest,
    ItemScore,
    Request,
    Scorer,
    TextRequest,
    VideoRef,
    expand_metric_names,
    scorer_class,
    scorers_for_metrics,
)
from mvbench.submission import BLOCKING, Submission
from mvbench.suite import Suite
from mvbench.video.decode import decode_frames
from mvbench.video.frames import preprocess_frames
from mvbench.video.sampling import sample_indices
from mvbench.weights import mvbench_home

DEFAULTS: dict[str, Any] = {
    "encoder": "viclip-l14",
    "device": None,
    "batch_size": 16,
    "num_workers": None,
    "cache_dir": None,
    "no_cache": False,
    "seed": 0,
    "bootstrap": 1000,
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


# --------------------------------------------------------------------------------------------
# encoders
# --------------------------------------------------------------------------------------------
class EncoderPool:
    """Builds each named encoder once, on the run's device, in eval mode."""

    def __init__(self, device: str, prebuilt: dict[str, VideoEncoder] | None = None):
        self.device = device
        self._encoders: dict[str, VideoEncoder] = dict(prebuilt or {})

    def get(self, name: str) -> VideoEncoder:
        if name not in self._encoders:
            enc = create_encoder(name, device=self.device)
            enc.module.eval()
            self._encoders[name] = enc
        return self._encoders[name]

    def describe(self) -> dict[str, dict]:
        return {name: enc.describe() for name, enc in self._encoders.items()}

    def truncated_prompts(self) -> dict[str, int]:
        return {n: int(getattr(e, "truncated_prompts", 0)) for n, e in self._encoders.items()}


#: encoder calls always see a multiple of this many rows (padding with copies), so that a clip's
#: features do not depend on which other clips share its batch (BLAS kernels treat remainder rows
#: of a tile differently); this makes results independent of batch size, resume and sharding.
PAD_MULTIPLE = 8


def _pad_rows(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    extra = -n % PAD_MULTIPLE
    return torch.cat([x, x[:1].expand(extra, *x.shape[1:])]) if extra else x


def _autocast(device: str):
    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


# --------------------------------------------------------------------------------------------
# decoding
# --------------------------------------------------------------------------------------------
def _clip_frames(videos: tuple[VideoRef, ...], n: int, mode: str, stride: int) -> torch.Tensor:
    """uint8 frames of an n-frame clip sampled over the concatenation of ``videos``."""
    total = sum(v.num_frames for v in videos)
    idx = sample_indices(total, n, mode, stride)
    per_file: dict[int, list[int]] = {}
    where: list[tuple[int, int]] = []
    for g in idx:
        k = 0
        while g >= videos[k].num_frames:
            g -= videos[k].num_frames
            k += 1
        per_file.setdefault(k, []).append(videos[k].start + g)
        where.append((k, len(per_file[k]) - 1))
    decoded = {k: decode_frames(videos[k].path, local) for k, local in per_file.items()}
    return torch.stack([decoded[k][j] for k, j in where])


def _decode_clip(req: ClipRequest, encoder: VideoEncoder) -> torch.Tensor:
    n = req.num_frames or encoder.preprocess.num_frames
    try:
        frames = _clip_frames(req.videos, n, req.sampling, req.stride)
    except ValueError as exc:  # sampling impossible (e.g. too few frames for 'first')
        raise VideoDecodeError(f"{req.videos[0].path}: {exc}") from exc
    return preprocess_frames(frames, encoder.preprocess)


# --------------------------------------------------------------------------------------------
# request fulfilment
# --------------------------------------------------------------------------------------------
@dataclass
class ComputeStats:
    clips_encoded: int = 0
    clips_cached: int = 0
    texts_encoded: int = 0


def compute_requests(requests: Iterable[Request], options: dict | None = None, *,
                     encoders: EncoderPool | None = None, cache: FeatureCache | None = None,
                     stats: ComputeStats | None = None, progress: tqdm | None = None) -> dict[Request, Any]:
    """Fulfil scorer requests: clip -> float32 feature ``[d]`` (numpy), text -> ``[d]``, frames -> uint8
    tensor. A request whose video cannot be decoded maps to the :class:`VideoDecodeError`."""
    opts = resolve_options(options)
    encoders = encoders or EncoderPool(opts["device"])
    if cache is None:
        cache = FeatureCache(None if opts["no_cache"] else (opts["cache_dir"] or mvbench_home() / "features"))
    stats = stats if stats is not None else ComputeStats()
    out: dict[Request, Any] = {}
    unique = list(dict.fromkeys(requests))

    texts: dict[str, list[TextRequest]] = {}
    clips: dict[tuple[str, int | None], list[ClipRequest]] = {}  # batched by encoder and clip length
    frames: list[FrameRequest] = []
    for r in unique:
        if isinstance(r, TextRequest):
            texts.setdefault(r.encoder, []).append(r)
        elif isinstance(r, ClipRequest):
            clips.setdefault((r.encoder, r.num_frames), []).append(r)
        elif isinstance(r, FrameRequest):
            frames.append(r)
        else:
            raise TypeError(f"unknown request type {type(r).__name__}")

    bs = int(opts["batch_size"])
    for name, reqs in texts.items():
        enc = encoders.get(name)
        if not callable(getattr(enc, "encode_text", None)):
            raise MvbenchError(f"encoder {name!r} has no text tower; it cannot score prompts")
        for i in range(0, len(reqs), bs):
            chunk = reqs[i:i + bs]
            with torch.inference_mode(), _autocast(opts["device"]):
                texts_in = [r.text for r in chunk]
                texts_in += [""] * (-len(texts_in) % PAD_MULTIPLE)
                emb = enc.encode_text(texts_in).float().cpu().numpy()
            for r, e in zip(chunk, emb):
                out[r] = e
            stats.texts_encoded += len(chunk)

    with ThreadPoolExecutor(max_workers=int(opts["num_workers"])) as pool:
        for (name, _n), reqs in clips.items():
            enc = encoders.get(name)
            desc = enc.describe()
            todo: list[tuple[ClipRequest, str]] = []
            for r in reqs:
                try:
                    key = clip_key(r, desc, r.num_frames or enc.preprocess.num_frames)
                except OSError as exc:
                    out[r] = VideoDecodeError(f"{r.videos[0].path}: cannot read file ({exc})")
                    continue
                hit = cache.get(name, key)
                if hit is not None:
                    out[r] = hit
                    stats.clips_cached += 1
                    if progress is not None:
                        progress.update(1)
                else:
                    todo.append((r, key))
            for batch in _batches(pool.map(lambda rk, e=enc: _safe_decode(rk[0], e), todo), todo, bs):
                good = [(r, k, x) for (r, k), x in batch if not isinstance(x, Exception)]
                for (r, _k), x in batch:
                    if isinstance(x, Exception):
                        out[r] = x
                if good:
                    x = torch.stack([g[2] for g in good]).to(opts["device"], non_blocking=True)
                    with torch.inference_mode(), _autocast(opts["device"]):
                        feats = enc.encode_video(_pad_rows(x)).float().cpu().numpy()
                    for (r, k, _), f in zip(good, feats):
                        f = np.ascontiguousarray(f, dtype=np.float32)
                        cache.put(name, k, f)
                        out[r] = f
                    stats.clips_encoded += len(good)
                if progress is not None:
                    progress.update(len(batch))

        for r in frames:
            try:
                idx = sample_indices(r.video.num_frames, r.num_frames, r.sampling)
                out[r] = decode_frames(r.video.path, [r.video.start + i for i in idx])
            except (VideoDecodeError, ValueError) as exc:
                out[r] = exc if isinstance(exc, VideoDecodeError) else VideoDecodeError(f"{r.video.path}: {exc}")
    return out


def _safe_decode(req: ClipRequest, enc: VideoEncoder) -> torch.Tensor | Exception:
    try:
        return _decode_clip(req, enc)
    except VideoDecodeError as exc:
        return exc


def _batches(results: Iterator, todo: list, bs: int):
    batch = []
    for item, res in zip(todo, results):
        batch.append((item, res))
        if len(batch) == bs:
            yield batch
            batch = []
    if batch:
        yield batch


# --------------------------------------------------------------------------------------------
# distributed
# --------------------------------------------------------------------------------------------
def _dist_info() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and dist.is_available():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend)
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _gather(obj: Any, world: int) -> list[Any]:
    if world == 1:
        return [obj]
    import torch.distributed as dist

    parts: list[Any] = [None] * world
    dist.all_gather_object(parts, obj)
    return parts


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------
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
    scorers = build_scorers(metrics, opts)
    rank, world = _dist_info()

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
    n_clips = sum(sum(isinstance(r, ClipRequest) for s in scorers for r in s.requests(resolution.items[i]))
                  for i in mine)
    bar = tqdm(total=n_clips, unit="clip", desc=f"{submission.model} [{suite.name}]",
               disable=not opts["progress"] or rank != 0, dynamic_ncols=True)
    try:
        for start in range(0, len(mine), chunk):
            ids = mine[start:start + chunk]
            reqs = {i: [r for s in scorers for r in s.requests(resolution.items[i])] for i in ids}
            got = compute_requests([r for i in ids for r in reqs[i]], opts, encoders=pool, cache=cache,
                                   stats=stats, progress=bar)
            for i in ids:
                bad = next((got[r] for r in reqs[i] if isinstance(got.get(r), Exception)), None)
                if bad is not None:
                    local_failures[i] = {"stage": "decode", "kind": "unreadable",
                                         "file": _rel(bad, submission), "error": str(bad).split("\n")[0]}
                    continue
                try:
                    scores[i] = {s.name: s.score(resolution.items[i], got) for s in scorers}
                except (ValueError, MvbenchError) as exc:
                    local_failures[i] = {"stage": "score", "kind": "error", "file": None, "error": str(exc)}
    finally:
        bar.close()

    gathered = _gather((scores, local_failures, pool.describe(), pool.truncated_prompts(), stats), world)
    if rank != 0:
        return {}
    all_scores: dict[str, dict[str, ItemScore]] = {}
    encoder_desc: dict[str, dict] = {}
    truncated: dict[str, int] = {}
    for sc, fl, desc, trunc, _st in gathered:
        all_scores.update(sc)
        failures.update(fl)
        encoder_desc.update(desc)
        for k, v in trunc.items():
            truncated[k] = truncated.get(k, 0) + v
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

    if truncated and any(truncated.values()):
        warnings.append(f"prompts truncated to the text encoder's context: {truncated}")
    config = {
        "metrics": metrics,
        "seed": int(opts["seed"]),
        "bootstrap_resamples": int(opts["bootstrap"]),
        "scorers": {s.name: s.config() for s in scorers},
        "limit": opts["limit"],
        "truncated_prompts": truncated,
    }
    return build_results(
        model=submission.describe(),
        suite={"name": suite.name, "version": suite.version, "content_hash": suite.content_hash,
               "source": suite.source, "n_items": len(suite.items)},
        encoders=encoder_desc, config=config, metrics=summary, items=items_out,
        failures={i: failures[i] for i in suite.ids if i in failures}, device=str(opts["device"]),
        warnings=warnings,
    ) | {"runtime": {"world_size": world, "batch_size": int(opts["batch_size"]),
                     "clips_encoded": sum(g[4].clips_encoded for g in gathered),
                     "clips_from_cache": sum(g[4].clips_cached for g in gathered)}}


def _rel(exc: Exception, submission: Submission) -> str | None:
    msg = str(exc)
    path = msg.split(": ", 1)[0]
    try:
        return os.path.relpath(path, submission.root)
    except ValueError:
        return path
