"""Paper presets: ``mvbench evaluate --protocol NAME`` sets the metrics and options one paper's tables use.

A :class:`Protocol` is data: the metrics a paper reports (the default metric list when ``--metrics`` is
not given), the option values that reproduce its protocol (encoder, clip protocol, FVD variant and
conventions, ID protocol, VBench mode), the paper, the tables it reproduces and notes on what mvbench
had to interpret. The preset's options are fixed: an explicit option with another value is refused
(:class:`~mvbench.errors.ConfigError` naming both), so that a results file labelled with a preset was
made under exactly that preset; options the preset does not set stay free (reference files, device,
batch size ...). The results file records ``config.options.protocol`` and ``config.protocol`` (name,
paper, the options it set, its metric list); ``mvbench compare`` refuses to compare runs made under
different presets, and ``mvbench leaderboard --paper`` warns when a results file's preset is not the
one a table's columns use. What each preset sets and why: ``docs/protocols.md``.

>>> sorted(PROTOCOLS)
['framecaps', 'mask2dit', 'moviebench', 'videostudio']
>>> PROTOCOLS["mask2dit"].options["clip_protocol"]
'internvid-eval'
>>> get_protocol("mask2dt")
Traceback (most recent call last):
...
mvbench.errors.ConfigError: unknown protocol 'mask2dt'; did you mean 'mask2dit'?
  hint: `mvbench list protocols` shows the presets
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mvbench.config import suggest
from mvbench.errors import ConfigError


@dataclass(frozen=True)
class Protocol:
    """One paper's evaluation protocol as mvbench options (see module doc)."""

    name: str
    description: str
    paper: str
    #: default metric list (shared metric names, see ``mvbench list metrics``)
    metrics: tuple[str, ...]
    #: option values the preset sets (keys of ``mvbench evaluate`` options)
    options: Mapping[str, Any] = field(default_factory=dict)
    #: paper tables (leaderboard ids) whose measured columns this preset reproduces
    tables: tuple[str, ...] = ()
    #: what mvbench interprets where the paper is silent or ambiguous
    notes: tuple[str, ...] = ()

    def record(self) -> dict:
        """What a results file records under ``config.protocol``."""
        return {"name": self.name, "paper": self.paper, "options": dict(self.options), "metrics": list(self.metrics)}


