"""AMT-S and RAFT: official key layouts, strict loading of fabricated checkpoints, forward shapes, the
princeton-vl <-> torchvision key mapping, and RAFT's numerics against an independent re-implementation
of the original forward pass."""

from __future__ import annotations

import zipfile

import _vbench_motion_weights as fab
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mvbench.encoders.amt import AMTS, BidirCorrBlock, interpolate_midframes, load_amt_s, warp
from mvbench.encoders.raft import (
    OriginalCorrBlock,
    RAFTFlow,
    load_raft,
    pair_flows,
    princeton_layout,
    princeton_to_torchvision,
    torchvision_to_princeton,
)
from mvbench.errors import CheckpointMismatchError, MvbenchError


@pytest.fixture(scope="module")
def amt_ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("amt") / "amt-s.pth"
    state = fab.fabricate(fab.amt_s_layout(), seed=0)
    fab.write_amt_checkpoint(path, state)
    return path, state


@pytest.fixture(scope="module")
def raft_ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("raft") / "raft-things.pth"
    state = fab.fabricate(fab.raft_things_layout(), seed=1)
    fab.write_raft_checkpoint(path, state)
    return path, state


# ----------------------------------------------------------------------------- AMT-S
def test_amt_layout_has_213_tensors_and_matches_the_module():
    layout = fab.amt_s_layout()
    assert len(layout) == 213  # feat encoder 44, pyramid 24, 4 decoders x 20, 3 update blocks x 20, comb 5
    assert {k: tuple(v.shape) for k, v in AMTS().state_dict().items()} == layout


def test_amt_strict_load_and_forward_shapes(amt_ckpt):
    path, state = amt_ckpt
    model = load_amt_s(path)
    torch.testing.assert_close(model.state_dict()["update3.gru.0.weight"], state["update3.gru.0.weight"])
    torch.testing.assert_close(model.state_dict()["decoder1.convblock.2.weight"], state["decoder1.convblock.2.weight"])
    g = torch.Generator().manual_seed(0)
    # 128 px: the coarsest correlation level is 2 px wide (at 64 px it is 1 px and the original's
    # coordinate normalisation divides by zero, giving NaN, as in VBench)
    img0, img1 = torch.rand(2, 3, 128, 144, generator=g), torch.rand(2, 3, 128, 144, generator=g)
    with torch.no_grad():
        out = model(img0, img1, torch.full((2, 1, 1, 1), 0.5))
        single = model(img0[:1], img1[:1], torch.full((1, 1, 1, 1), 0.5))
    assert out.shape == (2, 3, 128, 144) and torch.isfinite(out).all()
    assert out.min() >= 0 and out.max() <= 1
    torch.testing.assert_close(out[:1], single, rtol=0, atol=1e-4)  # per sample: batching pairs is allowed


def test_amt_downscaled_forward_keeps_the_input_size(amt_ckpt):
    model = load_amt_s(amt_ckpt[0])
    x0, x1 = torch.rand(1, 3, 256, 256), torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        out = model(x0, x1, torch.full((1, 1, 1, 1), 0.5), scale_factor=0.5)
    assert out.shape == (1, 3, 256, 256) and torch.isfinite(out).all()


@pytest.mark.parametrize("mutation, words", [
    ("drop", ["missing keys", "update2.flow_head.2.bias"]),
    ("extra", ["unexpected keys", "update1.convc1.weight"]),
    ("shape", ["shape mismatches", "comb_block.0.weight"]),
])
def test_amt_mismatched_checkpoint_names_keys(tmp_path, amt_ckpt, mutation, words):
    state = dict(amt_ckpt[1])
    if mutation == "drop":
        del state["update2.flow_head.2.bias"]
    elif mutation == "extra":
        state["update1.convc1.weight"] = torch.zeros(1)
    else:
        state["comb_block.0.weight"] = torch.zeros(18, 6, 3, 3)
    path = fab.write_amt_checkpoint(tmp_path / "bad.pth", state)
    with pytest.raises(CheckpointMismatchError) as err:
        load_amt_s(path)
    for w in words + [str(path)]:
        assert w in str(err.value)


class _Hostile:
    def __reduce__(self):
        return (print, ("executed",))


def test_pickled_objects_are_refused_with_one_clear_line(tmp_path, capsys):
    for loader, name in ((load_amt_s, "amt-s"), (load_raft, "raft-things")):
        path = tmp_path / f"{name}.pth"
        torch.save({"state_dict": {"x": torch.zeros(1)}, "evil": _Hostile()}, path)
        with pytest.raises(MvbenchError) as err:
            loader(path)
        first = str(err.value).splitlines()[0]
        assert repr(name) in first and str(path) in first
        assert "weights import" in str(err.value) and "allowlist" not in str(err.value).lower()
        assert "safe_globals" not in str(err.value)
    assert "executed" not in capsys.readouterr().out


