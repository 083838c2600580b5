"""Character-ID consistency scorer: Precision_ID, Recall_ID, F1_ID (MovieBench Sec. 3.5, Tables 5 and 9).

Per scene (shot) the runner hands over sampled frames; the face backend (built once per run, on
first use) recognises bank characters in them (:mod:`mvbench.faces.protocol`); the shot's
prediction is compared with the scene's scripted ``characters``. :meth:`CharacterIdScorer.aggregate`
micro-sums TP/FP/FN over all shots of all items (not a mean of per-item scores) and reports the
three ratios x100 with a bootstrap 95% CI that resamples items. Math in :mod:`metrics.identity`.

Per-item ``scores`` hold the item's own ratios x100 when defined (precision is left out of an item
with no recognised character, recall of one with no scripted character); ``details`` hold the
per-shot predicted/scripted sets, the counts, every face match and ``unbanked_characters`` (scripted
characters without a portrait embedding; the aggregate's ``warnings`` name them per item).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from metrics.identity import id_scores, id_scores_bootstrap, precision_recall_f1
from mvbench.errors import MvbenchError
from mvbench.faces.backend import DISTANCE_METRICS, FaceBackend
from mvbench.faces.bank import (
    CharacterBank,
    build_bank,
    default_cache,
    portraits_for_item,
    unbanked_characters,
)
from mvbench.faces.protocol import PROTOCOLS, IdProtocol, get_protocol, interval_indices, recognize_shot
from mvbench.scorers.base import FrameRequest, ItemScore, ItemVideos, MetricInfo, Request, Scorer
from mvbench.stats import DECIMALS

METRIC_KEYS = (("id_precision", "precision"), ("id_recall", "recall"), ("id_f1", "f1"))


class CharacterIdScorer(Scorer):
    name = "character_id"
    metrics = (
        MetricInfo("id_precision", True, "Precision_ID x100: TP / (TP + FP), counts summed over shots"),
        MetricInfo("id_recall", True, "Recall_ID x100: TP / (TP + FN), counts summed over shots"),
        MetricInfo("id_f1", True, "F1_ID x100: harmonic mean of Precision_ID and Recall_ID"),
    )

    def __init__(self, options: dict | None = None, backend: FaceBackend | None = None):
        super().__init__(options)
        self._backend = backend
        self._banks: dict[str, CharacterBank] = {}

    @classmethod
    def add_cli_arguments(cls, parser) -> None:
        g = parser.add_argument_group("character ID (id_precision, id_recall, id_f1; needs the [face] extra)")
        g.add_argument("--character-bank", default=None, metavar="DIR",
                       help="portraits NAME.jpg or NAME/*.jpg, optionally in one sub-folder per item id")
        g.add_argument("--id-protocol", choices=PROTOCOLS, default=None,
                       help="mvbench (default: union over frames) or moviebench (the published script, last frame)")
        g.add_argument("--face-detector", default=None, help="DeepFace detector for frames (default fastmtcnn)")
        g.add_argument("--face-crop-detector", default=None,
                       help="DeepFace detector run inside each face crop before embedding (default opencv)")
        g.add_argument("--face-model", default=None, help="DeepFace recognition model (default VGG-Face)")
        g.add_argument("--face-distance", choices=DISTANCE_METRICS, default=None, help="default euclidean_l2")
        g.add_argument("--face-threshold", type=float, default=None,
                       help="match when distance <= this (default: DeepFace's threshold for model/distance)")
        g.add_argument("--face-min-confidence", type=float, default=None, help="detection confidence filter (0.8)")
        g.add_argument("--id-frames", type=int, default=None, help="frames sampled per shot (default 5)")

    # ------------------------------------------------------------------ configuration
    @property
    def protocol(self) -> IdProtocol:
        o = self.options
        frames = o.get("id_frames")
        if frames is not None and int(frames) < 1:
            raise MvbenchError(f"--id-frames must be >= 1, got {frames}")
        return get_protocol(o.get("id_protocol") or "mvbench", num_frames=frames,
                            min_confidence=o.get("face_min_confidence"))

    def _deepface_options(self):
        from mvbench.faces.deepface_backend import DeepFaceOptions

        o = self.options
        given = {"detector": o.get("face_detector"), "model": o.get("face_model"),
                 "distance": o.get("face_distance"), "threshold": o.get("face_threshold"),
                 "crop_detector": o.get("face_crop_detector")}
        return DeepFaceOptions(**{k: v for k, v in given.items() if v is not None})

    @property
    def backend(self) -> FaceBackend:
        """The face backend, built on first use and kept for the run."""
        if self._backend is None:
            from mvbench.faces.deepface_backend import DeepFaceBackend

            self._backend = DeepFaceBackend(self._deepface_options())
        return self._backend

    def config(self) -> dict:
        cfg: dict[str, Any] = {"protocol": self.protocol.as_dict(),
                               "character_bank": self.options.get("character_bank")}
        if self._backend is not None:
            cfg["face_backend"] = self._backend.describe()
        else:
            opts = self._deepface_options()
            cfg["face_backend"] = {"backend": "deepface", "model": opts.model, "detector": opts.detector,
                                   "crop_detector": opts.crop_detector, "distance": opts.distance,
                                   "threshold": opts.threshold, "align": opts.align}
        return cfg

    # ------------------------------------------------------------------ requests and scoring
    def _scene_requests(self, ref) -> list[FrameRequest]:
        p = self.protocol
        if p.sampling == "interval":
            idx = interval_indices(ref.num_frames, p.num_frames)
            if p.frames_used == "last":
                idx = idx[-1:]
            return [FrameRequest(ref.sub(i, i + 1), 1, "middle") for i in idx]
        return [FrameRequest(ref, p.num_frames, p.sampling)]

    def requests(self, videos: ItemVideos) -> list[Request]:
        return [r for ref in videos.scenes for r in self._scene_requests(ref)]

    def portraits_for(self, item) -> dict[str, list[Path]]:
        """The item's portraits (suite's, then the bank folder's; see :mod:`mvbench.faces.bank`).

        ``options["suite_ids"]`` (all item ids of the suite, when the runner provides them) lets a
        per-item bank be recognised by its folder names.
        """
        return portraits_for_item(item, self.options.get("character_bank"), self.options.get("suite_dir"),
                                  self.protocol.underscores_to_spaces, self.options.get("suite_ids"))

    def bank_for(self, item) -> CharacterBank:
        """The item's bank, built once per distinct set of portraits."""
        portraits = self.portraits_for(item)
        key = "|".join(f"{n}={','.join(str(x) for x in v)}" for n, v in sorted(portraits.items()))
        if key not in self._banks:
            cache = None if self.options.get("no_cache") else default_cache()
            self._banks[key] = build_bank(self.backend, portraits, cache)
        return self._banks[key]

    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        bank = self.bank_for(videos.item)
        backend = self.backend
        p = self.protocol
        preds: list[set[str]] = []
        gts: list[set[str]] = []
        shots = []
        for k, (scene, ref) in enumerate(zip(videos.item.scenes, videos.scenes), start=1):
            reqs = self._scene_requests(ref)
            frames = np.concatenate([np.asarray(results[r]) for r in reqs], axis=0)
            if p.sampling == "interval":
                indices = [r.video.start - ref.start for r in reqs]
            else:
                from mvbench.video.sampling import sample_indices

                indices = sample_indices(ref.num_frames, p.num_frames, p.sampling)
            names, matches = recognize_shot(backend, bank, frames, p, indices)
            gt = set(scene.characters)
            preds.append(names)
            gts.append(gt)
            shots.append({"scene": k, "predicted": sorted(names), "scripted": sorted(gt),
                          "faces": [m.as_dict() for m in matches]})
        s = id_scores(preds, gts)
        values = {}
        if s.tp + s.fp > 0:
            values["id_precision"] = round(100.0 * s.precision, DECIMALS)
        if s.tp + s.fn > 0:
            values["id_recall"] = round(100.0 * s.recall, DECIMALS)
        if "id_precision" in values and "id_recall" in values:
            values["id_f1"] = round(100.0 * s.f1, DECIMALS)
        details = {"tp": s.tp, "fp": s.fp, "fn": s.fn, "bank": bank.characters, "shots": shots,
                   "per_character": {n: [c.tp, c.fp, c.fn] for n, c in s.per_character.items()}}
        unbanked = unbanked_characters(videos.item, {n: [1] for n in bank.characters})
        if unbanked:  # scripted, no portrait embedding: never recognisable, every such shot is a miss
            details["unbanked_characters"] = unbanked
        return ItemScore(values, details)

    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        """Micro-summed ratios x100 over all shots of all items; CI by resampling items."""
        counts = np.array([[s.details["tp"], s.details["fp"], s.details["fn"]] for s in scores.values()],
                          dtype=np.float64).reshape(-1, 3)
        out: dict[str, dict] = {}
        if counts.shape[0] == 0:
            for info in self.metrics:
                out[info.name] = {"mean": None, "ci95": None, "n": 0, "higher_is_better": True, "std": None}
            return out
        tp, fp, fn = (int(x) for x in counts.sum(axis=0))
        ratios = dict(zip(("precision", "recall", "f1"), precision_recall_f1(tp, fp, fn)))
        n_boot = int(self.options.get("bootstrap") or 1000)
        ci = id_scores_bootstrap(counts, n_resamples=n_boot, seed=seed)
        warnings = []
        if tp + fp == 0:
            warnings.append("no character was recognised in any shot; precision is reported as 0")
        if tp + fn == 0:
            warnings.append("no shot has scripted characters; recall is reported as 0")
        unbanked = {i: s.details["unbanked_characters"] for i, s in scores.items()
                    if s.details.get("unbanked_characters")}
        if unbanked:
            listed = "; ".join(f"{i}: {', '.join(names)}" for i, names in list(unbanked.items())[:10])
            more = f" (and {len(unbanked) - 10} more items)" if len(unbanked) > 10 else ""
            warnings.append(f"{len(unbanked)} item(s) script characters without a portrait (or without a face "
                            f"found in it), so they can never be recognised and count as misses: {listed}{more}; add their portraits to the bank")
        for metric, key in METRIC_KEYS:
            per_item = [s.values[metric] for s in scores.values() if metric in s.values]
            entry = {
                "mean": round(100.0 * ratios[key], DECIMALS),
                "ci95": [round(100.0 * v, DECIMALS) for v in ci[key]],
                "n": int(counts.shape[0]),
                "higher_is_better": True,
                "std": round(float(np.std(per_item, ddof=1)), DECIMALS) if len(per_item) > 1 else None,
                "micro": {"tp": tp, "fp": fp, "fn": fn},
            }
            if warnings:
                entry["warnings"] = list(warnings)
            out[metric] = entry
        return out


def suite_dir_of(source: str) -> str | None:
    """The folder of a suite file (for portrait paths), or None for bundled suites."""
    path = Path(source)
    return str(path.parent) if path.suffix == ".json" and path.is_file() else None
