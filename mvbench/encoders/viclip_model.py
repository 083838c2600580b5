"""The ViCLIP network (InternVid, Wang et al. 2023): a CLIP ViT with joint space-time attention.

Parameter names and shapes follow the official checkpoint (``ViClip-InternVid-10M-FLT.pth``,
dict under ``"model"``) so that it loads with strict key matching:

- ``temp`` (scalar): the contrastive temperature (unused at inference);
- ``vision_encoder.*``: ``conv1.weight`` ``[W, 3, 1, p, p]`` (a Conv3d with temporal kernel 1),
  ``class_embedding`` ``[W]``, ``positional_embedding`` ``[(S/p)^2 + 1, W]``,
  ``temporal_positional_embedding`` ``[1, T, W]``, ``ln_pre``, ``transformer.resblocks.N.*``,
  ``ln_post``, ``proj`` ``[W, D]``;
- ``text_encoder.*``: ``token_embedding.weight`` ``[49408, Wt]``, ``positional_embedding``
  ``[32, Wt]``, ``transformer.resblocks.N.*``, ``ln_final``, ``text_projection`` ``[Wt, D]``.

A residual block is pre-norm: ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))`` with
``mlp = c_proj(QuickGELU(c_fc(.)))``, QuickGELU(x) = x * sigmoid(1.702 x), LayerNorm eps 1e-5,
attention weights stored like :class:`torch.nn.MultiheadAttention` (``attn.in_proj_weight``
``[3W, W]``, ``attn.in_proj_bias``, ``attn.out_proj``). Attention runs through
:func:`torch.nn.functional.scaled_dot_product_attention` (SDPA: on CUDA under bf16 autocast the
flash-attention kernel, head dimension 64 in both variants; causal masking for text included), or,
with :func:`set_attention` ``"math"``, the explicit ``softmax(q k^T / sqrt(d) [+ causal mask]) v`` in
the input dtype (the reference the SDPA path is tested against).

Video: every frame is cut into p x p patches; patch tokens get the spatial positional embedding
and then the temporal one of their frame; all T * N patch tokens of the clip (ordered patch-major,
frame-minor as in the original) plus one class token attend jointly. The embedding is
``ln_post(class token) @ proj``. Text: causal transformer, ``ln_final`` of the token at the EOT
position (the largest id) ``@ text_projection``. Dropout, drop-path and token masking are
training-only and omitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ViclipConfig:
    """Sizes of one ViCLIP variant."""

    image_size: int = 224
    patch_size: int = 14
    num_frames: int = 8
    vision_width: int = 1024
    vision_layers: int = 24
    vision_heads: int = 16
    embed_dim: int = 768
    context_length: int = 32
    vocab_size: int = 49408
    text_width: int = 768
    text_layers: int = 12
    text_heads: int = 12

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size


#: ViCLIP-L/14 (``clip_joint_l14`` + ``clip_text_l14`` in InternVid)
VICLIP_L14 = ViclipConfig()
#: ViCLIP-B/16 (``clip_joint_b16`` + ``clip_text_b16`` in InternVid)
VICLIP_B16 = ViclipConfig(
    patch_size=16, vision_width=768, vision_layers=12, vision_heads=12, embed_dim=512,
    text_width=512, text_layers=12, text_heads=8,
)
#: a small model of the same architecture for offline runs and tests (not a published model)
VICLIP_TINY = ViclipConfig(
    image_size=32, patch_size=16, vision_width=64, vision_layers=2, vision_heads=4, embed_dim=32,
    text_width=64, text_layers=2, text_heads=4,
)


class LayerNorm(nn.LayerNorm):
    """LayerNorm (eps 1e-5) computed in float32 and cast back to the input dtype."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.layer_norm(x.float(), self.normalized_shape, self.weight.float(), self.bias.float(), self.eps)
        return out.to(x.dtype)


class QuickGELU(nn.Module):
    """x * sigmoid(1.702 x) (the CLIP activation)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


ATTENTION_MODES = ("sdpa", "math")


def explicit_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d) + M) v`` with ``M`` the causal mask (-inf above the diagonal) or 0.

    >>> q = torch.randn(1, 2, 5, 8)
    >>> bool(torch.allclose(explicit_attention(q, q, q, True), F.scaled_dot_product_attention(q, q, q, is_causal=True),
    ...                     atol=1e-6))
    True
    """
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    if causal:
        n = q.shape[-2]
        mask = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
    return scores.softmax(dim=-1) @ v


class SelfAttention(nn.Module):
    """Multi-head self-attention with nn.MultiheadAttention's parameter names, batch-first."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by {heads} heads")
        self.heads = heads
        #: "sdpa" (fused kernels; flash attention on CUDA in bf16) or "math" (explicit reference)
        self.attention = "sdpa"
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * width))
        self.out_proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        b, n, w = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = qkv.view(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        if self.attention == "math":
            out = explicit_attention(q, k, v, causal)
        else:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, w))


def set_attention(model: nn.Module, mode: str) -> nn.Module:
    """Switch every ViCLIP attention layer of ``model`` to ``mode`` ("sdpa" or "math"); returns ``model``."""
    if mode not in ATTENTION_MODES:
        raise ValueError(f"attention mode must be one of {ATTENTION_MODES}, got {mode!r}")
    for module in model.modules():
        if isinstance(module, SelfAttention):
            module.attention = mode
    return model


class ResidualBlock(nn.Module):
    """Pre-norm transformer block: x + attn(ln_1 x); x + mlp(ln_2 x)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.attn = SelfAttention(width, heads)
        self.ln_1 = LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
        self.mlp.add_module("gelu", QuickGELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * width, width))
        self.ln_2 = LayerNorm(width)

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), causal=causal)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int):
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualBlock(width, heads) for _ in range(layers))

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x, causal=causal)
        return x


