"""Frame-level cross-attention for diffusers' ``WanTransformer3DModel`` (frame-level captions paper, Eq. 1).

    CrossAttention(q_f, c_f) = softmax(q_f W_q (c_f W_k)^T / sqrt(d)) (c_f W_v)

The video tokens of latent frame ``f`` attend only to the tokens of their own caption ``c_f``;
self-attention (``attn1``) is left untouched and stays global over the whole window.

Layout. The transformer receives the captions of one batch row as a single sequence of
``C`` captions x ``S`` text tokens, ``encoder_hidden_states`` of shape ``(B, C * S, text_dim)``
(captions may repeat across frames, as with the paper's adaptive annotation, so ``C <= F``). The
processor is told which caption each latent frame uses through ``caption_index`` ``(B, F)`` with
values in ``[0, C)``. Inside the attention the keys/values are reshaped to ``(B, C, S, ...)``,
gathered per frame to ``(B * F, S, ...)`` and the queries to ``(B * F, T, ...)`` (``T`` tokens per
frame), so all frames go through one batched attention call.

With ``C = 1`` (or all captions identical) this is exactly Wan's stock cross-attention.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


class FrameLevelCrossAttnProcessor:
    """Attention processor for Wan's text cross-attention (``block.attn2``) implementing Eq. 1.

    One instance is shared by all blocks of a transformer (see :func:`install_frame_level_cross_attention`);
    set :attr:`caption_index` before every forward, e.g. with :func:`frame_captions`. When
    :attr:`caption_index` is ``None`` the processor behaves like the stock one (one caption per row).
    """

    _attention_backend = None
    _parallel_config = None

    def __init__(self) -> None:
        #: ``(B, F)`` int64: caption slot (in ``[0, C)``) used by each latent frame of each batch row
        self.caption_index: torch.Tensor | None = None

    def __call__(
        self,
        attn: torch.nn.Module,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        if encoder_hidden_states is None:
            raise ValueError("FrameLevelCrossAttnProcessor is for cross-attention (attn2); got no text states")
        if getattr(attn, "add_k_proj", None) is not None:
            raise NotImplementedError(
                "frame-level cross-attention supports Wan text-to-video only; this block has image "
                "cross-attention (I2V, add_k_proj)"
            )
        if attention_mask is not None:
            raise ValueError("frame-level cross-attention does not take an attention_mask (Wan passes none)")
        from diffusers.models.attention_dispatch import dispatch_attention_fn

        if getattr(attn, "fused_projections", False):
            query = attn.to_q(hidden_states)
            key, value = attn.to_kv(encoder_hidden_states).chunk(2, dim=-1)
        else:
            query = attn.to_q(hidden_states)
            key = attn.to_k(encoder_hidden_states)
            value = attn.to_v(encoder_hidden_states)
        query = attn.norm_q(query)
        key = attn.norm_k(key)

        batch, num_tokens, _ = query.shape
        heads = attn.heads
        index = self._index_for(batch, hidden_states.device)
        num_frames = index.shape[1]
        if num_tokens % num_frames:
            raise ValueError(
                f"{num_tokens} video tokens cannot be split into {num_frames} latent frames; "
                "caption_index must have one entry per latent frame of the input"
            )
        tokens_per_frame = num_tokens // num_frames
        text_len_total = key.shape[1]
        caption_len = self._caption_len(text_len_total)
        num_captions = text_len_total // caption_len
        # range check on CPU only: on an accelerator it would synchronise in every block
        if index.device.type == "cpu" and (int(index.max()) >= num_captions or int(index.min()) < 0):
            raise ValueError(
                f"caption_index values must lie in [0, {num_captions}) for {num_captions} captions of "
                f"{caption_len} tokens per row, got range [{int(index.min())}, {int(index.max())}]"
            )

        query = query.reshape(batch * num_frames, tokens_per_frame, heads, -1)
        key = key.reshape(batch, num_captions, caption_len, heads, -1)
        value = value.reshape(batch, num_captions, caption_len, heads, -1)
        rows = torch.arange(batch, device=index.device)[:, None].expand_as(index)
        key = key[rows, index].reshape(batch * num_frames, caption_len, heads, -1)
        value = value[rows, index].reshape(batch * num_frames, caption_len, heads, -1)

        out = dispatch_attention_fn(
            query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, backend=self._attention_backend
        )
        out = out.reshape(batch, num_tokens, -1).type_as(query)
        out = attn.to_out[0](out)
        return attn.to_out[1](out)

    # -- helpers -------------------------------------------------------------------------------------

    #: text tokens per caption; set by :func:`frame_captions` (Wan's UMT5 context is 512)
    caption_length: int | None = None

    def _caption_len(self, text_len_total: int) -> int:
        if self.caption_index is None:
            return text_len_total
        if self.caption_length is None:
            raise ValueError("caption_length is not set; use frame_captions(...) to set the layout")
        if text_len_total % self.caption_length:
            raise ValueError(
                f"encoder_hidden_states has {text_len_total} tokens per row, not a multiple of the "
                f"caption length {self.caption_length}"
            )
        return self.caption_length

    def _index_for(self, batch: int, device: torch.device) -> torch.Tensor:
        if self.caption_index is None:
            return torch.zeros(batch, 1, dtype=torch.long, device=device)
        index = self.caption_index.to(device=device, dtype=torch.long)
        if index.ndim == 1:
            index = index[None].expand(batch, -1)
        if index.ndim != 2 or index.shape[0] != batch:
            raise ValueError(f"caption_index must be (B={batch}, F), got shape {tuple(index.shape)}")
        return index


def install_frame_level_cross_attention(transformer: torch.nn.Module) -> FrameLevelCrossAttnProcessor:
    """Put one shared :class:`FrameLevelCrossAttnProcessor` on every ``block.attn2`` of a Wan transformer."""
    blocks = getattr(transformer, "blocks", None)
    if blocks is None or not all(hasattr(b, "attn2") for b in blocks):
        raise TypeError("expected a diffusers WanTransformer3DModel (with .blocks[i].attn2)")
    processor = FrameLevelCrossAttnProcessor()
    for block in blocks:
        block.attn2.set_processor(processor)
    return processor


def find_frame_level_processor(transformer: torch.nn.Module) -> FrameLevelCrossAttnProcessor | None:
    """The installed frame-level processor of ``transformer``, or ``None``."""
    for block in getattr(transformer, "blocks", []):
        proc = getattr(block.attn2, "processor", None)
        if isinstance(proc, FrameLevelCrossAttnProcessor):
            return proc
    return None


@contextmanager
def frame_captions(
    processor: FrameLevelCrossAttnProcessor, caption_index: torch.Tensor, caption_length: int
) -> Iterator[FrameLevelCrossAttnProcessor]:
    """Within the block, frame ``f`` of row ``b`` attends to caption ``caption_index[b, f]``.

    ``caption_length`` is ``S``, the number of text tokens per caption in ``encoder_hidden_states``.
    """
    previous = (processor.caption_index, processor.caption_length)
    processor.caption_index = caption_index
    processor.caption_length = int(caption_length)
    try:
        yield processor
    finally:
        processor.caption_index, processor.caption_length = previous
