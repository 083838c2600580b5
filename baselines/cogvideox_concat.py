"""``cogvideox-concat``: the "CogVideoX" row of Mask²DiT Table 1.

Each scene is generated on its own by diffusers' stock ``CogVideoXPipeline`` from its own prompt; nothing is
shared between scenes except the item's random stream (scene k's noise is the k-th draw from the generator
seeded with ``seed + item index``). Mask²DiT concatenates the shots into one video; mvbench keeps them as
``scene_K.mp4`` files, which is the same thing for every metric.
"""

from __future__ import annotations

import numpy as np
import torch

from mvbench.suite import SuiteItem

from .base import draw_noise
from .cogvideox_base import CogVideoXBaseline
from .loading import CogVideoXParts


class CogVideoXConcat(CogVideoXBaseline):
    name = "cogvideox-concat"
    summary = "CogVideoX, each scene generated independently from its own prompt (Mask2DiT Table 1 baseline)."

    def _on_loaded(self, parts: CogVideoXParts) -> None:
        from diffusers import CogVideoXPipeline

        self.pipeline = CogVideoXPipeline(tokenizer=parts.tokenizer, text_encoder=parts.text_encoder, vae=parts.vae,
                                          transformer=parts.transformer, scheduler=parts.scheduler)
        self.pipeline.set_progress_bar_config(disable=True)

    def generate_item(self, item: SuiteItem, item_index: int) -> list[np.ndarray]:
        parts = self.parts
        o = self.options
        generator = self.generator(item_index)
        embeddings = self.prompt_embeddings([scene.prompt for scene in item.scenes])
        use_guidance = o.guidance > 1.0
        dtype = parts.transformer.dtype
        # scene k's initial noise is the k-th draw from the item's generator (as for the joint baselines);
        # noise a stochastic scheduler draws inside its steps comes from a second, separately seeded stream
        noises = [draw_noise(self.latent_shape(parts.transformer.config.in_channels), generator, self.device, dtype)
                  for _ in item.scenes]
        step_generator = self.step_generator(item_index)
        videos = []
        for k, noise in enumerate(noises):
            with torch.no_grad():
                latents = self.pipeline(
                    prompt_embeds=embeddings[k:k + 1],
                    negative_prompt_embeds=self.negative_embedding() if use_guidance else None,
                    height=o.height, width=o.width, num_frames=o.frames, num_inference_steps=o.steps,
                    guidance_scale=o.guidance, latents=noise, generator=step_generator, output_type="latent",
                    max_sequence_length=parts.max_text_length, return_dict=False,
                )[0]
            videos.append(self.decode(latents))
        return videos
