"""Inception-I3D (Carreira & Zisserman 2017) Kinetics-400 feature extractor for FVD.

Two ways to get the same kind of features (400 Kinetics logits, the FVD features of Unterthiner
et al. 2019):

* ``i3d-k400``: our own module with the key layout of the PyTorch port used by the
  content-debiased-FVD package and TATS (``i3d_pretrained_400.pt``, converted from the tf-hub
  ``i3d-kinetics-400`` model of the original FVD code): ``Conv3d_1a_7x7.conv3d.weight``,
  ``Conv3d_1a_7x7.bn.{weight,bias,running_mean,running_var}``, ``Mixed_3b.b0 / b1a / b1b / b2a / b2b /
  b3b``, ``logits.conv3d.{weight,bias}``. That file has no ``num_batches_tracked`` entries, so they
  are optional; every other key must match in name and shape.
* ``i3d-torchscript``: StyleGAN-V's ``i3d_torchscript.pt`` through ``torch.jit.load``, called as
  ``detector(x, rescale=False, resize=False, return_features=True)`` on ``[B, 3, T, 224, 224]``
  inputs already in [-1, 1] (the same preprocessing as ours, so no rescale/resize inside).

Protocol (as the cd-FVD package): 16 frames at 224 x 224, values in [-1, 1]; "same" padding
computed from the input size at every conv/pool; the 400 logits are averaged over the remaining
time steps (one for a 16-frame clip). Outputs are not normalised.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mvbench.encoders.base import ClipPreprocess, VideoEncoder
from mvbench.encoders.checkpoint import (
    load_state_dict_strictly,
    load_torch_file,
    load_torchscript_file,
    unwrap_state_dict,
)

I3D_PREPROCESS = ClipPreprocess(num_frames=16, size=224, value_range="symmetric")


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding (front, back) of one axis: total ``max(k - s, 0)`` if ``s | size`` else
    ``max(k - size mod s, 0)``, the smaller half in front."""
    total = max(kernel - stride, 0) if size % stride == 0 else max(kernel - size % stride, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> torch.Tensor:
    t, h, w = x.shape[-3:]
    pt, ph, pw = (_same_padding(s, k, st) for s, k, st in zip((t, h, w), kernel, stride))
    return F.pad(x, (*pw, *ph, *pt))


class Unit3D(nn.Module):
    """TF-"SAME"-padded Conv3d -> BatchNorm3d (eps 1e-5, as the PyTorch port) -> ReLU; the logits
    layer has a bias and neither BN nor ReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernel=(1, 1, 1), stride=(1, 1, 1),
                 batch_norm: bool = True, relu: bool = True, bias: bool = False):
        super().__init__()
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)
        self.relu = relu
        self.conv3d = nn.Conv3d(in_ch, out_ch, self.kernel, self.stride, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(out_ch, eps=1e-5, momentum=0.001) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(_pad_same(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class MaxPool3dSame(nn.Module):
    """Max pooling with TF "SAME" zero padding (as the port; inputs after ReLU are >= 0)."""

    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(_pad_same(x, self.kernel, self.stride), self.kernel, self.stride)


class InceptionBlock(nn.Module):
    """Four branches: 1x1 | 1x1 -> 3x3x3 | 1x1 -> 3x3x3 | max-pool 3x3x3 -> 1x1; concatenated."""

    def __init__(self, in_ch: int, widths: tuple[int, int, int, int, int, int]):
        super().__init__()
        self.b0 = Unit3D(in_ch, widths[0])
        self.b1a = Unit3D(in_ch, widths[1])
        self.b1b = Unit3D(widths[1], widths[2], kernel=(3, 3, 3))
        self.b2a = Unit3D(in_ch, widths[3])
        self.b2b = Unit3D(widths[3], widths[4], kernel=(3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_ch, widths[5])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


#: (name, in_channels, branch widths) of the Inception blocks, in order (Carreira & Zisserman, Fig. 3)
_MIXED = {
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}


class InceptionI3d(nn.Module):
    """Inception-v1 I3D up to the logits; input ``[B, 3, T, 224, 224]`` in [-1, 1], output ``[B, C]``."""

    def __init__(self, num_classes: int = 400):
        super().__init__()
        self.num_classes = num_classes
        stages: list[tuple[str, nn.Module]] = [
            ("Conv3d_1a_7x7", Unit3D(3, 64, kernel=(7, 7, 7), stride=(2, 2, 2))),
            ("MaxPool3d_2a_3x3", MaxPool3dSame((1, 3, 3), (1, 2, 2))),
            ("Conv3d_2b_1x1", Unit3D(64, 64)),
            ("Conv3d_2c_3x3", Unit3D(64, 192, kernel=(3, 3, 3))),
            ("MaxPool3d_3a_3x3", MaxPool3dSame((1, 3, 3), (1, 2, 2))),
        ]
        for name in ("Mixed_3b", "Mixed_3c"):
            stages.append((name, InceptionBlock(*_MIXED[name])))
        stages.append(("MaxPool3d_4a_3x3", MaxPool3dSame((3, 3, 3), (2, 2, 2))))
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            stages.append((name, InceptionBlock(*_MIXED[name])))
        stages.append(("MaxPool3d_5a_2x2", MaxPool3dSame((2, 2, 2), (2, 2, 2))))
        for name in ("Mixed_5b", "Mixed_5c"):
            stages.append((name, InceptionBlock(*_MIXED[name])))
        self.stage_names = [name for name, _ in stages]
        for name, module in stages:
            self.add_module(name, module)
        self.logits = Unit3D(1024, num_classes, batch_norm=False, relu=False, bias=True)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Output of ``Mixed_5c``: ``[B, 1024, T/8, 7, 7]`` for 224 x 224 inputs."""
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = F.avg_pool3d(x, kernel_size=(2, 7, 7), stride=1)  # dropout is the identity at inference
        x = self.logits(x)  # [B, C, T', 1, 1] for 224 x 224 inputs
        return x.mean(dim=(2, 3, 4))  # logits averaged over time (space is 1 x 1)


def autocast_context(device: torch.device, precision: str):
    """bf16 autocast on CUDA when ``precision == "bf16"``; otherwise autocast off (also inside an
    enclosing autocast region) and, on CUDA, TF32 off for convolutions and matrix products (true fp32)."""
    enabled = device.type == "cuda" and precision == "bf16"
    if device.type == "cuda" and not enabled:
        return _StrictFp32()
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=enabled)


