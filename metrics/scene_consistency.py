"""Scene Consistency: the same scripted entity, detected and cropped in each scene, compared across scenes.

VideoStudio (Long et al., 2024, Sec. 4.2, Tables 4-5 "Scene Consis.") detects the common entities of a
script with Grounding-DINO and averages the CLIP similarity of the same entity across scenes; it follows
VideoDirectorGPT (Lin et al., 2023, Sec. 4 "multi-scene object temporal consistency" and App. F.3),
whose definition, for one target entity in ``N`` scenes, is

    C = 1/(N-1) * sum_{n=1}^{N-1} cos(e_n, e_{n+1})

with ``e_n`` the CLIP (ViT-B/32) image embedding of the entity's detected box in the centre frame of
scene ``n``. Both papers report ``100 * C``. This module holds that math and the detection
post-processing it needs (no models, no file IO):

* :func:`best_detection` keeps a Grounding-DINO query when its confidence (the maximum over text tokens
  of the sigmoid logits) exceeds ``box_threshold`` and one of the entity's own tokens exceeds
  ``text_threshold``, and returns the most confident kept query over all searched frames;
* :func:`box_to_crop` turns its normalised ``(cx, cy, w, h)`` box into integer pixel crop bounds;
* :func:`entity_consistency` and :func:`scene_consistency` compute the similarity above for one entity
  and for all the common entities of an item.

Where the papers are silent, the choice is an option: ``pairs`` (``"adjacent"`` as VideoDirectorGPT,
or ``"all"`` pairs), ``missing`` (a scene where the entity is scripted but not detected is skipped, so
adjacency is between successive detected appearances, or counts as similarity 0) and ``average``
(mean over entities of the per-entity mean, or mean over all compared pairs of the item).
All arithmetic is float64.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from metrics._validate import unit_rows

if TYPE_CHECKING:
    import torch

PAIR_MODES = ("adjacent", "all")
MISSING_MODES = ("skip", "zero")
AVERAGE_MODES = ("entities", "pairs")


@dataclass(frozen=True)
class Detection:
    """The kept Grounding-DINO query: frame and query index, its confidence, the best score of the
    entity's own tokens, and the box as normalised ``(cx, cy, w, h)``."""

    frame: int
    query: int
    score: float
    entity_score: float
    box: tuple[float, float, float, float]


def best_detection(probs, boxes, entity_positions: Sequence[int], box_threshold: float = 0.35,
                   text_threshold: float = 0.25) -> Detection | None:
    """The most confident detection of one entity over ``F`` frames, or None if no query passes.

    ``probs[F, Q, L]``: sigmoid of Grounding-DINO's token logits (positions outside the prompt are 0);
    ``boxes[F, Q, 4]``: normalised ``(cx, cy, w, h)``; ``entity_positions``: the token positions of the
    entity's words in the prompt. A query's confidence is ``max_l probs[f, q, l]`` (as Grounding-DINO's
    ``predict`` and transformers' ``post_process_grounded_object_detection``); it is kept when the
    confidence is ``> box_threshold`` and ``max_{l in entity} probs[f, q, l] > text_threshold``. Among
    kept queries the highest confidence wins (ties: the earliest frame, then the lowest query index).

    >>> import torch
    >>> p = torch.zeros(1, 2, 4); p[0, 0, 1] = 0.3; p[0, 1, 1] = 0.8
    >>> b = torch.tensor([[[0.5, 0.5, 0.2, 0.2], [0.25, 0.5, 0.5, 1.0]]])
    >>> d = best_detection(p, b, [1])
    >>> d.query, round(d.score, 2), d.box
    (1, 0.8, (0.25, 0.5, 0.5, 1.0))
    >>> best_detection(p, b, [1], box_threshold=0.9) is None
    True
    """
    import torch

    p = torch.as_tensor(np.asarray(probs) if not isinstance(probs, torch.Tensor) else probs).double()
    b = torch.as_tensor(np.asarray(boxes) if not isinstance(boxes, torch.Tensor) else boxes).double()
    if p.ndim != 3:
        raise ValueError(f"probs must be [frames, queries, tokens], got shape {tuple(p.shape)}")
    if b.shape != (*p.shape[:2], 4):
        raise ValueError(f"boxes must be [frames, queries, 4] = {(*p.shape[:2], 4)}, got {tuple(b.shape)}")
    pos = [int(i) for i in entity_positions]
    if not pos or min(pos) < 0 or max(pos) >= p.shape[2]:
        raise ValueError(f"entity_positions {pos} must be non-empty token positions in [0, {p.shape[2]})")
    score = p.max(dim=2).values
    entity = p[:, :, pos].max(dim=2).values
    keep = (score > box_threshold) & (entity > text_threshold)
    if not bool(keep.any()):
        return None
    flat = torch.where(keep, score, torch.full_like(score, -1.0)).flatten()
    k = int(torch.argmax(flat))  # first maximal index: earliest frame, lowest query
    f, q = divmod(k, p.shape[1])
    return Detection(f, q, float(score[f, q]), float(entity[f, q]), tuple(float(v) for v in b[f, q]))


