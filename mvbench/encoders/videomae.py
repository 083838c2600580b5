"""VideoMAE-v2 ViT-g/14 feature extractor for content-debiased FVD (Ge et al., CVPR 2024).

Architecture of the VideoMAE-v2 fine-tuned ViT-giant (Wang et al., CVPR 2023) in the key layout of
``vit_g_hybrid_pt_1200e_ssv2_ft.pth`` (weights under ``module`` or ``model``, or a plain dict):

* ``patch_embed.proj``: Conv3d 3 -> 1408, kernel = stride = (tubelet 2, 14, 14); a 16 x 224 x 224
  clip gives 8 x 16 x 16 = 2048 tokens;
* fixed sine-cosine position table (not in the checkpoint): for position ``p`` and channel ``j``,
  ``angle = p / 10000^(2 floor(j/2) / D)``, ``sin`` on even ``j``, ``cos`` on odd ``j``;
* 40 pre-norm blocks ``blocks.N.{norm1, attn.qkv (no bias), attn.q_bias, attn.v_bias, attn.proj,
  norm2, mlp.fc1, mlp.fc2}``, 16 heads of 88 channels, MLP 6144 (ratio 48/11), exact GELU,
  LayerNorm eps 1e-6; the qkv bias is ``[q_bias, 0, v_bias]``;
* ``fc_norm`` (LayerNorm) of the mean over all tokens: the 1408-d feature; ``head`` (174 SSv2
  classes) is loaded but unused.

cd-FVD preprocessing: 16 frames resized to 224 x 224, values in [0, 1], no mean/std normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mvbench.encoders.base import ClipPreprocess
from mvbench.encoders.checkpoint import load_state_dict_strictly, load_torch_file, unwrap_state_dict
from mvbench.encoders.i3d import I3DEncoder

VIDEOMAE_PREPROCESS = ClipPreprocess(num_frames=16, size=224, value_range="unit")


@dataclass(frozen=True)
class ViTConfig:
    """Shape of a VideoMAE-v2 ViT (defaults: ViT-g/14 fine-tuned on SSv2)."""

    img_size: int = 224
    patch_size: int = 14
    num_frames: int = 16
    tubelet_size: int = 2
    embed_dim: int = 1408
    depth: int = 40
    num_heads: int = 16
    mlp_hidden: int = 6144  # int(1408 * 48 / 11)
    num_classes: int = 174

    @property
    def grid(self) -> tuple[int, int, int]:
        return self.num_frames // self.tubelet_size, self.img_size // self.patch_size, self.img_size // self.patch_size


def sinusoid_table(num_positions: int, dim: int) -> torch.Tensor:
    """``[num_positions, dim]`` table: ``p / 10000^(2 floor(j/2) / dim)``, sin on even, cos on odd ``j``.

    Built with numpy in float64 on the CPU (also when a ``torch.device("meta")`` context is active)."""
    angle = np.arange(num_positions)[:, None] / np.power(10000.0, 2.0 * (np.arange(dim) // 2) / dim)[None, :]
    angle[:, 0::2] = np.sin(angle[:, 0::2])
    angle[:, 1::2] = np.cos(angle[:, 1::2])
    return torch.from_numpy(angle.astype(np.float32))


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias).view(b, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each [B, heads, N, head_dim]
        out = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(head_dim)) v
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``."""

    def __init__(self, dim: int, num_heads: int, mlp_hidden: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp_hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        kernel = (cfg.tubelet_size, cfg.patch_size, cfg.patch_size)
        self.proj = nn.Conv3d(3, cfg.embed_dim, kernel_size=kernel, stride=kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, T'*H'*W', D], time-major token order


class VideoMAEv2ViT(nn.Module):
    """VideoMAE-v2 ViT; :meth:`forward_features` maps ``[B, 3, T, S, S]`` in [0, 1] to ``[B, D]``."""

    def __init__(self, cfg: ViTConfig = ViTConfig()):
        super().__init__()
        self.cfg = cfg
        self.patch_embed = PatchEmbed(cfg)
        self.blocks = nn.ModuleList(Block(cfg.embed_dim, cfg.num_heads, cfg.mlp_hidden) for _ in range(cfg.depth))
        self.fc_norm = nn.LayerNorm(cfg.embed_dim, eps=1e-6)
        self.head = nn.Linear(cfg.embed_dim, cfg.num_classes)
        t, h, w = cfg.grid
        self.register_buffer("pos_embed", sinusoid_table(t * h * w, cfg.embed_dim)[None], persistent=False)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        expected = (3, cfg.num_frames, cfg.img_size, cfg.img_size)
        if tuple(x.shape[1:]) != expected:
            raise ValueError(f"VideoMAE-v2 expects clips [B, {', '.join(map(str, expected))}], got {tuple(x.shape)}")
        tokens = self.patch_embed(x)
        tokens = tokens + self.pos_embed.to(dtype=tokens.dtype)
        for block in self.blocks:
            tokens = block(tokens)
        return self.fc_norm(tokens.mean(dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


class VideoMAEEncoder(I3DEncoder):
    """``videomae-v2-g``: 1408-d pooled VideoMAE-v2 ViT-g features of 16-frame 224 x 224 clips in [0, 1]."""

    name = "videomae-v2-g"
    weights_name = "videomae-v2-g"
    preprocess = VIDEOMAE_PREPROCESS
    feature_dim = 1408

    def __init__(self, module: nn.Module, weights_sha256: str | None = None, calibrated: bool = True,
                 precision: str = "bf16"):
        # bf16 autocast on CUDA (the transformer's LayerNorms and softmax stay fp32 under autocast): a
        # 1 B-parameter ViT over 2048 tokens is ~8x slower in fp32
        super().__init__(module, weights_sha256, calibrated, precision)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        return self.module.forward_features(x)


def load_videomae(path: str | Path, cfg: ViTConfig = ViTConfig()) -> VideoMAEv2ViT:
    """Build the ViT and load ``path`` strictly (``weights_only`` torch.load, memory-mapped)."""
    with torch.device("meta"):
        model = VideoMAEv2ViT(cfg)
    obj = load_torch_file(path, "videomae-v2-g", what="VideoMAE-v2 checkpoint")
    state = unwrap_state_dict(obj, str(path))
    load_state_dict_strictly(model, state, str(path), assign=True)  # keeps the memory map, no copy
    return model.float().eval()


def build_videomae_v2_g(path: str | Path | None = None, precision: str = "bf16") -> VideoMAEEncoder:
    """``videomae-v2-g`` from the cache (or ``path``), hash recorded for results files."""
    from mvbench import weights

    path = Path(path) if path is not None else weights.require("videomae-v2-g")
    return VideoMAEEncoder(load_videomae(path), weights.file_sha256(path), precision=precision)
