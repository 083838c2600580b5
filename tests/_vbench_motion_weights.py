"""Official key layouts of ``amt-s.pth`` and ``raft-things.pth``, written out by hand from the original
architectures (AMT ``networks/AMT-S.py`` with ``AMT-S.yaml``; princeton-vl RAFT ``core/raft.py``,
``small=False``), and fabricated checkpoints with those layouts and random values. Shared by the
vbench-motion tests (imported by name: pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch


def _conv(layout: dict, name: str, cout: int, cin: int, k: int, transpose: bool = False) -> None:
    layout[f"{name}.weight"] = (cin, cout, k, k) if transpose else (cout, cin, k, k)
    layout[f"{name}.bias"] = (cout,)


def amt_s_layout() -> dict[str, tuple[int, ...]]:
    """Key -> shape of ``amt-s.pth['state_dict']`` (AMT-S: channels 20/32/44/56, skip 20, 3 flows,
    corr radius 3 and 4 levels, update blocks hidden 76 / flow 20 / corr 64 / fc 68)."""
    lay: dict[str, tuple[int, ...]] = {}
    # feature encoder: 7x7 stem (32), bottleneck stages (32, 64, 96) at a quarter width inside, 1x1 head (84)
    _conv(lay, "feat_encoder.conv1", 32, 3, 7)
    cin = 32
    for layer, planes, stride in ((1, 32, 1), (2, 64, 2), (3, 96, 2)):
        for blk in (0, 1):
            pre = f"feat_encoder.layer{layer}.{blk}"
            src = cin if blk == 0 else planes
            _conv(lay, f"{pre}.conv1", planes // 4, src, 1)
            _conv(lay, f"{pre}.conv2", planes // 4, planes // 4, 3)
            _conv(lay, f"{pre}.conv3", planes, planes // 4, 1)
            if blk == 0 and stride != 1:
                _conv(lay, f"{pre}.downsample.0", planes, src, 1)
        cin = planes
    _conv(lay, "feat_encoder.conv2", 84, 96, 1)
    # image pyramid
    prev = 3
    for i, ch in enumerate((20, 32, 44, 56), start=1):
        _conv(lay, f"encoder.pyramid{i}.0.0", ch, prev, 3)
        lay[f"encoder.pyramid{i}.0.1.weight"] = (ch,)
        _conv(lay, f"encoder.pyramid{i}.1.0", ch, ch, 3)
        lay[f"encoder.pyramid{i}.1.1.weight"] = (ch,)
        prev = ch

    def decoder(name: str, cin_: int, width: int, cout: int) -> None:
        _conv(lay, f"{name}.convblock.0.0", width, cin_, 3)
        lay[f"{name}.convblock.0.1.weight"] = (width,)
        res = f"{name}.convblock.1"
        for conv, ch in (("conv1", width), ("conv2", 20), ("conv3", width), ("conv4", 20)):
            _conv(lay, f"{res}.{conv}.0", ch, ch, 3)
            lay[f"{res}.{conv}.1.weight"] = (ch,)
        _conv(lay, f"{res}.conv5", width, width, 3)
        lay[f"{res}.prelu.weight"] = (width,)
        _conv(lay, f"{name}.convblock.2", cout, width, 4, transpose=True)

    decoder("decoder4", 2 * 56 + 1, 112, 44 + 4)
    decoder("decoder3", 3 * 44 + 4, 132, 32 + 4)
    decoder("decoder2", 3 * 32 + 4, 96, 20 + 4)
    decoder("decoder1", 3 * 20 + 4, 60, 8 * 3)
    for name, cdim in (("update4", 44), ("update3", 32), ("update2", 20)):
        _conv(lay, f"{name}.convc1", 64, 2 * 4 * 7 * 7, 1)
        _conv(lay, f"{name}.convf1", 40, 4, 7)
        _conv(lay, f"{name}.convf2", 20, 40, 3)
        _conv(lay, f"{name}.conv", 68, 64 + 20, 3)
        _conv(lay, f"{name}.gru.0", 76, 68 + 4 + cdim, 3)
        _conv(lay, f"{name}.gru.2", 76, 76, 3)
        _conv(lay, f"{name}.feat_head.0", 76, 76, 3)
        _conv(lay, f"{name}.feat_head.2", cdim, 76, 3)
        _conv(lay, f"{name}.flow_head.0", 76, 76, 3)
        _conv(lay, f"{name}.flow_head.2", 4, 76, 3)
    _conv(lay, "comb_block.0", 18, 9, 3)
    lay["comb_block.1.weight"] = (18,)
    _conv(lay, "comb_block.2", 3, 18, 3)
    return lay


def raft_things_layout() -> dict[str, tuple[int, ...]]:
    """Key -> shape of ``raft-things.pth`` (``module.`` prefix; fnet instance norm, cnet batch norm with
    ``num_batches_tracked`` and the strided blocks' ``norm3`` alias of ``downsample.1``)."""
    lay: dict[str, tuple[int, ...]] = {}
    for net, out_dim, batch_norm in (("fnet", 256, False), ("cnet", 256, True)):
        def norm(name: str, ch: int, bn: bool = batch_norm) -> None:
            if bn:
                for p in ("weight", "bias", "running_mean", "running_var"):
                    lay[f"{name}.{p}"] = (ch,)
                lay[f"{name}.num_batches_tracked"] = ()

        pre = f"module.{net}"
        _conv(lay, f"{pre}.conv1", 64, 3, 7)
        norm(f"{pre}.norm1", 64)
        cin = 64
        for layer, planes, stride in ((1, 64, 1), (2, 96, 2), (3, 128, 2)):
            for blk in (0, 1):
                b = f"{pre}.layer{layer}.{blk}"
                src = cin if blk == 0 else planes
                _conv(lay, f"{b}.conv1", planes, src, 3)
                _conv(lay, f"{b}.conv2", planes, planes, 3)
                norm(f"{b}.norm1", planes)
                norm(f"{b}.norm2", planes)
                if blk == 0 and stride != 1:
                    norm(f"{b}.norm3", planes)
                    _conv(lay, f"{b}.downsample.0", planes, src, 1)
                    norm(f"{b}.downsample.1", planes)
            cin = planes
        _conv(lay, f"{pre}.conv2", out_dim, 128, 1)
    u = "module.update_block"
    _conv(lay, f"{u}.encoder.convc1", 256, 4 * 9 * 9, 1)
    _conv(lay, f"{u}.encoder.convc2", 192, 256, 3)
    _conv(lay, f"{u}.encoder.convf1", 128, 2, 7)
    _conv(lay, f"{u}.encoder.convf2", 64, 128, 3)
    _conv(lay, f"{u}.encoder.conv", 126, 64 + 192, 3)
    for gate in "zrq":
        lay[f"{u}.gru.conv{gate}1.weight"] = (128, 128 + 256, 1, 5)
        lay[f"{u}.gru.conv{gate}1.bias"] = (128,)
        lay[f"{u}.gru.conv{gate}2.weight"] = (128, 128 + 256, 5, 1)
        lay[f"{u}.gru.conv{gate}2.bias"] = (128,)
    _conv(lay, f"{u}.flow_head.conv1", 256, 128, 3)
    _conv(lay, f"{u}.flow_head.conv2", 2, 256, 3)
    _conv(lay, f"{u}.mask.0", 256, 128, 3)
    _conv(lay, f"{u}.mask.2", 64 * 9, 256, 1)
    return lay


def fabricate(layout: dict[str, tuple[int, ...]], seed: int = 0) -> OrderedDict:
    """Random tensors with the layout's shapes, scaled so activations stay finite (weights ~ 1/sqrt(fan in),
    PReLU slopes near 0.25, positive running variances); ``norm3`` aliases equal their ``downsample.1``."""
    g = torch.Generator().manual_seed(seed)
    state: OrderedDict = OrderedDict()
    for key, shape in layout.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(100000)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=g) + 0.5
        elif len(shape) >= 2:
            fan_in = 1
            for s in shape[1:]:
                fan_in *= s
            state[key] = torch.randn(shape, generator=g) / fan_in ** 0.5
        elif key.endswith(".weight") and ("norm" in key or "downsample.1" in key):
            state[key] = 1.0 + 0.1 * torch.randn(shape, generator=g)
        elif key.endswith(".weight"):  # PReLU slopes
            state[key] = 0.25 + 0.05 * torch.randn(shape, generator=g)
        else:
            state[key] = 0.05 * torch.randn(shape, generator=g)
    for key in list(state):
        if ".norm3." in key:
            state[key] = state[key.replace(".norm3.", ".downsample.1.")]
    return state


def write_amt_checkpoint(path: Path, state: dict | None = None, seed: int = 0) -> Path:
    """``amt-s.pth`` as the AMT trainer saves it: ``{'epoch', 'state_dict'}``."""
    torch.save({"epoch": 300, "state_dict": state if state is not None else fabricate(amt_s_layout(), seed)}, path)
    return path


def write_raft_checkpoint(path: Path, state: dict | None = None, seed: int = 1) -> Path:
    """``raft-things.pth`` as princeton-vl saves it: the DataParallel state dict itself."""
    torch.save(state if state is not None else fabricate(raft_things_layout(), seed), path)
    return path
