"""Submission folders: which video files hold which item's scenes, and checking them.

Two layouts (DESIGN.md), mixable per item::

    runs/mymodel/submission.json          {"model": "mymodel", "version": "1", "fps": 8, "notes": "..."}
    runs/mymodel/ITEM_ID/scene_1.mp4      one file per scene, K from 1
    runs/mymodel/ITEM_ID.mp4              one file per item; its scene boundaries (frame ranges
                                          [start, end)) in submission.json:
                                          {"items": {"ITEM_ID": {"scenes": [[0, 49], [49, 98], [98, 147]]}}}

An item entry may also name its file (``"file": "sub/dir/x.mp4"``); every path is resolved inside the
submission folder, and one that escapes it is rejected.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from mvbench.errors import MvbenchError, SubmissionError, VideoDecodeError
from mvbench.scorers.base import ItemVideos, VideoRef
from mvbench.suite import Suite
from mvbench.video.decode import VideoInfo, probe

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".mov", ".avi")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a submission. ``item`` is None for folder-level problems."""

    kind: str
    item: str | None
    file: str | None
    message: str

    def __str__(self) -> str:
        where = " ".join(p for p in (f"item {self.item!r}" if self.item else "", self.file or "") if p)
        return f"[{self.kind}] {where}: {self.message}" if where else f"[{self.kind}] {self.message}"


@dataclass
class Resolution:
    """Outcome of matching a submission against a suite."""

    items: dict[str, ItemVideos] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    infos: dict[str, VideoInfo] = field(default_factory=dict)
    #: which item each file in ``infos`` belongs to
    file_items: dict[str, str] = field(default_factory=dict)

    def item_problems(self, item_id: str) -> list[Problem]:
        return [p for p in self.problems if p.item == item_id]


