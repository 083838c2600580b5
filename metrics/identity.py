"""Character-ID consistency: Precision_ID, Recall_ID and F1_ID over shots (MovieBench, Sec. 3.5).

For shots ``i = 1..n`` with recognised characters ``C_i^pred`` and scripted characters ``C_i^gt``
(MovieBench Sec. 3.5 and Table 9)::

    TP = sum_i |C_i^pred ∩ C_i^gt|      FP = sum_i |C_i^pred \\ C_i^gt|      FN = sum_i |C_i^gt \\ C_i^pred|
    Precision_ID = TP / (TP + FP)       Recall_ID = TP / (TP + FN)
    F1_ID = 2 * Precision_ID * Recall_ID / (Precision_ID + Recall_ID)

The counts are micro-summed over all shots before dividing (not a mean of per-shot scores).

Empty denominators: a ratio whose denominator is 0 (no predictions at all for precision, no
scripted characters at all for recall, precision + recall = 0 for F1) takes the value
``zero_division`` (default ``0.0``, as MovieBench's published script does; pass ``float("nan")``
to mark it undefined instead). Values are fractions in [0, 1]; multiply by 100 for the tables.

Character similarity (after ViStoryBench's character identity similarity, CIDS "cross" score): per
frame, each scripted character takes the detected face most similar to its portraits among the faces
not more similar to another scripted character (:func:`assign_faces`); its similarity is the mean
cosine between that face and its portraits, 0 when it has no face (:func:`frame_character_similarity`);
a shot averages its frames (:func:`shot_character_similarity`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class IdCounts:
    """True positives, false positives and false negatives of one or more shots."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: IdCounts) -> IdCounts:
        return IdCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


@dataclass(frozen=True)
class IdScores:
    """Micro-summed counts, the three ratios, and the same counts per character name."""

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    per_character: dict[str, IdCounts] = field(default_factory=dict)

    @property
    def counts(self) -> IdCounts:
        return IdCounts(self.tp, self.fp, self.fn)


def shot_counts(pred: Iterable[str], gt: Iterable[str]) -> IdCounts:
    """``(|pred ∩ gt|, |pred \\ gt|, |gt \\ pred|)`` of one shot; duplicates count once (sets)."""
    p, g = set(pred), set(gt)
    return IdCounts(len(p & g), len(p - g), len(g - p))


def _ratio(num: float, den: float, zero_division: float) -> float:
    return float(num) / float(den) if den > 0 else float(zero_division)


def precision_recall_f1(tp: float, fp: float, fn: float, zero_division: float = 0.0) -> tuple[float, float, float]:
    """Precision, recall and F1 from (possibly summed) counts; see the module docstring."""
    if min(tp, fp, fn) < 0:
        raise ValueError(f"counts must be non-negative, got tp={tp}, fp={fp}, fn={fn}")
    precision = _ratio(tp, tp + fp, zero_division)
    recall = _ratio(tp, tp + fn, zero_division)
    if np.isnan(precision) or np.isnan(recall):
        return precision, recall, float(zero_division)
    f1 = _ratio(2.0 * precision * recall, precision + recall, zero_division)
    return precision, recall, f1


def id_scores(pred_sets: Sequence[Iterable[str]], gt_sets: Sequence[Iterable[str]],
              zero_division: float = 0.0) -> IdScores:
    """Precision_ID / Recall_ID / F1_ID of shots, counts micro-summed (MovieBench Sec. 3.5, Table 9).

    ``pred_sets[i]`` and ``gt_sets[i]`` are the recognised and the scripted character names of
    shot ``i``. ``per_character[name]`` holds the counts restricted to that name (its TP/FP/FN
    over all shots); summing them over names gives the totals.
    """
    if len(pred_sets) != len(gt_sets):
        raise ValueError(f"id_scores got {len(pred_sets)} predicted sets but {len(gt_sets)} ground-truth sets")
    total = IdCounts()
    per_char: dict[str, list[int]] = {}
    for pred, gt in zip(pred_sets, gt_sets):
        p, g = set(pred), set(gt)
        total = total + shot_counts(p, g)
        for name in p | g:
            row = per_char.setdefault(name, [0, 0, 0])
            row[0] += name in p and name in g
            row[1] += name in p and name not in g
            row[2] += name in g and name not in p
    precision, recall, f1 = precision_recall_f1(total.tp, total.fp, total.fn, zero_division)
    per_character = {name: IdCounts(*row) for name, row in sorted(per_char.items())}
    return IdScores(total.tp, total.fp, total.fn, precision, recall, f1, per_character)


