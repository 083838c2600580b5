"""``MultiSceneTransformer``: a diffusers ``CogVideoXTransformer3DModel`` run as Mask²DiT (Sec. 3.2–3.3).

Inputs are per scene: latents ``[B, F_i, C, H, W]`` (diffusers' CogVideoX layout), prompt embeddings
``[B, L_i, D_text]`` (each prompt padded to the model's max text length by the text encoder) and timesteps
``[B, n]`` (or ``[B]`` / a scalar for one shared timestep). The wrapper builds the sequence
``[text_1 .. text_n ; video_1 .. video_n]``, adds positional embeddings over the whole multi-scene video
(``positions``), runs every block with per-scene AdaLN conditioning and the Mask²DiT attention processor,
and returns the per-scene outputs (v-predictions for the CogVideoX checkpoints), each ``[B, F_i, C, H, W]``.

Supported checkpoints: the released Mask²DiT transformer (CogVideoX-5B based, ``official.py``) and CogVideoX
1.0 (``THUDM/CogVideoX-2b``: sin-cos positions; ``THUDM/CogVideoX-5b``: rotary positions). CogVideoX 1.5 (temporal patching), learned positional embeddings and ``ofs`` conditioning
(image-to-video models) are refused with a clear error.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from .block_forward import multi_scene_block_forward
from .layout import SceneLayout
from .masks import DEFAULT_VARIANT, MaskRule, get_rule
from .positions import DEFAULT_TEMPORAL_POSITIONS, rotary_video_positions, sincos_video_positions
from .processor import Mask2DiTAttnProcessor
from .scene_modulation import scene_affine, token_ranges


class MultiSceneTransformer(nn.Module):
    """Mask²DiT on top of a CogVideoX transformer (weights shared, not copied).

    ``variant``: mask variant ``"v1"``..``"v5"`` (Table 2; default v2) or a ``MaskRule``.
    ``backend``: ``"auto"`` (FlexAttention on CUDA, grouped attention otherwise), ``"flex"``, ``"grouped"``
    or ``"dense"``. ``temporal_positions``: ``"official"`` (the released code's scheme, default),
    ``"continuous"`` or ``"per_scene"`` (see ``positions``).
    """

    def __init__(
        self,
        transformer,
        variant: str | MaskRule = DEFAULT_VARIANT,
        backend: str = "auto",
        temporal_positions: str = DEFAULT_TEMPORAL_POSITIONS,
    ):
        super().__init__()
        config = transformer.config
        if config.patch_size_t is not None:
            raise ValueError("MultiSceneTransformer supports CogVideoX 1.0 checkpoints (2b/5b); this config has "
                             "patch_size_t set (CogVideoX 1.5), which is not supported")
        if config.use_learned_positional_embeddings or transformer.ofs_embedding is not None:
            raise ValueError("MultiSceneTransformer does not support image-to-video CogVideoX checkpoints "
                             "(learned positional embeddings / ofs conditioning)")
        self.transformer = transformer
        self.rule = get_rule(variant)
        self.temporal_positions = temporal_positions
        self.processor = Mask2DiTAttnProcessor(self.rule, backend)
        transformer.set_attn_processor(self.processor)

    @classmethod
    def from_pretrained(cls, path: str, subfolder: str | None = "transformer", torch_dtype: torch.dtype | None = None,
                        variant: str | MaskRule | None = None, **kwargs) -> MultiSceneTransformer:
        """Load a local transformer folder strictly and wrap it: the released Mask²DiT checkpoint
        (``MultiPromptCogVideoXTransformer3DModel``, see ``official``) or a diffusers CogVideoX folder (e.g. a
        ``THUDM/CogVideoX-2b`` snapshot).

        ``subfolder="transformer"`` for a full pipeline folder, ``None`` for a transformer-only folder.
        ``variant`` defaults to the folder's ``attn_msk_version`` (the released one: 2), else v2. ``kwargs``
        go to ``MultiSceneTransformer`` (backend, temporal_positions).
        """
        from pathlib import Path

        from .official import load_transformer_folder

        folder = Path(path) / subfolder if subfolder else Path(path)
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(
                f"no transformer config.json in {folder}: download the released Mask2DiT checkpoint "
                f"(huggingface-cli download qth/Mask2DiT) or THUDM/CogVideoX-2b / -5b there first, or pass "
                f"subfolder=None for a transformer-only folder"
            )
        transformer, info = load_transformer_folder(folder, dtype=torch_dtype)
        return cls(transformer, variant or info.variant or DEFAULT_VARIANT, **kwargs)

    @property
    def config(self):
        return self.transformer.config

    @property
    def dtype(self) -> torch.dtype:
        return self.transformer.dtype

    @property
    def device(self) -> torch.device:
        return self.transformer.device

    def scene_timestep_embeddings(self, timesteps: torch.Tensor | float, batch: int, num_scenes: int) -> torch.Tensor:
        """``[B, n, D_t]`` timestep embeddings, one per scene (CogVideoX's ``time_proj`` + ``time_embedding``)."""
        model = self.transformer
        t = torch.as_tensor(timesteps, device=model.device)
        if t.dim() == 0:
            t = t.expand(batch)
        if t.dim() == 1:
            t = t[:, None].expand(batch, num_scenes)
        if t.shape != (batch, num_scenes):
            raise ValueError(f"timesteps must be a scalar, [B] or [B, n] = [{batch}, {num_scenes}]; got {tuple(t.shape)}")
        projected = model.time_proj(t.reshape(-1)).to(dtype=model.dtype)
        return model.time_embedding(projected, None).view(batch, num_scenes, -1)

    def forward(
        self,
        latents: Sequence[torch.Tensor],
        prompt_embeds: Sequence[torch.Tensor],
        timesteps: torch.Tensor | float,
    ) -> list[torch.Tensor]:
        """Per-scene outputs ``[B, F_i, C_out, H, W]`` for per-scene ``latents`` and ``prompt_embeds``."""
        model = self.transformer
        latents, prompt_embeds = list(latents), list(prompt_embeds)
        self._check_inputs(latents, prompt_embeds)
        batch, _, _, height, width = latents[0].shape
        num_scenes = len(latents)
        patch = self.config.patch_size
        frames = [x.shape[1] for x in latents]

        scene_temb = self.scene_timestep_embeddings(timesteps, batch, num_scenes)
        text = model.patch_embed.text_proj(torch.cat(prompt_embeds, dim=1))
        video = torch.cat([self._patchify(x) for x in latents], dim=1)
        if model.patch_embed.use_positional_embeddings:
            positions = sincos_video_positions(model, frames, height, width, self.temporal_positions, video.device,
                                               text_tokens=sum(p.shape[1] for p in prompt_embeds))
            video = video + positions.to(video.dtype)[None]
        tokens = model.embedding_dropout(torch.cat([text, video], dim=1))
        text, video = tokens[:, :text.shape[1]], tokens[:, text.shape[1]:]
        rotary = None
        if self.config.use_rotary_positional_embeddings:
            rotary = rotary_video_positions(model, frames, height, width, self.temporal_positions, video.device)

        video_lengths = [f * (height // patch) * (width // patch) for f in frames]
        text_lengths = [p.shape[1] for p in prompt_embeds]
        layout = SceneLayout(tuple(text_lengths), tuple(video_lengths))
        text_ranges, video_ranges = token_ranges(text_lengths), token_ranges(video_lengths)
        for block in model.transformer_blocks:
            args = (block, video, text, scene_temb, layout, text_ranges, video_ranges, rotary)
            if torch.is_grad_enabled() and model.gradient_checkpointing:
                video, text = checkpoint(multi_scene_block_forward, *args, use_reentrant=False)
            else:
                video, text = multi_scene_block_forward(*args)

        video = model.norm_final(video)
        shift, scale = model.norm_out.linear(model.norm_out.silu(scene_temb)).chunk(2, dim=-1)
        video = model.proj_out(scene_affine(model.norm_out.norm(video), video_ranges, 1 + scale, shift))
        return [self._unpatchify(video[:, s:e], f, height, width) for (s, e), f in zip(video_ranges, frames)]

    def _patchify(self, latents: torch.Tensor) -> torch.Tensor:
        batch, frames, channels, height, width = latents.shape
        projected = self.transformer.patch_embed.proj(latents.reshape(-1, channels, height, width))
        projected = projected.view(batch, frames, *projected.shape[1:])
        return projected.flatten(3).transpose(2, 3).flatten(1, 2)

    def _unpatchify(self, tokens: torch.Tensor, frames: int, height: int, width: int) -> torch.Tensor:
        p = self.config.patch_size
        out = tokens.reshape(tokens.shape[0], frames, height // p, width // p, -1, p, p)
        return out.permute(0, 1, 4, 2, 5, 3, 6).flatten(5, 6).flatten(3, 4)

    def _check_inputs(self, latents: list[torch.Tensor], prompt_embeds: list[torch.Tensor]) -> None:
        if not latents or len(latents) != len(prompt_embeds):
            raise ValueError(f"need one prompt embedding per scene: got {len(latents)} latents and "
                             f"{len(prompt_embeds)} prompt embeddings")
        shape = latents[0].shape
        for i, x in enumerate(latents):
            if x.dim() != 5 or x.shape[0] != shape[0] or x.shape[2:] != shape[2:]:
                raise ValueError(f"scene {i} latents have shape {tuple(x.shape)}; all scenes need [B, F_i, C, H, W] "
                                 f"with the same B, C, H, W as scene 0 {tuple(shape)}")
        patch = self.config.patch_size
        if shape[3] % patch or shape[4] % patch:
            raise ValueError(f"latent height/width {tuple(shape[3:])} must be multiples of patch_size {patch}")