class _StrictFp32:
    """Autocast disabled and TF32 off for the duration (restored after)."""

    def __enter__(self):
        self._autocast = torch.autocast("cuda", enabled=False)
        self._autocast.__enter__()
        self._saved = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        return self

    def __exit__(self, *exc):
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = self._saved
        return self._autocast.__exit__(*exc)


class I3DEncoder(VideoEncoder):
    """``i3d-k400``: 400-d Kinetics logits of 16-frame 224 x 224 clips in [-1, 1].

    Runs in true fp32 on CUDA by default (``precision="fp32"``: no autocast, no TF32): the logits are the
    FVD features, whose covariance enters a matrix square root, and the published FVD pipelines
    (StyleGAN-V's TorchScript I3D, cd-fvd) run I3D in fp32; bf16's 8-bit mantissa would add noise of about
    0.4% to every logit and inflate the covariance. I3D is small (~13 M parameters), so fp32 costs little.
    """

    name = "i3d-k400"
    weights_name = "i3d-k400"
    normalized = False
    preprocess = I3D_PREPROCESS
    feature_dim = 400

    def __init__(self, module: nn.Module, weights_sha256: str | None = None,
                 calibrated: bool = True, precision: str = "fp32"):
        self.module = module.eval()
        for param in self.module.parameters():  # (ScriptModules have no requires_grad_())
            param.requires_grad_(False)
        self.weights_sha256 = weights_sha256
        self.calibrated = calibrated
        self.precision = precision

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)

    @torch.no_grad()
    def encode_video(self, clips: torch.Tensor) -> torch.Tensor:
        if clips.ndim != 5 or clips.shape[2] != 3:
            raise ValueError(f"{self.name} expects clips [B, T, 3, H, W], got shape {tuple(clips.shape)}")
        device = self.device
        x = clips.to(device=device, dtype=torch.float32).permute(0, 2, 1, 3, 4).contiguous()
        with autocast_context(device, self.precision):
            out = self._run(x)
        return out.float()

    def describe(self) -> dict:
        info = super().describe()
        info["precision"] = self.precision if self.device.type == "cuda" else "fp32"
        return info


class I3DTorchScriptEncoder(I3DEncoder):
    """``i3d-torchscript``: StyleGAN-V's TorchScript I3D, same protocol and output as ``i3d-k400``."""

    name = "i3d-torchscript"
    weights_name = "i3d-torchscript"

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x, rescale=False, resize=False, return_features=True)


def load_i3d(path: str | Path, num_classes: int = 400) -> InceptionI3d:
    """Build :class:`InceptionI3d` and load ``path`` strictly (``weights_only`` torch.load)."""
    model = InceptionI3d(num_classes)
    obj = load_torch_file(path, "i3d-k400", what="I3D checkpoint", mmap=False)
    load_state_dict_strictly(model, unwrap_state_dict(obj, str(path)), str(path),
                             optional_suffixes=("num_batches_tracked",))
    return model.eval()


def build_i3d_k400(path: str | Path | None = None, precision: str = "fp32") -> I3DEncoder:
    """``i3d-k400`` from the cache (or ``path``), hash recorded for results files."""
    from mvbench import weights

    path = Path(path) if path is not None else weights.require("i3d-k400")
    return I3DEncoder(load_i3d(path), weights.file_sha256(path), precision=precision)


def build_i3d_torchscript(path: str | Path | None = None, precision: str = "fp32") -> I3DTorchScriptEncoder:
    """``i3d-torchscript`` (StyleGAN-V ``i3d_torchscript.pt``) from the cache (or ``path``)."""
    from mvbench import weights

    path = Path(path) if path is not None else weights.require("i3d-torchscript")
    module = load_torchscript_file(path, "i3d-torchscript", what="TorchScript I3D")
    return I3DTorchScriptEncoder(module, weights.file_sha256(path), precision=precision)
