"""CLIP similarity scores of frames: frame-text (CLIP score, CLIPSIM) and frame-frame (Frame Consistency).

All functions take CLIP embeddings (any scale; they are L2-normalised here, in float64) and return
plain floats or arrays:

* :func:`frame_text_cosines`: ``cos(e_i, t) = <e_i, t> / (|e_i| |t|)`` for every frame ``i``.
* :func:`clip_score_torchmetrics`: MovieBench's per-shot CLIP score, as its script computes it with
  ``torchmetrics.multimodal.CLIPScore`` on one shot's frames: ``max(0, mean_i 100 cos(e_i, t))``
  (torchmetrics clamps the *mean* of the batch at 0, not each frame).
* :func:`clip_score_pairs`: the ``clip-score`` package (v0.1.x) per image-text pair:
  ``logit_scale * cos(e_i, t)`` with the model's ``exp(logit_scale)`` (100 for OpenAI CLIP), no clamp;
  the package then averages over all pairs.
* :func:`clipsim`: CLIPSIM (Wu et al. 2021, GODIVA; VideoStudio Sec. 4.2): ``mean_i cos(e_i, t)``,
  a raw cosine (VideoStudio prints e.g. 0.3304).
* :func:`frame_consistency`: VideoStudio's Frame Consistency (Sec. 4.2, Table 2):
  ``100 * mean_{i=1..N-1} cos(e_i, e_{i+1})`` over consecutive frames of one video.
"""

from __future__ import annotations

import numpy as np


def _rows(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty [N, d] array, got shape {np.shape(x)}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"{name} has an all-zero embedding; its cosine is undefined")
    return a / norms


def frame_text_cosines(image_emb, text_emb) -> np.ndarray:
    """``[N]`` cosines between each frame embedding (rows of ``image_emb``) and one text embedding.

    >>> frame_text_cosines([[1.0, 0.0], [1.0, 1.0]], [2.0, 0.0]).round(4).tolist()
    [1.0, 0.7071]
    """
    img = _rows(image_emb, "image_emb")
    txt = _rows(text_emb, "text_emb")
    if txt.shape[0] != 1 or txt.shape[1] != img.shape[1]:
        raise ValueError(f"text_emb must be one [{img.shape[1]}] vector, got shape {np.shape(text_emb)}")
    return img @ txt[0]


def clip_score_torchmetrics(image_emb, text_emb) -> float:
    """``max(0, mean_i 100 cos(e_i, t))``: torchmetrics ``CLIPScore`` on one batch of frames with one
    caption each, the per-shot value of MovieBench's ``metrics/Metric_1_clip_score.py``.

    >>> clip_score_torchmetrics([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0])
    50.0
    >>> clip_score_torchmetrics([[-1.0, 0.0]], [1.0, 0.0])
    0.0
    """
    return max(0.0, float(100.0 * frame_text_cosines(image_emb, text_emb).mean()))


def clip_score_pairs(image_emb, text_emb, logit_scale: float = 100.0) -> np.ndarray:
    """``[N]`` per-pair scores ``logit_scale * cos(e_i, t)`` of the ``clip-score`` package v0.1.x
    (Taited/clip-score, ``calculate_clip_score``; ``logit_scale`` is ``model.logit_scale.exp()``).

    >>> clip_score_pairs([[1.0, 0.0], [-1.0, 0.0]], [1.0, 0.0]).tolist()
    [100.0, -100.0]
    """
    return float(logit_scale) * frame_text_cosines(image_emb, text_emb)


def clipsim(image_emb, text_emb) -> float:
    """CLIPSIM: ``mean_i cos(e_i, t)`` over the frames of a video (GODIVA; VideoStudio Tables 1, 5).

    >>> clipsim([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0])
    0.5
    """
    return float(frame_text_cosines(image_emb, text_emb).mean())


def consecutive_cosines(image_emb) -> np.ndarray:
    """``[N - 1]`` cosines ``cos(e_i, e_{i+1})`` of consecutive frames (needs ``N >= 2``).

    >>> consecutive_cosines([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]).tolist()
    [1.0, 0.0]
    """
    e = _rows(image_emb, "image_emb")
    if e.shape[0] < 2:
        raise ValueError(f"frame consistency needs at least 2 frames, got {e.shape[0]}")
    return (e[:-1] * e[1:]).sum(axis=1)


def frame_consistency(image_emb) -> float:
    """VideoStudio Frame Consistency of one video: ``100 * mean_i cos(e_i, e_{i+1})``.

    >>> frame_consistency([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    50.0
    """
    return float(100.0 * consecutive_cosines(image_emb).mean())
