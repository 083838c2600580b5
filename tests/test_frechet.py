"""Fréchet distance and mergeable Gaussian statistics vs independent numpy/scipy references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from metrics import GaussianStats, frechet_distance, frechet_distance_bootstrap, merge_stats


def scipy_frechet(mu1, sigma1, mu2, sigma2) -> float:
    """The classic FID/FVD formula with scipy's general (non-symmetric) matrix square root."""
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def gaussian_fit(x):
    return x.mean(axis=0), np.cov(x, rowvar=False)


def test_random_full_rank_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 24)) @ rng.normal(size=(24, 24))
    b = rng.normal(loc=0.3, size=(250, 24)) @ rng.normal(size=(24, 24))
    ours = frechet_distance(*gaussian_fit(a), *gaussian_fit(b))
    ref = scipy_frechet(*gaussian_fit(a), *gaussian_fit(b))
    assert ours == pytest.approx(ref, rel=1e-6)


def test_rank_deficient_matches_scipy():
    # fewer samples than dimensions: both covariances are singular (rank 9 and 11 in R^32)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(10, 32))
    b = rng.normal(loc=0.5, scale=2.0, size=(12, 32))
    mu1, s1 = gaussian_fit(a)
    mu2, s2 = gaussian_fit(b)
    assert np.linalg.matrix_rank(s1) < 32 and np.linalg.matrix_rank(s2) < 32
    ours = frechet_distance(mu1, s1, mu2, s2)
    # independent reference for singular inputs: symmetric form with scipy sqrtm throughout
    r1 = np.real(scipy.linalg.sqrtm(s1))
    ref = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2)
                - 2.0 * np.trace(np.real(scipy.linalg.sqrtm(r1 @ s2 @ r1))))
    assert ours == pytest.approx(ref, rel=1e-6)
    assert ours == pytest.approx(scipy_frechet(mu1, s1, mu2, s2), rel=1e-6)


def test_identical_inputs_give_zero():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 16)) * 5.0 + 3.0
    mu, sigma = gaussian_fit(x)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9 * np.trace(sigma))
    # also for a singular covariance
    mu, sigma = gaussian_fit(x[:5])
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9 * np.trace(sigma))


