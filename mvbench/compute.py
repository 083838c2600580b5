"""Fulfilling scorer requests: prompts are encoded (cached), clip and frame requests go through one
:class:`~mvbench.decode_plan.DecodePlan` (each file decoded once for every request that needs it),
clips are encoded in batches (bf16 autocast on CUDA unless an encoder asks for fp32, fp32 on CPU),
and every feature is read from / written to the :class:`~mvbench.features.FeatureCache`.

GPU path: decoding runs in a thread pool ahead of the encoder (a bounded prefetch queue: the plan keeps
``2 x num_workers`` files in flight), batches are stacked into pinned host memory and copied with
``non_blocking``, and the host waits for batch ``b``'s features only after batch ``b + 1`` has been
launched, so the GPU does not sit idle at a batch or chunk boundary. On CUDA the clip frames travel
as uint8 and are resized and normalised on the GPU (``preprocess_device`` "cuda", part of the cache
key) unless the request carries a clip protocol's preprocessing (then it runs on the CPU, in the
decoding threads); with ``--decoder torchcodec-cuda`` they are decoded there too.

A file that cannot be decoded maps its requests to the :class:`~mvbench.errors.VideoDecodeError`
instead of raising, so that the runner fails that item only.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from mvbench.decode_plan import DecodePlan, DecodeStats, Ready
from mvbench.encoders import VideoEncoder, create_encoder
from mvbench.errors import MvbenchError, VideoDecodeError
from mvbench.features import TEXT_SUFFIX, FeatureCache, clip_key, text_key, tokenizer_settings
from mvbench.options import resolve_options
from mvbench.scorers import ClipRequest, FrameRequest, Request, TextRequest
from mvbench.video.backends import FrameDecoder, get_decoder
from mvbench.video.decode import decode_frames
from mvbench.video.frames import preprocess_frames
from mvbench.video.protocols import prepare_clip_frames
from mvbench.video.sampling import sample_indices
from mvbench.weights import mvbench_home

logger = logging.getLogger(__name__)


class EncoderPool:
    """Builds each named encoder once, on the run's device, in eval mode."""

    def __init__(self, device: str, prebuilt: dict[str, VideoEncoder] | None = None):
        self.device = device
        self._encoders: dict[str, VideoEncoder] = dict(prebuilt or {})
        self._lock = threading.RLock()
        self._truncated: dict[str, set[str]] = {}

    def get(self, name: str) -> VideoEncoder:
        with self._lock:  # the prefetch thread and the encoding thread both ask
            if name not in self._encoders:
                enc = create_encoder(name, device=self.device)
                enc.module.eval()
                self._encoders[name] = enc
            return self._encoders[name]

    def describe(self) -> dict[str, dict]:
        return {name: enc.describe() for name, enc in self._encoders.items()}

    def truncated_texts(self) -> dict[str, set[str]]:
        """Distinct prompt texts of this pool's requests that each text encoder truncated (merged across
        ranks by the runner); an encoder built elsewhere may have seen other prompts before."""
        return {n: set(self._truncated.get(n, set())) for n, e in self._encoders.items() if hasattr(e, "encode_text")}

    def note_truncated(self, name: str, texts) -> None:
        self._truncated.setdefault(name, set()).update(texts)


#: encoder calls always see a multiple of this many rows (padding with copies), so that a clip's
#: features do not depend on which other clips share its batch (BLAS kernels treat remainder rows
#: of a tile differently); this makes results independent of batch size, resume and sharding.
PAD_MULTIPLE = 8


