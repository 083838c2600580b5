"""Decoding with PyAV. Frames come out as uint8 RGB ``[N, H, W, 3]``; nothing is re-encoded.

Paths ``mem://...`` name in-memory videos of the Python API (:mod:`mvbench.video.memory`); every
function here answers them from that registry first.

Errors (unreadable container, no video stream, fewer frames than the index asked for) are raised
as :class:`~mvbench.errors.VideoDecodeError` naming the file, so that the runner can record them
as a per-item failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mvbench.errors import VideoDecodeError
from mvbench.video import memory
from mvbench.video.memory import is_memory_path

TRUNCATED_HINT = "the end of the file is missing (an interrupted copy or export?); re-export or copy it again"


@dataclass(frozen=True)
class VideoInfo:
    num_frames: int
    fps: float
    width: int
    height: int


def _open(path: str | Path):
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise VideoDecodeError(f"{path}: cannot open video ({exc})",
                               hint="check that the file is a complete, playable video") from exc
    if not container.streams.video:
        container.close()
        raise VideoDecodeError(f"{path}: the file has no video stream")
    return container


def count_frames(path: str | Path) -> int:
    """Number of frames actually decodable (decodes the whole stream; exact, unlike metadata)."""
    if is_memory_path(path):
        return memory.probe(path).num_frames
    import av

    container = _open(path)
    n = 0
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            n += 1
    except av.FFmpegError as exc:
        raise VideoDecodeError(f"{path}: decoding failed after {n} frames ({exc})",
                               hint="the file is corrupt or truncated; re-export it") from exc
    finally:
        container.close()
    return n


def _count_packets(container, stream) -> int:
    """Video packets present in the file (demuxed, not decoded: reads the file, no decoding work)."""
    return sum(1 for packet in container.demux(stream) if packet.size > 0)


def probe(path: str | Path, exact: bool = False) -> VideoInfo:
    """Frame count, fps and size.

    The frame count is the container's, checked against the packets actually present, so a file whose
    end is missing (even one whose index sits at the front, ``movflags=faststart``) is reported as
    ``truncated``. ``exact`` decodes every frame and uses that count (and reports a shortfall the same
    way); a container that records no count is always decoded.
    """
    if is_memory_path(path):
        return memory.probe(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        width, height = stream.codec_context.width, stream.codec_context.height
        listed = int(stream.frames or 0)
        present = _count_packets(container, stream) if listed > 0 else 0
    except av_errors() as exc:
        raise VideoDecodeError(f"{path}: cannot read the video stream ({exc})",
                               hint="check that the file is a complete, playable video") from exc
    finally:
        container.close()
    if listed > 0 and present < listed:
        raise VideoDecodeError(f"{path}: truncated: the container lists {listed} frames but only {present} "
                               "are in the file", hint=TRUNCATED_HINT, kind="truncated")
    n = listed
    if exact or n <= 0:
        n = count_frames(path)
        if 0 < n < listed:
            raise VideoDecodeError(f"{path}: truncated: the container lists {listed} frames but only {n} "
                                   "decode", hint=TRUNCATED_HINT, kind="truncated")
    if n <= 0:
        raise VideoDecodeError(f"{path}: the video has zero frames", kind="zero_frames")
    return VideoInfo(n, fps, width, height)


def av_errors() -> tuple[type[BaseException], ...]:
    """PyAV's error base class (plus OSError), for ``except`` clauses."""
    import av

    return (av.FFmpegError, OSError)


def decode_prefix(path: str | Path, indices) -> tuple[dict[int, np.ndarray], int]:
    """Decode ``path`` from its first frame up to the last of ``indices`` (one sequential pass, FFmpeg
    frame threading): ``({index: uint8 [H, W, 3] RGB frame}, frames decoded)``. A file that ends before
    the last index is a ``truncated`` :class:`~mvbench.errors.VideoDecodeError`."""
    import av

    wanted = set(indices)
    if not wanted:
        raise ValueError("no frame indices given")
    last = max(wanted)
    got: dict[int, np.ndarray] = {}
    container = _open(path)
    i = -1
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i in wanted:
                got[i] = frame.to_ndarray(format="rgb24")
            if i >= last:
                break
    except av.FFmpegError as exc:
        raise VideoDecodeError(f"{path}: decoding failed at frame {i + 1} ({exc})",
                               hint="the file is corrupt or truncated; re-export it") from exc
    finally:
        container.close()
    missing = sorted(k for k in wanted if k not in got)
    if missing:
        raise VideoDecodeError(
            f"{path}: needed frame {missing[0]} but the video ends after {i + 1} decodable frames",
            hint="the file is truncated or shorter than its metadata says; re-export it",
            kind="truncated",
        )
    return got, i + 1


def decode_frames(path: str | Path, indices: list[int]):
    """Frames at ``indices`` (any order, repeats allowed) as uint8 ``[len(indices), H, W, 3]``."""
    if is_memory_path(path):
        return memory.decode(path, indices)
    got, _ = decode_prefix(path, indices)
    import torch

    return torch.from_numpy(np.stack([got[k] for k in indices]))

