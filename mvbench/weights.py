"""Registry of pretrained weight files, the local cache, and fetch / import / verify.

The catalogue is data (``mvbench/data/weights/*.json``, one file per family of networks, each
``{"weights": [...]}``): every network mvbench can load is a
named entry with its file name, source URL, size and, where known, sha256. Files live in
``$MVBENCH_HOME/weights`` (default ``~/.cache/mvbench/weights``) unless an entry names another
``location`` (DeepFace keeps its own folder). Nothing is downloaded at import time or
implicitly: :func:`require` raises :class:`~mvbench.errors.WeightsMissingError` naming
``mvbench weights fetch`` and ``mvbench weights import``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mvbench.atomic import atomic_open, atomic_write_text
from mvbench.errors import MvbenchError, WeightsMissingError


@dataclass(frozen=True)
class WeightSpec:
    """One pretrained file: where it comes from and how to recognise it."""

    name: str
    filename: str
    url: str
    description: str = ""
    size: int | None = None
    sha256: str | None = None
    location: str = "mvbench"
    license: str = ""
    extras: dict = field(default_factory=dict)


def mvbench_home() -> Path:
    """``$MVBENCH_HOME`` or ``~/.cache/mvbench``."""
    return Path(os.environ.get("MVBENCH_HOME", Path.home() / ".cache" / "mvbench")).expanduser()


def _deepface_weights_dir() -> Path:
    # DeepFace looks in $DEEPFACE_HOME/.deepface/weights (DEEPFACE_HOME defaults to the home folder).
    return Path(os.environ.get("DEEPFACE_HOME", str(Path.home()))).expanduser() / ".deepface" / "weights"


LOCATIONS: dict[str, Callable[[], Path]] = {
    "mvbench": lambda: mvbench_home() / "weights",
    "deepface": _deepface_weights_dir,
}


def _load_catalogue() -> dict[str, WeightSpec]:
    out: dict[str, WeightSpec] = {}
    folder = resources.files("mvbench").joinpath("data/weights")
    for f in sorted(folder.iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".json"):
            continue
        for e in json.loads(f.read_text(encoding="utf-8"))["weights"]:
            if e["name"] in out:
                raise RuntimeError(f"weights entry {e['name']!r} is declared twice (data/weights/{f.name})")
            out[e["name"]] = WeightSpec(**e)
    return out


REGISTRY: dict[str, WeightSpec] = _load_catalogue()


def register(spec: WeightSpec) -> None:
    """Add (or replace) an entry at run time, e.g. for a user's own extractor."""
    REGISTRY[spec.name] = spec


def get_spec(name: str) -> WeightSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise MvbenchError(f"unknown weights {name!r}", hint=f"known names: {known}") from None


def weight_path(name: str) -> Path:
    """Where the file of entry ``name`` lives (whether or not it exists)."""
    spec = get_spec(name)
    return LOCATIONS[spec.location]() / spec.filename


def missing_message(name: str) -> tuple[str, str]:
    spec = get_spec(name)
    path = weight_path(name)
    msg = f"weights {name!r} ({spec.filename}) are not in the cache: expected {path}"
    hint = (
        f"download them with `mvbench weights fetch {name}`, or, if you already have the file, "
        f"`mvbench weights import {name} PATH` (source: {spec.url})"
    )
    return msg, hint


def require(name: str) -> Path:
    """Path of an existing weight file, or a :class:`WeightsMissingError` saying how to get it."""
    path = weight_path(name)
    if not path.is_file():
        raise WeightsMissingError(*missing_message(name))
    return path


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file, memoised in a sidecar keyed by (size, mtime) so large files hash once."""
    path = Path(path)
    st = path.stat()
    key = f"{st.st_size}:{st.st_mtime_ns}"
    sidecar = path.with_name(path.name + ".sha256.json")
    try:
        cached = json.loads(sidecar.read_text())
        if cached.get("key") == key:
            return cached["sha256"]
    except (OSError, ValueError, KeyError):
        pass
    digest = file_sha256_nocache(path, chunk)
    try:
        atomic_write_text(sidecar, json.dumps({"key": key, "sha256": digest}))
    except OSError:
        pass  # read-only location: hashing again next time is fine
    return digest


def file_sha256_nocache(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def fetch(name: str, progress: bool = True) -> Path:
    """Download entry ``name`` to the cache (atomically), checking size and sha256 when known."""
    from tqdm import tqdm

    spec = get_spec(name)
    dest = weight_path(name)
    if dest.is_file():
        return dest
    try:
        with urllib.request.urlopen(spec.url) as resp, atomic_open(dest, "wb", suffix=".part") as out:
            total = int(resp.headers.get("Content-Length") or 0) or spec.size
            digest = hashlib.sha256()
            with tqdm(total=total, unit="B", unit_scale=True, desc=name, disable=not progress) as bar:
                while block := resp.read(1 << 20):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
            if spec.sha256 and digest.hexdigest() != spec.sha256:
                raise MvbenchError(
                    f"the download of {name!r} from {spec.url} does not match its registered sha256; nothing was "
                    "installed",
                    hint="try again; if it persists the upstream file changed: import a verified copy instead",
                )
    except OSError as exc:
        raise MvbenchError(
            f"could not download {name!r} from {spec.url}: {exc}",
            hint=f"download it by other means and run `mvbench weights import {name} PATH`",
        ) from exc
    return dest


def import_file(name: str, src: str | Path, link: bool = False) -> Path:
    """Adopt a file the user already has: copy (or symlink) it into the cache and check its hash."""
    src = Path(src).expanduser()
    if not src.is_file():
        raise MvbenchError(f"cannot import {name!r}: {src} is not a file")
    spec = get_spec(name)
    if spec.sha256 and file_sha256(src) != spec.sha256:
        raise MvbenchError(
            f"{src} does not match the sha256 registered for {name!r}",
            hint="check that this is the official file named " + spec.filename,
        )
    dest = weight_path(name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if link:
        tmp = dest.with_name(f".{dest.name}.link")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(src.resolve())
        os.replace(tmp, dest)
    else:
        with open(src, "rb") as inp, atomic_open(dest, "wb") as out:
            shutil.copyfileobj(inp, out, 1 << 20)
    return dest


@dataclass
class VerifyReport:
    name: str
    path: Path
    present: bool
    sha256: str | None
    status: str  # "ok", "missing", "unverified" (no registered hash), "MISMATCH"


def verify(name: str) -> VerifyReport:
    spec = get_spec(name)
    path = weight_path(name)
    if not path.is_file():
        return VerifyReport(name, path, False, None, "missing")
    digest = file_sha256(path)
    if spec.sha256 is None:
        status = "unverified"
    else:
        status = "ok" if digest == spec.sha256 else "MISMATCH"
    return VerifyReport(name, path, True, digest, status)


def weights_hash(name: str) -> str | None:
    """sha256 of the cached file of ``name`` (for results files), or None if absent."""
    path = weight_path(name)
    return file_sha256(path) if path.is_file() else None
