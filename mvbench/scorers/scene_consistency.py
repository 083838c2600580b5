"""Scene Consistency scorer (VideoStudio Sec. 4.2, Tables 4-5; protocol of VideoDirectorGPT App. F.3).

For every entity scripted in at least two scenes of an item, the runner hands over the sampled frames of
those scenes (default: the centre frame); Grounding-DINO (:mod:`mvbench.encoders.grounding_dino`) is
prompted with the entity's phrase, the most confident box above the thresholds is cropped, the crops are
embedded by a CLIP image encoder (default ``clip:ViT-B-32:openai``, the CLIP of VideoDirectorGPT) and the
same entity's crops are compared across scenes (:mod:`metrics.scene_consistency`, x100). The item's value
averages its entities; the aggregate is the mean over items with a bootstrap 95% CI.

Entities come from the suite: a scene's ``entities`` (noun phrases), or, when the item declares none,
its ``characters`` (the phrase is the character's appearance text, else the name). The same text in two
scenes is the same entity (compared lower-cased with runs of spaces collapsed), as VideoStudio matches
entity names across its script. Models are built once per run, on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from metrics.scene_consistency import (
    AVERAGE_MODES,
    MISSING_MODES,
    PAIR_MODES,
    best_detection,
    box_to_crop,
    scene_consistency,
)
from mvbench.config import Option, positive
from mvbench.scorers.base import FrameRequest, ItemScore, ItemVideos, MetricInfo, Request, Scorer
from mvbench.stats import DECIMALS
from mvbench.suite import SuiteItem

if TYPE_CHECKING:
    import torch

ENTITY_SOURCES = ("auto", "entities", "characters")


def _unit_interval(value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"must be in [0, 1), got {value}")


def entity_key(phrase: str) -> str:
    """Identity of an entity across scenes: lower-cased, runs of spaces collapsed.

    >>> entity_key("  Red   Umbrella") == entity_key("red umbrella")
    True
    """
    return " ".join(phrase.lower().split())


def scene_entities(item: SuiteItem, source: str = "auto") -> list[dict[str, str]]:
    """Per scene, ``{entity key: detection phrase}``.

    ``"entities"``: each scene's ``entities``; ``"characters"``: each scene's ``characters``, phrased by
    the character's appearance text (else its name) and keyed by the name; ``"auto"``: entities if any
    scene of the item lists some, else characters.
    """
    if source not in ENTITY_SOURCES:
        raise ValueError(f"entity source must be one of {ENTITY_SOURCES}, got {source!r}")
    if source == "auto":
        source = "entities" if any(s.entities for s in item.scenes) else "characters"
    out: list[dict[str, str]] = []
    for scene in item.scenes:
        if source == "entities":
            out.append({entity_key(e): e.strip() for e in scene.entities})
        else:
            chars = {}
            for name in scene.characters:
                c = item.characters.get(name)
                phrase = (c.appearance if c is not None and c.appearance.strip() else name).strip()
                chars[entity_key(name)] = phrase
            out.append(chars)
    return out


def common_entities(per_scene: list[dict[str, str]]) -> dict[str, list[int]]:
    """Entities scripted in at least two scenes -> the (0-based) scenes that script them, in order.

    >>> common_entities([{"dog": "dog"}, {"dog": "dog", "cat": "cat"}, {"cat": "cat"}, {"owl": "owl"}])
    {'dog': [0, 1], 'cat': [1, 2]}
    """
    where: dict[str, list[int]] = {}
    for k, ents in enumerate(per_scene):
        for key in ents:
            where.setdefault(key, []).append(k)
    return {key: scenes for key, scenes in where.items() if len(scenes) >= 2}


class SceneConsistencyScorer(Scorer):
    name = "scene_consistency"
    metrics = (
        MetricInfo("scene_consistency", True,
                   "CLIP similarity x100 of the same entity's Grounding-DINO crops across scenes (VideoStudio)"),
    )
    option_title = "scene consistency (scene_consistency: Grounding-DINO crops compared with CLIP)"
    option_specs = (
        Option("scene_detector", "grounding-dino-tiny",
               "Grounding-DINO model: grounding-dino-tiny, grounding-dino-base, or a local Hugging Face folder",
               metavar="NAME|DIR"),
        Option("scene_box_threshold", 0.35, "keep a box whose confidence exceeds this (Grounding-DINO's default)",
               metavar="T", check=_unit_interval),
        Option("scene_text_threshold", 0.25, "... and one of whose entity tokens exceeds this (Grounding-DINO's "
                                             "default)", metavar="T", check=_unit_interval),
        Option("scene_frames", 1, "frames per scene searched for each entity, 'middle' sampling; the most "
                                  "confident box wins (1 = the centre frame, as VideoDirectorGPT)", metavar="N",
               check=positive),
        Option("scene_clip", "clip:ViT-B-32:openai", "image encoder of the crops (an encoder name)",
               metavar="ENCODER"),
        Option("scene_pairs", "adjacent", "scene pairs compared per entity: adjacent appearances "
                                          "(VideoDirectorGPT) or all pairs", choices=PAIR_MODES),
        Option("scene_missing", "skip", "a scene where the entity is not detected: skipped, or similarity 0",
               choices=MISSING_MODES),
        Option("scene_average", "entities", "item value: mean over entities, or over all compared pairs",
               choices=AVERAGE_MODES),
        Option("scene_entity_source", "auto", "entities from the scenes' 'entities', their 'characters', or "
                                              "auto (entities when the item has any)", choices=ENTITY_SOURCES),
    )

    @classmethod
    def required_weights(cls, options: Mapping[str, Any]) -> list[str]:
        """A registered Grounding-DINO model's files (its entry and every ``NAME:file`` entry) and the crop
        encoder's weights; a local detector folder is checked when it is opened."""
        from mvbench.encoders import encoder_weights
        from mvbench.weights import REGISTRY

        detector = options.get("scene_detector") or "grounding-dino-tiny"
        files = [n for n in REGISTRY if n == detector or n.startswith(detector + ":")]
        return files + encoder_weights(options.get("scene_clip") or "clip:ViT-B-32:openai")

    def __init__(self, options: dict | None = None, detector=None, clip_encoder=None):
        super().__init__(options)
        self._detector = detector
        self._clip = clip_encoder

    # ------------------------------------------------------------------ configuration
    def opt(self, name: str) -> Any:
        """Option ``name``: the given value (coerced and checked) or its default."""
        spec = next(s for s in self.option_specs if s.name == name)
        value = self.options.get(name)
        return spec.default if value is None else spec.coerce(value)

    @property
    def device(self) -> str:
        return str(self.options.get("device") or "cpu")

    @property
    def detector(self):
        """The Grounding-DINO model, built on first use and kept for the run."""
        if self._detector is None:
            from mvbench.encoders.grounding_dino import load_grounding_dino

            self._detector = load_grounding_dino(self.opt("scene_detector"), device=self.device)
        return self._detector

    @property
    def clip(self):
        """The crop encoder, built on first use and kept for the run."""
        if self._clip is None:
            from mvbench.encoders import create_encoder

            self._clip = create_encoder(self.opt("scene_clip"), device=self.device)
            self._clip.module.eval()
        return self._clip

    def encoders(self) -> list[str]:
        return [self.opt("scene_clip")]

    def config(self) -> dict:
        cfg: dict[str, Any] = {spec.name.removeprefix("scene_"): self.opt(spec.name) for spec in self.option_specs}
        cfg["sampling"] = "middle"
        cfg["crop_preprocess"] = "shorter side to the encoder size (bicubic, antialiased), centre crop, normalise"
        cfg["protocol"] = "VideoDirectorGPT App. F.3 / VideoStudio Sec. 4.2"
        if self._detector is not None:
            cfg["detector_info"] = self._detector.describe()
        if self._clip is not None:
            cfg["clip_info"] = self._clip.describe()
        return cfg

    # ------------------------------------------------------------------ requests and scoring
    def _plan(self, videos: ItemVideos) -> tuple[list[dict[str, str]], dict[str, list[int]]]:
        per_scene = scene_entities(videos.item, self.opt("scene_entity_source"))
        return per_scene, common_entities(per_scene)

    def _request(self, videos: ItemVideos, k: int) -> FrameRequest:
        return FrameRequest(videos.scenes[k], int(self.opt("scene_frames")), "middle")

    def requests(self, videos: ItemVideos) -> list[Request]:
        _, common = self._plan(videos)
        scenes = sorted({k for ks in common.values() for k in ks})
        return [self._request(videos, k) for k in scenes]

    def _embed(self, crops: list[tuple[torch.Tensor, tuple[int, int, int, int]]]) -> np.ndarray:
        import torch

        from mvbench.video.crops import clip_crop_input

        enc = self.clip
        x = torch.stack([clip_crop_input(frame, bounds, enc.preprocess) for frame, bounds in crops])
        with torch.inference_mode():
            emb = enc.encode_video(x[:, None].to(enc.device))  # one-frame clips: the image embedding
        return emb.double().cpu().numpy()

    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        import torch

        per_scene, common = self._plan(videos)
        if not common:
            return ItemScore({}, {"entities": {}, "note": "no entity is scripted in two or more scenes"})
        det = self.detector
        thr_box, thr_text = self.opt("scene_box_threshold"), self.opt("scene_text_threshold")
        crops: list[tuple[torch.Tensor, tuple[int, int, int, int]]] = []
        found: dict[str, list[int | None]] = {}  # entity -> crop index (or None) per scripted scene
        details: dict[str, dict] = {}
        for key, scenes in common.items():
            found[key] = []
            rows = []
            for k in scenes:
                frames = torch.as_tensor(np.asarray(results[self._request(videos, k)]))
                phrase = per_scene[k][key]
                probs, boxes, positions = det.detect(frames, phrase)
                d = best_detection(probs, boxes, positions, thr_box, thr_text)
                if d is None:
                    found[key].append(None)
                    rows.append({"scene": k + 1, "detected": False})
                    continue
                frame = frames[d.frame]
                bounds = box_to_crop(d.box, int(frame.shape[1]), int(frame.shape[0]))
                found[key].append(len(crops))
                crops.append((frame, bounds))
                rows.append({"scene": k + 1, "detected": True, "score": round(d.score, 4), "frame": d.frame,
                             "crop": list(bounds)})
            details[key] = {"phrase": per_scene[scenes[0]][key], "scenes": rows}
        emb = self._embed(crops) if crops else np.zeros((0, 1))
        per_entity = {key: [emb[i] if i is not None else None for i in idx] for key, idx in found.items()}
        res = scene_consistency(per_entity, self.opt("scene_pairs"), self.opt("scene_missing"),
                                self.opt("scene_average"))
        for key, value in res.per_entity.items():
            details[key]["value"] = None if value is None else round(value, 4)
            details[key]["pairs"] = res.n_pairs[key]
        values = {} if res.value is None else {"scene_consistency": round(res.value, DECIMALS)}
        return ItemScore(values, {"entities": details})

    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        out = super().aggregate(scores, seed)
        undefined = sorted(i for i, s in scores.items() if "scene_consistency" not in s.values)
        if undefined:
            out["scene_consistency"].setdefault("warnings", []).append(
                f"{len(undefined)} item(s) have no entity detected (or scripted) in two or more scenes and are left "
                f"out of the mean (e.g. {undefined[0]!r}); see each item's details")
        return out
