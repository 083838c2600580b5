"""VBench motion smoothness and dynamic degree, exact to VBench (``vbench/motion_smoothness.py`` and
``vbench/dynamic_degree.py`` of Vchitect/VBench); formulas in :mod:`metrics.vbench_motion`, networks
in :mod:`mvbench.encoders.amt` (AMT-S, ``amt-s.pth``) and :mod:`mvbench.encoders.raft` (RAFT,
``raft-things.pth``).

Every scene is decoded once, all frames at native size and frame rate (one :class:`FrameRequest`
shared by both metrics). What counts as one VBench "video" is ``--vbench-mode`` (shared with
:mod:`mvbench.scorers.vbench_appearance`):

* ``scene`` (default): each scene is one video, scored as VBench scores a file; an item's value is the
  mean over its scenes;
* ``long``: VBench-Long (``vbench2_beta_long``) with mvbench's scene boundaries in place of
  PySceneDetect: each scene is cut into clips of ``int(fps) * --vbench-long-seconds`` frames (2 s by
  default; the remainder becomes a clip of the scene's last frames), each clip is scored as a video at
  ``int(fps)`` frames per second, and the item's value is the mean over all its clips (VBench-Long
  averages over clips);
* ``video``: the item's scenes joined into one video, scored once (standard VBench on a whole
  multi-scene file).

Per video, motion smoothness is in [0, 1] and dynamic degree is 0 or 1 (VBench's boolean), so an
item's dynamic degree is its fraction of dynamic videos. Aggregate: mean over items with a bootstrap
95% CI; summaries carry ``"unit": "fraction"``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from metrics.vbench_motion import (
    amt_padding_divisor,
    amt_scale,
    dynamic_degree_frames,
    dynamic_degree_interval,
    dynamic_degree_params,
    flow_top_magnitude,
    is_dynamic,
    long_clip_ranges,
    mean_or_nan,
    motion_smoothness,
    motion_smoothness_frames,
)
from mvbench.config import Option, positive
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

log = logging.getLogger(__name__)

METRICS = ("motion_smoothness", "dynamic_degree")
#: the correlation pyramids of AMT-S and RAFT (4 levels on a 1/8 grid) need this many padded pixels per side
MIN_PADDED_SIDE = 64
#: below this many padded pixels per side the coarsest level is 1 px wide: the original lookup normalises
#: coordinates by (1 - 1) there, the networks output NaN and VBench's score carries no information
DEGENERATE_BELOW = 128


def _requested(options: Mapping[str, Any]) -> list[str]:
    return requested_in_family(options, METRICS, METRICS) or list(METRICS)


def _check_size(path: str, height: int, width: int, divisor: int, scale: float, network: str) -> bool:
    """Raise if the network cannot run on these frames (as VBench would fail); True if it runs degenerate
    (coarsest correlation level 1 px wide: NaN inside the network, as in VBench)."""
    sides = []
    for side in (height, width):
        padded = -(-side // divisor) * divisor
        sides.append(int(padded * scale))
    if min(sides) < MIN_PADDED_SIDE:
        raise ValueError(f"{path}: {width}x{height} frames are too small for VBench's {network} (its 4-level "
                         f"correlation pyramid needs at least {MIN_PADDED_SIDE} px per side after padding; "
                         "VBench fails on such a video too)")
    return min(sides) < DEGENERATE_BELOW


@contextmanager
def deterministic_cudnn() -> Iterator[None]:
    """cuDNN restricted to deterministic algorithms while the networks run (restored afterwards).

    VBench leaves cuDNN free to pick non-deterministic algorithms, so its own CUDA runs of AMT-S differ
    from run to run in a few percent of the interpolated uint8 values (by 1); with deterministic
    algorithms VBench and mvbench agree exactly (checked on an H200). No effect on CPU."""
    import torch

    previous = torch.backends.cudnn.deterministic
    torch.backends.cudnn.deterministic = True
    try:
        yield
    finally:
        torch.backends.cudnn.deterministic = previous


def score_motion_smoothness(frames: np.ndarray, model, vram_gib: float | None = None, batch: int = 1,
                            path: str = "video") -> dict[str, Any]:
    """VBench motion smoothness of one video (uint8 ``[N, H, W, 3]``) with an AMT-S ``model``.

    Even frames go to the interpolator, its midframes are compared with the odd frames:
    ``(255 - mean |odd - pred|) / 255`` (:func:`metrics.vbench_motion.motion_smoothness`).
    ``vram_gib`` applies VBench's CUDA downscaling rule (:func:`metrics.vbench_motion.amt_scale`).
    """
    from mvbench.encoders.amt import interpolate_midframes

    n, h, w, _ = frames.shape
    inputs, targets = motion_smoothness_frames(n)
    scale = amt_scale(h, w, None if vram_gib is None else vram_gib * 1024**3)
    degenerate = _check_size(path, h, w, amt_padding_divisor(scale), scale, "AMT-S")
    with np.errstate(invalid="ignore"), deterministic_cudnn():  # NaN -> uint8 as VBench's tensor2img
        preds = interpolate_midframes(model, frames[inputs], scale=scale, batch=batch)
    return {"value": motion_smoothness([frames[t] for t in targets], preds), "scale": scale,
            "num_predictions": len(preds), "degenerate": degenerate}


def score_dynamic_degree(frames: np.ndarray, fps: float, model, batch: int = 1, early_exit: bool = True,
                         path: str = "video") -> dict[str, Any]:
    """VBench dynamic degree (1.0 dynamic / 0.0 static) of one video (uint8 ``[N, H, W, 3]`` at ``fps``)
    with a RAFT ``model``: frames ``0, s, 2s, ...`` (``s = max(1, round(fps / 8))``), top-5% flow
    magnitude per consecutive pair, dynamic when ``round(4 n / 16)`` pairs exceed ``6 min(h, w) / 256``.
    ``early_exit`` stops once the count is reached (the verdict cannot change)."""
    from mvbench.encoders.raft import pair_flows

    n, h, w, _ = frames.shape
    idx = dynamic_degree_frames(n, fps)
    threshold, needed = dynamic_degree_params(h, w, len(idx))
    scores: list[float] = []
    degenerate = False
    if len(idx) > 1:
        degenerate = _check_size(path, h, w, 8, 1.0, "RAFT")
        over = 0
        with deterministic_cudnn():
            for flow in pair_flows(model, frames[idx], batch=batch):
                scores.append(flow_top_magnitude(flow))
                over += scores[-1] > threshold
                if early_exit and over >= needed:
                    break
    return {"value": float(is_dynamic(scores, threshold, needed)), "threshold": threshold, "count_needed": needed,
            "pair_scores": scores, "interval": dynamic_degree_interval(fps), "num_sampled": len(idx),
            "degenerate": degenerate}


class VBenchMotionScorer(Scorer):
    name = "vbench_motion"
    metrics = (
        MetricInfo("motion_smoothness", True,
                   "VBench motion smoothness: (255 - mean |odd frame - AMT-S midframe of its even neighbours|) / 255"),
        MetricInfo("dynamic_degree", True,
                   "VBench dynamic degree: fraction of videos whose RAFT flow (top 5% magnitude) moves enough"),
    )
    option_title = "VBench motion dimensions (motion_smoothness, dynamic_degree)"
    option_specs = (
        VBENCH_MODE,
        VBENCH_LONG_SECONDS,
        Option("ms_vram_gib", None,
               "motion smoothness: downscale large frames for AMT-S by VBench's CUDA rule for a GPU of this many "
               "GiB (default: no downscaling, VBench's CPU rule; equal to its CUDA rule whenever that gives 1)",
               type=float, check=positive, metavar="GIB"),
        Option("motion_pair_batch", 1,
               "frame pairs per AMT-S / RAFT call (1 as VBench; more is faster on a GPU and may change the "
               "last digits)", check=positive),
        Option("dd_all_pairs", False,
               "dynamic degree: compute the flow of every pair even once a video is known to be dynamic "
               "(same scores; per-pair magnitudes complete in the details)", type=bool),
    )

    def __init__(self, options: dict | None = None, *, interpolator=None, flow_model=None):
        super().__init__(options)
        self.wanted = _requested(self.options)
        self._amt = interpolator
        self._raft = flow_model
        self._sha: dict[str, str | None] = {}
        for spec in self.option_specs:
            self.opt(spec.name)  # bad values fail now, naming the option
        from mvbench import weights

        # fail before decoding anything; the hashes go to the results file (`validate` lists missing
        # files itself: runner.missing_weight_errors)
        planning = bool(self.options.get("_planning_only"))
        if "motion_smoothness" in self.wanted and interpolator is None and not planning:
            self._sha["amt-s"] = weights.file_sha256(weights.require("amt-s"))
        if "dynamic_degree" in self.wanted and flow_model is None and not planning:
            self._sha["raft-things"] = weights.file_sha256(weights.require("raft-things"))

    @classmethod
    def required_weights(cls, options: Mapping[str, Any]) -> list[str]:
        wanted = _requested(options)
        return (["amt-s"] if "motion_smoothness" in wanted else []) + (["raft-things"] if "dynamic_degree" in wanted else [])

    # ------------------------------------------------------------------ options and set-up
    def opt(self, name: str) -> Any:
        spec = next(s for s in self.option_specs if s.name == name)
        value = self.options.get(name)
        return spec.default if value is None else spec.coerce(value)

    @property
    def device(self) -> str:
        return str(self.options.get("device") or "cpu")

    def _interpolator(self):
        if self._amt is None:
            from mvbench.encoders.amt import build_amt_s

            self._amt, self._sha["amt-s"] = build_amt_s(device=self.device)
        return self._amt

    def _flow_model(self):
        if self._raft is None:
            from mvbench.encoders.raft import build_raft

            self._raft, self._sha["raft-things"] = build_raft(device=self.device)
        return self._raft

    def config(self) -> dict:
        mode = self.opt("vbench_mode")
        cfg: dict[str, Any] = {"mode": mode, "pair_batch": self.opt("motion_pair_batch"), "frames": "all, native size"}
        if mode == "long":
            cfg["long_clip_seconds"] = self.opt("vbench_long_seconds")
        if "motion_smoothness" in self.wanted:
            vram = self.opt("ms_vram_gib")
            cfg["motion_smoothness"] = {
                "network": "AMT-S (corr radius 3, 4 levels, 3 flows)", "weights": "amt-s",
                "weights_sha256": self._sha.get("amt-s"), "embt": 0.5,
                "downscale_rule": "none (VBench CPU)" if vram is None else f"VBench CUDA, {vram:g} GiB",
                "padding": "replicate to multiples of int(16 / scale)"}
        if "dynamic_degree" in self.wanted:
            cfg["dynamic_degree"] = {
                "network": "RAFT (princeton-vl, small=False)", "weights": "raft-things",
                "weights_sha256": self._sha.get("raft-things"), "iters": 20,
                "sampling": "every max(1, round(fps / 8))-th frame", "threshold": "6 * min(h, w) / 256",
                "count": "round(4 * sampled / 16)", "early_exit": not self.opt("dd_all_pairs")}
        return cfg

    # ------------------------------------------------------------------ requests and scoring
    def requests(self, videos: ItemVideos) -> list[Request]:
        return [FrameRequest(ref, ref.num_frames, "first") for ref in videos.scenes]

    def _units(self, videos: ItemVideos, results: Mapping[Request, Any]) -> list[tuple[str, np.ndarray, float, str]]:
        """``(label, frames, fps, path)`` of every VBench video of the item under the chosen mode."""
        mode = self.opt("vbench_mode")
        scenes = []
        for k, ref in enumerate(videos.scenes, start=1):
            frames = results[FrameRequest(ref, ref.num_frames, "first")]
            scenes.append((k, ref, np.asarray(frames)))
        if mode == "scene":
            return [(f"scene_{k}", f, ref.fps, ref.path) for k, ref, f in scenes]
        if mode == "video":
            shapes = {f.shape[1:] for _, _, f in scenes}
            if len(shapes) > 1:
                raise ValueError(f"item {videos.item.id!r}: scenes have different frame sizes {sorted(shapes)}; "
                                 "--vbench-mode video needs one size")
            first: VideoRef = scenes[0][1]
            return [("video", np.concatenate([f for _, _, f in scenes]), first.fps, first.path)]
        seconds = int(self.opt("vbench_long_seconds"))
        units = []
        for k, ref, f in scenes:
            for c, (a, b) in enumerate(long_clip_ranges(len(f), ref.fps, seconds)):
                units.append((f"scene_{k}_clip_{c:03d}", f[a:b], float(int(ref.fps)), ref.path))
        return units

    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        units = self._units(videos, results)
        batch = int(self.opt("motion_pair_batch"))
        per_unit: dict[str, list] = {m: [] for m in self.wanted}
        details: dict[str, Any] = {"mode": self.opt("vbench_mode"), "videos": [u[0] for u in units]}
        dd_info = []
        degenerate: set[str] = set()
        for label, frames, fps, path in units:
            if "motion_smoothness" in self.wanted:
                ms = score_motion_smoothness(frames, self._interpolator(), self.opt("ms_vram_gib"), batch, path)
                per_unit["motion_smoothness"].append(ms["value"])
                if ms["degenerate"]:
                    degenerate.add(label)
            if "dynamic_degree" in self.wanted:
                dd = score_dynamic_degree(frames, fps, self._flow_model(), batch, not self.opt("dd_all_pairs"), path)
                per_unit["dynamic_degree"].append(dd["value"])
                if dd["degenerate"]:
                    degenerate.add(label)
                dd_info.append({"threshold": round(dd["threshold"], DECIMALS), "count_needed": dd["count_needed"],
                                "interval": dd["interval"], "sampled_frames": dd["num_sampled"],
                                "pairs_over": int(sum(s > dd["threshold"] for s in dd["pair_scores"])),
                                "pair_magnitudes": [round(s, 4) if np.isfinite(s) else None for s in dd["pair_scores"]]})
        values = {m: round(mean_or_nan(v), DECIMALS) for m, v in per_unit.items()}
        for m, v in per_unit.items():
            details[m] = [round(float(x), DECIMALS) for x in v]
        if dd_info:
            details["dynamic_degree_pairs"] = dd_info
        if degenerate:
            details["under_128px"] = sorted(degenerate)
        return ItemScore(values, details)

    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        out = super().aggregate(scores, seed)
        small = sorted(i for i, s in scores.items() if s.details.get("under_128px"))
        for name in list(out):
            if name not in self.wanted:
                del out[name]
                continue
            out[name]["unit"] = "fraction"
            out[name]["mode"] = self.opt("vbench_mode")
            if small:
                out[name].setdefault("warnings", []).append(
                    f"{len(small)} item(s) have videos under {DEGENERATE_BELOW} px per side (e.g. {small[0]!r}): the "
                    "coarsest correlation level of AMT-S/RAFT is 1 px wide there, where the original lookup divides "
                    "by zero; the networks output NaN and the scores, though VBench's own, carry no information")
        return out


__all__ = ["VBenchMotionScorer", "score_dynamic_degree", "score_motion_smoothness"]
