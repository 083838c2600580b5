"""Image crops for image encoders: cut a box out of a decoded frame and prepare it as CLIP does.

CLIP's (and open_clip's) image transform resizes the *shorter* side to the model's size with bicubic
interpolation, centre-crops a square, converts to [0, 1] and normalises. :func:`clip_crop_input` does the
same on tensors (bicubic with antialiasing, the tensor counterpart of PIL's bicubic resize; values
clamped to [0, 1]) for a crop of a uint8 frame.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mvbench.encoders.base import ClipPreprocess
from mvbench.video.frames import to_float


def crop_frame(frame: torch.Tensor, bounds: tuple[int, int, int, int]) -> torch.Tensor:
    """The region ``[y0:y1, x0:x1]`` of a uint8 frame ``[H, W, 3]`` (bounds ``(x0, y0, x1, y1)``).

    >>> crop_frame(torch.zeros(4, 6, 3, dtype=torch.uint8), (1, 0, 4, 2)).shape
    torch.Size([2, 3, 3])
    """
    x0, y0, x1, y1 = bounds
    h, w = frame.shape[:2]
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise ValueError(f"crop {bounds} is not inside a {w}x{h} frame")
    return frame[y0:y1, x0:x1]


def resize_shorter_center_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """Float ``[3, H, W]`` -> ``[3, size, size]``: shorter side to ``size`` (bicubic, antialiased; the longer
    side ``int(size * long / short)`` as torchvision's ``Resize(int)``), then the centre square (offsets
    ``round((side - size) / 2)`` as torchvision's ``CenterCrop``). Values clamped to [0, 1].

    >>> resize_shorter_center_crop(torch.rand(3, 10, 20), 8).shape
    torch.Size([3, 8, 8])
    """
    _, h, w = image.shape
    if h <= w:
        nh, nw = size, int(size * w / h)
    else:
        nh, nw = int(size * h / w), size
    if (nh, nw) != (h, w):
        image = F.interpolate(image[None], size=(nh, nw), mode="bicubic", antialias=True,
                              align_corners=False)[0].clamp_(0.0, 1.0)
    top = int(round((nh - size) / 2.0))
    left = int(round((nw - size) / 2.0))
    return image[:, top:top + size, left:left + size]


def clip_crop_input(frame: torch.Tensor, bounds: tuple[int, int, int, int], preprocess: ClipPreprocess) -> torch.Tensor:
    """Encoder input ``[3, S, S]`` of the crop ``bounds`` of a uint8 frame ``[H, W, 3]`` (CLIP transform).

    >>> pp = ClipPreprocess(num_frames=1, size=4, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    >>> x = clip_crop_input(torch.full((8, 8, 3), 255, dtype=torch.uint8), (0, 0, 6, 4), pp)
    >>> x.shape, float(x.min()), float(x.max())
    (torch.Size([3, 4, 4]), 1.0, 1.0)
    """
    crop = to_float(crop_frame(frame, bounds)[None])[0]
    return preprocess.normalize(resize_shorter_center_crop(crop, preprocess.size))
