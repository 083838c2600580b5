"""Aggregating per-item values into the metric summaries of a results file."""

from __future__ import annotations

import numpy as np

from metrics.bootstrap import bootstrap_ci

#: decimals kept for per-item scores and aggregates (removes float noise below the reported precision)
DECIMALS = 6


def summarize(values, higher_is_better: bool, seed: int = 0, n_resamples: int = 1000,
              confidence: float = 0.95) -> dict:
    """``{"mean", "ci95", "n", "higher_is_better", "std"}`` of per-item values (float64).

    ``std`` is the sample standard deviation (ddof=1; 0 for one item). Empty input gives
    ``mean``/``ci95``/``std`` None and ``n`` 0.
    """
    x = np.asarray(list(values), dtype=np.float64)
    if x.size == 0:
        return {"mean": None, "ci95": None, "n": 0, "higher_is_better": higher_is_better, "std": None}
    lo, hi = bootstrap_ci(x, confidence=confidence, n_resamples=n_resamples, seed=seed)
    std = float(x.std(ddof=1)) if x.size > 1 else 0.0
    return {
        "mean": round(float(x.mean()), DECIMALS),
        "ci95": [round(lo, DECIMALS), round(hi, DECIMALS)],
        "n": int(x.size),
        "higher_is_better": higher_is_better,
        "std": round(std, DECIMALS),
    }
