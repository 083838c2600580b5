"""Pure metric math over tensors, embeddings and sets (no file IO, no model loading).

Every public metric function is importable from here, e.g. ``from metrics import visual_consistency``.
"""

from metrics.bootstrap import bootstrap_ci
from metrics.confusion import (
    ConfusionResult,
    confusion_degree,
    frame_text_consistency,
    video_text_consistency,
)
from metrics.consistency import semantic_consistency, sequence_consistency, visual_consistency
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

__all__ = [
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
    "entity_consistency",
    "entity_pair_similarities",
    "frame_text_consistency",
    "frechet_distance",
    "frechet_distance_bootstrap",
    "id_scores",
    "id_scores_bootstrap",
    "merge_stats",
    "precision_recall_f1",
    "psd_sqrt",
    "scene_consistency",
    "semantic_consistency",
    "sequence_consistency",
    "trace_sqrt_product",
    "video_text_consistency",
    "visual_consistency",
]
