"""Pure metric math over tensors, embeddings and sets (no file IO, no model loading).

Every public metric function is importable from here, e.g. ``from metrics import visual_consistency``.
"""

from metrics.bootstrap import bootstrap_ci
from metrics.confusion import (
    ConfusionResult,
    confusion_degree,
    frame_text_consistency,
    normalize_confusion_degree,
    video_text_consistency,
)
from metrics.consistency import semantic_consistency, sequence_consistency, visual_consistency
from metrics.frechet import (
    SubsetFrechet,
    frechet_distance,
    frechet_distance_bootstrap,
    psd_sqrt,
    trace_sqrt_product,
)
from metrics.frechet_interval import (
    FDInfinity,
    fd_infinity,
    fd_interval,
    fd_jackknife_interval,
    frechet_distance_jackknife,
    jackknife_groups,
)
from metrics.gaussian_stats import GaussianStats, merge_stats
from metrics.identity import IdCounts, IdScores, id_scores, id_scores_bootstrap, precision_recall_f1

__all__ = [
    "ConfusionResult",
    "FDInfinity",
    "GaussianStats",
    "IdCounts",
    "IdScores",
    "bootstrap_ci",
    "confusion_degree",
    "fd_infinity",
    "fd_interval",
    "fd_jackknife_interval",
    "frame_text_consistency",
    "frechet_distance",
    "frechet_distance_bootstrap",
    "frechet_distance_jackknife",
    "id_scores",
    "id_scores_bootstrap",
    "jackknife_groups",
    "merge_stats",
    "normalize_confusion_degree",
    "precision_recall_f1",
    "psd_sqrt",
    "SubsetFrechet",
    "semantic_consistency",
    "sequence_consistency",
    "trace_sqrt_product",
    "video_text_consistency",
    "visual_consistency",
]
