"""Stateful ``torchmetrics.Metric`` classes for the metrics that accumulate over items: update them batch
by batch (in a validation loop, under DDP), and ``compute()`` gives the number ``mvbench evaluate``
reports for the same items.

Every state is a sum (``dist_reduce_fx="sum"``), so ``compute()`` in any number of processes equals a
single process over the union of their inputs, and ``forward()`` returns the value of the batch it
is given while accumulating it (torchmetrics' ``full_state_update = False`` path).

What ``update()`` takes (embeddings, not frames: get them with :func:`mvbench.embed_scenes` /
:func:`mvbench.embed_texts`, which encode exactly as ``mvbench evaluate`` does, or from your own
encoder):

============================  ===============================================================  ==========================
class                          ``update(...)``                                                  ``compute()``
============================  ===============================================================  ==========================
:class:`VisualConsistency`     ``video_emb``: one item ``[n_scenes, d]``, a batch                mean over items of
                               ``[B, n_scenes, d]`` or a list of items                          ``100 * mean_{i<j} cos``
:class:`SemanticConsistency`   ``video_emb, text_emb`` (scene prompts), same layouts            mean of ``100 * mean_k cos``
:class:`SequenceConsistency`   ``video_emb, text_emb``                                           mean of ``(VC + SC) / 2``
:class:`ConfusionDegree`       ``text_emb, segment_emb``: ``[F, d]`` per item (same layouts)     mean CD over items
:class:`FVD`                   ``features [n, d]`` (I3D logits, VideoMAE features), ``real=``    squared Fréchet distance
:class:`CharacterIDScores`     ``predicted, scripted``: one set of names per shot               ``{id_precision, ...}`` x100
============================  ===============================================================  ==========================

As in ``mvbench evaluate``, items with a single scene are left out of Visual and Sequence
Consistency, items with fewer than 2 frame-level prompts (or only degenerate ones) out of
Confusion Degree. ``decimals`` rounds each item's value before it is summed, as the results file
does (``mvbench evaluate`` uses 6), which makes the mean equal to the command's to the last digit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torchmetrics import Metric

from metrics.confusion import DEFAULT_EPS, DEGENERATE_POLICIES, confusion_degree
from metrics.consistency import PAIR_MODES, semantic_consistency, visual_consistency
from metrics.frechet import frechet_distance
from metrics.gaussian_stats import GaussianStats
from metrics.identity import precision_recall_f1, shot_counts

__all__ = ["CharacterIDScores", "ConfusionDegree", "FVD", "SemanticConsistency", "SequenceConsistency",
           "VisualConsistency"]


def _items(x, name: str) -> list[torch.Tensor]:
    """A list of per-item 2-D tensors from one item ``[n, d]``, a batch ``[B, n, d]`` or a list of items."""
    if isinstance(x, (list, tuple)):
        out = [torch.as_tensor(np.asarray(v) if not isinstance(v, torch.Tensor) else v) for v in x]
    else:
        t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
        if t.ndim == 2:
            out = [t]
        elif t.ndim == 3:
            out = list(t.unbind(0))
        else:
            raise ValueError(f"{name} must be one item [n, d], a batch [B, n, d] or a list of items, "
                             f"got shape {tuple(t.shape)}")
    for v in out:
        if v.ndim != 2:
            raise ValueError(f"each item of {name} must be [n, d], got shape {tuple(v.shape)}")
    return out


def _paired(a, b, names: tuple[str, str]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    xs, ys = _items(a, names[0]), _items(b, names[1])
    if len(xs) != len(ys):
        raise ValueError(f"{names[0]} has {len(xs)} item(s) but {names[1]} has {len(ys)}")
    return list(zip(xs, ys))


class _ItemMean(Metric):
    """Mean over items of a per-item value: states ``total`` (float64) and ``count`` (int64), both summed."""

    full_state_update = False
    is_differentiable = False
    higher_is_better = True

    def __init__(self, decimals: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.decimals = decimals
        self.add_state("total", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")

    def _add(self, value: float | None) -> None:
        if value is None:
            return
        if self.decimals is not None:
            value = round(float(value), self.decimals)
        self.total += float(value)
        self.count += 1

    def compute(self) -> torch.Tensor:
        """Mean of the per-item values (float64; NaN when no item had a value)."""
        if int(self.count) == 0:
            return torch.tensor(float("nan"), dtype=torch.float64, device=self.total.device)
        return self.total / self.count


class VisualConsistency(_ItemMean):
    """Visual Consistency (Mask²DiT Sec. 4.1) over items: per item ``100 * mean_{i<j} cos(v_i, v_j)`` of its
    scene video embeddings (``pairs="consecutive"``: pairs ``(k, k+1)`` only), averaged over items with
    at least 2 scenes (:func:`metrics.visual_consistency`, float64).

    >>> m = VisualConsistency()
    >>> m.update(torch.tensor([[1.0, 0.0], [1.0, 0.0]]))    # one item of 2 scenes: 100
    >>> m.update([torch.tensor([[1.0, 0.0], [0.0, 1.0]])])  # a list of items: 0
    >>> float(m.compute())
    50.0
    """

    def __init__(self, pairs: str = "all", decimals: int | None = None, **kwargs) -> None:
        if pairs not in PAIR_MODES:
            raise ValueError(f"pairs must be one of {PAIR_MODES}, got {pairs!r}")
        super().__init__(decimals=decimals, **kwargs)
        self.pairs = pairs

    def update(self, video_emb) -> None:
        """Add items: ``video_emb`` is one item ``[n_scenes, d]``, a batch ``[B, n_scenes, d]`` or a list."""
        for v in _items(video_emb, "video_emb"):
            self._add(visual_consistency(v, pairs=self.pairs) if v.shape[0] >= 2 else None)


class SemanticConsistency(_ItemMean):
    """Semantic Consistency (Mask²DiT Sec. 4.1) over items: per item ``100 * mean_k cos(v_k, t_k)`` of its
    scene video embeddings and scene prompt embeddings (:func:`metrics.semantic_consistency`).

    >>> m = SemanticConsistency()
    >>> m.update(torch.eye(2), torch.eye(2))
    >>> float(m.compute())
    100.0
    """

    def update(self, video_emb, text_emb) -> None:
        """Add items: scene video embeddings and their prompts' text embeddings, same layouts."""
        for v, t in _paired(video_emb, text_emb, ("video_emb", "text_emb")):
            self._add(semantic_consistency(v, t))


