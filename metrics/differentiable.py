"""Differentiable versions of the metric formulas: same formulas, torch tensors in and out, the input's
dtype and device kept, gradients flowing to the embeddings (for a loss, a reward or a guidance term).

Which is which:

* the **exact** functions (:func:`metrics.visual_consistency`, :func:`metrics.confusion_degree`,
  :func:`metrics.frechet_distance`, ...) detach their inputs, compute in float64 on the CPU and return
  Python floats. They are what ``mvbench evaluate`` reports.
* the ``*_differentiable`` functions here compute the same formula with torch operations on the given
  tensors and return a 0-d tensor. In float64 they equal the exact functions up to rounding (the tests
  check 1e-10); in float32 / bfloat16 they are as precise as that dtype. Input checks are the same
  (shapes, zero vectors), except the finiteness check, which would need a device sync.

Gradient caveats: the cosine-based metrics are smooth wherever no embedding is zero. Confusion
Degree is piecewise smooth (``max(0, .)`` and the degenerate-prompt test are not differentiable at
their kinks; the degenerate mask is treated as a constant). The Fréchet distance needs symmetric
eigen-decompositions, whose gradients are finite only when the eigenvalues are distinct and
positive: fit the Gaussians on more samples than feature dimensions.
"""

from __future__ import annotations

import math

import torch

from metrics.consistency import PAIR_MODES

__all__ = [
    "confusion_degree_differentiable",
    "frame_text_consistency_differentiable",
    "frechet_distance_differentiable",
    "gaussian_fit_differentiable",
    "semantic_consistency_differentiable",
    "sequence_consistency_differentiable",
    "video_text_consistency_differentiable",
    "visual_consistency_differentiable",
]


