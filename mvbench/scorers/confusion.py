"""Confusion Degree, video-level and frame-level text-video consistency (frame-level captions
paper, Sec. 5.3, Eq. 2-5). Math in :mod:`metrics.confusion`; segment boundaries in
:mod:`mvbench.segmenting`.

Per item, with the encoder of ``--encoder`` (default ViCLIP-L/14):

* each of the F segments is encoded as a clip of ``--cd-segment-frames`` frames at segment
  midpoints (8, the default; 1 = the segment's single middle frame), each frame-level prompt
  with the text tower;
* the global prompt (or, when an item has none, its scene prompts joined by spaces) and an
  8-frame clip over the whole video (all scenes concatenated, frames at segment midpoints,
  i.e. uniformly spread) give the video-level consistency of Eq. 2.

Clips follow the clip protocol of the consistency scorer's options (``--clip-protocol`` and its
overrides, :mod:`mvbench.video.protocols`): its frame sampling replaces the segment midpoints above
and its resizing/normalisation the encoder's; ``--consistency-scale`` does not apply here.

Scores are raw cosines / CD values, on the paper's scale (Table 1: CD about 0.14-0.30,
consistencies about 0.15-0.22), not x100. Items with F < 2 get no confusion_degree (Eq. 4 would
be 0 by construction) and a warning in their details.

CD grows with F (Eq. 4 sums F - 1 off-diagonal terms), so each item's F is in its details and the
summaries of ``confusion_degree`` and ``confusion_degree_normalized`` carry
``"F": {"min", "max", "mean"}`` over the items they average. ``confusion_degree_normalized`` is
``CD / (F - 1)`` per item (:func:`metrics.confusion.normalize_confusion_degree`), mvbench's
per-pair variant for comparing items or suites with different F; the paper's CD is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metrics.confusion import DEFAULT_EPS, DEGENERATE_POLICIES, confusion_degree, normalize_confusion_degree
from metrics.confusion import frame_text_consistency as frame_text_consistency_fn
from metrics.confusion import video_text_consistency as video_text_consistency_fn
from mvbench.scorers.base import ClipRequest, ItemScore, ItemVideos, MetricInfo, Request, Scorer, TextRequest
from mvbench.segmenting import BOUNDARY_MODES, Segment, segment_item
from mvbench.stats import DECIMALS, ci_options, summarize
from mvbench.video.protocols import ClipProtocol, resolve_clip_protocol

DEFAULT_ENCODER = "viclip-l14"
#: frames of the whole-video clip of Eq. 2 ("uniformly sample 8 frames as input of ViCLIP")
VIDEO_CLIP_FRAMES = 8
DEFAULT_SEGMENT_FRAMES = 8


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), DECIMALS)


def f_summary(f_values: list[int]) -> dict | None:
    """``{"min", "max", "mean"}`` of the items' numbers of frame-level prompts F (None without items).

    >>> f_summary([7, 8, 8, 7])
    {'min': 7, 'max': 8, 'mean': 7.5}
    """
    if not f_values:
        return None
    return {"min": min(f_values), "max": max(f_values), "mean": round(sum(f_values) / len(f_values), DECIMALS)}


class ConfusionScorer(Scorer):
    name = "confusion"
    metrics = (
        MetricInfo("confusion_degree", False, "Confusion Degree over frame-level prompts (Eq. 3-5); lower is better"),
        MetricInfo("confusion_degree_normalized", False,
                   "Confusion Degree per ordered segment pair, CD / (F - 1) (mvbench's F-independent variant)"),
        MetricInfo("video_text_consistency", True, "cosine of global prompt and whole-video embeddings (Eq. 2)"),
        MetricInfo("frame_text_consistency", True, "mean cosine of each frame-level prompt and its segment"),
    )

    @classmethod
    def add_cli_arguments(cls, parser) -> None:
        parser.add_argument("--cd-boundaries", choices=BOUNDARY_MODES, default="auto",
                            help="segment boundaries: suite frame_ranges when given, else equal segments "
                                 "(auto, default) or always equal segments (equal)")
        parser.add_argument("--cd-segment-frames", type=int, default=DEFAULT_SEGMENT_FRAMES,
                            help="frames per segment clip, at segment midpoints (default 8; 1 = the "
                                 "segment's single middle frame)")
        parser.add_argument("--cd-degenerate", choices=DEGENERATE_POLICIES, default="exclude",
                            help="prompts whose own-segment similarity is below --cd-eps: leave out of "
                                 "the CD mean (exclude, default) or floor the normaliser at eps")
        parser.add_argument("--cd-eps", type=float, default=DEFAULT_EPS,
                            help=f"degenerate-normaliser threshold (default {DEFAULT_EPS})")
        parser.add_argument("--cd-save-matrices", action="store_true",
                            help="also write each item's F x F similarity matrices into the results")

    @classmethod
    def required_weights(cls, options: Mapping[str, Any]) -> list[str]:
        from mvbench.encoders import encoder_weights

        return encoder_weights(options.get("encoder") or DEFAULT_ENCODER)

    # ----------------------------------------------------------------- options
    @property
    def encoder(self) -> str:
        return self.options.get("encoder") or DEFAULT_ENCODER

    @property
    def boundaries(self) -> str:
        value = self.options.get("cd_boundaries") or "auto"
        if value not in BOUNDARY_MODES:
            raise ValueError(f"cd_boundaries must be one of {BOUNDARY_MODES}, got {value!r}")
        return value

    @property
    def segment_frames(self) -> int:
        raw = self.options.get("cd_segment_frames")
        value = DEFAULT_SEGMENT_FRAMES if raw is None else int(raw)
        if value < 1:
            raise ValueError(f"cd_segment_frames must be >= 1, got {value}")
        return value

    @property
    def degenerate(self) -> str:
        return self.options.get("cd_degenerate") or "exclude"

    @property
    def eps(self) -> float:
        value = self.options.get("cd_eps")
        return DEFAULT_EPS if value is None else float(value)

    @property
    def protocol(self) -> ClipProtocol:
        """The clip protocol (``--clip-protocol`` and overrides; options declared by the consistency scorer)."""
        return resolve_clip_protocol(self.options)

    def encoders(self) -> list[str]:
        return [self.encoder]

    def config(self) -> dict:
        protocol = self.protocol
        return {
            "clip_protocol": {k: v for k, v in protocol.as_dict().items() if k != "scale"},
            "encoder": self.encoder,
            "cd_boundaries": self.boundaries,
            "cd_segment_frames": self.segment_frames,
            "cd_segmentation": "single-middle-frame" if self.segment_frames == 1 else "clip-per-segment",
            "cd_segment_sampling": protocol.sampling,
            "cd_degenerate": self.degenerate,
            "cd_eps": self.eps,
            "video_clip_frames": VIDEO_CLIP_FRAMES,
            "video_clip_sampling": protocol.sampling,
        }

    # ---------------------------------------------------------------- requests
    def _segments(self, videos: ItemVideos) -> list[Segment]:
        return segment_item(videos, self.boundaries)

    @staticmethod
    def global_prompt(videos: ItemVideos) -> str:
        item = videos.item
        return item.global_prompt or " ".join(s.prompt for s in item.scenes)

    def _plan(self, videos: ItemVideos) -> tuple[list[Segment], list[ClipRequest], list[TextRequest],
                                                  TextRequest, ClipRequest]:
        segs = self._segments(videos)
        protocol = self.protocol
        prep = protocol.request_preprocess
        seg_clips = [ClipRequest(self.encoder, (s.ref,), protocol.sampling, self.segment_frames, preprocess=prep)
                     for s in segs]
        seg_texts = [TextRequest(self.encoder, s.prompt) for s in segs]
        g_text = TextRequest(self.encoder, self.global_prompt(videos))
        g_clip = ClipRequest(self.encoder, tuple(videos.scenes), protocol.sampling, VIDEO_CLIP_FRAMES, preprocess=prep)
        return segs, seg_clips, seg_texts, g_text, g_clip

    def requests(self, videos: ItemVideos) -> list[Request]:
        _, seg_clips, seg_texts, g_text, g_clip = self._plan(videos)
        out: list[Request] = []
        for r in [*seg_clips, *seg_texts, g_text, g_clip]:
            if r not in out:
                out.append(r)
        return out

    # ------------------------------------------------------------------- score
    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        import torch

        segs, seg_clips, seg_texts, g_text, g_clip = self._plan(videos)
        text = torch.stack([torch.as_tensor(results[r]) for r in seg_texts])
        clips = torch.stack([torch.as_tensor(results[r]) for r in seg_clips])
        values: dict[str, float] = {
            "video_text_consistency": video_text_consistency_fn(torch.as_tensor(results[g_text]),
                                                                torch.as_tensor(results[g_clip])),
            "frame_text_consistency": frame_text_consistency_fn(text, clips),
        }
        res = confusion_degree(text, clips, eps=self.eps, degenerate=self.degenerate)
        details: dict[str, Any] = {
            "F": len(segs),
            "boundaries": sorted({s.source for s in segs}),
            "segments": [[s.scene, s.start, s.end] for s in segs],
            "frame_text_per_prompt": [_round(v) for v in torch.diagonal(res.s_tf).tolist()],
            "degenerate_prompts": res.num_degenerate,
            "warnings": [],
        }
        if len(segs) < 2:
            details["cd_per_prompt"] = None
            details["warnings"].append("only one frame-level prompt: Confusion Degree is not defined "
                                       "(add frame_prompts to the item's scenes)")
        else:
            details["cd_per_prompt"] = [_round(v) for v in res.per_prompt_list()]
            if res.cd is not None:
                values["confusion_degree"] = res.cd
                values["confusion_degree_normalized"] = normalize_confusion_degree(res.cd, len(segs))
            else:
                details["warnings"].append(f"all {len(segs)} frame-level prompts have a degenerate "
                                           f"normaliser (own-segment similarity < {self.eps}); "
                                           "Confusion Degree is undefined for this item")
            if res.num_degenerate:
                idx = torch.nonzero(res.degenerate).flatten().tolist()
                details["degenerate_indices"] = idx
        if self.options.get("cd_save_matrices"):
            details["s_tt"] = [[_round(v) for v in row] for row in res.s_tt.tolist()]
            details["s_tf"] = [[_round(v) for v in row] for row in res.s_tf.tolist()]
        return ItemScore({k: round(float(v), DECIMALS) for k, v in values.items()}, details)

    # --------------------------------------------------------------- aggregate
    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        """Mean, sample std (the paper's mean +- std over videos) and bootstrap CI per metric; for
        confusion_degree also the count of degenerate prompts and of items without a CD."""
        out = {}
        for info in self.metrics:
            vals = [s.values[info.name] for s in scores.values() if info.name in s.values]
            out[info.name] = summarize(vals, higher_is_better=info.higher_is_better, seed=seed,
                                       **ci_options(self.options))
        cd = out["confusion_degree"]
        n_deg = sum(int(s.details.get("degenerate_prompts", 0)) for s in scores.values())
        n_prompts = sum(int(s.details.get("F", 0)) for s in scores.values())
        no_cd = sorted(k for k, s in scores.items() if "confusion_degree" not in s.values)
        cd["degenerate_prompts"] = n_deg
        cd["prompts"] = n_prompts
        cd["items_without_cd"] = len(no_cd)
        for name in ("confusion_degree", "confusion_degree_normalized"):
            out[name]["F"] = f_summary([int(s.details["F"]) for s in scores.values()
                                        if name in s.values and "F" in s.details])
        warnings = []
        if n_deg:
            action = "left out of the CD mean" if self.degenerate == "exclude" else "normaliser floored at eps"
            warnings.append(f"{n_deg} of {n_prompts} frame-level prompts have an own-segment similarity "
                            f"below {self.eps} ({action})")
        if no_cd:
            warnings.append(f"{len(no_cd)} item(s) have no Confusion Degree: " + ", ".join(no_cd[:10])
                            + (" ..." if len(no_cd) > 10 else ""))
        if warnings:
            cd["warnings"] = warnings
        return out
