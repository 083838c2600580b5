"""Real face photographs available offline, and the people in them (for the character-ID meta-evaluation).

Bundled sources are read, at run time, from packages that are already installed; nothing is copied
into the repository and nothing is downloaded:

========================  ========================================================  ===============
source                    file                                                      people
========================  ========================================================  ===============
``astronaut``             ``skimage/data/astronaut.png`` (scikit-image; Eileen       1
                          Collins, NASA, public domain)
``grace_hopper``          ``matplotlib/mpl-data/sample_data/grace_hopper.jpg``       1
                          (matplotlib; public domain)
``insightface_t1``        ``insightface/data/images/t1.jpg`` (insightface wheel;     6
                          install it with ``pip install --no-deps insightface``)
========================  ========================================================  ===============

Packages are located with :func:`importlib.util.find_spec`, which does not import them (insightface
installed without its dependencies cannot be imported, and need not be).

A user folder (``--photos DIR``) works too: ``DIR/NAME.jpg`` is one photograph (every face in it is a
person: ``NAME`` if it holds one, ``NAME_1``, ``NAME_2``... from left to right otherwise) and
``DIR/NAME/*.jpg`` are several photographs of one person ``NAME`` (their largest faces): the first,
in name order, is kept for the character bank and the others appear in the scenes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mvbench.errors import MvbenchError
from mvbench.faces.backend import FaceBackend, FaceBox
from mvbench.faces.bank import IMAGE_SUFFIXES, load_rgb
from mvbench.faces.installed_weights import package_dir

#: bundled source -> (import name of the package that ships it, path inside it, how to get it)
BUNDLED: dict[str, tuple[str, str, str]] = {
    "astronaut": ("skimage", "data/astronaut.png", 'pip install scikit-image  (in the [face] extra)'),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "pip install matplotlib"),
    "insightface_t1": ("insightface", "data/images/t1.jpg", "pip install --no-deps insightface==2.1"),
}

#: a face smaller than this fraction of the largest face of its photograph is ignored (background faces)
MIN_RELATIVE_SIZE = 0.6
#: photographs larger than this (pixels, longer side) are downscaled before use (detection time)
MAX_SIDE = 800


@dataclass(frozen=True)
class Photo:
    """One photograph: a name (person name, or prefix for several), its file, and the person it shows
    when it comes from a ``DIR/NAME/`` folder (then only its largest face is used)."""

    name: str
    path: Path
    person: str | None = None


@dataclass
class Person:
    """A person: the views of their face (image and face box), in order; ``views[0]`` feeds the bank
    when there are several photographs."""

    name: str
    views: list[tuple[np.ndarray, FaceBox]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def held_out_photo(self) -> bool:
        """True when the bank portrait comes from a photograph that no scene uses."""
        return len(self.views) > 1


def bundled_photos(names=None) -> tuple[list[Photo], dict[str, str]]:
    """Available bundled photographs and, for the missing ones, how to install them.

    >>> photos, missing = bundled_photos(["grace_hopper"])
    >>> [p.name for p in photos] + sorted(missing)
    ['grace_hopper']
    """
    found: list[Photo] = []
    missing: dict[str, str] = {}
    for name in names or BUNDLED:
        if name not in BUNDLED:
            raise MvbenchError(f"unknown photograph source {name!r}", hint="choose from " + ", ".join(BUNDLED))
        package, rel, how = BUNDLED[name]
        folder = package_dir(package)
        path = folder / rel if folder is not None else None
        if path is not None and path.is_file():
            found.append(Photo(name, path))
        else:
            missing[name] = how
    return found, missing


def folder_photos(folder: str | Path) -> list[Photo]:
    """Photographs of a user folder (see the module docstring), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MvbenchError(f"photograph folder {folder} does not exist")
    out: list[Photo] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES:
            out.append(Photo(entry.stem, entry))
        elif entry.is_dir():
            views = sorted(p for p in entry.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            out.extend(Photo(entry.name, p, person=entry.name) for p in views)
    if not out:
        raise MvbenchError(f"no photographs (.jpg, .png, ...) in {folder}")
    return out


def faces_in(backend: FaceBackend, image: np.ndarray, min_confidence: float = 0.0) -> list[FaceBox]:
    """Face boxes of a photograph, left to right, without faces much smaller than its largest one."""
    faces = [f for f in backend.detect(image) if f.confidence >= min_confidence and f.box.w > 0 and f.box.h > 0]
    if not faces:
        return []
    largest = max(f.box.w for f in faces)
    return sorted((f.box for f in faces if f.box.w >= MIN_RELATIVE_SIZE * largest), key=lambda b: (b.x, b.y))


def find_people(backend: FaceBackend, photos: list[Photo], min_confidence: float = 0.0) -> list[Person]:
    """The people in ``photos``, found with ``backend``'s detector (see the module docstring for names)."""
    people: dict[str, Person] = {}
    for photo in photos:
        image = _downscaled(load_rgb(photo.path), MAX_SIDE)
        boxes = faces_in(backend, image, min_confidence)
        if not boxes:
            raise MvbenchError(f"no face found in photograph {photo.path}",
                               hint="use a photograph with a clear, frontal face of at least 80 pixels")
        if photo.person is not None:
            box = max(boxes, key=lambda b: b.w * b.h)
            person = people.setdefault(photo.person, Person(photo.person))
            person.views.append((image, box))
            person.sources.append(str(photo.path))
            continue
        for k, box in enumerate(boxes, start=1):
            name = photo.name if len(boxes) == 1 else f"{photo.name}_{k}"
            if name in people:
                raise MvbenchError(f"two people are named {name!r} (from {photo.path})", hint="rename a photograph")
            people[name] = Person(name, [(image, box)], [str(photo.path)])
    return list(people.values())


def _downscaled(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` shrunk (Lanczos) so that its longer side is at most ``max_side`` pixels."""
    from PIL import Image

    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    f = max_side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))
