"""Pure metric math over tensors, embeddings and sets (no file IO, no model loading).

Every public metric function is importable from here, e.g. ``from metrics import visual_consistency``.
"""

from metrics.bootstrap import bootstrap_ci
from metrics.clip_similarity import (
    clip_score_pairs,
    clip_score_torchmetrics,
    clipsim,
    consecutive_cosines,
    frame_consistency,
    frame_text_cosines,
)
from metrics.confusion import (
    ConfusionResult,
    confusion_degree,
    frame_text_consistency,
    video_text_consistency,
)
from metrics.consistency import semantic_consistency, sequence_consistency, visual_consistency
from metrics.frame_fid import per_index_fid
from metrics.frechet import frechet_distance, frechet_distance_bootstrap, psd_sqrt, trace_sqrt_product
from metrics.gaussian_stats import GaussianStats, merge_stats
from metrics.identity import IdCounts, IdScores, id_scores, id_scores_bootstrap, precision_recall_f1
from metrics.inception_score import inception_score, inception_score_splits
from metrics.pooled_mean import pooled_mean, pooled_mean_bootstrap_ci
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
    "clip_score_pairs",
    "clip_score_torchmetrics",
    "clipsim",
    "confusion_degree",
    "consecutive_cosines",
    "entity_consistency",
    "entity_pair_similarities",
    "frame_consistency",
    "frame_text_consistency",
    "frame_text_cosines",
    "frechet_distance",
    "frechet_distance_bootstrap",
    "id_scores",
    "id_scores_bootstrap",
    "inception_score",
    "inception_score_splits",
    "merge_stats",
    "per_index_fid",
    "pooled_mean",
    "pooled_mean_bootstrap_ci",
    "precision_recall_f1",
    "psd_sqrt",
    "scene_consistency",
    "semantic_consistency",
    "sequence_consistency",
    "trace_sqrt_product",
    "video_text_consistency",
    "visual_consistency",
]
