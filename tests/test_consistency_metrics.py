"""Visual / Semantic / Sequence Consistency against an independent numpy float64 computation and
hand-worked cases (Mask²DiT Sec. 4.1)."""

import itertools
import math

import numpy as np
import pytest
import torch

from metrics import semantic_consistency, sequence_consistency, visual_consistency


def _np_cos(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("n,d", [(2, 8), (3, 16), (5, 32)])
def test_visual_consistency_matches_numpy_reference(n, d):
    rng = np.random.default_rng(n * 100 + d)
    v = rng.normal(size=(n, d))
    ref_all = 100 * np.mean([_np_cos(v[i], v[j]) for i, j in itertools.combinations(range(n), 2)])
    ref_consec = 100 * np.mean([_np_cos(v[i], v[i + 1]) for i in range(n - 1)])
    assert visual_consistency(torch.tensor(v, dtype=torch.float32)) == pytest.approx(ref_all, abs=1e-4)
    assert visual_consistency(v) == pytest.approx(ref_all, rel=1e-12)
    assert visual_consistency(v, pairs="consecutive") == pytest.approx(ref_consec, rel=1e-12)


def test_semantic_consistency_matches_numpy_reference():
    rng = np.random.default_rng(7)
    v, t = rng.normal(size=(3, 12)), rng.normal(size=(3, 12))
    ref = 100 * np.mean([_np_cos(v[k], t[k]) for k in range(3)])
    assert semantic_consistency(v, t) == pytest.approx(ref, rel=1e-12)


def test_hand_worked_cases():
    # identical scenes -> 100
    same = np.tile(np.array([[0.3, -1.2, 2.0]]), (3, 1))
    assert visual_consistency(same) == pytest.approx(100.0)
    # orthogonal scenes -> 0
    assert visual_consistency(np.eye(3)) == pytest.approx(0.0)
    # 2-D: 0°, 90°, 45° -> cos pairs 0, cos45, cos45 -> mean = (0 + 2*0.7071)/3
    v = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert visual_consistency(v) == pytest.approx(100 * 2 * math.sqrt(0.5) / 3)
    # consecutive pairs only: (0,1) and (1,2) -> (0 + 0.7071)/2
    assert visual_consistency(v, pairs="consecutive") == pytest.approx(100 * math.sqrt(0.5) / 2)
    # text opposite to video -> -100; scale does not matter
    assert semantic_consistency([[2.0, 0.0]], [[-5.0, 0.0]]) == pytest.approx(-100.0)
    assert sequence_consistency(80.0, 20.0) == 50.0


def test_input_validation():
    with pytest.raises(ValueError, match="at least 2 scenes"):
        visual_consistency(np.ones((1, 4)))
    with pytest.raises(ValueError, match="same shape"):
        semantic_consistency(np.ones((3, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        visual_consistency(np.array([[1.0, np.nan], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="all-zero"):
        visual_consistency(np.array([[0.0, 0.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="2-D"):
        visual_consistency(np.ones(4))
    with pytest.raises(ValueError, match="pairs"):
        visual_consistency(np.eye(3), pairs="diagonal")
