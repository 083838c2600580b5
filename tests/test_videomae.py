"""VideoMAE-v2 extractor: official ViT-g key layout, strict loading, and a hand-written forward reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mvbench.encoders.videomae import (
    VideoMAEEncoder,
    VideoMAEv2ViT,
    ViTConfig,
    load_videomae,
    sinusoid_table,
)
from mvbench.errors import CheckpointMismatchError

TINY = ViTConfig(img_size=28, patch_size=14, num_frames=4, tubelet_size=2, embed_dim=24, depth=2,
                 num_heads=3, mlp_hidden=40, num_classes=5)


def official_layout(dim, depth, hidden, classes, patch=14, tubelet=2) -> dict[str, tuple[int, ...]]:
    """Key -> shape of ``vit_g_hybrid_pt_1200e_ssv2_ft.pth`` style checkpoints, written out by hand."""
    layout = {"patch_embed.proj.weight": (dim, 3, tubelet, patch, patch), "patch_embed.proj.bias": (dim,)}
    for i in range(depth):
        b = f"blocks.{i}."
        layout.update({
            b + "norm1.weight": (dim,), b + "norm1.bias": (dim,),
            b + "attn.qkv.weight": (3 * dim, dim), b + "attn.q_bias": (dim,), b + "attn.v_bias": (dim,),
            b + "attn.proj.weight": (dim, dim), b + "attn.proj.bias": (dim,),
            b + "norm2.weight": (dim,), b + "norm2.bias": (dim,),
            b + "mlp.fc1.weight": (hidden, dim), b + "mlp.fc1.bias": (hidden,),
            b + "mlp.fc2.weight": (dim, hidden), b + "mlp.fc2.bias": (dim,),
        })
    layout.update({"fc_norm.weight": (dim,), "fc_norm.bias": (dim,),
                   "head.weight": (classes, dim), "head.bias": (classes,)})
    return layout


def fabricate(seed=0):
    g = torch.Generator().manual_seed(seed)
    layout = official_layout(TINY.embed_dim, TINY.depth, TINY.mlp_hidden, TINY.num_classes)
    return {k: torch.randn(shape, generator=g) * 0.2 for k, shape in layout.items()}


def test_vit_g_layout_matches_official_shapes():
    # ViT-g/14: 1408 wide, 40 blocks, MLP int(1408 * 48 / 11) = 6144, 174 SSv2 classes
    assert int(1408 * 48 / 11) == 6144
    with torch.device("meta"):
        model = VideoMAEv2ViT(ViTConfig())
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == official_layout(1408, 40, 6144, 174)
    assert model.pos_embed.shape == (1, 8 * 16 * 16, 1408)
    assert sum(math.prod(s) for s in got.values()) > 1.0e9


def test_sinusoid_table_hand_worked():
    table = sinusoid_table(3, 4).numpy()
    for p in range(3):
        expected = [math.sin(p), math.cos(p), math.sin(p / 100.0), math.cos(p / 100.0)]  # 10000^(2/4) = 100
        np.testing.assert_allclose(table[p], expected, rtol=1e-6, atol=1e-7)


def reference_features(state, x):
    """Independent float64 forward of the tiny ViT from the checkpoint tensors."""
    s = {k: v.double() for k, v in state.items()}
    x = x.double()
    tok = torch.nn.functional.conv3d(x, s["patch_embed.proj.weight"], s["patch_embed.proj.bias"], stride=(2, 14, 14))
    tok = tok.flatten(2).transpose(1, 2)
    n, d = tok.shape[1], tok.shape[2]
    pos = np.array([[p / 10000 ** (2 * (j // 2) / d) for j in range(d)] for p in range(n)])
    pos[:, 0::2], pos[:, 1::2] = np.sin(pos[:, 0::2]), np.cos(pos[:, 1::2])
    tok = tok + torch.from_numpy(pos)

    def ln(t, w, b):
        mu = t.mean(-1, keepdim=True)
        var = ((t - mu) ** 2).mean(-1, keepdim=True)
        return (t - mu) / torch.sqrt(var + 1e-6) * w + b

    heads, hd = TINY.num_heads, d // TINY.num_heads
    for i in range(TINY.depth):
        p = f"blocks.{i}."
        h = ln(tok, s[p + "norm1.weight"], s[p + "norm1.bias"])
        wq, wk, wv = s[p + "attn.qkv.weight"].split(d)
        q = (h @ wq.T + s[p + "attn.q_bias"]).view(1, n, heads, hd).transpose(1, 2)
        k = (h @ wk.T).view(1, n, heads, hd).transpose(1, 2)
        v = (h @ wv.T + s[p + "attn.v_bias"]).view(1, n, heads, hd).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1)
        o = (att @ v).transpose(1, 2).reshape(1, n, d) @ s[p + "attn.proj.weight"].T + s[p + "attn.proj.bias"]
        tok = tok + o
        h = ln(tok, s[p + "norm2.weight"], s[p + "norm2.bias"])
        h = h @ s[p + "mlp.fc1.weight"].T + s[p + "mlp.fc1.bias"]
        h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2)))
        tok = tok + h @ s[p + "mlp.fc2.weight"].T + s[p + "mlp.fc2.bias"]
    return ln(tok.mean(1), s["fc_norm.weight"], s["fc_norm.bias"])


@pytest.mark.parametrize("wrapper", [None, "module", "model"])
def test_strict_load_and_forward_matches_reference(tmp_path, wrapper):
    state = fabricate()
    path = tmp_path / "vit.pth"
    torch.save(state if wrapper is None else {wrapper: state, "epoch": 1}, path)
    encoder = VideoMAEEncoder(load_videomae(path, TINY), None, calibrated=False)
    assert encoder.preprocess.value_range == "unit" and encoder.preprocess.mean is None
    clips = torch.rand(1, 4, 3, 28, 28)  # [B, T, 3, H, W] in [0, 1]
    feats = encoder.encode_video(clips)
    assert feats.shape == (1, 24) and feats.dtype == torch.float32
    expected = reference_features(state, clips.permute(0, 2, 1, 3, 4)).float()
    torch.testing.assert_close(feats, expected, rtol=1e-4, atol=1e-4)


def test_mismatched_checkpoint_names_keys(tmp_path):
    state = fabricate()
    del state["blocks.1.attn.v_bias"]
    state["blocks.0.attn.qkv.bias"] = torch.zeros(72)
    state["head.weight"] = torch.zeros(7, 24)
    path = tmp_path / "bad.pth"
    torch.save({"module": state}, path)
    with pytest.raises(CheckpointMismatchError) as err:
        load_videomae(path, TINY)
    msg = str(err.value)
    for word in ("missing keys: blocks.1.attn.v_bias", "unexpected keys: blocks.0.attn.qkv.bias",
                 "head.weight (7, 24) (expected (5, 24))", str(path)):
        assert word in msg


def test_default_protocol():
    from mvbench.encoders.videomae import VIDEOMAE_PREPROCESS

    assert (VIDEOMAE_PREPROCESS.num_frames, VIDEOMAE_PREPROCESS.size) == (16, 224)
    assert VideoMAEEncoder.feature_dim == 1408 and VideoMAEEncoder.normalized is False
