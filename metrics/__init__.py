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
from metrics.vbench_quality import (
    aesthetic_quality,
    frame_pair_mae,
    imaging_quality,
    temporal_flickering,
    temporal_flickering_from_mae,
    vbench_consistency,
    vbench_long_clip_ranges,
)

__all__ = [
    "ConfusionResult",
    "GaussianStats",
    "IdCounts",
    "IdScores",
    "aesthetic_quality",
    "bootstrap_ci",
    "confusion_degree",
    "frame_pair_mae",
    "frame_text_consistency",
    "frechet_distance",
    "frechet_distance_bootstrap",
    "id_scores",
    "id_scores_bootstrap",
    "imaging_quality",
    "merge_stats",
    "precision_recall_f1",
    "psd_sqrt",
    "semantic_consistency",
    "sequence_consistency",
    "temporal_flickering",
    "temporal_flickering_from_mae",
    "trace_sqrt_product",
    "vbench_consistency",
    "vbench_long_clip_ranges",
    "video_text_consistency",
    "visual_consistency",
]