def _pad_rows(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    extra = -n % PAD_MULTIPLE
    return torch.cat([x, x[:1].expand(extra, *x.shape[1:])]) if extra else x


def compute_precision(device: str, encoder: VideoEncoder | None = None) -> str:
    """Numeric mode an encoder runs in (part of the cache key): fp32 on CPU; on CUDA bf16 autocast,
    unless the encoder declares ``precision`` "fp32" (I3D: its logits are FVD features)."""
    if not str(device).startswith("cuda"):
        return "fp32"
    if encoder is not None and getattr(encoder, "precision", None) == "fp32":
        return "fp32"
    return "bf16-autocast"


def _autocast(device: str):
    if str(device).startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def _decode_clip(req: ClipRequest, encoder: VideoEncoder) -> torch.Tensor:
    """Per-request decoding (one decode per request, as before the decode plan; benchmarks compare
    against it): encoder input ``[T, 3, S, S]`` of an n-frame clip sampled over ``req.videos``."""
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
    texts_cached: int = 0
    decode: DecodeStats = field(default_factory=DecodeStats)


def preprocess_device(device: str) -> str:
    """Where clip frames are resized and normalised: on the GPU for CUDA runs, else on the CPU."""
    return "cuda" if str(device).startswith("cuda") else "cpu"


def _truncation_flags(enc, texts: list[str]) -> list[bool] | None:
    """Which prompts ``enc``'s tokenizer cuts (for prompts served from the cache, so truncation counts
    do not depend on the cache)."""
    tok = getattr(enc, "tokenizer", None)
    if tok is None:
        return None
    if hasattr(tok, "encode") and not callable(getattr(enc, "note_truncated", None)):
        return None
    try:
        got = tok(texts)
    except Exception:  # noqa: BLE001 - a tokenizer we do not know: no count
        return None
    if isinstance(got, tuple) and len(got) == 2:
        return [bool(x) for x in got[1]]
    ctx = getattr(enc, "context_length", None)
    if hasattr(tok, "encode") and ctx:
        return [len(tok.encode(t)) + 2 > ctx for t in texts]
    return None


def _encode_texts(texts: dict[str, list[TextRequest]], encoders: EncoderPool, cache: FeatureCache,
                  opts: dict, stats: ComputeStats, out: dict) -> None:
    bs = int(opts["batch_size"])
    for name, reqs in texts.items():
        enc = encoders.get(name)
        if not callable(getattr(enc, "encode_text", None)):
            raise MvbenchError(f"encoder {name!r} has no text tower; it cannot score prompts")
        desc = enc.describe()
        tok = tokenizer_settings(enc)
        precision = compute_precision(opts["device"], enc)
        todo: list[tuple[TextRequest, str]] = []
        hits: list[str] = []
        for r in reqs:
            key = text_key(r.text, desc, tok, precision)
            got = cache.get(name + TEXT_SUFFIX, key)
            if got is not None:
                out[r] = got
                hits.append(r.text)
                stats.texts_cached += 1
            else:
                todo.append((r, key))
        if hits and callable(getattr(enc, "note_truncated", None)):
            flags = _truncation_flags(enc, hits)
            if flags is not None:
                enc.note_truncated(hits, flags)
                encoders.note_truncated(name, [t for t, cut in zip(hits, flags) if cut])
        for i in range(0, len(todo), bs):
            chunk = todo[i:i + bs]
            with torch.inference_mode(), _autocast(opts["device"]):
                texts_in = [r.text for r, _ in chunk]
                texts_in += [""] * (-len(texts_in) % PAD_MULTIPLE)
                emb = enc.encode_text(texts_in).float().cpu().numpy()
            for (r, key), e in zip(chunk, emb):
                e = np.ascontiguousarray(e, dtype=np.float32)
                cache.put(name + TEXT_SUFFIX, key, e)
                out[r] = e
            stats.texts_encoded += len(chunk)
            seen = getattr(enc, "truncated_texts", set())  # every prompt this encoder ever cut
            encoders.note_truncated(name, [r.text for r, _ in chunk if r.text in seen])


@dataclass
class _Batch:
    name: str
    encoder: VideoEncoder
    items: list[tuple[ClipRequest, str, Ready]]
    #: parts are uint8 frames to resize on the GPU (else already preprocessed on the CPU)
    gpu_pre: bool = False
    feats: torch.Tensor | None = None


class _ClipEncoder:
    """Stacks ready clips into batches per (encoder, clip length), launches each batch, and collects
    its features one batch later (so the GPU always has the next batch queued)."""

    def __init__(self, opts: dict, cache: FeatureCache, stats: ComputeStats, out: dict, progress: tqdm | None):
        self.device = opts["device"]
        self.bs = int(opts["batch_size"])
        self.gpu_pre = preprocess_device(self.device) == "cuda"
        self.pin = str(self.device).startswith("cuda") and torch.cuda.is_available()
        self.cache, self.stats, self.out, self.progress = cache, stats, out, progress
        self.open: dict[tuple[str, int], _Batch] = {}
        self.launched: _Batch | None = None

    def add(self, name: str, enc: VideoEncoder, req: ClipRequest, key: str, ready: Ready) -> None:
        n = len(ready.where)
        gpu = self.gpu_pre and req.preprocess is None  # uint8 parts, resized on the GPU
        batch = self.open.setdefault((name, n, gpu), _Batch(name, enc, [], gpu))
        batch.items.append((req, key, ready))
        if len(batch.items) >= self.bs:
            self._launch(self.open.pop((name, n, gpu)))

    def flush(self) -> None:
        for k in list(self.open):
            self._launch(self.open.pop(k))
        self._collect()

    def _inputs(self, batch: _Batch) -> torch.Tensor:
        enc = batch.encoder
        if not batch.gpu_pre:
            x = [r.assemble() for _, _, r in batch.items]
            if self.pin:
                buf = torch.empty((len(x), *x[0].shape), dtype=x[0].dtype, pin_memory=True)
                torch.stack(x, out=buf)
                return buf.to(self.device, non_blocking=True)
            return torch.stack(x).to(self.device)
        # uint8 parts -> device (one pinned copy per frame size) -> resize + normalise there
        groups: dict[tuple, list[tuple[int, int, torch.Tensor]]] = {}
        for b, (_, _, r) in enumerate(batch.items):
            for k, part in enumerate(r.parts):
                groups.setdefault(tuple(part.shape[1:]), []).append((b, k, part))
        done: dict[tuple[int, int], torch.Tensor] = {}
        for members in groups.values():
            cat = torch.cat([p for _, _, p in members])
            if cat.device.type == "cpu":
                if self.pin:
                    cat = cat.pin_memory()
                cat = cat.to(self.device, non_blocking=True)
            pre = preprocess_frames(cat, enc.preprocess)
            start = 0
            for b, k, p in members:
                done[(b, k)] = pre[start:start + p.shape[0]]
                start += p.shape[0]
        clips = [torch.stack([done[(b, k)][j] for k, j in r.where]) for b, (_, _, r) in enumerate(batch.items)]
        return torch.stack(clips)

    def _launch(self, batch: _Batch) -> None:
        try:
            x = self._inputs(batch)
            with torch.inference_mode(), _autocast(self.device):
                batch.feats = batch.encoder.encode_video(_pad_rows(x))[: len(batch.items)]
        except BaseException:
            self._collect()  # keep (and cache) the finished batch before the error propagates
            raise
        self._collect()
        self.launched = batch

    def _collect(self) -> None:
        batch, self.launched = self.launched, None
        if batch is None:
            return
        feats = batch.feats.float().cpu().numpy()
        for (r, key, _), f in zip(batch.items, feats):
            f = np.ascontiguousarray(f, dtype=np.float32)
            self.cache.put(batch.name, key, f)
            self.out[r] = f
        self.stats.clips_encoded += len(batch.items)
        if self.progress is not None:
            self.progress.update(len(batch.items))


_STOP = object()


class ComputePipeline:
    """Fulfils chunks of requests with decoding running ahead in a background thread.

    :meth:`run` takes an iterable of request lists (chunks of items) and yields, per chunk, the mapping
    request -> result. A producer thread looks up each chunk's clips in the cache, plans its decoding and
    decodes it (itself through a thread pool) into a bounded queue, already working on chunk ``c + 1``
    while the encoder finishes chunk ``c``; prompts are encoded on the calling thread.
    """

    def __init__(self, options: dict | None = None, *, encoders: EncoderPool | None = None,
                 cache: FeatureCache | None = None, stats: ComputeStats | None = None,
                 progress: tqdm | None = None, decoder: FrameDecoder | None = None):
        self.opts = resolve_options(options)
        self.encoders = encoders or EncoderPool(self.opts["device"])
        if cache is None:
            root = None if self.opts["no_cache"] else (self.opts["cache_dir"] or mvbench_home() / "features")
            cache = FeatureCache(root)
        self.cache = cache
        self.stats = stats if stats is not None else ComputeStats()
        self.progress = progress
        self.decoder = decoder or get_decoder(self.opts.get("decoder"), self.opts["device"])
        self.pre_dev = preprocess_device(self.opts["device"])
        #: queued decoded requests at most (bounds host memory between decoding and the encoder)
        self.queue_size = 2 * int(self.opts["batch_size"]) + 8

    # ------------------------------------------------------------------ producer (background thread)
    def _tick(self, n: int = 1) -> None:
        if self.progress is not None:
            self.progress.update(n)

    def _group(self, req) -> tuple | None:
        """How a request's frames are prepared: raw (frame requests, or clips resized later on the GPU)
        or with its encoder's preprocessing or the clip protocol's it carries (on the CPU, in the worker)."""
        if isinstance(req, FrameRequest):
            return None
        if self.pre_dev == "cuda" and req.preprocess is None:
            return ("uint8",)
        return (req.encoder, req.preprocess)

    def _transform(self, key: tuple, frames: torch.Tensor) -> torch.Tensor:
        if key == ("uint8",):
            return frames  # resized on the GPU by the batcher
        encoder, preprocess = key
        enc = self.encoders.get(encoder)
        if preprocess is not None:  # a clip protocol's resizing and normalisation (OpenCV, torchvision rules)
            return prepare_clip_frames(frames.cpu(), preprocess, enc.preprocess)
        return preprocess_frames(frames.cpu(), enc.preprocess)

    def _prepare(self, requests: list[Request]) -> tuple[dict, dict, dict, DecodePlan]:
        """Split a chunk, serve clips from the cache: (texts by encoder, results so far, clip keys, plan)."""
        texts: dict[str, list[TextRequest]] = {}
        clips: list[ClipRequest] = []
        frames: list[FrameRequest] = []
        for r in dict.fromkeys(requests):
            if isinstance(r, TextRequest):
                texts.setdefault(r.encoder, []).append(r)
            elif isinstance(r, ClipRequest):
                clips.append(r)
            elif isinstance(r, FrameRequest):
                frames.append(r)
            else:
                raise TypeError(f"unknown request type {type(r).__name__}")
        out: dict[Request, Any] = {}
        keys: dict[ClipRequest, str] = {}
        device = self.opts["device"]
        for r in clips:
            enc = self.encoders.get(r.encoder)
            if self.cache.root is None:  # no cache: no key (hashing every file would be wasted work)
                keys[r] = ""
                continue
            try:
                keys[r] = clip_key(r, enc.describe(), r.num_frames or enc.preprocess.num_frames,
                                   compute_precision(device, enc), decoder=self.decoder.name,
                                   preprocess_device=self.pre_dev if r.preprocess is None else "cpu")
            except OSError as exc:
                out[r] = VideoDecodeError(f"{r.videos[0].path}: cannot read file ({exc})")
                self._tick()
                continue
            hit = self.cache.get(r.encoder, keys[r])
            if hit is not None:
                out[r] = hit
                self.stats.clips_cached += 1
                self._tick()
        todo = [r for r in clips if r not in out]
        plan = DecodePlan(todo + frames, clip_frames=lambda r: self.encoders.get(r.encoder).preprocess.num_frames)
        return texts, out, keys, plan

    def _produce(self, chunks: Iterable[list[Request]], q: queue.Queue, stop: threading.Event) -> None:
        def put(msg) -> bool:
            while not stop.is_set():
                try:
                    q.put(msg, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            for requests in chunks:
                texts, out, keys, plan = self._prepare(list(requests))
                if not put(("chunk", texts, out, keys)):
                    return
                for req, got in plan.execute(self.decoder, workers=int(self.opts["num_workers"]),
                                             group=self._group, transform=self._transform,
                                             stats=self.stats.decode):
                    if not put(("request", req, got)):
                        return
                if not put(("end",)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put(("error", exc))
        finally:
            put(("done",))

    # ----------------------------------------------------------------- consumer (calling thread)
    def run(self, chunks: Iterable[list[Request]]) -> Iterator[dict[Request, Any]]:
        q: queue.Queue = queue.Queue(maxsize=self.queue_size)
        stop = threading.Event()
        producer = threading.Thread(target=self._produce, args=(chunks, q, stop), name="mvbench-prefetch",
                                    daemon=True)
        producer.start()
        out: dict[Request, Any] = {}
        keys: dict[ClipRequest, str] = {}
        batcher = _ClipEncoder(self.opts, self.cache, self.stats, out, self.progress)
        try:
            while True:
                msg = q.get()
                kind = msg[0]
                if kind == "chunk":
                    _, texts, out, keys = msg
                    batcher.out = out
                    _encode_texts(texts, self.encoders, self.cache, self.opts, self.stats, out)
                elif kind == "request":
                    _, req, got = msg
                    if isinstance(got, Exception):
                        out[req] = got
                        if isinstance(req, ClipRequest):
                            self._tick()
                    elif isinstance(req, FrameRequest):
                        out[req] = got.assemble()
                    else:
                        batcher.add(req.encoder, self.encoders.get(req.encoder), req, keys[req], got)
                elif kind == "end":
                    batcher.flush()
                    yield out
                elif kind == "error":
                    raise msg[1]
                else:  # done
                    return
        finally:
            stop.set()
            producer.join()


def compute_requests(requests: Iterable[Request], options: dict | None = None, *,
                     encoders: EncoderPool | None = None, cache: FeatureCache | None = None,
                     stats: ComputeStats | None = None, progress: tqdm | None = None,
                     decoder: FrameDecoder | None = None) -> dict[Request, Any]:
    """Fulfil scorer requests: clip -> float32 feature ``[d]`` (numpy), text -> ``[d]``, frames -> uint8
    tensor ``[N, H, W, 3]`` (CPU). A request whose video cannot be decoded maps to the
    :class:`VideoDecodeError`. Every file is decoded once for all the clip and frame requests given."""
    pipeline = ComputePipeline(options, encoders=encoders, cache=cache, stats=stats, progress=progress,
                               decoder=decoder)
    for out in pipeline.run([list(requests)]):
        return out
    return {}
