"""VBench's appearance / quality dimensions, scored as VBench scores a video (Huang et al., CVPR 2024;
Vchitect/VBench ``vbench/<dimension>.py``):

=========================  =========================================  ==========================================
metric                     network (weights entry)                    per-video formula (:mod:`metrics.vbench_quality`)
=========================  =========================================  ==========================================
``subject_consistency``    DINO ViT-B/16 (``dino-vitb16``)            mean of (prev-frame + first-frame cos) / 2
``background_consistency`` CLIP ViT-B/32 (``clip-vit-b32-openai``)    the same on CLIP image features
``aesthetic_quality``      CLIP ViT-L/14 + LAION linear head          mean frame rating / 10
                           (``clip-vit-l14-openai``,
                           ``laion-aesthetic-vit-l14``)
``imaging_quality``        MUSIQ-SPAQ via pyiqa (``musiq-spaq``)      mean frame score / 100
``temporal_flickering``    none                                       (255 - mean consecutive-frame MAE) / 255
=========================  =========================================  ==========================================

Every frame of a video is used (VBench's ``load_video`` reads them all); preprocessing is VBench's
(:mod:`mvbench.encoders.vbench_preprocess`). Only the networks of the requested metrics are built.

How an item of several scenes becomes one number (``--vbench-mode``, shared with
:mod:`mvbench.scorers.vbench_motion`):

* ``scene`` (default): each scene is one VBench video; the item's value is the mean over its scenes.
* ``video``: the item's scenes, joined in order, are one VBench video (what VBench reports for a
  single file holding every scene; consistency then also compares frames across scene cuts).
* ``long``: VBench-Long's in-clip protocol (``vbench2_beta_long``): each scene (mvbench knows the cuts,
  where VBench-Long runs PySceneDetect) is cut into clips of ``int(fps) · --vbench-long-seconds`` frames
  (:func:`metrics.vbench_quality.vbench_long_clip_ranges`), each clip scored as a VBench video, the
  clip scores averaged per scene, the scene values averaged per item.

Items are then averaged with a bootstrap 95% CI (:meth:`Scorer.aggregate`); values are fractions in
[0, 1] (VBench's units; papers print them x100) and each summary says ``"unit": "fraction"``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from metrics.vbench_quality import (
    aesthetic_quality,
    frame_pair_mae,
    imaging_quality,
    temporal_flickering_from_mae,
    vbench_consistency,
    vbench_long_clip_ranges,
)
from mvbench.config import Option, positive, resolve
from mvbench.encoders.vbench_archs import CLIP_VIT_B32, CLIP_VIT_L14, DINO_VITB16, MUSIQ_MODES, MUSIQ_SPAQ
from mvbench.errors import MissingExtraError
from mvbench.scorers.base import (
    FrameRequest,
    ItemScore,
    ItemVideos,
    MetricInfo,
    Request,
    Scorer,
    VideoRef,
    requested_in_family,
)
from mvbench.scorers.vbench_options import VBENCH_LONG_SECONDS, VBENCH_MODE
from mvbench.stats import DECIMALS

if TYPE_CHECKING:
    import torch

VBENCH_METRICS = ("subject_consistency", "background_consistency", "aesthetic_quality", "imaging_quality",
                  "temporal_flickering")
#: weights entries each metric needs
WEIGHTS: dict[str, tuple[str, ...]] = {
    "subject_consistency": ("dino-vitb16",),
    "background_consistency": ("clip-vit-b32-openai",),
    "aesthetic_quality": ("clip-vit-l14-openai", "laion-aesthetic-vit-l14"),
    "imaging_quality": ("musiq-spaq",),
    "temporal_flickering": (),
}
#: network sizes: VBench's. Tests swap in smaller ones (results then record ``architectures: "test"``).
ARCHITECTURES: dict[str, Any] = {"dino": DINO_VITB16, "clip_b32": CLIP_VIT_B32, "clip_l14": CLIP_VIT_L14,
                                 "musiq": MUSIQ_SPAQ}
_OFFICIAL = dict(ARCHITECTURES)


def all_frames(ref: VideoRef) -> FrameRequest:
    """Every frame of ``ref`` (``middle`` sampling of ``num_frames`` out of ``num_frames`` is the identity)."""
    return FrameRequest(ref, ref.num_frames, "middle")


def requested_metrics(options: Mapping[str, Any]) -> list[str]:
    """This scorer's metrics among ``options["metrics"]`` (list or comma-separated), all five if unset."""
    return requested_in_family(options, VBENCH_METRICS, VBENCH_METRICS)


