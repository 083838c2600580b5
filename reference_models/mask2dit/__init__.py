"""Mask²DiT reference model: dual-mask multi-scene DiT on diffusers' CogVideoX (see docs/mask2dit.md).

Importing this package needs only torch; diffusers (``pip install -e ".[models]"``) is needed once a
CogVideoX model is built or loaded.
"""

from .attention_backend import chosen_backend, masked_attention, resolve_backend
from .attention_dense import dense_masked_attention
from .attention_flex import build_block_mask, flex_attention_available, flex_masked_attention
from .attention_grouped import grouped_attention
from .layout import SceneLayout
from .masks import (
    DEFAULT_VARIANT,
    VARIANTS,
    AttentionBlock,
    MaskRule,
    allowed_pairs,
    attention_blocks,
    dense_mask,
    get_rule,
    group_visibility,
)
from .official import load_transformer_folder, read_transformer_folder
from .processor import Mask2DiTAttnProcessor
from .samplers import denoise_scenes, extend_scenes, generate_scenes
from .training import (
    TrainingStepOutput,
    conditional_scene_mask,
    masked_scene_loss,
    noisy_scene_inputs,
    training_step,
)
from .transformer import MultiSceneTransformer

__all__ = [
    "DEFAULT_VARIANT", "VARIANTS", "AttentionBlock", "Mask2DiTAttnProcessor", "MaskRule", "MultiSceneTransformer",
    "SceneLayout", "TrainingStepOutput", "allowed_pairs", "attention_blocks", "build_block_mask", "chosen_backend",
    "conditional_scene_mask", "dense_mask", "dense_masked_attention", "denoise_scenes", "extend_scenes",
    "flex_attention_available", "flex_masked_attention", "generate_scenes", "get_rule", "group_visibility",
    "grouped_attention", "load_transformer_folder", "masked_attention", "masked_scene_loss", "noisy_scene_inputs",
    "read_transformer_folder", "resolve_backend", "training_step",
]
