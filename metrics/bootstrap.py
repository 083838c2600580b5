"""Bootstrap confidence interval of a mean over items (percentile method, seeded)."""

from __future__ import annotations

import numpy as np


def bootstrap_ci(values, confidence: float = 0.95, n_resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of ``values``.

    Draws ``n_resamples`` resamples of the items with replacement (``numpy.random.default_rng(seed)``)
    and returns the ``(1-confidence)/2`` and ``(1+confidence)/2`` quantiles of their means. One value
    gives a zero-width interval. Deterministic for a given seed.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if not np.isfinite(x).all():
        raise ValueError("bootstrap_ci got NaN or inf values")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if x.size == 1:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_resamples, x.size))
    means = x[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)