class _Networks:
    """The networks of the requested metrics, built on first use on ``device``."""

    def __init__(self, device: str):
        self.device = device
        self.half_clip = str(device).startswith("cuda")  # clip.load keeps fp16 weights on CUDA
        self._built: dict[str, Any] = {}

    def get(self, key: str):
        if key not in self._built:
            self._built[key] = self._build(key)
        return self._built[key]

    def _build(self, key: str):
        from mvbench import weights

        if key == "dino":
            from mvbench.encoders.dino import load_dino

            return load_dino(weights.require("dino-vitb16"), ARCHITECTURES["dino"]).to(self.device)
        if key in ("clip_b32", "clip_l14"):
            from mvbench.encoders.clip_openai import load_openai_clip_visual

            name = "clip-vit-b32-openai" if key == "clip_b32" else "clip-vit-l14-openai"
            return load_openai_clip_visual(weights.require(name), ARCHITECTURES[key], name,
                                           half=self.half_clip).to(self.device)
        if key == "aesthetic":
            from mvbench.encoders.aesthetic import load_aesthetic_head

            return load_aesthetic_head(weights.require("laion-aesthetic-vit-l14"),
                                       ARCHITECTURES["clip_l14"].embed_dim).to(self.device)
        if key == "musiq":
            from mvbench.encoders.musiq import load_musiq

            return load_musiq(weights.require("musiq-spaq"), ARCHITECTURES["musiq"]).to(self.device)
        raise KeyError(key)


