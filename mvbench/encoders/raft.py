"""RAFT optical flow (Teed & Deng, ECCV 2020) as VBench's dynamic degree runs it: the full model
(``small=False``: corr levels 4, radius 4, hidden/context 128, convex 8x upsampling with the learned
mask), fp32, 20 refinement iterations in test mode, weights ``raft-things.pth`` of princeton-vl/RAFT.

The network is torchvision's ``raft_large`` (same layers, same order of operations, same 0.25 mask
scale) with one change: its correlation lookup is replaced by :class:`OriginalCorrBlock`, which follows
the original exactly where torchvision differs (torchvision refuses inputs under 128 px and does not
normalise the y coordinate of 1-pixel-high pyramid levels; the original does both without a check).

``raft-things.pth`` is the state dict of the original ``RAFT`` module saved through
``nn.DataParallel`` (every key starts with ``module.``), 179 tensors: ``fnet.*`` (instance norm, no
norm parameters), ``cnet.*`` (batch norm, with ``num_batches_tracked``; the strided residual blocks
hold their projection norm twice, as ``norm3.*`` and ``downsample.1.*``) and ``update_block.*``.
:func:`princeton_to_torchvision` maps those keys to torchvision's names and
:func:`torchvision_to_princeton` back (restoring the duplicates); loading checks every key and shape
in the princeton-vl layout first, so a wrong file is named key by key.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mvbench.encoders.checkpoint import check_state_dict, load_error_text, unwrap_state_dict
from mvbench.errors import MvbenchError

WEIGHTS_NAME = "raft-things"
#: VBench's call: ``model(image1, image2, iters=20, test_mode=True)``
VBENCH_ITERS = 20
#: member of the official ``models.zip`` (VBench's download) holding the checkpoint
ZIP_MEMBER = "models/raft-things.pth"
PREFIX = "module."

# princeton-vl name prefix -> torchvision name prefix, per part (keys without "module.")
_ENCODERS = {"fnet": "feature_encoder", "cnet": "context_encoder"}
#: stem and head of an encoder (fnet/cnet)
_ENCODER_TOP = {"conv1.": "convnormrelu.0.", "norm1.": "convnormrelu.1.", "conv2.": "conv."}
#: inside a residual block ``layerL.B.``; ``norm3.`` is the duplicate of ``downsample.1.``
_BLOCK = {"conv1.": "convnormrelu1.0.", "conv2.": "convnormrelu2.0.", "norm1.": "convnormrelu1.1.",
          "norm2.": "convnormrelu2.1.", "downsample.0.": "downsample.0.", "downsample.1.": "downsample.1."}
_UPDATE = {
    "update_block.encoder.convc1.": "update_block.motion_encoder.convcorr1.0.",
    "update_block.encoder.convc2.": "update_block.motion_encoder.convcorr2.0.",
    "update_block.encoder.convf1.": "update_block.motion_encoder.convflow1.0.",
    "update_block.encoder.convf2.": "update_block.motion_encoder.convflow2.0.",
    "update_block.encoder.conv.": "update_block.motion_encoder.conv.0.",
    "update_block.flow_head.": "update_block.flow_head.",
    "update_block.mask.0.": "mask_predictor.convrelu.0.",
    "update_block.mask.2.": "mask_predictor.conv.",
}
_ENC_RE = re.compile(r"(fnet|cnet|feature_encoder|context_encoder)\.(layer[123]\.[01]\.)?(.*)")


def _rename(rest: str, table: Mapping[str, str], key: str) -> tuple[str, str]:
    """(matched prefix, renamed ``rest``) by the first prefix of ``table`` that ``rest`` starts with."""
    for old, new in table.items():
        if rest.startswith(old):
            return old, new + rest[len(old):]
    raise KeyError(key)


def _princeton_key_to_torchvision(key: str) -> str | None:
    """torchvision name of one princeton-vl key (no ``module.``); None for the ``norm3`` duplicates;
    ``KeyError`` for a key of no known part."""
    m = _ENC_RE.fullmatch(key)
    if m and m.group(1) in _ENCODERS:
        net, head, rest = m.group(1), m.group(2) or "", m.group(3)
        if head and rest.startswith("norm3."):
            return None
        return f"{_ENCODERS[net]}.{head}{_rename(rest, _BLOCK if head else _ENCODER_TOP, key)[1]}"
    g = re.fullmatch(r"update_block\.gru\.conv([zrq])([12])\.(.*)", key)
    if g:
        return f"update_block.recurrent_block.convgru{g.group(2)}.conv{g.group(1)}.{g.group(3)}"
    return _rename(key, _UPDATE, key)[1]


def _torchvision_key_to_princeton(key: str) -> list[str]:
    """princeton-vl names (no ``module.``) of one torchvision key: two for a strided block's projection norm."""
    m = _ENC_RE.fullmatch(key)
    if m and m.group(1) not in _ENCODERS:
        net = {v: k for k, v in _ENCODERS.items()}[m.group(1)]
        head, rest = m.group(2) or "", m.group(3)
        table = {v: k for k, v in (_BLOCK if head else _ENCODER_TOP).items()}
        matched, renamed = _rename(rest, table, key)
        names = [f"{net}.{head}{renamed}"]
        if matched == "downsample.1.":
            names.append(f"{net}.{head}norm3.{rest[len(matched):]}")
        return names
    g = re.fullmatch(r"update_block\.recurrent_block\.convgru([12])\.conv([zrq])\.(.*)", key)
    if g:
        return [f"update_block.gru.conv{g.group(2)}{g.group(1)}.{g.group(3)}"]
    return [_rename(key, {v: k for k, v in _UPDATE.items()}, key)[1]]


