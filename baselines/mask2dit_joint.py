"""``mask2dit``: all scenes of an item generated jointly by the Mask²DiT reference model.

The n scenes are denoised together by ``reference_models.mask2dit.MultiSceneTransformer`` (the CogVideoX
transformer with the dual symmetric attention mask, Sec. 3.2) and ``generate_scenes``, with the text encoder,
VAE and scheduler of the same CogVideoX folder; each scene's latents are then decoded on their own.

No Mask²DiT fine-tuned weights are public to this project: with the stock CogVideoX transformer this is the
untrained starting point of the method, not the paper's model. Point ``transformer_dir`` at your own
fine-tuned transformer folder to run a trained one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mvbench.suite import SuiteItem

from .base import Baseline
from .loading import CogVideoXParts
from .options import GenerationOptions


class Mask2DiTJoint(Baseline):
    name = "mask2dit"
    summary = "Mask2DiT multi-scene sampling (all scenes denoised jointly) on a CogVideoX transformer."

    def __init__(self, model_dir: str | Path, options: GenerationOptions | None = None,
                 transformer_dir: str | Path | None = None, model_name: str | None = None,
                 variant: str = "v2", attention_backend: str = "auto", temporal_positions: str = "continuous"):
        from reference_models.mask2dit import VARIANTS

        if variant not in VARIANTS:
            from mvbench.errors import MvbenchError

            raise MvbenchError(f"unknown Mask2DiT mask variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        self.variant, self.attention_backend, self.temporal_positions = variant, attention_backend, temporal_positions
        super().__init__(model_dir, options, transformer_dir, model_name)

    def settings(self) -> dict:
        return {**super().settings(), "variant": self.variant, "temporal_positions": self.temporal_positions}

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
