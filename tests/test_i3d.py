"""I3D extractor: official key layout, strict loading, TF "SAME" padding, protocol, TorchScript convention."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch

from mvbench.encoders.i3d import (
    I3DEncoder,
    _same_padding,
    build_i3d_k400,
    build_i3d_torchscript,
    load_i3d,
)
from mvbench.errors import CheckpointMismatchError

# Inception blocks of I3D (Carreira & Zisserman 2017, Fig. 3): name, input channels, 6 branch widths
_BLOCKS = [
    ("Mixed_3b", 192, (64, 96, 128, 16, 32, 32)), ("Mixed_3c", 256, (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", 480, (192, 96, 208, 16, 48, 64)), ("Mixed_4c", 512, (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", 512, (128, 128, 256, 24, 64, 64)), ("Mixed_4e", 512, (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", 528, (256, 160, 320, 32, 128, 128)), ("Mixed_5b", 832, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", 832, (384, 192, 384, 48, 128, 128)),
]


def official_layout() -> dict[str, tuple[int, ...]]:
    """Key -> shape of ``i3d_pretrained_400.pt`` (TATS/cd-FVD port), written out by hand."""
    units = [("Conv3d_1a_7x7", 3, 64, 7), ("Conv3d_2b_1x1", 64, 64, 1), ("Conv3d_2c_3x3", 64, 192, 3)]
    for name, cin, w in _BLOCKS:
        units += [(f"{name}.b0", cin, w[0], 1), (f"{name}.b1a", cin, w[1], 1), (f"{name}.b1b", w[1], w[2], 3),
                  (f"{name}.b2a", cin, w[3], 1), (f"{name}.b2b", w[3], w[4], 3), (f"{name}.b3b", cin, w[5], 1)]
    layout: dict[str, tuple[int, ...]] = {}
    for prefix, cin, cout, k in units:
        layout[f"{prefix}.conv3d.weight"] = (cout, cin, k, k, k)
        for p in ("weight", "bias", "running_mean", "running_var"):
            layout[f"{prefix}.bn.{p}"] = (cout,)
    layout["logits.conv3d.weight"] = (400, 1024, 1, 1, 1)
    layout["logits.conv3d.bias"] = (400,)
    return layout


def fabricate(seed: int = 0) -> OrderedDict:
    g = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for key, shape in official_layout().items():
        if key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=g) + 0.5
        elif key.endswith("conv3d.weight"):
            fan_in = shape[1] * shape[2] * shape[3] * shape[4]
            state[key] = torch.randn(shape, generator=g) * (2.0 / fan_in) ** 0.5
        else:
            state[key] = torch.randn(shape, generator=g) * 0.1
    return state


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("i3d") / "i3d_pretrained_400.pt"
    state = fabricate()
    torch.save(state, path)  # like the official file: plain dict, no num_batches_tracked
    return path, state


def test_layout_has_287_tensors():
    assert len(official_layout()) == 287  # 57 conv+BN units x 5 + logits weight and bias


def test_same_padding_hand_worked():
    assert _same_padding(224, 7, 2) == (2, 3)  # total k - s = 5, smaller half first
    assert _same_padding(16, 7, 2) == (2, 3)
    assert _same_padding(15, 3, 2) == (1, 1)  # 15 mod 2 = 1: total k - 1 = 2
    assert _same_padding(56, 1, 1) == (0, 0)
    assert _same_padding(8, 2, 2) == (0, 0)


def test_strict_load_and_forward(checkpoint):
    path, state = checkpoint
    encoder = build_i3d_k400(path)
    params = dict(encoder.module.state_dict())
    torch.testing.assert_close(params["Mixed_4d.b2b.conv3d.weight"], state["Mixed_4d.b2b.conv3d.weight"])
    assert encoder.normalized is False
    assert encoder.preprocess.num_frames == 16 and encoder.preprocess.size == 224
    assert encoder.preprocess.value_range == "symmetric"
    assert encoder.weights_sha256 and len(encoder.weights_sha256) == 64
    captured = {}
    encoder.module.logits.register_forward_hook(lambda mod, inp, out: captured.update(pooled=inp[0]))
    feats = encoder.encode_video(torch.rand(1, 16, 3, 224, 224) * 2 - 1)
    assert feats.shape == (1, 400) and feats.dtype == torch.float32
    assert torch.isfinite(feats).all()
    # head, checked by hand: 1x1x1 conv of the pooled Mixed_5c features (+ bias), averaged over time
    pooled = captured["pooled"]
    assert pooled.shape == (1, 1024, 1, 1, 1)  # T 16 -> 8 -> 4 -> 2, then 2x7x7 average pool
    w = state["logits.conv3d.weight"].flatten(1)
    expected = pooled.flatten(1) @ w.T + state["logits.conv3d.bias"]
    torch.testing.assert_close(feats, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mutation, words", [
    ("drop", ["missing keys", "Mixed_5c.b3b.bn.running_var"]),
    ("extra", ["unexpected keys", "Mixed_6a.b0.conv3d.weight"]),
    ("shape", ["shape mismatches", "logits.conv3d.weight"]),
])
def test_mismatched_checkpoint_names_keys(tmp_path, checkpoint, mutation, words):
    state = OrderedDict(checkpoint[1])
    if mutation == "drop":
        del state["Mixed_5c.b3b.bn.running_var"]
    elif mutation == "extra":
        state["Mixed_6a.b0.conv3d.weight"] = torch.zeros(1)
    else:
        state["logits.conv3d.weight"] = torch.zeros(600, 1024, 1, 1, 1)
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError) as err:
        load_i3d(path)
    for w in words:
        assert w in str(err.value)
    assert str(path) in str(err.value)


class _FakeScriptedI3D(torch.nn.Module):
    """Stands in for ``i3d_torchscript.pt``: only accepts the FVD calling convention."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(3, 400)

    def forward(self, x: torch.Tensor, rescale: bool = True, resize: bool = True,
                return_features: bool = False) -> torch.Tensor:
        if rescale or resize or not return_features:
            raise RuntimeError("wrong calling convention")
        if x.shape[1] != 3 or x.shape[2] != 16:
            raise RuntimeError("expected [B, 3, 16, H, W]")
        return self.proj(x.mean(dim=(2, 3, 4)))


def test_torchscript_calling_convention(tmp_path):
    scripted = torch.jit.script(_FakeScriptedI3D())
    path = tmp_path / "i3d_torchscript.pt"
    scripted.save(str(path))
    encoder = build_i3d_torchscript(path)
    assert encoder.name == "i3d-torchscript" and encoder.preprocess.value_range == "symmetric"
    clips = torch.rand(2, 16, 3, 8, 8) * 2 - 1
    feats = encoder.encode_video(clips)
    fake = _FakeScriptedI3D()
    fake.load_state_dict(scripted.state_dict())
    expected = fake.proj(clips.mean(dim=(1, 3, 4)))
    torch.testing.assert_close(feats, expected.detach())


def test_encode_video_rejects_wrong_layout():
    encoder = I3DEncoder(torch.nn.Conv3d(3, 1, 1), None, calibrated=False)
    with pytest.raises(ValueError, match=r"\[B, T, 3, H, W\]"):
        encoder.encode_video(torch.zeros(1, 3, 16, 8, 8))
