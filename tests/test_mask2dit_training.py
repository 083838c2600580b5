"""Segment-level conditional mask (Eq. 2), pre-training (Eq. 3) and the SFT mixing probability p."""

import numpy as np
import pytest
import torch

pytest.importorskip("diffusers")
from diffusers import CogVideoXDDIMScheduler  # noqa: E402

from reference_models.mask2dit import (  # noqa: E402
    conditional_scene_mask,
    masked_scene_loss,
    noisy_scene_inputs,
    training_step,
)


def zero_snr_scheduler():
    return CogVideoXDDIMScheduler(prediction_type="v_prediction", rescale_betas_zero_snr=True)


def scenes(batch=3, frames=(2, 1, 2), seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, f, 2, 4, 4, generator=gen) for f in frames]


class RecordingModel:
    """Stands in for the transformer: records its inputs, returns fixed per-scene predictions."""

    def __init__(self):
        self.calls = []

    def __call__(self, latents, prompts, timesteps):
        self.calls.append(([x.clone() for x in latents], timesteps.clone()))
        return [torch.zeros_like(x) for x in latents]


def test_conditioning_scenes_enter_clean_at_timestep_zero():
    scheduler = zero_snr_scheduler()
    clean, noise = scenes(), scenes(seed=1)
    t = torch.tensor([100, 500, 900])
    conditional = torch.tensor([True, False, True])
    inputs, scene_t = noisy_scene_inputs(clean, noise, t, conditional, scheduler)
    alpha_bar = scheduler.alphas_cumprod.double()
    for i in range(3):
        for b in range(3):
            a = alpha_bar[t[b]]
            noised = a.sqrt() * clean[i][b].double() + (1 - a).sqrt() * noise[i][b].double()  # z_t (Eq. 1)
            if conditional[b] and i < 2:
                assert torch.equal(inputs[i][b], clean[i][b])  # no noise at all, not add_noise(t=0)
                assert scene_t[b, i] == 0
            else:
                assert torch.allclose(inputs[i][b].double(), noised, atol=1e-5)
                assert scene_t[b, i] == t[b]


def test_loss_mask_and_value():
    weights = conditional_scene_mask(3, torch.tensor([True, False]))
    assert weights.tolist() == [[0, 0, 1], [1, 1, 1]]
    preds, targets = scenes(batch=2), scenes(batch=2, seed=5)
    loss = masked_scene_loss(preds, targets, weights)
    mse = [[float(((p[b].double() - t[b].double()) ** 2).mean()) for p, t in zip(preds, targets)] for b in range(2)]
    expected = np.mean([mse[0][2], np.mean(mse[1])])
    assert abs(float(loss) - expected) < 1e-6


def test_loss_ignores_conditioning_scene_outputs():
    weights = conditional_scene_mask(3, torch.tensor([True, True]))
    preds, targets = scenes(batch=2), scenes(batch=2, seed=5)
    base = masked_scene_loss(preds, targets, weights)
    perturbed = [preds[0] + 100.0, preds[1] * -3.0, preds[2]]
    assert torch.equal(masked_scene_loss(perturbed, targets, weights), base)
    moved_target = [preds[0], preds[1], preds[2] + 0.5]
    assert not torch.equal(masked_scene_loss(moved_target, targets, weights), base)
    leaves = [p.clone().requires_grad_(True) for p in preds]
    masked_scene_loss(leaves, targets, weights).backward()
    assert leaves[0].grad.abs().sum() == 0 and leaves[1].grad.abs().sum() == 0 and leaves[2].grad.abs().sum() > 0


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_sft_uses_conditional_mask_with_probability_p(p):
    scheduler, model = zero_snr_scheduler(), RecordingModel()
    gen = torch.Generator().manual_seed(11)
    clean, prompts = scenes(batch=8), [torch.zeros(8, 3, 4)] * 3
    draws = torch.cat([training_step(model, clean, prompts, scheduler, "sft", p, gen).conditional for _ in range(250)])
    rate = draws.float().mean().item()
    assert abs(rate - p) <= 4 * np.sqrt(p * (1 - p) / draws.numel()) + 1e-9  # binomial, 4 sigma
    # the model saw clean conditioning scenes exactly for the drawn samples
    latents, scene_t = model.calls[-1]
    for b, used in enumerate(draws[-8:].tolist()):
        assert torch.equal(latents[0][b], clean[0][b]) == used and bool(scene_t[b, 0] == 0) == used


def test_pretrain_never_uses_the_conditional_mask():
    scheduler, model = zero_snr_scheduler(), RecordingModel()
    gen = torch.Generator().manual_seed(3)
    clean, prompts = scenes(batch=4), [torch.zeros(4, 3, 4)] * 3
    for _ in range(20):
        out = training_step(model, clean, prompts, scheduler, "pretrain", 1.0, gen)
        assert not out.conditional.any() and bool((out.scene_weights == 1).all())
        latents, scene_t = model.calls[-1]
        assert bool((scene_t == out.timesteps[:, None]).all())
        assert not any(torch.equal(x, z) for x, z in zip(latents, clean))
    with pytest.raises(ValueError, match="stage must be one of"):
        training_step(model, clean, prompts, scheduler, "finetune")
