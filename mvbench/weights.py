"""Registry of pretrained weight files, the local cache, and fetch / import / verify.

The catalogue is data (``mvbench/data/weights/*.json``, one file per family of networks, each
``{"weights": [...]}``): every network mvbench can load is a
named entry with its file name, source URL, size and, where known, sha256. Files live in
``$MVBENCH_HOME/weights`` (default ``~/.cache/mvbench/weights``) unless an entry names another
``location`` (DeepFace keeps its own folder). Nothing is downloaded at import time or
implicitly: :func:`require` raises :class:`~mvbench.errors.WeightsMissingError` naming
``mvbench weights fetch`` and ``mvbench weights import``.

Entries hosted on the Hugging Face Hub (URLs ``https://huggingface.co/<repo>/resolve/<revision>/<file>``)
are fetched with ``huggingface_hub``: a file already in the Hugging Face cache (``$HF_HUB_CACHE``, else
``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``) is reused without any network access; otherwise
it is downloaded into that cache (resumable, ``$HF_ENDPOINT`` mirrors, ``$HF_TOKEN`` or ``hf auth
login`` for gated and private repos; ``$HF_HUB_OFFLINE=1`` forbids downloading). The mvbench cache
then holds a symbolic link to the Hub cache's file (a copy where links are not possible). Other URLs
are downloaded directly. Every fetched file is checked against the registered size and, where
known, sha256 before it is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mvbench.atomic import atomic_open, atomic_write_text
from mvbench.errors import MvbenchError, WeightsMissingError

log = logging.getLogger(__name__)


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


def _remember_sha256(path: Path, digest: str) -> None:
    """Record the sha256 of a file just written (the sidecar :func:`file_sha256` reads), so it is not hashed twice."""
    st = path.stat()
    try:
        atomic_write_text(path.with_name(path.name + ".sha256.json"),
                          json.dumps({"key": f"{st.st_size}:{st.st_mtime_ns}", "sha256": digest}))
    except OSError:
        pass


def file_sha256_nocache(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class HubFile:
    """A file of a Hugging Face Hub repository, as named by a ``resolve`` URL."""

    repo_id: str
    filename: str
    revision: str
    repo_type: str = "model"


HUB_HOSTS = ("huggingface.co", "www.huggingface.co", "hf.co")


def parse_hub_url(url: str) -> HubFile | None:
    """The Hub file a ``https://huggingface.co/<repo>/resolve/<revision>/<path>`` URL names, or None for
    any other URL. Dataset and Space repos (``/datasets/...``, ``/spaces/...``) and percent-encoded
    revisions (``refs%2Fpr%2F1``) are understood; a query string is ignored.

    >>> parse_hub_url("https://huggingface.co/OpenGVLab/ViCLIP/resolve/main/ViClip-InternVid-10M-FLT.pth")
    HubFile(repo_id='OpenGVLab/ViCLIP', filename='ViClip-InternVid-10M-FLT.pth', revision='main', repo_type='model')
    >>> parse_hub_url("https://github.com/x/y/releases/download/v1/w.pth") is None
    True
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or parts.netloc.lower() not in HUB_HOSTS:
        return None
    segs = [urllib.parse.unquote(x) for x in parts.path.strip("/").split("/")]
    repo_type = "model"
    if segs and segs[0] in ("datasets", "spaces"):
        repo_type, segs = segs[0][:-1], segs[1:]
    if "resolve" not in segs:
        return None
    at = segs.index("resolve")
    if at not in (1, 2) or len(segs) < at + 3 or not all(segs[: at]):
        return None
    filename = "/".join(segs[at + 2:])
    if not filename or not segs[at + 1]:
        return None
    return HubFile("/".join(segs[:at]), filename, segs[at + 1], repo_type)


