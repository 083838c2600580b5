"""A deterministic fake face backend for tests (not part of the package), and tests of it.

Faces are solid squares on a black frame. A character's identity is the (red, blue) colour of its
square; the green channel carries the detection confidence (G / 255). ``detect`` labels the bright
connected regions; ``embed`` returns the median (R, B) / 255 of the bright pixels of an image, so a
portrait painted in a character's colour embeds next to that character's faces.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from mvbench.faces.backend import DetectedFace, FaceBackend, FaceBox

#: (red, blue) of each known character; far apart in (R, B) space
COLORS = {"Alice": (230, 40), "Bob": (40, 230), "Carol": (230, 230)}
UNKNOWN = (130, 120)  # > 0.4 away from every character in embedding space
BRIGHT = 60


def paint(frame: np.ndarray, x: int, y: int, rb: tuple[int, int], confidence: float = 0.99, size: int = 16) -> None:
    """Draw a face square of colour ``rb`` with detection confidence ``confidence`` at (x, y)."""
    frame[y:y + size, x:x + size] = (rb[0], round(confidence * 255), rb[1])


def portrait(rb: tuple[int, int], size: int = 32) -> np.ndarray:
    img = np.zeros((size, size, 3), np.uint8)
    paint(img, 8, 8, rb, 1.0, size=16)
    return img


class FakeFaceBackend(FaceBackend):
    name = "fake"
    distance_metric = "euclidean"
    threshold = 0.15

    def __init__(self):
        self.detect_calls = 0
        self.embed_calls = 0

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        self.detect_calls += 1
        mask = image.max(axis=2) > BRIGHT
        labels, _ = ndimage.label(mask)
        out = []
        for sl in ndimage.find_objects(labels):
            ys, xs = sl
            box = FaceBox(xs.start, ys.start, xs.stop - xs.start, ys.stop - ys.start)
            inner = image[ys, xs][mask[ys, xs]]
            out.append(DetectedFace(box, float(np.median(inner[:, 1])) / 255.0))
        return sorted(out, key=lambda d: (d.box.y, d.box.x))

    def embed(self, image: np.ndarray) -> np.ndarray:
        self.embed_calls += 1
        mask = image.max(axis=2) > BRIGHT
        if not mask.any():
            return np.zeros((1, 2))
        px = image[mask].astype(np.float64)
        return np.array([[np.median(px[:, 0]) / 255.0, np.median(px[:, 2]) / 255.0]])


def test_fake_backend_detects_and_embeds_what_was_painted():
    frame = np.zeros((64, 96, 3), np.uint8)
    paint(frame, 10, 20, COLORS["Alice"], 0.99)
    paint(frame, 60, 30, COLORS["Bob"], 0.5)
    be = FakeFaceBackend()
    faces = be.detect(frame)
    assert [(f.box.x, f.box.y, f.box.w, f.box.h) for f in faces] == [(10, 20, 16, 16), (60, 30, 16, 16)]
    assert abs(faces[0].confidence - 0.99) < 0.01 and abs(faces[1].confidence - 0.5) < 0.01
    np.testing.assert_allclose(be.embed(portrait(COLORS["Bob"]))[0], [40 / 255, 230 / 255])