class VBenchAppearanceScorer(Scorer):
    name = "vbench_appearance"
    metrics = (
        MetricInfo("subject_consistency", True, "VBench subject consistency (DINO ViT-B/16), fraction"),
        MetricInfo("background_consistency", True, "VBench background consistency (CLIP ViT-B/32), fraction"),
        MetricInfo("aesthetic_quality", True, "VBench aesthetic quality (LAION predictor on CLIP ViT-L/14), fraction"),
        MetricInfo("imaging_quality", True, "VBench imaging quality (MUSIQ-SPAQ), fraction"),
        MetricInfo("temporal_flickering", True, "VBench temporal flickering (1 - mean frame difference / 255)"),
    )
    option_title = ("VBench quality dimensions (subject_consistency, background_consistency, aesthetic_quality, "
                    "imaging_quality, temporal_flickering)")
    option_specs = (
        VBENCH_MODE,
        VBENCH_LONG_SECONDS,
        Option("imaging_quality_preprocessing", "longer", "VBench's imaging_quality_preprocessing_mode: cap the "
               "longer (or shorter) side at 512 before MUSIQ; none = VBench's 'None'", choices=MUSIQ_MODES),
        Option("vbench_frame_batch", 32, "frames per network call (memory and speed only)", type=int,
               check=positive),
    )

    def __init__(self, options: dict | None = None):
        super().__init__(options)
        names = {s.name for s in self.option_specs}
        self.settings = resolve({k: v for k, v in self.options.items() if k in names}, self.option_specs)
        self.wanted = requested_metrics(self.options)
        self._check_setup()  # before torch is imported: a missing file or extra is reported at once
        import torch

        self.device = str(self.options.get("device") or ("cuda" if torch.cuda.is_available() else "cpu"))
        self._nets = _Networks(self.device)

    @classmethod
    def required_weights(cls, options: Mapping[str, Any]) -> list[str]:
        return [name for metric in requested_metrics(options) for name in WEIGHTS[metric]]

    def _check_setup(self) -> None:
        """Missing weights or pyiqa stop the run before any decoding (names what to fetch or install)."""
        from mvbench import weights

        planning = bool(self.options.get("_planning_only"))
        if not planning:  # `validate` lists every missing file itself (runner.missing_weight_errors)
            for metric in self.wanted:
                for name in WEIGHTS[metric]:
                    weights.require(name)
        if "imaging_quality" in self.wanted and importlib.util.find_spec("pyiqa") is None:
            missing = MissingExtraError("imaging_quality (MUSIQ, as VBench runs it)", "vbench", "pyiqa")
            if not planning:
                raise missing
            self.setup_errors.append(missing)

    def config(self) -> dict:
        from mvbench import weights

        nets = {m: {n: weights.weights_hash(n) for n in WEIGHTS[m]} for m in self.wanted if WEIGHTS[m]}
        official = all(ARCHITECTURES[k] == v for k, v in _OFFICIAL.items())
        return {
            "metrics": list(self.wanted),
            "mode": self.settings["vbench_mode"],
            "long_seconds": self.settings["vbench_long_seconds"] if self.settings["vbench_mode"] == "long" else None,
            "imaging_quality_preprocessing": self.settings["imaging_quality_preprocessing"],
            "frames": "all",
            "weights_sha256": nets,
            "precision": {"clip": "fp16" if self._nets.half_clip else "fp32", "dino": "fp32", "musiq": "fp32"},
            "architectures": "vbench" if official else "test",
        }

    def requests(self, videos: ItemVideos) -> list[Request]:
        return [all_frames(ref) for ref in videos.scenes]

    # -- per-frame quantities -------------------------------------------------------------------------

    def _per_frame(self, frames: torch.Tensor, prepare: Callable[[torch.Tensor], torch.Tensor],
                   run: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
        """``run(prepare(frames))`` in batches of ``vbench_frame_batch`` frames, float64 on the CPU. The
        uint8 frames move to the device first, so resizing runs there too (VBench resizes on the CPU: the
        same operations, float rounding aside)."""
        import torch

        bs = int(self.settings["vbench_frame_batch"])
        out = []
        with torch.inference_mode():
            for i in range(0, frames.shape[0], bs):
                x = prepare(frames[i:i + bs].to(self.device))
                out.append(run(x).float().cpu())
        return torch.cat(out).double().numpy()

    def _frame_values(self, metric: str, frames: torch.Tensor) -> np.ndarray:
        from mvbench.encoders import vbench_preprocess as pp

        if metric == "subject_consistency":
            return self._per_frame(frames, pp.dino_input, self._nets.get("dino"))
        if metric == "background_consistency":
            return self._per_frame(frames, pp.clip_input, self._nets.get("clip_b32"))
        if metric == "aesthetic_quality":
            from mvbench.encoders.aesthetic import aesthetic_scores

            clip, head = self._nets.get("clip_l14"), self._nets.get("aesthetic")
            return self._per_frame(frames, pp.clip_input, lambda x: aesthetic_scores(head, clip(x)))
        if metric == "imaging_quality":
            musiq = self._nets.get("musiq")
            mode = self.settings["imaging_quality_preprocessing"]
            return self._per_frame(frames, lambda f: pp.musiq_input(f, mode), lambda x: musiq(x).reshape(-1))
        if metric == "temporal_flickering":
            return frame_pair_mae(frames.to(self.device))
        raise KeyError(metric)

    # -- formulas over a frame range --------------------------------------------------------------------

    @staticmethod
    def _unit(metric: str, values: np.ndarray, start: int, end: int) -> float:
        """The VBench score of frames ``[start, end)`` from per-frame values (pair MAEs for flickering)."""
        if metric in ("subject_consistency", "background_consistency"):
            return vbench_consistency(values[start:end])
        if metric == "aesthetic_quality":
            return aesthetic_quality(values[start:end])
        if metric == "imaging_quality":
            return imaging_quality(values[start:end])
        return temporal_flickering_from_mae(values[start:end - 1])

    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        frames = [results[r] for r in self.requests(videos)]
        mode = self.settings["vbench_mode"]
        where = f"item {videos.item.id!r}"
        values: dict[str, float] = {}
        details: dict[str, Any] = {"mode": mode, "frames": [int(f.shape[0]) for f in frames]}
        scenes: dict[str, list[float]] = {}
        if mode == "long":
            clip_ranges = [vbench_long_clip_ranges(int(f.shape[0]), ref.fps, self.settings["vbench_long_seconds"])
                           for f, ref in zip(frames, videos.scenes)]
            details["long_clips"] = [len(r) for r in clip_ranges]
        for metric in self.wanted:
            try:
                per_scene = [self._frame_values(metric, f) for f in frames]
                if mode == "video":
                    joined = self._join(metric, per_scene, frames, where)
                    values[metric] = self._unit(metric, joined, 0, sum(int(f.shape[0]) for f in frames))
                    continue
                if mode == "scene":
                    scene_vals = [self._unit(metric, v, 0, int(f.shape[0])) for v, f in zip(per_scene, frames)]
                else:
                    scene_vals = [float(np.mean([self._unit(metric, v, s, e) for s, e in ranges]))
                                  for v, ranges in zip(per_scene, clip_ranges)]
            except ValueError as exc:
                raise ValueError(f"{where}: {metric}: {exc}") from None
            scenes[metric] = [round(x, DECIMALS) for x in scene_vals]
            values[metric] = float(np.mean(scene_vals))
        if scenes:
            details["scenes"] = scenes
        return ItemScore({k: round(v, DECIMALS) for k, v in values.items()}, details)

    @staticmethod
    def _join(metric: str, per_scene: list[np.ndarray], frames: list[torch.Tensor], where: str) -> np.ndarray:
        """Per-frame values of the scenes joined into one video; for flickering the MAE of each pair
        across a cut is added between the scenes' own pair MAEs."""
        import torch

        if metric != "temporal_flickering":
            return np.concatenate(per_scene)
        parts = [per_scene[0]]
        for k in range(1, len(frames)):
            a, b = frames[k - 1][-1:], frames[k][:1]
            if a.shape != b.shape:
                raise ValueError(f"{where}: temporal_flickering over the whole video needs scenes of one frame "
                                 f"size; scene {k} is {tuple(a.shape[1:3])}, scene {k + 1} {tuple(b.shape[1:3])}")
            parts += [frame_pair_mae(torch.cat([a, b])), per_scene[k]]
        return np.concatenate(parts)

    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        out = super().aggregate(scores, seed)
        for summary in out.values():
            summary["unit"] = "fraction"
        return {k: v for k, v in out.items() if k in self.wanted}