def hub_cache_dir() -> Path:
    """The Hugging Face cache folder, from the environment at call time: ``$HF_HUB_CACHE``, else
    ``$HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "huggingface" / "hub"


def hub_offline() -> bool:
    """Whether ``$HF_HUB_OFFLINE`` forbids Hub downloads (read at call time: ``1``, ``true``, ``yes``, ``on``).

    >>> isinstance(hub_offline(), bool)
    True
    """
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class FetchReport:
    """What :func:`fetch_report` did: the file, where it came from and how it was checked."""

    name: str
    path: Path
    source: str  # "present", "hub-cache", "hub", "url"
    verified: str  # e.g. "size and sha256 verified"


def fetch(name: str, progress: bool = True) -> Path:
    """Get entry ``name`` into the cache (see the module docstring) and return its path."""
    return fetch_report(name, progress).path


def fetch_report(name: str, progress: bool = True) -> FetchReport:
    """Like :func:`fetch`, returning where the file came from and how it was verified (size, sha256)."""
    spec = get_spec(name)
    dest = weight_path(name)
    if dest.is_file():
        return FetchReport(name, dest, "present", "already present (run `mvbench weights verify` to check it)")
    hub = parse_hub_url(spec.url)
    if hub is not None:
        source = _fetch_from_hub(spec, hub, dest, progress)
    else:
        _fetch_url(spec, dest, progress)
        source = "url"
    try:
        verified = check_file(spec, dest)
    except MvbenchError:
        dest.unlink(missing_ok=True)
        raise
    log.info("%s: %s (%s, %s)", name, dest, source, verified)
    return FetchReport(name, dest, source, verified)


def check_file(spec: WeightSpec, path: Path) -> str:
    """Check ``path`` against the registered size and sha256 of ``spec``; raise on a mismatch, else say
    what was checked.

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "w.bin"; _ = f.write_bytes(b"abc")
    >>> check_file(WeightSpec("doc", "w.bin", "https://example.org/w.bin", size=3), f)
    'size verified; no published sha256'
    """
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        raise MvbenchError(f"{path} has {size} bytes but weights {spec.name!r} are registered with {spec.size}",
                           hint=f"the download is incomplete or the upstream file changed; fetch again, or import "
                                f"a verified copy with `mvbench weights import {spec.name} PATH`")
    if spec.sha256 is not None:
        if file_sha256(path) != spec.sha256:
            raise MvbenchError(f"{path} does not match the sha256 registered for {spec.name!r}; it was not installed",
                               hint="try again; if it persists the upstream file changed: import a verified copy")
        return "size and sha256 verified" if spec.size is not None else "sha256 verified"
    if spec.size is not None:
        return "size verified; no published sha256"
    return "unverified: no size or sha256 registered"


def _link_or_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    target = src.resolve()
    tmp = dest.with_name(f".{dest.name}.link")
    tmp.unlink(missing_ok=True)
    try:
        tmp.symlink_to(target)
        os.replace(tmp, dest)
    except OSError:
        tmp.unlink(missing_ok=True)
        with open(target, "rb") as inp, atomic_open(dest, "wb") as out:
            shutil.copyfileobj(inp, out, 1 << 20)


def _fetch_from_hub(spec: WeightSpec, hub: HubFile, dest: Path, progress: bool) -> str:
    try:
        import huggingface_hub
        from huggingface_hub import hf_hub_download, try_to_load_from_cache
    except ImportError:  # a core dependency; only a broken install lacks it
        from mvbench.errors import MissingExtraError

        raise MissingExtraError("downloading from the Hugging Face Hub", "models", "huggingface_hub") from None
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    cache = hub_cache_dir()
    where = f"{hub.repo_id}/{hub.filename}@{hub.revision}"
    cached = try_to_load_from_cache(hub.repo_id, hub.filename, cache_dir=cache, revision=hub.revision,
                                    repo_type=hub.repo_type)
    if isinstance(cached, str) and os.path.isfile(cached):
        log.info("%s: reusing %s from the Hugging Face cache %s", spec.name, where, cache)
        _link_or_copy(Path(cached), dest)
        return "hub-cache"
    if hub_offline():
        raise MvbenchError(
            f"weights {spec.name!r} ({where}) are not in the Hugging Face cache {cache}, and HF_HUB_OFFLINE is set, "
            "so they cannot be downloaded",
            hint=f"unset HF_HUB_OFFLINE to download (HF_ENDPOINT selects a mirror), point HF_HOME / HF_HUB_CACHE at a "
                 f"cache that has the file, or `mvbench weights import {spec.name} PATH`")
    endpoint = os.environ.get("HF_ENDPOINT") or None
    hint = f"download it by other means and run `mvbench weights import {spec.name} PATH`"
    toggled = not progress and not huggingface_hub.utils.are_progress_bars_disabled()
    if toggled:
        huggingface_hub.utils.disable_progress_bars()
    try:
        path = hf_hub_download(hub.repo_id, hub.filename, revision=hub.revision, repo_type=hub.repo_type,
                               cache_dir=cache, endpoint=endpoint, library_name="mvbench")
    except GatedRepoError as exc:
        raise MvbenchError(f"weights {spec.name!r}: {hub.repo_id} is a gated repository on the Hub",
                           hint=f"accept its terms at https://huggingface.co/{hub.repo_id}, then log in with "
                                "`hf auth login` or set HF_TOKEN, and fetch again") from exc
    except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as exc:
        raise MvbenchError(f"weights {spec.name!r}: {where} was not found on {endpoint or 'the Hub'} "
                           f"({type(exc).__name__})",
                           hint="a private repository needs HF_TOKEN or `hf auth login`; else " + hint) from exc
    except LocalEntryNotFoundError as exc:  # the Hub could not be reached and the cache lacks the file
        raise MvbenchError(f"could not reach {endpoint or 'the Hugging Face Hub'} to download {spec.name!r} "
                           f"({where}): {exc}",
                           hint="check the connection or set HF_ENDPOINT to a mirror; or " + hint) from exc
    except (HfHubHTTPError, OSError) as exc:
        raise MvbenchError(f"could not download {spec.name!r} ({where}): {exc}", hint=hint) from exc
    finally:
        if toggled:
            huggingface_hub.utils.enable_progress_bars()
    _link_or_copy(Path(path), dest)
    return "hub"


def _fetch_url(spec: WeightSpec, dest: Path, progress: bool) -> None:
    """Download ``spec.url`` to ``dest`` (atomically) with a progress bar, checking size and sha256."""
    from tqdm import tqdm

    name = spec.name
    try:
        with urllib.request.urlopen(spec.url) as resp, atomic_open(dest, "wb", suffix=".part") as out:
            total = int(resp.headers.get("Content-Length") or 0) or spec.size
            digest = hashlib.sha256()
            written = 0
            with tqdm(total=total, unit="B", unit_scale=True, desc=name, disable=not progress) as bar:
                while block := resp.read(1 << 20):
                    out.write(block)
                    digest.update(block)
                    written += len(block)
                    bar.update(len(block))
            if spec.size is not None and written != spec.size:
                raise MvbenchError(
                    f"the download of {name!r} from {spec.url} has {written} bytes, the registry says {spec.size}; "
                    "nothing was installed",
                    hint="try again; if it persists the upstream file changed: import a verified copy instead")
            if spec.sha256 and digest.hexdigest() != spec.sha256:
                raise MvbenchError(
                    f"the download of {name!r} from {spec.url} does not match its registered sha256; nothing was "
                    "installed",
                    hint="try again; if it persists the upstream file changed: import a verified copy instead",
                )
        _remember_sha256(dest, digest.hexdigest())
    except OSError as exc:
        raise MvbenchError(
            f"could not download {name!r} from {spec.url}: {exc}",
            hint=f"download it by other means and run `mvbench weights import {name} PATH`",
        ) from exc


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
