"""FID, per-frame FID and Inception Score of generated frames (MovieBench Table 5 "Inception" and "FID";
VideoStudio Tables 3, 4 and S3 "FID", read as ``fid_per_frame``).

Frames and features by ``--fid-protocol``:

* ``pytorch-fid`` (default; the FID tool MovieBench cites and the common reading of VideoStudio's):
  16 frames per scene at segment midpoints (``--fid-frames``), pytorch-fid's Inception
  (``inception-fid``) with its preprocessing (bilinear 299 x 299 without antialiasing, [-1, 1]),
  2048-d pool3 features;
* ``moviebench`` (MovieBench's released ``metrics/Metric_4_fid.py``): 25 frames at interval
  ``T // 25`` of which the last is dropped (the script keeps ``min(len) - 1`` frames per shot),
  optionally resized to ``R x R`` first (``--fid-resize``), torchmetrics'
  ``FrechetInceptionDistance(feature=192)``: torch-fidelity's Inception
  (``inception-torch-fidelity``, TF-1 bilinear resize, ``(x - 128) / 128``), **192-d** features.

``fid``: squared Fréchet distance (:func:`metrics.frechet_distance`) between the Gaussian fit of
all generated frames and the reference statistics (``--fid-reference``, built by
``mvbench fvd-stats --extractor inception-fid`` or ``inception-moviebench`` with the same frame
protocol); CI from resampling generated frames (:func:`metrics.frechet_distance_bootstrap`).
``fid_per_frame``: the mean over frame positions ``k`` of the FID of the k-th sampled frames of all
scenes against the same reference (:func:`metrics.per_index_fid`; VideoStudio's "average of the
per-frame FID", mvbench's reading). ``inception_score``: torchmetrics' ``InceptionScore`` protocol
(MovieBench's ``metrics/Metric_2_Inception.py``): torch-fidelity's Inception logits without bias
over 1008 classes for every sampled frame (all 25 under ``moviebench``), a seeded random permutation
(``--is-seed``, the script's ``torch.manual_seed(123)``), ``--is-splits`` groups
(:func:`metrics.inception_score`); ``std`` is the spread over groups, ``ci95`` resamples frames.

Fewer frames than feature dimensions + 1 (2049, or 193 under ``moviebench``) make the covariance
singular and FID biased upward: the value is flagged ``unreliable`` with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from metrics import GaussianStats, frechet_distance, frechet_distance_bootstrap
from metrics.frame_fid import per_index_fid
from metrics.inception_score import inception_score
from mvbench.config import Option, positive
from mvbench.errors import MvbenchError
from mvbench.frame_protocol import FrameProtocol
from mvbench.scorers.base import ItemScore, ItemVideos, MetricInfo, Request, Scorer, requested_in_family
from mvbench.stats import DECIMALS

FID_METRICS = ("fid", "fid_per_frame", "inception_score")
FID_PROTOCOLS = ("pytorch-fid", "moviebench")
IS_WEIGHTS = "inception-torch-fidelity"
IS_FEATURE = "logits_unbiased"
LARGE_SET = 512
LARGE_SET_REPLICATES = 200
UNITS = {"fid": "distance", "fid_per_frame": "distance", "inception_score": "score"}

#: the options each paper preset sets for these metrics (for ``--protocol``)
PAPER_OPTIONS = {
    "moviebench": {"fid_protocol": "moviebench"},
    "videostudio": {"fid_protocol": "pytorch-fid", "fid_frames": 16},
}


@dataclass(frozen=True)
class FeatureProtocol:
    """Everything that decides a frame's FID features (recorded in reference files and results)."""

    name: str
    weights: str
    preprocess: str
    feature: str
    frames: FrameProtocol

    @property
    def dim(self) -> int:
        return int(self.feature)

    def as_dict(self) -> dict:
        """The reference-file protocol: must be equal for generated and reference frames."""
        return {"unit": "frame", "fid_protocol": self.name, "preprocess": self.preprocess, "feature": self.feature,
                "input_size": 299, **self.frames.as_dict()}


