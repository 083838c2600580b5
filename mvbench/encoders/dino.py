"""DINO ViT-B/16 (Caron et al. 2021) as VBench's subject-consistency feature extractor.

VBench loads ``torch.hub.load('facebookresearch/dino:main', 'dino_vitb16')``: DINO's own
``VisionTransformer`` (``vit_base``: patch 16, width 768, depth 12, 12 heads, MLP ratio 4, qkv bias,
LayerNorm eps 1e-6, exact GELU, no classifier head) with ``dino_vitbase16_pretrain.pth`` loaded
strictly, and calls ``model(image)``: the final-LayerNorm output of the [CLS] token, 768-d.

The network here is timm's ``VisionTransformer`` with the same hyper-parameters, whose state dict
has exactly DINO's key layout (``cls_token``, ``pos_embed``, ``patch_embed.proj.{weight,bias}``,
``blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.{weight,bias}``, ``norm.{weight,bias}``:
150 tensors), so the official file loads without any key mapping. The forward pass is DINO's, not
timm's, because the two differ for non-square inputs (VBench feeds 224 x 336 frames for 3:2 video):
DINO interpolates the 14 x 14 position-embedding grid bicubically with
``scale_factor = ((H // 16 + 0.1) / 14, (W // 16 + 0.1) / 14)`` (:func:`dino_position_embedding`),
timm by target size. The attention is timm's fused kernel (the same softmax attention; float
rounding differs at the 1e-6 level).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mvbench.encoders.checkpoint import load_state_dict_strictly, unwrap_state_dict
from mvbench.encoders.vbench_archs import DINO_VITB16, DinoConfig
from mvbench.errors import MvbenchError

WEIGHTS_NAME = "dino-vitb16"


def build_vit(config: DinoConfig = DINO_VITB16, meta: bool = False) -> nn.Module:
    """timm ``VisionTransformer`` with DINO's layout (random init; on the meta device if ``meta``)."""
    from timm.models.vision_transformer import VisionTransformer

    kwargs = dict(img_size=config.img_size, patch_size=config.patch_size, embed_dim=config.embed_dim,
                  depth=config.depth, num_heads=config.num_heads, mlp_ratio=config.mlp_ratio, qkv_bias=True,
                  num_classes=0, global_pool="token", class_token=True)
    if meta:
        with torch.device("meta"):
            return VisionTransformer(**kwargs)
    return VisionTransformer(**kwargs)


def dino_position_embedding(pos_embed: torch.Tensor, height: int, width: int, patch_size: int) -> torch.Tensor:
    """DINO's ``interpolate_pos_encoding`` for an input of ``height x width`` pixels.

    ``pos_embed`` is ``[1, 1 + N, d]`` for an ``n x n`` grid (``N = n²``). Unchanged when the input
    gives ``N`` patches and is square; otherwise the grid is resized by bicubic interpolation
    (``align_corners=False``) with the scale factors ``((H // p + 0.1) / √N, (W // p + 0.1) / √N)``
    themselves (PyTorch then maps output pixel ``i`` to input coordinate ``(i + ½) / s - ½``),
    giving ``(H // p) x (W // p)`` embeddings; the [CLS] embedding is kept.

    >>> pe = torch.randn(1, 1 + 4, 3)
    >>> dino_position_embedding(pe, 32, 32, 16) is pe
    True
    >>> dino_position_embedding(pe, 32, 48, 16).shape
    torch.Size([1, 7, 3])
    """
    n = pos_embed.shape[1] - 1
    npatch = (height // patch_size) * (width // patch_size)
    if npatch == n and height == width:
        return pos_embed
    grid = int(math.sqrt(n))
    dim = pos_embed.shape[-1]
    h0 = height // patch_size + 0.1
    w0 = width // patch_size + 0.1
    patch = pos_embed[:, 1:].reshape(1, grid, grid, dim).permute(0, 3, 1, 2)
    patch = F.interpolate(patch, scale_factor=(h0 / math.sqrt(n), w0 / math.sqrt(n)), mode="bicubic")
    if patch.shape[-2:] != (int(h0), int(w0)):
        raise RuntimeError(f"position grid {tuple(patch.shape[-2:])} does not match ({int(h0)}, {int(w0)}) patches")
    patch = patch.permute(0, 2, 3, 1).reshape(1, -1, dim)
    return torch.cat((pos_embed[:, :1], patch), dim=1)


def dino_forward(vit: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """DINO ``VisionTransformer.forward`` on normalised images ``[B, 3, H, W]``: patch embedding,
    [CLS] token, :func:`dino_position_embedding`, the blocks, final LayerNorm, [CLS] output ``[B, d]``."""
    b, _, h, w = x.shape
    patch = vit.patch_embed.proj.weight.shape[-1]
    tokens = vit.patch_embed.proj(x).flatten(2).transpose(1, 2)
    tokens = torch.cat((vit.cls_token.expand(b, -1, -1), tokens), dim=1)
    tokens = tokens + dino_position_embedding(vit.pos_embed, h, w, patch)
    for block in vit.blocks:
        tokens = block(tokens)
    return vit.norm(tokens)[:, 0]


class DinoFeatures(nn.Module):
    """``forward(images) -> [B, d]`` DINO [CLS] features; ``self.vit`` holds the weights."""

    def __init__(self, vit: nn.Module):
        super().__init__()
        self.vit = vit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dino_forward(self.vit, x)


def load_dino(path: str | Path, config: DinoConfig = DINO_VITB16, weights_name: str = WEIGHTS_NAME) -> DinoFeatures:
    """Build the ViT and load ``path`` strictly (``torch.load(weights_only=True)``; a missing, extra or
    mis-shaped key is a :class:`~mvbench.errors.CheckpointMismatchError` naming it)."""
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same advice
        raise MvbenchError(
            f"cannot read weights {weights_name!r} from {path} ({type(exc).__name__}): it is not a plain "
            "PyTorch state dict",
            hint=f"fetch the official file with `mvbench weights fetch {weights_name}` or adopt your copy with "
                 f"`mvbench weights import {weights_name} PATH`") from None
    state = unwrap_state_dict(obj, str(path), wrappers=())
    vit = build_vit(config, meta=True)
    load_state_dict_strictly(vit, state, str(path), assign=True)
    return DinoFeatures(vit.float()).eval().requires_grad_(False)
