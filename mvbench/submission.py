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
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
class _ItemOutcome:
    """What resolving one item found (gathered across ranks under torchrun)."""

    videos: ItemVideos | None = None
    problems: list[Problem] = field(default_factory=list)
    infos: dict[str, VideoInfo] = field(default_factory=dict)


def probe_workers(exact: bool = False) -> int:
    """Threads that probe files: reading containers waits on storage more than on the CPU, so a few per
    core (``exact`` decodes every frame: one per core)."""
    cores = os.cpu_count() or 2
    return max(1, min(64, cores if exact else 4 * cores))


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
            if not math.isfinite(fps) or fps <= 0:
                raise SubmissionError(f"{meta_path}: 'fps' must be a positive, finite number, got {meta.get('fps')!r}",
                                      hint='write the frame rate the videos were generated at, e.g. "fps": 8')
        model = meta.get("model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise SubmissionError(f"{meta_path}: 'model' must be a non-empty string, got {model!r}")
        return cls(root, str(model or root.resolve().name), str(meta.get("version", "")),
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

    def _unsupported(self, stem: Path) -> list[Path]:
        """Files named like ``stem`` with an extension mvbench does not read (``scene_2.gif``)."""
        if not stem.parent.is_dir():
            return []
        return sorted(p for p in stem.parent.glob(stem.name + ".*")
                      if p.is_file() and p.suffix.lower() not in VIDEO_EXTENSIONS)

    def _missing(self, kind: str, item_id: str, stem: Path, expected: str, message: str) -> Problem:
        """A missing-file problem that names a same-named file in an unsupported format when there is one."""
        found = self._unsupported(stem)
        if found:
            names = ", ".join(self._rel(f) for f in found)
            return Problem("unsupported_format", item_id, self._rel(found[0]),
                           f"found {names} but {found[0].suffix} is not a video container mvbench reads "
                           f"({', '.join(VIDEO_EXTENSIONS)}); convert it, e.g. "
                           f"`ffmpeg -i {found[0].name} {stem.name}.mp4`")
        return Problem(kind, item_id, expected, message)

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)

    # -- resolution ----------------------------------------------------------------------
    def resolve(self, suite: Suite, exact: bool = False, min_frames: int = 1, progress: bool = False,
                pad_min_frames: int | None = None, limit: int | None = None, *, workers: int | None = None,
                part: tuple[int, int] | None = None,
                gather: Callable[[list], list[list]] | None = None) -> Resolution:
        """Map every suite item to its scene videos, collecting every problem on the way.

        ``exact`` decodes every file to count its frames (``mvbench validate``); otherwise the
        container's frame count is used, checked against the packets present (a truncated file is a
        problem either way). A scene shorter than ``min_frames`` is a ``too_few_frames`` problem that
        blocks its item; with ``pad_min_frames`` set (the ``pad`` policy for short scenes) only scenes
        shorter than ``pad_min_frames`` block, and the others are ``short_scene`` warnings. ``limit``
        resolves only the first N items of the suite (the others are neither checked nor reported).

        Files are probed in a pool of ``workers`` threads (default :func:`probe_workers`; PyAV releases
        the GIL while it reads). With ``part=(rank, world)`` only the items ``rank::world`` are probed
        here and ``gather`` (e.g. an all-gather across ranks) collects every part's per-item outcomes, so
        each rank ends up with the complete resolution (problems in suite order, as a single process
        finds them) having probed only its own files.
        """
        items = list(suite.items if limit is None else suite.items[:limit])
        mine = items if part is None else items[part[0]::part[1]]
        outcomes = self._resolve_items(mine, exact, min_frames, pad_min_frames, workers, progress)
        if gather is not None:
            merged: dict[str, _ItemOutcome] = {}
            for got in gather(outcomes):
                merged.update(got)
            outcomes = merged
        res = Resolution()
        for item in items:
            out = outcomes.get(item.id)
            if out is None:
                continue
            res.problems.extend(out.problems)
            for rel, vi in out.infos.items():
                res.infos[rel] = vi
                res.file_items[rel] = item.id
            if out.videos is not None:
                res.items[item.id] = out.videos

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

    def _resolve_items(self, items: list, exact: bool, min_frames: int, pad_min_frames: int | None,
                       workers: int | None, progress: bool) -> dict[str, _ItemOutcome]:
        """Per item (in order): its videos or None, its problems, the infos of its files. Every file is
        probed once, in parallel, before the items are put together."""
        from tqdm import tqdm

        paths: list[Path] = []

        def collect(item_id: str, path: Path) -> None:
            paths.append(path)
            return None

        for item in items:
            self._resolve_item(item, collect, [])
        probed: dict[Path, VideoInfo | VideoDecodeError] = {}

        def one(path: Path) -> VideoInfo | VideoDecodeError:
            try:
                return probe(path, exact=exact)
            except VideoDecodeError as exc:
                return exc

        unique = list(dict.fromkeys(paths))
        n_workers = max(1, workers or probe_workers(exact))
        bar = tqdm(total=len(unique), desc=f"checking {self.root.name}", unit="file", disable=not progress,
                   leave=False)
        try:
            if n_workers == 1 or len(unique) < 2:
                for path in unique:
                    probed[path] = one(path)
                    bar.update(1)
            else:
                with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="mvbench-probe") as pool:
                    for path, got in zip(unique, pool.map(one, unique)):
                        probed[path] = got
                        bar.update(1)
        finally:
            bar.close()

        outcomes: dict[str, _ItemOutcome] = {}
        reported: dict[Path, Problem] = {}
        for item in items:
            out = _ItemOutcome()

            def info(item_id: str, path: Path, out=out) -> VideoInfo | None:
                got = probed[path]
                if isinstance(got, VideoDecodeError):
                    problem = reported.setdefault(path, Problem(got.kind, item_id, self._rel(path),
                                                                got.message.split(": ", 1)[-1]))
                    out.problems.append(problem)
                    return None
                out.infos[self._rel(path)] = got
                return got

            refs = self._resolve_item(item, info, out.problems)
            outcomes[item.id] = out
            if refs is None:
                continue
            blocking_min = min_frames if pad_min_frames is None else pad_min_frames
            short = False
            for k, r in enumerate(refs, start=1):
                if r.num_frames < blocking_min:
                    out.problems.append(Problem("too_few_frames", item.id, self._rel(Path(r.path)),
                                                f"scene {k} has {r.num_frames} frame(s); the protocol samples "
                                                f"{blocking_min}"))
                    short = True
                elif r.num_frames < min_frames:
                    out.problems.append(Problem("short_scene", item.id, self._rel(Path(r.path)),
                                                f"scene {k} has {r.num_frames} frame(s), fewer than the {min_frames} "
                                                "the protocol samples; frames are repeated (--short-scenes pad)"))
            if not short:
                out.videos = ItemVideos(item, tuple(refs))
        return outcomes

    def _resolve_item(self, item, info, problems: list[Problem]) -> list[VideoRef] | None:
        """The scene refs of one item, or None after recording why they cannot be had."""
        n_scenes = len(item.scenes)
        entry = self.item_entries.get(item.id)
        scene_dir = self.root / item.id
        if entry is not None and not isinstance(entry, dict):
            problems.append(Problem("bad_entry", item.id, "submission.json",
                                    f"items.{item.id} must be an object like "
                                    '{"file": "ITEM.mp4", "scenes": [[0, 49], [49, 98]]}, '
                                    f"got {type(entry).__name__}"))
            return None
        if entry is None and scene_dir.is_dir():
            return self._resolve_scene_files(item, scene_dir, info, problems)
        # one file per item
        rel = (entry or {}).get("file")
        if rel is not None and not (isinstance(rel, str) and rel.strip()):
            problems.append(Problem("bad_entry", item.id, "submission.json",
                                    f"items.{item.id}.file must be a path (text) inside the submission folder, "
                                    f"got {rel!r}"))
            return None
        path = self._inside(rel) if rel else self._find(self.root / item.id)
        if rel and path is None:
            problems.append(Problem("path_escape", item.id, rel, "path points outside the submission folder"))
            return None
        if path is None or not path.is_file():
            stem = (self.root / rel).with_suffix("") if rel else self.root / item.id
            problems.append(self._missing("missing_item", item.id, stem, rel or f"{item.id}.mp4",
                                          f"no video for this item (expected {item.id}/scene_1..{n_scenes}.mp4 "
                                          f"or {item.id}.mp4 with scene boundaries in submission.json)"))
            return None
        vi = info(item.id, path)
        if vi is None:
            return None
        bounds = (entry or {}).get("scenes")
        if bounds is None and n_scenes == 1:
            bounds = [[0, vi.num_frames]]
        if not isinstance(bounds, list) or len(bounds) != n_scenes:
            problems.append(Problem("bad_boundaries", item.id, self._rel(path),
                                    f"submission.json must give {n_scenes} scene frame ranges "
                                    f"under items.{item.id}.scenes"))
            return None
        refs: list[VideoRef] = []
        ok = True
        for k, b in enumerate(bounds, start=1):
            if not (isinstance(b, list) and len(b) == 2 and all(type(v) is int for v in b)
                    and 0 <= b[0] < b[1] <= vi.num_frames):
                problems.append(Problem("bad_boundaries", item.id, self._rel(path),
                                        f"scene {k} range {b!r} is not [start, end) inside the "
                                        f"video's {vi.num_frames} frames"))
                ok = False
                continue
            if refs and b[0] < refs[-1].end:
                problems.append(Problem("bad_boundaries", item.id, self._rel(path),
                                        f"scene {k} range {b!r} overlaps or precedes scene {k - 1} "
                                        f"[{refs[-1].start}, {refs[-1].end}); ranges must be in scene order "
                                        "and must not overlap"))
                ok = False
                continue
            refs.append(VideoRef(str(path), b[0], b[1], vi.fps))
        return refs if ok else None

    def _resolve_scene_files(self, item, scene_dir: Path, info, problems: list[Problem]) -> list[VideoRef] | None:
        n_scenes = len(item.scenes)
        refs: list[VideoRef] = []
        ok = True
        for k in range(1, n_scenes + 1):
            path = self._find(scene_dir / f"scene_{k}")
            if path is None:
                problems.append(self._missing("missing_scene", item.id, scene_dir / f"scene_{k}",
                                              f"{item.id}/scene_{k}.mp4", f"scene {k} of {n_scenes} is missing"))
                ok = False
                continue
            vi = info(item.id, path)
            if vi is None:
                ok = False
                continue
            refs.append(VideoRef(str(path), 0, vi.num_frames, vi.fps))
        return refs if ok else None

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
BLOCKING = {"missing_item", "missing_scene", "unreadable", "truncated", "zero_frames", "too_few_frames",
            "bad_boundaries", "bad_entry", "path_escape", "unsupported_format", "cannot_plan"}


def open_submission(path: str | Path) -> Submission:
    try:
        return Submission.open(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise MvbenchError(f"cannot read submission folder {path}: {exc}") from exc
