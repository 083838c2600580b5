"""AMT-S frame interpolation network (Li et al., "AMT: All-Pairs Multi-Field Transforms for Efficient
Frame Interpolation", CVPR 2023), as VBench's motion smoothness loads it: ``networks.AMT-S.Model``
with ``corr_radius 3, corr_lvls 4, num_flows 3`` (``AMT-S.yaml``) and the weights of ``amt-s.pth``
(a dict whose ``'state_dict'`` holds the parameters; VBench loads it strictly).

The module tree reproduces the checkpoint's key layout exactly: ``feat_encoder`` (RAFT-style small
encoder, instance norm, 84 output channels), ``encoder.pyramid1..4`` (conv + PReLU pairs, channels
20/32/44/56), ``decoder4`` (initial decoder), ``decoder3``/``decoder2`` (intermediate decoders),
``decoder1`` (multi-flow decoder, 3 flows), ``update4/3/2`` (small update blocks, hidden 76) and
``comb_block``. Input: two frames ``[B, 3, H, W]`` in [0, 1] (``H`` and ``W`` multiples of 16) and the
time step ``embt`` ``[B, 1, 1, 1]``; output: the predicted intermediate frame in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mvbench.encoders.checkpoint import load_state_dict_strictly, load_torch_file, unwrap_state_dict

WEIGHTS_NAME = "amt-s"


# ----------------------------------------------------------------------------- helpers
def resize(x: torch.Tensor, scale_factor: float) -> torch.Tensor:
    """Bilinear resize by a factor (``align_corners=False``), as AMT's ``resize``."""
    return F.interpolate(x, scale_factor=scale_factor, mode="bilinear", align_corners=False)


def warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward-warp ``img`` by ``flow`` (pixels): sample ``img`` at ``p + flow(p)`` with bilinear
    interpolation, border padding and ``align_corners=True`` (AMT ``utils.flow_utils.warp``)."""
    b, _, h, w = flow.shape
    xx = torch.linspace(-1.0, 1.0, w).view(1, 1, 1, w).expand(b, -1, h, -1)
    yy = torch.linspace(-1.0, 1.0, h).view(1, 1, h, 1).expand(b, -1, -1, w)
    grid = torch.cat([xx, yy], 1).to(img)
    flow_n = torch.cat([flow[:, 0:1] / ((w - 1.0) / 2.0), flow[:, 1:2] / ((h - 1.0) / 2.0)], 1)
    return F.grid_sample(img, (grid + flow_n).permute(0, 2, 3, 1), mode="bilinear", padding_mode="border",
                         align_corners=True)


def coords_grid(batch: int, height: int, width: int, device) -> torch.Tensor:
    """Pixel coordinates ``[B, 2, H, W]`` (x first)."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device), torch.arange(width, device=device), indexing="ij")
    return torch.stack([xs, ys], dim=0).float()[None].repeat(batch, 1, 1, 1)


