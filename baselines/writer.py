"""Writing a generated submission folder in mvbench's layout, resumably.

Layout: ``OUT/submission.json`` (model, version, fps, notes, and the ``generation`` settings) and
``OUT/ITEM_ID/scene_K.mp4`` for K = 1..n. Each video is written to a temporary name and renamed
(``mvbench.video.write.write_video``), so a scene file that exists is complete; an item whose n scene files
all exist is skipped on the next run. Resuming with different generation settings is refused, so one folder
never mixes two configurations.
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


class SubmissionWriter:
    """Writes scenes and ``submission.json`` under ``out_dir``."""

    def __init__(self, out_dir: str | Path, metadata: dict, fps: float):
        self.root = Path(out_dir)
        self.metadata = {**metadata, "fps": fps}
        self.fps = fps

    def scene_path(self, item: SuiteItem, k: int) -> Path:
        return self.root / item.id / f"scene_{k}.mp4"

    def is_complete(self, item: SuiteItem) -> bool:
        """True when every scene file of ``item`` exists (files appear only once fully written)."""
        return all(self.scene_path(item, k).is_file() for k in range(1, len(item.scenes) + 1))

    def start(self) -> None:
        """Create the folder and write ``submission.json``; refuse to resume under other settings."""
        meta_path = self.root / "submission.json"
        if meta_path.is_file():
            try:
                previous = json.loads(meta_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise MvbenchError(f"{meta_path} is not valid JSON ({error})",
                                   hint="delete it or choose another --out folder") from error
            old, new = previous.get("generation"), self.metadata.get("generation")
            if old is not None and old != new:
                changed = sorted(k for k in set(old) | set(new or {}) if old.get(k) != (new or {}).get(k))
                raise MvbenchError(
                    f"{self.root} was generated with other settings ({', '.join(changed)} differ: "
                    + "; ".join(f"{k} {old.get(k)!r} -> {(new or {}).get(k)!r}" for k in changed) + ")",
                    hint="use the same settings to resume, or choose another --out folder")
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(meta_path, json.dumps(self.metadata, indent=2, ensure_ascii=False) + "\n")

    def write_item(self, item: SuiteItem, scenes: Sequence[np.ndarray]) -> list[Path]:
        """Write one item's scenes (uint8 ``[T, H, W, 3]`` each) as ``scene_1.mp4`` .. ``scene_n.mp4``."""
        if len(scenes) != len(item.scenes):
            raise MvbenchError(f"item {item.id!r}: generated {len(scenes)} scenes, the suite has {len(item.scenes)}")
        for stale in (self.root / item.id).glob(".*.tmp*"):  # left by an interrupted write
            stale.unlink()
        return [write_video(self.scene_path(item, k), frames, fps=self.fps) for k, frames in enumerate(scenes, 1)]
