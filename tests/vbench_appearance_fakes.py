"""Fabricated checkpoints in the official key layouts of VBench's networks (random values), written
out by hand from the original sources, and small architectures for fast tests.

* DINO ``dino_vitbase16_pretrain.pth``: facebookresearch/dino ``vision_transformer.py`` (``vit_base``).
* OpenAI CLIP ``ViT-B-32.pt`` / ``ViT-L-14.pt``: openai/CLIP ``model.py`` (``CLIP``, ``VisionTransformer``,
  ``ResidualAttentionBlock``), a TorchScript archive of fp16 tensors plus scalar metadata.
* LAION ``sa_0_4_vit_l_14_linear.pth``: ``nn.Linear(768, 1)``.
* pyiqa ``musiq_spaq_ckpt-358bb6af.pth``: pyiqa ``musiq_arch.py`` (``MUSIQ``, num_class 1).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from mvbench.encoders.clip_openai import ClipArch
from mvbench.encoders.dino import DinoConfig
from mvbench.encoders.musiq import MusiqConfig

TINY_DINO = DinoConfig(patch_size=16, embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0, img_size=224)
TINY_CLIP_B = ClipArch(embed_dim=16, image_size=224, vision_layers=2, vision_width=64, vision_patch_size=32,
                       text_width=64, text_layers=1, context_length=8, vocab_size=40)
TINY_CLIP_L = ClipArch(embed_dim=24, image_size=224, vision_layers=1, vision_width=64, vision_patch_size=56,
                       text_width=64, text_layers=1, context_length=8, vocab_size=40)
TINY_MUSIQ = MusiqConfig(hidden_size=32, mlp_dim=64, num_heads=2, num_layers=2, longer_side_lengths=(32, 64))
TINY = {"dino": TINY_DINO, "clip_b32": TINY_CLIP_B, "clip_l14": TINY_CLIP_L, "musiq": TINY_MUSIQ}


def dino_layout(c: DinoConfig) -> dict[str, tuple[int, ...]]:
    d, hidden, grid = c.embed_dim, int(c.embed_dim * c.mlp_ratio), c.img_size // c.patch_size
    out = {"cls_token": (1, 1, d), "pos_embed": (1, grid * grid + 1, d),
           "patch_embed.proj.weight": (d, 3, c.patch_size, c.patch_size), "patch_embed.proj.bias": (d,)}
    for i in range(c.depth):
        b = f"blocks.{i}."
        out |= {b + "norm1.weight": (d,), b + "norm1.bias": (d,), b + "attn.qkv.weight": (3 * d, d),
                b + "attn.qkv.bias": (3 * d,), b + "attn.proj.weight": (d, d), b + "attn.proj.bias": (d,),
                b + "norm2.weight": (d,), b + "norm2.bias": (d,), b + "mlp.fc1.weight": (hidden, d),
                b + "mlp.fc1.bias": (hidden,), b + "mlp.fc2.weight": (d, hidden), b + "mlp.fc2.bias": (d,)}
    return out | {"norm.weight": (d,), "norm.bias": (d,)}


def _resblocks(prefix: str, width: int, layers: int) -> dict[str, tuple[int, ...]]:
    out = {}
    for i in range(layers):
        b = f"{prefix}transformer.resblocks.{i}."
        out |= {b + "attn.in_proj_weight": (3 * width, width), b + "attn.in_proj_bias": (3 * width,),
                b + "attn.out_proj.weight": (width, width), b + "attn.out_proj.bias": (width,),
                b + "ln_1.weight": (width,), b + "ln_1.bias": (width,),
                b + "mlp.c_fc.weight": (4 * width, width), b + "mlp.c_fc.bias": (4 * width,),
                b + "mlp.c_proj.weight": (width, 4 * width), b + "mlp.c_proj.bias": (width,),
                b + "ln_2.weight": (width,), b + "ln_2.bias": (width,)}
    return out


def clip_layout(a: ClipArch) -> dict[str, tuple[int, ...]]:
    """OpenAI CLIP (ViT) state dict, without the scalar metadata entries."""
    w, grid = a.vision_width, a.image_size // a.vision_patch_size
    out = {"visual.class_embedding": (w,), "visual.positional_embedding": (grid * grid + 1, w),
           "visual.proj": (w, a.embed_dim), "visual.conv1.weight": (w, 3, a.vision_patch_size, a.vision_patch_size),
           "visual.ln_pre.weight": (w,), "visual.ln_pre.bias": (w,),
           "visual.ln_post.weight": (w,), "visual.ln_post.bias": (w,)}
    out |= _resblocks("visual.", w, a.vision_layers)
    t = a.text_width
    out |= {"positional_embedding": (a.context_length, t), "text_projection": (t, a.embed_dim), "logit_scale": (),
            "token_embedding.weight": (a.vocab_size, t), "ln_final.weight": (t,), "ln_final.bias": (t,)}
    return out | _resblocks("", t, a.text_layers)


def musiq_layout(c: MusiqConfig) -> dict[str, tuple[int, ...]]:
    h, m = c.hidden_size, c.mlp_dim
    out = {"conv_root.weight": (64, 3, 7, 7), "gn_root.weight": (64,), "gn_root.bias": (64,),
           "block1.conv1.weight": (64, 64, 1, 1), "block1.gn1.weight": (64,), "block1.gn1.bias": (64,),
           "block1.conv2.weight": (64, 64, 3, 3), "block1.gn2.weight": (64,), "block1.gn2.bias": (64,),
           "block1.conv3.weight": (256, 64, 1, 1), "block1.gn3.weight": (256,), "block1.gn3.bias": (256,),
           "block1.conv_proj.weight": (256, 64, 1, 1), "block1.gn_proj.weight": (256,), "block1.gn_proj.bias": (256,),
           "embedding.weight": (h, 256 * 8 * 8), "embedding.bias": (h,),
           "transformer_encoder.posembed_input.position_emb": (1, 100, h),
           "transformer_encoder.scaleembed_input.scale_emb": (3, h), "transformer_encoder.cls": (1, 1, h),
           "transformer_encoder.encoder_norm.weight": (h,), "transformer_encoder.encoder_norm.bias": (h,),
           "head.weight": (1, h), "head.bias": (1,)}
    for i in range(c.num_layers):
        b = f"transformer_encoder.transformer.encoderblock_{i}."
        out |= {b + "norm1.weight": (h,), b + "norm1.bias": (h,), b + "norm2.weight": (h,), b + "norm2.bias": (h,),
                b + "mlp.fc1.weight": (m, h), b + "mlp.fc1.bias": (m,), b + "mlp.fc2.weight": (h, m),
                b + "mlp.fc2.bias": (h,)}
        for p in ("query", "key", "value", "out"):
            out |= {b + f"attention.{p}.weight": (h, h), b + f"attention.{p}.bias": (h,)}
    return out


def fabricate(layout: dict[str, tuple[int, ...]], seed: int = 0, dtype=torch.float32, scale: float = 0.05) -> OrderedDict:
    """Random values in ``layout``; norm weights around 1 so activations stay finite."""
    g = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for key, shape in layout.items():
        v = torch.randn(shape, generator=g) * scale
        if key.endswith(("norm1.weight", "norm2.weight", "norm.weight", "ln_1.weight", "ln_2.weight", "ln_pre.weight",
                         "ln_post.weight", "ln_final.weight")) or ".gn" in key and key.endswith("weight") \
                or key.startswith("gn_root.weight") or key.endswith("encoder_norm.weight"):
            v = 1.0 + v
        state[key] = v.to(dtype)
    return state


class _Holder(nn.Module):
    pass


def save_torchscript_state(state: dict[str, torch.Tensor], path: str | Path,
                           meta: dict[str, int] | None = None) -> Path:
    """A TorchScript archive whose ``state_dict()`` is ``state`` (plus scalar ``meta`` buffers), like
    OpenAI's CLIP ``.pt`` files."""
    root = _Holder()
    for key, value in state.items():
        *parents, leaf = key.split(".")
        mod = root
        for p in parents:
            if not hasattr(mod, p):
                mod.add_module(p, _Holder())
            mod = getattr(mod, p)
        mod.register_parameter(leaf, nn.Parameter(value.clone(), requires_grad=False))
    for key, value in (meta or {}).items():
        root.register_buffer(key, torch.tensor(value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.script(root).save(str(path))
    return Path(path)


def openai_clip_file(path: str | Path, arch: ClipArch, seed: int = 0) -> tuple[Path, OrderedDict]:
    """An OpenAI-style CLIP archive (fp16 tensors, metadata entries) with random values."""
    state = fabricate(clip_layout(arch), seed=seed, dtype=torch.float16)
    meta = {"input_resolution": arch.image_size, "context_length": arch.context_length,
            "vocab_size": arch.vocab_size}
    return save_torchscript_state(state, path, meta), state


def install_fake_weights(home: str | Path, archs: dict | None = None, seed: int = 0) -> dict[str, Path]:
    """Fabricated files for every VBench-appearance weights entry, in ``home``/weights (MVBENCH_HOME)."""
    from mvbench import weights

    archs = archs or TINY
    paths = {}
    for name in ("dino-vitb16", "clip-vit-b32-openai", "clip-vit-l14-openai", "laion-aesthetic-vit-l14", "musiq-spaq"):
        paths[name] = weights.weight_path(name)
        paths[name].parent.mkdir(parents=True, exist_ok=True)
    torch.save(fabricate(dino_layout(archs["dino"]), seed), paths["dino-vitb16"])
    openai_clip_file(paths["clip-vit-b32-openai"], archs["clip_b32"], seed + 1)
    openai_clip_file(paths["clip-vit-l14-openai"], archs["clip_l14"], seed + 2)
    d = archs["clip_l14"].embed_dim
    torch.save(fabricate({"weight": (1, d), "bias": (1,)}, seed + 3, scale=1.0), paths["laion-aesthetic-vit-l14"])
    torch.save(fabricate(musiq_layout(archs["musiq"]), seed + 4), paths["musiq-spaq"])
    return paths
