"""Frame decoding backends: PyAV (default; its wheels bundle FFmpeg) and torchcodec (optional, CPU or
CUDA/NVDEC). Every backend answers the same question: the frames at these indices of this file, as
uint8 RGB ``[N, H, W, 3]``, where frame ``i`` is the ``i``-th frame in presentation order (what a
sequential decode from the start yields as its ``i``-th frame).

PyAV decodes a file in one of two ways, chosen per file from the indices asked for:

* **sequential** (dense access, short files): decode from the start to the last index wanted;
* **seek** (sparse access in a long file): demux the file once to list every packet's timestamp and
  key-frame flag (no decoding), sort the timestamps into presentation order (frame ``i`` has the
  ``i``-th smallest), then for each group of wanted frames seek to the key frame at or before the
  first of them and decode forward. Frames decoded before that key frame's timestamp (leading
  pictures of an open GOP) are skipped. The cost model counts frames to decode: a seek pays
  :data:`SEEK_COST` frames plus the frames from the key frame to the target; the plan is used only
  when it decodes fewer frames than the sequential pass. Any surprise (a packet without timestamp,
  a frame whose timestamp is not in the index, a target not reached) falls back to the sequential
  pass, so the answer is always the frames of a sequential decode.

torchcodec uses its own exact seeking (``seek_mode="exact"``: a scan of the file builds the same
presentation-order index) and, with ``torchcodec-cuda``, NVDEC on the GPU. Its colour conversion on
the GPU differs slightly from FFmpeg's on the CPU (docs/scaling.md), so the backend is part of the
evaluation config and of the feature-cache key.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mvbench.errors import MissingExtraError, MvbenchError, VideoDecodeError
from mvbench.options import DECODERS
from mvbench.video.decode import _open

#: below this many frames (last wanted index + 1) a file is always decoded sequentially
SEEK_MIN_SPAN = 64
#: what one seek costs, in decoded frames (decoder flush and restart, demuxer repositioning)
SEEK_COST = 8


class Decoded:
    """Frames at the requested (sorted, unique) indices and how they were obtained: ``strategy``
    ("sequential", "seek" or the backend's name) and ``frames_decoded`` (frames the decoder produced,
    -1 when unknown). Holds either one uint8 tensor ``[N, H, W, 3]`` (on the decoder's device) or one
    array per frame (PyAV), so that taking a few rows copies only those."""

    def __init__(self, frames, strategy: str, frames_decoded: int):
        self._frames = frames
        self.strategy = strategy
        self.frames_decoded = frames_decoded

    @property
    def frames(self):
        """All frames as one uint8 tensor ``[N, H, W, 3]``."""
        import torch

        if isinstance(self._frames, list):
            return torch.from_numpy(np.stack(self._frames))
        return self._frames

    @property
    def device(self):
        import torch

        return torch.device("cpu") if isinstance(self._frames, list) else self._frames.device

    def take(self, positions: Sequence[int]):
        """Frames at these positions (of the requested indices), as one new uint8 tensor."""
        import torch

        if isinstance(self._frames, list):
            return torch.from_numpy(np.stack([self._frames[j] for j in positions]))
        idx = torch.as_tensor(list(positions), device=self._frames.device)
        return self._frames.index_select(0, idx)


def _check_indices(indices: Sequence[int]) -> list[int]:
    wanted = sorted(set(int(i) for i in indices))
    if not wanted:
        raise ValueError("no frame indices given")
    if wanted[0] < 0:
        raise ValueError(f"negative frame index {wanted[0]}")
    return wanted


class FrameDecoder:
    """Base class of the decoding backends."""

    name: str = ""
    #: where decoded frames live ("cpu" or a CUDA device)
    device: str = "cpu"

    def decode(self, path: str | Path, indices: Sequence[int]) -> Decoded:
        """Frames at ``indices`` (sorted and de-duplicated) of ``path``."""
        raise NotImplementedError

    def describe(self) -> dict:
        return {"name": self.name, "device": self.device}


# --------------------------------------------------------------------------------------------- PyAV
@dataclass(frozen=True)
class FrameIndex:
    """Presentation-order timestamps of every frame and the positions of the key frames."""

    pts: list[int]
    keyframes: list[int]  # sorted presentation indices of key frames

    def position(self) -> dict[int, int]:
        return {p: i for i, p in enumerate(self.pts)}

    def key_before(self, i: int) -> int | None:
        k = bisect.bisect_right(self.keyframes, i) - 1
        return self.keyframes[k] if k >= 0 else None


def frame_index(container, stream) -> FrameIndex | None:
    """Demux every packet of ``stream`` (no decoding) into a :class:`FrameIndex`; None if a packet has
    no timestamp or two share one (then only a sequential decode is trustworthy)."""
    pts: list[int] = []
    keys: list[int] = []
    for packet in container.demux(stream):
        if packet.size == 0:
            continue  # flush packet
        if packet.pts is None:
            return None
        pts.append(int(packet.pts))
        if packet.is_keyframe:
            keys.append(int(packet.pts))
    order = sorted(pts)
    if len(set(order)) != len(order) or not keys:
        return None
    pos = {p: i for i, p in enumerate(order)}
    return FrameIndex(order, sorted(pos[k] for k in keys))


def seek_runs(wanted: list[int], index: FrameIndex) -> tuple[list[tuple[int, list[int]]], int]:
    """Group ``wanted`` (sorted) into runs ``(key frame, targets)`` decoded after one seek each, and the
    number of frames this decodes (seek costs included). A target continues the current run when that
    is cheaper than seeking to its own key frame.

    >>> idx = FrameIndex(list(range(100)), [0, 25, 50, 75])
    >>> seek_runs([30, 31, 80], idx)
    ([(25, [30, 31]), (75, [80])], 29)
    """
    runs: list[tuple[int, list[int]]] = []
    cost = 0
    last = -1
    for t in wanted:
        key = index.key_before(t)
        if key is None:
            key = 0
        if runs and (key <= last or t - last <= t - key + SEEK_COST):
            runs[-1][1].append(t)
            cost += t - last
        else:
            runs.append((key, [t]))
            cost += t - key + 1 + SEEK_COST
        last = t
    return runs, cost


def _truncated(path, wanted: int, got: int) -> VideoDecodeError:
    return VideoDecodeError(f"{path}: needed frame {wanted} but the video ends after {got} decodable frames",
                            hint="the file is truncated or shorter than its metadata says; re-export it",
                            kind="truncated")


class PyAVDecoder(FrameDecoder):
    """PyAV (FFmpeg) on the CPU; sequential or seeking per file (see the module doc)."""

    name = "pyav"

    def __init__(self, seek: bool = True):
        #: False forces the sequential pass (benchmarks, tests)
        self.seek = seek

    def decode(self, path: str | Path, indices: Sequence[int]) -> Decoded:
        wanted = _check_indices(indices)
        last = wanted[-1]
        if self.seek and last + 1 >= SEEK_MIN_SPAN and 2 * len(wanted) < last + 1:
            got = self._decode_seeking(path, wanted)
            if got is not None:
                frames, n = got
                return Decoded([frames[i] for i in wanted], "seek", n)
        frames, n = self._decode_sequential(path, wanted)
        return Decoded([frames[i] for i in wanted], "sequential", n)

    def _decode_sequential(self, path, wanted: list[int]) -> tuple[dict[int, np.ndarray], int]:
        from mvbench.video.decode import decode_prefix

        return decode_prefix(path, wanted)

    def _decode_seeking(self, path, wanted: list[int]) -> tuple[dict[int, np.ndarray], int] | None:
        """Frames by seeking, or None when the file does not allow exact seeking (or it would not pay)."""
        import av

        container = _open(path)
        try:
            stream = container.streams.video[0]
            try:
                index = frame_index(container, stream)
            except av.FFmpegError:
                return None
            if index is None or wanted[-1] >= len(index.pts):
                return None  # too short for its container index: let the sequential pass say so
            runs, cost = seek_runs(wanted, index)
            if cost >= wanted[-1] + 1:
                return None
        finally:
            container.close()
        position = index.position()
        got: dict[int, np.ndarray] = {}
        decoded = 0
        container = _open(path)
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for key, targets in runs:
                container.seek(index.pts[key], stream=stream, backward=True, any_frame=False)
                want = set(targets)
                end = targets[-1]
                first = True
                for frame in container.decode(stream):
                    decoded += 1
                    i = position.get(frame.pts) if frame.pts is not None else None
                    if i is None:
                        return None
                    if first and i > key:
                        return None  # the seek landed after the key frame: cannot trust it
                    first = False
                    if i < key:
                        continue  # leading pictures of an open GOP
                    if i in want:
                        got[i] = frame.to_ndarray(format="rgb24")
                    if i >= end:
                        break
                if any(t not in got for t in targets):
                    return None
        except av.FFmpegError:
            return None
        finally:
            container.close()
        return got, decoded


# ---------------------------------------------------------------------------------------- torchcodec
TORCHCODEC_HINT = ('pip install -e ".[decode]" (torchcodec: pip install torchcodec, a version matching your '
                   "torch), and FFmpeg 4-8 shared libraries (e.g. `apt install ffmpeg` or `conda install ffmpeg`); "
                   "or use --decoder pyav (the default); see docs/scaling.md")


class DecoderUnavailableError(MissingExtraError):
    """The ``decoder`` asked for cannot run here (torchcodec or its FFmpeg missing, no CUDA device)."""

    def __init__(self, message: str, hint: str = TORCHCODEC_HINT):
        MvbenchError.__init__(self, message, hint)


def torchcodec_available(device: str = "cpu") -> str | None:
    """None when torchcodec can decode on ``device``; otherwise why not (one line)."""
    try:
        import torchcodec
        from torchcodec.decoders import VideoDecoder  # noqa: F401
    except ImportError as exc:
        return f"torchcodec is not installed ({exc})"
    except Exception as exc:  # older torchcodec raises RuntimeError at import when FFmpeg cannot be loaded
        return f"torchcodec cannot load FFmpeg ({str(exc).splitlines()[0]})"
    if getattr(torchcodec, "ffmpeg_major_version", "unknown") is None:  # newer ones load lazily and say None
        return "torchcodec cannot load FFmpeg (no FFmpeg shared libraries of a version it supports were found)"
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            return "no CUDA device is available for torchcodec-cuda"
    return None


class TorchcodecDecoder(FrameDecoder):
    """torchcodec ``VideoDecoder`` with exact seeking, on the CPU or on a CUDA device (NVDEC)."""

    def __init__(self, device: str = "cpu", threads: int = 1):
        why = torchcodec_available(device)
        if why is not None:
            name = "torchcodec-cuda" if device.startswith("cuda") else "torchcodec"
            raise DecoderUnavailableError(f"decoder {name!r} is not usable: {why}")
        self.device = device
        self.name = "torchcodec-cuda" if device.startswith("cuda") else "torchcodec"
        #: FFmpeg threads per file (files are decoded in parallel by the caller's pool)
        self.threads = threads

    def decode(self, path: str | Path, indices: Sequence[int]) -> Decoded:
        from torchcodec.decoders import VideoDecoder

        wanted = _check_indices(indices)
        try:
            dec = VideoDecoder(str(path), seek_mode="exact", dimension_order="NHWC", device=self.device,
                               num_ffmpeg_threads=self.threads)
        except Exception as exc:  # torchcodec raises RuntimeError/ValueError for unreadable files
            raise VideoDecodeError(f"{path}: cannot open video ({str(exc).splitlines()[0]})",
                                   hint="check that the file is a complete, playable video") from exc
        n = len(dec)
        if wanted[-1] >= n:
            raise _truncated(path, wanted[-1], n)
        try:
            batch = dec.get_frames_at(wanted)
        except Exception as exc:
            raise VideoDecodeError(f"{path}: decoding failed ({str(exc).splitlines()[0]})",
                                   hint="the file is corrupt or truncated; re-export it", kind="truncated") from exc
        return Decoded(batch.data, self.name, -1)


def get_decoder(name: str | None = None, device: str | None = None) -> FrameDecoder:
    """The backend for the ``decoder`` option: ``pyav`` (default), ``torchcodec`` or ``torchcodec-cuda``
    (on ``device`` when it is a CUDA device, else ``cuda``).

    >>> get_decoder("pyav").name
    'pyav'
    """
    name = name or "pyav"
    if name == "pyav":
        return PyAVDecoder()
    if name == "torchcodec":
        return TorchcodecDecoder("cpu")
    if name == "torchcodec-cuda":
        dev = device if device and str(device).startswith("cuda") else "cuda"
        return TorchcodecDecoder(dev)
    raise ValueError(f"unknown decoder {name!r}; choose from {', '.join(DECODERS)}")