PROTOCOLS: dict[str, Protocol] = {
    "mask2dit": Protocol(
        name="mask2dit",
        description="Mask²DiT (CVPR 2025) Tables 1-5, 7, 8, 10: ViCLIP-L/14 Visual/Semantic/Sequence Consistency "
                    "(InternVid evaluation clips, x100), content-debiased FVD (cd-fvd conventions), VBench aesthetic "
                    "and imaging quality",
        paper="Qi et al., Mask²DiT: Dual Mask-based Diffusion Transformer for Multi-Scene Long Video Generation",
        metrics=("visual_consistency", "semantic_consistency", "sequence_consistency", "fvd_videomae",
                 "aesthetic_quality", "imaging_quality"),
        options={"encoder": "viclip-l14", "clip_protocol": "internvid-eval", "vc_pairs": "all",
                 "fvd_resize": "plain", "fvd_cov_ddof": 0},
        tables=("mask2dit:table1", "mask2dit:table2", "mask2dit:table3", "mask2dit:table4", "mask2dit:table5",
                "mask2dit:table7", "mask2dit:table8", "mask2dit:table10"),
        notes=(
            "The paper names ViCLIP [37] (InternVid) but publishes no evaluation code: mvbench reads its clips as "
            "InternVid's own evaluation code makes them (clip_protocol internvid-eval); InternVid's demo "
            "(internvid-demo) is the other plausible reading.",
            "Visual Con. averages all scene pairs (vc_pairs all); the paper does not say which pairs.",
            "FVD cites Ge et al. (content-debiased FVD, ref. [13]) without naming the features: mvbench reads it as "
            "fvd_videomae (VideoMAE-v2, the variant that paper proposes) with the cd-fvd package's conventions "
            "(resize without antialiasing, covariance with divisor n); I3D features (metric fvd) are the other "
            "reading. The clip length (16 frames from the start) is the package's default, not stated by the paper.",
            "Tables 2-5 and 10 were generated at 256x384; the evaluation is the same.",
        ),
    ),
    "framecaps": Protocol(
        name="framecaps",
        description="Frame-level captions (PMWD) Tables 1-2: Confusion Degree and video/frame-level text-video "
                    "consistency with ViCLIP-L/14 (VBench overall_consistency clips, raw cosines), VBench motion "
                    "smoothness, aesthetic and imaging quality on each whole video",
        paper="Frame-Level Captions for Long Video Generation with Complex Multi Scenes",
        metrics=("confusion_degree", "video_text_consistency", "frame_text_consistency", "motion_smoothness",
                 "aesthetic_quality", "imaging_quality"),
        options={"encoder": "viclip-l14", "clip_protocol": "vbench", "vbench_mode": "video"},
        tables=("framecaps:table1", "framecaps:table2"),
        notes=(
            "The paper evaluates with VBench and 'uniformly samples 8 frames as input of ViCLIP' (Eq. 2) without "
            "code: mvbench reads the ViCLIP clips as VBench's overall_consistency makes them (clip_protocol vbench: "
            "lower-middle frames, shorter side to 224 bicubic, centre crop, CLIP mean/std, raw cosine).",
            "VBench dimensions (motion smoothness included) score each item's scenes joined into one video "
            "(vbench_mode video), since the paper's videos are single long videos.",
            "Confusion Degree sums over the F frame-level prompts (Eq. 4), so it grows with F; compare only runs "
            "with the same F.",
        ),
    ),
    "moviebench": Protocol(
        name="moviebench",
        description="MovieBench (CVPR 2025) Tables 2 and 5: character ID precision/recall/F1 as its script, "
                    "CLIP score, aesthetic score, FID, Inception score, VBench subject/background consistency, motion "
                    "smoothness, dynamic degree, FVD (StyleGAN-V I3D)",
        paper="Wu et al., MovieBench: A Hierarchical Movie Level Dataset for Long Video Generation",
        metrics=("id_precision", "id_recall", "id_f1", "clip_score", "aesthetic_score", "fid", "inception_score",
                 "subject_consistency", "background_consistency", "motion_smoothness", "dynamic_degree", "fvd"),
        options={"id_protocol": "moviebench", "fvd_extractor": "i3d-torchscript"},
        tables=("moviebench:table2", "moviebench:table5"),
        notes=(
            "MovieBench's FVD script (metrics/Metric_6_FVD/run.py) compares each movie's generated shots with their "
            "ground-truth shots (25 frames, every (T//25)-th, resized by PIL to the given resolution, 512 in the "
            "paper), with StyleGAN-V's I3D, and averages the FD over clip lengths 10..T-1 and over movies. mvbench's "
            "FVD compares the 16-frame clips of all shots with a reference statistics file built from the "
            "ground-truth shots (`mvbench fvd-stats`); the per-movie, per-length averaging is not reproduced.",
            "CLIP score, aesthetic score, FID and Inception score are computed by their own scorers; a metric that "
            "this installation lacks makes --protocol moviebench fail naming it (pass --metrics to run the others).",
        ),
    ),
    "videostudio": Protocol(
        name="videostudio",
        description="VideoStudio (ECCV 2024) Tables 2-5 and S3: CLIPSIM, frame consistency, scene consistency, "
                    "per-frame FID and clip-level FVD with I3D Kinetics-400 features (Unterthiner et al.)",
        paper="Long et al., VideoStudio: Generating Consistent-Content and Multi-Scene Videos",
        metrics=("clipsim", "frame_consistency", "scene_consistency", "fid_per_frame", "fvd"),
        options={"fvd_extractor": "i3d-k400"},
        tables=("videostudio:table2", "videostudio:table3", "videostudio:table4", "videostudio:table5",
                "videostudio:table-s3"),
        notes=(
            "FVD is clip-level (one 16-frame clip per scene) with I3D Kinetics-400 logits, the features of "
            "Unterthiner et al. that VideoStudio cites.",
        ),
    ),
}


