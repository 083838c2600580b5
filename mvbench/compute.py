"""Fulfilling scorer requests: decode clips in a thread pool, encode them in batches (bf16 autocast on
CUDA, fp32 on CPU), and read/write each feature through the :class:`~mvbench.features.FeatureCache`.

A file that cannot be decoded maps its requests to the :class:`~mvbench.errors.VideoDecodeError`
instead of raising, so that the runner fails that item only.
"""

from __future__ import annotations

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
from mvbench.options import resolve_options
from mvbench.scorers import ClipRequest, FrameRequest, Request, TextRequest
from mvbench.video.decode import decode_frames
from mvbench.video.frames import preprocess_frames
from mvbench.video.protocols import prepare_clip_frames
from mvbench.video.sampling import sample_indices
from mvbench.weights import mvbench_home


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

    def truncated_texts(self) -> dict[str, set[str]]:
        """Distinct truncated prompt texts per text encoder (merged across ranks by the runner)."""
        return {n: set(getattr(e, "truncated_texts", set())) for n, e in self._encoders.items()
                if hasattr(e, "encode_text")}


#: encoder calls always see a multiple of this many rows (padding with copies), so that a clip's
#: features do not depend on which other clips share its batch (BLAS kernels treat remainder rows
#: of a tile differently); this makes results independent of batch size, resume and sharding.
PAD_MULTIPLE = 8


def _pad_rows(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    extra = -n % PAD_MULTIPLE
    return torch.cat([x, x[:1].expand(extra, *x.shape[1:])]) if extra else x


def compute_precision(device: str) -> str:
    """Numeric mode encoders run in: bf16 autocast on CUDA, fp32 elsewhere (part of the cache key)."""
    return "bf16-autocast" if str(device).startswith("cuda") else "fp32"


def _autocast(device: str):
    if compute_precision(device) == "bf16-autocast":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def _decode_clip(req: ClipRequest, encoder: VideoEncoder) -> torch.Tensor:
    """Encoder input ``[T, 3, S, S]`` of an n-frame clip sampled over the concatenation of
    ``req.videos``. Each file's frames are preprocessed (resized) on their own before being put
    together, so scenes of different sizes can share a clip."""
    n = req.num_frames or encoder.preprocess.num_frames
    videos = req.videos
    try:
        idx = sample_indices(sum(v.num_frames for v in videos), n, req.sampling, req.stride)
    except ValueError as exc:  # sampling impossible (e.g. too few frames for 'first')
        raise VideoDecodeError(f"{videos[0].path}: {exc}") from exc
    per_file: dict[int, list[int]] = {}
    where: list[tuple[int, int]] = []
    for g in idx:
        k = 0
        while g >= videos[k].num_frames:
            g -= videos[k].num_frames
            k += 1
        per_file.setdefault(k, []).append(videos[k].start + g)
        where.append((k, len(per_file[k]) - 1))
    ready = {k: _prepare(decode_frames(videos[k].path, local), req, encoder) for k, local in per_file.items()}
    return torch.stack([ready[k][j] for k, j in where])


def _prepare(frames: torch.Tensor, req: ClipRequest, encoder: VideoEncoder) -> torch.Tensor:
    """Decoded uint8 frames -> encoder input: the request's own preprocessing (a clip protocol, see
    :mod:`mvbench.video.protocols`) when it carries one, else the encoder's."""
    if req.preprocess is not None:
        return prepare_clip_frames(frames, req.preprocess, encoder.preprocess)
    return preprocess_frames(frames, encoder.preprocess)


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
                    key = clip_key(r, desc, r.num_frames or enc.preprocess.num_frames,
                                   compute_precision(opts["device"]))
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
