"""Character banks: portraits of each character, their embeddings (computed once, cached), matching.

Bank folder layouts (a character's name comes from the file or folder name):

* ``BANK/NAME.jpg`` — one portrait per character (MovieBench's ``Char_Bank/MOVIE/NAME.jpg``);
* ``BANK/NAME/*.jpg`` — several views of one character;
* per item: ``BANK/ITEM_ID/...`` with either layout inside (e.g.
  ``banks/mvbench-3scene/001_harbor/Actor1.png``); otherwise ``BANK`` is shared by all items.

A bank is per item when it has a folder named after the item, or after any suite item id (when the
ids are known), or a folder that is not one of the item's characters but holds portraits named after
them (another item's folder). In a per-item bank an item without its own folder is an error naming
the folder expected; an item-id folder is never taken for a character.

An item's portraits are merged per character: those listed in the suite item's ``characters``
entries (``"portraits": [...]``, paths relative to the suite file's folder) first, then the bank
folder's. A character scripted in a scene with no portrait anywhere can never be recognised (every
shot scripting it counts a miss); :func:`unbanked_characters` names them so the scorer can warn.

Matching (as ``DeepFace.find`` decides, MovieBench Sec. 3.5): the distance from a face embedding to
every portrait embedding is computed; the nearest portrait's character is the answer when its
distance is ``<= threshold``, otherwise the face is unknown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mvbench.atomic import atomic_open
from mvbench.errors import MvbenchError
from mvbench.faces.backend import FaceBackend, FaceMatch, face_distance

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def character_name(stem: str, known: Iterable[str] = (), underscores_to_spaces: bool = False) -> str:
    """Character name of a portrait file/folder stem.

    The stem itself if it is a known name; else the stem with ``_`` turned into spaces if that is
    known (MovieBench names files ``Juno_MacGuff.jpg`` for ``Juno MacGuff``); else the stem, with
    ``_`` turned into spaces when ``underscores_to_spaces`` (MovieBench's script always does this).
    """
    known = set(known)
    spaced = stem.replace("_", " ")
    if stem in known:
        return stem
    if spaced in known:
        return spaced
    return spaced if underscores_to_spaces else stem


def discover_portraits(folder: str | Path, known: Iterable[str] = (),
                       underscores_to_spaces: bool = False, skip: Iterable[str] = ()) -> dict[str, list[Path]]:
    """``{name: [portrait paths]}`` of a bank folder (``NAME.jpg`` and ``NAME/*.jpg``), sorted.

    Sub-folders named in ``skip`` (other items' folders) are not characters and are left out.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MvbenchError(f"character bank folder {folder} does not exist",
                           hint="pass --character-bank DIR with one portrait per character (NAME.jpg or NAME/*.jpg)")
    known, skip = list(known), set(skip)
    out: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if _is_image(entry):
            out.setdefault(character_name(entry.stem, known, underscores_to_spaces), []).append(entry)
        elif entry.is_dir() and not entry.name.startswith(".") and entry.name not in skip:
            views = sorted(p for p in entry.iterdir() if _is_image(p))
            if views:
                out.setdefault(character_name(entry.name, known, underscores_to_spaces), []).extend(views)
    return out


def _names_a_character(stem: str, characters: set[str]) -> bool:
    return stem in characters or stem.replace("_", " ") in characters


def _looks_like_item_folder(folder: Path, characters: set[str]) -> bool:
    """A folder that is not one of ``characters`` but holds portraits (or folders) named after them."""
    if _names_a_character(folder.name, characters):
        return False
    for entry in folder.iterdir():
        name = entry.stem if entry.is_file() else entry.name
        if (_is_image(entry) or entry.is_dir()) and _names_a_character(name, characters):
            return True
    return False


def item_folders(root: str | Path, item, suite_ids: Iterable[str] | None = None) -> list[str]:
    """Sub-folders of ``root`` that belong to items, not characters: those named after a suite item id
    (``item.id`` included) and those that look like another item's folder (:func:`_looks_like_item_folder`)."""
    root = Path(root)
    ids = set(suite_ids or ()) | {item.id}
    characters = set(item.characters)
    out = []
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        if entry.is_dir() and not entry.name.startswith("."):
            if entry.name in ids or _looks_like_item_folder(entry, characters):
                out.append(entry.name)
    return out


def bank_folder_for_item(root: str | Path, item, suite_ids: Iterable[str] | None = None) -> tuple[Path, list[str]]:
    """``(folder, skip)``: ``root/ITEM_ID`` for a per-item bank, else ``(root, item folders to skip)``.

    A per-item bank (see the module docstring) without this item's folder is an error naming it.
    """
    root = Path(root)
    per_item = root / item.id
    if per_item.is_dir():
        return per_item, []
    others = item_folders(root, item, suite_ids)
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise MvbenchError(
            f"item {item.id!r}: character bank {root} is per item (it has folders for items such as {shown}) "
            f"but has no folder for this item; expected {per_item}",
            hint=f"add {per_item}/NAME.jpg for the item's characters ({', '.join(item.characters) or 'NAME'})")
    return root, []


def _suite_portraits(item, suite_dir: str | Path | None) -> dict[str, list[Path]]:
    base = Path(suite_dir) if suite_dir else Path.cwd()
    out: dict[str, list[Path]] = {}
    for name, char in item.characters.items():
        paths = [Path(p) if Path(p).is_absolute() else base / p for p in char.portraits]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise MvbenchError(f"item {item.id!r}: portraits of {name!r} not found: {missing}",
                               hint="portrait paths in a suite are relative to the suite file's folder")
        if paths:
            out[name] = paths
    return out


def portraits_for_item(item, bank_root: str | Path | None, suite_dir: str | Path | None = None,
                       underscores_to_spaces: bool = False,
                       suite_ids: Iterable[str] | None = None) -> dict[str, list[Path]]:
    """Portraits of one suite item, merged per character: the suite's first, then the bank folder's.

    ``suite_ids`` (all item ids of the suite) lets a per-item bank be recognised by its folder names.
    """
    found = _suite_portraits(item, suite_dir)
    if bank_root is None:
        if not found:
            raise MvbenchError(
                f"item {item.id!r} has no character portraits",
                hint="pass --character-bank DIR (NAME.jpg or NAME/*.jpg, optionally one sub-folder per item id), "
                     "or list portraits in the suite's characters entries; see docs/character_id.md")
        return found
    folder, skip = bank_folder_for_item(bank_root, item, suite_ids)
    from_bank = discover_portraits(folder, item.characters.keys(), underscores_to_spaces, skip)
    for name, paths in from_bank.items():
        have = found.setdefault(name, [])
        seen = {p.resolve() for p in have}
        have.extend(p for p in paths if p.resolve() not in seen)
    if not found:
        raise MvbenchError(f"character bank {folder} holds no portraits for item {item.id!r}",
                           hint=f"add images named after the characters ({', '.join(item.characters) or 'NAME'}).jpg")
    return found


def unbanked_characters(item, portraits: Mapping[str, Iterable]) -> list[str]:
    """Characters scripted in the item's scenes that have no portrait (they can never be recognised)."""
    scripted = {name for scene in item.scenes for name in scene.characters}
    return sorted(n for n in scripted if not list(portraits.get(n, ())))


def load_rgb(path: str | Path) -> np.ndarray:
    """An image file as RGB ``uint8`` ``[H, W, 3]``."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except OSError as exc:
        raise MvbenchError(f"cannot read portrait {path}: {exc}") from exc


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class EmbeddingCache:
    """Portrait embeddings on disk, keyed by the backend fingerprint and the file's content hash.

    Files: ``folder/<sha256(fingerprint)[:16]>/<sha256(portrait bytes)>.npy``. The bank folder itself
    is never written to.
    """

    folder: Path

    def _path(self, fingerprint: str, digest: str) -> Path:
        fp = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:16]
        return self.folder / fp / f"{digest}.npy"

    def get(self, fingerprint: str, digest: str) -> np.ndarray | None:
        path = self._path(fingerprint, digest)
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None

    def put(self, fingerprint: str, digest: str, emb: np.ndarray) -> None:
        with atomic_open(self._path(fingerprint, digest), "wb", suffix=".npy") as fh:
            np.save(fh, np.asarray(emb, dtype=np.float64), allow_pickle=False)


def default_cache() -> EmbeddingCache:
    from mvbench.weights import mvbench_home

    return EmbeddingCache(mvbench_home() / "cache" / "face_bank")


@dataclass
class CharacterBank:
    """Portrait embeddings with the character each row belongs to."""

    names: list[str]
    embeddings: np.ndarray  # [n, d] float64
    sources: list[str] = field(default_factory=list)

    @property
    def characters(self) -> list[str]:
        return sorted(set(self.names))

    def by_character(self) -> dict[str, np.ndarray]:
        """``{name: [n_name, d] embeddings}`` of every character's portrait faces."""
        out: dict[str, list[int]] = {}
        for i, n in enumerate(self.names):
            out.setdefault(n, []).append(i)
        return {n: self.embeddings[rows] for n, rows in out.items()}

    def match(self, embedding: np.ndarray, metric: str, threshold: float) -> FaceMatch:
        """Nearest portrait's character if its distance is ``<= threshold``, else ``name=None``."""
        if not self.names:
            return FaceMatch(None, float("inf"))
        dist = face_distance(np.asarray(embedding)[None], self.embeddings, metric)[0]
        j = int(np.argmin(dist))
        d = float(dist[j])
        return FaceMatch(self.names[j] if d <= threshold else None, d)


def build_bank(backend: FaceBackend, portraits: Mapping[str, Iterable[str | Path]],
               cache: EmbeddingCache | None = None) -> CharacterBank:
    """Embed every face of every portrait (one row per face, as ``DeepFace.find`` indexes a folder)."""
    names: list[str] = []
    rows: list[np.ndarray] = []
    sources: list[str] = []
    fingerprint = backend.fingerprint()
    for name, paths in portraits.items():
        for path in paths:
            path = Path(path)
            digest = _file_sha256(path)
            emb = cache.get(fingerprint, digest) if cache is not None else None
            if emb is None:
                emb = np.atleast_2d(np.asarray(backend.embed(load_rgb(path)), dtype=np.float64))
                if cache is not None:
                    cache.put(fingerprint, digest, emb)
            for row in emb:
                names.append(name)
                rows.append(row)
                sources.append(str(path))
    if not rows:
        return CharacterBank([], np.zeros((0, 0)), [])
    return CharacterBank(names, np.stack(rows), sources)
