"""Keyframe strips for the per-run report: the frames a scene's consistency clip was made of, as one small
JPEG per scene (thumbnails side by side), embedded in the page as a data: URI.

The frames are the ones the protocol scored: ``n`` frames of the scene's range sampled as the run's clip
protocol samples them (``config.scorers.consistency.clip_sampling``: ``middle`` by default, segment
midpoints; :func:`mvbench.video.sampling.sample_indices`; ``n`` = the consistency encoder's clip length,
8 for ViCLIP), decoded with :func:`mvbench.video.decode.decode_frames`. Scene files are
found in the submission folder as ``mvbench evaluate`` finds them: ``ITEM/scene_K.<ext>``, or
``ITEM.<ext>`` (or ``items.ITEM.file``) with the scene ranges of ``submission.json``.
"""

from __future__ import annotations

import base64
import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mvbench.errors import MvbenchError

log = logging.getLogger(__name__)
_ERRORS = (MvbenchError, OSError, ValueError)

#: thumbnail height in pixels (width follows the video's aspect ratio)
THUMB_HEIGHT = 64
JPEG_QUALITY = 72


@dataclass(frozen=True)
class SceneFrames:
    """Scene ``scene`` (1-based) of an item: the file (relative to the submission folder), the frame
    indices decoded (in the file), and the strip as a data: URI, or ``error`` saying why there is none."""

    scene: int
    file: str | None = None
    indices: tuple[int, ...] = ()
    uri: str | None = None
    width: int = 0
    height: int = 0
    error: str | None = None


@dataclass
class Locator:
    """Finds the scene files of an item in a submission folder (no suite needed)."""

    root: Path
    entries: dict = field(default_factory=dict)

    @classmethod
    def open(cls, root: str | Path) -> Locator:
        from mvbench.submission import open_submission

        sub = open_submission(root)
        return cls(Path(root), dict(sub.item_entries or {}))

    def _inside(self, rel: str) -> Path | None:
        norm = os.path.normpath(rel)
        if os.path.isabs(norm) or norm == ".." or norm.startswith(".." + os.sep):
            return None
        return self.root / norm

    @staticmethod
    def _find(stem: Path) -> Path | None:
        from mvbench.submission import VIDEO_EXTENSIONS

        for ext in VIDEO_EXTENSIONS:
            for variant in (ext, ext.upper()):
                cand = stem.with_name(stem.name + variant)
                if cand.is_file():
                    return cand
        return None

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def scenes(self, item_id: str, n_scenes: int) -> list[tuple[Path, int, int] | str]:
        """Per scene ``(file, start, end)`` (frames ``[start, end)``), or a message saying why not."""
        from mvbench.video.decode import probe

        entry = self.entries.get(item_id)
        scene_dir = self.root / item_id
        if not isinstance(entry, dict) and scene_dir.is_dir():
            out: list[tuple[Path, int, int] | str] = []
            for k in range(1, n_scenes + 1):
                path = self._find(scene_dir / f"scene_{k}")
                if path is None:
                    out.append(f"no file {item_id}/scene_{k}.*")
                    continue
                try:
                    out.append((path, 0, probe(path).num_frames))
                except _ERRORS as exc:  # an unreadable file is reported on the page
                    out.append(str(exc).split("\n")[0])
            return out
        entry = entry if isinstance(entry, dict) else {}
        rel = entry.get("file")
        path = self._inside(rel) if isinstance(rel, str) and rel.strip() else self._find(self.root / item_id)
        if path is None or not path.is_file():
            return [f"no video for item {item_id}"] * n_scenes
        try:
            total = probe(path).num_frames
        except _ERRORS as exc:
            return [str(exc).split("\n")[0]] * n_scenes
        bounds = entry.get("scenes")
        if bounds is None and n_scenes == 1:
            bounds = [[0, total]]
        if not isinstance(bounds, list) or len(bounds) != n_scenes:
            return [f"submission.json gives no {n_scenes} scene ranges for {item_id}"] * n_scenes
        out = []
        for b in bounds:
            ok = isinstance(b, list) and len(b) == 2 and all(type(v) is int for v in b) and 0 <= b[0] < b[1] <= total
            out.append((path, b[0], b[1]) if ok else f"bad scene range {b!r}")
        return out