def box_to_crop(box, width: int, height: int) -> tuple[int, int, int, int]:
    """Pixel crop bounds ``(x0, y0, x1, y1)`` (``x1``/``y1`` exclusive) of a normalised ``(cx, cy, w, h)`` box.

    Corners ``(cx -/+ w/2) * width`` and ``(cy -/+ h/2) * height`` (transformers' ``center_to_corners``
    scaled to the frame), clipped to the frame and rounded to the nearest integer (as PIL's
    ``Image.crop`` rounds a float box); a box thinner than one pixel is widened to one pixel.

    >>> box_to_crop((0.5, 0.5, 0.5, 0.25), 64, 48)
    (16, 18, 48, 30)
    >>> box_to_crop((0.95, 0.5, 0.3, 0.1), 100, 100)
    (80, 45, 100, 55)
    """
    cx, cy, w, h = (float(v) for v in box)
    if width < 1 or height < 1:
        raise ValueError(f"frame size must be positive, got {width}x{height}")

    def span(lo: float, hi: float, size: int) -> tuple[int, int]:
        a = int(round(min(max(lo, 0.0), float(size))))
        z = int(round(min(max(hi, 0.0), float(size))))
        if z <= a:
            a, z = (a, a + 1) if a < size else (size - 1, size)
        return a, z

    x0, x1 = span((cx - w / 2) * width, (cx + w / 2) * width, width)
    y0, y1 = span((cy - h / 2) * height, (cy + h / 2) * height, height)
    return x0, y0, x1, y1


def _pairs(n: int, mode: str) -> list[tuple[int, int]]:
    if mode == "adjacent":
        return [(i, i + 1) for i in range(n - 1)]
    if mode == "all":
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    raise ValueError(f"pairs must be one of {PAIR_MODES}, got {mode!r}")


def entity_pair_similarities(embeddings: Sequence, pairs: str = "adjacent", missing: str = "skip") -> list[float]:
    """Cosine similarities of one entity's compared scene pairs.

    ``embeddings``: one entry per scene in which the entity is scripted, in scene order: its crop
    embedding ``[d]``, or None when it was not detected. ``missing="skip"`` drops undetected scenes
    first (pairs are then formed over the detected appearances); ``"zero"`` keeps them and gives every
    pair that involves one a similarity of 0.

    >>> e = [np.array([1.0, 0.0]), None, np.array([0.0, 1.0]), np.array([0.0, 2.0])]
    >>> entity_pair_similarities(e)
    [0.0, 1.0]
    >>> entity_pair_similarities(e, missing="zero")
    [0.0, 0.0, 1.0]
    """
    if missing not in MISSING_MODES:
        raise ValueError(f"missing must be one of {MISSING_MODES}, got {missing!r}")
    seq = [e for e in embeddings if e is not None] if missing == "skip" else list(embeddings)
    present = [i for i, e in enumerate(seq) if e is not None]
    unit: dict[int, torch.Tensor] = {}
    if present:
        rows = unit_rows(np.stack([np.asarray(seq[i], dtype=np.float64).reshape(-1) for i in present]),
                         "embeddings")
        unit = dict(zip(present, rows))
    return [float(unit[i] @ unit[j]) if i in unit and j in unit else 0.0 for i, j in _pairs(len(seq), pairs)]


def entity_consistency(embeddings: Sequence, pairs: str = "adjacent", missing: str = "skip") -> float | None:
    """``100 *`` the mean cosine similarity of one entity's compared scene pairs, or None if there is no pair.

    With ``pairs="adjacent"`` and every scene detected this is VideoDirectorGPT's
    ``100/(N-1) * sum_n cos(e_n, e_{n+1})``.

    >>> round(entity_consistency([np.array([1.0, 0.0]), np.array([1.0, 1.0]), np.array([0.0, 1.0])]), 4)
    70.7107
    >>> entity_consistency([np.array([1.0, 0.0]), None]) is None
    True
    """
    sims = entity_pair_similarities(embeddings, pairs, missing)
    return 100.0 * float(np.mean(sims)) if sims else None


@dataclass(frozen=True)
class SceneConsistencyResult:
    """The item's value (None when no entity has a compared pair), each entity's value and pair count."""

    value: float | None
    per_entity: dict[str, float | None]
    n_pairs: dict[str, int]


def scene_consistency(per_entity: Mapping[str, Sequence], pairs: str = "adjacent", missing: str = "skip",
                      average: str = "entities") -> SceneConsistencyResult:
    """Scene Consistency ``x100`` of an item from each common entity's per-scene crop embeddings.

    ``per_entity`` maps an entity to its embeddings (or None) in the scenes where it is scripted, in
    scene order (see :func:`entity_pair_similarities`). ``average="entities"``: mean over the entities
    that have at least one compared pair of their :func:`entity_consistency`; ``"pairs"``: mean over all
    compared pairs of all entities. An item whose entities have no compared pair has value None.

    >>> a = [np.array([1.0, 0.0]), np.array([1.0, 0.0])]                          # one pair, cos 1
    >>> b = [np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.0, 1.0])]     # two pairs, cos 0 and 1
    >>> scene_consistency({"dog": a, "ball": b}).value
    75.0
    >>> round(scene_consistency({"dog": a, "ball": b}, average="pairs").value, 4)
    66.6667
    """
    if average not in AVERAGE_MODES:
        raise ValueError(f"average must be one of {AVERAGE_MODES}, got {average!r}")
    sims = {name: entity_pair_similarities(embs, pairs, missing) for name, embs in per_entity.items()}
    values = {name: (100.0 * float(np.mean(s)) if s else None) for name, s in sims.items()}
    if average == "entities":
        defined = [v for v in values.values() if v is not None]
        value = float(np.mean(defined)) if defined else None
    else:
        pooled = [x for s in sims.values() for x in s]
        value = 100.0 * float(np.mean(pooled)) if pooled else None
    return SceneConsistencyResult(value, values, {name: len(s) for name, s in sims.items()})
