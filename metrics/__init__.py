"""Pure metric math over tensors, embeddings and sets (no file IO, no model loading).

Every public metric function is importable from here, e.g. ``from metrics import visual_consistency``.

Names are loaded on first use (the modules import torch), so ``import metrics`` stays cheap and
programs that only need one metric do not pay for the others.

The exact functions (float64 on the CPU, Python floats) are what ``mvbench evaluate`` reports; the
``*_differentiable`` functions (:mod:`metrics.differentiable`) compute the same formulas on the given
tensors, keeping dtype, device and gradients; the ``torchmetrics`` classes (:mod:`metrics.stateful`:
``VisualConsistency``, ``SemanticConsistency``, ``SequenceConsistency``, ``ConfusionDegree``, ``FVD``,
``CharacterIDScores``) accumulate over batches and processes.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "CharacterIDScores": "metrics.stateful",
    "ConfusionDegree": "metrics.stateful",
    "ConfusionResult": "metrics.confusion",
    "Detection": "metrics.scene_consistency",
    "FVD": "metrics.stateful",
    "GaussianStats": "metrics.gaussian_stats",
    "IdCounts": "metrics.identity",
    "IdScores": "metrics.identity",
    "SceneConsistencyResult": "metrics.scene_consistency",
    "SemanticConsistency": "metrics.stateful",
    "SequenceConsistency": "metrics.stateful",
    "VisualConsistency": "metrics.stateful",
    "aesthetic_quality": "metrics.vbench_quality",
    "assign_faces": "metrics.identity",
    "best_detection": "metrics.scene_consistency",
    "bootstrap_ci": "metrics.bootstrap",
    "box_to_crop": "metrics.scene_consistency",
    "clip_score_pairs": "metrics.clip_similarity",
    "clip_score_torchmetrics": "metrics.clip_similarity",
    "clipsim": "metrics.clip_similarity",
    "confusion_degree": "metrics.confusion",
    "confusion_degree_differentiable": "metrics.differentiable",
    "consecutive_cosines": "metrics.clip_similarity",
    "cosine_matrix": "metrics.identity",
    "covariance_with_ddof": "metrics.covariance",
    "entity_consistency": "metrics.scene_consistency",
    "entity_pair_similarities": "metrics.scene_consistency",
    "frame_character_similarity": "metrics.identity",
    "frame_consistency": "metrics.clip_similarity",
    "frame_pair_mae": "metrics.vbench_quality",
    "frame_text_consistency": "metrics.confusion",
    "frame_text_consistency_differentiable": "metrics.differentiable",
    "frame_text_cosines": "metrics.clip_similarity",
    "frechet_distance": "metrics.frechet",
    "frechet_distance_bootstrap": "metrics.frechet",
    "frechet_distance_differentiable": "metrics.differentiable",
    "gaussian_fit_differentiable": "metrics.differentiable",
    "id_scores": "metrics.identity",
    "id_scores_bootstrap": "metrics.identity",
    "imaging_quality": "metrics.vbench_quality",
    "inception_score": "metrics.inception_score",
    "inception_score_splits": "metrics.inception_score",
    "merge_stats": "metrics.gaussian_stats",
    "per_index_fid": "metrics.frame_fid",
    "pooled_mean": "metrics.pooled_mean",
    "pooled_mean_bootstrap_ci": "metrics.pooled_mean",
    "precision_recall_f1": "metrics.identity",
    "psd_sqrt": "metrics.frechet",
    "scene_consistency": "metrics.scene_consistency",
    "scene_similarity_matrix": "metrics.consistency",
    "semantic_consistency": "metrics.consistency",
    "semantic_consistency_differentiable": "metrics.differentiable",
    "sequence_consistency": "metrics.consistency",
    "sequence_consistency_differentiable": "metrics.differentiable",
    "shot_character_similarity": "metrics.identity",
    "similarity_bootstrap": "metrics.identity",
    "temporal_flickering": "metrics.vbench_quality",
    "temporal_flickering_from_mae": "metrics.vbench_quality",
    "trace_sqrt_product": "metrics.frechet",
    "vbench_consistency": "metrics.vbench_quality",
    "vbench_long_clip_ranges": "metrics.vbench_quality",
    "video_text_consistency": "metrics.confusion",
    "video_text_consistency_differentiable": "metrics.differentiable",
    "visual_consistency": "metrics.consistency",
    "visual_consistency_differentiable": "metrics.differentiable",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
