"""One decode per file per run: gather every frame every request needs, decode each file once, hand
each request its frames, and release a file's frames as soon as its requests have their part.

A :class:`DecodePlan` is built from the clip and frame requests of a chunk of items (those not already
served by the feature cache). For each request it records its *taps*: the ``(file, frame index)`` of
each output frame, in order (clip requests sample over the concatenation of their videos, as
:func:`mvbench.video.sampling.sample_indices` says; frame requests sample one video). Per file, the
union of the taps' indices is what gets decoded: one call of the backend (sequential or seeking,
see :mod:`mvbench.video.backends`) per file.

:meth:`DecodePlan.execute` decodes files in a thread pool (PyAV and torchcodec release the GIL) with
at most ``inflight`` files at once, in the order files are first needed, and yields each request as
soon as all its files are decoded, in request order. In the worker that decoded a file, each request's
frames from that file are cut out (and, through ``transform``, preprocessed) as the request's *part*
of that file; the decoded frames are then dropped. Only parts of requests still waiting for another
file (a clip over several scenes) are held, so memory stays bounded by ``inflight`` files plus those
parts. A file that cannot be decoded fails exactly the requests that need it.

>>> from mvbench.scorers import FrameRequest, VideoRef
>>> ref = VideoRef("scene.mp4", 0, 48, 8.0)
>>> plan = DecodePlan([FrameRequest(ref, 4, "middle"), FrameRequest(ref, 2, "first")])
>>> plan.frames_needed("scene.mp4")
[0, 1, 6, 18, 30, 42]
>>> len(plan.files)
1
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mvbench.errors import VideoDecodeError
from mvbench.scorers.base import ClipRequest, FrameRequest
from mvbench.video.memory import is_memory_path
from mvbench.video.sampling import sample_indices

logger = logging.getLogger(__name__)

PlannedRequest = ClipRequest | FrameRequest


def request_taps(req: PlannedRequest, clip_frames: int | None = None) -> list[tuple[str, int]]:
    """``(file, absolute frame index)`` of each frame of ``req``, in output order.

    A clip request with ``num_frames`` None takes ``clip_frames`` (the encoder's clip length).

    >>> from mvbench.scorers import ClipRequest, VideoRef
    >>> a, b = VideoRef("a.mp4", 0, 4, 8.0), VideoRef("b.mp4", 10, 14, 8.0)
    >>> request_taps(ClipRequest("tiny", (a, b), "middle", 4))
    [('a.mp4', 1), ('a.mp4', 3), ('b.mp4', 11), ('b.mp4', 13)]
    """
    if isinstance(req, FrameRequest):
        v = req.video
        return [(v.path, v.start + i) for i in sample_indices(v.num_frames, req.num_frames, req.sampling)]
    n = req.num_frames or clip_frames
    if not n:
        raise ValueError("a clip request without num_frames needs the encoder's clip length")
    videos = req.videos
    out = []
    for g in sample_indices(sum(v.num_frames for v in videos), n, req.sampling, req.stride):
        k = 0
        while g >= videos[k].num_frames:
            g -= videos[k].num_frames
            k += 1
        out.append((videos[k].path, videos[k].start + g))
    return out


def _take_rows(x, rows: list[int]):
    """Rows of a tensor: a view when they are consecutive (no copy), else a new tensor."""
    import torch

    if rows and rows == list(range(rows[0], rows[0] + len(rows))):
        return x.narrow(0, rows[0], len(rows))
    return x.index_select(0, torch.as_tensor(rows, device=x.device))


@dataclass
class Ready:
    """A request whose files are all decoded: its parts (one per file, in first-use order) and, per output
    frame, which part and which row of it. :meth:`assemble` stacks them."""

    request: PlannedRequest
    parts: list[Any]
    where: list[tuple[int, int]]

    def assemble(self):
        import torch

        if len(self.parts) == 1 and self.where == [(0, j) for j in range(len(self.where))]:
            return self.parts[0]
        return torch.stack([self.parts[k][j] for k, j in self.where])


@dataclass
class _Entry:
    taps: list[tuple[str, int]]
    files: list[str]  # distinct, first-use order
    where: list[tuple[int, int]]  # per output frame: (file position in ``files``, row in that part)
    rows: dict[str, list[int]]  # file -> absolute indices of the part's rows (repeats kept)


@dataclass
class DecodeStats:
    files_decoded: int = 0
    frames_decoded: int = 0
    seeks: int = 0  # files decoded by seeking
    decodes_per_file: dict[str, int] = field(default_factory=dict)


class DecodePlan:
    """Every frame each request needs, per file (see the module doc).

    ``clip_frames(req)`` gives the clip length of a clip request without ``num_frames`` (the encoder's).
    Requests whose sampling is impossible (too few frames) are in :attr:`errors` and get no taps.
    """

    def __init__(self, requests: Sequence[PlannedRequest], clip_frames: Callable[[ClipRequest], int] | None = None):
        self.entries: dict[PlannedRequest, _Entry] = {}
        self.errors: dict[PlannedRequest, VideoDecodeError] = {}
        #: file -> sorted unique frame indices to decode, in first-use order
        self.files: dict[str, list[int]] = {}
        #: file -> requests that need it, in request order
        self.users: dict[str, list[PlannedRequest]] = {}
        wanted: dict[str, set[int]] = {}
        for req in dict.fromkeys(requests):
            try:
                n = clip_frames(req) if (isinstance(req, ClipRequest) and req.num_frames is None and clip_frames) \
                    else None
                taps = request_taps(req, n)
            except ValueError as exc:
                path = req.video.path if isinstance(req, FrameRequest) else req.videos[0].path
                self.errors[req] = VideoDecodeError(f"{path}: {exc}")
                continue
            files = list(dict.fromkeys(p for p, _ in taps))
            rows: dict[str, list[int]] = {p: [] for p in files}
            where = []
            for p, i in taps:
                where.append((files.index(p), len(rows[p])))
                rows[p].append(i)
            self.entries[req] = _Entry(taps, files, where, rows)
            for p in files:
                wanted.setdefault(p, set()).update(rows[p])
                self.users.setdefault(p, []).append(req)
        self.files = {p: sorted(v) for p, v in wanted.items()}

    def frames_needed(self, path: str) -> list[int]:
        return self.files.get(path, [])

    @property
    def requests(self) -> list[PlannedRequest]:
        return list(self.entries)

    def execute(self, decoder, *, workers: int = 4, inflight: int | None = None,
                group: Callable[[PlannedRequest], Hashable] | None = None,
                transform: Callable[[Hashable, Any], Any] | None = None,
                stats: DecodeStats | None = None) -> Iterator[tuple[PlannedRequest, Ready | Exception]]:
        """Decode every file once and yield ``(request, Ready)`` (or ``(request, VideoDecodeError)``), in
        request order.

        ``group(request)`` names how a request's frames are prepared (e.g. an encoder's preprocessing;
        None: raw uint8 frames, moved to the CPU); in the worker that decoded a file, the distinct frames
        the requests of one group need are prepared together by one ``transform(group, frames)`` call
        (uint8 ``[m, H, W, 3]`` -> a tensor of ``m`` rows), so each frame is resized once and in a batch."""
        stats = stats if stats is not None else DecodeStats()
        inflight = max(1, inflight or 2 * workers)
        yield from self.errors.items()
        order = list(self.files)
        waiting = {req: len(e.files) for req, e in self.entries.items()}
        parts: dict[PlannedRequest, list[Any]] = {req: [None] * len(e.files) for req, e in self.entries.items()}
        failed: dict[PlannedRequest, Exception] = {}
        pending_reqs = deque(self.entries)

        def work(path: str):
            if is_memory_path(path):  # an in-memory video of the Python API: nothing to decode
                from mvbench.video import memory
                from mvbench.video.backends import Decoded

                got = Decoded(memory.decode(path, self.files[path]), "memory", 0)
            else:
                got = decoder.decode(path, self.files[path])
            pos = {i: j for j, i in enumerate(self.files[path])}
            by_group: dict[Hashable, list[PlannedRequest]] = {}
            for req in self.users[path]:
                if req not in failed:
                    by_group.setdefault(group(req) if group is not None else None, []).append(req)
            out = {}
            for key, reqs in by_group.items():
                if key is None or transform is None:
                    for req in reqs:
                        part = got.take([pos[i] for i in self.entries[req].rows[path]])
                        out[req] = part.cpu() if key is None else part
                    continue
                rows = sorted({i for r in reqs for i in self.entries[r].rows[path]})
                src = transform(key, got.take([pos[i] for i in rows]))
                at = {i: j for j, i in enumerate(rows)}
                for req in reqs:
                    out[req] = _take_rows(src, [at[i] for i in self.entries[req].rows[path]])
            return out, got.strategy, got.frames_decoded

        def settle(path: str, fut: Future) -> None:
            try:
                result, strategy, n_decoded = fut.result()
            except VideoDecodeError as exc:
                for req in self.users[path]:
                    failed.setdefault(req, exc)
                    waiting[req] = 0
                return
            stats.files_decoded += 1
            stats.frames_decoded += max(n_decoded, 0)
            stats.seeks += strategy == "seek"
            stats.decodes_per_file[path] = stats.decodes_per_file.get(path, 0) + 1
            for req, part in result.items():
                if req in failed:
                    continue
                parts[req][self.entries[req].files.index(path)] = part
                waiting[req] -= 1

        def drain() -> Iterator[tuple[PlannedRequest, Ready | Exception]]:
            while pending_reqs and waiting[pending_reqs[0]] == 0:
                req = pending_reqs.popleft()
                if req in failed:
                    parts.pop(req, None)
                    yield req, failed[req]
                else:
                    yield req, Ready(req, parts.pop(req), self.entries[req].where)

        if not order:
            return
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="mvbench-decode") as pool:
            queue: deque[tuple[str, Future]] = deque()
            nxt = 0
            while nxt < len(order) or queue:
                while nxt < len(order) and len(queue) < inflight:
                    queue.append((order[nxt], pool.submit(work, order[nxt])))
                    nxt += 1
                path, fut = queue.popleft()
                settle(path, fut)
                yield from drain()
        yield from drain()
        if pending_reqs:  # cannot happen: every file was settled
            raise RuntimeError(f"{len(pending_reqs)} request(s) never became ready")
