"""``mask2dit``: all scenes of an item generated jointly by the Mask²DiT reference model.

The n scenes are denoised together by ``reference_models.mask2dit.MultiSceneTransformer`` (the CogVideoX
transformer with the dual symmetric attention mask, Sec. 3.2) and ``generate_scenes``, with the text encoder,
VAE and scheduler of the same folder; each scene's latents are then decoded on their own.

The authors released their CogVideoX-5B-based checkpoint in October 2025 (Hugging Face ``qth/Mask2DiT``): pass
its folder as ``model_dir`` (or its ``transformer/`` folder as ``transformer_dir`` next to a CogVideoX-5b
folder). Its ``attn_msk_version`` sets the mask (2: the paper's v2) unless ``variant`` is given. On a stock
CogVideoX transformer this is the untrained starting point of the method, not the paper's model.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from mvbench.errors import MvbenchError
from mvbench.suite import SuiteItem

from .cogvideox_base import CogVideoXBaseline
from .loading import CogVideoXParts
from .options import GenerationOptions

log = logging.getLogger(__name__)


class Mask2DiTJoint(CogVideoXBaseline):
    name = "mask2dit"
    summary = "Mask2DiT multi-scene sampling (all scenes denoised jointly) on a CogVideoX transformer."
    extra_options = ("model_name", "transformer_dir", "variant", "attention_backend", "temporal_positions")
    model_dir_help = ("the released Mask2DiT folder (qth/Mask2DiT) or a CogVideoX folder; --transformer-dir: a "
                      "Mask2DiT transformer/ folder")

    def __init__(self, model_dir: str | Path, options: GenerationOptions | None = None,
                 transformer_dir: str | Path | None = None, model_name: str | None = None,
                 variant: str | None = None, attention_backend: str = "auto", temporal_positions: str | None = None):
        from reference_models.mask2dit import VARIANTS
        from reference_models.mask2dit.attention_backend import BACKENDS
        from reference_models.mask2dit.positions import DEFAULT_TEMPORAL_POSITIONS, TEMPORAL_POSITIONS

        if variant is not None and variant not in VARIANTS:
            raise MvbenchError(f"unknown Mask2DiT mask variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        if attention_backend not in BACKENDS:
            raise MvbenchError(f"unknown attention backend {attention_backend!r}; choose one of {', '.join(BACKENDS)}")
        temporal_positions = temporal_positions or DEFAULT_TEMPORAL_POSITIONS
        if temporal_positions not in TEMPORAL_POSITIONS:
            raise MvbenchError(f"unknown temporal positions {temporal_positions!r}; "
                               f"choose one of {', '.join(TEMPORAL_POSITIONS)}")
        super().__init__(model_dir, options, transformer_dir, model_name)
        self.attention_backend, self.temporal_positions = attention_backend, temporal_positions
        self.variant = self._resolve_variant(variant)

    def _resolve_variant(self, requested: str | None) -> str:
        """``requested``, else the transformer folder's ``attn_msk_version`` (released checkpoint: 2), else v2."""
        from reference_models.mask2dit import DEFAULT_VARIANT
        from reference_models.mask2dit.official import read_transformer_folder

        folder = read_transformer_folder(self.transformer_dir or self.model_dir / "transformer")
        self.checkpoint_class, self.checkpoint_mask = folder.class_name, folder.mask_version
        if requested and folder.variant and requested != folder.variant:
            log.warning("%s was trained with attn_msk_version %s (%s); generating with --variant %s as asked",
                        folder.path, folder.mask_version, folder.variant, requested)
        return requested or folder.variant or DEFAULT_VARIANT

    def settings(self) -> dict:
        return {**super().settings(), "variant": self.variant, "temporal_positions": self.temporal_positions,
                "checkpoint_class": self.checkpoint_class, "checkpoint_attn_msk_version": self.checkpoint_mask}

    def notes(self) -> str:
        return (super().notes() + f" Mask {self.variant}, {self.temporal_positions} positions, transformer class "
                f"{self.checkpoint_class}.")

    def _on_loaded(self, parts: CogVideoXParts) -> None:
        from reference_models.mask2dit import MultiSceneTransformer

        self.model = MultiSceneTransformer(parts.transformer, self.variant, self.attention_backend,
                                           self.temporal_positions)

    def generate_item(self, item: SuiteItem, item_index: int) -> list[np.ndarray]:
        from reference_models.mask2dit import generate_scenes

        parts = self.parts
        o = self.options
        n = len(item.scenes)
        embeddings = list(self.prompt_embeddings([scene.prompt for scene in item.scenes]).split(1))
        guidance = {}
        if o.guidance > 1.0:
            guidance = {"guidance_scale": o.guidance, "negative_prompt_embeds": [self.negative_embedding()] * n}
        with torch.no_grad():
            latents = generate_scenes(self.model, parts.scheduler, embeddings,
                                      self.latent_shape(parts.transformer.config.in_channels),
                                      generator=self.generator(item_index), step_generator=self.step_generator(item_index),
                                      num_inference_steps=o.steps, **guidance)
        return [self.decode(scene) for scene in latents]
