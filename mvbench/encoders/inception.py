"""The FID Inception-v3 (TensorFlow ``inception-2015-12-05`` graph) for FID and Inception Score on frames.

Architecture and key layout: torchvision's ``Inception3`` names (``Conv2d_1a_3x3.conv.weight``,
``Conv2d_1a_3x3.bn.{weight,bias,running_mean,running_var}``, ``Mixed_5b.branch1x1 ...``,
``Mixed_7c.branch_pool``, ``fc.{weight,bias}`` with 1008 classes, no auxiliary classifier), with
the patches of the TF graph that pytorch-fid (``FIDInceptionA/C/E_1/E_2``) and torch-fidelity
(``FeatureExtractorInceptionV3``) both make: the 3x3 average pools of the A, C and first E blocks
ignore padded zeros (``count_include_pad=False``) and the last E block pools with a 3x3 *max*
pool. BatchNorm eps is 0.001. Both published files have this layout:

* ``inception-fid``: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``;
* ``inception-torch-fidelity``: torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth``
  (torchmetrics' FID / IS extractor).

``num_batches_tracked`` buffers are optional (older files lack them); every other key must match.

Outputs (torch-fidelity's names): ``"64"``, ``"192"``, ``"768"`` (global average of the feature
maps after the first and second max pool and after ``Mixed_6e``), ``"2048"`` (pool3, the FID
features), ``"logits_unbiased"`` (pool3 @ fc.weight^T, the Inception Score features of
torchmetrics / torch-fidelity) and ``"logits"`` (with the fc bias).

Input preprocessing (``preprocess``), from uint8 RGB frames ``[N, H, W, 3]``:

* ``"pytorch-fid"``: ``x / 255`` (float32), ``F.interpolate`` to 299 x 299, bilinear,
  ``align_corners=False``, no antialiasing, then ``2 x - 1`` (pytorch-fid ``InceptionV3`` with
  ``resize_input`` and ``normalize_input``);
* ``"torch-fidelity"``: float32 in [0, 255], TensorFlow-1.x bilinear resize to 299 x 299
  (:func:`resize_bilinear_tf1`), then ``(x - 128) / 128`` (torch-fidelity, and torchmetrics before 1.8);
* ``"torchmetrics-antialias"``: as ``"torch-fidelity"`` but ``F.interpolate(..., antialias=True)``
  (torchmetrics >= 1.8's default ``antialias=True``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mvbench.encoders.checkpoint import load_state_dict_strictly, load_torch_file, unwrap_state_dict
from mvbench.errors import MvbenchError

INPUT_SIZE = 299
PREPROCESS_MODES = ("pytorch-fid", "torch-fidelity", "torchmetrics-antialias")
FEATURES = ("64", "192", "768", "2048", "logits_unbiased", "logits")
#: frames per forward call (fixed: features never depend on ``--batch-size``)
CHUNK = 8


class BasicConv2d(nn.Module):
    """Conv (no bias) -> BatchNorm (eps 0.001) -> ReLU."""

    def __init__(self, cin: int, cout: int, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool_tf(x: torch.Tensor) -> torch.Tensor:
    """3x3 stride-1 average pool that, like TensorFlow's, ignores the padded zeros."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch1x1(x)
        b = self.branch5x5_2(self.branch5x5_1(x))
        c = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        d = self.branch_pool(_avg_pool_tf(x))
        return torch.cat([a, b, c, d], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch3x3(x)
        b = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([a, b, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch1x1(x)
        b = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        c = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            c = layer(c)
        d = self.branch_pool(_avg_pool_tf(x))
        return torch.cat([a, b, c, d], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch3x3_2(self.branch3x3_1(x))
        b = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([a, b, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    """``max_pool`` False: first E block (TF average pool); True: last E block (max pool in the FID graph)."""

    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch1x1(x)
        b = self.branch3x3_1(x)
        b = torch.cat([self.branch3x3_2a(b), self.branch3x3_2b(b)], 1)
        c = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        c = torch.cat([self.branch3x3dbl_3a(c), self.branch3x3dbl_3b(c)], 1)
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else _avg_pool_tf(x)
        return torch.cat([a, b, c, self.branch_pool(pooled)], 1)


def _gap(x: torch.Tensor) -> torch.Tensor:
    return x.mean(dim=(2, 3))


class FIDInceptionV3(nn.Module):
    """The FID Inception-v3 (module doc); :meth:`forward` returns the requested outputs by name."""

    def __init__(self, num_classes: int = 1008):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, max_pool=False)
        self.Mixed_7c = InceptionE(2048, max_pool=True)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x: torch.Tensor, outputs: Iterable[str] = ("2048",)) -> dict[str, torch.Tensor]:
        """``x``: ``[N, 3, 299, 299]`` already normalised; returns ``{name: [N, d]}`` for ``outputs``."""
        want = set(outputs)
        unknown = want - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown Inception outputs {sorted(unknown)}; choose from {FEATURES}")
        out: dict[str, torch.Tensor] = {}
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        if "64" in want:
            out["64"] = _gap(x)
        if not want - out.keys():
            return out
        x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), kernel_size=3, stride=2)
        if "192" in want:
            out["192"] = _gap(x)
        if not want - out.keys():
            return out
        for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
            x = getattr(self, name)(x)
        if "768" in want:
            out["768"] = _gap(x)
        if not want - out.keys():
            return out
        x = _gap(self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x))))
        out["2048"] = x
        unbiased = x @ self.fc.weight.T
        out["logits_unbiased"] = unbiased
        out["logits"] = unbiased + self.fc.bias
        return {k: v for k, v in out.items() if k in want}


