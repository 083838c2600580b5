"""VBench's frame preprocessing (mvbench/encoders/vbench_preprocess.py) against torchvision's own
transforms composed as in ``vbench/utils.py`` and ``vbench/imaging_quality.py``, and hand-worked sizes."""

from __future__ import annotations

import pytest
import torch
from torchvision import transforms
from torchvision.transforms import InterpolationMode

from mvbench.encoders.vbench_preprocess import (
    capped_size,
    center_crop,
    clip_input,
    dino_input,
    musiq_input,
    shorter_side_size,
)


def _frames(h: int, w: int, t: int = 2, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (t, h, w, 3), generator=g, dtype=torch.uint8)


def _vbench_tensor(frames: torch.Tensor) -> torch.Tensor:
    """``load_video``: ``torch.Tensor(numpy frames)`` (float32) permuted to [T, C, H, W]."""
    return torch.Tensor(frames.numpy()).permute(0, 3, 1, 2)


def vbench_dino_transform(n_px: int = 224):
    return transforms.Compose([
        transforms.Resize(size=n_px, antialias=False),
        transforms.Lambda(lambda x: x.float().div(255.0)),
        transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    ])


def vbench_clip_transform(n_px: int = 224):
    return transforms.Compose([
        transforms.Resize(n_px, interpolation=InterpolationMode.BICUBIC, antialias=False),
        transforms.CenterCrop(n_px),
        transforms.Lambda(lambda x: x.float().div(255.0)),
        transforms.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    ])


def vbench_musiq_transform(images: torch.Tensor, mode: str) -> torch.Tensor:
    _, _, h, w = images.size()
    if mode.startswith("shorter"):
        if min(h, w) > 512:
            scale = 512. / min(h, w)
            images = transforms.Resize(size=(int(scale * h), int(scale * w)), antialias=False)(images)
            if mode == "shorter_centercrop":
                images = transforms.CenterCrop(512)(images)
    elif mode == "longer":
        if max(h, w) > 512:
            scale = 512. / max(h, w)
            images = transforms.Resize(size=(int(scale * h), int(scale * w)), antialias=False)(images)
    return images / 255.


def test_sizes_hand_worked():
    assert shorter_side_size(480, 720, 224) == (224, 336)   # 224 * 720 / 480 = 336
    assert shorter_side_size(720, 480, 224) == (336, 224)   # portrait
    assert shorter_side_size(480, 832, 224) == (224, 388)   # 224 * 832 / 480 = 388.27 -> 388
    assert shorter_side_size(48, 48, 224) == (224, 224)
    assert capped_size(480, 720) == (341, 512)              # 512 / 720 * 480 = 341.33
    assert capped_size(480, 832) == (295, 512)              # 512 / 832 * 480 = 295.38
    assert capped_size(512, 300) == (512, 300)              # not above the cap: unchanged
    assert capped_size(561, 300) == (511, 273)              # 512 / 561 * 561 = 511.999... -> 511, as VBench
    assert capped_size(1080, 1920, side="shorter") == (512, 910)


@pytest.mark.parametrize("h, w", [(480, 720), (720, 480), (48, 48), (100, 333)])
def test_dino_input_matches_torchvision(h, w):
    frames = _frames(h, w)
    expected = vbench_dino_transform()(_vbench_tensor(frames))
    got = dino_input(frames)
    assert got.shape == expected.shape == (2, 3, *shorter_side_size(h, w, 224))
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("h, w", [(480, 720), (720, 480), (48, 48), (100, 333), (224, 449)])
def test_clip_input_matches_torchvision(h, w):
    frames = _frames(h, w, seed=1)
    expected = vbench_clip_transform()(_vbench_tensor(frames))
    got = clip_input(frames)
    assert got.shape == expected.shape == (2, 3, 224, 224)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


def test_clip_input_is_not_clamped():
    """Bicubic upsampling overshoots 0..255 at sharp edges; VBench (float tensor) keeps the overshoot."""
    frames = torch.zeros(1, 8, 8, 3, dtype=torch.uint8)
    frames[:, :, 4:] = 255
    x = clip_input(frames) * torch.tensor((0.26862954, 0.26130258, 0.27577711)).view(1, 3, 1, 1) \
        + torch.tensor((0.48145466, 0.4578275, 0.40821073)).view(1, 3, 1, 1)
    assert x.max() > 1.0 and x.min() < 0.0


def test_center_crop_offsets_and_padding():
    x = torch.arange(6.0).view(1, 1, 1, 6).expand(1, 1, 4, 6)
    # (6 - 3) / 2 = 1.5 -> round to even: 2; (4 - 3) / 2 = 0.5 -> 0
    assert center_crop(x, 3)[0, 0, 0].tolist() == [2.0, 3.0, 4.0]
    torch.testing.assert_close(center_crop(x, 3), transforms.CenterCrop(3)(x))
    small = torch.rand(1, 3, 5, 9)
    torch.testing.assert_close(center_crop(small, 8), transforms.CenterCrop(8)(small))


@pytest.mark.parametrize("mode", ["longer", "shorter", "shorter_centercrop", "none"])
@pytest.mark.parametrize("h, w", [(480, 720), (600, 1000), (48, 64)])
def test_musiq_input_matches_vbench(mode, h, w):
    frames = _frames(h, w, t=1, seed=2)
    expected = vbench_musiq_transform(_vbench_tensor(frames), "None" if mode == "none" else mode)
    got = musiq_input(frames, mode)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_musiq_input_sizes():
    assert musiq_input(_frames(480, 720, 1), "longer").shape[-2:] == (341, 512)
    assert musiq_input(_frames(600, 1000, 1), "shorter").shape[-2:] == (512, 853)
    assert musiq_input(_frames(600, 1000, 1), "shorter_centercrop").shape[-2:] == (512, 512)
    with pytest.raises(ValueError, match="longer"):
        musiq_input(_frames(8, 8, 1), "bogus")