def bilinear_sampler(img: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """``grid_sample`` with pixel coordinates ``[..., 2]`` (x, y), zero padding, ``align_corners=True``."""
    h, w = img.shape[-2:]
    xgrid, ygrid = coords.split([1, 1], dim=-1)
    grid = torch.cat([2 * xgrid / (w - 1) - 1, 2 * ygrid / (h - 1) - 1], dim=-1)
    return F.grid_sample(img, grid, align_corners=True)


def convrelu(cin: int, cout: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> nn.Sequential:
    """Conv (with bias) followed by a per-channel PReLU; keys ``0.weight, 0.bias, 1.weight``."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, padding, bias=True), nn.PReLU(cout))


# ----------------------------------------------------------------------------- feature encoder
class BottleneckBlock(nn.Module):
    """1x1 -> 3x3 (stride) -> 1x1 convs at a quarter width, instance norm and ReLU after each, a
    strided 1x1 projection of the input when downsampling, ReLU of the sum."""

    def __init__(self, cin: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes // 4, kernel_size=1, padding=0)
        self.conv2 = nn.Conv2d(planes // 4, planes // 4, kernel_size=3, padding=1, stride=stride)
        self.conv3 = nn.Conv2d(planes // 4, planes, kernel_size=1, padding=0)
        self.relu = nn.ReLU(inplace=True)
        self.norm1 = nn.InstanceNorm2d(planes // 4)
        self.norm2 = nn.InstanceNorm2d(planes // 4)
        self.norm3 = nn.InstanceNorm2d(planes)
        self.downsample: nn.Module | None = None
        if stride != 1:
            self.norm4 = nn.InstanceNorm2d(planes)
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, kernel_size=1, stride=stride), self.norm4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.norm1(self.conv1(x)))
        y = self.relu(self.norm2(self.conv2(y)))
        y = self.relu(self.norm3(self.conv3(y)))
        if self.downsample is not None:
            x = self.downsample(x)
        return self.relu(x + y)


class SmallEncoder(nn.Module):
    """Stride-8 feature encoder: 7x7/2 conv (32), bottleneck stages 32, 64 (/2), 96 (/2), 1x1 conv out."""

    def __init__(self, output_dim: int = 84):
        super().__init__()
        self.norm1 = nn.InstanceNorm2d(32)
        self.conv1 = nn.Conv2d(3, 32, kernel_size=7, stride=2, padding=3)
        self.relu1 = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(BottleneckBlock(32, 32, 1), BottleneckBlock(32, 32, 1))
        self.layer2 = nn.Sequential(BottleneckBlock(32, 64, 2), BottleneckBlock(64, 64, 1))
        self.layer3 = nn.Sequential(BottleneckBlock(64, 96, 2), BottleneckBlock(96, 96, 1))
        self.conv2 = nn.Conv2d(96, output_dim, kernel_size=1)

    def forward(self, images: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """Both frames in one batch (instance norm is per sample); returns one map per frame."""
        b = images[0].shape[0]
        x = self.relu1(self.norm1(self.conv1(torch.cat(images, dim=0))))
        x = self.conv2(self.layer3(self.layer2(self.layer1(x))))
        return torch.split(x, [b, b], dim=0)


# ----------------------------------------------------------------------------- correlation and update
class BidirCorrBlock:
    """All-pairs correlation of two feature maps (``f0 . f1 / sqrt(C)``), pooled ``num_levels`` times in
    both directions, looked up in a ``(2r+1)^2`` window around given coordinates at every level."""

    def __init__(self, fmap0: torch.Tensor, fmap1: torch.Tensor, num_levels: int = 4, radius: int = 4):
        self.num_levels = num_levels
        self.radius = radius
        b, dim, h, w = fmap0.shape
        corr = torch.matmul(fmap0.view(b, dim, h * w).transpose(1, 2), fmap1.view(b, dim, h * w))
        corr = corr.view(b, h, w, 1, h, w) / torch.sqrt(torch.tensor(dim).float())
        corr_t = corr.clone().permute(0, 4, 5, 3, 1, 2)
        corr = corr.reshape(b * h * w, 1, h, w)
        corr_t = corr_t.reshape(b * h * w, 1, h, w)
        self.pyramid = [corr]
        self.pyramid_t = [corr_t]
        for _ in range(num_levels - 1):
            corr = F.avg_pool2d(corr, 2, stride=2)
            corr_t = F.avg_pool2d(corr_t, 2, stride=2)
            self.pyramid.append(corr)
            self.pyramid_t.append(corr_t)

    def __call__(self, coords0: torch.Tensor, coords1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r = self.radius
        coords0 = coords0.permute(0, 2, 3, 1)
        coords1 = coords1.permute(0, 2, 3, 1)
        b, h, w, _ = coords0.shape
        out, out_t = [], []
        for i in range(self.num_levels):
            dx = torch.linspace(-r, r, 2 * r + 1, device=coords0.device)
            dy = torch.linspace(-r, r, 2 * r + 1, device=coords0.device)
            delta = torch.stack(torch.meshgrid(dy, dx, indexing="ij"), dim=-1).view(1, 2 * r + 1, 2 * r + 1, 2)
            lvl0 = coords0.reshape(b * h * w, 1, 1, 2) / 2**i + delta
            lvl1 = coords1.reshape(b * h * w, 1, 1, 2) / 2**i + delta
            out.append(bilinear_sampler(self.pyramid[i], lvl0).view(b, h, w, -1))
            out_t.append(bilinear_sampler(self.pyramid_t[i], lvl1).view(b, h, w, -1))
        return (torch.cat(out, dim=-1).permute(0, 3, 1, 2).contiguous().float(),
                torch.cat(out_t, dim=-1).permute(0, 3, 1, 2).contiguous().float())


class SmallUpdateBlock(nn.Module):
    """Residual update of a decoder's features and its two flows from the bidirectional correlation
    features, working at 1/8 resolution (inputs at 1/4 or 1/2 are resized by ``1/scale_factor``)."""

    def __init__(self, cdim: int, hidden_dim: int = 76, flow_dim: int = 20, corr_dim: int = 64, fc_dim: int = 68,
                 corr_levels: int = 4, radius: int = 3, scale_factor: int | None = None):
        super().__init__()
        cor_planes = corr_levels * (2 * radius + 1) ** 2
        self.scale_factor = scale_factor
        self.convc1 = nn.Conv2d(2 * cor_planes, corr_dim, 1, padding=0)
        self.convf1 = nn.Conv2d(4, flow_dim * 2, 7, padding=3)
        self.convf2 = nn.Conv2d(flow_dim * 2, flow_dim, 3, padding=1)
        self.conv = nn.Conv2d(corr_dim + flow_dim, fc_dim, 3, padding=1)
        self.gru = nn.Sequential(nn.Conv2d(fc_dim + 4 + cdim, hidden_dim, 3, padding=1),
                                 nn.LeakyReLU(negative_slope=0.1, inplace=True),
                                 nn.Conv2d(hidden_dim, hidden_dim, 3, padding=1))
        self.feat_head = nn.Sequential(nn.Conv2d(hidden_dim, hidden_dim, 3, padding=1),
                                       nn.LeakyReLU(negative_slope=0.1, inplace=True),
                                       nn.Conv2d(hidden_dim, cdim, 3, padding=1))
        self.flow_head = nn.Sequential(nn.Conv2d(hidden_dim, hidden_dim, 3, padding=1),
                                       nn.LeakyReLU(negative_slope=0.1, inplace=True),
                                       nn.Conv2d(hidden_dim, 4, 3, padding=1))
        self.lrelu = nn.LeakyReLU(negative_slope=0.1, inplace=True)

    def forward(self, net: torch.Tensor, flow: torch.Tensor, corr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.scale_factor is not None:
            net = resize(net, 1 / self.scale_factor)
        cor = self.lrelu(self.convc1(corr))
        flo = self.lrelu(self.convf2(self.lrelu(self.convf1(flow))))
        inp = self.lrelu(self.conv(torch.cat([cor, flo], dim=1)))
        out = self.gru(torch.cat([inp, flow, net], dim=1))
        delta_net = self.feat_head(out)
        delta_flow = self.flow_head(out)
        if self.scale_factor is not None:
            delta_net = resize(delta_net, scale_factor=self.scale_factor)
            delta_flow = self.scale_factor * resize(delta_flow, scale_factor=self.scale_factor)
        return delta_net, delta_flow


# ----------------------------------------------------------------------------- IFRNet-style decoders
class ResBlock(nn.Module):
    """3x3 conv residual block whose last ``side`` channels get their own convs in between."""

    def __init__(self, channels: int, side: int):
        super().__init__()
        self.side_channels = side
        self.conv1 = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), nn.PReLU(channels))
        self.conv2 = nn.Sequential(nn.Conv2d(side, side, 3, 1, 1), nn.PReLU(side))
        self.conv3 = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), nn.PReLU(channels))
        self.conv4 = nn.Sequential(nn.Conv2d(side, side, 3, 1, 1), nn.PReLU(side))
        self.conv5 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.prelu = nn.PReLU(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.side_channels
        out = self.conv1(x)
        out = self.conv3(torch.cat([out[:, :-s], self.conv2(out[:, -s:])], 1))
        out = self.conv5(torch.cat([out[:, :-s], self.conv4(out[:, -s:])], 1))
        return self.prelu(x + out)


class Encoder(nn.Module):
    """Image pyramid ``pyramid1..4``: each a stride-2 3x3 conv + PReLU and a 3x3 conv + PReLU."""

    def __init__(self, channels: list[int]):
        super().__init__()
        self.channels = channels
        prev = 3
        for idx, ch in enumerate(channels, 1):
            self.register_module(f"pyramid{idx}", nn.Sequential(convrelu(prev, ch, 3, 2, 1), convrelu(ch, ch, 3, 1, 1)))
            prev = ch

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for idx in range(len(self.channels)):
            x = getattr(self, f"pyramid{idx + 1}")(x)
            feats.append(x)
        return feats


class InitDecoder(nn.Module):
    """Coarsest decoder: both frames' features and the time step -> two flows and features, x2 up."""

    def __init__(self, cin: int, cout: int, skip: int):
        super().__init__()
        self.convblock = nn.Sequential(convrelu(cin * 2 + 1, cin * 2), ResBlock(cin * 2, skip),
                                       nn.ConvTranspose2d(cin * 2, cout + 4, 4, 2, 1, bias=True))

    def forward(self, f0, f1, embt):
        h, w = f0.shape[2:]
        out = self.convblock(torch.cat([f0, f1, embt.repeat(1, 1, h, w)], 1))
        flow0, flow1 = torch.chunk(out[:, :4], 2, 1)
        return flow0, flow1, out[:, 4:]


class IntermediateDecoder(nn.Module):
    """Decoder level: features warped by the current flows -> flow residuals and features, x2 up."""

    def __init__(self, cin: int, cout: int, skip: int):
        super().__init__()
        self.convblock = nn.Sequential(convrelu(cin * 3 + 4, cin * 3), ResBlock(cin * 3, skip),
                                       nn.ConvTranspose2d(cin * 3, cout + 4, 4, 2, 1, bias=True))

    def forward(self, ft, f0, f1, flow0_in, flow1_in):
        out = self.convblock(torch.cat([ft, warp(f0, flow0_in), warp(f1, flow1_in), flow0_in, flow1_in], 1))
        flow0, flow1 = torch.chunk(out[:, :4], 2, 1)
        flow0 = flow0 + 2.0 * resize(flow0_in, scale_factor=2.0)
        flow1 = flow1 + 2.0 * resize(flow1_in, scale_factor=2.0)
        return flow0, flow1, out[:, 4:]


class MultiFlowDecoder(nn.Module):
    """Finest decoder: ``num_flows`` flow pairs, blending masks and image residuals at full resolution."""

    def __init__(self, cin: int, skip: int, num_flows: int = 3):
        super().__init__()
        self.num_flows = num_flows
        self.convblock = nn.Sequential(convrelu(cin * 3 + 4, cin * 3), ResBlock(cin * 3, skip),
                                       nn.ConvTranspose2d(cin * 3, 8 * num_flows, 4, 2, 1, bias=True))

    def forward(self, ft, f0, f1, flow0, flow1):
        n = self.num_flows
        out = self.convblock(torch.cat([ft, warp(f0, flow0), warp(f1, flow1), flow0, flow1], 1))
        delta0, delta1, mask, img_res = torch.split(out, [2 * n, 2 * n, n, 3 * n], 1)
        flow0 = delta0 + 2.0 * resize(flow0, scale_factor=2.0).repeat(1, n, 1, 1)
        flow1 = delta1 + 2.0 * resize(flow1, scale_factor=2.0).repeat(1, n, 1, 1)
        return flow0, flow1, torch.sigmoid(mask), img_res


def multi_flow_combine(comb_block: nn.Module, img0, img1, flow0, flow1, mask, img_res, mean):
    """Warp both frames by each of the ``n`` flow pairs, blend with the masks, add the residuals and the
    mean back, average the ``n`` candidates and add the learned combination of them."""
    b, c, h, w = flow0.shape
    n = c // 2
    flow0 = flow0.reshape(b, n, 2, h, w).reshape(-1, 2, h, w)
    flow1 = flow1.reshape(b, n, 2, h, w).reshape(-1, 2, h, w)
    mask = mask.reshape(b, n, 1, h, w).reshape(-1, 1, h, w)
    img_res = img_res.reshape(b, n, 3, h, w).reshape(-1, 3, h, w)
    img0 = torch.stack([img0] * n, 1).reshape(-1, 3, h, w)
    img1 = torch.stack([img1] * n, 1).reshape(-1, 3, h, w)
    mean = torch.stack([mean] * n, 1).reshape(-1, 1, 1, 1)
    warps = mask * warp(img0, flow0) + (1 - mask) * warp(img1, flow1) + mean + img_res
    warps = warps.reshape(b, n, 3, h, w)
    return warps.mean(1) + comb_block(warps.view(b, -1, h, w))


# ----------------------------------------------------------------------------- the model
class AMTS(nn.Module):
    """AMT-S (``networks/AMT-S.py`` ``Model`` with VBench's ``AMT-S.yaml`` parameters)."""

    def __init__(self, corr_radius: int = 3, corr_lvls: int = 4, num_flows: int = 3,
                 channels: tuple[int, ...] = (20, 32, 44, 56), skip_channels: int = 20):
        super().__init__()
        self.radius = corr_radius
        self.corr_levels = corr_lvls
        self.num_flows = num_flows
        ch = list(channels)
        self.feat_encoder = SmallEncoder(output_dim=84)
        self.encoder = Encoder(ch)
        self.decoder4 = InitDecoder(ch[3], ch[2], skip_channels)
        self.decoder3 = IntermediateDecoder(ch[2], ch[1], skip_channels)
        self.decoder2 = IntermediateDecoder(ch[1], ch[0], skip_channels)
        self.decoder1 = MultiFlowDecoder(ch[0], skip_channels, num_flows)
        self.update4 = self._update_block(44)
        self.update3 = self._update_block(32, 2)
        self.update2 = self._update_block(20, 4)
        self.comb_block = nn.Sequential(nn.Conv2d(3 * num_flows, 6 * num_flows, 3, 1, 1), nn.PReLU(6 * num_flows),
                                        nn.Conv2d(6 * num_flows, 3, 3, 1, 1))

    def _update_block(self, cdim: int, scale_factor: int | None = None) -> SmallUpdateBlock:
        return SmallUpdateBlock(cdim=cdim, hidden_dim=76, flow_dim=20, corr_dim=64, fc_dim=68,
                                scale_factor=scale_factor, corr_levels=self.corr_levels, radius=self.radius)

    @staticmethod
    def _lookup(corr_fn, coord, flow0, flow1, embt, downsample: int = 1):
        """Correlation features at the points the two flows (rescaled from t to the far frame) reach."""
        t1_scale = 1.0 / embt
        t0_scale = 1.0 / (1.0 - embt)
        if downsample != 1:
            inv = 1 / downsample
            flow0 = inv * resize(flow0, scale_factor=inv)
            flow1 = inv * resize(flow1, scale_factor=inv)
        corr0, corr1 = corr_fn(coord + flow1 * t1_scale, coord + flow0 * t0_scale)
        return torch.cat([corr0, corr1], dim=1), torch.cat([flow0, flow1], dim=1)

    def _refine(self, update, corr_fn, coord, flow0, flow1, ft, embt, downsample):
        corr, flow = self._lookup(corr_fn, coord, flow0, flow1, embt, downsample)
        delta_ft, delta_flow = update(ft, flow, corr)
        delta0, delta1 = torch.chunk(delta_flow, 2, 1)
        return flow0 + delta0, flow1 + delta1, ft + delta_ft

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, embt: torch.Tensor,
                scale_factor: float = 1.0) -> torch.Tensor:
        """The frame at time ``embt`` between ``img0`` and ``img1`` (``[B, 3, H, W]`` in [0, 1]), clamped to [0, 1]."""
        mean = torch.cat([img0, img1], 2).mean(1, keepdim=True).mean(2, keepdim=True).mean(3, keepdim=True)
        img0 = img0 - mean
        img1 = img1 - mean
        img0_ = resize(img0, scale_factor) if scale_factor != 1.0 else img0
        img1_ = resize(img1, scale_factor) if scale_factor != 1.0 else img1
        b, _, h, w = img0_.shape
        coord = coords_grid(b, h // 8, w // 8, img0.device)
        fmap0, fmap1 = self.feat_encoder([img0_, img1_])
        corr_fn = BidirCorrBlock(fmap0, fmap1, radius=self.radius, num_levels=self.corr_levels)
        f0_1, f0_2, f0_3, f0_4 = self.encoder(img0_)
        f1_1, f1_2, f1_3, f1_4 = self.encoder(img1_)

        flow0, flow1, ft = self.decoder4(f0_4, f1_4, embt)
        flow0, flow1, ft = self._refine(self.update4, corr_fn, coord, flow0, flow1, ft, embt, 1)
        flow0, flow1, ft = self.decoder3(ft, f0_3, f1_3, flow0, flow1)
        flow0, flow1, ft = self._refine(self.update3, corr_fn, coord, flow0, flow1, ft, embt, 2)
        flow0, flow1, ft = self.decoder2(ft, f0_2, f1_2, flow0, flow1)
        flow0, flow1, ft = self._refine(self.update2, corr_fn, coord, flow0, flow1, ft, embt, 4)
        flow0, flow1, mask, img_res = self.decoder1(ft, f0_1, f1_1, flow0, flow1)
        if scale_factor != 1.0:
            flow0 = resize(flow0, scale_factor=(1.0 / scale_factor)) * (1.0 / scale_factor)
            flow1 = resize(flow1, scale_factor=(1.0 / scale_factor)) * (1.0 / scale_factor)
            mask = resize(mask, scale_factor=(1.0 / scale_factor))
            img_res = resize(img_res, scale_factor=(1.0 / scale_factor))
        pred = multi_flow_combine(self.comb_block, img0, img1, flow0, flow1, mask, img_res, mean)
        return torch.clamp(pred, 0, 1)


# ----------------------------------------------------------------------------- loading
def load_amt_s(path: str | Path) -> AMTS:
    """:class:`AMTS` with the weights of ``path`` (``amt-s.pth``; ``weights_only`` load, ``'state_dict'``
    unwrapped, every key and shape checked)."""
    model = AMTS()
    obj = load_torch_file(path, WEIGHTS_NAME, what="AMT-S checkpoint")
    state = unwrap_state_dict(obj, str(path), wrappers=("state_dict",))
    load_state_dict_strictly(model, state, str(path),
                             hint=f"expected the official amt-s.pth (`mvbench weights fetch {WEIGHTS_NAME}`)")
    return model.eval()


def build_amt_s(path: str | Path | None = None, device: str | torch.device = "cpu") -> tuple[AMTS, str]:
    """The AMT-S model of the weights cache (or ``path``) on ``device`` in eval mode, and the file's sha256."""
    from mvbench import weights

    path = Path(path) if path is not None else weights.require(WEIGHTS_NAME)
    model = load_amt_s(path).to(device)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, weights.file_sha256(path)


def vbench_input(frame: np.ndarray) -> torch.Tensor:
    """One uint8 ``[H, W, 3]`` frame as VBench's ``img2tensor`` makes it: ``[1, 3, H, W]`` float ``x / 255``
    with the strides of a permuted HWC copy. The memory layout matters: it decides whether AMT-S's
    convolutions run channels-last or contiguous, which changes the last bits of the output and so,
    after truncation to uint8, a few pixel values."""
    return torch.tensor(frame).permute(2, 0, 1).unsqueeze(0) / 255.0


def interpolate_midframes(model: AMTS, frames: np.ndarray, scale: float = 1.0, batch: int = 1) -> np.ndarray:
    """The frame halfway between each consecutive pair of ``frames`` (uint8 ``[N, H, W, 3]``), as VBench's
    motion smoothness runs AMT-S: frames to float ``x / 255`` (:func:`vbench_input`), replicate-padded to
    multiples of ``int(16 / scale)``, ``embt = 0.5``, prediction un-padded and truncated to uint8. Returns
    uint8 ``[N - 1, H, W, 3]``. ``batch`` pairs go through the network at once (1 as VBench; more
    concatenates inputs, which may change the last bits)."""
    from metrics.vbench_motion import MS_EMBT, amt_padding_divisor, frames_to_uint8, input_padding

    n, h, w, _ = frames.shape
    device = next(model.parameters()).device
    left, right, top, bottom = input_padding(h, w, amt_padding_divisor(scale))
    inputs = [F.pad(vbench_input(f).to(device), (left, right, top, bottom), mode="replicate") for f in frames]
    out = []
    with torch.inference_mode():
        for i in range(0, n - 1, batch):
            j = min(i + batch, n - 1)
            x0 = inputs[i] if j - i == 1 else torch.cat(inputs[i:j])
            x1 = inputs[i + 1] if j - i == 1 else torch.cat(inputs[i + 1:j + 1])
            embt = torch.tensor(MS_EMBT).float().view(1, 1, 1, 1).to(device)
            if j - i > 1:
                embt = embt.expand(j - i, 1, 1, 1)
            pred = model(x0, x1, embt, scale_factor=scale)
            pred = pred.cpu()[..., top:top + h, left:left + w]
            out.append(frames_to_uint8(pred.permute(0, 2, 3, 1).numpy()))
    return np.concatenate(out)