class SequenceConsistency(_ItemMean):
    """Sequence Consistency (Mask²DiT Sec. 4.1) over items: per item ``(VC + SC) / 2`` (items with at least
    2 scenes), averaged over items.

    >>> m = SequenceConsistency()
    >>> m.update(torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    >>> float(m.compute())  # VC 100, SC 50
    75.0
    """

    def __init__(self, pairs: str = "all", decimals: int | None = None, **kwargs) -> None:
        if pairs not in PAIR_MODES:
            raise ValueError(f"pairs must be one of {PAIR_MODES}, got {pairs!r}")
        super().__init__(decimals=decimals, **kwargs)
        self.pairs = pairs

    def update(self, video_emb, text_emb) -> None:
        """Add items: scene video embeddings and their prompts' text embeddings, same layouts."""
        for v, t in _paired(video_emb, text_emb, ("video_emb", "text_emb")):
            if v.shape[0] < 2:
                continue
            self._add((visual_consistency(v, pairs=self.pairs) + semantic_consistency(v, t)) / 2.0)


class ConfusionDegree(_ItemMean):
    """Confusion Degree (frame-level captions paper, Eq. 3-5) averaged over items (lower is better), with
    the degenerate-prompt policy of :func:`metrics.confusion_degree`. Items with fewer than 2 prompts,
    or whose prompts are all degenerate, have no CD and are left out. ``degenerate_prompts`` and
    ``prompts`` count what was seen.

    >>> m = ConfusionDegree()
    >>> m.update(torch.eye(3), torch.eye(3))
    >>> float(m.compute()), int(m.prompts)
    (0.0, 3)
    """

    higher_is_better = False

    def __init__(self, eps: float = DEFAULT_EPS, degenerate: str = "exclude", decimals: int | None = None,
                 **kwargs) -> None:
        if degenerate not in DEGENERATE_POLICIES:
            raise ValueError(f"degenerate must be one of {DEGENERATE_POLICIES}, got {degenerate!r}")
        super().__init__(decimals=decimals, **kwargs)
        self.eps = float(eps)
        self.degenerate = degenerate
        self.add_state("degenerate_prompts", default=torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")
        self.add_state("prompts", default=torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, text_emb, segment_emb) -> None:
        """Add items: frame-level prompt embeddings ``[F, d]`` and their segments' video embeddings ``[F, d]``."""
        for t, s in _paired(text_emb, segment_emb, ("text_emb", "segment_emb")):
            res = confusion_degree(t, s, eps=self.eps, degenerate=self.degenerate)
            self.prompts += res.num_prompts
            self.degenerate_prompts += res.num_degenerate
            self._add(res.cd if res.num_prompts >= 2 else None)


class FVD(Metric):
    """Fréchet Video Distance (Unterthiner et al. 2019; content-debiased with VideoMAE-v2 features, Ge et
    al. 2024) between the Gaussian fits of generated and reference clip features, from mergeable
    sufficient statistics: per set the count, the sum ``[d]`` and the sum of outer products ``[d, d]``
    (float64, summed across processes; :class:`metrics.GaussianStats`). ``compute()`` is
    :func:`metrics.frechet_distance` of the two fits (unbiased covariances).

    ``reference``: the real-video statistics, as a ``mvbench fvd-stats`` ``.npz`` file (path; read with
    :func:`mvbench.fvd_reference.load_reference`), a :class:`~mvbench.fvd_reference.ReferenceStats`, a
    :class:`~metrics.GaussianStats` or a ``(mu, sigma)`` pair; or None, and then real features are
    accumulated with ``update(features, real=True)`` (kept across :meth:`reset` unless
    ``reset_real_features``). ``num_features`` (d) is needed only without a reference.

    >>> rng = np.random.default_rng(0)
    >>> ref = GaussianStats.from_features(rng.normal(size=(50, 3)))
    >>> m = FVD(reference=ref)
    >>> m.update(torch.from_numpy(rng.normal(size=(40, 3)) + 1.0))
    >>> float(m.compute()) > 2.0
    True
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = False

    def __init__(self, reference=None, num_features: int | None = None, reset_real_features: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._reference = self._reference_fit(reference)
        if self._reference is not None:
            num_features = int(self._reference[0].shape[0])
        if num_features is None or int(num_features) < 1:
            raise ValueError("FVD needs num_features (the feature dimension) when no reference is given")
        self.num_features = d = int(num_features)
        self.reset_real_features = reset_real_features
        for prefix in ("fake", "real"):
            self.add_state(f"{prefix}_count", default=torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")
            self.add_state(f"{prefix}_sum", default=torch.zeros(d, dtype=torch.float64), dist_reduce_fx="sum")
            self.add_state(f"{prefix}_outer", default=torch.zeros(d, d, dtype=torch.float64), dist_reduce_fx="sum")

    @staticmethod
    def _reference_fit(reference) -> tuple[np.ndarray, np.ndarray] | None:
        if reference is None:
            return None
        if isinstance(reference, (str, bytes)) or hasattr(reference, "__fspath__"):
            from mvbench.fvd_reference import load_reference  # reads the fvd-stats file format

            reference = load_reference(reference)
        stats = getattr(reference, "stats", reference)
        if isinstance(stats, GaussianStats):
            return stats.mean(), stats.covariance()
        if isinstance(stats, (tuple, list)) and len(stats) == 2:
            mu, sigma = (np.asarray(x, dtype=np.float64) for x in stats)
            return mu, sigma
        raise TypeError("reference must be an fvd-stats .npz path, ReferenceStats, GaussianStats or (mu, sigma)")

    def update(self, features, real: bool = False) -> None:
        """Add clip features ``[n, d]`` of generated clips (or of real ones with ``real=True``)."""
        if real and self._reference is not None:
            raise ValueError("this FVD has fixed reference statistics; real features cannot be added")
        x = torch.as_tensor(np.asarray(features) if not isinstance(features, torch.Tensor) else features)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"features must be [n, {self.num_features}], got shape {tuple(x.shape)}")
        x = x.detach().to(self.fake_sum.device, torch.float64)
        if not bool(torch.isfinite(x).all()):
            raise ValueError("features contain NaN or infinite values")
        prefix = "real" if real else "fake"
        setattr(self, f"{prefix}_count", getattr(self, f"{prefix}_count") + x.shape[0])
        setattr(self, f"{prefix}_sum", getattr(self, f"{prefix}_sum") + x.sum(dim=0))
        setattr(self, f"{prefix}_outer", getattr(self, f"{prefix}_outer") + x.T @ x)

    def _stats(self, prefix: str) -> GaussianStats:
        return GaussianStats(int(getattr(self, f"{prefix}_count")), getattr(self, f"{prefix}_sum").cpu().numpy(),
                             getattr(self, f"{prefix}_outer").cpu().numpy())

    def generated_stats(self) -> GaussianStats:
        """The generated set's sufficient statistics (synced across processes inside ``compute``)."""
        return self._stats("fake")

    def compute(self) -> torch.Tensor:
        """Squared Fréchet distance (float64) between the generated fit and the reference fit."""
        fake = self._stats("fake")
        if fake.count < 2:
            raise ValueError(f"FVD needs at least 2 generated clips, got {fake.count}")
        if self._reference is not None:
            mu_ref, sigma_ref = self._reference
        else:
            real = self._stats("real")
            if real.count < 2:
                raise ValueError(f"FVD needs at least 2 real clips, got {real.count}")
            mu_ref, sigma_ref = real.mean(), real.covariance()
        value = frechet_distance(fake.mean(), fake.covariance(), mu_ref, sigma_ref)
        return torch.tensor(value, dtype=torch.float64, device=self.fake_sum.device)

    def reset(self) -> None:
        """Clear the generated statistics (and the real ones when ``reset_real_features``)."""
        if self.reset_real_features:
            super().reset()
            return
        kept = {k: getattr(self, k).clone() for k in ("real_count", "real_sum", "real_outer")}
        super().reset()
        for k, v in kept.items():
            setattr(self, k, v)


class CharacterIDScores(Metric):
    """Character-ID precision, recall and F1 (MovieBench Sec. 3.5): TP / FP / FN summed over shots (sets of
    recognised vs scripted character names; :func:`metrics.identity.shot_counts`), then the ratios of
    :func:`metrics.precision_recall_f1`, x100 as ``mvbench evaluate`` reports them. ``compute()`` returns
    ``{"id_precision", "id_recall", "id_f1"}``.

    >>> m = CharacterIDScores()
    >>> m.update([{"Alice", "Carol"}, set()], [{"Alice"}, {"Bob"}])   # TP 1, FP 1, FN 1
    >>> {k: round(float(v), 2) for k, v in m.compute().items()}
    {'id_precision': 50.0, 'id_recall': 50.0, 'id_f1': 50.0}
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = True

    def __init__(self, zero_division: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.zero_division = float(zero_division)
        for name in ("tp", "fp", "fn"):
            self.add_state(name, default=torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, predicted: Sequence, scripted: Sequence) -> None:
        """Add shots: ``predicted[i]`` and ``scripted[i]`` are the recognised and scripted names of shot ``i``."""
        if isinstance(predicted, (str, set, frozenset)) or isinstance(scripted, (str, set, frozenset)):
            raise TypeError("pass one collection of names per shot, e.g. [{'Alice'}, {'Bob', 'Carol'}]")
        if len(predicted) != len(scripted):
            raise ValueError(f"{len(predicted)} predicted shot(s) but {len(scripted)} scripted shot(s)")
        for p, g in zip(predicted, scripted):
            c = shot_counts(p, g)
            self.tp += c.tp
            self.fp += c.fp
            self.fn += c.fn

    def compute(self) -> dict[str, torch.Tensor]:
        """``{"id_precision", "id_recall", "id_f1"}``, float64 tensors x100."""
        p, r, f = precision_recall_f1(int(self.tp), int(self.fp), int(self.fn), self.zero_division)
        return {k: torch.tensor(100.0 * v, dtype=torch.float64, device=self.tp.device)
                for k, v in (("id_precision", p), ("id_recall", r), ("id_f1", f))}
