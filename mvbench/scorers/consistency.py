"""Visual / Semantic / Sequence Consistency scorer (Mask²DiT, Sec. 4.1): one clip per scene, one
prompt per scene, same encoder for both. Math in :mod:`metrics.consistency`.

How a scene becomes a clip is the clip protocol (``--clip-protocol``, :mod:`mvbench.video.protocols`):
``mvbench`` (default: exact-midpoint frames, antialiased bilinear squash, the encoder's normalisation),
``internvid-eval``, ``internvid-demo`` or ``vbench``, with finer overrides (``--clip-sampling``,
``--clip-resize``, ``--clip-interpolation``, ``--clip-antialias``, ``--clip-resize-dtype``,
``--clip-normalize``). The protocol also sets the scale: ``percent`` (x100, Mask²DiT's tables) or, for
``vbench``, ``fraction`` (VBench's raw cosine); ``--consistency-scale`` overrides it and each metric
summary records its ``unit``. The Confusion Degree scorer reads the same options.

Per item, ``details`` keep what the report and the figures need, as small numbers (no embeddings):
``scene_semantic`` (each scene's video-prompt cosine, whose mean is Semantic Consistency) and
``scene_similarity`` (the ``[n, n]`` matrix of scene-pair cosines, whose upper-triangle mean is Visual
Consistency), both in the metrics' scale (×100 for ``percent``: diagonal 100; the raw cosine for
``fraction``: diagonal 1) and rounded to 4 decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metrics.consistency import (
    PAIR_MODES,
    scene_similarity_matrix,
    semantic_consistency,
    sequence_consistency,
    visual_consistency,
)
from mvbench.config import Option
from mvbench.encoders import encoder_weights
from mvbench.scorers.base import ClipRequest, ItemScore, ItemVideos, MetricInfo, Request, Scorer, TextRequest
from mvbench.stats import DECIMALS
from mvbench.video.protocols import CLIP_PROTOCOL_OPTIONS, ClipProtocol, resolve_clip_protocol

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
        *CLIP_PROTOCOL_OPTIONS,
    )

    @property
    def protocol(self) -> ClipProtocol:
        """The clip protocol of ``--clip-protocol`` with the finer overrides applied."""
        return resolve_clip_protocol(self.options)

    @property
    def encoder(self) -> str:
        return self.options.get("encoder") or DEFAULT_ENCODER

    def frames_needed(self) -> int:
        return CLIP_FRAMES

    @property
    def can_pad(self) -> bool:
        """InternVid's demo sampling (``step``) needs 8 distinct frames (the demo asserts it): no padding."""
        return self.protocol.sampling != "step"

    @classmethod
    def required_weights(cls, options: Mapping[str, Any]) -> list[str]:
        return encoder_weights(options.get("encoder") or DEFAULT_ENCODER)

    def encoders(self) -> list[str]:
        return [self.encoder]

    def config(self) -> dict:
        protocol = self.protocol
        return {"encoder": self.encoder, "vc_pairs": self.options.get("vc_pairs", "all"),
                "clip_sampling": protocol.sampling, "clip_protocol": protocol.as_dict(), "scale": protocol.scale}

    def requests(self, videos: ItemVideos) -> list[Request]:
        protocol = self.protocol
        reqs: list[Request] = [ClipRequest(self.encoder, (ref,), protocol.sampling,
                                           preprocess=protocol.request_preprocess) for ref in videos.scenes]
        reqs += [TextRequest(self.encoder, scene.prompt) for scene in videos.item.scenes]
        return reqs

    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        import torch

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
        factor = 1.0 if self.protocol.scale == "fraction" else 100.0
        per_scene = (torch.nn.functional.normalize(v.double(), dim=1) *
                     torch.nn.functional.normalize(t.double(), dim=1)).sum(1) * factor
        if factor != 100.0:  # metrics.consistency works in percent
            values = {k: x * factor / 100.0 for k, x in values.items()}
        values = {k: round(x, DECIMALS) for k, x in values.items()}
        pairs = scene_similarity_matrix(v) * (factor / 100.0)  # in the metrics' scale
        return ItemScore(values, {"scene_semantic": [round(float(x), 4) for x in per_scene],
                                  "scene_similarity": [[round(float(x), 4) for x in row] for row in pairs]})

    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        out = super().aggregate(scores, seed)
        for summary in out.values():
            summary["unit"] = self.protocol.scale
        single = sorted(i for i, s in scores.items() if "visual_consistency" not in s.values)
        if single:
            note = (f"{len(single)} item(s) have a single scene, so visual and sequence consistency are "
                    f"undefined for them and they are left out of those two means (e.g. {single[0]!r}); "
                    "semantic consistency includes them")
            for name in ("visual_consistency", "sequence_consistency"):
                out[name].setdefault("warnings", []).append(note)
        return out
