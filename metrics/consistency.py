"""Visual, Semantic and Sequence Consistency of a multi-scene video (Mask²DiT, Sec. 4.1, Tab. 1).

With ``v_k`` the (ViCLIP) video embedding of scene ``k`` and ``t_k`` the text embedding of its
prompt, all L2-normalised, for an item of ``n`` scenes:

* Visual Consistency  ``VC = 100 * mean_{i<j} cos(v_i, v_j)`` (all pairs; option: only the
  consecutive pairs ``(k, k+1)``),
* Semantic Consistency ``SC = 100 * mean_k cos(v_k, t_k)``,
* Sequence Consistency ``SeqC = (VC + SC) / 2``.

All arithmetic is float64.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metrics._validate import as_float64_matrix, l2_normalize

if TYPE_CHECKING:
    import torch

PAIR_MODES = ("all", "consecutive")


def visual_consistency(video_emb, pairs: str = "all") -> float:
    """Mean pairwise cosine similarity ×100 between the scene embeddings ``video_emb[n, d]`` (n >= 2)."""
    import torch

    v = l2_normalize(as_float64_matrix(video_emb, "video_emb"), "video_emb")
    n = v.shape[0]
    if n < 2:
        raise ValueError(f"visual consistency needs at least 2 scenes, got {n}")
    sim = v @ v.T
    if pairs == "all":
        i, j = torch.triu_indices(n, n, offset=1)
        vals = sim[i, j]
    elif pairs == "consecutive":
        vals = torch.diagonal(sim, offset=1)
    else:
        raise ValueError(f"pairs must be one of {PAIR_MODES}, got {pairs!r}")
    return float(vals.mean() * 100.0)


def scene_similarity_matrix(video_emb) -> torch.Tensor:
    """Cosine similarity ×100 of every pair of scene embeddings ``video_emb[n, d]``: the ``[n, n]``
    matrix ``S_ij = 100 * cos(v_i, v_j)`` whose upper-triangle mean is Visual Consistency (Mask²DiT
    Sec. 4.1) and whose first super-diagonal is the consecutive-pair variant. The diagonal is 100.

    >>> scene_similarity_matrix([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]).round(decimals=2).tolist()
    [[100.0, 70.71, 0.0], [70.71, 100.0, 70.71], [0.0, 70.71, 100.0]]
    """
    v = l2_normalize(as_float64_matrix(video_emb, "video_emb"), "video_emb")
    return (v @ v.T) * 100.0


def semantic_consistency(video_emb, text_emb) -> float:
    """Mean cosine similarity ×100 between each scene's video embedding and its prompt's text embedding."""
    v = l2_normalize(as_float64_matrix(video_emb, "video_emb"), "video_emb")
    t = l2_normalize(as_float64_matrix(text_emb, "text_emb"), "text_emb")
    if v.shape != t.shape:
        raise ValueError(f"video_emb {tuple(v.shape)} and text_emb {tuple(t.shape)} must have the same shape")
    return float((v * t).sum(dim=1).mean() * 100.0)


def sequence_consistency(visual: float, semantic: float) -> float:
    """Mean of Visual and Semantic Consistency (Mask²DiT Sec. 4.1)."""
    return (float(visual) + float(semantic)) / 2.0
