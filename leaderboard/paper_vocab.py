"""Names a paper table may use: mvbench metric names, paper presets, units and not-computed kinds.

The metric names are the project's shared names (``mvbench evaluate --metrics``), including those
that the VBench-dimensions and CLIP/FID/VideoStudio scorers add; a table naming anything else fails
to load, so a typo never silently leaves a column unmeasured.

>>> "visual_consistency" in SHARED_METRICS and "mask2dit" in PRESETS
True
>>> unit_factor("percent") / unit_factor("fraction")
100.0
"""

from __future__ import annotations

#: every metric name a paper-table column may name as its ``metric``
SHARED_METRICS: frozenset[str] = frozenset({
    # Mask²DiT consistency (ViCLIP, x100)
    "visual_consistency", "semantic_consistency", "sequence_consistency",
    # Fréchet video distances
    "fvd", "fvd_videomae",
    # frame-level captions paper (ViCLIP)
    "confusion_degree", "video_text_consistency", "frame_text_consistency",
    "confusion_degree_normalized",  # mvbench's CD / (F - 1), no paper column
    # MovieBench character identity (x100)
    "id_precision", "id_recall", "id_f1", "character_similarity",
    # VBench dimensions (fractions in [0, 1])
    "subject_consistency", "background_consistency", "motion_smoothness", "dynamic_degree",
    "aesthetic_quality", "imaging_quality", "temporal_flickering",
    # CLIP / Inception / VideoStudio consistency
    "clip_score", "clipsim", "fid", "fid_per_frame", "inception_score", "frame_consistency",
    "scene_consistency", "aesthetic_score",
})

#: paper presets (``mvbench evaluate --protocol NAME``)
PRESETS: tuple[str, ...] = ("mask2dit", "framecaps", "moviebench", "videostudio")

#: units a results file may record per metric, as multiples of the plain ratio
UNITS: dict[str, float] = {"fraction": 1.0, "percent": 100.0}

#: why a column is not computed by mvbench
NOT_COMPUTED_KINDS: dict[str, str] = {
    "human_study": "human study",
    "annotation_quality": "quality of the dataset's annotations (no generated video)",
    "not_in_mvbench": "not computed by mvbench",
    "derived": "derived from other columns",
}


def unit_factor(unit: str) -> float:
    """How many of ``unit`` make one plain ratio (``fraction`` 1, ``percent`` 100).

    >>> unit_factor("fraction")
    1.0
    """
    return UNITS[unit]
