"""Pure metric math over tensors, embeddings and sets (no file IO, no model loading).

Every public metric function is importable from here, e.g. ``from metrics import visual_consistency``.

Names are loaded on first use (the modules import torch), so ``import metrics`` stays cheap and
programs that only need one metric do not pay for the others.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "ConfusionResult": "metrics.confusion",
    "Detection": "metrics.scene_consistency",
    "GaussianStats": "metrics.gaussian_stats",
    "IdCounts": "metrics.identity",
    "IdScores": "metrics.identity",
    "SceneConsistencyResult": "metrics.scene_consistency",
    "aesthetic_quality": "metrics.vbench_quality",
    "best_detection": "metrics.scene_consistency",
    "bootstrap_ci": "metrics.bootstrap",
    "box_to_crop": "metrics.scene_consistency",
    "confusion_degree": "metrics.confusion",
    "covariance_with_ddof": "metrics.covariance",
    "entity_consistency": "metrics.scene_consistency",
    "entity_pair_similarities": "metrics.scene_consistency",
    "frame_pair_mae": "metrics.vbench_quality",
    "frame_text_consistency": "metrics.confusion",
    "frechet_distance": "metrics.frechet",
    "frechet_distance_bootstrap": "metrics.frechet",
    "id_scores": "metrics.identity",
    "id_scores_bootstrap": "metrics.identity",
    "imaging_quality": "metrics.vbench_quality",
    "merge_stats": "metrics.gaussian_stats",
    "precision_recall_f1": "metrics.identity",
    "psd_sqrt": "metrics.frechet",
    "scene_consistency": "metrics.scene_consistency",
    "semantic_consistency": "metrics.consistency",
    "sequence_consistency": "metrics.consistency",
    "temporal_flickering": "metrics.vbench_quality",
    "temporal_flickering_from_mae": "metrics.vbench_quality",
    "trace_sqrt_product": "metrics.frechet",
    "vbench_consistency": "metrics.vbench_quality",
    "vbench_long_clip_ranges": "metrics.vbench_quality",
    "video_text_consistency": "metrics.confusion",
    "visual_consistency": "metrics.consistency",
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
