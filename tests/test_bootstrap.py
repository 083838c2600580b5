import numpy as np
import pytest

from metrics import bootstrap_ci
from mvbench.stats import summarize


def test_bootstrap_ci_matches_independent_resampling():
    x = np.random.default_rng(3).normal(10, 2, size=40)
    lo, hi = bootstrap_ci(x, n_resamples=2000, seed=5)
    # independent: the same percentile bootstrap, written out with a Python loop
    rng = np.random.default_rng(5)
    idx = rng.integers(0, x.size, size=(2000, x.size))
    means = np.array([x[row].mean() for row in idx])
    assert lo == pytest.approx(np.percentile(means, 2.5))
    assert hi == pytest.approx(np.percentile(means, 97.5))
    assert lo < x.mean() < hi
    # the normal-theory interval is close for a normal sample
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert lo == pytest.approx(x.mean() - 1.96 * se, abs=0.35 * se * 1.96)


def test_bootstrap_deterministic_and_edge_cases():
    x = [1.0, 2.0, 4.0]
    assert bootstrap_ci(x, seed=1) == bootstrap_ci(x, seed=1)
    assert bootstrap_ci([3.5]) == (3.5, 3.5)
    with pytest.raises(ValueError):
        bootstrap_ci([])
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, float("nan")])


def test_summarize():
    s = summarize([1.0, 2.0, 3.0], higher_is_better=True)
    assert s["mean"] == 2.0 and s["n"] == 3 and s["std"] == pytest.approx(1.0)
    assert s["ci95"][0] <= 2.0 <= s["ci95"][1]
    empty = summarize([], higher_is_better=False)
    assert empty["mean"] is None and empty["n"] == 0
