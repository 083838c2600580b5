"""Per-frame solvers against diffusers' own schedulers (the reference), and the window-fusion rule.

The reference for UniPC is diffusers' ``UniPCMultistepScheduler`` configured as Wan's scheduler folder
(flow sigmas, flow_prediction); for Euler, ``FlowMatchEulerDiscreteScheduler``. Toy velocity fields are
per frame, so a frame's trajectory must not depend on when its neighbours move.
"""

from __future__ import annotations

import copy

import pytest
import torch

pytest.importorskip("diffusers")

from diffusers import FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler  # noqa: E402

from reference_models.pmwd.samplers import create_sampler  # noqa: E402
from reference_models.pmwd.solvers import FlowSchedule, SolverConfig, UniPCSolver  # noqa: E402


def wan_unipc(**overrides) -> UniPCMultistepScheduler:
    settings = dict(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0, solver_order=2,
                    solver_type="bh2", lower_order_final=True, num_train_timesteps=1000)
    return UniPCMultistepScheduler(**{**settings, **overrides})


def toy_velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Nonlinear in x and t, frame by frame (t broadcast over the frame axis of (C, F, H, W))."""
    t = t.to(x.dtype).view(1, -1, 1, 1) / 1000.0
    return torch.sin(3 * x) * t + 0.3 * x - t


class PerFrameToy:
    """Denoiser whose velocity of frame f depends only on frame f (so windows agree, and order is irrelevant)."""

    def __init__(self, window: int):
        self.window = window
        self.calls = 0

    def __call__(self, latents, timesteps, caption_ids):
        self.calls += 1
        return torch.stack([toy_velocity(lat, t) for lat, t in zip(latents, timesteps)])


def diffusers_loop(scheduler, x: torch.Tensor, steps: int) -> torch.Tensor:
    scheduler.set_timesteps(steps)
    for t in scheduler.timesteps:
        x = scheduler.step(toy_velocity(x, t.expand(x.shape[1]).float()), t, x, return_dict=False)[0]
    return x


@pytest.mark.parametrize("order,variant,steps", [(2, "bh2", 1), (2, "bh2", 2), (2, "bh2", 10), (3, "bh2", 7),
                                                 (1, "bh2", 5), (2, "bh2", 50), (3, "bh2", 25)])
def test_unipc_synchronous_equals_diffusers_scheduler(order, variant, steps):
    x0 = torch.randn(2, 4, 3, 3, generator=torch.Generator().manual_seed(steps), dtype=torch.float64)
    want = diffusers_loop(wan_unipc(solver_order=order, solver_type=variant), x0.clone(), steps)
    schedule = FlowSchedule.from_diffusers(wan_unipc(solver_order=order, solver_type=variant), steps)
    config = SolverConfig.from_diffusers(wan_unipc(solver_order=order, solver_type=variant))
    assert (config.name, config.order, config.variant) == ("unipc", order, variant)
    got = create_sampler("plain", schedule=schedule, solver=config)(PerFrameToy(4), x0.clone(), torch.zeros(4))
    torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)
    assert not torch.allclose(got, x0, atol=1e-2)


def test_euler_on_flow_match_euler_scheduler_equals_diffusers():
    steps = 6
    x0 = torch.randn(3, 5, 2, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    want = diffusers_loop(FlowMatchEulerDiscreteScheduler(shift=3.0), x0.clone(), steps)
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0)
    schedule = FlowSchedule.from_diffusers(scheduler, steps)
    got = create_sampler("plain", schedule=schedule, solver=SolverConfig.from_diffusers(scheduler))(
        PerFrameToy(5), x0.clone(), torch.zeros(5))
    torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("name,settings", [("pmwd", {"step_size": 1, "stride": 2}), ("pmwd", {"step_size": 3}),
                                           ("fifo", {}), ("pmwd", {})])
def test_unipc_state_is_per_frame_under_diffusion_forcing(name, settings):
    """Frames at different steps (Diffusion Forcing / FIFO diagonals): every frame's trajectory equals its own
    synchronous run of the stock UniPC scheduler, because the toy velocity is per frame."""
    steps, frames, window = 8, 9, 4
    x0 = torch.randn(2, frames, 2, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    schedule = FlowSchedule.from_diffusers(wan_unipc(), steps)
    got = create_sampler(name, schedule=schedule, solver="unipc", **settings)(PerFrameToy(window), x0.clone(),
                                                                             torch.zeros(frames))
    for f in range(frames):
        want = diffusers_loop(wan_unipc(), x0[:, f:f + 1].clone(), steps)
        torch.testing.assert_close(got[:, f:f + 1], want, atol=1e-6, rtol=1e-6)


def test_unipc_update_is_affine_in_the_fused_velocity():
    """Fusing windows before the step == stepping each window with the shared history and averaging."""
    schedule = FlowSchedule.from_diffusers(wan_unipc(solver_order=3), 9)
    solver = UniPCSolver(schedule, order=3)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 2, 2, generator=gen, dtype=torch.float64)
    moving = torch.ones(3, dtype=torch.bool)
    for i in range(4):  # build a history
        x = solver.step(x, torch.randn(x.shape, generator=gen, dtype=torch.float64), torch.full((3,), i), moving)
    windows = [torch.randn(x.shape, generator=gen, dtype=torch.float64) for _ in range(3)]
    fused = copy.deepcopy(solver).step(x, torch.stack(windows).mean(0), torch.full((3,), 4), moving)
    per_window = torch.stack([copy.deepcopy(solver).step(x, v, torch.full((3,), 4), moving) for v in windows])
    torch.testing.assert_close(fused, per_window.mean(0), atol=1e-10, rtol=1e-10)


def test_schedules_and_solver_errors():
    with pytest.raises(ValueError, match="sigma_0 < 1"):
        UniPCSolver(FlowSchedule.linear(4, 3.0))
    linear = FlowSchedule.linear(4, 3.0, first_sigma_below_one=True)
    assert float(linear.sigmas[0]) == pytest.approx(1 - 1e-6) and float(linear.sigmas[-1]) == 0.0
    assert linear.timestep_at(torch.tensor([4])).item() == 0.0
    with pytest.raises(ValueError, match="flow-matching scheduler"):
        from diffusers import DDIMScheduler

        SolverConfig.from_diffusers(DDIMScheduler())
    with pytest.raises(ValueError, match="flow sigmas"):
        SolverConfig.from_diffusers(UniPCMultistepScheduler())
    with pytest.raises(ValueError, match="unknown solver"):
        SolverConfig("heun")
    with pytest.raises(ValueError, match="decrease"):
        FlowSchedule(torch.tensor([1.0, 0.5, 0.6, 0.0]), torch.zeros(3))
    # UniPC's ladder is not the linear one: sigma_0 = shift(1 - 1/1000 ... ) and integer timesteps
    unipc = FlowSchedule.from_diffusers(wan_unipc(), 4)
    assert unipc.timesteps.tolist() == [float(int(t)) for t in unipc.timesteps.tolist()]
    assert unipc.num_steps == 4 and float(unipc.sigmas[0]) < 1.0