def get_protocol(name: str) -> Protocol:
    """The preset ``name``; an unknown name is a :class:`ConfigError` with a did-you-mean suggestion."""
    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {name!r}{suggest(name, PROTOCOLS)}",
                          hint="`mvbench list protocols` shows the presets")
    return PROTOCOLS[name]


def unknown_metrics(protocol: Protocol) -> list[str]:
    """The preset's metrics that no registered scorer provides in this installation.

    >>> unknown_metrics(Protocol("x", "", "", ("visual_consistency", "no_such_metric")))
    ['no_such_metric']
    """
    from mvbench.scorers import METRIC_GROUPS, METRIC_TO_SCORER

    return [m for m in protocol.metrics if m not in METRIC_TO_SCORER and m not in METRIC_GROUPS]


def preset_option_values(protocol: Protocol) -> dict[str, Any]:
    """The preset's options checked against the option specs (unknown keys and bad values are errors)
    and coerced to their types."""
    from mvbench.options import all_option_specs

    specs = {s.name: s for s in all_option_specs()}
    out = {}
    for key, value in protocol.options.items():
        if key not in specs:
            raise ConfigError(f"protocol {protocol.name!r} sets unknown option {key!r}{suggest(key, specs)}")
        out[key] = specs[key].coerce(value)
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal values; options without a declared type (hand-added flags) compare as text ("0" == 0)."""
    return a == b or str(a) == str(b)


def apply_protocol(metrics: list[str] | None, options: Mapping[str, Any] | None
                   ) -> tuple[list[str] | None, dict[str, Any], dict | None]:
    """``(metrics, options, record)`` with the preset named by ``options["protocol"]`` applied.

    Without a preset the inputs come back unchanged and ``record`` is None. With one, ``metrics``
    defaults to the preset's list (an error names the preset metrics this installation does not know),
    the preset's options are set, and an explicit option with a different value is an error.

    >>> m, o, rec = apply_protocol(None, {"protocol": "mask2dit", "device": "cpu"})
    >>> m[:2], o["clip_protocol"], rec["name"]
    (['visual_consistency', 'semantic_consistency'], 'internvid-eval', 'mask2dit')
    >>> apply_protocol(None, {"protocol": "mask2dit", "clip_protocol": "vbench"})
    Traceback (most recent call last):
    ...
    mvbench.errors.ConfigError: --protocol mask2dit sets clip_protocol to 'internvid-eval', but 'vbench' was given
      hint: a preset's settings are fixed: drop --clip-protocol, or run without --protocol and choose every option yourself
    """
    opts = dict(options or {})
    name = opts.get("protocol")
    if not name:
        return metrics, opts, None
    protocol = get_protocol(name)
    values = preset_option_values(protocol)
    from mvbench.options import all_option_specs

    specs = {s.name: s for s in all_option_specs()}
    for key, value in values.items():
        given = opts.get(key)
        if given is not None and not _same(specs[key].coerce(given), value):
            raise ConfigError(f"--protocol {name} sets {key} to {value!r}, but {given!r} was given",
                              hint=f"a preset's settings are fixed: drop {specs[key].flag}, or run without "
                                   "--protocol and choose every option yourself")
        opts[key] = value
    if not metrics:
        missing = unknown_metrics(protocol)
        if missing:
            raise ConfigError(
                f"--protocol {name} reports metrics this installation does not provide: {', '.join(missing)}",
                hint="update mvbench, or pass --metrics with the preset's other metrics "
                     f"({', '.join(m for m in protocol.metrics if m not in missing) or 'none'})")
        metrics = list(protocol.metrics)
    return metrics, opts, protocol.record()
