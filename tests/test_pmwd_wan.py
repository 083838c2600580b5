"""Wan plumbing: bf16 random model (GPU benchmark path), UMT5 caption encoding, loader errors."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("diffusers")

from reference_models.pmwd.samplers import create_sampler  # noqa: E402
from reference_models.pmwd.wan_denoiser import (  # noqa: E402
    WanFrameDenoiser,
    build_random_wan,
    encode_prompts_umt5,
    load_wan_transformer,
    tiny_wan_config,
)


def test_bf16_random_wan_keeps_fp32_modules_and_samples():
    model = build_random_wan(tiny_wan_config(), dtype=torch.bfloat16)
    assert model.patch_embedding.weight.dtype == torch.bfloat16
    assert model.blocks[0].norm2.weight.dtype == torch.float32  # in Wan's _keep_in_fp32_modules
    assert model.scale_shift_table.dtype == torch.float32
    denoiser = WanFrameDenoiser(model, torch.randn(3, 6, 16), torch.randn(6, 16), guidance_scale=5.0, window=5,
                                max_batch=2)
    out = create_sampler("pmwd", num_steps=2, step_size=1)(denoiser, torch.randn(4, 8, 4, 4), torch.arange(8) % 3)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()


class FakeTokenizer:
    def __call__(self, prompts, padding, max_length, truncation, add_special_tokens, return_attention_mask,
                 return_tensors):
        assert padding == "max_length" and truncation
        ids = torch.zeros(len(prompts), max_length, dtype=torch.long)
        mask = torch.zeros(len(prompts), max_length, dtype=torch.long)
        for i, p in enumerate(prompts):
            n = min(len(p.split()), max_length)
            ids[i, :n] = torch.arange(1, n + 1)
            mask[i, :n] = 1
        return {"input_ids": ids, "attention_mask": mask}


class FakeEncoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(16, 3)

    def forward(self, ids, mask):
        class Out:
            last_hidden_state = self.embed(ids) + 1.0  # padded positions are non-zero before trimming

        return Out()


def test_encode_prompts_umt5_trims_and_zero_pads():
    enc = FakeEncoder()
    got = encode_prompts_umt5(["a b c", "one"], FakeTokenizer(), enc, max_length=5)
    assert got.shape == (2, 5, 3)
    torch.testing.assert_close(got[0, :3], enc.embed(torch.tensor([1, 2, 3])) + 1.0)
    assert torch.all(got[0, 3:] == 0) and torch.all(got[1, 1:] == 0)
    torch.testing.assert_close(got[1, 0], enc.embed(torch.tensor(1)) + 1.0)


def test_loader_names_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="Wan2.1-T2V-1.3B-Diffusers"):
        load_wan_transformer(tmp_path / "nope")


def test_denoiser_rejects_bad_caption_ids():
    model = build_random_wan(tiny_wan_config())
    denoiser = WanFrameDenoiser(model, torch.randn(2, 6, 16), guidance_scale=1.0, window=5)
    with pytest.raises(ValueError, match="index the 2 caption embeddings"):
        denoiser(torch.randn(1, 4, 5, 4, 4), torch.zeros(1, 5), torch.tensor([[0, 1, 2, 0, 0]]))
