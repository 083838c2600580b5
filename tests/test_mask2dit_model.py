"""Mask²DiT on a tiny random diffusers CogVideoX: stock equivalence, multi-scene forward, loading."""

from types import SimpleNamespace

import pytest
import torch

pytest.importorskip("diffusers")
from diffusers import CogVideoXTransformer3DModel  # noqa: E402
from diffusers.pipelines.cogvideo.pipeline_cogvideox import (  # noqa: E402
    CogVideoXPipeline,
    get_resize_crop_region_for_grid,
)

from reference_models.mask2dit import MultiSceneTransformer  # noqa: E402
from reference_models.mask2dit.positions import centered_crop_region  # noqa: E402

TEXT_LEN, TEXT_DIM, CHANNELS, SIZE = 5, 12, 4, 8


def tiny_cogvideox(rotary: bool, seed: int = 0) -> CogVideoXTransformer3DModel:
    torch.manual_seed(seed)
    model = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=CHANNELS, out_channels=CHANNELS, time_embed_dim=8,
        text_embed_dim=TEXT_DIM, num_layers=2, sample_width=SIZE, sample_height=SIZE, sample_frames=9,
        max_text_seq_length=TEXT_LEN, use_rotary_positional_embeddings=rotary,
    ).eval()
    with torch.no_grad():  # random, non-zero weights everywhere (zero-init gates would hide bugs)
        for p in model.parameters():
            p.normal_(0.0, 0.3)
    return model


def stock_rotary(model, frames: int):
    """The CogVideoX pipeline's own RoPE for one clip (latent SIZE x SIZE, VAE factor 8)."""
    fake_pipeline = SimpleNamespace(transformer=model, vae_scale_factor_spatial=8)
    return CogVideoXPipeline._prepare_rotary_positional_embeddings(fake_pipeline, SIZE * 8, SIZE * 8, frames, "cpu")


def stock_output(model, latents, prompt, t, rotary: bool):
    rope = stock_rotary(model, latents.shape[1]) if rotary else None
    return model(latents, prompt, t, image_rotary_emb=rope).sample


def scene_inputs(frames, batch=2, seed=1):
    gen = torch.Generator().manual_seed(seed)
    latents = [torch.randn(batch, f, CHANNELS, SIZE, SIZE, generator=gen) for f in frames]
    prompts = [torch.randn(batch, TEXT_LEN, TEXT_DIM, generator=gen) for _ in frames]
    return latents, prompts


@pytest.mark.parametrize("rotary", [False, True])
def test_single_scene_v2_equals_stock_transformer(rotary):
    model = tiny_cogvideox(rotary)
    (latents,), (prompt,) = scene_inputs([3])
    t = torch.tensor([17, 640])
    with torch.no_grad():
        expected = stock_output(model, latents, prompt, t, rotary)
        (out,) = MultiSceneTransformer(model, "v2")([latents], [prompt], t)
    assert (out - expected).abs().max() < 1e-5


@pytest.mark.parametrize("rotary", [False, True])
def test_v1_per_scene_positions_equals_independent_stock_runs(rotary):
    """v1 is n independent text-video pairs (Sec. 3.2): each scene must match a stock run on its own."""
    model = tiny_cogvideox(rotary)
    latents, prompts = scene_inputs([2, 3, 1])
    scene_t = torch.tensor([[5, 300, 999], [0, 40, 700]])
    wrapper = MultiSceneTransformer(model, "v1", temporal_positions="per_scene")
    with torch.no_grad():
        outs = wrapper(latents, prompts, scene_t)
        for i, (x, p) in enumerate(zip(latents, prompts)):
            assert (outs[i] - stock_output(model, x, p, scene_t[:, i], rotary)).abs().max() < 1e-5


@pytest.mark.parametrize("num_scenes", [1, 2, 3])
def test_forward_and_training_step_for_n_scenes(num_scenes):
    from diffusers import CogVideoXDDIMScheduler

    from reference_models.mask2dit import training_step

    model = tiny_cogvideox(rotary=num_scenes == 2)
    wrapper = MultiSceneTransformer(model, "v2").train()
    latents, prompts = scene_inputs([2] * num_scenes)
    outs = wrapper(latents, prompts, torch.tensor([3, 500]))
    assert [o.shape for o in outs] == [x.shape for x in latents]
    scheduler = CogVideoXDDIMScheduler(prediction_type="v_prediction", rescale_betas_zero_snr=True)
    result = training_step(wrapper, latents, prompts, scheduler, stage="sft", conditional_probability=0.5,
                           generator=torch.Generator().manual_seed(num_scenes))
    assert torch.isfinite(result.loss)
    result.loss.backward()
    grad = model.transformer_blocks[0].attn1.to_q.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_backends_give_the_same_model_output():
    model = tiny_cogvideox(rotary=True)
    latents, prompts = scene_inputs([2, 1, 2])
    with torch.no_grad():
        outs = {b: MultiSceneTransformer(model, "v3", backend=b)(latents, prompts, 250) for b in ("dense", "grouped", "flex")}
    for name in ("grouped", "flex"):
        for a, b in zip(outs[name], outs["dense"]):
            assert (a - b).abs().max() < 1e-5


def test_other_prompts_reach_a_scene_only_through_video_attention():
    """Scene 2's prompt reaches scene 1 only through video<->video attention: never under v1, yes under v2."""
    model = tiny_cogvideox(rotary=False)
    latents, prompts = scene_inputs([2, 2])
    changed = [prompts[0], prompts[1] + 1.0]
    with torch.no_grad():
        v1 = MultiSceneTransformer(model, "v1")
        assert torch.equal(v1(latents, prompts, 10)[0], v1(latents, changed, 10)[0])
        v2 = MultiSceneTransformer(model, "v2")
        assert not torch.allclose(v2(latents, prompts, 10)[0], v2(latents, changed, 10)[0])


def test_crop_region_matches_pipeline():
    for grid in [(4, 4), (30, 45), (60, 30), (7, 3)]:
        assert centered_crop_region(grid, (30, 45)) == get_resize_crop_region_for_grid(grid, 45, 30)


def test_from_pretrained_local_folder(tmp_path):
    model = tiny_cogvideox(rotary=True)
    model.save_pretrained(tmp_path / "pipe" / "transformer")
    wrapper = MultiSceneTransformer.from_pretrained(str(tmp_path / "pipe"), variant="v4")
    latents, prompts = scene_inputs([1, 1])
    with torch.no_grad():
        a = wrapper(latents, prompts, 3)
        b = MultiSceneTransformer(model, "v4")(latents, prompts, 3)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    with pytest.raises(FileNotFoundError, match="no transformer config.json in"):
        MultiSceneTransformer.from_pretrained(str(tmp_path / "missing"))


def test_input_errors():
    wrapper = MultiSceneTransformer(tiny_cogvideox(rotary=False))
    latents, prompts = scene_inputs([1, 1])
    with pytest.raises(ValueError, match="one prompt embedding per scene"):
        wrapper(latents, prompts[:1], 3)
    with pytest.raises(ValueError, match="timesteps must be"):
        wrapper(latents, prompts, torch.zeros(2, 3))
