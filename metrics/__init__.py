"""Pure metric math over tensors, embeddings and sets (no file IO, no model loading).

Every public metric function is importable from here, e.g. ``from metrics import visual_consistency``.
The exact functions (float64 on the CPU, Python floats) are what ``mvbench evaluate`` reports; the
``*_differentiable`` functions (:mod:`metrics.differentiable`) compute the same formulas on the given
tensors, keeping dtype, device and gradients. The stateful ``torchmetrics`` classes
(:mod:`metrics.stateful`: ``VisualConsistency``, ``FVD``, ...) are imported on first use.
"""

from metrics.bootstrap import bootstrap_ci
from metrics.confusion import (
    ConfusionResult,
    confusion_degree,
    frame_text_consistency,
    video_text_consistency,
)
from metrics.consistency import semantic_consistency, sequence_consistency, visual_consistency
from metrics.differentiable import (
    confusion_degree_differentiable,
    frame_text_consistency_differentiable,
    frechet_distance_differentiable,
    gaussian_fit_differentiable,
    semantic_consistency_differentiable,
    sequence_consistency_differentiable,
    video_text_consistency_differentiable,
    visual_consistency_differentiable,
)
from metrics.frechet import frechet_distance, frechet_distance_bootstrap, psd_sqrt, trace_sqrt_product
from metrics.gaussian_stats import GaussianStats, merge_stats
from metrics.identity import IdCounts, IdScores, id_scores, id_scores_bootstrap, precision_recall_f1
from metrics.scene_consistency import (
    Detection,
    SceneConsistencyResult,
    best_detection,
    box_to_crop,
    entity_consistency,
    entity_pair_similarities,
    scene_consistency,
)

#: torchmetrics classes, imported from :mod:`metrics.stateful` on first use (torchmetrics loads slowly)
_STATEFUL = ("CharacterIDScores", "ConfusionDegree", "FVD", "SemanticConsistency", "SequenceConsistency",
             "VisualConsistency")


def __getattr__(name: str):
    if name in _STATEFUL:
        from metrics import stateful

        return getattr(stateful, name)
    raise AttributeError(f"module 'metrics' has no attribute {name!r}")


__all__ = [
    *_STATEFUL,
    "ConfusionResult",
    "Detection",
    "GaussianStats",
    "IdCounts",
    "IdScores",
    "SceneConsistencyResult",
    "best_detection",
    "bootstrap_ci",
    "box_to_crop",
    "confusion_degree",
    "confusion_degree_differentiable",
    "entity_consistency",
    "entity_pair_similarities",
    "frame_text_consistency",
    "frame_text_consistency_differentiable",
    "frechet_distance",
    "frechet_distance_bootstrap",
    "frechet_distance_differentiable",
    "gaussian_fit_differentiable",
    "id_scores",
    "id_scores_bootstrap",
    "merge_stats",
    "precision_recall_f1",
    "psd_sqrt",
    "scene_consistency",
    "semantic_consistency",
    "semantic_consistency_differentiable",
    "sequence_consistency",
    "sequence_consistency_differentiable",
    "trace_sqrt_product",
    "video_text_consistency",
    "video_text_consistency_differentiable",
    "visual_consistency",
    "visual_consistency_differentiable",
]
