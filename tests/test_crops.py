"""Crop preparation for CLIP (mvbench/video/crops.py) against CLIP's own PIL/torchvision transform."""

from __future__ import annotations

import pytest
import torch
import torchvision.transforms as T
from PIL import Image

from mvbench.encoders.base import ClipPreprocess
from mvbench.video.crops import clip_crop_input, crop_frame, resize_shorter_center_crop
from mvbench.video.frames import to_float


def _smooth_image(h: int, w: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    small = torch.rand(1, 3, h // 5 + 1, w // 5 + 1, generator=g)
    img = torch.nn.functional.interpolate(small, size=(h, w), mode="bilinear")[0]
    return (img * 255).round().to(torch.uint8).permute(1, 2, 0).contiguous()


@pytest.mark.parametrize("h, w, size", [(40, 70, 32), (90, 50, 32), (300, 200, 224), (30, 45, 224), (32, 32, 32)])
def test_matches_clips_pil_transform_to_about_one_grey_level(h, w, size):
    img = _smooth_image(h, w, seed=h + w)
    ours = resize_shorter_center_crop(to_float(img[None])[0], size)
    reference = T.Compose([T.Resize(size, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(size),
                           T.ToTensor()])(Image.fromarray(img.numpy()))
    assert ours.shape == reference.shape == (3, size, size)
    diff = (ours - reference).abs() * 255
    assert float(diff.mean()) < 0.5 and float(diff.max()) <= 2.0


def test_crop_bounds_and_normalisation():
    frame = _smooth_image(48, 64, seed=1)
    assert torch.equal(crop_frame(frame, (10, 5, 42, 37)), frame[5:37, 10:42])
    with pytest.raises(ValueError, match="not inside"):
        crop_frame(frame, (10, 5, 70, 37))
    pp = ClipPreprocess(num_frames=1, size=32, mean=(0.4, 0.5, 0.6), std=(0.2, 0.3, 0.4))
    x = clip_crop_input(frame, (10, 5, 42, 37), pp)  # exactly 32x32: no resize
    expected = (frame[5:37, 10:42].permute(2, 0, 1).double() / 255 - torch.tensor(pp.mean).view(3, 1, 1).double()) \
        / torch.tensor(pp.std).view(3, 1, 1).double()
    torch.testing.assert_close(x.double(), expected, atol=1e-6, rtol=0)
