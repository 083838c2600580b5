"""diffusers' ``WanTransformer3DModel`` as a frame-captioned, per-frame-timestep denoiser.

:class:`WanFrameDenoiser` installs :class:`FrameLevelCrossAttnProcessor` (Eq. 1) on the transformer,
keeps a table of caption embeddings ``(P, S, text_dim)`` and, for every call, gives each batch row
only the distinct captions its frames use. Per-frame timesteps (Diffusion Forcing, Sec. 4.3) are fed
through the transformer's per-token timestep path (``timestep`` of shape ``(B, tokens)``); when all
frames of every row share a timestep the ordinary ``(B,)`` path is used. Classifier-free guidance
(``v = v_neg + g * (v_cond - v_neg)``) runs the negative rows in the same batched forward.

diffusers is imported lazily; the rest of the package works without it.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from reference_models.pmwd.denoiser import check_denoiser_inputs
from reference_models.pmwd.frame_cross_attention import (
    find_frame_level_processor,
    frame_captions,
    install_frame_level_cross_attention,
)

#: diffusers config of Wan2.1-T2V-1.3B (``Wan-AI/Wan2.1-T2V-1.3B-Diffusers``, subfolder ``transformer``)
WAN_T2V_1_3B_CONFIG: dict = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 12,
    "attention_head_dim": 128,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 8960,
    "num_layers": 30,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "rope_max_seq_len": 1024,
}

#: Wan's native clip: 81 video frames -> 21 latent frames (VAE temporal stride 4, first frame alone)
WAN_NATIVE_LATENT_FRAMES = 21
#: UMT5 context length Wan pads every prompt to
WAN_TEXT_LENGTH = 512


def tiny_wan_config() -> dict:
    """A Wan-shaped transformer small enough for CPU tests (2 blocks, width 24)."""
    return {
        "patch_size": (1, 2, 2),
        "num_attention_heads": 2,
        "attention_head_dim": 12,
        "in_channels": 4,
        "out_channels": 4,
        "text_dim": 16,
        "freq_dim": 16,
        "ffn_dim": 32,
        "num_layers": 2,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "eps": 1e-6,
        "rope_max_seq_len": 256,
    }


def _require_diffusers():
    try:
        import diffusers
    except ImportError as exc:
        from mvbench.errors import MissingExtraError

        raise MissingExtraError("the PMWD Wan reference model", "models", "diffusers") from exc
    return diffusers


def build_random_wan(config: dict, seed: int = 0, dtype: torch.dtype = torch.float32, device: str = "cpu"):
    """A ``WanTransformer3DModel`` with random weights (tests, benchmarks).

    On an accelerator the weights are initialised there (fast for the 1.3B model; its random stream differs from
    the CPU's, so the values depend on the device); the global random state is left as it was.
    """
    diffusers = _require_diffusers()
    device = torch.device(device)
    fork = {"devices": []} if device.type == "cpu" else {"devices": [device], "device_type": device.type}
    with torch.random.fork_rng(**fork):
        torch.manual_seed(seed)
        with device:
            model = diffusers.WanTransformer3DModel(**config)
    model = model.to(device)
    if dtype != torch.float32:
        # as from_pretrained(torch_dtype=...) does: cast, but keep the float32-sensitive modules in float32
        keep = tuple(getattr(model, "_keep_in_fp32_modules", None) or ())
        for name, param in model.named_parameters():
            if not any(part in keep for part in name.split(".")):
                param.data = param.data.to(dtype)
    return model.eval()


def load_wan_transformer(path: str | Path, dtype: torch.dtype = torch.bfloat16, device: str = "cpu"):
    """Load a Wan transformer from a local diffusers folder (the pipeline folder or its ``transformer``), strictly
    (every key and shape checked, float32-pinned modules kept in float32; see ``reference_models.diffusers_loading``).
    """
    diffusers = _require_diffusers()
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"Wan weights folder {path} does not exist; download Wan-AI/Wan2.1-T2V-1.3B-Diffusers "
            "(e.g. `huggingface-cli download Wan-AI/Wan2.1-T2V-1.3B-Diffusers --local-dir DIR`) and pass DIR"
        )
    from reference_models.diffusers_loading import load_diffusers_model

    folder = path / "transformer" if (path / "transformer").is_dir() else path
    return load_diffusers_model(diffusers.WanTransformer3DModel, folder, dtype).to(device).eval()


def encode_prompts_umt5(prompts: list[str], tokenizer, text_encoder, max_length: int = WAN_TEXT_LENGTH) -> torch.Tensor:
    """Caption embeddings ``(P, max_length, D)`` the way Wan conditions on text.

    Each prompt is tokenised to ``max_length`` tokens, encoded by UMT5, cut to its real length
    (attention mask) and zero-padded back to ``max_length`` (Wan attends to all ``max_length``
    positions, the padded ones being zeros before the text projection).
    """
    tokens = tokenizer(
        prompts, padding="max_length", max_length=max_length, truncation=True,
        add_special_tokens=True, return_attention_mask=True, return_tensors="pt",
    )
    device = next(text_encoder.parameters()).device
    ids = tokens["input_ids"].to(device)
    mask = tokens["attention_mask"].to(device)
    with torch.no_grad():
        hidden = text_encoder(ids, mask).last_hidden_state
    keep = mask[..., None].to(hidden.dtype)
    return hidden * keep


class WanFrameDenoiser:
    """Frame-captioned Wan denoiser implementing :class:`~reference_models.pmwd.denoiser.Denoiser`.

    ``caption_embeds`` ``(P, S, text_dim)``: one embedding per distinct prompt (see
    :mod:`reference_models.pmwd.prompts`); ``negative_embeds`` ``(S, text_dim)`` enables CFG with
    ``guidance_scale``. ``max_batch`` caps the rows of one transformer forward (``None``: all rows,
    cond and negative, in one forward).
    """

    def __init__(
        self,
        transformer: torch.nn.Module,
        caption_embeds: torch.Tensor,
        negative_embeds: torch.Tensor | None = None,
        guidance_scale: float = 5.0,
        window: int = WAN_NATIVE_LATENT_FRAMES,
        max_batch: int | None = None,
    ) -> None:
        if caption_embeds.ndim != 3:
            raise ValueError(f"caption_embeds must be (P, S, text_dim), got shape {tuple(caption_embeds.shape)}")
        if negative_embeds is not None and tuple(negative_embeds.shape) != tuple(caption_embeds.shape[1:]):
            raise ValueError(
                f"negative_embeds must be (S, text_dim) = {tuple(caption_embeds.shape[1:])}, "
                f"got {tuple(negative_embeds.shape)}"
            )
        self.transformer = transformer
        self.processor = find_frame_level_processor(transformer) or install_frame_level_cross_attention(transformer)
        # the input dtype is that of the patch embedding (some modules stay float32 in bf16 models)
        param = transformer.patch_embedding.weight
        self.dtype, self.device = param.dtype, param.device
        self.caption_embeds = caption_embeds.to(self.device, self.dtype)
        self.negative_embeds = None if negative_embeds is None else negative_embeds.to(self.device, self.dtype)
        self.guidance_scale = float(guidance_scale)
        self.window = int(window)
        self.max_batch = max_batch
        self.patch_size = tuple(transformer.config.patch_size)

    @property
    def uses_guidance(self) -> bool:
        return self.negative_embeds is not None and self.guidance_scale != 1.0

    @torch.no_grad()
    def __call__(self, latents: torch.Tensor, timesteps: torch.Tensor, caption_ids: torch.Tensor) -> torch.Tensor:
        """Sampling: the (classifier-free guided, when negative embeddings are set) velocity under ``no_grad``."""
        return self.velocity(latents, timesteps, caption_ids, guidance=self.uses_guidance)

    def predict(self, latents: torch.Tensor, timesteps: torch.Tensor, caption_ids: torch.Tensor) -> torch.Tensor:
        """Training: the conditional velocity with autograd enabled, never guided.

        Classifier-free guidance is a sampling-time combination of two predictions; the flow-matching loss
        (``training.diffusion_forcing_step``) must see the model's own conditional output, so this ignores
        ``negative_embeds`` and ``guidance_scale``.
        """
        return self.velocity(latents, timesteps, caption_ids, guidance=False)

    def velocity(self, latents: torch.Tensor, timesteps: torch.Tensor, caption_ids: torch.Tensor,
                 guidance: bool) -> torch.Tensor:
        """``v_cond``, or with ``guidance`` ``v_neg + g (v_cond - v_neg)`` (negative rows in the same forward)."""
        if guidance and not self.uses_guidance:
            raise ValueError("guidance needs negative_embeds and guidance_scale != 1")
        check_denoiser_inputs(latents, timesteps, caption_ids)
        caption_ids = caption_ids.to("cpu", torch.long)
        if int(caption_ids.min()) < 0 or int(caption_ids.max()) >= self.caption_embeds.shape[0]:
            raise ValueError(
                f"caption_ids must index the {self.caption_embeds.shape[0]} caption embeddings, "
                f"got range [{int(caption_ids.min())}, {int(caption_ids.max())}]"
            )
        batch = latents.shape[0]
        context, local_index = self._row_contexts(caption_ids)
        x = latents.to(self.device, self.dtype)
        t = timesteps.to(self.device, torch.float32)
        if guidance:
            count = context.shape[1] // self.negative_embeds.shape[0]
            neg = self.negative_embeds[None, None].expand(batch, count, -1, -1)
            context = torch.cat([context, neg.flatten(1, 2)])
            local_index = torch.cat([local_index, torch.zeros_like(local_index)])
            x, t = torch.cat([x, x]), torch.cat([t, t])
        out = torch.cat([
            self._forward(x[i:j], t[i:j], context[i:j], local_index[i:j])
            for i, j in _chunks(x.shape[0], self.max_batch)
        ]).float()
        if guidance:
            cond, neg = out[:batch], out[batch:]
            out = neg + self.guidance_scale * (cond - neg)
        return out.to(latents.device, latents.dtype)

    def _row_contexts(self, caption_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per row: the distinct captions it uses (padded to a common count) and each frame's slot."""
        uniques = [torch.unique(row) for row in caption_ids]
        count = max(len(u) for u in uniques)
        tables, local = [], []
        for row, uniq in zip(caption_ids, uniques):
            local.append(torch.searchsorted(uniq, row))
            tables.append(torch.cat([uniq, uniq[:1].expand(count - len(uniq))]))
        table = torch.stack(tables).to(self.device)
        context = self.caption_embeds[table]  # (B, count, S, D)
        return context.flatten(1, 2), torch.stack(local).to(self.device)

    def _forward(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        if bool((t == t[:, :1]).all()):
            timestep = t[:, 0]
        else:
            tokens_per_frame = math.prod(s // p for s, p in zip(x.shape[3:], self.patch_size[1:]))
            timestep = t.repeat_interleave(tokens_per_frame, dim=1)
        with frame_captions(self.processor, index, self.caption_embeds.shape[1]):
            return self.transformer(x, timestep, context, return_dict=False)[0]


def _chunks(total: int, size: int | None) -> list[tuple[int, int]]:
    size = total if not size else int(size)
    return [(i, min(i + size, total)) for i in range(0, total, size)]
