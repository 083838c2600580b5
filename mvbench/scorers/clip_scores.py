"""Frame-level CLIP scores: ``clip_score`` (MovieBench Table 5 "CLIP"), ``clipsim`` (VideoStudio CLIPSIM,
Table 5) and ``frame_consistency`` (VideoStudio Frame Consis., Table 2).

``clip_score`` per scene (shot), by ``--clip-score-protocol``:

* ``moviebench`` (default; MovieBench's released ``metrics/Metric_1_clip_score.py``): 25 frames
  read at interval ``T // 25`` (:class:`~mvbench.frame_protocol.FrameProtocol` ``interval``),
  optionally resized to ``R x R`` first (``--clip-score-resize R``, the script's ``--Resolution``),
  CLIP ViT-B/16 (``clip-vit-b16-hf``), pixels scaled by 1/255 twice as the script's two image
  processors do (:func:`mvbench.encoders.clip_hf.clip_pixels`), prompt cut at 77 tokens as
  torchmetrics cuts it; score ``max(0, mean_frames 100 cos)`` (:func:`metrics.clip_score_torchmetrics`);
  the set's value is the mean over all shots.
* ``torchmetrics``: the same with pixels scaled once (what the script meant to compute).
* ``clip-score``: the ``clip-score`` package v0.1.x the paper cites: OpenAI CLIP ViT-B/32
  (``clip-vit-b32-hf``), torchvision centre-crop rounding, ``exp(logit_scale) * cos`` per frame
  with no clamp (:func:`metrics.clip_score_pairs`), averaged over every frame of the set.

``clipsim`` per scene: ``mean_frames cos(frame, prompt)`` (raw cosine, :func:`metrics.clipsim`);
``frame_consistency`` per scene: ``100 mean cos`` of consecutive frames (:func:`metrics.frame_consistency`).
Both use every frame of the scene by default (``--videostudio-frames N`` samples N uniformly) and
CLIP ViT-B/32 (``--videostudio-clip-model``); VideoStudio does not name its CLIP model or frame
count, so these two choices are mvbench's. Both average over all scenes of the set.

Aggregates are means pooled over the units (shots, or frames for ``clip-score``) of all items, with
a 95% CI from resampling items (:func:`metrics.pooled_mean_bootstrap_ci`); ``n`` counts items and
``n_units`` the pooled units. Each summary records its ``unit``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from metrics.clip_similarity import clip_score_pairs, clip_score_torchmetrics, clipsim, frame_consistency
from metrics.pooled_mean import pooled_mean, pooled_mean_bootstrap_ci
from mvbench.config import Option, non_negative, positive
from mvbench.frame_protocol import FrameProtocol
from mvbench.scorers.base import ItemScore, ItemVideos, MetricInfo, Request, Scorer, requested_in_family
from mvbench.stats import DECIMALS

log = logging.getLogger(__name__)

CLIP_METRICS = ("clip_score", "clipsim", "frame_consistency")
CLIP_SCORE_PROTOCOLS = ("moviebench", "torchmetrics", "clip-score")
DEFAULT_CLIP_SCORE_MODEL = {"moviebench": "clip-vit-b16-hf", "torchmetrics": "clip-vit-b16-hf",
                            "clip-score": "clip-vit-b32-hf"}
DEFAULT_VIDEOSTUDIO_MODEL = "clip-vit-b32-hf"
UNITS = {"clip_score": "percent", "clipsim": "fraction", "frame_consistency": "percent"}

#: the options each paper preset sets for these metrics (for ``--protocol``)
PAPER_OPTIONS = {
    "moviebench": {"clip_score_protocol": "moviebench", "clip_score_frames": 25},
    "videostudio": {"videostudio_clip_model": DEFAULT_VIDEOSTUDIO_MODEL, "videostudio_frames": 0},
}


def requested_metrics(options: Mapping[str, Any]) -> list[str]:
    """The metrics of this family asked for in ``options["metrics"]`` (all of them if not given)."""
    return requested_in_family(options, CLIP_METRICS, CLIP_METRICS)


class ClipScoresScorer(Scorer):
    name = "clip_scores"
    metrics = (
        MetricInfo("clip_score", True, "MovieBench CLIP score: 100 x cosine of frames and scene prompt"),
        MetricInfo("clipsim", True, "VideoStudio CLIPSIM: mean cosine of frames and scene prompt"),
        MetricInfo("frame_consistency", True, "VideoStudio Frame Consistency: 100 x mean cosine of consecutive frames"),
    )
    option_title = "frame CLIP scores (clip_score, clipsim, frame_consistency)"
    option_specs = (
        Option("clip_score_protocol", "moviebench", "moviebench (the paper's script), torchmetrics (same, pixels "
               "scaled once) or clip-score (the cited clip-score package)", choices=CLIP_SCORE_PROTOCOLS),
        Option("clip_score_model", None, "CLIP weights entry or local Hugging Face CLIP folder for clip_score "
               "(default: clip-vit-b16-hf; clip-vit-b32-hf for --clip-score-protocol clip-score)", type=str,
               metavar="NAME|DIR"),
        Option("clip_score_frames", 25, "frames per scene for clip_score (MovieBench's interval reader)",
               check=positive, metavar="N"),
        Option("clip_score_resize", None, "resize frames to R x R (PIL bicubic) first, as MovieBench's "
               "--Resolution R", type=int, metavar="R", check=positive),
        Option("videostudio_clip_model", DEFAULT_VIDEOSTUDIO_MODEL, "CLIP weights entry or local Hugging Face "
               "CLIP folder for clipsim and frame_consistency", metavar="NAME|DIR"),
        Option("videostudio_frames", 0, "frames per scene for clipsim / frame_consistency (0: every frame; "
               "N: N frames spread uniformly)", check=non_negative, metavar="N"),
    )

    def __init__(self, options: dict | None = None):
        super().__init__(options)
        self.wanted = requested_metrics(self.options)
        self.protocol = self._opt("clip_score_protocol")
        if self.protocol not in CLIP_SCORE_PROTOCOLS:
            raise ValueError(f"unknown clip_score protocol {self.protocol!r}; choose from {CLIP_SCORE_PROTOCOLS}")
        self.clip_score_model = self._opt("clip_score_model") or DEFAULT_CLIP_SCORE_MODEL[self.protocol]
        self.videostudio_model = self._opt("videostudio_clip_model")
        self.cs_frames = FrameProtocol("interval", int(self._opt("clip_score_frames")),
                                       resize=self._opt("clip_score_resize"))
        n_vs = int(self._opt("videostudio_frames"))
        self.vs_frames = FrameProtocol("uniform", n_vs) if n_vs > 0 else FrameProtocol("all", 0)
        self._models: dict[str, Any] = {}
        self._texts: dict[tuple[str, str, str], np.ndarray] = {}
        #: frame_consistency compares distinct consecutive frames: a scene cannot be padded with repeats
        self.can_pad = "frame_consistency" not in self.wanted

    def frames_needed(self) -> int:
        """Fewest frames a scene needs: the interval reader and "every frame" never repeat a frame;
        ``--videostudio-frames N`` samples N; frame consistency needs a consecutive pair."""
        need = 1
        if {"clipsim", "frame_consistency"} & set(self.wanted) and self.vs_frames.sampling != "all":
            need = int(self.vs_frames.num_frames)
        if "frame_consistency" in self.wanted:
            need = max(need, 2)
        return need

    @classmethod
    def required_weights(cls, options: Mapping[str, Any]) -> list[str]:
        """The registered CLIP entries the run loads (local folders need no entry)."""
        from pathlib import Path

        wanted = requested_metrics(options)
        specs = []
        if "clip_score" in wanted:
            protocol = options.get("clip_score_protocol") or "moviebench"
            specs.append(options.get("clip_score_model") or DEFAULT_CLIP_SCORE_MODEL.get(protocol, "clip-vit-b16-hf"))
        if {"clipsim", "frame_consistency"} & set(wanted):
            specs.append(options.get("videostudio_clip_model") or DEFAULT_VIDEOSTUDIO_MODEL)
        return [s for s in dict.fromkeys(specs) if not Path(s).expanduser().is_dir()]

    def _opt(self, name: str):
        value = self.options.get(name)
        if value is None:
            value = next(s.default for s in self.option_specs if s.name == name)
        return value

    def _model_specs(self) -> list[str]:
        specs = []
        if "clip_score" in self.wanted:
            specs.append(self.clip_score_model)
        if {"clipsim", "frame_consistency"} & set(self.wanted):
            specs.append(self.videostudio_model)
        return list(dict.fromkeys(specs))

    def _model(self, spec: str):
        if spec not in self._models:
            from mvbench.encoders.clip_hf import build_clip

            self._models[spec] = build_clip(spec, device=self.options.get("device") or "cpu")
        return self._models[spec]

    def _text(self, spec: str, text: str, truncation: str) -> np.ndarray:
        key = (spec, text, truncation)
        if key not in self._texts:
            self._texts[key] = self._model(spec).encode_texts([text], truncation)[0]
        return self._texts[key]

    def _image_protocol(self):
        from mvbench.encoders.clip_hf import ClipImageProtocol

        if self.protocol == "clip-score":
            return ClipImageProtocol(crop_rounding="round")
        return ClipImageProtocol(crop_rounding="floor", double_rescale=self.protocol == "moviebench")

    def encoders(self) -> list[str]:
        return self._model_specs()

    def config(self) -> dict:
        cfg: dict[str, Any] = {"metrics": self.wanted}
        if "clip_score" in self.wanted:
            cfg["clip_score"] = {"protocol": self.protocol, "model": self.clip_score_model,
                                 "frames": self.cs_frames.as_dict(), "image": self._image_protocol().as_dict(),
                                 "text_truncation": "keep_eot" if self.protocol == "clip-score" else "cut",
                                 "aggregate": "mean over frames" if self.protocol == "clip-score"
                                 else "mean over shots of max(0, mean over frames of 100 cos)"}
        if {"clipsim", "frame_consistency"} & set(self.wanted):
            cfg["videostudio"] = {"model": self.videostudio_model, "frames": self.vs_frames.as_dict(),
                                  "image": {"crop": "centre 224, offset floor", "double_rescale": False},
                                  "text_truncation": "keep_eot"}
        cfg["models"] = {spec: m.describe() for spec, m in self._models.items()}
        return cfg

    def requests(self, videos: ItemVideos) -> list[Request]:
        reqs: list[Request] = []
        for ref in videos.scenes:
            if "clip_score" in self.wanted:
                reqs += self.cs_frames.requests(ref)
            if {"clipsim", "frame_consistency"} & set(self.wanted):
                reqs += self.vs_frames.requests(ref)
        return list(dict.fromkeys(reqs))

    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        per_scene: dict[str, list] = {m: [] for m in self.wanted}
        units: dict[str, tuple[float, int]] = {}
        if "clip_score" in self.wanted:
            model = self._model(self.clip_score_model)
            truncation = "keep_eot" if self.protocol == "clip-score" else "cut"
            total, count = 0.0, 0
            for scene, ref in zip(videos.item.scenes, videos.scenes):
                emb = model.encode_frames(self.cs_frames.frames(ref, results), self._image_protocol())
                text = self._text(self.clip_score_model, scene.prompt, truncation)
                if self.protocol == "clip-score":
                    pairs = clip_score_pairs(emb, text, model.logit_scale)
                    total, count = total + float(pairs.sum()), count + int(pairs.size)
                    per_scene["clip_score"].append(float(pairs.mean()))
                else:
                    value = clip_score_torchmetrics(emb, text)
                    total, count = total + value, count + 1
                    per_scene["clip_score"].append(value)
            units["clip_score"] = (total, count)
        if {"clipsim", "frame_consistency"} & set(self.wanted):
            model = self._model(self.videostudio_model)
            sims, consistencies = [], []
            for scene, ref in zip(videos.item.scenes, videos.scenes):
                emb = model.encode_frames(self.vs_frames.frames(ref, results))
                if "clipsim" in self.wanted:
                    sims.append(clipsim(emb, self._text(self.videostudio_model, scene.prompt, "keep_eot")))
                if "frame_consistency" in self.wanted and emb.shape[0] >= 2:
                    consistencies.append(frame_consistency(emb))
                elif "frame_consistency" in self.wanted:
                    consistencies.append(None)
            if "clipsim" in self.wanted:
                per_scene["clipsim"] = sims
                units["clipsim"] = (float(np.sum(sims)), len(sims))
            if "frame_consistency" in self.wanted:
                per_scene["frame_consistency"] = consistencies
                good = [c for c in consistencies if c is not None]
                if good:
                    units["frame_consistency"] = (float(np.sum(good)), len(good))
        values = {m: round(s / c, DECIMALS) for m, (s, c) in units.items() if c > 0}
        details: dict[str, Any] = {f"{m}_per_scene": [None if v is None else round(v, DECIMALS) for v in vals]
                                   for m, vals in per_scene.items()}
        single = [k for k, v in enumerate(per_scene.get("frame_consistency", []), start=1) if v is None]
        if single:
            details["frame_consistency_single_frame_scenes"] = single
        return ItemScore(values, details, payload=units)

    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        out: dict[str, dict] = {}
        n_boot = int(self.options.get("bootstrap") or 1000)
        for info in self.metrics:
            if info.name not in self.wanted:
                continue
            parts = [s.payload[info.name] for s in scores.values() if s.payload and info.name in s.payload]
            summary: dict[str, Any] = {"mean": None, "ci95": None, "n": len(parts), "higher_is_better": True,
                                       "std": None, "unit": UNITS[info.name], "n_units": 0}
            if parts:
                sums = np.array([p[0] for p in parts], dtype=np.float64)
                counts = np.array([p[1] for p in parts], dtype=np.float64)
                lo, hi = pooled_mean_bootstrap_ci(sums, counts, n_resamples=n_boot, seed=seed)
                per_item = sums / counts
                summary.update({
                    "mean": round(pooled_mean(sums, counts), DECIMALS),
                    "ci95": [round(lo, DECIMALS), round(hi, DECIMALS)],
                    "std": round(float(per_item.std(ddof=1)), DECIMALS) if per_item.size > 1 else 0.0,
                    "n_units": int(counts.sum()),
                })
            if info.name == "frame_consistency":
                single = sum(len(s.details.get("frame_consistency_single_frame_scenes", [])) for s in scores.values())
                if single:
                    summary["warnings"] = [f"{single} scene(s) have a single frame and no consecutive pair; "
                                           "they are left out of frame_consistency"]
            out[info.name] = summary
        return out

