"""FVD and content-debiased FVD of a submission against reference statistics of real videos.

Clip protocol: every scene gives one clip, its first 16 frames at the native frame rate
(``--fvd-stride S`` takes every S-th frame instead), decoded and resized exactly as the reference
videos were by ``mvbench fvd-stats``. Scenes shorter than ``15 * S + 1`` frames give no clip (the
item's details list them). Features: ``fvd`` uses I3D Kinetics-400 logits (``--fvd-extractor``,
default ``i3d-k400``), ``fvd_videomae`` the VideoMAE-v2 ViT-g features of content-debiased FVD
(Ge et al., CVPR 2024). Each needs a reference file (``--fvd-reference`` /
``--fvd-videomae-reference``) made with the same extractor, weights and protocol.

Conventions of the cited tools (options; recorded in the config and, for the resize, in the reference
file's clip protocol): ``--fvd-resize plain`` resizes without antialiasing as the content-debiased-FVD
package does (``antialias``, mvbench's default, antialiases); ``--fvd-cov-ddof 0`` uses that package's
covariance with divisor n (``1``, the default: divisor n - 1, as ``numpy.cov``, pytorch-fid and
StyleGAN-V). The paper presets set them (``docs/protocols.md``); the bootstrap and jackknife replicates
keep the divisor n - 1 for the generated set.

Aggregate: ``mean`` is the squared Fréchet distance (:func:`metrics.frechet_distance`, the standard
plug-in FVD) between the Gaussian fit of all generated clips (suite order, so any sharding gives the
same numbers) and the reference. The plug-in FD is biased upward by the clip count, and resampling
clips inflates it further, so the plain percentile interval of the bootstrap replicates can exclude the
estimate. ``ci95`` is therefore, by default (``--fvd-interval jackknife``), the FVD plus or minus 1.96
jackknife standard errors, leaving out one item's clips at a time (:func:`metrics.fd_jackknife_interval`):
an interval for the expected FVD at this clip count against this reference, centred on ``mean``
(``--fvd-interval shifted``: the bootstrap percentile interval shifted by the bootstrap bias, wider;
:func:`metrics.fd_interval`). ``bias_corrected`` gives the
bootstrap bias-corrected estimate of the population distance, ``2 FD - mean(FD*)``, with the basic
(reverse percentile) interval (null below ``--fvd-min-clips`` generated clips, where no correction
recovers the population distance). Coverage of both, measured by simulation, is in docs/fvd.md. Replicates
resample generated clips with replacement, the reference held fixed (``--fvd-bootstrap``, by default
``--bootstrap`` capped at 200 for large sets). With fewer clips than the feature dimension + 1 (401 for
I3D, 1409 for VideoMAE-v2; ``--fvd-min-clips`` overrides) in either set the covariance is singular and
FVD is biased upward by the small sample, so the value is flagged ``unreliable`` with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from metrics import (
    GaussianStats,
    covariance_with_ddof,
    fd_interval,
    fd_jackknife_interval,
    frechet_distance,
    frechet_distance_bootstrap,
    frechet_distance_jackknife,
    jackknife_groups,
)
from mvbench.config import Option, non_negative, positive
from mvbench.errors import MvbenchError
from mvbench.fvd_reference import (
    FVD_RESIZES,
    ReferenceStats,
    canonical_extractor,
    check_compatible,
    clip_protocol,
    extractor_info,
    fvd_frame_preprocess,
    load_reference,
    protocol_with_resize,
)
from mvbench.scorers.base import (
    ClipRequest,
    ItemScore,
    ItemVideos,
    MetricInfo,
    Request,
    Scorer,
    requested_in_family,
)
from mvbench.stats import DECIMALS

FVD_METRICS = ("fvd", "fvd_videomae")
#: a bootstrap replicate factorises a min(n, d)-sized matrix; above this size the default number of
#: replicates is capped at LARGE_SET_REPLICATES (about a minute on a CPU for d = 1408)
LARGE_SET = 512
LARGE_SET_REPLICATES = 200
_REFERENCE_OPTION = {"fvd": "fvd_reference", "fvd_videomae": "fvd_videomae_reference"}
#: intervals ``ci95`` may use (all are reported with the plug-in FVD); the default and why: docs/fvd.md
CI95_INTERVALS = ("jackknife", "shifted", "percentile")
DEFAULT_INTERVAL = "jackknife"


@dataclass
class _MetricSetup:
    metric: str
    extractor: str
    protocol: dict
    reference: ReferenceStats | None  # None only while planning (``validate``) without a usable reference
    reference_path: str

    def request(self, scene) -> ClipRequest:
        return ClipRequest(self.extractor, (scene,), "first", self.protocol["num_frames"], self.protocol["stride"],
                           preprocess=fvd_frame_preprocess(self.protocol.get("resize", "antialias")))

    @property
    def frames_needed(self) -> int:
        return (self.protocol["num_frames"] - 1) * self.protocol["stride"] + 1


def _requested_metrics(options: Mapping[str, Any]) -> list[str]:
    given = [m for m in FVD_METRICS if options.get(_REFERENCE_OPTION[m])]  # no metrics: those with a reference
    return requested_in_family(options, FVD_METRICS, given or ["fvd"])


def _jackknife_labels(item_sizes: list[int]) -> np.ndarray:
    """Jackknife groups for the clips of items in suite order: one group per item (items are the sampling
    unit; their scenes are alike), at most :data:`metrics.frechet_interval.JACKKNIFE_MAX_GROUPS` (consecutive
    items merged). With a single item, or an item holding all but one clip, each clip is its own group.

    >>> _jackknife_labels([3, 3, 2]).tolist()
    [0, 0, 0, 1, 1, 1, 2, 2]
    >>> _jackknife_labels([5]).tolist()
    [0, 1, 2, 3, 4]
    """
    sizes = [k for k in item_sizes if k > 0]
    n = sum(sizes)
    if len(sizes) < 2 or n - max(sizes) < 2:
        return jackknife_groups([1] * n)
    return jackknife_groups(sizes)


class FVDScorer(Scorer):
    name = "fvd"
    metrics = (
        MetricInfo("fvd", False, "Fréchet Video Distance (I3D Kinetics-400 logits) to the reference set"),
        MetricInfo("fvd_videomae", False, "content-debiased FVD (VideoMAE-v2 ViT-g features) to the reference set"),
    )

    option_title = "FVD (metrics fvd, fvd_videomae)"
    option_specs = (
        Option("fvd_reference", None, "reference statistics for metric fvd (made by `mvbench fvd-stats`)",
               type=str, metavar="NPZ"),
        Option("fvd_videomae_reference", None,
               "reference statistics for metric fvd_videomae (`mvbench fvd-stats --extractor videomae`)",
               type=str, metavar="NPZ"),
        Option("fvd_extractor", None, "features for metric fvd: i3d-k400 (default; alias i3d) or i3d-torchscript",
               type=str),
        Option("fvd_stride", None, "take every S-th frame for the 16-frame clips (default 1: native frame rate)",
               type=int, check=positive),
        Option("fvd_min_clips", None, "flag FVD as unreliable below this many clips (default: feature dimension + 1)",
               type=int, check=positive),
        Option("fvd_bootstrap", None,
               f"bootstrap replicates for the FVD intervals (default: --bootstrap, at most {LARGE_SET_REPLICATES} "
               f"when clips and dimension both exceed {LARGE_SET}); 0: no interval, and only sufficient "
               "statistics (sums) travel between processes and shards", type=int, check=non_negative),
        Option("fvd_interval", DEFAULT_INTERVAL,
               "ci95 of FVD: jackknife (FVD -+ 1.96 jackknife standard errors, leaving out one item's clips at a "
               "time, at most 200 groups), shifted (the bootstrap percentile interval minus the bootstrap bias, "
               "wider) or percentile (mvbench's earlier interval, kept to reproduce old results files; biased "
               "upward, can exclude the FVD)", choices=CI95_INTERVALS),
        Option("fvd_resize", None, "frame resizing of the FVD clips: antialias (default) or plain (bilinear "
               "without antialiasing, as the content-debiased-FVD package); the reference must use the same",
               type=str, choices=FVD_RESIZES),
        Option("fvd_cov_ddof", None, "covariance divisor n - DDOF: 1 (default, numpy.cov / pytorch-fid / "
               "StyleGAN-V) or 0 (the content-debiased-FVD package)", type=int, choices=(0, 1)),
    )

    def __init__(self, options: dict | None = None):
        super().__init__(options)
        self.stride = int(self.options.get("fvd_stride") or 1)
        self.resize, self.cov_ddof = fvd_conventions(self.options)
        self.setups: dict[str, _MetricSetup] = {}
        for metric in _requested_metrics(self.options):
            self.setups[metric] = self._setup(metric)
        if self.setup_errors and not self.options.get("_planning_only"):
            raise self.setup_errors[0]

    def _setup(self, metric: str) -> _MetricSetup:
        if metric == "fvd":
            extractor = canonical_extractor(self.options.get("fvd_extractor") or "i3d-k400")
        else:
            extractor = "videomae-v2-g"
        option = _REFERENCE_OPTION[metric]
        path = self.options.get(option)
        preprocess, weights_sha256 = extractor_info(extractor)
        protocol = protocol_with_resize(clip_protocol(preprocess, self.stride), self.resize)
        try:
            if not path:
                flag = "--" + option.replace("_", "-")
                raise MvbenchError(
                    f"metric {metric!r} needs reference statistics of real videos: pass {flag} FILE.npz",
                    hint=f"build the file once with `mvbench fvd-stats --videos REAL_DIR --extractor {extractor} "
                         f"--out FILE.npz` (see docs/fvd.md)",
                )
            reference = load_reference(path)
            check_compatible(reference, path, extractor, weights_sha256, protocol)
            if reference.stats.count < 2:
                raise MvbenchError(f"FVD reference {path} holds {reference.stats.count} clip(s); it needs at least 2")
        except MvbenchError as exc:
            self.setup_errors.append(exc)
            reference = None
        return _MetricSetup(metric, extractor, protocol, reference, str(path))

    #: FVD clips are consecutive frames: a short scene cannot be padded
    can_pad = False

    def frames_needed(self) -> int:
        return max((s.frames_needed for s in self.setups.values()), default=1)

    @classmethod
    def required_weights(cls, options: Mapping[str, Any]) -> list[str]:
        from mvbench.encoders import encoder_weights

        out: list[str] = []
        for metric in _requested_metrics(options):
            extractor = canonical_extractor(options.get("fvd_extractor") or "i3d-k400") if metric == "fvd" \
                else "videomae-v2-g"
            out += encoder_weights(extractor)
        return out

    def encoders(self) -> list[str]:
        return list(dict.fromkeys(s.extractor for s in self.setups.values()))

    @property
    def interval(self) -> str:
        value = self.options.get("fvd_interval") or DEFAULT_INTERVAL
        if value not in CI95_INTERVALS:
            raise MvbenchError(f"--fvd-interval {value!r}: choose one of {', '.join(CI95_INTERVALS)}")
        return value

    def config(self) -> dict:
        return {
            "stride": self.stride,
            "resize": self.resize,
            "cov_ddof": self.cov_ddof,
            "min_clips": self.options.get("fvd_min_clips"),
            "interval": self.interval,
            "metrics": {
                m: {"extractor": s.extractor, "protocol": s.protocol, "reference": s.reference_path,
                    "reference_clips": s.reference.stats.count, "reference_source": s.reference.source,
                    "reference_weights_sha256": s.reference.weights_sha256}
                for m, s in self.setups.items()
            },
        }

    def requests(self, videos: ItemVideos) -> list[Request]:
        return [s.request(scene) for s in self.setups.values() for scene in videos.scenes
                if scene.num_frames >= s.frames_needed]

    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        payload: dict[str, np.ndarray] = {}
        details: dict[str, Any] = {}
        for metric, setup in self.setups.items():
            rows = [np.asarray(results[setup.request(scene)], dtype=np.float64)
                    for scene in videos.scenes if scene.num_frames >= setup.frames_needed]
            dim = setup.reference.stats.dim
            payload[metric] = np.stack(rows) if rows else np.zeros((0, dim))
            short = [k for k, scene in enumerate(videos.scenes, start=1) if scene.num_frames < setup.frames_needed]
            details[f"{metric}_clips"] = len(rows)
            if short:
                details[f"{metric}_short_scenes"] = short
        return ItemScore(values={}, details=details, payload=payload)

    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        out = {}
        for metric, setup in self.setups.items():
            parts = [s.payload[metric] for s in scores.values() if s.payload and metric in s.payload]
            short = sum(len(s.details.get(f"{metric}_short_scenes", [])) for s in scores.values())
            out[metric] = self._summary(setup, parts, short, seed)
        return out

    # ------------------------------------------------------------- mergeable parts (ranks, shards)
    @property
    def keeps_features(self) -> bool:
        """Whether per-clip features must travel: the bootstrap CI resamples clips (``--fvd-bootstrap 0``:
        no CI, sums only)."""
        return self.options.get("fvd_bootstrap") != 0

    def partial(self, scores: dict[str, ItemScore]) -> dict:
        """Per metric, the sufficient statistics (count, sum, sum of outer products; float64) of these
        items' clips, their short-scene count and, when the CI needs them, each item's clip features
        (float32, as encoded). Parts of any split merge into the statistics of the whole set."""
        out = {}
        for metric, setup in self.setups.items():
            dim = setup.reference.stats.dim
            rows = {i: np.asarray(s.payload[metric]) for i, s in scores.items()
                    if s.payload and metric in s.payload}
            stats = GaussianStats.empty(dim)
            for r in rows.values():
                if len(r):
                    stats = stats.add_features(r)
            out[metric] = {
                "count": stats.count, "sum": stats.total, "outer": stats.outer,
                "short": sum(len(s.details.get(f"{metric}_short_scenes", [])) for s in scores.values()),
                "features": {i: r.astype(np.float32) for i, r in rows.items()} if self.keeps_features else None,
            }
        return out

    def aggregate_partials(self, scores: dict[str, ItemScore], partials: list[dict], seed: int = 0) -> dict[str, dict]:
        """Summaries from the parts of :meth:`partial`: with features, exactly :meth:`aggregate` over the
        items in ``scores`` order (suite order); without, the FVD of the summed statistics and no CI."""
        out = {}
        for metric, setup in self.setups.items():
            mine = [p[metric] for p in partials if p and metric in p]
            short = sum(int(p["short"]) for p in mine)
            if mine and all(p["features"] is not None for p in mine):
                by_item: dict[str, np.ndarray] = {}
                for p in mine:
                    by_item.update(p["features"])
                parts = [by_item[i].astype(np.float64) for i in scores if i in by_item]
                out[metric] = self._summary(setup, parts, short, seed)
            else:
                dim = setup.reference.stats.dim
                stats = GaussianStats.empty(dim)
                for p in mine:
                    stats = stats.merge(GaussianStats(p["count"], p["sum"], p["outer"]))
                out[metric] = self._summary_from_stats(setup, stats, short)
        return out

    def _start_summary(self, setup: _MetricSetup, n: int, short: int) -> tuple[dict, list[str], int]:
        """The fields every FVD summary has, its warnings so far (short scenes, too few clips) and the
        clip count below which the value is unreliable; with fewer than 2 clips the summary is final."""
        ref = setup.reference.stats
        min_clips = int(self.options.get("fvd_min_clips") or ref.dim + 1)
        warnings: list[str] = []
        if short:
            warnings.append(f"{short} scene(s) shorter than {setup.frames_needed} frames gave no {setup.metric} clip")
        summary: dict[str, Any] = {"mean": None, "ci95": None, "n": n, "n_reference": ref.count,
                                   "higher_is_better": False, "std": None, "extractor": setup.extractor}
        if n < 2:
            warnings.append(f"{setup.metric} needs at least 2 generated clips, got {n}")
            return summary | {"unreliable": True, "warnings": warnings}, warnings, min_clips
        for label, count in (("generated", n), ("reference", ref.count)):
            if count < min_clips:
                warnings.append(f"{setup.metric} from {count} {label} clips (< {min_clips}) is unreliable: "
                                "the covariance is under-determined and the value is biased upward; compare only "
                                "with numbers from sets of the same size")
        return summary, warnings, min_clips

    def _summary_from_stats(self, setup: _MetricSetup, stats: GaussianStats, short: int) -> dict:
        """FVD of summed statistics, without a CI (``--fvd-bootstrap 0``)."""
        ref = setup.reference.stats
        n = stats.count
        summary, warnings, min_clips = self._start_summary(setup, n, short)
        if n < 2:
            return summary
        value = frechet_distance(stats.mean(), covariance_with_ddof(stats, self.cov_ddof), ref.mean(),
                                 covariance_with_ddof(ref, self.cov_ddof))
        return summary | {"mean": round(value, DECIMALS), "bootstrap_resamples": 0,
                          "unreliable": n < min_clips or ref.count < min_clips, "warnings": warnings}

    def _replicates(self, n: int, dim: int) -> int:
        if self.options.get("fvd_bootstrap"):
            return int(self.options["fvd_bootstrap"])
        n_boot = int(self.options.get("bootstrap") or 1000)
        return min(n_boot, LARGE_SET_REPLICATES) if min(n, dim) > LARGE_SET else n_boot

    def _summary(self, setup: _MetricSetup, parts: list[np.ndarray], short: int, seed: int) -> dict:
        ref = setup.reference.stats
        features = np.concatenate(parts) if parts else np.zeros((0, ref.dim))
        if features.shape[1] != ref.dim:
            raise MvbenchError(f"{setup.extractor} features have {features.shape[1]} dimensions but the reference "
                               f"{setup.reference_path} has {ref.dim}")
        n = int(features.shape[0])
        summary, warnings, min_clips = self._start_summary(setup, n, short)
        if n < 2:
            return summary
        if not self.keeps_features:
            return self._summary_from_stats(setup, GaussianStats.from_features(features), short)
        n_boot = self._replicates(n, ref.dim)
        generated = GaussianStats.from_features(features)
        mu_ref, sigma_ref = ref.mean(), covariance_with_ddof(ref, self.cov_ddof)
        value = frechet_distance(generated.mean(), covariance_with_ddof(generated, self.cov_ddof), mu_ref, sigma_ref)
        reps = frechet_distance_bootstrap(features, mu_ref, sigma_ref, n_boot=n_boot, seed=seed)
        interval, groups = self.interval, 0
        if interval == "jackknife":
            try:
                labels = _jackknife_labels([len(p) for p in parts])
                loo = frechet_distance_jackknife(features, mu_ref, sigma_ref, labels)
                lo, hi = fd_jackknife_interval(value, loo)
                groups = int(loo.size)
                std = float(np.sqrt((groups - 1) / groups * ((loo - loo.mean()) ** 2).sum()))
            except ValueError as exc:  # too few clips to leave groups out
                warnings.append(f"{setup.metric}: no jackknife interval ({exc}); ci95 is the shifted bootstrap "
                                "interval")
                interval = "shifted"
        if interval != "jackknife":
            lo, hi = fd_interval(value, reps, interval)
            std = float(reps.std(ddof=1)) if n_boot > 1 else 0.0
        b_lo, b_hi = fd_interval(value, reps, "basic")
        extra = {"jackknife_groups": groups} if groups else {}
        # the bias correction recovers the population distance only with more clips than dimensions
        # (docs/fvd.md: 0% coverage at 150 clips of 400-d features); below, the field is null
        bias_corrected = None
        if n >= min_clips:
            bias_corrected = {"value": round(2.0 * value - float(reps.mean()), DECIMALS),
                              "ci95": [round(b_lo, DECIMALS), round(b_hi, DECIMALS)]}
        return summary | extra | {
            "mean": round(value, DECIMALS),
            "ci95": [round(lo, DECIMALS), round(hi, DECIMALS)],
            "interval": interval,
            "std": round(std, DECIMALS),  # standard error of the FVD: jackknife, else the replicates' std
            "bootstrap_resamples": n_boot,
            "bootstrap_bias": round(float(reps.mean()) - value, DECIMALS),
            "bias_corrected": bias_corrected,
            "unreliable": n < min_clips or ref.count < min_clips,
            "warnings": warnings,
        }


def fvd_conventions(options: Mapping[str, Any]) -> tuple[str, int]:
    """``(resize, cov_ddof)`` from the options, defaults ``("antialias", 1)``; bad values are errors.

    >>> fvd_conventions({}), fvd_conventions({"fvd_resize": "plain", "fvd_cov_ddof": "0"})
    (('antialias', 1), ('plain', 0))
    """
    resize = options.get("fvd_resize") or "antialias"
    if resize not in FVD_RESIZES:
        raise MvbenchError(f"--fvd-resize {resize!r} is not one of {', '.join(FVD_RESIZES)}")
    raw = options.get("fvd_cov_ddof")
    ddof = 1 if raw is None else int(raw)
    if ddof not in (0, 1):
        raise MvbenchError(f"--fvd-cov-ddof must be 0 or 1, got {raw!r}")
    return resize, ddof
