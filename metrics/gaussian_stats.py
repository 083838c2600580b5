"""Mergeable sufficient statistics of a Gaussian fit to feature vectors (float64).

A set of ``n`` features ``x_1..x_n`` in R^d is summarised by its count ``n``, its sum
``s = sum_i x_i`` and its sum of outer products ``S = sum_i x_i x_i^T``. These are plain sums, so
the statistics of a union of shards (processes, runs, files) are the element-wise sums of the
shards' statistics, whatever the split.

From them:

* mean ``mu = s / n``
* covariance, unbiased (divisor ``n - 1``, as ``numpy.cov`` and the FVD / cd-FVD reference code):
  ``Sigma = (S - n mu mu^T) / (n - 1)``.

The covariance formula subtracts two large terms; in float64 the relative error of an entry is
about ``1e-16 * |mu|^2 / var``, negligible for network features (I3D logits, VideoMAE features)
whose mean is within a few hundred standard deviations of 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GaussianStats:
    """Sufficient statistics ``(count, sum, sum of outer products)`` of features in R^d."""

    count: int
    total: np.ndarray
    outer: np.ndarray

    def __post_init__(self) -> None:
        total = np.asarray(self.total, dtype=np.float64)
        outer = np.asarray(self.outer, dtype=np.float64)
        if total.ndim != 1 or outer.shape != (total.shape[0], total.shape[0]):
            raise ValueError(f"GaussianStats needs sum [d] and outer [d, d], got {total.shape} and {outer.shape}")
        if int(self.count) < 0:
            raise ValueError(f"count must be >= 0, got {self.count}")
        object.__setattr__(self, "count", int(self.count))
        object.__setattr__(self, "total", total)
        object.__setattr__(self, "outer", outer)

    @classmethod
    def empty(cls, dim: int) -> GaussianStats:
        return cls(0, np.zeros(dim), np.zeros((dim, dim)))

    @classmethod
    def from_features(cls, features: np.ndarray) -> GaussianStats:
        """Statistics of the rows of ``features`` ``[n, d]`` (converted to float64 first)."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"features must be a 2-D array [n, d], got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("features contain NaN or infinite values")
        return cls(x.shape[0], x.sum(axis=0), x.T @ x)

    @property
    def dim(self) -> int:
        return int(self.total.shape[0])

    def merge(self, other: GaussianStats) -> GaussianStats:
        """Statistics of the union of both feature sets (exact: sums of sums)."""
        if other.dim != self.dim:
            raise ValueError(f"cannot merge statistics of dimension {self.dim} and {other.dim}")
        return GaussianStats(self.count + other.count, self.total + other.total, self.outer + other.outer)

    __add__ = merge

    def add_features(self, features: np.ndarray) -> GaussianStats:
        return self.merge(GaussianStats.from_features(features))

    def mean(self) -> np.ndarray:
        """``mu = s / n`` (needs ``n >= 1``)."""
        if self.count < 1:
            raise ValueError("the mean of an empty feature set is undefined")
        return self.total / self.count

    def covariance(self) -> np.ndarray:
        """Unbiased covariance ``(S - n mu mu^T) / (n - 1)``, symmetrised (needs ``n >= 2``)."""
        if self.count < 2:
            raise ValueError(f"the covariance needs at least 2 features, got {self.count}")
        mu = self.mean()
        cov = (self.outer - self.count * np.outer(mu, mu)) / (self.count - 1)
        return (cov + cov.T) / 2.0


def merge_stats(parts: list[GaussianStats]) -> GaussianStats:
    """Sum of several shards' statistics (in the given order)."""
    if not parts:
        raise ValueError("nothing to merge")
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p)
    return out
