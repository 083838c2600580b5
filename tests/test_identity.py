"""Precision_ID / Recall_ID / F1_ID (metrics.identity) against independent computations and MovieBench's tables."""

from __future__ import annotations

import numpy as np
import pytest

from metrics import id_scores, id_scores_bootstrap, precision_recall_f1
from metrics.identity import shot_counts


def _reference(pred_sets, gt_sets, names):
    """Indicator matrices [shots, names] -> micro TP/FP/FN and ratios, in float64 numpy."""
    p = np.array([[n in s for n in names] for s in pred_sets], dtype=bool)
    g = np.array([[n in s for n in names] for s in gt_sets], dtype=bool)
    tp, fp, fn = (p & g).sum(), (p & ~g).sum(), (~p & g).sum()
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    per = {n: ((p[:, j] & g[:, j]).sum(), (p[:, j] & ~g[:, j]).sum(), (~p[:, j] & g[:, j]).sum())
           for j, n in enumerate(names)}
    return int(tp), int(fp), int(fn), prec, rec, f1, per


@pytest.mark.parametrize("seed", range(5))
def test_id_scores_matches_indicator_matrix_reference(seed):
    rng = np.random.default_rng(seed)
    names = [f"c{i}" for i in range(6)]
    n_shots = int(rng.integers(1, 30))
    pred = [{n for n in names if rng.random() < 0.35} for _ in range(n_shots)]
    gt = [{n for n in names if rng.random() < 0.4} for _ in range(n_shots)]
    s = id_scores(pred, gt)
    tp, fp, fn, prec, rec, f1, per = _reference(pred, gt, names)
    assert (s.tp, s.fp, s.fn) == (tp, fp, fn)
    assert s.precision == pytest.approx(prec, abs=1e-12)
    assert s.recall == pytest.approx(rec, abs=1e-12)
    assert s.f1 == pytest.approx(f1, abs=1e-12)
    for n, c in s.per_character.items():
        assert (c.tp, c.fp, c.fn) == per[n]
    assert sum(c.tp for c in s.per_character.values()) == tp


def test_hand_worked_shots():
    # shot 1: extra Carol (FP); shot 2: Bob missing (FN); shot 3: exact
    s = id_scores([{"Alice", "Bob", "Carol"}, {"Alice"}, {"Dan"}], [{"Alice", "Bob"}, {"Alice", "Bob"}, {"Dan"}])
    assert (s.tp, s.fp, s.fn) == (4, 1, 1)
    assert s.precision == pytest.approx(0.8) and s.recall == pytest.approx(0.8) and s.f1 == pytest.approx(0.8)
    assert shot_counts(["a", "a", "b"], ["a"]) == shot_counts({"a", "b"}, {"a"})


def test_micro_sum_is_not_mean_of_shot_scores():
    # shot 1 perfect with 1 char, shot 2: 0 of 3 found -> micro recall 1/4, mean of recalls 1/2
    s = id_scores([{"a"}, set()], [{"a"}, {"b", "c", "d"}])
    assert s.recall == pytest.approx(0.25)


@pytest.mark.parametrize("p,r,f1", [(90, 97, 93), (90, 76, 82), (23, 66, 34)])
def test_moviebench_table4_arithmetic(p, r, f1):
    # Table 4 reports rounded percentages; F1 from the rounded P and R rounds to the reported F1
    assert round(100 * precision_recall_f1_from_ratios(p / 100, r / 100)) == f1


@pytest.mark.parametrize("p,r,f1", [(78.17, 37.26, 50.47), (77.61, 41.81, 54.34), (41.30, 5.80, 10.17),
                                    (24.80, 15.63, 19.17), (20.49, 12.54, 15.56)])
def test_moviebench_table5_arithmetic(p, r, f1):
    # Table 5 reports two decimals; F1 from the reported P and R agrees to within that rounding
    assert 100 * precision_recall_f1_from_ratios(p / 100, r / 100) == pytest.approx(f1, abs=0.01)


def precision_recall_f1_from_ratios(p: float, r: float) -> float:
    # counts with these ratios: TP = p*r*K, FP = TP(1-p)/p, FN = TP(1-r)/r (any K > 0)
    tp = 1000.0
    return precision_recall_f1(tp, tp * (1 - p) / p, tp * (1 - r) / r)[2]


def test_empty_cases_defined():
    s = id_scores([], [])
    assert (s.tp, s.fp, s.fn, s.precision, s.recall, s.f1) == (0, 0, 0, 0.0, 0.0, 0.0)
    s = id_scores([set(), set()], [{"a"}, {"b"}])  # nothing recognised
    assert (s.precision, s.recall, s.f1, s.fn) == (0.0, 0.0, 0.0, 2)
    s = id_scores([{"a"}], [set()])  # nothing scripted
    assert (s.precision, s.recall, s.f1, s.fp) == (0.0, 0.0, 0.0, 1)
    p, r, f = precision_recall_f1(0, 0, 3, zero_division=float("nan"))
    assert np.isnan(p) and r == 0.0 and np.isnan(f)
    with pytest.raises(ValueError):
        id_scores([set()], [])
    with pytest.raises(ValueError):
        precision_recall_f1(-1, 0, 0)


def test_bootstrap_matches_loop_reference():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 6, size=(7, 3))
    ci = id_scores_bootstrap(counts, n_resamples=200, seed=11)
    # independent: the same resampling indices, one resample at a time, python ratios
    idx = np.random.default_rng(11).integers(0, 7, size=(200, 7))
    vals = {"precision": [], "recall": [], "f1": []}
    for row in idx:
        tp, fp, fn = counts[row].sum(axis=0)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        vals["precision"].append(p)
        vals["recall"].append(r)
        vals["f1"].append(2 * p * r / (p + r) if p + r else 0.0)
    for k, v in vals.items():
        lo, hi = np.quantile(v, [0.025, 0.975])
        assert ci[k] == pytest.approx((lo, hi), abs=1e-12)
    one = id_scores_bootstrap([[3, 1, 2]])
    assert one["precision"] == (0.75, 0.75)
