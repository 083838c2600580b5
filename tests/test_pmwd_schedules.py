"""Flow-matching ladder, Diffusion Forcing progress matrix and training noise levels, training step."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from reference_models.pmwd.diffusion_forcing import (
    num_iterations,
    progress_matrix,
    reference_segment_noise_levels,
)
from reference_models.pmwd.flow_matching import add_flow_noise, euler_update, flow_sigmas
from reference_models.pmwd.training import diffusion_forcing_step


@pytest.mark.parametrize("steps,shift", [(1, 1.0), (4, 1.0), (10, 5.0), (50, 3.0)])
def test_flow_sigmas_match_float64_formula(steps, shift):
    s = np.array([1.0 - i / steps for i in range(steps + 1)])
    want = shift * s / (1.0 + (shift - 1.0) * s)
    got = flow_sigmas(steps, shift).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
    assert got[0] == 1.0 and got[-1] == 0.0 and np.all(np.diff(got) < 0)


def test_euler_update_and_noising_per_frame():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 2, 2, generator=gen, dtype=torch.float64)
    v = torch.randn(3, 4, 2, 2, generator=gen, dtype=torch.float64)
    s_from = torch.tensor([1.0, 0.5, 0.5, 0.2], dtype=torch.float64)
    s_to = torch.tensor([0.8, 0.5, 0.1, 0.0], dtype=torch.float64)
    got = euler_update(x, v, s_from, s_to, frame_dim=1)
    for f in range(4):
        np.testing.assert_allclose(got[:, f].numpy(), (x[:, f] + (s_to[f] - s_from[f]) * v[:, f]).numpy())
    assert torch.equal(got[:, 1], x[:, 1])  # a frame that does not move stays bit-identical
    # batched (B, F) sigmas on (B, C, F, H, W)
    x0, eps = x[None].repeat(2, 1, 1, 1, 1), v[None].repeat(2, 1, 1, 1, 1)
    sig = torch.tensor([[0.0, 0.25, 0.5, 1.0], [1.0, 1.0, 0.0, 0.3]], dtype=torch.float64)
    noisy = add_flow_noise(x0, eps, sig, frame_dim=2)
    for b, f in itertools.product(range(2), range(4)):
        want = (1 - sig[b, f].item()) * x0[b, :, f].numpy() + sig[b, f].item() * eps[b, :, f].numpy()
        np.testing.assert_allclose(noisy[b, :, f].numpy(), want, atol=1e-12)


@pytest.mark.parametrize(
    "frames,steps,step_size,block",
    [(f, n, s, b) for f in (1, 5, 21, 40) for n in (1, 4, 10) for s in (0, 1, 3, 12) for b in (1, 4)],
)
def test_progress_matrix_invariants(frames, steps, step_size, block):
    p = progress_matrix(frames, steps, step_size, block).numpy()
    assert p.shape == (num_iterations(frames, steps, step_size, block) + 1, frames)
    assert np.all(p[0] == 0) and np.all(p[-1] == steps)  # starts at noise, every frame reaches clean
    inc = np.diff(p, axis=0)
    assert np.all((inc == 0) | (inc == 1))  # monotone per frame, one step at a time
    assert np.all(inc.sum(axis=1) >= 1)  # no idle iteration
    lag = p[:, :-1] - p[:, 1:]
    assert np.all(lag >= 0) and np.all(lag <= step_size)  # neighbours within step-size, earlier ahead
    if step_size == 0:
        assert p.shape[0] == steps + 1 and np.all(p == p[:, :1])  # synchronous
    # block structure: frames of a block share progress
    for f in range(frames):
        assert np.array_equal(p[:, f], p[:, (f // block) * block])


def test_progress_matrix_autoregressive_limit():
    """step_size == N: frame f starts exactly when frame f-1 is clean (hand-worked 3 frames x 2 steps)."""
    p = progress_matrix(3, 2, 2).tolist()
    assert p == [[0, 0, 0], [1, 0, 0], [2, 0, 0], [2, 1, 0], [2, 2, 0], [2, 2, 1], [2, 2, 2]]


@pytest.mark.parametrize("step_size", [0.0, 0.05, 0.3, 1.0])
def test_training_noise_levels_invariants(step_size):
    gen = torch.Generator().manual_seed(7)
    u = reference_segment_noise_levels(400, 9, step_size, generator=gen).numpy()
    assert u.shape == (400, 9) and u.min() >= 0.0 and u.max() <= 1.0
    d = np.diff(u, axis=1)
    assert np.all(d >= -1e-15) and np.all(d <= step_size + 1e-12)  # later frames noisier, bounded
    if step_size == 0.0:
        assert np.all(u == u[:, :1])
    else:
        assert np.mean(u[:, -1] - u[:, 0]) > 0.5 * step_size  # the levels really spread


def test_training_noise_levels_reference_is_uniform():
    """With step_size 0 each row's level is U(0, 1): mean 1/2, variance 1/12."""
    u = reference_segment_noise_levels(20000, 3, 0.0, generator=torch.Generator().manual_seed(0))[:, 0].numpy()
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005


