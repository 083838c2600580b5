"""Character-ID consistency scorer: Precision_ID, Recall_ID, F1_ID (MovieBench Sec. 3.5, Tables 5 and 9)
and ``character_similarity`` (ViStoryBench's character-identity similarity idea).

Per scene (shot) the runner hands over sampled frames; the face backend (built once per run, on
first use) recognises bank characters in them (:mod:`mvbench.faces.protocol`); the shot's
prediction is compared with the scene's scripted ``characters``. :meth:`CharacterIdScorer.aggregate`
micro-sums TP/FP/FN over all shots of all items (not a mean of per-item scores) and reports the
three ratios x100 with a bootstrap 95% CI that resamples items. ``character_similarity`` is the mean,
over all (shot, scripted character) pairs of all items, of the cosine similarity between the face
assigned to the character in the shot's frames and its bank portraits (0 when it is not on screen;
:func:`metrics.identity.shot_character_similarity`). Math in :mod:`metrics.identity`.

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

from metrics.identity import (
    id_scores,
    id_scores_bootstrap,
    precision_recall_f1,
    shot_character_similarity,
    similarity_bootstrap,
)
from mvbench.config import Option, positive
from mvbench.errors import MvbenchError
from mvbench.faces.backend import DISTANCE_METRICS, FaceBackend
from mvbench.faces.bank import (
    CharacterBank,
    build_bank,
    default_cache,
    portraits_for_item,
    unbanked_characters,
)
from mvbench.faces.protocol import PROTOCOLS, IdProtocol, get_protocol, interval_indices, recognize_frames
from mvbench.scorers.base import FrameRequest, ItemScore, ItemVideos, MetricInfo, Request, Scorer
from mvbench.stats import DECIMALS

METRIC_KEYS = (("id_precision", "precision"), ("id_recall", "recall"), ("id_f1", "f1"))


def _at_least_one(value: int) -> None:
    if value < 1:
        raise ValueError(f"must be >= 1, got {value}")


def _fraction(value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be in [0, 1], got {value}")


class CharacterIdScorer(Scorer):
    name = "character_id"
    metrics = (
        MetricInfo("id_precision", True, "Precision_ID x100: TP / (TP + FP), counts summed over shots"),
        MetricInfo("id_recall", True, "Recall_ID x100: TP / (TP + FN), counts summed over shots"),
        MetricInfo("id_f1", True, "F1_ID x100: harmonic mean of Precision_ID and Recall_ID"),
        MetricInfo("character_similarity", True,
                   "mean cosine between each scripted character's face in a shot and its bank portraits "
                   "(0 when absent), over all (shot, character) pairs"),
    )
    option_title = "character ID (id_precision, id_recall, id_f1, character_similarity; needs the [face] extra)"
    option_specs = (
        Option("character_bank", None, "portraits NAME.jpg or NAME/*.jpg, optionally in one sub-folder per item id",
               type=str, metavar="DIR"),
        Option("id_protocol", None, "mvbench (union over frames) or moviebench (the published script, last frame)",
               type=str, choices=PROTOCOLS),
        Option("face_detector", None, "DeepFace detector for frames (default fastmtcnn, MovieBench's; "
               "dlib for the offline tier)", type=str),
        Option("face_crop_detector", None, "DeepFace detector run inside each face crop before embedding "
               "(default opencv; dlib when --face-detector is dlib)", type=str),
        Option("face_model", None, "DeepFace recognition model (default VGG-Face, MovieBench's; Dlib for the "
               "offline tier)", type=str),
        Option("face_distance", None, "face distance (default euclidean_l2)", type=str, choices=DISTANCE_METRICS),
        Option("face_threshold", None, "match when distance <= this (default: DeepFace's threshold for "
               "model/distance)", type=float, check=positive),
        Option("face_min_confidence", None, "detection confidence filter (default 0.8; 0 for the dlib detector)",
               type=float, check=_fraction),
        Option("id_frames", None, "frames sampled per shot (default 5)", type=int, check=_at_least_one),
    )

    def __init__(self, options: dict | None = None, backend: FaceBackend | None = None):
        super().__init__(options)
        self._backend = backend
        self._banks: dict[str, CharacterBank] = {}

    # ------------------------------------------------------------------ configuration
    @property
    def protocol(self) -> IdProtocol:
        o = self.options
        frames = o.get("id_frames")
        if frames is not None and int(frames) < 1:
            raise MvbenchError(f"--id-frames must be >= 1, got {frames}")
        min_conf = o.get("face_min_confidence")
        if min_conf is None:
            from mvbench.faces.deepface_backend import DEFAULT_MIN_CONFIDENCE

            min_conf = DEFAULT_MIN_CONFIDENCE.get(self._detector_name())
        return get_protocol(o.get("id_protocol") or "mvbench", num_frames=frames, min_confidence=min_conf)

    def _detector_name(self) -> str | None:
        if self._backend is not None:
            return getattr(getattr(self._backend, "options", None), "detector", None)
        return self.options.get("face_detector") or "fastmtcnn"

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
            from mvbench.faces.deepface_backend import face_tier

            cfg["face_backend"] = {"backend": "deepface", "model": opts.model, "detector": opts.detector,
                                   "crop_detector": opts.crop_detector, "distance": opts.distance,
                                   "threshold": opts.threshold, "align": opts.align,
                                   "tier": face_tier(opts.model, opts.detector)}
        cfg["character_similarity"] = {"similarity": "cosine", "matching": "vistorybench-cids",
                                        "absent_character": 0.0, "unbanked_characters": "excluded"}
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
        self.portraits_for(videos.item)  # an item without portraits cannot be scored: found while planning
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
        portraits = bank.by_character()
        dim = int(bank.embeddings.shape[1]) if bank.names else 0
        sim_pairs: list[float] = []
        for k, (scene, ref) in enumerate(zip(videos.item.scenes, videos.scenes), start=1):
            reqs = self._scene_requests(ref)
            frames = np.concatenate([np.asarray(results[r]) for r in reqs], axis=0)
            if p.sampling == "interval":
                indices = [r.video.start - ref.start for r in reqs]
            else:
                from mvbench.video.sampling import sample_indices

                indices = sample_indices(ref.num_frames, p.num_frames, p.sampling)
            per_frame = recognize_frames(backend, bank, frames, p, indices)
            matches = [m for frame in per_frame for m in frame]
            names = {m.name for m in matches if m.name is not None}
            gt = set(scene.characters)
            preds.append(names)
            gts.append(gt)
            sims = shot_character_similarity(
                [np.array([m.embedding for m in frame]) if frame else np.zeros((0, dim)) for frame in per_frame],
                portraits, scene.characters) if dim else {}
            sim_pairs.extend(sims.values())
            shots.append({"scene": k, "predicted": sorted(names), "scripted": sorted(gt),
                          "similarity": sims, "faces": [m.as_dict() for m in matches]})
        s = id_scores(preds, gts)
        values = {}
        if s.tp + s.fp > 0:
            values["id_precision"] = round(100.0 * s.precision, DECIMALS)
        if s.tp + s.fn > 0:
            values["id_recall"] = round(100.0 * s.recall, DECIMALS)
        if "id_precision" in values and "id_recall" in values:
            values["id_f1"] = round(100.0 * s.f1, DECIMALS)
        if sim_pairs:
            values["character_similarity"] = round(float(np.mean(sim_pairs)), DECIMALS)
        details = {"tp": s.tp, "fp": s.fp, "fn": s.fn, "bank": bank.characters, "shots": shots,
                   "similarity_sum": float(np.sum(sim_pairs)), "similarity_pairs": len(sim_pairs),
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
            out["character_similarity"]["unit"] = "cosine"
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
        out["character_similarity"] = self._aggregate_similarity(scores, seed, n_boot, unbanked)
        return out

    @staticmethod
    def _aggregate_similarity(scores: dict[str, ItemScore], seed: int, n_boot: int, unbanked: dict) -> dict:
        """Pooled mean over all (shot, character) pairs of all items; CI by resampling items."""
        sums = np.array([float(s.details.get("similarity_sum", 0.0)) for s in scores.values()])
        pairs = np.array([int(s.details.get("similarity_pairs", 0)) for s in scores.values()])
        entry: dict[str, Any] = {"mean": None, "ci95": None, "n": int(len(scores)), "higher_is_better": True,
                                 "std": None, "unit": "cosine", "pairs": int(pairs.sum())}
        if pairs.sum() == 0:
            entry["warnings"] = ["no scripted character with a portrait in any shot: similarity is undefined"]
            return entry
        lo, hi = similarity_bootstrap(sums, pairs, n_resamples=n_boot, seed=seed)
        per_item = [s.values["character_similarity"] for s in scores.values() if "character_similarity" in s.values]
        entry.update({
            "mean": round(float(sums.sum() / pairs.sum()), DECIMALS),
            "ci95": [round(lo, DECIMALS), round(hi, DECIMALS)],
            "std": round(float(np.std(per_item, ddof=1)), DECIMALS) if len(per_item) > 1 else None,
        })
        if unbanked:
            entry["warnings"] = [f"{len(unbanked)} item(s) script characters without a portrait; they are left "
                                 "out of the similarity (no reference to compare with)"]
        return entry


def suite_dir_of(source: str) -> str | None:
    """The folder of a suite file (for portrait paths), or None for bundled suites."""
    path = Path(source)
    return str(path.parent) if path.suffix == ".json" and path.is_file() else None
