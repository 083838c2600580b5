"""Frame tensors: the single uint8 -> float conversion, mvbench's default (antialiased) resizing, clip
preprocessing."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mvbench.encoders.base import ClipPreprocess


def to_float(frames: torch.Tensor) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` -> float32 ``[N, 3, H, W]`` in [0, 1] (``x / 255``). The only place
    pixel values change type."""
    if frames.dtype != torch.uint8:
        raise TypeError(f"expected uint8 frames, got {frames.dtype}")
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected frames shaped [N, H, W, 3], got {tuple(frames.shape)}")
    return frames.permute(0, 3, 1, 2).to(torch.float32).div_(255.0)


def resize(frames: torch.Tensor, size: int) -> torch.Tensor:
    """Resize float ``[N, 3, H, W]`` to ``[N, 3, size, size]``: mvbench's default, bilinear **with**
    antialiasing, the full frame squashed to a square (no crop), values clamped back to [0, 1]. The
    originals differ: InternVid's demo and the cd-fvd package squash without antialiasing, InternVid's
    evaluation code squashes bicubically, VBench resizes the shorter side and crops; their protocols are
    in :mod:`mvbench.video.protocols` and the FVD scorer's ``--fvd-resize plain``."""
    if frames.shape[-2:] == (size, size):
        return frames
    out = F.interpolate(frames, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return out.clamp_(0.0, 1.0)


def preprocess_frames(frames: torch.Tensor, preprocess: ClipPreprocess) -> torch.Tensor:
    """uint8 ``[T, H, W, 3]`` -> encoder input ``[T, 3, S, S]`` (to_float, resize, normalise)."""
    return preprocess.normalize(resize(to_float(frames), preprocess.size))
