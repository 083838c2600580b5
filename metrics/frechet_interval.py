"""Intervals for the Fréchet distance (FVD/FID), a statistic biased upward by the sample size, and the
effectively unbiased FD∞ of Chong & Forsyth (CVPR 2020).

The plug-in ``FD_n`` of ``n`` generated clips against a fixed reference overestimates the
population distance ``FD`` by a bias that shrinks like ``k / n`` once ``n`` well exceeds the feature
dimension (and is far larger below it). Resampling clips with replacement inflates it again (a
resample holds about 0.63 n distinct clips), so the bootstrap replicates ``FD*`` sit above
``FD_n``: their plain percentiles can exclude ``FD_n`` altogether. With replicate quantiles
``q_lo``, ``q_hi`` (levels ``(1 -+ c) / 2``) and mean ``m*``, the bootstrap bias estimate is
``b = m* - FD_n`` and the intervals are:

* ``"shifted"``: ``[q_lo - b, q_hi - b]``, the percentile interval moved by the bootstrap bias.
  It is an interval for ``E[FD_n]``, the expected FVD at this clip count against this reference
  (the quantity papers compare at equal clip counts), and contains ``FD_n`` whenever
  ``q_lo <= m* <= q_hi``, which holds for any replicate distribution short of a pathological one;
* ``"basic"`` (reverse percentile, Davison & Hinkley 1997, Eq. 5.6): ``[2 FD_n - q_hi, 2 FD_n - q_lo]``,
  an interval for the population ``FD`` centred on the bias-corrected ``FD_n - b``; it excludes
  ``FD_n`` whenever the bias exceeds the spread;
* ``"percentile"``: ``[q_lo, q_hi]``, what mvbench reported before version 2 of this interval;
  unsound here (kept to reproduce old results files).

FD∞ (Chong & Forsyth 2020, Sec. 3.2 and their reference code ``calculate_FID_infinity``): the FD of
random subsets of ``N_1 < ... < N_K = n`` clips (``K = 15`` sizes from ``n / 10`` to ``n``, evenly
spaced, a fresh random subset per size), a least-squares line ``FD_N = FD∞ + k / N``, and its
intercept at ``1 / N = 0``. The line holds once every ``N`` well exceeds the feature dimension (the
paper uses 5,000-50,000 images for 2048-d features); at the clip counts of video suites it does not,
and the simulation in ``docs/fvd.md`` (``benchmarks/fvd_interval_coverage.py``) finds FD∞ biased and
its intervals under-covering there, so mvbench reports the bootstrap bias-corrected FD (``basic``)
instead and offers FD∞ as a function only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics.frechet import SubsetFrechet, _as_float64

FD_INTERVALS = ("shifted", "basic", "percentile")
#: most groups a jackknife leaves out one at a time (one FD each); more rows are merged into this many
JACKKNIFE_MAX_GROUPS = 200
#: Chong & Forsyth's defaults: 15 sizes from a tenth of the clips to all of them
FD_INF_POINTS = 15
FD_INF_MIN_FRACTION = 0.1


def _quantiles(replicates, confidence: float) -> tuple[float, float, float]:
    reps = np.asarray(replicates, dtype=np.float64).ravel()
    if reps.size == 0 or not np.isfinite(reps).all():
        raise ValueError("need at least one finite bootstrap replicate")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    return float(lo), float(hi), float(reps.mean())


def fd_interval(value: float, replicates, method: str = "shifted", confidence: float = 0.95) -> tuple[float, float]:
    """Interval ``(lo, hi)`` for a Fréchet distance ``value`` from its bootstrap ``replicates``.

    ``shifted``: ``[q_lo - b, q_hi - b]`` with ``b = mean(replicates) - value``; ``basic``:
    ``[2 value - q_hi, 2 value - q_lo]``; ``percentile``: ``[q_lo, q_hi]`` (module docstring).
    Quantiles are ``numpy.quantile``'s default (linear) at levels ``(1 -+ confidence) / 2``.

    >>> reps = [12.0, 13.0, 14.0, 15.0, 16.0]          # mean 14, bias 14 - 10 = 4
    >>> fd_interval(10.0, reps, "shifted", confidence=0.5)
    (9.0, 11.0)
    >>> fd_interval(10.0, reps, "basic", confidence=0.5)
    (5.0, 7.0)
    >>> fd_interval(10.0, reps, "percentile", confidence=0.5)
    (13.0, 15.0)
    """
    if method not in FD_INTERVALS:
        raise ValueError(f"method must be one of {FD_INTERVALS}, got {method!r}")
    q_lo, q_hi, mean = _quantiles(replicates, confidence)
    value = float(value)
    if method == "percentile":
        return q_lo, q_hi
    if method == "basic":
        return 2.0 * value - q_hi, 2.0 * value - q_lo
    bias = mean - value
    return q_lo - bias, q_hi - bias


@dataclass(frozen=True)
class FDInfinity:
    """FD∞ (``value``, the intercept), the fitted ``slope`` k, and the subset ``sizes`` and their FDs."""

    value: float
    slope: float
    sizes: tuple[int, ...]
    distances: tuple[float, ...]


def fd_infinity_sizes(n: int, num_points: int = FD_INF_POINTS,
                      min_fraction: float = FD_INF_MIN_FRACTION) -> np.ndarray:
    """Subset sizes ``int(linspace(max(2, min_fraction n), n, num_points))``, duplicates removed.

    >>> fd_infinity_sizes(50000).tolist()[:3]
    [5000, 8214, 11428]
    >>> fd_infinity_sizes(10, num_points=4).tolist()
    [2, 4, 7, 10]
    """
    if n < 3:
        raise ValueError(f"FD∞ needs at least 3 clips, got {n}")
    if num_points < 2:
        raise ValueError(f"FD∞ needs at least 2 subset sizes, got {num_points}")
    if not 0 < min_fraction < 1:
        raise ValueError(f"min_fraction must be in (0, 1), got {min_fraction}")
    sizes = np.linspace(max(2.0, min_fraction * n), n, num_points).astype(np.int64)
    sizes = np.unique(sizes)
    if sizes.size < 2:
        raise ValueError(f"FD∞ needs at least 2 distinct subset sizes; {n} clips give {sizes.tolist()}")
    return sizes


def fd_infinity(features, mu_ref, sigma_ref, num_points: int = FD_INF_POINTS,
                min_fraction: float = FD_INF_MIN_FRACTION, seed: int = 0) -> FDInfinity:
    """Effectively unbiased FD∞ of ``features`` ``[n, d]`` against ``N(mu_ref, sigma_ref)``.

    For each size ``N`` of :func:`fd_infinity_sizes` the FD of the first ``N`` rows of a fresh
    permutation (``numpy.random.default_rng(seed).permutation(n)``; the full set for ``N = n``), then
    the ordinary least-squares line ``FD_N = FD∞ + k / N``; FD∞ is its intercept (Chong & Forsyth
    2020, Sec. 3.2). It may come out negative for a small true distance; it is not clipped.

    >>> rng = np.random.default_rng(0)
    >>> fit = fd_infinity(rng.normal(size=(400, 4)), np.zeros(4), np.eye(4))
    >>> len(fit.sizes), fit.sizes[-1], abs(fit.value) < 0.1 < fit.distances[0]
    (15, 400, True)
    """
    fd = SubsetFrechet(features, mu_ref, sigma_ref)
    sizes = fd_infinity_sizes(fd.n, num_points, min_fraction)
    rng = np.random.default_rng(seed)
    distances = np.array([fd(np.arange(fd.n) if m == fd.n else rng.permutation(fd.n)[:m]) for m in sizes])
    slope, intercept = np.polyfit(1.0 / sizes, distances, 1)
    return FDInfinity(float(intercept), float(slope), tuple(int(m) for m in sizes),
                      tuple(float(v) for v in distances))


def jackknife_groups(sizes, max_groups: int = JACKKNIFE_MAX_GROUPS) -> np.ndarray:
    """A group label per row for rows that come in consecutive blocks of ``sizes`` (e.g. the clips of
    each item, in suite order): one group per block, or, with more than ``max_groups`` blocks, block b
    in group ``b * max_groups // len(sizes)`` (consecutive blocks merged). Empty blocks are skipped.

    >>> jackknife_groups([3, 1, 2]).tolist()
    [0, 0, 0, 1, 2, 2]
    >>> jackknife_groups([1, 1, 1, 1], max_groups=2).tolist()
    [0, 0, 1, 1]
    """
    sizes = [int(k) for k in sizes if int(k) > 0]
    if max_groups < 2:
        raise ValueError(f"max_groups must be >= 2, got {max_groups}")
    blocks = len(sizes)
    labels = [b if blocks <= max_groups else b * max_groups // blocks for b in range(blocks)]
    return np.repeat(np.asarray(labels, dtype=np.int64), sizes)


def frechet_distance_jackknife(features, mu_ref, sigma_ref, groups=None) -> np.ndarray:
    """FD of ``features`` ``[n, d]`` against ``N(mu_ref, sigma_ref)`` with each group of rows left out in
    turn (``groups``: a label per row; default: every row its own group, the delete-one jackknife), in
    order of the sorted labels. Needs at least 2 groups and 2 rows left in every case.

    >>> x = np.random.default_rng(0).normal(size=(6, 2))
    >>> frechet_distance_jackknife(x, np.zeros(2), np.eye(2), groups=[0, 0, 1, 1, 2, 2]).shape
    (3,)
    """
    x = _as_float64(features, "features", 2)
    fd = SubsetFrechet(x, mu_ref, sigma_ref)
    labels = np.arange(fd.n) if groups is None else np.asarray(groups).ravel()
    if labels.shape != (fd.n,):
        raise ValueError(f"groups must have one label per row: {labels.shape} labels for {fd.n} rows")
    uniq = np.unique(labels)
    if uniq.size < 2:
        raise ValueError("a jackknife needs at least 2 groups")
    out = np.empty(uniq.size, dtype=np.float64)
    for k, g in enumerate(uniq):
        keep = np.flatnonzero(labels != g)
        if keep.size < 2:
            raise ValueError(f"leaving out group {g} leaves {keep.size} row(s); a covariance needs 2")
        out[k] = fd(keep)
    return out


def fd_jackknife_interval(value: float, leave_out, confidence: float = 0.95) -> tuple[float, float]:
    """Normal interval ``value -+ z se`` with the (grouped) jackknife standard error of the FD,
    ``se^2 = (g - 1) / g * sum_k (FD_(k) - mean FD_(.))^2`` over the ``g`` leave-one-group-out values
    (Efron & Tibshirani 1993, Eq. 11.5; delete-a-group form, Eq. 11.13 for equal groups),
    ``z = Phi^-1((1 + confidence) / 2)``. An interval for the expected FVD at this clip count; it is
    centred on ``value``, so it always contains it.

    >>> lo, hi = fd_jackknife_interval(10.0, [9.0, 11.0], confidence=0.95)   # se = 1
    >>> round(lo, 4), round(hi, 4)
    (8.04, 11.96)
    """
    from scipy.stats import norm

    loo = np.asarray(leave_out, dtype=np.float64).ravel()
    if loo.size < 2 or not np.isfinite(loo).all():
        raise ValueError("need at least 2 finite leave-one-out values")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    g = loo.size
    se = float(np.sqrt((g - 1) / g * ((loo - loo.mean()) ** 2).sum()))
    z = float(norm.ppf((1.0 + confidence) / 2.0))
    return float(value) - z * se, float(value) + z * se