def princeton_to_torchvision(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A ``raft-things.pth`` state dict (with or without ``module.``) renamed for torchvision's RAFT.

    The ``norm3`` duplicates are dropped (``downsample.1`` is kept: it is what loading the original
    module leaves in place, since it is loaded last). Unknown keys raise ``KeyError``.

    >>> sorted(princeton_to_torchvision({"module.update_block.gru.convq2.bias": torch.zeros(1),
    ...                                  "module.cnet.layer2.0.norm1.running_var": torch.zeros(1)}))
    ['context_encoder.layer2.0.convnormrelu1.1.running_var', 'update_block.recurrent_block.convgru2.convq.bias']
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        name = _princeton_key_to_torchvision(key[len(PREFIX):] if key.startswith(PREFIX) else key)
        if name is not None:
            out[name] = value
    return out


def torchvision_to_princeton(state: Mapping[str, torch.Tensor], prefix: str = PREFIX) -> dict[str, torch.Tensor]:
    """The inverse of :func:`princeton_to_torchvision`, with the ``norm3`` duplicates restored and ``prefix``
    (``module.`` as in ``raft-things.pth``) prepended.

    >>> sorted(torchvision_to_princeton({"context_encoder.layer3.0.downsample.1.bias": torch.zeros(1)}))
    ['module.cnet.layer3.0.downsample.1.bias', 'module.cnet.layer3.0.norm3.bias']
    """
    return {prefix + name: value for key, value in state.items() for name in _torchvision_key_to_princeton(key)}


class OriginalCorrBlock(nn.Module):
    """torchvision's ``CorrBlock`` interface (``build_pyramid`` / ``index_pyramid``) with the original
    RAFT arithmetic: correlation ``f1 . f2 / sqrt(C)``, ``num_levels`` average-pooled levels, a
    ``(2r+1)^2`` window per level around ``coords / 2**level`` (offsets from ``meshgrid(dy, dx)``),
    pixel -> [-1, 1] coordinates as ``2x/(W-1) - 1`` and ``2y/(H-1) - 1`` on every level, bilinear
    ``grid_sample`` with zero padding and ``align_corners=True``; no input-size check."""

    def __init__(self, num_levels: int = 4, radius: int = 4):
        super().__init__()
        self.num_levels = num_levels
        self.radius = radius
        self.out_channels = num_levels * (2 * radius + 1) ** 2
        self.corr_pyramid: list[torch.Tensor] = []

    def build_pyramid(self, fmap1: torch.Tensor, fmap2: torch.Tensor) -> None:
        b, dim, h, w = fmap1.shape
        corr = torch.matmul(fmap1.view(b, dim, h * w).transpose(1, 2), fmap2.view(b, dim, h * w))
        corr = corr.view(b, h, w, 1, h, w) / torch.sqrt(torch.tensor(dim).float())
        corr = corr.reshape(b * h * w, 1, h, w)
        self.corr_pyramid = [corr]
        for _ in range(self.num_levels - 1):
            corr = F.avg_pool2d(corr, 2, stride=2)
            self.corr_pyramid.append(corr)

    def index_pyramid(self, centroids_coords: torch.Tensor) -> torch.Tensor:
        r = self.radius
        coords = centroids_coords.permute(0, 2, 3, 1)
        b, h1, w1, _ = coords.shape
        out = []
        for i, corr in enumerate(self.corr_pyramid):
            dx = torch.linspace(-r, r, 2 * r + 1, device=coords.device)
            dy = torch.linspace(-r, r, 2 * r + 1, device=coords.device)
            delta = torch.stack(torch.meshgrid(dy, dx, indexing="ij"), dim=-1).view(1, 2 * r + 1, 2 * r + 1, 2)
            lvl = coords.reshape(b * h1 * w1, 1, 1, 2) / 2**i + delta
            hh, ww = corr.shape[-2:]
            xg, yg = lvl.split([1, 1], dim=-1)
            grid = torch.cat([2 * xg / (ww - 1) - 1, 2 * yg / (hh - 1) - 1], dim=-1)
            out.append(F.grid_sample(corr, grid, align_corners=True).view(b, h1, w1, -1))
        return torch.cat(out, dim=-1).permute(0, 3, 1, 2).contiguous().float()


class RAFTFlow(nn.Module):
    """RAFT with VBench's input convention: frames ``[B, 3, H, W]`` with values in [0, 255] (``H, W``
    multiples of 8), mapped to ``2 * (x / 255) - 1``; returns the final upsampled flow ``[B, 2, H, W]``."""

    def __init__(self):
        super().__init__()
        from torchvision.models.optical_flow import raft_large

        self.raft = raft_large(weights=None, progress=False)
        self.raft.corr_block = OriginalCorrBlock(num_levels=4, radius=4)

    def forward(self, image1: torch.Tensor, image2: torch.Tensor, iters: int = VBENCH_ITERS) -> torch.Tensor:
        image1 = (2 * (image1 / 255.0) - 1.0).contiguous()
        image2 = (2 * (image2 / 255.0) - 1.0).contiguous()
        return self.raft(image1, image2, num_flow_updates=iters)[-1]


def princeton_layout(model: RAFTFlow | None = None) -> dict[str, tuple[int, ...]]:
    """Key -> shape of ``raft-things.pth`` (with ``module.``), derived from the torchvision module."""
    model = model or RAFTFlow()
    return {k: tuple(v.shape) for k, v in torchvision_to_princeton(model.raft.state_dict()).items()}


def _read_checkpoint(path: Path):
    """``torch.load`` (``weights_only``) of the file, or of ``models/raft-things.pth`` inside VBench's
    ``models.zip`` download when the file is that archive."""
    source: str | io.BytesIO = str(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if ZIP_MEMBER in names:
                source = io.BytesIO(zf.read(ZIP_MEMBER))
    return torch.load(source, map_location="cpu", weights_only=True)


def load_raft(path: str | Path) -> RAFTFlow:
    """:class:`RAFTFlow` with the weights of ``raft-things.pth`` at ``path``: every key and shape of the
    princeton-vl layout checked (``num_batches_tracked`` may be absent), then renamed and loaded."""
    path = Path(path)
    model = RAFTFlow()
    try:
        obj = _read_checkpoint(path)
    except Exception as exc:
        raise MvbenchError(
            f"weights {WEIGHTS_NAME!r}: cannot read {path} as a RAFT checkpoint: {load_error_text(exc)}",
            hint=f"use the official raft-things.pth of princeton-vl/RAFT: `mvbench weights fetch {WEIGHTS_NAME}` "
                 f"or `mvbench weights import {WEIGHTS_NAME} PATH`") from None
    state = dict(unwrap_state_dict(obj, str(path), wrappers=("state_dict",)))
    if state and not any(k.startswith(PREFIX) for k in state):
        state = {PREFIX + k: v for k, v in state.items()}  # saved without DataParallel: same layout
    check_state_dict(state, princeton_layout(model), str(path), "RAFT (princeton-vl raft-things)",
                     hint="expected the official raft-things.pth (`mvbench weights list`)",
                     optional_suffixes=("num_batches_tracked",))
    mapped = princeton_to_torchvision(state)
    model.raft.load_state_dict(mapped, strict=False)
    return model.eval()


def build_raft(path: str | Path | None = None, device: str | torch.device = "cpu") -> tuple[RAFTFlow, str]:
    """RAFT from the weights cache (or ``path``) on ``device`` in eval mode, and the file's sha256."""
    from mvbench import weights

    path = Path(path) if path is not None else weights.require(WEIGHTS_NAME)
    model = load_raft(path).to(device)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, weights.file_sha256(path)


def vbench_input(frame: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """One uint8 ``[H, W, 3]`` frame as VBench's dynamic degree makes it: float ``[1, 3, H, W]`` with values
    0..255 (a permuted HWC copy), on ``device``."""
    return torch.from_numpy(frame.astype(np.uint8)).permute(2, 0, 1).float()[None].to(device)


def pair_flows(model: RAFTFlow, frames: np.ndarray, batch: int = 1) -> Iterator[np.ndarray]:
    """Flow ``[2, Hp, Wp]`` (float32 numpy, on the padded grid) of each consecutive pair of ``frames``
    (uint8 ``[N, H, W, 3]``), as VBench's dynamic degree: frames as float 0..255, replicate-padded to
    multiples of 8 ('sintel' split), :data:`VBENCH_ITERS` iterations, final upsampled flow. Lazy, so a
    caller may stop early; ``batch`` pairs per network call (1 as VBench)."""
    from metrics.vbench_motion import input_padding

    n, h, w, _ = frames.shape
    device = next(model.parameters()).device
    pad = input_padding(h, w, 8)
    inputs = [vbench_input(f, device) for f in frames]
    for i in range(0, n - 1, batch):
        j = min(i + batch, n - 1)
        with torch.inference_mode():
            if j - i == 1:  # as VBench: the two padded frames as they are
                img1 = F.pad(inputs[i], pad, mode="replicate")
                img2 = F.pad(inputs[i + 1], pad, mode="replicate")
            else:
                img1 = torch.cat([F.pad(x, pad, mode="replicate") for x in inputs[i:j]])
                img2 = torch.cat([F.pad(x, pad, mode="replicate") for x in inputs[i + 1:j + 1]])
            flow = model(img1, img2).cpu().numpy()
        yield from flow
