"""VBench's frame preprocessing, step for step (``vbench/utils.py``: ``load_video``,
``dino_transform``, ``clip_transform``; ``vbench/imaging_quality.py``: ``transform``).

VBench reads every frame of a video with decord and turns it into a float32 tensor of 0..255 values
(``torch.Tensor(frames)``, ``[T, 3, H, W]``); its torchvision transforms then run on that float
tensor, never through PIL, with ``antialias=False``:

===================  =====================================================================================
network              transform
===================  =====================================================================================
DINO ViT-B/16        shorter side to 224 (bilinear, no antialias; longer side ``int(224 · long / short)``),
                     no crop; ``/255``; ImageNet mean/std
CLIP (B/32, L/14)    shorter side to 224 (bicubic, no antialias, no clamping), centre crop 224
                     (``int(round((H - 224) / 2))`` from the top, likewise from the left); ``/255``;
                     CLIP mean/std
MUSIQ (SPAQ)         mode ``longer`` (VBench's default): if ``max(H, W) > 512``, resize (bilinear, no
                     antialias) to ``(int(s·H), int(s·W))`` with ``s = 512 / max(H, W)``; then ``/255``.
                     Modes ``shorter`` / ``shorter_centercrop`` use the shorter side (and a 512 centre
                     crop); ``none`` only divides by 255
===================  =====================================================================================

These functions take mvbench's decoded uint8 frames ``[T, H, W, 3]`` (RGB, as decord gives them) and
return float32 ``[T, 3, h, w]`` network inputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mvbench.encoders.vbench_archs import MUSIQ_MODES

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
#: VBench's input size for DINO and CLIP
INPUT_SIZE = 224
#: MUSIQ's size cap in VBench's ``transform``
MUSIQ_CAP = 512


def as_float_frames(frames: torch.Tensor) -> torch.Tensor:
    """uint8 ``[T, H, W, 3]`` -> float32 ``[T, 3, H, W]`` with values 0..255 (VBench's ``load_video``).

    >>> as_float_frames(torch.full((1, 2, 2, 3), 7, dtype=torch.uint8)).shape
    torch.Size([1, 3, 2, 2])
    """
    if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames [T, H, W, 3], got {frames.dtype} {tuple(frames.shape)}")
    return frames.permute(0, 3, 1, 2).to(torch.float32)


def shorter_side_size(height: int, width: int, size: int) -> tuple[int, int]:
    """``(h, w)`` after torchvision's ``Resize(size)`` with an int: the shorter side becomes ``size``,
    the longer one ``int(size · long / short)`` (truncated).

    >>> shorter_side_size(480, 720, 224)
    (224, 336)
    >>> shorter_side_size(1080, 1920, 224)
    (224, 398)
    """
    if width <= height:
        return int(size * height / width), size
    return size, int(size * width / height)


def capped_size(height: int, width: int, cap: int = MUSIQ_CAP, side: str = "longer") -> tuple[int, int]:
    """``(h, w)`` after VBench's imaging-quality resize: unchanged unless the ``longer`` (or ``shorter``)
    side exceeds ``cap``, else ``(int(s · h), int(s · w))`` with ``s = cap / that side``.

    >>> capped_size(480, 720)
    (341, 512)
    >>> capped_size(480, 720, side="shorter")
    (480, 720)
    >>> capped_size(1080, 1920, side="shorter")
    (512, 910)
    """
    ref = max(height, width) if side == "longer" else min(height, width)
    if ref <= cap:
        return height, width
    scale = cap / ref
    return int(scale * height), int(scale * width)


def resize(x: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    """``F.interpolate`` without antialiasing and without clamping (torchvision's tensor ``Resize`` on a
    float tensor, ``antialias=False``); the input is returned as is when it already has ``size``.

    >>> resize(torch.ones(1, 3, 4, 6), (2, 3), "bilinear").shape
    torch.Size([1, 3, 2, 3])
    """
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=False)


def center_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """torchvision's ``CenterCrop(size)`` on ``[..., H, W]``: offsets ``int(round((H - size) / 2))`` and
    ``int(round((W - size) / 2))`` (Python's round, halves to even); a side shorter than ``size`` is
    first zero-padded by ``(size - H) // 2`` before and ``(size - H + 1) // 2`` after.

    >>> center_crop(torch.arange(5.0).view(1, 1, 1, 5).expand(1, 1, 3, 5), 3)[0, 0, 0].tolist()
    [1.0, 2.0, 3.0]
    """
    h, w = x.shape[-2:]
    if h < size or w < size:
        pad_w, pad_h = max(size - w, 0), max(size - h, 0)
        x = F.pad(x, (pad_w // 2, (pad_w + 1) // 2, pad_h // 2, (pad_h + 1) // 2), value=0.0)
        h, w = x.shape[-2:]
        if h == size and w == size:
            return x
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return x[..., top:top + size, left:left + size]


def normalize(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """``(x - mean) / std`` per channel of ``[T, 3, H, W]`` (torchvision ``Normalize``)."""
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - m) / s


def dino_input(frames: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """VBench's ``dino_transform(224)``: shorter side to 224 (bilinear, no antialias, no crop), ``/255``,
    ImageNet normalisation. A 720x480 frame becomes ``[3, 224, 336]``.

    >>> dino_input(torch.zeros(2, 480, 720, 3, dtype=torch.uint8)).shape
    torch.Size([2, 3, 224, 336])
    """
    x = as_float_frames(frames)
    x = resize(x, shorter_side_size(x.shape[-2], x.shape[-1], size), "bilinear")
    return normalize(x / 255.0, IMAGENET_MEAN, IMAGENET_STD)


def clip_input(frames: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """VBench's ``clip_transform(224)``: shorter side to 224 (bicubic, no antialias, no clamping),
    centre crop 224, ``/255``, CLIP normalisation.

    >>> clip_input(torch.zeros(2, 480, 720, 3, dtype=torch.uint8)).shape
    torch.Size([2, 3, 224, 224])
    """
    x = as_float_frames(frames)
    x = resize(x, shorter_side_size(x.shape[-2], x.shape[-1], size), "bicubic")
    x = center_crop(x, size)
    return normalize(x / 255.0, CLIP_MEAN, CLIP_STD)


def musiq_input(frames: torch.Tensor, mode: str = "longer") -> torch.Tensor:
    """VBench's imaging-quality ``transform(images, mode)``; values in [0, 1] (MUSIQ maps them to
    [-1, 1] itself). ``mode`` is VBench's ``imaging_quality_preprocessing_mode`` (``none`` = VBench's
    ``'None'``).

    >>> musiq_input(torch.zeros(1, 480, 720, 3, dtype=torch.uint8)).shape
    torch.Size([1, 3, 341, 512])
    """
    if mode not in MUSIQ_MODES:
        raise ValueError(f"unknown imaging-quality preprocessing {mode!r}; choose from {', '.join(MUSIQ_MODES)}")
    x = as_float_frames(frames)
    if mode != "none":
        side = "longer" if mode == "longer" else "shorter"
        size = capped_size(x.shape[-2], x.shape[-1], MUSIQ_CAP, side)
        if size != tuple(x.shape[-2:]):
            x = resize(x, size, "bilinear")
            if mode == "shorter_centercrop":
                x = center_crop(x, MUSIQ_CAP)
    return x / 255.0
