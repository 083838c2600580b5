"""Item-mean bootstrap intervals (metrics.bootstrap_ci, via scipy.stats.bootstrap) and summaries."""

import warnings

import numpy as np
import pytest
import scipy.stats

from metrics import bootstrap_ci
from mvbench.stats import ci_options, summarize


def test_percentile_matches_independent_resampling():
    x = np.random.default_rng(3).normal(10, 2, size=40)
    lo, hi = bootstrap_ci(x, n_resamples=2000, seed=5, method="percentile")
    # independent: the percentile bootstrap written out with a Python loop over the same generator
    rng = np.random.default_rng(5)
    idx = rng.integers(0, x.size, size=(2000, x.size))
    means = np.array([x[row].mean() for row in idx])
    assert lo == pytest.approx(np.percentile(means, 2.5))
    assert hi == pytest.approx(np.percentile(means, 97.5))
    assert lo < x.mean() < hi
    # the normal-theory interval is close for a normal sample
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert lo == pytest.approx(x.mean() - 1.96 * se, abs=0.35 * se * 1.96)


@pytest.mark.parametrize("method", ["percentile", "BCa"])
def test_matches_scipy_called_directly_with_the_same_generator(method):
    x = np.random.default_rng(8).exponential(size=25)  # skewed: BCa and percentile differ
    ours = bootstrap_ci(x, confidence=0.9, n_resamples=500, seed=7, method=method.lower())
    ref = scipy.stats.bootstrap((x,), np.mean, confidence_level=0.9, n_resamples=500, method=method,
                                rng=np.random.default_rng(7)).confidence_interval
    assert ours == pytest.approx((ref.low, ref.high), rel=1e-12)


def test_bca_hand_computed_from_the_replicates():
    """BCa (Efron & Tibshirani 1993, Eq. 14.9-14.15) from the replicates and a jackknife written here."""
    x = np.array([1.0, 2.0, 2.5, 4.0, 7.0, 11.0, 18.0])
    reps = x[np.random.default_rng(3).integers(0, x.size, size=(4000, x.size))].mean(axis=1)
    # z0 from the share of replicates below the estimate, ties counted half (scipy's convention)
    z0 = scipy.stats.norm.ppf((np.sum(reps < x.mean()) + np.sum(reps <= x.mean())) / (2 * reps.size))
    jack = np.array([np.delete(x, i).mean() for i in range(x.size)])
    dev = jack.mean() - jack
    a = (dev ** 3).sum() / (6.0 * ((dev ** 2).sum()) ** 1.5)
    levels = []
    for z in scipy.stats.norm.ppf([0.025, 0.975]):
        levels.append(scipy.stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z))))
    expected = np.percentile(reps, np.array(levels) * 100)
    assert bootstrap_ci(x, n_resamples=4000, seed=3, method="bca") == pytest.approx(tuple(expected), rel=1e-9)


def test_deterministic_and_edge_cases():
    x = [1.0, 2.0, 4.0]
    assert bootstrap_ci(x, seed=1) == bootstrap_ci(x, seed=1)
    with pytest.raises(ValueError):
        bootstrap_ci([])
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(ValueError, match="method"):
        bootstrap_ci(x, method="basic")


@pytest.mark.parametrize("method", ["percentile", "bca"])
@pytest.mark.parametrize("values", [[3.5], [0.25] * 7, [-2.0, -2.0]])
def test_degenerate_inputs_give_a_zero_width_interval_without_warnings(method, values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing from scipy (DegenerateDataWarning, RuntimeWarning) leaks
        assert bootstrap_ci(values, method=method) == (values[0], values[0])
        s = summarize(values, higher_is_better=True, method=method)
    assert s["ci95"] == [values[0], values[0]] and s["mean"] == values[0]


def test_nearly_degenerate_bca_stays_finite_and_quiet():
    values = [0.0] * 19 + [1.0]  # most resamples have mean 0: BCa's z0 is extreme
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lo, hi = bootstrap_ci(values, method="bca", seed=2)
    assert np.isfinite(lo) and np.isfinite(hi) and 0.0 <= lo <= 0.05 <= hi <= 1.0


def test_summarize_and_options():
    s = summarize([1.0, 2.0, 3.0], higher_is_better=True)
    assert s["mean"] == 2.0 and s["n"] == 3 and s["std"] == pytest.approx(1.0)
    assert s["ci95"][0] <= 2.0 <= s["ci95"][1]
    assert set(s) == {"mean", "ci95", "n", "higher_is_better", "std"}  # the results-file fields
    empty = summarize([], higher_is_better=False)
    assert empty["mean"] is None and empty["n"] == 0
    assert ci_options({"bootstrap": 300}) == {"n_resamples": 300, "method": "bca"}
    with pytest.raises(ValueError, match="ci_method"):
        ci_options({"ci_method": "normal"})
    x = np.random.default_rng(0).lognormal(size=30)
    assert summarize(x, True, seed=4, method="percentile")["ci95"] != summarize(x, True, seed=4)["ci95"]


def test_ci_method_option_reaches_the_results_file(demo_videos, demo_suite, tiny_encoder):
    from mvbench.runner import run_evaluation
    from mvbench.submission import Submission

    sub = Submission.open(demo_videos)
    opts = {"encoder": "tiny", "no_cache": True, "progress": False}
    bca = run_evaluation(demo_suite, sub, None, opts, encoders={"tiny": tiny_encoder})
    pct = run_evaluation(demo_suite, sub, None, {**opts, "ci_method": "percentile"}, encoders={"tiny": tiny_encoder})
    assert bca["config"]["ci_method"] == "bca" and pct["config"]["ci_method"] == "percentile"
    for name in ("visual_consistency", "semantic_consistency"):
        b, p = bca["metrics"][name], pct["metrics"][name]
        assert b["mean"] == p["mean"] and set(b) == set(p)
        scores = [item["scores"][name] for item in bca["items"].values() if name in item["scores"]]
        ref = scipy.stats.bootstrap((np.asarray(scores),), np.mean, n_resamples=1000, method="BCa",
                                    rng=np.random.default_rng(0)).confidence_interval
        assert b["ci95"] == pytest.approx([ref.low, ref.high], abs=2e-6)
