"""Scorers (metric families) the runner can evaluate, by metric name.

``SCORERS`` maps a scorer name to ``"module:Class"``; ``METRIC_TO_SCORER`` maps each metric name
a user may pass to ``--metrics`` to its scorer.
"""

from __future__ import annotations

import importlib

from mvbench.errors import MvbenchError
from mvbench.scorers.base import (
    ClipRequest,
    FrameRequest,
    ItemScore,
    ItemVideos,
    MetricInfo,
    Request,
    Scorer,
    TextRequest,
    VideoRef,
)

SCORERS: dict[str, str] = {
    "consistency": "mvbench.scorers.consistency:ConsistencyScorer",
    "confusion": "mvbench.scorers.confusion:ConfusionScorer",
    "character_id": "mvbench.scorers.character_id:CharacterIdScorer",
    "fvd": "mvbench.scorers.fvd:FVDScorer",
    "clip_scores": "mvbench.scorers.clip_scores:ClipScoresScorer",
    "frame_fid": "mvbench.scorers.frame_fid:FrameFIDScorer",
    "scene_consistency": "mvbench.scorers.scene_consistency:SceneConsistencyScorer",
    "vbench_appearance": "mvbench.scorers.vbench_appearance:VBenchAppearanceScorer",
}

METRIC_TO_SCORER: dict[str, str] = {
    "visual_consistency": "consistency",
    "semantic_consistency": "consistency",
    "sequence_consistency": "consistency",
    "confusion_degree": "confusion",
    "video_text_consistency": "confusion",
    "frame_text_consistency": "confusion",
    "id_precision": "character_id",
    "id_recall": "character_id",
    "id_f1": "character_id",
    "character_similarity": "character_id",
    "fvd": "fvd",
    "fvd_videomae": "fvd",
    "clip_score": "clip_scores",
    "clipsim": "clip_scores",
    "frame_consistency": "clip_scores",
    "fid": "frame_fid",
    "fid_per_frame": "frame_fid",
    "inception_score": "frame_fid",
    "scene_consistency": "scene_consistency",
    "subject_consistency": "vbench_appearance",
    "background_consistency": "vbench_appearance",
    "aesthetic_quality": "vbench_appearance",
    "imaging_quality": "vbench_appearance",
    "temporal_flickering": "vbench_appearance",
}

#: names a user may pass to ``--metrics`` that stand for several metrics
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "character_id": ("id_precision", "id_recall", "id_f1", "character_similarity"),
}

DEFAULT_METRICS = ("visual_consistency", "semantic_consistency", "sequence_consistency")


def scorer_class(name: str) -> type[Scorer]:
    module, cls = SCORERS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def expand_metric_names(metrics: list[str]) -> list[str]:
    """Replace group names (:data:`METRIC_GROUPS`) by their metrics; order kept, no duplicates."""
    out: list[str] = []
    for m in metrics:
        for name in METRIC_GROUPS.get(m, (m,)):
            if name not in out:
                out.append(name)
    return out


def scorers_for_metrics(metrics: list[str]) -> list[str]:
    """Scorer names needed for the requested metric names (order kept, no duplicates)."""
    out: list[str] = []
    for m in expand_metric_names(metrics):
        if m not in METRIC_TO_SCORER:
            raise MvbenchError(f"unknown metric {m!r}", hint="known metrics: " + ", ".join(sorted(METRIC_TO_SCORER))
                               + "; groups: " + ", ".join(sorted(METRIC_GROUPS)))
        s = METRIC_TO_SCORER[m]
        if s not in out:
            out.append(s)
    return out


__all__ = [
    "ClipRequest", "FrameRequest", "ItemScore", "ItemVideos", "MetricInfo", "Request", "Scorer",
    "TextRequest", "VideoRef", "SCORERS", "METRIC_TO_SCORER", "DEFAULT_METRICS", "METRIC_GROUPS", "expand_metric_names", "scorer_class",
    "scorers_for_metrics",
]