def resize_bilinear_tf1(x: torch.Tensor, size: int) -> torch.Tensor:
    """TensorFlow 1.x ``resize_bilinear`` (``align_corners=False``, no half-pixel centres) of float
    ``[N, C, H, W]`` to ``size`` x ``size``: output pixel ``j`` samples source coordinate
    ``j * in / size`` (float32), between source pixels ``floor`` and ``min(floor + 1, in - 1)``;
    interpolated along x, then y (torch-fidelity's ``interpolate_bilinear_2d_like_tensorflow1x``).

    >>> resize_bilinear_tf1(torch.tensor([[[[0.0, 4.0]]]]), 4)[0, 0, 0].tolist()
    [0.0, 2.0, 4.0, 4.0]
    """
    def axis(n_in: int):
        pos = torch.arange(size, dtype=x.dtype, device=x.device) * torch.tensor(n_in / size, dtype=torch.float32)
        lo = pos.long()
        hi = (lo + 1).clamp_max(n_in - 1)
        return lo, hi, pos - lo.to(pos.dtype)

    ylo, yhi, dy = axis(x.shape[2])
    xlo, xhi, dx = axis(x.shape[3])
    top, bottom = x[:, :, ylo, :], x[:, :, yhi, :]
    row0 = top[:, :, :, xlo] + (top[:, :, :, xhi] - top[:, :, :, xlo]) * dx.view(1, 1, 1, -1)
    row1 = bottom[:, :, :, xlo] + (bottom[:, :, :, xhi] - bottom[:, :, :, xlo]) * dx.view(1, 1, 1, -1)
    return row0 + (row1 - row0) * dy.view(1, 1, -1, 1)


def preprocess_frames(frames: torch.Tensor, mode: str) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` -> float32 ``[N, 3, 299, 299]`` network input (module doc)."""
    if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames [N, H, W, 3], got {frames.dtype} {tuple(frames.shape)}")
    x = frames.permute(0, 3, 1, 2).to(torch.float32)
    if mode == "pytorch-fid":
        x = F.interpolate(x / 255.0, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        return 2 * x - 1
    if mode == "torch-fidelity":
        return (resize_bilinear_tf1(x, INPUT_SIZE) - 128) / 128
    if mode == "torchmetrics-antialias":
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False, antialias=True)
        return (x - 128) / 128
    raise ValueError(f"unknown Inception preprocessing {mode!r}; choose from {PREPROCESS_MODES}")


class InceptionExtractor:
    """A loaded :class:`FIDInceptionV3` with its preprocessing; :meth:`extract` maps frames to features."""

    def __init__(self, module: FIDInceptionV3, preprocess: str, weights_name: str | None,
                 weights_sha256: str | None, device: str | torch.device = "cpu"):
        if preprocess not in PREPROCESS_MODES:
            raise MvbenchError(f"unknown Inception preprocessing {preprocess!r}; choose from {PREPROCESS_MODES}")
        self.module = module.eval().requires_grad_(False).to(device)
        self.preprocess = preprocess
        self.weights_name = weights_name
        self.weights_sha256 = weights_sha256

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def describe(self) -> dict:
        return {"network": "FIDInceptionV3", "weights": self.weights_name, "weights_sha256": self.weights_sha256,
                "preprocess": self.preprocess, "input_size": INPUT_SIZE, "precision": "fp32"}

    @torch.no_grad()
    def extract(self, frames, outputs: Iterable[str]) -> dict[str, np.ndarray]:
        """float32 ``{name: [N, d]}`` of uint8 frames ``[N, H, W, 3]`` (numpy or tensor), fp32, in chunks
        of :data:`CHUNK` frames: the same frames in the same order always give the same numbers."""
        frames = torch.as_tensor(np.ascontiguousarray(frames))
        outputs = tuple(outputs)
        parts: dict[str, list[np.ndarray]] = {k: [] for k in outputs}
        for start in range(0, frames.shape[0], CHUNK):
            x = preprocess_frames(frames[start:start + CHUNK], self.preprocess).to(self.device)
            got = self.module(x, outputs)
            for k in outputs:
                parts[k].append(got[k].float().cpu().numpy())
        dims = {"64": 64, "192": 192, "768": 768, "2048": 2048}
        return {k: (np.concatenate(v) if v else np.zeros((0, dims.get(k, self.module.fc.out_features)), np.float32))
                for k, v in parts.items()}


def load_inception(path: str | Path, weights_name: str | None = None) -> FIDInceptionV3:
    """:class:`FIDInceptionV3` with ``path`` loaded strictly (``torch.load(weights_only=True)``)."""
    fetch = f"`mvbench weights fetch {weights_name}`" if weights_name else "the official file"
    obj = load_torch_file(path, weights_name, what="FID Inception-v3 checkpoint")
    model = FIDInceptionV3()
    load_state_dict_strictly(model, unwrap_state_dict(obj, str(path)), str(path),
                             optional_suffixes=("num_batches_tracked",),
                             hint=f"expected the FID Inception-v3 state dict (pytorch-fid / torch-fidelity layout); "
                                  f"get it with {fetch}")
    return model.eval()


#: the preprocessing each published weight file is used with by its own tool
DEFAULT_PREPROCESS = {"inception-fid": "pytorch-fid", "inception-torch-fidelity": "torch-fidelity"}


def build_inception(weights_name: str = "inception-fid", preprocess: str | None = None, *,
                    path: str | Path | None = None, device: str | torch.device = "cpu") -> InceptionExtractor:
    """The extractor of weights entry ``weights_name`` (file from the mvbench cache, or ``path``)."""
    from mvbench import weights

    file = Path(path) if path is not None else weights.require(weights_name)
    module = load_inception(file, weights_name)
    mode = preprocess or DEFAULT_PREPROCESS.get(weights_name, "pytorch-fid")
    return InceptionExtractor(module, mode, weights_name, weights.file_sha256(file), device)