def strip_uri(frames: np.ndarray, height: int = THUMB_HEIGHT, quality: int = JPEG_QUALITY) -> tuple[str, int, int]:
    """``frames`` (uint8 ``[N, H, W, 3]``) resized to ``height`` and put side by side (1 px gaps), as a JPEG
    data: URI; returns ``(uri, width, height)``.

    >>> uri, w, h = strip_uri(np.zeros((3, 32, 48, 3), dtype=np.uint8), height=16)
    >>> uri.startswith("data:image/jpeg;base64,"), w, h
    (True, 74, 16)
    """
    from PIL import Image

    n, h0, w0 = frames.shape[:3]
    width = max(1, round(w0 * height / h0))
    canvas = Image.new("RGB", (n * width + (n - 1), height), (255, 255, 255))
    for k in range(n):
        thumb = Image.fromarray(np.ascontiguousarray(frames[k])).resize((width, height), Image.Resampling.BILINEAR,
                                                                        reducing_gap=2.0)
        canvas.paste(thumb, (k * (width + 1), 0))
    buf = io.BytesIO()
    canvas.save(buf, format="JPEG", quality=quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), canvas.width, height


def item_keyframes(locator: Locator, item_id: str, n_scenes: int, n_frames: int = 8,
                   height: int = THUMB_HEIGHT, sampling: str = "middle") -> list[SceneFrames]:
    """The keyframe strip of every scene of one item (each file decoded once)."""
    from mvbench.video.decode import decode_frames
    from mvbench.video.sampling import sample_indices

    found = locator.scenes(item_id, n_scenes)
    plans: dict[Path, list[int]] = {}
    wanted: list[tuple[int, Path, list[int]] | SceneFrames] = []
    for k, got in enumerate(found, start=1):
        if isinstance(got, str):
            wanted.append(SceneFrames(k, error=got))
            continue
        path, start, end = got
        try:
            idx = [start + i for i in sample_indices(end - start, n_frames, sampling)]
        except ValueError as exc:  # e.g. a sampling that cannot repeat frames, on a short scene
            wanted.append(SceneFrames(k, locator.rel(path), error=str(exc)))
            continue
        plans.setdefault(path, []).extend(idx)
        wanted.append((k, path, idx))
    decoded: dict[Path, dict[int, np.ndarray] | str] = {}
    for path, idx in plans.items():
        unique = sorted(set(idx))
        try:
            frames = decode_frames(path, unique).numpy()
            decoded[path] = dict(zip(unique, frames))
        except _ERRORS as exc:  # shown on the page for that scene
            decoded[path] = str(exc).split("\n")[0]
    out = []
    for w in wanted:
        if isinstance(w, SceneFrames):
            out.append(w)
            continue
        k, path, idx = w
        got = decoded[path]
        if isinstance(got, str):
            out.append(SceneFrames(k, locator.rel(path), tuple(idx), error=got))
            continue
        uri, width, h = strip_uri(np.stack([got[i] for i in idx]), height)
        out.append(SceneFrames(k, locator.rel(path), tuple(idx), uri, width, h))
    return out


def all_keyframes(videos: str | Path, items: dict[str, int], n_frames: int = 8, height: int = THUMB_HEIGHT,
                  workers: int = 4, sampling: str = "middle") -> dict[str, list[SceneFrames]]:
    """Keyframe strips of ``items`` (item id -> number of scenes), decoded in ``workers`` threads."""
    locator = Locator.open(videos)

    def one(item_id: str) -> list[SceneFrames]:
        return item_keyframes(locator, item_id, items[item_id], n_frames, height, sampling)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        return dict(zip(items, pool.map(one, items)))