def test_hand_worked_one_dimensional():
    # 1-D: d^2 = (m1 - m2)^2 + (s1 - s2)^2 with standard deviations s1 = 2, s2 = 3
    value = frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([4.0]), np.array([[9.0]]))
    assert value == pytest.approx(9.0 + 1.0, rel=1e-12)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_merged_shards_equal_concatenated_features():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(57, 7)) * 3.0 + 10.0
    shards = [GaussianStats.from_features(x[i:j]) for i, j in [(0, 20), (20, 21), (21, 57)]]
    merged = merge_stats(shards)
    assert merged.count == 57
    np.testing.assert_allclose(merged.mean(), x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(merged.covariance(), np.cov(x, rowvar=False), rtol=1e-10, atol=1e-12)
    # merging in a different order gives the same statistics up to rounding
    other = shards[2] + shards[0] + shards[1]
    np.testing.assert_allclose(other.covariance(), merged.covariance(), rtol=1e-12)


def test_empty_and_single_feature_errors():
    stats = GaussianStats.from_features(np.ones((1, 3)))
    np.testing.assert_array_equal(stats.mean(), np.ones(3))
    with pytest.raises(ValueError, match="at least 2"):
        stats.covariance()
    with pytest.raises(ValueError, match="empty"):
        GaussianStats.empty(3).mean()
    with pytest.raises(ValueError, match="dimension"):
        stats.merge(GaussianStats.empty(4))


def test_bootstrap_replicates_match_direct_computation():
    rng = np.random.default_rng(4)
    ref = rng.normal(size=(80, 12))
    mu_r, s_r = gaussian_fit(ref)
    for n in (6, 30):  # Gram path (n <= d) and covariance path (n > d)
        gen = rng.normal(loc=0.2, size=(n, 12))
        reps = frechet_distance_bootstrap(gen, mu_r, s_r, n_boot=5, seed=11)
        draw = np.random.default_rng(11)
        for value in reps:
            idx = draw.integers(0, n, size=n)
            expected = scipy_frechet(*gaussian_fit(gen[idx]), mu_r, s_r)
            assert value == pytest.approx(expected, rel=1e-6)


def test_fd_intervals_from_replicates_against_hand_computation():
    from metrics import fd_interval

    reps = np.random.default_rng(5).gamma(3.0, 2.0, size=999) + 20.0  # skewed replicates above the estimate
    value = 18.0
    q_lo, q_hi = np.percentile(reps, [2.5, 97.5])
    bias = reps.mean() - value
    assert fd_interval(value, reps, "percentile") == pytest.approx((q_lo, q_hi))
    assert fd_interval(value, reps, "shifted") == pytest.approx((q_lo - bias, q_hi - bias))
    assert fd_interval(value, reps, "basic") == pytest.approx((2 * value - q_hi, 2 * value - q_lo))
    lo, hi = fd_interval(value, reps, "shifted")
    assert lo <= value <= hi and not (q_lo <= value <= q_hi)
    with pytest.raises(ValueError, match="method"):
        fd_interval(value, reps, "bca")
    with pytest.raises(ValueError, match="finite"):
        fd_interval(value, [1.0, float("nan")])


def test_fd_infinity_matches_an_independent_extrapolation():
    """Chong & Forsyth's FD∞: FDs of random subsets (scipy formula here) and a least-squares line in 1/N
    (scipy.stats.linregress), intercept at 1/N = 0, with the same subsets (same seeded permutations)."""
    from metrics import fd_infinity

    rng = np.random.default_rng(6)
    ref = rng.normal(size=(500, 5))
    mu_r, s_r = gaussian_fit(ref)
    gen = rng.normal(loc=0.3, size=(200, 5)) @ np.diag([1.0, 1.2, 0.8, 1.0, 1.5])
    fit = fd_infinity(gen, mu_r, s_r, seed=9)
    sizes = np.unique(np.linspace(20, 200, 15).astype(int))
    assert fit.sizes == tuple(sizes)
    perm = np.random.default_rng(9)
    fds = []
    for m in sizes:
        rows = np.arange(200) if m == 200 else perm.permutation(200)[:m]
        fds.append(scipy_frechet(*gaussian_fit(gen[rows]), mu_r, s_r))
    line = scipy.stats.linregress(1.0 / sizes, fds)
    assert fit.distances == pytest.approx(fds, rel=1e-6)
    assert fit.value == pytest.approx(line.intercept, rel=1e-6, abs=1e-9)
    assert fit.slope == pytest.approx(line.slope, rel=1e-6)


def test_grouped_jackknife_matches_direct_leave_one_group_out():
    from metrics import fd_jackknife_interval, frechet_distance_jackknife, jackknife_groups

    rng = np.random.default_rng(7)
    ref = rng.normal(size=(90, 6))
    mu_r, s_r = gaussian_fit(ref)
    gen = rng.normal(loc=0.4, size=(14, 6))
    labels = jackknife_groups([3, 3, 2, 2, 4])
    loo = frechet_distance_jackknife(gen, mu_r, s_r, labels)
    expected = [scipy_frechet(*gaussian_fit(gen[labels != g]), mu_r, s_r) for g in range(5)]
    assert loo == pytest.approx(expected, rel=1e-6)
    value = scipy_frechet(*gaussian_fit(gen), mu_r, s_r)
    se = np.sqrt(4 / 5 * np.sum((np.array(expected) - np.mean(expected)) ** 2))
    lo, hi = fd_jackknife_interval(value, loo)
    assert (lo, hi) == pytest.approx((value - 1.959964 * se, value + 1.959964 * se), rel=1e-6)
    # default groups: every row (the delete-one jackknife)
    assert frechet_distance_jackknife(gen, mu_r, s_r).shape == (14,)
    with pytest.raises(ValueError, match="2 groups"):
        frechet_distance_jackknife(gen, mu_r, s_r, np.zeros(14))
    with pytest.raises(ValueError, match="one label per row"):
        frechet_distance_jackknife(gen, mu_r, s_r, np.zeros(3))
