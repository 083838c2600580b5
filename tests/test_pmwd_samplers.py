"""Window layouts, overlap averaging and the four samplers (toy denoisers with known outputs, tiny Wan)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from reference_models.pmwd.denoiser import CountingDenoiser
from reference_models.pmwd.flow_matching import flow_sigmas
from reference_models.pmwd.samplers import SAMPLERS, create_sampler
from reference_models.pmwd.windows import average_window_predictions, band_window_starts, pmwd_window_starts


class PositionToy:
    """v[b, :, j] = (j + 1) + 0.5 * x + caption_id / 10: depends on the position inside the window,
    so overlapping windows disagree about a frame, and on x, so averaging must happen every step."""

    def __init__(self, window: int):
        self.window = window
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def __call__(self, latents, timesteps, caption_ids):
        self.calls.append((timesteps.clone(), caption_ids.clone()))
        pos = torch.arange(1, latents.shape[2] + 1, dtype=latents.dtype)[None, None, :, None, None]
        return pos + 0.5 * latents + caption_ids.to(latents.dtype)[:, None, :, None, None] / 10


def reference_pmwd(noise: np.ndarray, ids: np.ndarray, window: int, starts: list[int], sigmas: np.ndarray):
    """PMWD by definition, float64 loops: every window steps its copy, overlapping frames averaged."""
    x = noise.astype(np.float64).copy()
    frames = x.shape[1]
    for i in range(len(sigmas) - 1):
        acc = np.zeros_like(x)
        n = np.zeros(frames)
        for s in starts:
            for j in range(window):
                f = s + j
                v = (j + 1) + 0.5 * x[:, f] + ids[f] / 10
                acc[:, f] += x[:, f] + (sigmas[i + 1] - sigmas[i]) * v  # the window's stepped latent
                n[f] += 1
        x = acc / n[None, :, None, None]
    return x


@pytest.mark.parametrize("frames,window,stride", [(f, w, s) for w in (1, 4, 7) for f in (w, w + 1, 2 * w + 3, 5 * w)
                                                  for s in range(1, w + 1)])
def test_pmwd_windows_cover_every_frame(frames, window, stride):
    starts = pmwd_window_starts(frames, window, stride)
    covered = np.zeros(frames, dtype=int)
    for s in starts:
        assert 0 <= s <= frames - window
        covered[s:s + window] += 1
    assert covered.min() >= 1
    assert len(starts) == math.ceil((frames - window) / stride) + 1
    assert starts == sorted(set(starts))


def test_pmwd_window_errors():
    with pytest.raises(ValueError, match="fewer than the model window"):
        pmwd_window_starts(3, 5, 2)
    with pytest.raises(ValueError, match="stride"):
        pmwd_window_starts(10, 5, 6)


@pytest.mark.parametrize("frames,window", [(5, 5), (12, 5), (23, 4), (9, 9)])
def test_band_windows_cover_band(frames, window):
    for lo in range(frames):
        for hi in range(lo + 1, frames + 1):
            starts = band_window_starts(lo, hi, frames, window)
            covered = set()
            for s in starts:
                assert 0 <= s <= frames - window
                covered |= set(range(s, s + window))
            assert set(range(lo, hi)) <= covered
            assert len(starts) <= math.ceil((hi - lo) / window) + 1


def test_average_window_predictions_against_loop():
    gen = torch.Generator().manual_seed(0)
    preds = torch.randn(3, 2, 4, 1, 1, generator=gen, dtype=torch.float64)
    starts = [0, 2, 5]
    index = torch.tensor(starts)[:, None] + torch.arange(4)[None]
    mean, count = average_window_predictions(preds, index, 9)
    for f in range(9):
        vals = [preds[k, :, f - s] for k, s in enumerate(starts) if s <= f < s + 4]
        assert count[f] == len(vals)
        torch.testing.assert_close(mean[:, f], torch.stack(vals).mean(0))


@pytest.mark.parametrize("frames,stride,steps", [(6, 3, 1), (13, 2, 3), (16, 4, 4), (11, 5, 2)])
def test_pmwd_averages_window_predictions_every_step(frames, stride, steps):
    window = 5
    gen = torch.Generator().manual_seed(frames)
    noise = torch.randn(2, frames, 2, 2, generator=gen, dtype=torch.float64)
    ids = torch.arange(frames) % 3
    toy = PositionToy(window)
    got = create_sampler("pmwd", num_steps=steps, shift=2.0, stride=stride)(toy, noise, ids)
    starts = pmwd_window_starts(frames, window, stride)
    want = reference_pmwd(noise.numpy(), ids.numpy(), window, starts, flow_sigmas(steps, 2.0).numpy())
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
    # one batched forward per step, all K windows in it
    assert len(toy.calls) == steps and all(t.shape[0] == len(starts) for t, _ in toy.calls)


def test_pmwd_with_diffusion_forcing_step_size_keeps_schedule():
    window, frames, steps = 4, 10, 3
    toy = PositionToy(window)
    out = create_sampler("pmwd", num_steps=steps, shift=1.0, stride=2, step_size=1)(toy, torch.zeros(1, frames, 1, 1),
                                                                                    torch.zeros(frames, dtype=torch.long))
    assert torch.isfinite(out).all()
    assert len(toy.calls) == steps + (frames - 1)  # iterations of the progress matrix
    first_t = toy.calls[0][0]
    # iteration 1: only frame 0 moves; frame 0 at t=1000, the rest waiting at t=1000 too
    assert torch.all(first_t == 1000.0)
    last_t = toy.calls[-1][0]
    assert float(last_t.min()) == 0.0  # clean frames serve as context at t=0 near the end


def test_fifo_is_a_diagonal_queue_with_one_clean_frame_per_iteration():
    window, frames, steps = 4, 9, 6
    toy = PositionToy(window)
    sampler = create_sampler("fifo", num_steps=steps, shift=1.0)
    out = sampler(toy, torch.randn(1, frames, 1, 1, generator=torch.Generator().manual_seed(0)),
                  torch.zeros(frames, dtype=torch.long))
    assert torch.isfinite(out).all()
    assert len(toy.calls) == steps + frames - 1
    sig = flow_sigmas(steps, 1.0).numpy()
    # at iteration r (1-based) frame f sits at sigma[r - 1 - f] if 0 <= r - 1 - f < steps: a diagonal
    r = steps + 2
    timesteps = toy.calls[r - 1][0]
    seen = {}
    for row, s in zip(timesteps, band_window_starts(r - steps, r, frames, window)):
        for j, t in enumerate(row.tolist()):
            seen[s + j] = t
    for f in range(r - steps, r):
        assert math.isclose(seen[f], 1000 * sig[r - 1 - f], rel_tol=1e-6)


def test_sliding_window_context_is_renoised_history():
    window, frames, steps = 4, 10, 2
    toy = PositionToy(window)
    sampler = create_sampler("sliding", num_steps=steps, shift=1.0, new_frames=2, context_sigma=0.1)
    ids = torch.arange(frames)
    out = sampler(toy, torch.zeros(1, frames, 1, 1), ids)
    chunks = math.ceil((frames - window) / 2)
    assert len(toy.calls) == steps * (1 + chunks)
    t, c = toy.calls[steps]  # first step of the first chunk: 2 context frames then 2 new ones
    assert t.tolist() == [[pytest.approx(100.0), pytest.approx(100.0), 1000.0, 1000.0]]
    assert c.tolist() == [[2, 3, 4, 5]]
    assert torch.isfinite(out).all()


@pytest.fixture(scope="module")
def tiny_wan_denoiser():
    pytest.importorskip("diffusers")
    from reference_models.pmwd.wan_denoiser import WanFrameDenoiser, build_random_wan, tiny_wan_config

    model = build_random_wan(tiny_wan_config(), seed=0)
    gen = torch.Generator().manual_seed(5)
    return WanFrameDenoiser(model, torch.randn(4, 6, 16, generator=gen), torch.randn(6, 16, generator=gen),
                            guidance_scale=4.0, window=5)


def test_pmwd_single_window_equals_plain_sampler(tiny_wan_denoiser):
    noise = torch.randn(4, 5, 4, 4, generator=torch.Generator().manual_seed(1))
    ids = torch.tensor([0, 0, 1, 2, 3])
    plain = create_sampler("plain", num_steps=4)(tiny_wan_denoiser, noise, ids)
    pmwd = create_sampler("pmwd", num_steps=4)(tiny_wan_denoiser, noise, ids)
    torch.testing.assert_close(pmwd, plain, atol=1e-6, rtol=1e-6)
    assert not torch.allclose(plain, noise, atol=1e-2)


@pytest.mark.parametrize("name", ["pmwd", "sliding", "fifo"])
def test_samplers_run_tiny_wan_at_three_windows(tiny_wan_denoiser, name):
    frames = 15
    noise = torch.randn(4, frames, 4, 4, generator=torch.Generator().manual_seed(2))
    ids = torch.arange(frames) // 4
    counted = CountingDenoiser(tiny_wan_denoiser)
    out = create_sampler(name, num_steps=3)(counted, noise, ids)
    assert out.shape == noise.shape and torch.isfinite(out).all()
    assert not torch.allclose(out[:, -1], noise[:, -1], atol=1e-2)  # the last frame was denoised too
    assert counted.stats.calls > 0


def test_batched_and_separate_forwards_agree(tiny_wan_denoiser):
    """PMWD's single batched forward == the same windows in separate forwards (max_batch=1)."""
    noise = torch.randn(4, 10, 4, 4, generator=torch.Generator().manual_seed(3))
    ids = torch.arange(10) % 4
    batched = create_sampler("pmwd", num_steps=2)(tiny_wan_denoiser, noise, ids)
    tiny_wan_denoiser.max_batch = 1
    try:
        separate = create_sampler("pmwd", num_steps=2)(tiny_wan_denoiser, noise, ids)
    finally:
        tiny_wan_denoiser.max_batch = None
    torch.testing.assert_close(batched, separate, atol=1e-5, rtol=1e-5)


def test_registry_and_input_errors():
    assert set(SAMPLERS) == {"plain", "pmwd", "sliding", "fifo"}
    with pytest.raises(ValueError, match="unknown sampler"):
        create_sampler("nope")
    toy = PositionToy(4)
    with pytest.raises(ValueError, match="one caption per latent frame"):
        create_sampler("pmwd", num_steps=1)(toy, torch.zeros(1, 6, 1, 1), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="shorter than the model window"):
        create_sampler("fifo", num_steps=1)(toy, torch.zeros(1, 3, 1, 1), torch.zeros(3, dtype=torch.long))
