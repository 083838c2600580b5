"""Attention processor that runs Mask²DiT masked attention inside diffusers' CogVideoX blocks.

Drop-in for ``CogVideoXAttnProcessor2_0``: same projections, QK LayerNorm and rotary embedding on the video
tokens; the attention itself is ``masked_attention`` over the multi-scene layout passed as the keyword
``scene_layout`` (the token order must be ``[all scene texts ; all scene videos]``, which is what
``MultiSceneTransformer`` feeds). Without ``scene_layout`` it is plain full attention, i.e. the stock
processor, so installing it on a model does not change single-prompt use.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .attention_backend import masked_attention
from .layout import SceneLayout
from .masks import DEFAULT_VARIANT, MaskRule, get_rule


class Mask2DiTAttnProcessor:
    """CogVideoX attention with the Mask²DiT symmetric binary mask (Sec. 3.2), any variant v1–v5."""

    def __init__(self, variant: str | MaskRule = DEFAULT_VARIANT, backend: str = "auto"):
        self.rule = get_rule(variant)
        self.backend = backend

    def __call__(
        self,
        attn,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        image_rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
        scene_layout: SceneLayout | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if attention_mask is not None:
            raise ValueError("Mask2DiTAttnProcessor builds its own mask from scene_layout; do not pass attention_mask")
        num_text = encoder_hidden_states.shape[1]
        tokens = torch.cat([encoder_hidden_states, hidden_states], dim=1)
        batch, seq, _ = tokens.shape

        def heads(projected: torch.Tensor) -> torch.Tensor:
            return projected.view(batch, seq, attn.heads, -1).transpose(1, 2)

        query, key, value = heads(attn.to_q(tokens)), heads(attn.to_k(tokens)), heads(attn.to_v(tokens))
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)
        if image_rotary_emb is not None:
            from diffusers.models.embeddings import apply_rotary_emb

            query = torch.cat([query[:, :, :num_text], apply_rotary_emb(query[:, :, num_text:], image_rotary_emb)], 2)
            key = torch.cat([key[:, :, :num_text], apply_rotary_emb(key[:, :, num_text:], image_rotary_emb)], 2)

        if scene_layout is None:
            out = F.scaled_dot_product_attention(query, key, value)
        else:
            if scene_layout.num_text_tokens != num_text or scene_layout.total_length != seq:
                raise ValueError(
                    f"scene_layout (text {scene_layout.num_text_tokens}, total {scene_layout.total_length}) does not "
                    f"match the attention input (text {num_text}, total {seq})"
                )
            out = masked_attention(query, key, value, scene_layout, self.rule, self.backend)

        out = out.transpose(1, 2).reshape(batch, seq, -1)
        out = attn.to_out[1](attn.to_out[0](out))
        return out[:, num_text:], out[:, :num_text]
