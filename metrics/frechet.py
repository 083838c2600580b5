"""Fréchet distance between Gaussian fits of features (FID / FVD / content-debiased FVD), float64.

For ``N(mu1, Sigma1)`` and ``N(mu2, Sigma2)`` (Unterthiner et al. 2019, FVD; Heusel et al. 2017)::

    d^2 = |mu1 - mu2|^2 + tr(Sigma1) + tr(Sigma2) - 2 tr((Sigma1 Sigma2)^(1/2))

Matrix square root. ``Sigma1 Sigma2`` is not symmetric, and ``scipy.linalg.sqrtm`` of it returns
complex or inaccurate values when the covariances are (near-)singular, which they are whenever a
set has fewer clips than feature dimensions. We use the identity

    tr((Sigma1 Sigma2)^(1/2)) = tr((A Sigma2 A)^(1/2)),  A = Sigma1^(1/2)

(``A Sigma2 A`` is similar to ``Sigma1 Sigma2`` for invertible ``Sigma1``, and both sides are
continuous in ``Sigma1``), so only symmetric positive semi-definite matrices are factorised, with
``numpy.linalg.eigh``. Guard: eigenvalues that come out negative (rounding only: a PSD matrix has
none; their size is about ``d * 1e-16 * largest eigenvalue``) are set to 0 before the square
root. Nothing is inverted, so no ``eps * I`` offset is needed and singular inputs are exact. The
final value is clipped at 0 from below (identical inputs give 0 up to rounding).
"""

from __future__ import annotations

import numpy as np


def _as_float64(x, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root ``V diag(sqrt(max(l, 0))) V^T`` of a symmetric PSD matrix."""
    sym = (sigma + sigma.T) / 2.0
    eigvals, eigvecs = np.linalg.eigh(sym)
    return (eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))) @ eigvecs.T


def _trace_sqrt_psd(matrix: np.ndarray) -> float:
    """``tr(M^(1/2))`` of a symmetric PSD matrix: sum of square roots of its clipped eigenvalues."""
    eigvals = np.linalg.eigvalsh((matrix + matrix.T) / 2.0)
    return float(np.sqrt(np.clip(eigvals, 0.0, None)).sum())


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``tr((Sigma1 Sigma2)^(1/2))`` computed as ``tr((A Sigma2 A)^(1/2))`` with ``A = Sigma1^(1/2)``."""
    a = psd_sqrt(sigma1)
    return _trace_sqrt_psd(a @ sigma2 @ a)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Squared Fréchet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)`` (see module doc)."""
    mu1 = _as_float64(mu1, "mu1", 1)
    mu2 = _as_float64(mu2, "mu2", 1)
    sigma1 = _as_float64(sigma1, "sigma1", 2)
    sigma2 = _as_float64(sigma2, "sigma2", 2)
    d = mu1.shape[0]
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"shape mismatch: mu1 {mu1.shape}, sigma1 {sigma1.shape}, mu2 {mu2.shape}, sigma2 {sigma2.shape}"
        )
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return max(float(value), 0.0)


class SubsetFrechet:
    """FD of subsets of the rows of ``features`` against a fixed reference ``N(mu_ref, sigma_ref)``.

    With ``A = sigma_ref^(1/2)`` and the centred rows ``Xc`` of a subset of ``m`` rows, the subset
    covariance is ``Xc^T Xc / (m - 1)`` and ``A Sigma_s A = (Xc A)^T (Xc A) / (m - 1)``, whose non-zero
    eigenvalues are those of the ``m x m`` Gram matrix ``(Xc A)(Xc A)^T / (m - 1)``; the smaller of
    the two matrices is factorised. Exact (no approximation), float64.

    >>> x = np.random.default_rng(0).normal(size=(30, 3))
    >>> fd = SubsetFrechet(x, np.zeros(3), np.eye(3))
    >>> full = frechet_distance(x.mean(0), np.cov(x, rowvar=False), np.zeros(3), np.eye(3))
    >>> bool(abs(fd(np.arange(30)) - full) < 1e-12)
    True
    """

    def __init__(self, features, mu_ref, sigma_ref):
        self.x = _as_float64(features, "features", 2)
        self.mu_ref = _as_float64(mu_ref, "mu_ref", 1)
        sigma_ref = _as_float64(sigma_ref, "sigma_ref", 2)
        n, d = self.x.shape
        if n < 2:
            raise ValueError(f"subset Fréchet distances need at least 2 features, got {n}")
        if self.mu_ref.shape != (d,) or sigma_ref.shape != (d, d):
            raise ValueError(f"reference of dimension {self.mu_ref.shape} / {sigma_ref.shape} vs features of "
                             f"dimension {d}")
        self.z = self.x @ psd_sqrt(sigma_ref)
        self.trace_ref = float(np.trace(sigma_ref))

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def __call__(self, idx: np.ndarray) -> float:
        """FD of the rows ``idx`` (repeats allowed: a bootstrap resample)."""
        xb = self.x[idx]
        m, d = xb.shape
        mu_b = xb.mean(axis=0)
        xc = xb - mu_b
        zc = self.z[idx]
        zc = zc - zc.mean(axis=0)
        gram = (zc @ zc.T) if m <= d else (zc.T @ zc)
        diff = mu_b - self.mu_ref
        trace_b = float((xc * xc).sum()) / (m - 1)
        value = diff @ diff + trace_b + self.trace_ref - 2.0 * _trace_sqrt_psd(gram / (m - 1))
        return max(float(value), 0.0)


def frechet_distance_bootstrap(
    features, mu_ref, sigma_ref, n_boot: int = 1000, seed: int = 0
) -> np.ndarray:
    """FD of ``n_boot`` bootstrap resamples (rows drawn with replacement) of ``features`` ``[n, d]``
    against the fixed reference ``N(mu_ref, sigma_ref)``.

    Fast and exact: with ``A = sigma_ref^(1/2)`` and the centred resample ``Xc``, the resample
    covariance is ``Xc^T Xc / (n - 1)`` and ``A Sigma_b A = (Xc A)^T (Xc A) / (n - 1)``, whose
    non-zero eigenvalues are those of the ``n x n`` Gram matrix ``(Xc A)(Xc A)^T / (n - 1)``; the
    smaller of the two matrices is factorised. Replicates use ``numpy.random.default_rng(seed)``:
    replicate b takes the rows ``rng.integers(0, n, size=n)`` of the b-th draw.

    >>> x = np.random.default_rng(0).normal(size=(20, 3))
    >>> reps = frechet_distance_bootstrap(x, np.zeros(3), np.eye(3), n_boot=5)
    >>> reps.shape, bool((reps >= 0).all())
    ((5,), True)
    """
    fd = SubsetFrechet(features, mu_ref, sigma_ref)
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot, dtype=np.float64)
    for b in range(n_boot):
        out[b] = fd(rng.integers(0, fd.n, size=fd.n))
    return out
