"""MovieBench shot annotations and character banks -> an mvbench suite (MovieBench Sec. 3.2-3.3).

Input layout (as MovieBench distributes it and as its ID script reads it)::

    ANNOTATIONS/MOVIE/MOVIE_HH.MM.SS.mmm-HH.MM.SS.mmm.json   one file per shot (a flat folder also works)
    BANK/MOVIE/NAME.jpg                                       one portrait per character, or
    BANK/MOVIE/ACTOR_NAME-CHARACTER_NAME/*.jpg                several portraits per character

A shot file holds ``Characters`` (name -> description, or a list of names), ``Plot``,
``Background Description``, ``Camera Motion`` and ``Style Elements``. Every movie becomes one suite
item; its shots, sorted by start time, become the item's scenes (``scene_K`` = K-th shot). A scene's
prompt is made of ``prompt_fields`` (default: the plot); its characters are the shot's
``Characters``; the other fields and the shot's file name and times go to ``item.meta["shots"]``.
Item ids are the movie names in suite-id characters (:func:`item_ids`: accents folded, a short hash
added where names would be empty or collide); ``item.meta["movie"]`` keeps the original name.
Annotation files are UTF-8 JSON (a byte-order mark is accepted).
Bank portraits become the item's ``characters[NAME].portraits`` (absolute paths), with names made as
MovieBench's script makes them (file stem, ``_`` -> space; for ``ACTOR-CHARACTER`` folders the part
after the first ``-``).

The test split: MovieBench publishes its split as ``data_split.json``, ``{"Train": [movie, ...], "Test":
[movie, ...]}`` (6 test movies, the ones whose shot annotations were corrected by hand, Sec. 3.4);
:func:`read_split` reads it and ``load_moviebench(..., movies=read_split(path, "Test"))`` keeps those movies.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import unicodedata
from pathlib import Path

from mvbench.errors import MvbenchError, SuiteError
from mvbench.faces.bank import IMAGE_SUFFIXES
from mvbench.suite import parse_suite

SHOT_FILE = re.compile(r"^(?P<movie>.+)_(?P<start>\d{1,2}\.\d{2}\.\d{2}\.\d{1,3})-(?P<end>\d{1,2}\.\d{2}\.\d{2}\.\d{1,3})\.json$")
FIELDS = ("Characters", "Plot", "Background Description", "Camera Motion", "Style Elements")


def parse_timestamp(text: str) -> float:
    """``HH.MM.SS.mmm`` -> seconds."""
    h, m, s, ms = text.split(".")
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000.0


def parse_shot_filename(name: str) -> tuple[str, float, float]:
    """``(movie, start_seconds, end_seconds)`` of ``MOVIE_HH.MM.SS.mmm-HH.MM.SS.mmm.json``."""
    m = SHOT_FILE.match(name)
    if not m:
        raise MvbenchError(f"{name}: not a MovieBench shot file name",
                           hint="expected MOVIE_HH.MM.SS.mmm-HH.MM.SS.mmm.json")
    return m["movie"], parse_timestamp(m["start"]), parse_timestamp(m["end"])


ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _folded_id(movie: str) -> str:
    """``movie`` in suite-id characters: accents dropped (NFKD: ``Amélie`` -> ``Amelie``), others -> ``_``."""
    chars = []
    for ch in unicodedata.normalize("NFKD", movie):
        if unicodedata.combining(ch):
            continue
        chars.append(ch if ch in ID_CHARS else "_")
    return "".join(chars)


def item_ids(movies: list[str]) -> dict[str, str]:
    """A unique, recognisable suite item id per movie name.

    The ASCII-folded name (:func:`_folded_id`); when that has no letter or digit left (``東京物語``) or
    is shared by several movies, the first 8 hex digits of the sha1 of the UTF-8 name are appended
    (``movie-<hash>`` when nothing recognisable is left). The original name stays in ``meta.movie``.
    """
    folded = {m: _folded_id(m) for m in movies}
    counts: dict[str, int] = {}
    for f in folded.values():
        counts[f] = counts.get(f, 0) + 1
    out = {}
    for movie, f in folded.items():
        digest = hashlib.sha1(movie.encode("utf-8")).hexdigest()[:8]
        if not any(c.isalnum() for c in f):
            out[movie] = f"movie-{digest}"
        elif counts[f] > 1:
            out[movie] = f"{f}-{digest}"
        else:
            out[movie] = f
    return out


def _character_names(raw, where: str) -> dict[str, str]:
    """``Characters`` as ``{name: description}`` (a dict, a list of names, or one name)."""
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return {str(k).strip(): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                for k, v in raw.items() if str(k).strip()}
    if isinstance(raw, list):
        return {str(n).strip(): "" for n in raw if str(n).strip()}
    if isinstance(raw, str):
        return {raw.strip(): ""} if raw.strip() else {}
    raise MvbenchError(f"{where}: 'Characters' must be an object, a list or a string, got {type(raw).__name__}")


def bank_portraits(movie_bank: str | Path) -> dict[str, list[str]]:
    """``{character: [absolute portrait paths]}`` of one movie's bank folder (both layouts)."""
    folder = Path(movie_bank)
    out: dict[str, list[str]] = {}
    if not folder.is_dir():
        return out
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES:
            out.setdefault(entry.stem.replace("_", " "), []).append(str(entry.resolve()))
        elif entry.is_dir():
            char = entry.name.split("-", 1)[1] if "-" in entry.name else entry.name
            views = [str(p.resolve()) for p in sorted(entry.iterdir())
                     if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")]
            if views:
                out.setdefault(char.replace("_", " "), []).extend(views)
    return out


def _shot_files(root: Path) -> dict[str, list[Path]]:
    """Shot files grouped by movie: ``root/MOVIE/*.json`` or a flat ``root/*.json``."""
    groups: dict[str, list[Path]] = {}
    candidates = sorted(root.glob("*.json")) + sorted(root.glob("*/*.json"))
    for path in candidates:
        if SHOT_FILE.match(path.name):
            movie = parse_shot_filename(path.name)[0] if path.parent == root else path.parent.name
            groups.setdefault(movie, []).append(path)
    return groups


def read_split(path: str | Path, split: str = "Test") -> list[str]:
    """The movies of one split of MovieBench's ``data_split.json`` (split names compared case-insensitively)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MvbenchError(f"{path}: not a readable MovieBench split file ({exc})",
                           hint='expected data_split.json: {"Train": [...], "Test": [...]}') from None
    if not isinstance(data, dict):
        raise MvbenchError(f"{path}: a MovieBench split file is a JSON object {{split name: [movie, ...]}}")
    by_lower = {str(k).lower(): k for k in data}
    key = by_lower.get(split.lower())
    if key is None:
        raise MvbenchError(f"{path}: no split {split!r}", hint="splits in the file: " + ", ".join(map(str, data)))
    movies = data[key]
    if not isinstance(movies, list) or not movies or not all(isinstance(m, str) and m for m in movies):
        raise MvbenchError(f"{path}: split {key!r} must be a non-empty list of movie folder names")
    return list(dict.fromkeys(movies))


def load_moviebench(annotations: str | Path, bank: str | Path | None = None, *, suite_name: str = "moviebench",
                    version: str = "1", movies: list[str] | None = None,
                    prompt_fields: tuple[str, ...] = ("Plot",)) -> dict:
    """Build a suite document (see :mod:`mvbench.suite`) from MovieBench annotations and banks."""
    root = Path(annotations)
    if not root.is_dir():
        raise MvbenchError(f"MovieBench annotation folder {root} does not exist")
    groups = _shot_files(root)
    ids = item_ids(sorted(groups))  # from every movie of the folder, so a --movies subset keeps the same ids
    if movies:
        unknown = sorted(set(movies) - set(groups))
        if unknown:
            raise MvbenchError(f"movies {unknown} have no shot files under {root}",
                               hint="known movies: " + ", ".join(sorted(groups)))
        groups = {m: groups[m] for m in movies}
    if not groups:
        raise MvbenchError(f"no MovieBench shot files (MOVIE_HH.MM.SS.mmm-HH.MM.SS.mmm.json) under {root}")
    items = []
    for movie, files in sorted(groups.items()):
        shots = []
        for path in files:
            _, start, end = parse_shot_filename(path.name)
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except UnicodeDecodeError as exc:
                raise MvbenchError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})",
                                   hint="re-save the annotation as UTF-8") from None
            except (OSError, json.JSONDecodeError) as exc:
                raise MvbenchError(f"{path}: not a readable JSON shot annotation ({exc})") from exc
            if not isinstance(data, dict):
                raise MvbenchError(f"{path}: a shot annotation must be a JSON object with {', '.join(FIELDS)}")
            shots.append((start, end, path, data))
        shots.sort(key=lambda s: (s[0], s[1], s[2].name))
        characters: dict[str, dict] = {}
        scenes, meta_shots = [], []
        for start, end, path, data in shots:
            names = _character_names(data.get("Characters"), str(path))
            for n, desc in names.items():
                entry = characters.setdefault(n, {"appearance": "", "portraits": []})
                if desc and not entry["appearance"]:
                    entry["appearance"] = desc
            parts = [str(data[f]).strip() for f in prompt_fields if str(data.get(f) or "").strip()]
            prompt = " ".join(parts) or f"shot {path.stem} of {movie}"
            scenes.append({"prompt": prompt, "characters": list(names)})
            meta_shots.append({"file": path.name, "start": start, "end": end,
                               **{f: data[f] for f in FIELDS[1:] if f in data}})
        if bank is not None:
            for n, paths in bank_portraits(Path(bank) / movie).items():
                characters.setdefault(n, {"appearance": "", "portraits": []})["portraits"] = paths
        chars_out = {n: (c if c["portraits"] else c["appearance"]) for n, c in characters.items()}
        items.append({"id": ids[movie], "characters": chars_out, "scenes": scenes,
                      "meta": {"movie": movie, "shots": meta_shots}})
    doc = {"suite": suite_name, "version": str(version),
           "description": f"MovieBench shots from {root} (shot-level annotations; scenes in time order)",
           "items": items}
    try:
        parse_suite(doc, source=str(root))
    except SuiteError as exc:
        raise MvbenchError(f"the MovieBench annotations under {root} do not make a valid suite: {exc}") from exc
    return doc


def link_submission(suite_doc: dict, generated: str | Path, out_dir: str | Path, ext: str = ".mp4",
                    model: str = "moviebench-model") -> Path:
    """Lay out generated shot videos named like MovieBench's (``GENERATED/MOVIE/SHOT.mp4``) as a submission.

    Creates ``out_dir/ITEM/scene_K.mp4`` in shot order (hard links where possible, else copies: a
    submission's files must lie inside its folder, so symlinks out of it are not used) and a
    ``submission.json``.
    """
    generated, out_dir = Path(generated), Path(out_dir)
    missing = []
    for item in suite_doc["items"]:
        movie = item["meta"]["movie"]
        for k, shot in enumerate(item["meta"]["shots"], start=1):
            src = generated / movie / (Path(shot["file"]).stem + ext)
            if not src.is_file():
                src = generated / (Path(shot["file"]).stem + ext)
            if not src.is_file():
                missing.append(str(generated / movie / (Path(shot["file"]).stem + ext)))
                continue
            dst = out_dir / item["id"] / f"scene_{k}{ext}"
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.is_symlink() or dst.exists():
                dst.unlink()
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
    if missing:
        raise MvbenchError(f"{len(missing)} generated shot video(s) missing, e.g. {missing[0]}",
                           hint="name each video after its annotation file, with the video extension")
    sub = out_dir / "submission.json"
    if not sub.exists():
        sub.write_text(json.dumps({"model": model, "version": "1", "notes": f"linked from {generated}"}, indent=2) + "\n")
    return out_dir