def feature_protocol(name: str, frames: int | None = None, resize: int | None = None) -> FeatureProtocol:
    """The :class:`FeatureProtocol` of ``--fid-protocol NAME`` (frames per scene and resize overridable).

    >>> feature_protocol("moviebench").as_dict()["num_frames"], feature_protocol("pytorch-fid").feature
    (25, '2048')
    """
    if name == "pytorch-fid":
        return FeatureProtocol(name, "inception-fid", "pytorch-fid", "2048",
                               FrameProtocol("middle", int(frames or 16), resize=resize))
    if name == "moviebench":
        return FeatureProtocol(name, "inception-torch-fidelity", "torch-fidelity", "192",
                               FrameProtocol("interval", int(frames or 25), drop_last=True, resize=resize))
    raise MvbenchError(f"unknown FID protocol {name!r}", hint="choose from " + ", ".join(FID_PROTOCOLS))


def is_frame_protocol(fid: FeatureProtocol) -> FrameProtocol:
    """Frames for the Inception Score: the FID frames, without MovieBench's FID-only last-frame drop."""
    f = fid.frames
    return FrameProtocol(f.sampling, f.num_frames, drop_last=False, resize=f.resize)


def requested_metrics(options: Mapping[str, Any]) -> list[str]:
    return requested_in_family(options, FID_METRICS, ["fid"])