def test_training_step_oracle_has_zero_loss_and_targets_are_velocity():
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(2, 3, 6, 2, 2, generator=gen)
    noise = torch.randn(2, 3, 6, 2, 2, generator=gen)
    seen = {}

    def oracle(x_t, timesteps, caption_ids):
        seen["x_t"], seen["t"] = x_t, timesteps
        return noise - x0  # the exact flow-matching velocity

    step = diffusion_forcing_step(oracle, x0, torch.zeros(2, 6, dtype=torch.long), step_size=0.2,
                                  generator=torch.Generator().manual_seed(1), noise=noise)
    assert step.sigmas.shape == (2, 6) and float(step.loss) == 0.0
    sig = step.sigmas.numpy()
    np.testing.assert_allclose(seen["t"].numpy(), 1000 * sig, rtol=1e-6)
    for b, f in itertools.product(range(2), range(6)):
        want = (1 - sig[b, f]) * x0[b, :, f].double().numpy() + sig[b, f] * noise[b, :, f].double().numpy()
        np.testing.assert_allclose(seen["x_t"][b, :, f].numpy(), want, atol=1e-6)
    assert np.all(np.diff(sig, axis=1) >= 0) and np.all(np.diff(sig, axis=1) <= 0.2 + 1e-12)

    def zero(x_t, timesteps, caption_ids):
        return torch.zeros_like(x_t)

    step0 = diffusion_forcing_step(zero, x0, torch.zeros(2, 6, dtype=torch.long), noise=noise,
                                   generator=torch.Generator().manual_seed(1))
    want = float(np.mean((noise.numpy().astype(np.float64) - x0.numpy()) ** 2))
    assert math.isclose(float(step0.loss), want, rel_tol=1e-5)


def test_training_step_backpropagates_through_tiny_wan():
    pytest.importorskip("diffusers")
    from reference_models.pmwd.wan_denoiser import WanFrameDenoiser, build_random_wan, tiny_wan_config

    model = build_random_wan(tiny_wan_config(), seed=0).train()
    denoiser = WanFrameDenoiser(model, torch.randn(3, 6, 16), guidance_scale=1.0, window=5)
    x0 = torch.randn(2, 4, 5, 4, 4)
    ids = torch.tensor([[0, 0, 1, 2, 2], [1, 1, 1, 0, 0]])
    step = diffusion_forcing_step(denoiser.predict, x0, ids, step_size=0.3, generator=torch.Generator().manual_seed(0))
    step.loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert torch.isfinite(step.loss) and all(g is not None for g in grads)
    assert model.blocks[0].attn2.to_k.weight.grad.abs().sum() > 0  # text cross-attention is trained


def test_training_step_never_applies_guidance():
    """The Diffusion Forcing loss is the same whether the denoiser has negative embeddings (CFG at sampling) or not,
    called through ``predict`` or as the denoiser object itself."""
    pytest.importorskip("diffusers")
    from reference_models.pmwd.wan_denoiser import WanFrameDenoiser, build_random_wan, tiny_wan_config

    model = build_random_wan(tiny_wan_config(), seed=0)
    gen = torch.Generator().manual_seed(4)
    captions, negative = torch.randn(2, 6, 16, generator=gen), torch.randn(6, 16, generator=gen)
    x0 = torch.randn(1, 4, 5, 4, 4, generator=gen)
    ids = torch.tensor([[0, 0, 1, 1, 1]])
    plain = WanFrameDenoiser(model, captions, guidance_scale=1.0, window=5)
    guided = WanFrameDenoiser(model, captions, negative, guidance_scale=5.0, window=5)
    losses = [float(diffusion_forcing_step(fn, x0, ids, step_size=0.3, generator=torch.Generator().manual_seed(0)).loss.detach())
              for fn in (plain.predict, guided.predict, guided)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-6) == pytest.approx(losses[2], rel=1e-6)
    # sampling does guide: the guided call differs from the conditional prediction
    t = torch.full((1, 5), 500.0)
    assert not torch.allclose(guided(x0, t, ids), guided.predict(x0, t, ids).detach(), atol=1e-4)
