"""Clip protocols: how the frames of a scene become video-text encoder input, as each original does it.

A :class:`ClipProtocol` names the frame sampling (a mode of :func:`mvbench.video.sampling.sample_indices`),
the pixel preprocessing (:class:`FramePreprocess`: resize, crop, normalisation) and the scale of the
consistency scores. The four protocols, each read from the original's source:

``mvbench`` (default; mvbench's own choice, not any original's)
    ``middle`` sampling (exact segment midpoints), the whole frame squashed to S×S by antialiased
    bilinear resizing of float frames, the encoder's own normalisation (ViCLIP: ImageNet mean/std);
    scores ×100.
``internvid-eval`` (InternVideo ``InternVideo1/Pretrain/ViCLIP``: ``dataset/video_utils.py``
    ``get_frame_indices`` with ``sample_type_test="middle"``; ``dataset/__init__.py`` ``test_transform``)
    ``interval-middle`` sampling (the lower middle of integer segments: 49 frames give
    ``[2, 8, 14, 20, 26, 32, 38, 45]``); ``transforms.Resize((224, 224), BICUBIC)`` applied to the
    uint8 frame tensor (torchvision resizes in float32, clamps bicubic overshoot to 0..255 and rounds
    back to uint8), then ``x / 255`` and the ImageNet mean/std (the ``vit_l14`` branch of
    ``create_dataset``). The code passes no ``antialias``: torchvision before 0.17, current when the
    code was released (2023), did not antialias tensors, so ``antialias`` is off; torchvision >= 0.17
    would antialias (``--clip-antialias yes`` reproduces that reading). Scores ×100 (Mask²DiT's scale).
``internvid-demo`` (InternVid ``Data/InternVid/viclip/__init__.py``, ``frames2tensor``)
    ``step`` sampling (every ``T // 8``-th frame from frame 0, the first 8); ``cv2.resize(frame,
    (224, 224))`` (bilinear ``INTER_LINEAR`` on uint8, no antialiasing, uint8 result); then
    ``(x / 255 - mean) / std`` with the ImageNet mean/std in float64 numpy, cast to float32 by
    ``.float()``. Scores ×100. Needs OpenCV (``cv2``).
``vbench`` (VBench ``vbench/overall_consistency.py`` and ``vbench/utils.py``: ``read_frames_decord_by_fps``
    with ``sample="middle"``, ``clip_transform(224)``)
    ``interval-middle`` sampling; ``Resize(224, BICUBIC, antialias=False)`` of the uint8 frames (shorter
    side to 224, longer side ``int(224 · long / short)``, rounded back to uint8), ``CenterCrop(224)``,
    ``x / 255``, the CLIP mean/std (VBench feeds ViCLIP CLIP's statistics, not the ImageNet ones ViCLIP
    was trained with); the score is the raw cosine (``clip_feat @ text_feat.T``), not ×100.

Decoding differs from every original (mvbench decodes with PyAV; InternVid's evaluation and VBench use
decord, the demo OpenCV): frame counts and RGB conversion can differ slightly between decoders.

Finer options (``clip_sampling``, ``clip_resize``, ``clip_interpolation``, ``clip_antialias``,
``clip_resize_dtype``, ``clip_normalize``, ``consistency_scale``) override one field of the chosen
protocol; :func:`resolve_clip_protocol` applies them.

>>> p = CLIP_PROTOCOLS["internvid-eval"]
>>> p.sampling, p.preprocess.interpolation, p.preprocess.antialias, p.scale
('interval-middle', 'bicubic', False, 'percent')
>>> resolve_clip_protocol({"clip_protocol": "vbench", "consistency_scale": "percent"}).scale
'percent'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mvbench.config import Option
from mvbench.errors import ConfigError, MissingExtraError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
NORMALIZATIONS: dict[str, tuple[tuple[float, ...], tuple[float, ...]] | None] = {
    "encoder": None, "imagenet": (IMAGENET_MEAN, IMAGENET_STD), "clip": (CLIP_MEAN, CLIP_STD),
}
RESIZE_MODES = ("squash", "shorter-side")
INTERPOLATIONS = ("bilinear", "bicubic", "cv2-linear")
RESIZE_DTYPES = ("float", "uint8")
CROPS = ("none", "center")
SCALES = ("percent", "fraction")
CLIP_SAMPLINGS = ("middle", "interval-middle", "step")


@dataclass(frozen=True)
class FramePreprocess:
    """Pixel preprocessing of sampled uint8 frames into encoder input ``[T, 3, S, S]`` (S: the encoder's size).

    ``resize``: ``squash`` (the whole frame to S×S) or ``shorter-side`` (shorter side to S, longer side
    ``int(S · long / short)``; then ``crop`` must be ``center``). ``interpolation``: ``bilinear`` /
    ``bicubic`` (``torch.nn.functional.interpolate``, ``align_corners=False``) or ``cv2-linear``
    (OpenCV ``INTER_LINEAR`` on uint8). ``resize_dtype``: ``float`` resizes ``x / 255`` and clamps to
    [0, 1] (mvbench); ``uint8`` resizes the 0..255 values, clamps to 0..255 and rounds half to even to
    integers before ``/ 255`` (torchvision's resize of a uint8 tensor, and OpenCV's). ``normalize``:
    ``encoder`` (the encoder's own value range and mean/std), ``imagenet`` or ``clip`` mean/std.
    """

    resize: str = "squash"
    interpolation: str = "bilinear"
    antialias: bool = True
    crop: str = "none"
    resize_dtype: str = "float"
    normalize: str = "encoder"

    def __post_init__(self) -> None:
        for field, allowed in (("resize", RESIZE_MODES), ("interpolation", INTERPOLATIONS), ("crop", CROPS),
                               ("resize_dtype", RESIZE_DTYPES), ("normalize", tuple(NORMALIZATIONS))):
            if getattr(self, field) not in allowed:
                raise ConfigError(f"clip preprocessing {field} {getattr(self, field)!r} is not one of "
                                  f"{', '.join(allowed)}")
        if self.resize == "shorter-side" and self.crop != "center":
            raise ConfigError("clip preprocessing: a shorter-side resize leaves a non-square frame; it needs the "
                              "centre crop (--clip-resize shorter-side goes with a centre crop)")
        if self.interpolation == "cv2-linear" and (self.antialias or self.resize_dtype != "uint8"):
            raise ConfigError("clip preprocessing: cv2-linear resizes uint8 frames without antialiasing; set "
                              "--clip-antialias no and --clip-resize-dtype uint8 with it")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


#: the preprocessing mvbench applies when a request carries none (``mvbench.video.frames``)
MVBENCH_PREPROCESS = FramePreprocess()


@dataclass(frozen=True)
class ClipProtocol:
    """A named clip protocol: frame sampling, pixel preprocessing and score scale (see module doc)."""

    name: str
    sampling: str
    preprocess: FramePreprocess
    scale: str
    source: str

    def as_dict(self) -> dict:
        return {"name": self.name, "sampling": self.sampling, **self.preprocess.as_dict(), "scale": self.scale,
                "source": self.source}

    @property
    def request_preprocess(self) -> FramePreprocess | None:
        """What a :class:`~mvbench.scorers.base.ClipRequest` carries: None for mvbench's own preprocessing
        (the encoder's default path), else the :class:`FramePreprocess`."""
        return None if self.preprocess == MVBENCH_PREPROCESS else self.preprocess


CLIP_PROTOCOLS: dict[str, ClipProtocol] = {
    "mvbench": ClipProtocol("mvbench", "middle", MVBENCH_PREPROCESS, "percent",
                            "mvbench's own: mvbench/video/sampling.py (middle), mvbench/video/frames.py"),
    "internvid-eval": ClipProtocol(
        "internvid-eval", "interval-middle",
        FramePreprocess("squash", "bicubic", False, "none", "uint8", "imagenet"), "percent",
        "InternVideo InternVideo1/Pretrain/ViCLIP/dataset/video_utils.py get_frame_indices(sample='middle'); "
        "dataset/__init__.py test_transform"),
    "internvid-demo": ClipProtocol(
        "internvid-demo", "step",
        FramePreprocess("squash", "cv2-linear", False, "none", "uint8", "imagenet"), "percent",
        "InternVid Data/InternVid/viclip/__init__.py frames2tensor"),
    "vbench": ClipProtocol(
        "vbench", "interval-middle",
        FramePreprocess("shorter-side", "bicubic", False, "center", "uint8", "clip"), "fraction",
        "VBench vbench/overall_consistency.py, vbench/utils.py read_frames_decord_by_fps, clip_transform(224)"),
}


def _yes_no(value: str) -> bool:
    return value == "yes"


#: options of the consistency scorer (the Confusion Degree scorer reads the same keys)
CLIP_PROTOCOL_OPTIONS: tuple[Option, ...] = (
    Option("clip_protocol", "mvbench", "frame sampling, resizing and normalisation of the ViCLIP clips (consistency "
           "and Confusion Degree metrics): mvbench, internvid-eval (InternVid's evaluation code), internvid-demo "
           "(InternVid's demo), vbench (VBench overall_consistency); see docs/protocols.md",
           choices=tuple(CLIP_PROTOCOLS)),
    Option("clip_sampling", None, "override the clip protocol's frame sampling", type=str, choices=CLIP_SAMPLINGS),
    Option("clip_resize", None, "override: squash the whole frame to a square, or shorter side then centre crop",
           type=str, choices=RESIZE_MODES),
    Option("clip_interpolation", None, "override the resize interpolation", type=str, choices=INTERPOLATIONS),
    Option("clip_antialias", None, "override: antialiased resizing (yes/no)", type=str, choices=("yes", "no")),
    Option("clip_resize_dtype", None, "override: resize float frames (float) or uint8 frames rounded back to "
           "integers (uint8)", type=str, choices=RESIZE_DTYPES),
    Option("clip_normalize", None, "override the normalisation: the encoder's own, ImageNet or CLIP mean/std",
           type=str, choices=tuple(NORMALIZATIONS)),
    Option("consistency_scale", None, "override the score scale of visual/semantic/sequence consistency: "
           "percent (x100, Mask²DiT) or fraction (raw cosine, VBench)", type=str, choices=SCALES),
)

_OVERRIDES = {"clip_resize": "resize", "clip_interpolation": "interpolation", "clip_resize_dtype": "resize_dtype",
              "clip_normalize": "normalize"}


def resolve_clip_protocol(options: Mapping[str, Any] | None) -> ClipProtocol:
    """The clip protocol named by ``options["clip_protocol"]`` (default ``mvbench``) with the finer options
    applied; an overridden protocol keeps its name with ``+custom`` appended.

    >>> resolve_clip_protocol({"clip_protocol": "internvid-eval", "clip_antialias": "yes"}).name
    'internvid-eval+custom'
    """
    options = options or {}
    name = options.get("clip_protocol") or "mvbench"
    if name not in CLIP_PROTOCOLS:
        raise ConfigError(f"unknown clip protocol {name!r}", hint="choose one of " + ", ".join(CLIP_PROTOCOLS))
    base = CLIP_PROTOCOLS[name]
    prep = base.preprocess
    changes = {field: options[key] for key, field in _OVERRIDES.items() if options.get(key) is not None}
    if options.get("clip_antialias") is not None:
        changes["antialias"] = _yes_no(options["clip_antialias"])
    new_prep = dataclasses.replace(prep, **changes) if changes else prep
    sampling = options.get("clip_sampling") or base.sampling
    scale = options.get("consistency_scale") or base.scale
    if (new_prep, sampling, scale) == (prep, base.sampling, base.scale):
        return base
    return ClipProtocol(f"{name}+custom", sampling, new_prep, scale, base.source)


def _target_size(height: int, width: int, size: int, prep: FramePreprocess) -> tuple[int, int]:
    from mvbench.encoders.vbench_preprocess import shorter_side_size

    return (size, size) if prep.resize == "squash" else shorter_side_size(height, width, size)


def _cv2_resize(frames, hw: tuple[int, int]):
    import numpy as np
    import torch

    try:
        import cv2
    except ImportError as exc:
        raise MissingExtraError("the internvid-demo clip protocol (OpenCV's bilinear resize)", "protocols",
                                "cv2") from exc
    arr = frames.numpy()
    out = np.stack([cv2.resize(np.ascontiguousarray(f), (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)
                    for f in arr])
    return torch.from_numpy(out).permute(0, 3, 1, 2).to(torch.float64)


def resize_frames(frames, size: int, prep: FramePreprocess):
    """uint8 ``[T, H, W, 3]`` -> resized and cropped frames ``[T, 3, S, S]`` in [0, 1] (float32; float64
    after ``cv2-linear``, as the demo's numpy arithmetic), before normalisation.

    >>> import torch
    >>> x = torch.tensor([[0, 100], [200, 255]], dtype=torch.uint8).view(1, 2, 2, 1).expand(1, 2, 2, 3)
    >>> prep = FramePreprocess("squash", "bilinear", False, "none", "uint8", "imagenet")
    >>> resize_frames(x.contiguous(), 1, prep)[0, 0, 0, 0] * 255   # (0 + 100 + 200 + 255) / 4 = 138.75 -> 139
    tensor(139.)
    """
    import torch
    import torch.nn.functional as F

    from mvbench.video.frames import to_float

    h, w = int(frames.shape[1]), int(frames.shape[2])
    hw = _target_size(h, w, size, prep)
    if prep.interpolation == "cv2-linear":
        x = _cv2_resize(frames, hw) if hw != (h, w) else frames.permute(0, 3, 1, 2).to(torch.float64)
        x = x / 255.0
    elif prep.resize_dtype == "uint8":
        x = frames.permute(0, 3, 1, 2).to(torch.float32)
        if hw != (h, w):
            x = F.interpolate(x, size=hw, mode=prep.interpolation, align_corners=False, antialias=prep.antialias)
            x = x.clamp(0.0, 255.0).round()
        x = x / 255.0
    else:
        x = to_float(frames)
        if hw != (h, w):
            x = F.interpolate(x, size=hw, mode=prep.interpolation, align_corners=False, antialias=prep.antialias)
            x = x.clamp(0.0, 1.0)
    if prep.crop == "center":
        from mvbench.encoders.vbench_preprocess import center_crop

        x = center_crop(x, size)
    return x


def prepare_clip_frames(frames, prep: FramePreprocess, encoder_preprocess) -> Any:
    """uint8 frames ``[T, H, W, 3]`` -> float32 encoder input ``[T, 3, S, S]`` under ``prep`` (S and, for
    ``normalize="encoder"``, the normalisation from ``encoder_preprocess``, a
    :class:`~mvbench.encoders.base.ClipPreprocess`). This is what :mod:`mvbench.compute` applies to a
    request that carries a :class:`FramePreprocess`.

    >>> import torch
    >>> from mvbench.encoders.base import ClipPreprocess
    >>> enc = ClipPreprocess(num_frames=1, size=2)
    >>> prep = CLIP_PROTOCOLS["vbench"].preprocess
    >>> prepare_clip_frames(torch.zeros(1, 2, 3, 3, dtype=torch.uint8), prep, enc).shape
    torch.Size([1, 3, 2, 2])
    """
    import torch

    x = resize_frames(frames, int(encoder_preprocess.size), prep)
    stats = NORMALIZATIONS[prep.normalize]
    if stats is None:
        return encoder_preprocess.normalize(x.to(torch.float32))
    mean = torch.tensor(stats[0], dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(stats[1], dtype=x.dtype).view(1, 3, 1, 1)
    return ((x - mean) / std).to(torch.float32)