def test_warp_moves_pixels_by_the_flow():
    img = torch.arange(20.0).view(1, 1, 4, 5)
    zero = torch.zeros(1, 2, 4, 5)
    torch.testing.assert_close(warp(img, zero), img)
    shift = torch.zeros(1, 2, 4, 5)
    shift[:, 0] = 1.0  # sample one pixel to the right; the last column repeats (border padding)
    expected = torch.cat([img[..., 1:], img[..., -1:]], dim=-1)
    torch.testing.assert_close(warp(img, shift), expected, atol=1e-5, rtol=0)


def test_bidirectional_correlation_lookup_at_zero_offset():
    g = torch.Generator().manual_seed(2)
    f0, f1 = torch.randn(1, 5, 8, 8, generator=g), torch.randn(1, 5, 8, 8, generator=g)
    corr = BidirCorrBlock(f0, f1, num_levels=1, radius=1)
    ys, xs = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    coords = torch.stack([xs, ys])[None]
    fwd, bwd = corr(coords, coords)
    assert fwd.shape == (1, 9, 8, 8)
    direct = (f0 * f1).sum(1) / 5**0.5  # centre of the window: <f0(p), f1(p)> / sqrt(C)
    torch.testing.assert_close(fwd[:, 4], direct, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(bwd[:, 4], direct, rtol=1e-5, atol=1e-5)
    # window offset (dy, dx) = (0, +1) is channel 0 * 3 + ... : offsets come from meshgrid(dy, dx) applied to (x, y)
    expect = (f0[0, :, 3, 3] * f1[0, :, 3, 4]).sum() / 5**0.5  # x + 1 at (y=3, x=3): channel index 7 (i=2, j=1)
    torch.testing.assert_close(fwd[0, 7, 3, 3], expect, rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")
def test_interpolate_midframes_pads_and_unpads(amt_ckpt):
    model = load_amt_s(amt_ckpt[0])
    frames = np.random.default_rng(0).integers(0, 256, size=(3, 70, 90, 3), dtype=np.uint8)
    out = interpolate_midframes(model, frames)
    assert out.shape == (2, 70, 90, 3) and out.dtype == np.uint8


# ----------------------------------------------------------------------------- RAFT
def test_raft_layout_is_the_princeton_file():
    layout = fab.raft_things_layout()
    assert len(layout) == 179  # as raft-things.pth: fnet 32, cnet 117 (with 10 norm3 aliases), update block 30
    assert princeton_layout() == layout


def test_key_mapping_round_trips(raft_ckpt):
    _, state = raft_ckpt
    tv = princeton_to_torchvision(state)
    model = RAFTFlow()
    assert set(tv) == set(model.raft.state_dict())  # covers every torchvision parameter and buffer
    assert len(tv) == 169  # the 10 norm3 aliases collapse into downsample.1
    back = torchvision_to_princeton(tv)
    assert set(back) == set(state)
    for k in state:
        torch.testing.assert_close(back[k], state[k], rtol=0, atol=0)
    assert set(princeton_to_torchvision(back)) == set(tv)
    # a few pairs written out by hand
    assert tv["feature_encoder.convnormrelu.0.weight"] is state["module.fnet.conv1.weight"]
    assert tv["context_encoder.layer3.0.downsample.1.running_var"] is state["module.cnet.layer3.0.downsample.1.running_var"]
    assert tv["update_block.recurrent_block.convgru2.convr.weight"] is state["module.update_block.gru.convr2.weight"]
    assert tv["update_block.motion_encoder.conv.0.bias"] is state["module.update_block.encoder.conv.bias"]
    assert tv["mask_predictor.conv.weight"] is state["module.update_block.mask.2.weight"]
    with pytest.raises(KeyError):
        princeton_to_torchvision({"module.fnet.layer4.0.conv1.weight": torch.zeros(1)})


def test_raft_strict_load_and_forward_shapes(raft_ckpt):
    path, state = raft_ckpt
    model = load_raft(path)
    sd = model.raft.state_dict()
    torch.testing.assert_close(sd["update_block.recurrent_block.convgru1.convq.weight"],
                               state["module.update_block.gru.convq1.weight"])
    torch.testing.assert_close(sd["context_encoder.layer2.0.downsample.1.weight"],
                               state["module.cnet.layer2.0.norm3.weight"])
    x1 = torch.rand(2, 3, 128, 136) * 255
    with torch.no_grad():
        flow = model(x1, torch.roll(x1, 2, dims=-1), iters=2)
    assert flow.shape == (2, 2, 128, 136) and torch.isfinite(flow).all()


def test_raft_loads_from_the_official_models_zip(tmp_path, raft_ckpt):
    inner = tmp_path / "raft-things.pth"
    fab.write_raft_checkpoint(inner, raft_ckpt[1])
    archive = tmp_path / "raft-things.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(inner, "models/raft-things.pth")
        zf.writestr("models/raft-small.pth", b"not used")
    model = load_raft(archive)
    torch.testing.assert_close(model.raft.state_dict()["feature_encoder.conv.bias"], raft_ckpt[1]["module.fnet.conv2.bias"])


@pytest.mark.parametrize("mutation, words", [
    ("drop", ["missing keys", "module.cnet.layer3.0.norm3.weight"]),
    ("extra", ["unexpected keys", "module.update_block.mask.4.weight"]),
    ("shape", ["shape mismatches", "module.fnet.conv2.weight"]),
])
def test_raft_mismatched_checkpoint_names_keys(tmp_path, raft_ckpt, mutation, words):
    state = dict(raft_ckpt[1])
    if mutation == "drop":
        del state["module.cnet.layer3.0.norm3.weight"]
    elif mutation == "extra":
        state["module.update_block.mask.4.weight"] = torch.zeros(1)
    else:
        state["module.fnet.conv2.weight"] = torch.zeros(128, 128, 1, 1)
    path = fab.write_raft_checkpoint(tmp_path / "bad.pth", state)
    with pytest.raises(CheckpointMismatchError) as err:
        load_raft(path)
    for w in words + [str(path)]:
        assert w in str(err.value)


def test_num_batches_tracked_may_be_absent(tmp_path, raft_ckpt):
    state = {k: v for k, v in raft_ckpt[1].items() if not k.endswith("num_batches_tracked")}
    load_raft(fab.write_raft_checkpoint(tmp_path / "nbt.pth", state))


def test_original_corr_block_equals_torchvision_where_torchvision_is_defined():
    from torchvision.models.optical_flow.raft import CorrBlock

    g = torch.Generator().manual_seed(4)
    f1, f2 = torch.randn(1, 16, 16, 20, generator=g), torch.randn(1, 16, 16, 20, generator=g)
    coords = torch.rand(1, 2, 16, 20, generator=g) * 18
    ours, theirs = OriginalCorrBlock(), CorrBlock(num_levels=4, radius=4)
    ours.build_pyramid(f1, f2)
    theirs.build_pyramid(f1, f2)
    torch.testing.assert_close(ours.index_pyramid(coords), theirs.index_pyramid(coords), rtol=1e-6, atol=1e-6)
    small = torch.randn(1, 16, 8, 8, generator=g)
    with pytest.raises(ValueError):
        theirs.build_pyramid(small, small)  # torchvision refuses < 128 px images; the original runs
    ours.build_pyramid(small, small)
    assert ours.index_pyramid(torch.zeros(1, 2, 8, 8)).shape == (1, 324, 8, 8)


# --- an independent functional re-implementation of the original RAFT forward (princeton-vl layout)
def _ref_raft(sd: dict, im1: torch.Tensor, im2: torch.Tensor, iters: int) -> torch.Tensor:
    p = {k[len("module."):]: v for k, v in sd.items()}

    def conv(x, name, stride=1, pad=0):
        return F.conv2d(x, p[name + ".weight"], p[name + ".bias"], stride=stride, padding=pad)

    def encoder(x, net, bn):
        def norm(y, name):
            if not bn:
                return F.instance_norm(y)
            return F.batch_norm(y, p[name + ".running_mean"], p[name + ".running_var"], p[name + ".weight"],
                                p[name + ".bias"], False, 0.0, 1e-5)
        x = F.relu(norm(conv(x, f"{net}.conv1", 2, 3), f"{net}.norm1"))
        for layer, stride in ((1, 1), (2, 2), (3, 2)):
            for blk in (0, 1):
                b = f"{net}.layer{layer}.{blk}"
                s = stride if blk == 0 else 1
                y = F.relu(norm(conv(x, f"{b}.conv1", s, 1), f"{b}.norm1"))
                y = F.relu(norm(conv(y, f"{b}.conv2", 1, 1), f"{b}.norm2"))
                if s != 1:
                    x = norm(conv(x, f"{b}.downsample.0", s, 0), f"{b}.norm3")
                x = F.relu(x + y)
        return conv(x, f"{net}.conv2")

    im1, im2 = 2 * (im1 / 255.0) - 1.0, 2 * (im2 / 255.0) - 1.0
    f1, f2 = encoder(im1, "fnet", False), encoder(im2, "fnet", False)
    b, c, h, w = f1.shape
    vol = torch.einsum("bchw,bcuv->bhwuv", f1, f2).reshape(b * h * w, 1, h, w) / c**0.5
    pyramid = [vol]
    for _ in range(3):
        pyramid.append(F.avg_pool2d(pyramid[-1], 2, 2))
    ctx = encoder(im1, "cnet", True)
    net, inp = torch.tanh(ctx[:, :128]), torch.relu(ctx[:, 128:])
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    c0 = torch.stack([xs, ys])[None].repeat(b, 1, 1, 1)
    c1 = c0.clone()
    offs = torch.arange(-4, 5, dtype=torch.float32)
    # window element (i, j) adds (offs[i], offs[j]) to (x, y), as the original's meshgrid(dy, dx)
    win = torch.stack([offs[:, None].expand(9, 9), offs[None, :].expand(9, 9)], dim=-1)
    for _ in range(iters):
        feats = []
        pts = c1.permute(0, 2, 3, 1).reshape(b * h * w, 1, 1, 2)
        for lvl, corr in enumerate(pyramid):
            q = pts / 2**lvl + win
            hh, ww = corr.shape[-2:]
            grid = torch.stack([2 * q[..., 0] / (ww - 1) - 1, 2 * q[..., 1] / (hh - 1) - 1], dim=-1)
            feats.append(F.grid_sample(corr, grid, align_corners=True).reshape(b, h, w, 81))
        corr_f = torch.cat(feats, -1).permute(0, 3, 1, 2)
        flow = c1 - c0
        u = "update_block"
        cor = F.relu(conv(F.relu(conv(corr_f, f"{u}.encoder.convc1")), f"{u}.encoder.convc2", pad=1))
        flo = F.relu(conv(F.relu(conv(flow, f"{u}.encoder.convf1", pad=3)), f"{u}.encoder.convf2", pad=1))
        motion = torch.cat([F.relu(conv(torch.cat([cor, flo], 1), f"{u}.encoder.conv", pad=1)), flow], 1)
        x = torch.cat([inp, motion], 1)
        for k, pad in (("1", (0, 2)), ("2", (2, 0))):
            hx = torch.cat([net, x], 1)
            z = torch.sigmoid(conv(hx, f"{u}.gru.convz{k}", pad=pad))
            r = torch.sigmoid(conv(hx, f"{u}.gru.convr{k}", pad=pad))
            q = torch.tanh(conv(torch.cat([r * net, x], 1), f"{u}.gru.convq{k}", pad=pad))
            net = (1 - z) * net + z * q
        c1 = c1 + conv(F.relu(conv(net, f"{u}.flow_head.conv1", pad=1)), f"{u}.flow_head.conv2", pad=1)
        mask = 0.25 * conv(F.relu(conv(net, f"{u}.mask.0", pad=1)), f"{u}.mask.2")
    # convex upsampling: each fine pixel is a softmax-weighted mix of the 3x3 coarse neighbours (x8)
    mask = torch.softmax(mask.view(b, 1, 9, 8, 8, h, w), dim=2)
    nb = F.unfold(8 * (c1 - c0), [3, 3], padding=1).view(b, 2, 9, 1, 1, h, w)
    up = (mask * nb).sum(2)  # [b, 2, 8, 8, h, w]
    return up.permute(0, 1, 4, 2, 5, 3).reshape(b, 2, 8 * h, 8 * w)


@pytest.mark.parametrize("size", [(128, 136)])
def test_raft_matches_an_independent_original_forward(raft_ckpt, size):
    path, state = raft_ckpt
    model = load_raft(path)
    g = torch.Generator().manual_seed(5)
    base = torch.rand(1, 3, size[0] + 8, size[1] + 8, generator=g) * 255
    im1, im2 = base[..., 4:-4, 4:-4], base[..., 2:-6, 5:-3]  # a shifted view: a real motion
    with torch.no_grad():
        ours = model(im1, im2, iters=3)
        ref = _ref_raft(state, im1, im2, iters=3)
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4, equal_nan=True)


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")
def test_pair_flows_pads_to_multiples_of_8(raft_ckpt):
    model = load_raft(raft_ckpt[0])
    frames = np.random.default_rng(1).integers(0, 256, size=(3, 66, 70, 3), dtype=np.uint8)
    model_iters = []
    original = model.forward
    model.forward = lambda a, b, iters=20: (model_iters.append((tuple(a.shape), iters)), original(a, b, iters=1))[1]
    flows = list(pair_flows(model, frames))
    assert len(flows) == 2 and flows[0].shape == (2, 72, 72) and flows[0].dtype == np.float32
    assert model_iters == [((1, 3, 72, 72), 20)] * 2  # 66 -> 72 (3 + 3), 70 -> 72 (1 + 1); VBench's 20 iterations
