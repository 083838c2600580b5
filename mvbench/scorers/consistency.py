"""Visual / Semantic / Sequence Consistency scorer (Mask²DiT, Sec. 4.1): one clip per scene, one
prompt per scene, same encoder for both. Math in :mod:`metrics.consistency`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from metrics.consistency import PAIR_MODES, semantic_consistency, sequence_consistency, visual_consistency
from mvbench.config import Option
from mvbench.encoders import encoder_weights
from mvbench.scorers.base import ClipRequest, ItemScore, ItemVideos, MetricInfo, Request, Scorer, TextRequest
from mvbench.stats import DECIMALS

DEFAULT_ENCODER = "viclip-l14"
#: frames per scene clip of every video-text encoder mvbench ships (ViCLIP's 8)
CLIP_FRAMES = 8


class ConsistencyScorer(Scorer):
    name = "consistency"
    metrics = (
        MetricInfo("visual_consistency", True, "mean pairwise cosine of scene video embeddings x100"),
        MetricInfo("semantic_consistency", True, "mean cosine of scene video and prompt embeddings x100"),
        MetricInfo("sequence_consistency", True, "mean of visual and semantic consistency"),
    )

    option_title = "consistency (visual_consistency, semantic_consistency, sequence_consistency)"
    option_specs = (
        Option("vc_pairs", "all", "scene pairs for visual consistency: all pairs (Mask²DiT) or consecutive ones",
               choices=PAIR_MODES),
    )

    @property
    def encoder(self) -> str:
        return self.options.get("encoder") or DEFAULT_ENCODER

    def frames_needed(self) -> int:
        return CLIP_FRAMES

    @classmethod
    def required_weights(cls, options: Mapping[str, Any]) -> list[str]:
        return encoder_weights(options.get("encoder") or DEFAULT_ENCODER)

    def encoders(self) -> list[str]:
        return [self.encoder]

    def config(self) -> dict:
        return {"encoder": self.encoder, "vc_pairs": self.options.get("vc_pairs", "all"),
                "clip_sampling": "middle"}

    def requests(self, videos: ItemVideos) -> list[Request]:
        reqs: list[Request] = [ClipRequest(self.encoder, (ref,), "middle") for ref in videos.scenes]
        reqs += [TextRequest(self.encoder, scene.prompt) for scene in videos.item.scenes]
        return reqs

    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        reqs = self.requests(videos)
        n = len(videos.scenes)
        v = torch.stack([torch.as_tensor(results[r]) for r in reqs[:n]])
        t = torch.stack([torch.as_tensor(results[r]) for r in reqs[n:]])
        sc = semantic_consistency(v, t)
        values = {"semantic_consistency": sc}
        if n >= 2:
            vc = visual_consistency(v, pairs=self.options.get("vc_pairs", "all"))
            values["visual_consistency"] = vc
            values["sequence_consistency"] = sequence_consistency(vc, sc)
        per_scene = (torch.nn.functional.normalize(v.double(), dim=1) *
                     torch.nn.functional.normalize(t.double(), dim=1)).sum(1) * 100
        values = {k: round(x, DECIMALS) for k, x in values.items()}
        return ItemScore(values, {"scene_semantic": [round(float(x), 4) for x in per_scene]})

    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        out = super().aggregate(scores, seed)
        single = sorted(i for i, s in scores.items() if "visual_consistency" not in s.values)
        if single:
            note = (f"{len(single)} item(s) have a single scene, so visual and sequence consistency are "
                    f"undefined for them and they are left out of those two means (e.g. {single[0]!r}); "
                    "semantic consistency includes them")
            for name in ("visual_consistency", "sequence_consistency"):
                out[name].setdefault("warnings", []).append(note)
        return out
