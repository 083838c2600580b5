"""Inception Score (Salimans et al. 2016) from classifier logits, as torchmetrics and torch-fidelity compute it.

For logits ``z_n`` (1008 Inception classes; torchmetrics' and torch-fidelity's default feature is
``logits_unbiased``, the final layer without its bias) ``p_n = softmax(z_n)``. The ``N`` rows are
(optionally) permuted and split into groups; for each group ``G``::

    IS_G = exp( mean_{n in G} KL(p_n || q_G) ),   q_G = mean_{n in G} p_n,
    KL(p || q) = sum_c p_c (log p_c - log q_c)

and the score is the mean of the ``IS_G`` with their standard deviation. Two ways of splitting:

* ``"torchmetrics"`` (``torchmetrics.image.InceptionScore``, used by MovieBench's script):
  ``torch.chunk`` into ``splits`` groups of ``ceil(N / splits)`` rows (the last may be shorter,
  and there may be fewer than ``splits`` groups); std with divisor ``G - 1``.
* ``"torch-fidelity"`` (``torch_fidelity.metric_isc``): group ``i`` holds rows
  ``[i N // splits, (i + 1) N // splits)``; std with divisor ``G`` (``numpy.std``).

The permutation is the caller's (torchmetrics draws ``torch.randperm(N)`` from the global torch
generator, torch-fidelity ``numpy.random.RandomState(2020).permutation(N)``). Computed in float64.
"""

from __future__ import annotations

import math

import numpy as np

SPLIT_MODES = ("torchmetrics", "torch-fidelity")


def _log_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def split_bounds(n: int, splits: int, mode: str = "torchmetrics") -> list[tuple[int, int]]:
    """Row ranges ``[start, end)`` of the groups (see module doc).

    >>> split_bounds(25, 10)[:2], len(split_bounds(25, 10))
    ([(0, 3), (3, 6)], 9)
    >>> split_bounds(25, 10, "torch-fidelity")[:3]
    [(0, 2), (2, 5), (5, 7)]
    """
    if n < 1 or splits < 1:
        raise ValueError(f"need at least one row and one split, got n={n}, splits={splits}")
    if mode == "torchmetrics":
        size = math.ceil(n / splits)
        return [(s, min(s + size, n)) for s in range(0, n, size)]
    if mode == "torch-fidelity":
        return [(i * n // splits, (i + 1) * n // splits) for i in range(splits)]
    raise ValueError(f"unknown split mode {mode!r}; choose from {SPLIT_MODES}")


def inception_score_splits(logits, splits: int = 10, permutation=None, mode: str = "torchmetrics") -> np.ndarray:
    """The per-group scores ``IS_G`` (float64 ``[G]``) of ``logits`` ``[N, C]`` (see module doc)."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"logits must be a non-empty [N, C] array, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits contain NaN or infinite values")
    if permutation is not None:
        perm = np.asarray(permutation, dtype=np.int64)
        if sorted(perm.tolist()) != list(range(z.shape[0])):
            raise ValueError(f"permutation must be a permutation of range({z.shape[0]})")
        z = z[perm]
    log_p = _log_softmax(z)
    p = np.exp(log_p)
    out = []
    for start, end in split_bounds(z.shape[0], int(splits), mode):
        if end <= start:
            raise ValueError(f"{z.shape[0]} rows cannot fill {splits} splits (an empty group)")
        pg, lpg = p[start:end], log_p[start:end]
        log_q = np.log(pg.mean(axis=0, keepdims=True))
        out.append(math.exp(float((pg * (lpg - log_q)).sum(axis=1).mean())))
    return np.asarray(out, dtype=np.float64)


def inception_score(logits, splits: int = 10, permutation=None, mode: str = "torchmetrics") -> tuple[float, float]:
    """``(mean, std)`` of the Inception Score over groups (module doc; MovieBench Table 5 "Inception").

    Uniform predictions give 1; ``k`` equally frequent, confident classes give ``k``:

    >>> eye = np.eye(4) * 50.0
    >>> m, s = inception_score(np.concatenate([eye] * 5), splits=1, mode="torch-fidelity")
    >>> round(m, 6), s
    (4.0, 0.0)

    torchmetrics' std (divisor ``G - 1``) of a single group is NaN, as there.
    """
    scores = inception_score_splits(logits, splits, permutation, mode)
    ddof = 1 if mode == "torchmetrics" else 0
    std = float(scores.std(ddof=ddof)) if scores.size > ddof else float("nan")
    return float(scores.mean()), std
