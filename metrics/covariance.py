"""Covariance conventions of Fréchet-distance tools, from mergeable sufficient statistics (float64).

With ``n`` features summarised by their sum ``s`` and sum of outer products ``S`` (``mu = s / n``)::

    Sigma_ddof = (S - n mu mu^T) / (n - ddof)

``ddof = 1`` (divisor ``n - 1``) is ``numpy.cov``'s default, used by pytorch-fid, StyleGAN-V and mvbench;
``ddof = 0`` (divisor ``n``) is the content-debiased-FVD package's ``FeatureStats.get_mean_cov``
(``cdfvd/utils/metric_utils.py``: ``raw_cov / num_items - outer(mean, mean)``), which moves FD by a few
per cent on the same features.
"""

from __future__ import annotations

import numpy as np

from metrics.gaussian_stats import GaussianStats


def covariance_with_ddof(stats: GaussianStats, ddof: int = 1) -> np.ndarray:
    """``(S - n mu mu^T) / (n - ddof)``, symmetrised; needs ``n > ddof``.

    >>> st = GaussianStats.from_features(np.array([[0.0, 0.0], [2.0, 4.0]]))
    >>> covariance_with_ddof(st, 1).tolist(), covariance_with_ddof(st, 0).tolist()
    ([[2.0, 4.0], [4.0, 8.0]], [[1.0, 2.0], [2.0, 4.0]])
    """
    if ddof not in (0, 1):
        raise ValueError(f"ddof must be 0 or 1, got {ddof}")
    if stats.count <= ddof or stats.count < 1:
        raise ValueError(f"a covariance with ddof {ddof} needs more than {ddof} features, got {stats.count}")
    mu = stats.mean()
    cov = (stats.outer - stats.count * np.outer(mu, mu)) / (stats.count - ddof)
    return (cov + cov.T) / 2.0
