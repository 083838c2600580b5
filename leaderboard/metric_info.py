"""How mvbench's metrics are shown in tables: label, direction, decimals and canonical order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    """Display facts of one metric. ``decimals`` follows the precision the source papers print."""

    label: str
    higher_is_better: bool
    decimals: int


#: canonical column order for leaderboards built from results files
METRICS: dict[str, MetricInfo] = {
    "visual_consistency": MetricInfo("Visual Con.", True, 2),  # Mask²DiT Tab. 1, ×100
    "semantic_consistency": MetricInfo("Semantic Con.", True, 2),
    "sequence_consistency": MetricInfo("Sequence Con.", True, 2),
    "fvd": MetricInfo("FVD", False, 2),
    "fvd_videomae": MetricInfo("FVD (VideoMAE)", False, 2),
    "confusion_degree": MetricInfo("Confusion Degree", False, 4),  # frame-level captions Tab. 1
    "video_text_consistency": MetricInfo("Video-level T-V Con.", True, 4),
    "frame_text_consistency": MetricInfo("Frame-level T-V Con.", True, 4),
    "id_precision": MetricInfo("Precision_ID", True, 2),  # MovieBench Tab. 5, 0–100
    "id_recall": MetricInfo("Recall_ID", True, 2),
    "id_f1": MetricInfo("F1_ID", True, 2),
    "character_similarity": MetricInfo("Char. Sim.", True, 3),  # cosine, ViStoryBench-style
    # VBench dimensions: fractions in [0, 1] (papers print them ×100)
    "subject_consistency": MetricInfo("Subject Con.", True, 4),
    "background_consistency": MetricInfo("Background Con.", True, 4),
    "motion_smoothness": MetricInfo("Motion Smooth.", True, 4),
    "dynamic_degree": MetricInfo("Dynamic Deg.", True, 4),
    "aesthetic_quality": MetricInfo("Aesthetic Q.", True, 4),
    "imaging_quality": MetricInfo("Imaging Q.", True, 4),
    "temporal_flickering": MetricInfo("Temporal Flick.", True, 4),
    # frame-level image metrics (MovieBench Tab. 5, VideoStudio Tabs. 1-5)
    "clip_score": MetricInfo("CLIP Score", True, 2),
    "clipsim": MetricInfo("CLIPSIM", True, 4),
    "frame_consistency": MetricInfo("Frame Con.", True, 2),
    "scene_consistency": MetricInfo("Scene Con.", True, 2),
    "fid": MetricInfo("FID", False, 2),
    "fid_per_frame": MetricInfo("FID (per frame)", False, 2),
    "inception_score": MetricInfo("IS", True, 2),
}


def metric_info(name: str, higher_is_better: bool | None = None) -> MetricInfo:
    """Display facts of ``name``; a metric mvbench does not know keeps its name, 2 decimals and the
    direction stored in the results file."""
    if name in METRICS:
        return METRICS[name]
    return MetricInfo(name, True if higher_is_better is None else bool(higher_is_better), 2)


def metric_order(names) -> list[str]:
    """``names`` in canonical order; metrics mvbench does not know come last, alphabetically."""
    known = [m for m in METRICS if m in set(names)]
    return known + sorted(set(names) - set(METRICS))
