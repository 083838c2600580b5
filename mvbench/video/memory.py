"""In-memory videos: frame tensors addressed by a pseudo-path ``mem://<run>/<item>/scene_<k>``.

The Python API (:func:`mvbench.evaluate`) scores tensors without writing video files: it registers
each scene's frames here under a pseudo-path and hands the runner ordinary
:class:`~mvbench.scorers.VideoRef` objects with that path. :func:`mvbench.video.decode.probe` and
:func:`mvbench.video.decode.decode_frames` answer such paths from this registry (hooks at their
top), and :func:`mvbench.features.content_hash` hashes the frame bytes instead of a file's bytes, so
the runner, the scorers, the feature cache and the results are the same code paths as for files.

Accepted frames (one scene):

* ``[T, H, W, 3]`` ``uint8`` (what decoding a file gives): used as is;
* ``[T, 3, H, W]`` floating point in ``[0, 1]`` (what :func:`mvbench.video.frames.to_float` gives):
  converted to ``uint8`` as ``round(255 * clamp(x, 0, 1))``, rounding half to even
  (:func:`torch.round`), computed in float64. This is the exact inverse of ``to_float`` (``x / 255``):
  frames that came from uint8 pixels get their pixels back bit for bit, so scoring the float tensor
  equals scoring the uint8 one, and equals scoring a lossless (FFV1 ``.mkv``) file of the same pixels.
  Other float values are quantised to the nearest of the 256 levels, as writing a video would.

Numpy arrays and torch tensors (any device; copied to CPU) are accepted.

>>> import numpy as np
>>> frames = np.zeros((4, 8, 8, 3), dtype=np.uint8)
>>> path = register(frames, "mem://doc/item/scene_1")
>>> probe(path).num_frames, tuple(decode(path, [0, 3]).shape)
(4, (2, 8, 8, 3))
>>> unregister(path)
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import numpy as np

from mvbench.errors import MvbenchError, VideoDecodeError

PREFIX = "mem://"

_LOCK = threading.Lock()


@dataclass
class _Entry:
    frames: np.ndarray  # uint8 [T, H, W, 3], C-contiguous
    fps: float
    sha256: str | None = None


_REGISTRY: dict[str, _Entry] = {}


def is_memory_path(path) -> bool:
    """Whether ``path`` names an in-memory video (``mem://...``) rather than a file.

    >>> is_memory_path("mem://run/item/scene_1"), is_memory_path("videos/item/scene_1.mp4")
    (True, False)
    """
    return isinstance(path, str) and path.startswith(PREFIX)


def to_uint8_frames(frames, where: str = "frames") -> np.ndarray:
    """One scene's frames as a C-contiguous uint8 ``[T, H, W, 3]`` array (see the module docstring for
    the float conversion). ``where`` names the scene in error messages.

    >>> import torch
    >>> x = torch.tensor([0, 1, 128, 255], dtype=torch.uint8).reshape(1, 1, 4, 1).expand(1, 1, 4, 3)
    >>> f = x.permute(0, 3, 1, 2).double() / 255  # what decoding then to_float gives
    >>> to_uint8_frames(f)[0, 0, :, 0].tolist()
    [0, 1, 128, 255]
    """
    if hasattr(frames, "detach") and hasattr(frames, "cpu"):  # torch tensor, without importing torch
        t = frames.detach().cpu()
        if t.is_floating_point():
            _check_float_shape(tuple(t.shape), where)
            import torch

            q = torch.round(t.to(torch.float64).clamp(0.0, 1.0) * 255.0).to(torch.uint8)
            return np.ascontiguousarray(q.permute(0, 2, 3, 1).numpy())
        arr = t.numpy()
    else:
        arr = np.asarray(frames)
    if np.issubdtype(arr.dtype, np.floating):
        _check_float_shape(arr.shape, where)
        if not np.isfinite(arr).all():
            raise MvbenchError(f"{where}: float frames contain NaN or inf")
        q = np.round(np.clip(arr.astype(np.float64), 0.0, 1.0) * 255.0).astype(np.uint8)
        return np.ascontiguousarray(q.transpose(0, 2, 3, 1))
    if arr.dtype != np.uint8:
        raise MvbenchError(f"{where}: frames of dtype {arr.dtype} are not supported",
                           hint="pass uint8 [T, H, W, 3] or float [T, 3, H, W] in [0, 1]")
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise MvbenchError(f"{where}: uint8 frames must be shaped [T, H, W, 3], got {tuple(arr.shape)}",
                           hint="float frames are [T, 3, H, W] in [0, 1]; uint8 frames are [T, H, W, 3]")
    if arr.shape[0] == 0:
        raise MvbenchError(f"{where}: the scene has zero frames")
    return np.ascontiguousarray(arr)


def _check_float_shape(shape: tuple, where: str) -> None:
    if len(shape) != 4 or shape[1] != 3:
        raise MvbenchError(f"{where}: float frames must be shaped [T, 3, H, W] in [0, 1], got {shape}",
                           hint="uint8 frames are [T, H, W, 3]")
    if shape[0] == 0:
        raise MvbenchError(f"{where}: the scene has zero frames")


def register(frames, path: str, fps: float = 8.0) -> str:
    """Register one scene's frames under ``path`` (``mem://...``; an existing entry is replaced) and
    return the path."""
    if not is_memory_path(path):
        raise ValueError(f"in-memory video paths start with {PREFIX!r}, got {path!r}")
    entry = _Entry(to_uint8_frames(frames, path), float(fps))
    with _LOCK:
        _REGISTRY[path] = entry
    return path


def unregister(path: str) -> None:
    """Forget ``path`` (no error if it is not registered)."""
    with _LOCK:
        _REGISTRY.pop(path, None)


def registered(prefix: str = PREFIX) -> list[str]:
    """Registered paths starting with ``prefix``."""
    with _LOCK:
        return sorted(p for p in _REGISTRY if p.startswith(prefix))


def _get(path: str) -> _Entry:
    with _LOCK:
        entry = _REGISTRY.get(path)
    if entry is None:
        raise VideoDecodeError(f"{path}: no in-memory video is registered under this path",
                               hint="in-memory videos live only while mvbench.evaluate runs")
    return entry


def frames_of(path: str) -> np.ndarray:
    """The uint8 ``[T, H, W, 3]`` frames registered under ``path`` (not a copy: do not modify)."""
    return _get(path).frames


def probe(path: str):
    """:class:`~mvbench.video.decode.VideoInfo` of an in-memory video (exact: the tensor's length)."""
    from mvbench.video.decode import VideoInfo

    e = _get(path)
    t, h, w, _ = e.frames.shape
    return VideoInfo(int(t), e.fps, int(w), int(h))


def decode(path: str, indices: list[int]):
    """Frames at ``indices`` (any order, repeats allowed) as a uint8 torch tensor ``[N, H, W, 3]``,
    with the same errors as decoding a file that is too short."""
    import torch

    if not indices:
        raise ValueError("no frame indices given")
    frames = _get(path).frames
    bad = [i for i in indices if not 0 <= int(i) < frames.shape[0]]
    if bad:
        raise VideoDecodeError(f"{path}: needed frame {bad[0]} but the video has {frames.shape[0]} frames",
                               kind="truncated")
    return torch.from_numpy(frames[list(indices)].copy())


def content_hash(path: str) -> str:
    """sha256 of the frames' shape and bytes (stands in for a file's content hash in cache keys)."""
    e = _get(path)
    if e.sha256 is None:
        h = hashlib.sha256(f"mvbench-memory-frames/1 {tuple(e.frames.shape)}".encode())
        h.update(memoryview(e.frames).cast("B"))
        e.sha256 = h.hexdigest()
    return e.sha256
