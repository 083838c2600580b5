"""Mean of per-frame-position FIDs (VideoStudio's "average of the per-frame FID", Sec. 4.2).

Generated frames are grouped by their position ``k`` in the sampled clip of each video (the k-th
sampled frame of every scene). Each group's features get a Gaussian fit and its squared Fréchet
distance (:func:`metrics.frechet_distance`) to the reference fit ``N(mu_ref, Sigma_ref)``::

    FID_per_frame = (1 / K) sum_k FID(frames at position k, reference)

VideoStudio does not say more; comparing every position with the pooled reference frames (rather
than with the reference frames at the same position) is mvbench's reading (docs/metrics.md).
"""

from __future__ import annotations

import numpy as np

from metrics.frechet import frechet_distance
from metrics.gaussian_stats import GaussianStats


def per_index_fid(features, index, mu_ref, sigma_ref) -> tuple[float, dict[int, float]]:
    """``(mean over positions, {position: FID})`` for rows of ``features`` ``[n, d]`` labelled by
    ``index`` ``[n]`` (each position needs at least 2 rows).

    >>> x = np.array([[0.0], [2.0], [10.0], [12.0]])
    >>> mean, per = per_index_fid(x, [0, 0, 1, 1], np.array([1.0]), np.array([[2.0]]))
    >>> per, mean
    ({0: 0.0, 1: 100.0}, 50.0)
    """
    x = np.asarray(features, dtype=np.float64)
    idx = np.asarray(index)
    if x.ndim != 2 or idx.shape != (x.shape[0],):
        raise ValueError(f"features [n, d] and index [n] expected, got {x.shape} and {idx.shape}")
    per: dict[int, float] = {}
    for k in sorted(set(idx.tolist())):
        rows = x[idx == k]
        if rows.shape[0] < 2:
            raise ValueError(f"frame position {k} has {rows.shape[0]} feature(s); a Gaussian fit needs 2")
        st = GaussianStats.from_features(rows)
        per[int(k)] = frechet_distance(st.mean(), st.covariance(), mu_ref, sigma_ref)
    if not per:
        raise ValueError("no features")
    return float(np.mean(list(per.values()))), per
