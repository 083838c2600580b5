"""Frame-level cross-attention (Eq. 1) against a per-frame float64 loop and against stock Wan attention."""

from __future__ import annotations

import copy
import math

import pytest
import torch

pytest.importorskip("diffusers")

from reference_models.pmwd.frame_cross_attention import (  # noqa: E402
    FrameLevelCrossAttnProcessor,
    frame_captions,
    install_frame_level_cross_attention,
)
from reference_models.pmwd.wan_denoiser import WanFrameDenoiser, build_random_wan, tiny_wan_config  # noqa: E402


def _cross_attention_module(seed: int = 0):
    from diffusers.models.transformers.transformer_wan import WanAttention

    torch.manual_seed(seed)
    attn = WanAttention(dim=24, heads=2, dim_head=12, eps=1e-6, cross_attention_dim_head=12)
    # random (not identity) RMSNorm gains so the norms matter
    with torch.no_grad():
        attn.norm_q.weight.uniform_(0.5, 1.5)
        attn.norm_k.weight.uniform_(0.5, 1.5)
    return attn.eval()


def per_frame_reference(attn, hidden, context, caption_index, caption_len) -> torch.Tensor:
    """Eq. 1 frame by frame in float64: softmax(q_f (c_f W_k)^T / sqrt(d)) (c_f W_v), then W_out."""
    attn = copy.deepcopy(attn).double()
    hidden, context = hidden.double(), context.double()
    batch, tokens, _ = hidden.shape
    frames = caption_index.shape[1]
    per = tokens // frames
    heads = attn.heads

    def rms(x, w, eps):
        return x / torch.sqrt((x**2).mean(-1, keepdim=True) + eps) * w

    out = torch.zeros(batch, tokens, attn.inner_dim, dtype=torch.float64)
    for b in range(batch):
        for f in range(frames):
            c = int(caption_index[b, f])
            text = context[b, c * caption_len:(c + 1) * caption_len]
            x = hidden[b, f * per:(f + 1) * per]
            q = rms(x @ attn.to_q.weight.T + attn.to_q.bias, attn.norm_q.weight, attn.norm_q.eps)
            k = rms(text @ attn.to_k.weight.T + attn.to_k.bias, attn.norm_k.weight, attn.norm_k.eps)
            v = text @ attn.to_v.weight.T + attn.to_v.bias
            d = q.shape[-1] // heads
            for h in range(heads):
                sl = slice(h * d, (h + 1) * d)
                weights = torch.softmax(q[:, sl] @ k[:, sl].T / math.sqrt(d), dim=-1)
                out[b, f * per:(f + 1) * per, sl] = weights @ v[:, sl]
    return out @ attn.to_out[0].weight.T + attn.to_out[0].bias


def test_processor_matches_per_frame_loop_with_repeated_captions():
    attn = _cross_attention_module()
    proc = FrameLevelCrossAttnProcessor()
    attn.set_processor(proc)
    gen = torch.Generator().manual_seed(1)
    batch, frames, per, caps, cap_len = 2, 5, 3, 3, 4
    hidden = torch.randn(batch, frames * per, 24, generator=gen)
    context = torch.randn(batch, caps * cap_len, 24, generator=gen)
    # captions repeat across frames (adaptive annotation) and differ between rows
    index = torch.tensor([[0, 0, 1, 2, 2], [2, 1, 1, 0, 1]])
    with frame_captions(proc, index, cap_len):
        got = attn(hidden, context)
    want = per_frame_reference(attn, hidden, context, index, cap_len)
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-5)
    # and it really is frame-dependent: the stock processor (all frames see all captions) differs
    attn.set_processor(type(attn)._default_processor_cls())
    assert not torch.allclose(attn(hidden, context), got, atol=1e-3)


def test_processor_rejects_out_of_range_caption_index():
    attn = _cross_attention_module()
    proc = FrameLevelCrossAttnProcessor()
    attn.set_processor(proc)
    hidden, context = torch.randn(1, 6, 24), torch.randn(1, 8, 24)
    with frame_captions(proc, torch.tensor([[0, 2]]), 4), pytest.raises(ValueError, match="caption_index"):
        attn(hidden, context)


def test_identical_captions_equal_stock_wan_model():
    """Whole tiny Wan: frame-level attention with one caption repeated == stock cross-attention."""
    stock = build_random_wan(tiny_wan_config(), seed=3)
    framed = copy.deepcopy(stock)
    install_frame_level_cross_attention(framed)
    gen = torch.Generator().manual_seed(2)
    latents = torch.randn(2, 4, 5, 4, 4, generator=gen)
    caption = torch.randn(2, 6, 16, generator=gen)
    t = torch.tensor([700.0, 250.0])
    with torch.no_grad():
        want = stock(latents, t, caption, return_dict=False)[0]
        denoiser = WanFrameDenoiser(framed, caption.reshape(-1, 6, 16)[[0, 1]], guidance_scale=1.0, window=5)
        ids = torch.tensor([[0] * 5, [1] * 5])
        got = denoiser(latents, t[:, None].expand(2, 5), ids)
        # the same caption supplied three times and indexed differently per frame
        proc = framed.blocks[0].attn2.processor
        triple = caption.repeat(1, 3, 1)
        with frame_captions(proc, torch.tensor([[0, 1, 2, 1, 0], [2, 2, 0, 1, 1]]), 6):
            got3 = framed(latents, t, triple, return_dict=False)[0]
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(got3, want, atol=1e-5, rtol=1e-4)


def test_per_frame_timesteps_equal_uniform_path():
    """Per-token timesteps (Diffusion Forcing path) with equal values == the ordinary (B,) path."""
    model = build_random_wan(tiny_wan_config(), seed=4)
    denoiser = WanFrameDenoiser(model, torch.randn(2, 6, 16), guidance_scale=1.0, window=5)
    x = torch.randn(1, 4, 5, 4, 4)
    ids = torch.tensor([[0, 0, 1, 1, 1]])
    uniform = denoiser(x, torch.full((1, 5), 400.0), ids)
    t = torch.full((1, 5), 400.0)
    t[0, 4] = 400.0 + 1e-3  # forces the per-token path with (almost) the same values
    per_token = denoiser(x, t, ids)
    torch.testing.assert_close(per_token, uniform, atol=1e-4, rtol=1e-4)
    varied = denoiser(x, torch.tensor([[0.0, 200.0, 400.0, 600.0, 800.0]]), ids)
    assert not torch.allclose(varied, uniform, atol=1e-3)