def id_scores_bootstrap(counts, n_resamples: int = 1000, seed: int = 0, confidence: float = 0.95,
                        zero_division: float = 0.0) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap CIs of micro-summed precision / recall / F1 over items.

    ``counts`` is ``[n_items, 3]`` (TP, FP, FN of each item, already summed over its shots). Each
    resample draws ``n_items`` items with replacement (``numpy.random.default_rng(seed)``), sums
    their counts and recomputes the three ratios, so the interval is of the micro-averaged metric
    itself. Returns ``{"precision": (lo, hi), "recall": ..., "f1": ...}`` as fractions.
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != 3 or c.shape[0] == 0:
        raise ValueError(f"counts must be a non-empty [n_items, 3] array of TP, FP, FN, got shape {c.shape}")
    if (c < 0).any():
        raise ValueError("counts must be non-negative")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if c.shape[0] == 1:
        p, r, f = precision_recall_f1(*c[0], zero_division=zero_division)
        return {"precision": (p, p), "recall": (r, r), "f1": (f, f)}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, c.shape[0], size=(n_resamples, c.shape[0]))
    sums = c[idx].sum(axis=1)  # [n_resamples, 3]
    tp, fp, fn = sums[:, 0], sums[:, 1], sums[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(tp + fp > 0, tp / np.where(tp + fp > 0, tp + fp, 1), zero_division)
        r = np.where(tp + fn > 0, tp / np.where(tp + fn > 0, tp + fn, 1), zero_division)
        f = np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1), zero_division)
    alpha = (1.0 - confidence) / 2.0
    out = {}
    for name, vals in (("precision", p), ("recall", r), ("f1", f)):
        lo, hi = np.nanquantile(vals, [alpha, 1.0 - alpha]) if np.isfinite(vals).any() else (np.nan, np.nan)
        out[name] = (float(lo), float(hi))
    return out


# ---------------------------------------------------------------------------------------------------
# Character similarity to the reference portraits (ViStoryBench's character-identity similarity idea)
# ---------------------------------------------------------------------------------------------------


def cosine_matrix(a, b) -> np.ndarray:
    """Cosine similarities ``[m, n]`` between rows of ``a`` ``[m, d]`` and rows of ``b`` ``[n, d]`` (float64).

    A zero row has similarity 0 with everything.

    >>> cosine_matrix([[1.0, 0.0]], [[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]]).tolist()
    [[1.0, 0.0, -1.0]]
    """
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(b, dtype=np.float64))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"embedding sizes differ: {a.shape[1]} vs {b.shape[1]}")
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    an = np.divide(a, na, out=np.zeros_like(a), where=na > 0)
    bn = np.divide(b, nb, out=np.zeros_like(b), where=nb > 0)
    return an @ bn.T


#: a face is "closer to another character" only by more than this (float noise on exact ties)
TIE_TOLERANCE = 1e-9


def assign_faces(faces, portraits: dict, scripted: Iterable[str]) -> dict[str, int | None]:
    """Which detected face stands for each scripted character (ViStoryBench's CIDS matching rule).

    ``faces`` ``[k, d]`` are the face embeddings of one frame, ``portraits[c]`` ``[n_c, d]`` the bank
    embeddings of character ``c``. With ``s_c(f) = max_p cos(f, p)`` over ``c``'s portraits, character
    ``c`` takes, among the faces not closer to another scripted character (``s_c'(f) > s_c(f)`` for
    some scripted ``c' != c``, by more than :data:`TIE_TOLERANCE`), the one with the highest ``s_c``;
    ``None`` when there is no such face. A face equally close to two characters may serve both.
    Scripted characters without portraits are not assigned (and not in the result).

    >>> faces = [[1.0, 0.1], [0.1, 1.0]]
    >>> assign_faces(faces, {"A": [[1.0, 0.0]], "B": [[0.0, 1.0]]}, ["A", "B"])
    {'A': 0, 'B': 1}
    >>> assign_faces([[0.1, 1.0]], {"A": [[1.0, 0.0]], "B": [[0.0, 1.0]]}, ["A", "B"])  # only B on screen
    {'A': None, 'B': 0}
    """
    names = [c for c in dict.fromkeys(scripted) if c in portraits and len(np.atleast_2d(portraits[c])) > 0]
    f = np.asarray(faces, dtype=np.float64)
    if f.size == 0:
        return {c: None for c in names}
    best = {c: cosine_matrix(f, portraits[c]).max(axis=1) for c in names}  # c -> [k]
    out: dict[str, int | None] = {}
    for c in names:
        rivals = [best[o] for o in names if o != c]
        eligible = np.ones(len(f), dtype=bool)
        for r in rivals:
            eligible &= ~(r > best[c] + TIE_TOLERANCE)
        if not eligible.any():
            out[c] = None
            continue
        scores = np.where(eligible, best[c], -np.inf)
        out[c] = int(np.argmax(scores))
    return out


