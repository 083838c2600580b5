"""The small interface a face pipeline implements, the data it passes around, and face distances.

A :class:`FaceBackend` does two things on RGB ``uint8`` images ``[H, W, 3]``:

* :meth:`FaceBackend.detect` finds faces in a frame: boxes ``(x, y, w, h)`` in pixels with a
  detection confidence;
* :meth:`FaceBackend.embed` turns a face image (a crop, or a bank portrait) into embeddings, one
  row per face the recognition side finds in it (at least one row: the whole image is used when
  it finds none, as DeepFace does with ``enforce_detection=False``).

Matching an embedding against a character bank is backend independent
(:meth:`mvbench.faces.bank.CharacterBank.match`) and uses :func:`face_distance`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

#: distance names, as DeepFace spells them
DISTANCE_METRICS = ("cosine", "euclidean", "euclidean_l2")


@dataclass(frozen=True)
class FaceBox:
    """A face box: top-left corner ``(x, y)``, width and height, in pixels of the frame."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class DetectedFace:
    """One detection: its box and the detector's confidence (0..1; 0 when the detector has none)."""

    box: FaceBox
    confidence: float


@dataclass(frozen=True)
class FaceMatch:
    """The bank character nearest to a face, or ``name=None`` when none is within the threshold.

    ``embedding`` (the face's embedding, for similarity metrics) is kept in memory only: it is not
    compared, hashed or written by :meth:`as_dict`.
    """

    name: str | None
    distance: float
    box: FaceBox | None = None
    confidence: float | None = None
    frame: int | None = None
    embedding: np.ndarray | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict:
        d = {"name": self.name, "distance": None if not np.isfinite(self.distance) else round(float(self.distance), 6)}
        if self.box is not None:
            d["box"] = [self.box.x, self.box.y, self.box.w, self.box.h]
        if self.confidence is not None:
            d["confidence"] = round(float(self.confidence), 4)
        if self.frame is not None:
            d["frame"] = self.frame
        return d


class FaceBackend(ABC):
    """Detect faces in frames and embed face images. Built once per run (models load in ``__init__``)."""

    #: registry name, e.g. ``"deepface"``
    name: str = ""
    #: distance used by :meth:`mvbench.faces.bank.CharacterBank.match`, one of :data:`DISTANCE_METRICS`
    distance_metric: str = "euclidean_l2"
    #: a face matches a bank character when its distance is ``<= threshold``
    threshold: float = 1.0

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        """Faces in an RGB ``uint8`` frame ``[H, W, 3]``."""

    @abstractmethod
    def embed(self, image: np.ndarray) -> np.ndarray:
        """Embeddings ``[k, d]`` (float64, ``k >= 1``) of the faces in an RGB ``uint8`` face image."""

    def fingerprint(self) -> str:
        """A string that changes whenever embeddings would change (keys the bank cache)."""
        return self.name

    def describe(self) -> dict:
        """What a results file records about this backend."""
        return {"backend": self.name, "distance": self.distance_metric, "threshold": self.threshold}


def face_distance(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Distances between rows of ``a`` ``[m, d]`` and rows of ``b`` ``[n, d]`` -> ``[m, n]`` (float64).

    As DeepFace defines them: ``cosine`` = 1 - a.b / (|a| |b|); ``euclidean`` = |a - b|;
    ``euclidean_l2`` = |a/(|a| + 1e-10) - b/(|b| + 1e-10)|; rounded to 6 decimals as DeepFace
    rounds them, so that threshold decisions agree with ``DeepFace.find`` even at ties.
    """
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(b, dtype=np.float64))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"embedding sizes differ: {a.shape[1]} vs {b.shape[1]} (was the bank built with another model?)")
    if metric == "euclidean":
        return np.round(_pairwise_euclidean(a, b), 6)
    if metric == "cosine":
        an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-300)
        bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-300)
        return np.round(1.0 - an @ bn.T, 6)
    if metric == "euclidean_l2":
        an = a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-10)
        bn = b / (np.linalg.norm(b, axis=1, keepdims=True) + 1e-10)
        return np.round(_pairwise_euclidean(an, bn), 6)
    raise ValueError(f"unknown face distance {metric!r}; choose from {DISTANCE_METRICS}")


def _pairwise_euclidean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = a[:, None, :] - b[None, :, :]
    return np.sqrt((diff * diff).sum(-1))


class MemoizedBackend(FaceBackend):
    """Wraps a backend and remembers its answers per image content (sha1 of shape and bytes).

    For runs that show the same frames many times (the meta-evaluation scores one scene video in
    several perturbed submissions); results are identical to the wrapped backend's.

    >>> class Count(FaceBackend):
    ...     calls = 0
    ...     def detect(self, image): return []
    ...     def embed(self, image):
    ...         Count.calls += 1
    ...         return np.ones((1, 2))
    >>> be = MemoizedBackend(Count())
    >>> _ = be.embed(np.zeros((4, 4, 3), np.uint8)); _ = be.embed(np.zeros((4, 4, 3), np.uint8))
    >>> Count.calls
    1
    """

    def __init__(self, inner: FaceBackend):
        self.inner = inner
        self.name = inner.name
        self.distance_metric = inner.distance_metric
        self.threshold = inner.threshold
        self._detect: dict[str, list[DetectedFace]] = {}
        self._embed: dict[str, np.ndarray] = {}

    @property
    def options(self):
        return getattr(self.inner, "options", None)

    @staticmethod
    def _key(image: np.ndarray) -> str:
        import hashlib

        a = np.ascontiguousarray(image)
        return hashlib.sha1(repr((a.shape, a.dtype.str)).encode() + a.tobytes()).hexdigest()

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        key = self._key(image)
        if key not in self._detect:
            self._detect[key] = list(self.inner.detect(image))
        return list(self._detect[key])

    def embed(self, image: np.ndarray) -> np.ndarray:
        key = self._key(image)
        if key not in self._embed:
            self._embed[key] = np.asarray(self.inner.embed(image), dtype=np.float64)
        return self._embed[key].copy()

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def describe(self) -> dict:
        return self.inner.describe()