@dataclass
class Submission:
    root: Path
    model: str
    version: str = ""
    fps: float | None = None
    notes: str = ""
    item_entries: dict = field(default_factory=dict)

    @classmethod
    def open(cls, root: str | Path) -> Submission:
        root = Path(root)
        if not root.is_dir():
            raise SubmissionError(f"submission folder {root} does not exist",
                                  hint="pass the folder holding ITEM_ID/scene_K.mp4 or ITEM_ID.mp4 files")
        meta_path = root / "submission.json"
        meta: dict = {}
        if meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise SubmissionError(f"{meta_path}: not valid UTF-8 JSON ({exc})") from exc
            if not isinstance(meta, dict):
                raise SubmissionError(f"{meta_path}: must be a JSON object")
        items = meta.get("items", {}) or {}
        if not isinstance(items, dict):
            raise SubmissionError(f"{meta_path}: 'items' must map item ids to {{'file', 'scenes'}} objects")
        fps = meta.get("fps")
        if fps is not None:
            try:
                fps = float(fps)
            except (TypeError, ValueError):
                raise SubmissionError(f"{meta_path}: 'fps' must be a number, got {fps!r}") from None
            if fps <= 0:
                raise SubmissionError(f"{meta_path}: 'fps' must be positive, got {fps!r}")
        return cls(root, str(meta.get("model") or root.resolve().name), str(meta.get("version", "")),
                   fps, str(meta.get("notes", "")), items)

    def describe(self) -> dict:
        return {"name": self.model, "version": self.version, "notes": self.notes, "fps": self.fps}

    # -- path handling -------------------------------------------------------------------
    def _inside(self, rel: str) -> Path | None:
        """``root / rel`` if the path, as written, stays inside the folder (no absolute path, no '..'
        above the root); None otherwise. Symbolic links are followed: a link is the user's choice."""
        norm = os.path.normpath(rel)
        if os.path.isabs(norm) or norm == ".." or norm.startswith(".." + os.sep):
            return None
        return self.root / norm

    def _find(self, stem: Path) -> Path | None:
        for ext in VIDEO_EXTENSIONS:
            for variant in (ext, ext.upper()):
                cand = stem.with_name(stem.name + variant)
                if cand.is_file():
                    return cand
        return None

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)

    # -- resolution ----------------------------------------------------------------------
    def resolve(self, suite: Suite, exact: bool = False, min_frames: int = 1, progress: bool = False) -> Resolution:
        """Map every suite item to its scene videos, collecting every problem on the way.

        ``exact`` decodes every file to count its frames (``mvbench validate``); otherwise the
        container's frame count is trusted and decoding errors surface during evaluation.
        """
        res = Resolution()
        info_cache: dict[Path, VideoInfo | Problem] = {}

        def info(item_id: str, path: Path) -> VideoInfo | None:
            if path not in info_cache:
                try:
                    info_cache[path] = probe(path, exact=exact)
                except VideoDecodeError as exc:
                    kind = "zero_frames" if "zero frames" in exc.message else "unreadable"
                    info_cache[path] = Problem(kind, item_id, self._rel(path), exc.message.split(": ", 1)[-1])
            got = info_cache[path]
            if isinstance(got, Problem):
                res.problems.append(got)
                return None
            res.infos[self._rel(path)] = got
            res.file_items[self._rel(path)] = item_id
            return got

        from tqdm import tqdm

        for item in tqdm(suite.items, desc=f"checking {self.root.name}", unit="item", disable=not progress,
                         leave=False):
            n_scenes = len(item.scenes)
            entry = self.item_entries.get(item.id)
            refs: list[VideoRef] = []
            ok = True
            scene_dir = self.root / item.id
            if entry is not None and not isinstance(entry, dict):
                res.problems.append(Problem("bad_boundaries", item.id, "submission.json",
                                            f"items.{item.id} must be an object like "
                                            '{"file": "ITEM.mp4", "scenes": [[0, 49], [49, 98]]}, '
                                            f"got {type(entry).__name__}"))
                continue
            if entry is not None or not scene_dir.is_dir():
                # one file per item
                rel = (entry or {}).get("file") if isinstance(entry, dict) else None
                path = self._inside(rel) if rel else self._find(self.root / item.id)
                if rel and path is None:
                    res.problems.append(Problem("path_escape", item.id, rel,
                                                "path points outside the submission folder"))
                    continue
                if path is None or not path.is_file():
                    res.problems.append(Problem("missing_item", item.id, rel or f"{item.id}.mp4",
                                                f"no video for this item (expected {item.id}/scene_1..{n_scenes}.mp4 "
                                                f"or {item.id}.mp4 with scene boundaries in submission.json)"))
                    continue
                vi = info(item.id, path)
                if vi is None:
                    continue
                bounds = (entry or {}).get("scenes") if isinstance(entry, dict) else None
                if bounds is None and n_scenes == 1:
                    bounds = [[0, vi.num_frames]]
                if not isinstance(bounds, list) or len(bounds) != n_scenes:
                    res.problems.append(Problem("bad_boundaries", item.id, self._rel(path),
                                                f"submission.json must give {n_scenes} scene frame ranges "
                                                f"under items.{item.id}.scenes"))
                    continue
                for k, b in enumerate(bounds, start=1):
                    if not (isinstance(b, list) and len(b) == 2 and all(isinstance(v, int) for v in b)
                            and 0 <= b[0] < b[1] <= vi.num_frames):
                        res.problems.append(Problem("bad_boundaries", item.id, self._rel(path),
                                                    f"scene {k} range {b!r} is not [start, end) inside the "
                                                    f"video's {vi.num_frames} frames"))
                        ok = False
                        continue
                    refs.append(VideoRef(str(path), b[0], b[1], vi.fps))
            else:
                for k in range(1, n_scenes + 1):
                    path = self._find(scene_dir / f"scene_{k}")
                    if path is None:
                        res.problems.append(Problem("missing_scene", item.id, f"{item.id}/scene_{k}.mp4",
                                                    f"scene {k} of {n_scenes} is missing"))
                        ok = False
                        continue
                    vi = info(item.id, path)
                    if vi is None:
                        ok = False
                        continue
                    refs.append(VideoRef(str(path), 0, vi.num_frames, vi.fps))
            if not ok or len(refs) != n_scenes:
                continue
            short = [(k, r) for k, r in enumerate(refs, start=1) if r.num_frames < min_frames]
            for k, r in short:
                res.problems.append(Problem("too_few_frames", item.id, self._rel(Path(r.path)),
                                            f"scene {k} has {r.num_frames} frames; the protocol samples {min_frames}"))
            if short:
                continue
            res.items[item.id] = ItemVideos(item, tuple(refs))

        known = set(suite.ids)
        for child in sorted(self.root.iterdir()):
            name = child.name
            if name.startswith(".") or name == "submission.json":
                continue
            stem = name if child.is_dir() else child.stem
            if child.is_dir() or child.suffix.lower() in VIDEO_EXTENSIONS:
                if stem not in known:
                    res.problems.append(Problem("unknown_item", stem, name, "not an item of suite "
                                                f"{suite.name!r}; it is ignored (typo in the folder name?)"))
        for item_id in self.item_entries:
            if item_id not in known:
                res.problems.append(Problem("unknown_item", item_id, "submission.json",
                                            f"submission.json lists an item that suite {suite.name!r} does not have"))
        self._check_consistency(res)
        return res

    def _check_consistency(self, res: Resolution) -> None:
        """fps and resolution must agree across files (and with submission.json's fps)."""
        if not res.infos:
            return
        sizes = {(v.width, v.height) for v in res.infos.values()}
        if len(sizes) > 1:
            counts: dict[tuple[int, int], int] = {}
            for v in res.infos.values():
                counts[(v.width, v.height)] = counts.get((v.width, v.height), 0) + 1
            common = max(counts, key=counts.get)
            for rel, v in sorted(res.infos.items()):
                if (v.width, v.height) != common:
                    res.problems.append(Problem("resolution_mismatch", res.file_items.get(rel), rel,
                                                f"{v.width}x{v.height}, while most files are {common[0]}x{common[1]}"))
        fps_ref = self.fps
        if fps_ref is None:
            counts_f: dict[float, int] = {}
            for v in res.infos.values():
                counts_f[round(v.fps, 3)] = counts_f.get(round(v.fps, 3), 0) + 1
            fps_ref = max(counts_f, key=counts_f.get)
        for rel, v in sorted(res.infos.items()):
            if abs(v.fps - fps_ref) > 1e-3 * max(1.0, fps_ref):
                res.problems.append(Problem("fps_mismatch", res.file_items.get(rel), rel,
                                            f"{v.fps:g} fps, expected {fps_ref:g} fps"))


#: problem kinds that prevent an item from being scored (others are warnings)
BLOCKING = {"missing_item", "missing_scene", "unreadable", "zero_frames", "too_few_frames",
            "bad_boundaries", "path_escape"}


def open_submission(path: str | Path) -> Submission:
    try:
        return Submission.open(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise MvbenchError(f"cannot read submission folder {path}: {exc}") from exc
