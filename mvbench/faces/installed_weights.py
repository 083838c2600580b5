"""Weight files that a pip package already installed: found without importing it, checked, then adopted.

Some registry entries (``mvbench/data/weights/faces_dlib.json``) carry, in their ``extras``, the pip
package that ships the file (``package``: its import name; ``path``: the file inside it; ``pip``: the
name to install). The ``[face]`` extra installs ``face-recognition-models``, which ships dlib's face
recognition and landmark models, so those entries never need a download:
:func:`adopt_installed` checks the package's file against the registered sha256 and links it into the
entry's location (DeepFace's weights folder) under the name DeepFace looks for. The DeepFace backend
calls it for every missing file before it reports a file missing; ``mvbench weights import NAME PATH``
with the package's path does the same by hand.

The package is located with :func:`importlib.util.find_spec`, which does not run its ``__init__``
(``face_recognition_models`` imports ``pkg_resources``, absent from recent setuptools), and nothing
is ever written inside the installed package.
"""

from __future__ import annotations

import logging
import os
from importlib.util import find_spec
from pathlib import Path

from mvbench.errors import MvbenchError

log = logging.getLogger(__name__)


def package_dir(import_name: str) -> Path | None:
    """Folder of an installed top-level package, found without importing it (``None`` if absent).

    >>> package_dir("no_such_package_xyz") is None
    True
    """
    try:
        spec = find_spec(import_name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def installed_source(name: str) -> Path | None:
    """The file that registry entry ``name`` names inside an installed package, if there is one.

    >>> installed_source("viclip-l14") is None  # not shipped by any package
    True
    """
    from mvbench.weights import get_spec

    extras = get_spec(name).extras or {}
    if "package" not in extras or "path" not in extras:
        return None
    folder = package_dir(extras["package"])
    if folder is None:
        return None
    path = folder / extras["path"]
    return path if path.is_file() else None


def entries_for_file(filename: str, location: str = "deepface") -> list[str]:
    """Registry entries whose file is ``filename`` in ``location`` and that a package may ship.

    >>> entries_for_file("dlib_face_recognition_resnet_model_v1.dat")
    ['deepface-dlib-resnet']
    """
    from mvbench.weights import REGISTRY

    return [n for n, s in sorted(REGISTRY.items())
            if s.filename == filename and s.location == location and "package" in (s.extras or {})]


def adopt_installed(name: str) -> Path | None:
    """Link the installed package's file of entry ``name`` into the entry's location.

    Returns the adopted path (also when it was already in place), or ``None`` when no installed
    package ships the file. The package's file must match the registered sha256 (hashed without
    writing anything next to it); a mismatch is an error naming both files.
    """
    from mvbench.weights import file_sha256_nocache, get_spec, weight_path

    spec = get_spec(name)
    dest = weight_path(name)
    if dest.is_file():
        return dest
    src = installed_source(name)
    if src is None:
        return None
    if spec.sha256:
        digest = file_sha256_nocache(src)
        if digest != spec.sha256:
            raise MvbenchError(
                f"weights {name!r}: {src} (from the installed package {spec.extras.get('pip', spec.extras['package'])}) "
                f"has sha256 {digest}, not the registered {spec.sha256}; nothing was adopted",
                hint=f"reinstall it (pip install --force-reinstall {spec.extras.get('pip', spec.extras['package'])}) "
                     f"or place a verified {spec.filename} at {dest}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.link")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(src.resolve())
    os.replace(tmp, dest)
    log.info("adopted %s from %s into %s", name, src, dest)
    return dest


def adopt_installed_files(filenames, location: str = "deepface") -> dict[str, Path]:
    """Adopt every file of ``filenames`` that an installed package ships: ``{filename: path}``."""
    out: dict[str, Path] = {}
    for filename in filenames:
        for name in entries_for_file(filename, location):
            path = adopt_installed(name)
            if path is not None:
                out[filename] = path
                break
    return out
