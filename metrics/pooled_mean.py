"""Means pooled over the units of all items (e.g. over all shots, or all frames), with an item bootstrap.

Some published scores average over shots or frames of the whole set rather than over items:
MovieBench's CLIP score script sums per-shot scores and divides by the number of shots; the
``clip-score`` package averages over every image-text pair. Each item contributes the sum ``s_j``
of its unit values and their number ``c_j``; the pooled mean is ``sum_j s_j / sum_j c_j``. Its
confidence interval resamples *items* with replacement (units of one item are not independent)
and recomputes the pooled mean (percentile method, ``numpy.random.default_rng(seed)``).
"""

from __future__ import annotations

import numpy as np


def pooled_mean(sums, counts) -> float:
    """``sum(sums) / sum(counts)``.

    >>> pooled_mean([3.0, 10.0], [1, 4])
    2.6
    """
    s = np.asarray(sums, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if s.shape != c.shape or s.ndim != 1 or s.size == 0:
        raise ValueError(f"sums and counts must be non-empty 1-D arrays of one length, got {s.shape}, {c.shape}")
    if (c < 0).any() or c.sum() <= 0:
        raise ValueError("counts must be non-negative with a positive total")
    return float(s.sum() / c.sum())


def pooled_mean_bootstrap_ci(sums, counts, n_resamples: int = 1000, seed: int = 0,
                             confidence: float = 0.95) -> tuple[float, float]:
    """Percentile CI of :func:`pooled_mean` from resampling items (resamples with no unit are skipped).

    >>> pooled_mean_bootstrap_ci([2.0], [1])
    (2.0, 2.0)
    """
    s = np.asarray(sums, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    value = pooled_mean(s, c)
    if s.size == 1:
        return value, value
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, s.size, size=(n_resamples, s.size))
    tot_c = c[idx].sum(axis=1)
    ok = tot_c > 0
    means = s[idx].sum(axis=1)[ok] / tot_c[ok]
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)
