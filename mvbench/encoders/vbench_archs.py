"""Sizes of VBench's networks and the names of its imaging-quality preprocessing modes, without torch.

The scorer (:mod:`mvbench.scorers.vbench_appearance`) declares its options and network sizes from these
at import time; the networks themselves (:mod:`mvbench.encoders.clip_openai`, :mod:`mvbench.encoders.dino`,
:mod:`mvbench.encoders.musiq`) import torch and are loaded only when a metric runs.

>>> CLIP_VIT_B32.vision_patch_size, DINO_VITB16.embed_dim, MUSIQ_SPAQ.num_layers
(32, 768, 14)
"""

from __future__ import annotations

from dataclasses import dataclass

#: VBench's ``imaging_quality_preprocessing_mode`` values (see :mod:`mvbench.encoders.vbench_preprocess`)
MUSIQ_MODES = ("longer", "shorter", "shorter_centercrop", "none")


@dataclass(frozen=True)
class ClipArch:
    """OpenAI CLIP ViT hyper-parameters (heads = width / 64 in both towers, as OpenAI's)."""

    embed_dim: int
    image_size: int
    vision_layers: int
    vision_width: int
    vision_patch_size: int
    text_width: int
    text_layers: int
    context_length: int = 77
    vocab_size: int = 49408


CLIP_VIT_B32 = ClipArch(embed_dim=512, image_size=224, vision_layers=12, vision_width=768, vision_patch_size=32,
                        text_width=512, text_layers=12)
CLIP_VIT_L14 = ClipArch(embed_dim=768, image_size=224, vision_layers=24, vision_width=1024, vision_patch_size=14,
                        text_width=768, text_layers=12)


@dataclass(frozen=True)
class DinoConfig:
    """ViT hyper-parameters; :data:`DINO_VITB16` is VBench's network (smaller ones are for tests)."""

    patch_size: int = 16
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    img_size: int = 224


DINO_VITB16 = DinoConfig()


@dataclass(frozen=True)
class MusiqConfig:
    """MUSIQ size and scales; :data:`MUSIQ_SPAQ` is pyiqa's default (VBench's). Smaller ones are for
    tests (the ResNet stem runs once per 32 x 32 patch, so fewer, smaller scales make them fast)."""

    hidden_size: int = 384
    mlp_dim: int = 1152
    num_heads: int = 6
    num_layers: int = 14
    longer_side_lengths: tuple[int, ...] = (224, 384)


MUSIQ_SPAQ = MusiqConfig()
