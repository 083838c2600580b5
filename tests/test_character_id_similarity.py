"""character_similarity math (metrics.identity) against hand-worked cases and independent re-implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from metrics import (
    assign_faces,
    cosine_matrix,
    frame_character_similarity,
    shot_character_similarity,
    similarity_bootstrap,
)


def test_cosine_matrix_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 7)), rng.normal(size=(3, 7))
    np.testing.assert_allclose(cosine_matrix(a, b), 1.0 - cdist(a, b, "cosine"), atol=1e-12)


def test_hand_worked_two_characters_one_stranger():
    """Faces (2-D): f0 = (3, 4), f1 = (0, 1), f2 = (-1, 0). Portraits: A = {(1, 0), (0, 1)}, B = {(0, -1)}.

    cos(f0, A) = (0.6, 0.8) -> s_A = 0.8, mean 0.7;  cos(f0, B) = -0.8
    cos(f1, A) = (0, 1)     -> s_A = 1.0, mean 0.5;  cos(f1, B) = -1
    cos(f2, A) = (-1, 0)    -> s_A = 0.0, mean -0.5; cos(f2, B) = 0
    A: every face is closer to A than to B; best s_A is f1 (1.0) -> sim_A = 0.5.
    B: f2 is the only face not closer to A (0 > 0 is false) -> sim_B = cos(f2, B) = 0.
    With B alone scripted, B takes its best face: f2 (0 > -0.8 > -1) -> 0.
    """
    faces = [[3.0, 4.0], [0.0, 1.0], [-1.0, 0.0]]
    portraits = {"A": [[1.0, 0.0], [0.0, 1.0]], "B": [[0.0, -1.0]]}
    assert assign_faces(faces, portraits, ["A", "B"]) == {"A": 1, "B": 2}
    assert frame_character_similarity(faces, portraits, ["A", "B"]) == {"A": 0.5, "B": 0.0}
    # without f2, B has no face that is not closer to A: absent -> 0 (not the -0.8 of f0)
    assert assign_faces(faces[:2], portraits, ["A", "B"]) == {"A": 1, "B": None}
    # A alone: the face nearest A's closest portrait (f1), mean over A's two portraits
    assert frame_character_similarity(faces, portraits, ["A"]) == {"A": 0.5}
    # a scripted character without portraits is left out; no faces at all -> 0 for everyone
    assert frame_character_similarity(faces, portraits, ["A", "Z"]) == {"A": 0.5}
    assert frame_character_similarity(np.zeros((0, 2)), portraits, ["A", "B"]) == {"A": 0.0, "B": 0.0}


def test_shot_similarity_averages_frames():
    portraits = {"A": [[1.0, 0.0]], "B": [[0.0, 1.0]]}
    frames = [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]], []]
    # frame 1: A 1, B 1; frame 2: the face (1,1) ties (0.7071 each): eligible for both; frame 3: nothing
    got = shot_character_similarity(frames, portraits, ["A", "B"])
    r = math.sqrt(0.5)
    assert got == pytest.approx({"A": (1 + r + 0) / 3, "B": (1 + r + 0) / 3}, abs=1e-6)


def _reference_frame(faces, portraits, scripted):
    """Loops and Python floats: ViStoryBench's rule written out directly."""
    def cos(u, v):
        nu, nv = math.sqrt(sum(x * x for x in u)), math.sqrt(sum(x * x for x in v))
        return sum(x * y for x, y in zip(u, v)) / (nu * nv)

    names = [c for c in scripted if c in portraits]
    out = {}
    for c in names:
        best, best_face = None, None
        for f in faces:
            mine = max(cos(f, p) for p in portraits[c])
            if any(max(cos(f, p) for p in portraits[o]) > mine for o in names if o != c):
                continue
            if best is None or mine > best:
                best, best_face = mine, f
        out[c] = 0.0 if best_face is None else sum(cos(best_face, p) for p in portraits[c]) / len(portraits[c])
    return out


@pytest.mark.parametrize("seed", range(6))
def test_frame_similarity_matches_loop_reference(seed):
    rng = np.random.default_rng(seed)
    d = 5
    portraits = {c: rng.normal(size=(int(rng.integers(1, 4)), d)).tolist() for c in "ABCD"}
    faces = rng.normal(size=(int(rng.integers(0, 5)), d)).tolist()
    scripted = [c for c in "ABCDE" if rng.random() < 0.6] or ["A"]
    got = frame_character_similarity(np.asarray(faces).reshape(-1, d), portraits, scripted)
    want = _reference_frame(faces, portraits, scripted)
    assert got.keys() == want.keys()
    for c in want:
        assert got[c] == pytest.approx(want[c], abs=1e-6)


def test_similarity_bootstrap_matches_naive_loop():
    sums, counts = np.array([1.8, 0.5, 2.7, 0.0]), np.array([2, 1, 3, 2])
    lo, hi = similarity_bootstrap(sums, counts, n_resamples=200, seed=3)
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 4, size=(200, 4))
    vals = sorted(sums[row].sum() / counts[row].sum() for row in idx)
    assert lo == pytest.approx(np.quantile(vals, 0.025), abs=1e-12)
    assert hi == pytest.approx(np.quantile(vals, 0.975), abs=1e-12)
    assert lo <= sums.sum() / counts.sum() <= hi
