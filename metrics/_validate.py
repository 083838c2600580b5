"""Input checks shared by the metric functions (strict, torchmetrics-style)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def as_float64_matrix(x, name: str) -> torch.Tensor:
    """A 2-D float64 tensor copy of ``x`` (tensor or array), finite, non-empty."""
    import torch

    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if t.ndim != 2:
        raise ValueError(f"{name} must be 2-D [n, d], got shape {tuple(t.shape)}")
    if t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)})")
    t = t.detach().to("cpu", torch.float64)
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or inf")
    return t


def l2_normalize(t: torch.Tensor, name: str) -> torch.Tensor:
    import torch

    norms = t.norm(dim=1, keepdim=True)
    if (norms == 0).any():
        bad = torch.nonzero(norms.squeeze(1) == 0).flatten().tolist()
        raise ValueError(f"{name} has all-zero rows {bad} (zero vectors); cosine similarity is undefined")
    return t / norms


def unit_rows(x, name: str) -> torch.Tensor:
    """Rows of a 2-D tensor/array as float64 unit vectors (strict checks, see above)."""
    return l2_normalize(as_float64_matrix(x, name), name)
