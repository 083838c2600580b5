"""Fréchet distance and mergeable Gaussian statistics vs independent numpy/scipy references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

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
