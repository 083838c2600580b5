"""Writing a generated submission folder in mvbench's layout, resumably.

Layouts (DESIGN.md): ``OUT/submission.json`` (model, version, fps, notes, and the ``generation`` settings) and
either ``OUT/ITEM_ID/scene_K.mp4`` for K = 1..n, or ``OUT/ITEM_ID.mp4`` with the scene frame ranges under
``items.ITEM_ID.scenes`` in ``submission.json``. Each video is written to a temporary name and renamed
(``mvbench.video.write.write_video``), so a video file that exists is complete; an item whose files (and, for
one-file items, whose ``submission.json`` entry) exist is skipped on the next run. Resuming with different
generation settings is refused, so one folder never mixes two configurations.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mvbench.atomic import atomic_write_text
from mvbench.errors import MvbenchError
from mvbench.suite import SuiteItem
from mvbench.video.write import write_video

from .base import ItemVideo

LAYOUTS = ("scenes", "item")


class SubmissionWriter:
    """Writes videos and ``submission.json`` under ``out_dir`` in the ``layout`` of the baseline."""

    def __init__(self, out_dir: str | Path, metadata: dict, fps: float, layout: str = "scenes"):
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        self.root = Path(out_dir)
        self.metadata = {**metadata, "fps": fps}
        self.fps = fps
        self.layout = layout
        self.items: dict[str, dict] = {}

    @property
    def meta_path(self) -> Path:
        return self.root / "submission.json"

    def scene_path(self, item: SuiteItem, k: int) -> Path:
        return self.root / item.id / f"scene_{k}.mp4"

    def item_path(self, item: SuiteItem) -> Path:
        return self.root / f"{item.id}.mp4"

    def is_complete(self, item: SuiteItem) -> bool:
        """True when the item's video files exist (files appear only once fully written) and, for one-file
        items, ``submission.json`` has its scene boundaries."""
        if self.layout == "item":
            return self.item_path(item).is_file() and item.id in self.items
        return all(self.scene_path(item, k).is_file() for k in range(1, len(item.scenes) + 1))

    def start(self) -> None:
        """Create the folder and write ``submission.json``; refuse to resume under other settings."""
        if self.meta_path.is_file():
            try:
                previous = json.loads(self.meta_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise MvbenchError(f"{self.meta_path} is not valid JSON ({error})",
                                   hint="delete it or choose another --out folder") from error
            old, new = previous.get("generation"), self.metadata.get("generation")
            if old is not None and old != new:
                changed = sorted(k for k in set(old) | set(new or {}) if old.get(k) != (new or {}).get(k))
                raise MvbenchError(
                    f"{self.root} was generated with other settings ({', '.join(changed)} differ: "
                    + "; ".join(f"{k} {old.get(k)!r} -> {(new or {}).get(k)!r}" for k in changed) + ")",
                    hint="use the same settings to resume, or choose another --out folder")
            if self.layout == "item" and isinstance(previous.get("items"), dict):
                self.items = dict(previous["items"])
        self.root.mkdir(parents=True, exist_ok=True)
        self._write_meta()

    def _write_meta(self) -> None:
        meta = dict(self.metadata)
        if self.layout == "item":
            meta["items"] = self.items
        atomic_write_text(self.meta_path, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")

    def write_item(self, item: SuiteItem, result: Sequence[np.ndarray] | ItemVideo) -> list[Path]:
        """Write one item: its scenes (uint8 ``[T, H, W, 3]`` each) as ``scene_1.mp4`` .. ``scene_n.mp4``, or
        an :class:`ItemVideo` as ``ITEM_ID.mp4`` plus its scene ranges in ``submission.json``."""
        if self.layout == "item":
            if not isinstance(result, ItemVideo):
                raise MvbenchError(f"item {item.id!r}: a one-file-per-item baseline must return an ItemVideo")
            if len(result.scenes) != len(item.scenes):
                raise MvbenchError(f"item {item.id!r}: generated {len(result.scenes)} scene ranges, the suite has "
                                   f"{len(item.scenes)}")
            for stale in self.root.glob(f".{item.id}.tmp*"):  # left by an interrupted write
                stale.unlink()
            path = write_video(self.item_path(item), result.frames, fps=self.fps)
            self.items[item.id] = {"file": path.name, "scenes": [list(b) for b in result.scenes]}
            self._write_meta()
            return [path]
        if isinstance(result, ItemVideo):
            raise MvbenchError(f"item {item.id!r}: a scene-file baseline returned one video for the whole item")
        if len(result) != len(item.scenes):
            raise MvbenchError(f"item {item.id!r}: generated {len(result)} scenes, the suite has {len(item.scenes)}")
        for stale in (self.root / item.id).glob(".*.tmp*"):  # left by an interrupted write
            stale.unlink()
        return [write_video(self.scene_path(item, k), frames, fps=self.fps) for k, frames in enumerate(result, 1)]