def frame_character_similarity(faces, portraits: dict, scripted: Iterable[str]) -> dict[str, float]:
    """Per scripted character, the mean cosine between its assigned face and each of its portraits.

    ``sim(c) = (1 / n_c) * sum_p cos(f_c, p)`` with ``f_c`` from :func:`assign_faces`; ``0`` when no face
    is assigned to ``c`` (missing, or every face on screen is closer to another scripted character),
    as ViStoryBench scores an undetected character. Characters without portraits are left out.

    >>> frame_character_similarity([[1.0, 1.0]], {"A": [[1.0, 0.0], [1.0, 1.0]], "B": [[-1.0, 0.0]]}, ["A", "B"])
    {'A': 0.853553, 'B': 0.0}
    """
    f = np.asarray(faces, dtype=np.float64)
    out: dict[str, float] = {}
    for c, j in assign_faces(f, portraits, scripted).items():
        out[c] = 0.0 if j is None else round(float(cosine_matrix(f[j], portraits[c]).mean()), 6)
    return out


def shot_character_similarity(frames_faces: Sequence, portraits: dict, scripted: Iterable[str]) -> dict[str, float]:
    """Per scripted character, :func:`frame_character_similarity` averaged over the shot's frames.

    ``frames_faces[t]`` is the ``[k_t, d]`` face embeddings of frame ``t`` (``k_t`` may be 0).

    >>> shot_character_similarity([[[1.0, 0.0]], []], {"A": [[1.0, 0.0]]}, ["A"])  # seen in 1 of 2 frames
    {'A': 0.5}
    """
    scripted = list(scripted)
    per_frame = [frame_character_similarity(np.asarray(ff, dtype=np.float64).reshape(-1, _dim(portraits)),
                                            portraits, scripted) for ff in frames_faces]
    if not per_frame:
        raise ValueError("a shot needs at least one frame")
    return {c: round(float(np.mean([pf[c] for pf in per_frame])), 6) for c in per_frame[0]}


def _dim(portraits: dict) -> int:
    for v in portraits.values():
        v = np.atleast_2d(np.asarray(v, dtype=np.float64))
        if v.size:
            return v.shape[1]
    return 0


def similarity_bootstrap(sums, counts, n_resamples: int = 1000, seed: int = 0,
                         confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the pooled mean ``sum(sums) / sum(counts)`` resampling items.

    ``sums[i]`` is item ``i``'s sum of per-(shot, character) similarities and ``counts[i]`` how many
    pairs it has; each resample draws items with replacement (``numpy.random.default_rng(seed)``).

    >>> similarity_bootstrap([1.8], [2])
    (0.9, 0.9)
    """
    s = np.asarray(sums, dtype=np.float64)
    n = np.asarray(counts, dtype=np.float64)
    if s.ndim != 1 or s.shape != n.shape or s.size == 0:
        raise ValueError(f"sums and counts must be non-empty 1-d arrays of one length, got {s.shape}, {n.shape}")
    if s.size == 1:
        v = float(s[0] / n[0]) if n[0] > 0 else float("nan")
        return v, v
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, s.size, size=(n_resamples, s.size))
    num, den = s[idx].sum(axis=1), n[idx].sum(axis=1)
    vals = np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)
    if not np.isfinite(vals).any():
        return float("nan"), float("nan")
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.nanquantile(vals, [alpha, 1.0 - alpha])
    return float(lo), float(hi)