def _matrix(x: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor (the differentiable metrics keep dtype and device)")
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D tensor [n, d], got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating point, got {x.dtype}")
    return x


def _unit_rows(x: torch.Tensor, name: str) -> torch.Tensor:
    x = _matrix(x, name)
    norms = x.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        bad = torch.nonzero(norms.squeeze(1) == 0).flatten().tolist()
        raise ValueError(f"{name} has all-zero rows {bad} (zero vectors); cosine similarity is undefined")
    return x / norms


def visual_consistency_differentiable(video_emb: torch.Tensor, pairs: str = "all") -> torch.Tensor:
    """Visual Consistency (Mask²DiT Sec. 4.1) as a differentiable 0-d tensor:
    ``100 * mean_{i<j} cos(v_i, v_j)`` (``pairs="consecutive"``: pairs ``(k, k+1)`` only).

    >>> v = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64, requires_grad=True)
    >>> vc = visual_consistency_differentiable(v)
    >>> round(vc.item(), 4), vc.requires_grad
    (70.7107, True)
    """
    v = _unit_rows(video_emb, "video_emb")
    n = v.shape[0]
    if n < 2:
        raise ValueError(f"visual consistency needs at least 2 scenes, got {n}")
    sim = v @ v.T
    if pairs == "all":
        i, j = torch.triu_indices(n, n, offset=1, device=v.device)
        vals = sim[i, j]
    elif pairs == "consecutive":
        vals = torch.diagonal(sim, offset=1)
    else:
        raise ValueError(f"pairs must be one of {PAIR_MODES}, got {pairs!r}")
    return vals.mean() * 100.0


def semantic_consistency_differentiable(video_emb: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
    """Semantic Consistency (Mask²DiT Sec. 4.1) as a differentiable 0-d tensor: ``100 * mean_k cos(v_k, t_k)``.

    >>> v = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    >>> float(semantic_consistency_differentiable(v, v))
    100.0
    """
    v = _unit_rows(video_emb, "video_emb")
    t = _unit_rows(text_emb, "text_emb")
    if v.shape != t.shape:
        raise ValueError(f"video_emb {tuple(v.shape)} and text_emb {tuple(t.shape)} must have the same shape")
    return (v * t).sum(dim=1).mean() * 100.0


def sequence_consistency_differentiable(video_emb: torch.Tensor, text_emb: torch.Tensor,
                                        pairs: str = "all") -> torch.Tensor:
    """Sequence Consistency (Mask²DiT Sec. 4.1): ``(VC + SC) / 2`` of one item, differentiable.

    >>> v = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    >>> float(sequence_consistency_differentiable(v, v))
    100.0
    """
    return (visual_consistency_differentiable(video_emb, pairs)
            + semantic_consistency_differentiable(video_emb, text_emb)) / 2.0


def video_text_consistency_differentiable(global_text_emb: torch.Tensor, video_emb: torch.Tensor) -> torch.Tensor:
    """Video-level text-video consistency (frame-level captions paper, Eq. 2): ``cos(Phi_T(P_g), Phi_V(V))``.

    >>> a = torch.tensor([3.0, 4.0], dtype=torch.float64)
    >>> float(video_text_consistency_differentiable(a, a))
    1.0
    """
    if global_text_emb.ndim != 1 or global_text_emb.shape != video_emb.shape:
        raise ValueError(f"expected two [d] vectors, got {tuple(global_text_emb.shape)} and {tuple(video_emb.shape)}")
    a = _unit_rows(global_text_emb.unsqueeze(0), "global_text_emb")
    b = _unit_rows(video_emb.unsqueeze(0), "video_emb")
    return (a * b).sum()


def frame_text_consistency_differentiable(text_emb: torch.Tensor, segment_emb: torch.Tensor) -> torch.Tensor:
    """Frame-level text-video consistency: ``(1/F) sum_i cos(Phi_T(P_i), Phi_V(V_i))``.

    >>> t = torch.eye(2, dtype=torch.float64)
    >>> float(frame_text_consistency_differentiable(t, t))
    1.0
    """
    a = _unit_rows(text_emb, "text_emb")
    b = _unit_rows(segment_emb, "segment_emb")
    if a.shape != b.shape:
        raise ValueError(f"text_emb {tuple(a.shape)} and segment_emb {tuple(b.shape)} must have the same shape")
    return (a * b).sum(dim=1).mean()


def confusion_degree_differentiable(text_emb: torch.Tensor, segment_emb: torch.Tensor, eps: float = 0.01,
                                    degenerate: str = "exclude") -> torch.Tensor:
    """Confusion Degree (frame-level captions paper, Eq. 3-5) as a differentiable 0-d tensor; same
    normalisation and degenerate-prompt policy as :func:`metrics.confusion_degree` (``exclude``: NaN when
    every prompt is degenerate).

    ``CD = (1/F) sum_i sum_j max(0, S_TF(P_i, V_j) / S_TF(P_i, V_i) - S_TT(P_i, P_j) / S_TT(P_i, P_i))``

    >>> t = torch.eye(3, dtype=torch.float64)
    >>> float(confusion_degree_differentiable(t, t))  # every segment shows only its own prompt
    0.0
    """
    if degenerate not in ("exclude", "floor"):
        raise ValueError(f"degenerate must be 'exclude' or 'floor', got {degenerate!r}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    t = _unit_rows(text_emb, "text_emb")
    s = _unit_rows(segment_emb, "segment_emb")
    if t.shape != s.shape:
        raise ValueError(f"text_emb {tuple(t.shape)} and segment_emb {tuple(s.shape)} must have the same shape [F, d]")
    s_tt = t @ t.T
    s_tf = t @ s.T
    s_tt_norm = s_tt / torch.diagonal(s_tt).unsqueeze(1)
    diag = torch.diagonal(s_tf)
    is_degenerate = (diag < eps).detach()
    normaliser = torch.where(is_degenerate, torch.full_like(diag, eps), diag)
    per_prompt = torch.clamp(s_tf / normaliser.unsqueeze(1) - s_tt_norm, min=0.0).sum(dim=1)
    if degenerate == "floor":
        return per_prompt.mean()
    usable = per_prompt[~is_degenerate]
    if usable.numel() == 0:
        return torch.full((), math.nan, dtype=per_prompt.dtype, device=per_prompt.device)
    return usable.mean()


def gaussian_fit_differentiable(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``[d]`` and unbiased covariance ``[d, d]`` (divisor ``n - 1``, as ``numpy.cov``) of the rows of
    ``features`` ``[n, d]`` (n >= 2), differentiable.

    >>> mu, sigma = gaussian_fit_differentiable(torch.tensor([[0.0], [2.0]], dtype=torch.float64))
    >>> float(mu[0]), float(sigma[0, 0])
    (1.0, 2.0)
    """
    x = _matrix(features, "features")
    if x.shape[0] < 2:
        raise ValueError(f"the covariance needs at least 2 features, got {x.shape[0]}")
    mu = x.mean(dim=0)
    xc = x - mu
    return mu, xc.T @ xc / (x.shape[0] - 1)


def _safe_sqrt(w: torch.Tensor) -> torch.Tensor:
    """``sqrt(max(w, 0))`` with a zero (not infinite) gradient where ``w <= 0``."""
    positive = w > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, w, torch.ones_like(w))), torch.zeros_like(w))


def _psd_sqrt(sigma: torch.Tensor) -> torch.Tensor:
    w, v = torch.linalg.eigh((sigma + sigma.T) / 2.0)
    return (v * _safe_sqrt(w)) @ v.T


def frechet_distance_differentiable(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor,
                                    sigma2: torch.Tensor) -> torch.Tensor:
    """Squared Fréchet distance (FVD / FID formula, Unterthiner et al. 2019; Heusel et al. 2017) as a
    differentiable 0-d tensor, computed like :func:`metrics.frechet_distance`:
    ``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((A S2 A)^(1/2))`` with ``A = S1^(1/2)`` from symmetric
    eigen-decompositions (negative rounding eigenvalues set to 0), clipped at 0 from below.

    >>> mu, s = torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64)
    >>> float(frechet_distance_differentiable(mu, s, mu + 1.0, s))
    2.0
    """
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    if mu1.ndim != 1 or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(f"shape mismatch: mu1 {tuple(mu1.shape)}, sigma1 {tuple(sigma1.shape)}, "
                         f"mu2 {tuple(mu2.shape)}, sigma2 {tuple(sigma2.shape)}")
    diff = mu1 - mu2
    a = _psd_sqrt(sigma1)
    m = a @ sigma2 @ a
    trace_sqrt = _safe_sqrt(torch.linalg.eigvalsh((m + m.T) / 2.0)).sum()
    value = diff @ diff + torch.trace(sigma1) + torch.trace(sigma2) - 2.0 * trace_sqrt
    return torch.clamp(value, min=0.0)
