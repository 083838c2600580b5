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
from metrics.vbench_motion import (
    amt_scale,
    dynamic_degree_frames,
    dynamic_degree_interval,
    dynamic_degree_params,
    flow_top_magnitude,
    frames_to_uint8,
    input_padding,
    interpolation_error,
    is_dynamic,
    long_clip_ranges,
    motion_smoothness,
    motion_smoothness_frames,
)

__all__ = [
    "ConfusionResult",
    "GaussianStats",
    "IdCounts",
    "IdScores",
    "amt_scale",
    "bootstrap_ci",
    "confusion_degree",
    "dynamic_degree_frames",
    "dynamic_degree_interval",
    "dynamic_degree_params",
    "flow_top_magnitude",
    "frame_text_consistency",
    "frames_to_uint8",
    "frechet_distance",
    "frechet_distance_bootstrap",
    "id_scores",
    "id_scores_bootstrap",
    "input_padding",
    "interpolation_error",
    "is_dynamic",
    "long_clip_ranges",
    "merge_stats",
    "motion_smoothness",
    "motion_smoothness_frames",
    "precision_recall_f1",
    "psd_sqrt",
    "semantic_consistency",
    "sequence_consistency",
    "trace_sqrt_product",
    "video_text_consistency",
    "visual_consistency",
]