class FrameFIDScorer(Scorer):
    name = "frame_fid"
    metrics = (
        MetricInfo("fid", False, "Fréchet Inception Distance of generated frames to the reference frames"),
        MetricInfo("fid_per_frame", False, "mean over frame positions of the FID of those frames (VideoStudio)"),
        MetricInfo("inception_score", True, "Inception Score of generated frames (torchmetrics / torch-fidelity)"),
    )
    option_title = "frame FID and Inception Score (fid, fid_per_frame, inception_score)"
    option_specs = (
        Option("fid_protocol", "pytorch-fid", "pytorch-fid (2048-d pool3, 16 frames per scene) or moviebench "
               "(the paper's torchmetrics script: 192-d, 24 of 25 interval frames)", choices=FID_PROTOCOLS),
        Option("fid_reference", None, "reference frame statistics (made by `mvbench fvd-stats --extractor "
               "inception-fid`)", type=str, metavar="NPZ"),
        Option("fid_frames", None, "frames per scene (default 16; 25 for --fid-protocol moviebench)", type=int,
               check=positive, metavar="N"),
        Option("fid_resize", None, "resize frames to R x R (PIL bicubic) first, as MovieBench's --Resolution R",
               type=int, metavar="R", check=positive),
        Option("fid_bootstrap", None, f"bootstrap replicates for the FID CI (default --bootstrap, at most "
               f"{LARGE_SET_REPLICATES} for large sets; 0: no CI)", type=int, metavar="N"),
        Option("fid_min_frames", None, "flag FID unreliable below this many frames (default: dimension + 1)",
               type=int, check=positive, metavar="N"),
        Option("is_splits", 10, "Inception Score groups", check=positive, metavar="N"),
        Option("is_seed", 123, "seed of the Inception Score's random permutation of frames (torch.randperm)", metavar="N"),
    )

    def __init__(self, options: dict | None = None):
        super().__init__(options)
        self.wanted = requested_metrics(self.options)
        self.protocol = feature_protocol(self._opt("fid_protocol"), self._opt("fid_frames"), self._opt("fid_resize"))
        self.is_frames = is_frame_protocol(self.protocol)
        self._extractors: dict[str, Any] = {}
        self.reference = None
        self.reference_path = None
        if {"fid", "fid_per_frame"} & set(self.wanted):
            self.reference_path = self._opt("fid_reference")
            try:
                if not self.reference_path:
                    raise MvbenchError(
                        "metrics fid / fid_per_frame need reference statistics of real frames: pass "
                        "--fid-reference FILE.npz",
                        hint=f"build it once with `mvbench fvd-stats --videos REAL_DIR --extractor "
                             f"{'inception-moviebench' if self.protocol.name == 'moviebench' else 'inception-fid'} "
                             f"--frames {self.protocol.frames.num_frames} --out FILE.npz` (see docs/fvd.md)")
                self.reference = self._load_reference(self.reference_path)
            except MvbenchError as exc:
                self.setup_errors.append(exc)
        if self.setup_errors and not self.options.get("_planning_only"):
            raise self.setup_errors[0]

    def frames_needed(self) -> int:
        """Scenes need as many frames as are sampled at segment midpoints (MovieBench's interval reader
        takes what a short shot has, so 1 there)."""
        f = self.protocol.frames
        return int(f.num_frames) if f.sampling in ("middle", "uniform") else 1

    @classmethod
    def required_weights(cls, options: Mapping[str, Any]) -> list[str]:
        wanted = requested_metrics(options)
        out = []
        if {"fid", "fid_per_frame"} & set(wanted):
            out.append(feature_protocol(options.get("fid_protocol") or "pytorch-fid").weights)
        if "inception_score" in wanted:
            out.append(IS_WEIGHTS)
        return list(dict.fromkeys(out))

    def _opt(self, name: str):
        value = self.options.get(name)
        if value is None:
            value = next(s.default for s in self.option_specs if s.name == name)
        return value

    def _load_reference(self, path):
        from mvbench import weights
        from mvbench.fvd_reference import incompatibilities, load_reference

        ref = load_reference(path)
        reasons = incompatibilities(ref, self.protocol.weights, weights.weights_hash(self.protocol.weights),
                                    self.protocol.as_dict())
        if reasons:
            f = self.protocol.frames
            raise MvbenchError(
                f"FID reference {path} does not match this run: " + "; ".join(reasons),
                hint=f"rebuild it with `mvbench fvd-stats --extractor "
                     f"{'inception-moviebench' if self.protocol.name == 'moviebench' else 'inception-fid'} "
                     f"--frames {f.num_frames}" + (f" --resize {f.resize}" if f.resize else "") + "`")
        if ref.stats.count < 2:
            raise MvbenchError(f"FID reference {path} holds {ref.stats.count} frame(s); it needs at least 2")
        return ref

    def _extractor(self, weights_name: str, preprocess: str):
        key = f"{weights_name}|{preprocess}"
        if key not in self._extractors:
            from mvbench.encoders.inception import build_inception

            self._extractors[key] = build_inception(weights_name, preprocess,
                                                    device=self.options.get("device") or "cpu")
        return self._extractors[key]

    def encoders(self) -> list[str]:
        names = [self.protocol.weights] if {"fid", "fid_per_frame"} & set(self.wanted) else []
        return names + ([IS_WEIGHTS] if "inception_score" in self.wanted else [])

    def config(self) -> dict:
        cfg: dict[str, Any] = {"metrics": self.wanted}
        if self.reference is not None:
            cfg["fid"] = {"protocol": self.protocol.as_dict(), "weights": self.protocol.weights,
                          "reference": str(self.reference_path), "reference_frames": self.reference.stats.count,
                          "reference_source": self.reference.source,
                          "reference_weights_sha256": self.reference.weights_sha256,
                          "per_frame_reference": "pooled reference frames (mvbench's reading of VideoStudio)"}
        if "inception_score" in self.wanted:
            cfg["inception_score"] = {"weights": IS_WEIGHTS, "preprocess": "torch-fidelity", "feature": IS_FEATURE,
                                      "frames": self.is_frames.as_dict(), "splits": int(self._opt("is_splits")),
                                      "split_mode": "torchmetrics", "permutation_seed": int(self._opt("is_seed"))}
        cfg["extractors"] = {k: e.describe() for k, e in self._extractors.items()}
        return cfg

    def requests(self, videos: ItemVideos) -> list[Request]:
        reqs: list[Request] = []
        for ref in videos.scenes:
            if {"fid", "fid_per_frame"} & set(self.wanted):
                reqs += self.protocol.frames.requests(ref)
            if "inception_score" in self.wanted:
                reqs += self.is_frames.requests(ref)
        return list(dict.fromkeys(reqs))

    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        """Features of all the item's frames, scene after scene, in one pass per network."""
        want_fid = bool({"fid", "fid_per_frame"} & set(self.wanted))
        want_is = "inception_score" in self.wanted
        same_net = (want_fid and want_is and self.protocol.weights == IS_WEIGHTS
                    and self.protocol.preprocess == "torch-fidelity")
        feature = self.protocol.feature
        payload: dict[str, np.ndarray] = {}
        details: dict[str, Any] = {}
        if want_is:
            frames = [self.is_frames.frames(ref, results) for ref in videos.scenes]
            outputs = (IS_FEATURE, feature) if same_net else (IS_FEATURE,)
            got = _extract_runs(self._extractor(IS_WEIGHTS, "torch-fidelity"), frames, outputs)
            payload["logits"] = got[IS_FEATURE]
            details["is_frames"] = int(got[IS_FEATURE].shape[0])
            if same_net:  # MovieBench: the FID frames are the IS frames without each scene's last one
                keep, pos, start = [], [], 0
                for ref, f in zip(videos.scenes, frames):
                    n_fid = len(self.protocol.frames.indices(ref.num_frames))
                    keep += range(start, start + n_fid)
                    pos += range(n_fid)
                    start += f.shape[0]
                payload["features"] = got[feature][keep]
                payload["positions"] = np.asarray(pos, dtype=np.int64)
        if want_fid and not same_net:
            frames = [self.protocol.frames.frames(ref, results) for ref in videos.scenes]
            got = _extract_runs(self._extractor(self.protocol.weights, self.protocol.preprocess), frames, (feature,))
            payload["features"] = got[feature]
            payload["positions"] = np.concatenate([np.arange(f.shape[0]) for f in frames])
        if want_fid:
            details["fid_frames"] = int(payload["features"].shape[0])
        return ItemScore(values={}, details=details, payload=payload)

    # ------------------------------------------------------------------ aggregation
    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        out: dict[str, dict] = {}
        payloads = [s.payload for s in scores.values() if s.payload]
        if {"fid", "fid_per_frame"} & set(self.wanted):
            feats = [p["features"] for p in payloads if "features" in p]
            pos = [p["positions"] for p in payloads if "positions" in p]
            x = np.concatenate(feats).astype(np.float64) if feats else np.zeros((0, self.protocol.dim))
            k = np.concatenate(pos) if pos else np.zeros(0, np.int64)
            if "fid" in self.wanted:
                out["fid"] = self._fid_summary(x, len(feats), seed)
            if "fid_per_frame" in self.wanted:
                out["fid_per_frame"] = self._per_frame_summary(x, k, len(feats))
        if "inception_score" in self.wanted:
            logits = [p["logits"] for p in payloads if "logits" in p]
            out["inception_score"] = self._is_summary(np.concatenate(logits) if logits else np.zeros((0, 1008)),
                                                      len(logits), seed)
        return out

    def _base(self, metric: str, n_items: int, n_frames: int) -> dict:
        return {"mean": None, "ci95": None, "n": n_items, "n_frames": n_frames,
                "higher_is_better": metric == "inception_score", "std": None, "unit": UNITS[metric]}

    def _reliability(self, metric: str, n: int) -> tuple[bool, list[str]]:
        ref = self.reference.stats
        min_frames = int(self._opt("fid_min_frames") or ref.dim + 1)
        warnings = []
        for label, count in (("generated", n), ("reference", ref.count)):
            if count < min_frames:
                warnings.append(f"{metric} from {count} {label} frames (< {min_frames}) is unreliable: the covariance "
                                "is under-determined and the value is biased upward; compare only with numbers from "
                                "sets of the same size")
        return bool(warnings), warnings

    def _fid_summary(self, x: np.ndarray, n_items: int, seed: int) -> dict:
        ref = self.reference.stats
        summary = self._base("fid", n_items, int(x.shape[0])) | {"n_reference": ref.count,
                                                                 "feature": self.protocol.feature}
        if x.shape[0] < 2:
            return summary | {"unreliable": True, "warnings": [f"fid needs at least 2 generated frames, got {x.shape[0]}"]}
        if x.shape[1] != ref.dim:
            raise MvbenchError(f"frame features have {x.shape[1]} dimensions but the reference "
                               f"{self.reference_path} has {ref.dim}")
        unreliable, warnings = self._reliability("fid", x.shape[0])
        gen = GaussianStats.from_features(x)
        mu_ref, sigma_ref = ref.mean(), ref.covariance()
        value = frechet_distance(gen.mean(), gen.covariance(), mu_ref, sigma_ref)
        summary |= {"mean": round(value, DECIMALS), "unreliable": unreliable, "warnings": warnings}
        n_boot = self._replicates(x.shape[0], ref.dim)
        if n_boot > 0:
            reps = frechet_distance_bootstrap(x, mu_ref, sigma_ref, n_boot=n_boot, seed=seed)
            lo, hi = np.percentile(reps, [2.5, 97.5])
            summary |= {"ci95": [round(float(lo), DECIMALS), round(float(hi), DECIMALS)],
                        "std": round(float(reps.std(ddof=1)), DECIMALS) if n_boot > 1 else 0.0,
                        "bootstrap_resamples": n_boot}
        return summary

    def _per_frame_summary(self, x: np.ndarray, positions: np.ndarray, n_items: int) -> dict:
        ref = self.reference.stats
        summary = self._base("fid_per_frame", n_items, int(x.shape[0])) | {"n_reference": ref.count,
                                                                           "feature": self.protocol.feature}
        counts = {int(p): int((positions == p).sum()) for p in np.unique(positions)}
        usable = [p for p, c in counts.items() if c >= 2]
        warnings = []
        if len(usable) < len(counts):
            warnings.append(f"frame positions with fewer than 2 frames are left out: "
                            f"{sorted(set(counts) - set(usable))}")
        if not usable:
            return summary | {"unreliable": True, "warnings": warnings + ["no frame position has 2 frames"]}
        keep = np.isin(positions, usable)
        value, per = per_index_fid(x[keep], positions[keep], ref.mean(), ref.covariance())
        unreliable, more = self._reliability("fid_per_frame", min(counts[p] for p in usable))
        warnings.append("no bootstrap CI for fid_per_frame (one Fréchet distance per position and replicate)")
        return summary | {"mean": round(value, DECIMALS), "per_position": {str(p): round(v, DECIMALS)
                                                                         for p, v in per.items()},
                          "unreliable": unreliable, "warnings": warnings + more}

    def _replicates(self, n: int, dim: int) -> int:
        given = self.options.get("fid_bootstrap")
        if given is not None:
            return max(0, int(given))
        n_boot = int(self.options.get("bootstrap") or 1000)
        return min(n_boot, LARGE_SET_REPLICATES) if min(n, dim) > LARGE_SET else n_boot

    def _is_summary(self, logits: np.ndarray, n_items: int, seed: int) -> dict:
        import torch

        summary = self._base("inception_score", n_items, int(logits.shape[0]))
        n = logits.shape[0]
        if n < 1:
            return summary | {"warnings": ["no frames for the Inception Score"]}
        splits = int(self._opt("is_splits"))
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(self._opt("is_seed")))).numpy()
        mean, std = inception_score(logits, splits=splits, permutation=perm)
        rng = np.random.default_rng(seed)
        n_boot = min(int(self.options.get("bootstrap") or 1000), LARGE_SET_REPLICATES)
        reps = [inception_score(logits[rng.integers(0, n, size=n)], splits=splits)[0] for _ in range(n_boot)]
        lo, hi = np.percentile(reps, [2.5, 97.5])
        warnings = []
        if n < 10 * splits:
            warnings.append(f"inception_score from {n} frames in {splits} groups is unreliable (few frames per group)")
        return summary | {"mean": round(mean, DECIMALS), "ci95": [round(float(lo), DECIMALS), round(float(hi), DECIMALS)],
                          "std": None if np.isnan(std) else round(std, DECIMALS), "std_over": "groups",
                          "splits": splits, "unreliable": bool(warnings), "warnings": warnings}


def _extract_runs(extractor, frames: list[np.ndarray], outputs: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Features of the scenes' frames in order, one call per run of scenes with the same frame size."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in outputs}
    run: list[np.ndarray] = []
    for f in frames + [None]:
        if run and (f is None or f.shape[1:] != run[0].shape[1:]):
            got = extractor.extract(np.concatenate(run), outputs)
            for k in outputs:
                parts[k].append(got[k])
            run = []
        if f is not None:
            run.append(f)
    return {k: np.concatenate(v) for k, v in parts.items()}
