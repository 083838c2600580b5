"""Aggregating per-item values into the metric summaries of a results file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from metrics.bootstrap import CI_METHODS, DEFAULT_CI_METHOD, bootstrap_ci

#: decimals kept for per-item scores and aggregates (removes float noise below the reported precision)
DECIMALS = 6


def ci_options(options: Mapping[str, Any] | None) -> dict:
    """``{"n_resamples", "method"}`` for :func:`summarize` from evaluation options (``bootstrap``,
    ``ci_method``), with the defaults 1000 and :data:`metrics.bootstrap.DEFAULT_CI_METHOD`.

    >>> ci_options({"bootstrap": 200, "ci_method": "percentile"})
    {'n_resamples': 200, 'method': 'percentile'}
    >>> ci_options({})["method"] in CI_METHODS
    True
    """
    options = options or {}
    method = options.get("ci_method") or DEFAULT_CI_METHOD
    if method not in CI_METHODS:
        raise ValueError(f"ci_method must be one of {', '.join(CI_METHODS)}, got {method!r}")
    return {"n_resamples": int(options.get("bootstrap") or 1000), "method": method}


def summarize(values, higher_is_better: bool, seed: int = 0, n_resamples: int = 1000,
              confidence: float = 0.95, method: str = DEFAULT_CI_METHOD) -> dict:
    """``{"mean", "ci95", "n", "higher_is_better", "std"}`` of per-item values (float64).

    ``ci95`` is the bootstrap interval of the mean (:func:`metrics.bootstrap_ci`, ``method``
    percentile or bca, seeded); ``std`` is the sample standard deviation (ddof=1; 0 for one item).
    Empty input gives ``mean``/``ci95``/``std`` None and ``n`` 0.

    >>> summarize([1.0, 1.0], higher_is_better=True)
    {'mean': 1.0, 'ci95': [1.0, 1.0], 'n': 2, 'higher_is_better': True, 'std': 0.0}
    """
    x = np.asarray(list(values), dtype=np.float64)
    if x.size == 0:
        return {"mean": None, "ci95": None, "n": 0, "higher_is_better": higher_is_better, "std": None}
    lo, hi = bootstrap_ci(x, confidence=confidence, n_resamples=n_resamples, seed=seed, method=method)
    std = float(x.std(ddof=1)) if x.size > 1 else 0.0
    return {
        "mean": round(float(x.mean()), DECIMALS),
        "ci95": [round(lo, DECIMALS), round(hi, DECIMALS)],
        "n": int(x.size),
        "higher_is_better": higher_is_better,
        "std": round(std, DECIMALS),
    }
