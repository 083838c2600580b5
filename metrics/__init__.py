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
from metrics.identity import (
    IdCounts,
    IdScores,
    assign_faces,
    cosine_matrix,
    frame_character_similarity,
    id_scores,
    id_scores_bootstrap,
    precision_recall_f1,
    shot_character_similarity,
    similarity_bootstrap,
)

__all__ = [
    "ConfusionResult",
    "GaussianStats",
    "IdCounts",
    "IdScores",
    "assign_faces",
    "bootstrap_ci",
    "confusion_degree",
    "cosine_matrix",
    "frame_character_similarity",
    "frame_text_consistency",
    "frechet_distance",
    "frechet_distance_bootstrap",
    "id_scores",
    "id_scores_bootstrap",
    "merge_stats",
    "precision_recall_f1",
    "psd_sqrt",
    "semantic_consistency",
    "sequence_consistency",
    "shot_character_similarity",
    "similarity_bootstrap",
    "trace_sqrt_product",
    "video_text_consistency",
    "visual_consistency",
]