class VisionEncoder(nn.Module):
    """Clips ``[B, T, 3, S, S]`` (normalised) -> video embeddings ``[B, D]`` (not normalised)."""

    def __init__(self, cfg: ViclipConfig):
        super().__init__()
        w = cfg.vision_width
        self.patch_size = cfg.patch_size
        self.num_frames = cfg.num_frames
        self.image_size = cfg.image_size
        self.conv1 = nn.Conv3d(3, w, (1, cfg.patch_size, cfg.patch_size),
                               (1, cfg.patch_size, cfg.patch_size), bias=False)
        self.class_embedding = nn.Parameter(torch.empty(w))
        self.positional_embedding = nn.Parameter(torch.empty(cfg.grid**2 + 1, w))
        self.ln_pre = LayerNorm(w)
        self.temporal_positional_embedding = nn.Parameter(torch.zeros(1, cfg.num_frames, w))
        self.transformer = Transformer(w, cfg.vision_layers, cfg.vision_heads)
        self.ln_post = LayerNorm(w)
        self.proj = nn.Parameter(torch.empty(w, cfg.embed_dim))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w_img = clips.shape
        if c != 3 or h != self.image_size or w_img != self.image_size:
            raise ValueError(
                f"ViCLIP expects clips [B, T, 3, {self.image_size}, {self.image_size}], got {tuple(clips.shape)}"
            )
        if t not in (1, self.num_frames):
            raise ValueError(f"ViCLIP was built for {self.num_frames} frames per clip (or 1), got {t}")
        # Temporal kernel 1: the Conv3d is a per-frame 2D patch embedding.
        frames = clips.reshape(b * t, c, h, w_img).to(self.conv1.weight.dtype)
        patches = F.conv2d(frames, self.conv1.weight[:, :, 0], stride=self.patch_size)
        width = patches.shape[1]
        tokens = patches.flatten(2).transpose(1, 2)  # [B*T, N, W]
        tokens = tokens + self.positional_embedding[1:].to(tokens.dtype)
        tokens = tokens.view(b, t, -1, width)
        temporal = self.temporal_positional_embedding
        if t == 1:
            temporal = temporal.mean(1, keepdim=True)
        tokens = tokens + temporal.unsqueeze(2).to(tokens.dtype)  # [B, T, N, W]
        tokens = tokens.transpose(1, 2).reshape(b, -1, width)  # patch-major, frame-minor
        cls = (self.class_embedding + self.positional_embedding[0]).to(tokens.dtype).expand(b, 1, width)
        x = self.ln_pre(torch.cat([cls, tokens], dim=1))
        x = self.transformer(x)
        return self.ln_post(x[:, 0]) @ self.proj.to(x.dtype)


class TextEncoder(nn.Module):
    """Token ids ``[B, L]`` -> text embeddings ``[B, D]`` (not normalised)."""

    def __init__(self, cfg: ViclipConfig):
        super().__init__()
        self.context_length = cfg.context_length
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.text_width)
        self.positional_embedding = nn.Parameter(torch.empty(cfg.context_length, cfg.text_width))
        self.transformer = Transformer(cfg.text_width, cfg.text_layers, cfg.text_heads)
        self.ln_final = LayerNorm(cfg.text_width)
        self.text_projection = nn.Parameter(torch.empty(cfg.text_width, cfg.embed_dim))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.shape[1] != self.context_length:
            raise ValueError(f"ViCLIP text expects {self.context_length} tokens, got {tokens.shape[1]}")
        x = self.token_embedding(tokens) + self.positional_embedding
        x = self.transformer(x, causal=True)
        eot = x[torch.arange(x.shape[0], device=x.device), tokens.argmax(dim=-1)]
        return self.ln_final(eot) @ self.text_projection.to(eot.dtype)


class ViclipModel(nn.Module):
    """The two towers plus the temperature, keyed like InternVid's ``ViCLIP`` module."""

    def __init__(self, cfg: ViclipConfig):
        super().__init__()
        self.config = cfg
        self.vision_encoder = VisionEncoder(cfg)
        self.text_encoder = TextEncoder(cfg)
        self.temp = nn.Parameter(torch.full([], 0.01))

    def encode_video(self, clips: torch.Tensor) -> torch.Tensor:
        return self.vision_encoder(clips)

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.text_encoder(tokens)


def seeded_init_(model: ViclipModel, seed: int) -> ViclipModel:
    """Fill every parameter from one seeded CPU generator, in state-dict order (deterministic).

    CLIP-style scales: token/class embeddings N(0, 0.02), positional and temporal embeddings
    N(0, 0.01), weight matrices N(0, fan_in^-0.5), biases 0, LayerNorm weight 1 / bias 0,
    temp 0.01.
    """
    gen = torch.Generator(device="cpu").manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if ".ln_" in f".{name}":
                param.fill_(1.0 if leaf == "weight" else 0.0)
            elif leaf.endswith("bias"):
                param.zero_()
            elif leaf == "temp":
                param.fill_(0.01)
            else:
                if leaf == "class_embedding" or "token_embedding" in name:
                    std = 0.02
                elif leaf.endswith("positional_embedding"):
                    std = 0.01
                elif leaf in ("proj", "text_projection"):  # used as x @ proj: fan-in is dim 0
                    std = param.shape[0] ** -0.5
                else:  # nn.Linear / Conv weights: fan-in is everything but dim 0
                    std = param[0].numel() ** -0.5
                param.copy_(torch.randn(param.shape, generator=gen, dtype=torch.float32) * std)
    return model
