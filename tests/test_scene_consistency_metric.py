"""Scene Consistency math (metrics/scene_consistency.py) against independent computations.

Expected values are worked by hand or recomputed here in a different way (scipy's cosine distance,
explicit loops over scene pairs), never taken from the code under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cosine as cosine_distance

from metrics import (
    best_detection,
    box_to_crop,
    entity_consistency,
    entity_pair_similarities,
    scene_consistency,
)


def _cos(a, b) -> float:
    return 1.0 - cosine_distance(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


# ------------------------------------------------------------------ the formula
def test_videodirectorgpt_adjacent_formula_hand_worked():
    # 1/(N-1) sum cos(e_n, e_{n+1}) x 100 with N = 3: cos(e1, e2) = 1/sqrt(2), cos(e2, e3) = 1/sqrt(2)
    e = [np.array([1.0, 0.0]), np.array([3.0, 3.0]), np.array([0.0, 0.5])]
    assert entity_consistency(e) == pytest.approx(100 * (1 / math.sqrt(2)), abs=1e-12)
    # all pairs adds cos(e1, e3) = 0: (0.7071 + 0.7071 + 0) / 3
    assert entity_consistency(e, pairs="all") == pytest.approx(100 * 2 / (3 * math.sqrt(2)), abs=1e-12)


def test_random_embeddings_against_scipy():
    rng = np.random.default_rng(7)
    e = [rng.normal(size=12) for _ in range(5)]
    adjacent = np.mean([_cos(e[i], e[i + 1]) for i in range(4)]) * 100
    every = np.mean([_cos(a, b) for a, b in itertools.combinations(e, 2)]) * 100
    assert entity_consistency(e) == pytest.approx(adjacent, abs=1e-10)
    assert entity_consistency(e, pairs="all") == pytest.approx(every, abs=1e-10)


def test_missing_scenes_skip_or_zero():
    rng = np.random.default_rng(3)
    a, c, d = (rng.normal(size=6) for _ in range(3))
    e = [a, None, c, d]  # scripted in 4 scenes, not detected in the second
    # skip: adjacent among detected appearances a-c, c-d
    assert entity_pair_similarities(e) == pytest.approx([_cos(a, c), _cos(c, d)], abs=1e-12)
    # zero: the pairs a-(missing) and (missing)-c count 0, c-d as usual
    assert entity_pair_similarities(e, missing="zero") == pytest.approx([0.0, 0.0, _cos(c, d)], abs=1e-12)
    assert entity_consistency(e, missing="zero") == pytest.approx(100 * _cos(c, d) / 3, abs=1e-10)
    # all pairs with zero: 6 pairs, only a-c, a-d, c-d non-zero
    expected = (_cos(a, c) + _cos(a, d) + _cos(c, d)) / 6 * 100
    assert entity_consistency(e, pairs="all", missing="zero") == pytest.approx(expected, abs=1e-10)


def test_fewer_than_two_appearances_is_undefined():
    assert entity_consistency([np.ones(3), None, None]) is None
    assert entity_consistency([np.ones(3)]) is None
    assert entity_consistency([None, None], missing="zero") == 0.0  # scripted twice, never detected


def test_item_average_over_entities_or_pairs():
    rng = np.random.default_rng(11)
    dog = [rng.normal(size=8) for _ in range(3)]
    ball = [rng.normal(size=8), rng.normal(size=8)]
    lone = [rng.normal(size=8), None]
    dog_v = (_cos(dog[0], dog[1]) + _cos(dog[1], dog[2])) / 2 * 100
    ball_v = _cos(ball[0], ball[1]) * 100
    res = scene_consistency({"dog": dog, "ball": ball, "lone": lone})
    assert res.value == pytest.approx((dog_v + ball_v) / 2, abs=1e-10)
    assert res.per_entity["lone"] is None and res.n_pairs == {"dog": 2, "ball": 1, "lone": 0}
    pooled = (_cos(dog[0], dog[1]) + _cos(dog[1], dog[2]) + _cos(ball[0], ball[1])) / 3 * 100
    assert scene_consistency({"dog": dog, "ball": ball}, average="pairs").value == pytest.approx(pooled, abs=1e-10)
    assert scene_consistency({"lone": lone}).value is None


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="zero"):
        entity_consistency([np.zeros(3), np.ones(3)])
    with pytest.raises(ValueError, match="pairs"):
        entity_consistency([np.ones(3), np.ones(3)], pairs="every")
    with pytest.raises(ValueError, match="missing"):
        entity_consistency([np.ones(3), np.ones(3)], missing="drop")


# ------------------------------------------------------------------ detection post-processing
def _fake_outputs():
    """2 frames x 3 queries x 6 token positions; the entity is tokens 1-2, token 4 is the final '.'."""
    probs = torch.zeros(2, 3, 6)
    boxes = torch.tensor([[[0.5, 0.5, 0.2, 0.2], [0.3, 0.3, 0.2, 0.4], [0.7, 0.6, 0.4, 0.2]],
                          [[0.5, 0.4, 0.6, 0.6], [0.1, 0.1, 0.1, 0.1], [0.9, 0.9, 0.2, 0.2]]])
    probs[0, 0, 1] = 0.375     # kept at the defaults, confidence 0.375 (dyadic values: exact in float32)
    probs[0, 1, 4] = 0.875     # confident only on the '.' token: no entity token above text threshold
    probs[0, 1, 2] = 0.1875
    probs[0, 2, 2] = 0.3125     # below the box threshold
    probs[1, 0, 1] = 0.5625     # the best kept query: frame 1, query 0
    probs[1, 0, 2] = 0.5
    probs[1, 2, 1] = 0.5625     # same confidence, later query: loses the tie
    return probs, boxes


def test_best_detection_thresholds_and_choice():
    probs, boxes = _fake_outputs()
    d = best_detection(probs, boxes, [1, 2])
    assert (d.frame, d.query) == (1, 0)
    assert d.score == 0.5625 and d.entity_score == 0.5625
    assert d.box == pytest.approx((0.5, 0.4, 0.6, 0.6))
    # the text threshold is strict (>): at 0.5625 no entity token passes anywhere
    assert best_detection(probs, boxes, [1, 2], text_threshold=0.5625) is None
    # the confidence is the max over *all* tokens (the '.' included), as Grounding-DINO's predict():
    # with a low text threshold query (0, 1) (confidence 0.875 from the '.') wins
    d = best_detection(probs, boxes, [1, 2], text_threshold=0.1)
    assert (d.frame, d.query, d.score) == (0, 1, 0.875)
    # the box threshold is strict (>) too
    assert best_detection(probs[1:], boxes[1:], [1, 2], box_threshold=0.5625) is None
    with pytest.raises(ValueError, match="entity_positions"):
        best_detection(probs, boxes, [])


def test_box_to_crop_pixel_bounds():
    # (cx, cy, w, h) = (0.25, 0.5, 0.5, 0.5) on 100x60: x 0..50, y 15..45
    assert box_to_crop((0.25, 0.5, 0.5, 0.5), 100, 60) == (0, 15, 50, 45)
    # clipped at the borders, rounded to nearest: x (0.9-0.15)*200=150 .. 210 -> 200; y (0.1-0.2)*50<0 -> 0 .. 15
    assert box_to_crop((0.9, 0.1, 0.3, 0.4), 200, 50) == (150, 0, 200, 15)
    # 10.4 -> 10, 20.6 -> 21
    assert box_to_crop((0.155, 0.5, 0.102, 1.0), 100, 10) == (10, 0, 21, 10)
    # degenerate boxes become one pixel wide, inside the frame
    assert box_to_crop((0.5, 0.5, 0.0, 0.0), 10, 10) == (5, 5, 6, 6)
    assert box_to_crop((1.2, 1.2, 0.1, 0.1), 10, 10) == (9, 9, 10, 10)
