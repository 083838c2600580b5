"""Long-video samplers with one interface: ``sampler(denoiser, noise, caption_ids) -> latents``.

``noise`` is ``(C, L, H, W)`` (the initial latent of all ``L`` latent frames), ``caption_ids`` ``(L,)``
gives each latent frame its own caption (frame-level prompts, Sec. 4.2) and the result is the clean
latent video ``(C, L, H, W)`` for the VAE. All samplers share a noise ladder (a :class:`FlowSchedule`:
``flow_sigmas(num_steps, shift)`` by default, or a diffusers scheduler's own) and a per-frame solver
(``solver="euler"`` or ``"unipc"``, see :mod:`~reference_models.pmwd.solvers`), so they can be swapped
by name with :func:`create_sampler`:

- ``plain``: ordinary synchronous sampling of one window (``L == W``);
- ``pmwd``: Parallel Multi-Window Denoising (Sec. 4.4): ``K`` overlapping windows denoised in one
  batch at every step, overlaps averaged, so later windows also refine earlier frames;
- ``sliding``: sequential sliding window: each new chunk of ``M`` frames is generated with the
  previous ``W - M`` clean frames as context, re-noised to ``context_sigma``;
- ``fifo``: FIFO-Diffusion-style diagonal denoising: a queue of frames at increasing noise levels,
  one clean frame out per iteration (Diffusion Forcing progress matrix with step-size 1).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from reference_models.pmwd.denoiser import Denoiser
from reference_models.pmwd.diffusion_forcing import progress_matrix
from reference_models.pmwd.flow_matching import NUM_TRAIN_TIMESTEPS, add_flow_noise
from reference_models.pmwd.solvers import FlowSchedule, SolverConfig, as_solver_config
from reference_models.pmwd.windowed_denoising import denoise_through_windows
from reference_models.pmwd.windows import band_window_starts, pmwd_window_starts


def _check_inputs(noise: torch.Tensor, caption_ids: torch.Tensor, window: int) -> None:
    if noise.ndim != 4:
        raise ValueError(f"noise must be (C, L, H, W) for one video, got shape {tuple(noise.shape)}")
    if caption_ids.shape != (noise.shape[1],):
        raise ValueError(
            f"caption_ids must give one caption per latent frame: shape ({noise.shape[1]},), "
            f"got {tuple(caption_ids.shape)}"
        )
    if noise.shape[1] < window:
        raise ValueError(f"{noise.shape[1]} latent frames is shorter than the model window ({window})")


@dataclass
class LongVideoSampler(ABC):
    """Common settings: ``num_steps`` steps on ``flow_sigmas(num_steps, shift)``, or on ``schedule`` (a
    :class:`FlowSchedule` such as ``FlowSchedule.from_diffusers(wan_scheduler, steps)``, which then sets
    ``num_steps``); ``solver``: ``"euler"``, ``"unipc"`` or a :class:`SolverConfig`;
    ``window`` = model window in latent frames (``None``: ``denoiser.window``)."""

    num_steps: int = 50
    shift: float = 5.0
    window: int | None = None
    solver: str | SolverConfig = "euler"
    schedule: FlowSchedule | None = None

    name = "base"

    def __post_init__(self) -> None:
        self.solver = as_solver_config(self.solver)
        if self.schedule is not None:
            self.num_steps = self.schedule.num_steps

    def window_for(self, denoiser: Denoiser) -> int:
        return int(self.window or denoiser.window)

    def schedule_for_run(self) -> FlowSchedule:
        """``schedule`` if given, else ``flow_sigmas(num_steps, shift)`` (sigma_0 just below 1 for UniPC)."""
        if self.schedule is not None:
            return self.schedule
        return FlowSchedule.linear(self.num_steps, self.shift, first_sigma_below_one=self.solver.name == "unipc")

    def sigmas(self) -> torch.Tensor:
        """The ``N + 1`` sigmas of the ladder in use."""
        return self.schedule_for_run().sigmas

    def __call__(self, denoiser: Denoiser, noise: torch.Tensor, caption_ids: torch.Tensor) -> torch.Tensor:
        window = self.window_for(denoiser)
        caption_ids = caption_ids.to(torch.long).cpu()
        _check_inputs(noise, caption_ids, window)
        return self.sample(denoiser, noise, caption_ids, window)

    @abstractmethod
    def sample(self, denoiser: Denoiser, noise: torch.Tensor, caption_ids: torch.Tensor, window: int) -> torch.Tensor:
        """Generate ``(C, L, H, W)`` clean latents from ``noise`` (inputs already checked)."""

    def synchronous(self, denoiser: Denoiser, x: torch.Tensor, ids: torch.Tensor, schedule: FlowSchedule,
                    context: torch.Tensor | None = None, context_timestep: float = 0.0) -> torch.Tensor:
        """``N`` synchronous solver steps of the frames ``x`` ``(C, M, H, W)`` with a fresh solver state, after
        optional fixed ``context`` frames ``(C, c, H, W)`` held at ``context_timestep``; ``ids`` covers context
        and new frames. One window forward per step."""
        frames = x.shape[1]
        n_ctx = 0 if context is None else context.shape[1]
        solver = self.solver.build(schedule)
        moving = torch.ones(frames, dtype=torch.bool)
        for i in range(schedule.num_steps):
            step = torch.full((frames,), i)
            t = torch.cat([torch.full((n_ctx,), float(context_timestep)), schedule.timestep_at(step)])[None]
            window_latents = x if context is None else torch.cat([context, x], dim=1)
            v = denoiser(window_latents[None], t, ids[None])[0][:, n_ctx:]
            x = solver.step(x, v, step, moving)
        return x


@dataclass
class PlainSampler(LongVideoSampler):
    """Synchronous sampling of exactly one window (Euler: ``x <- x + (sigma_{i+1} - sigma_i) v(x, sigma_i)``)."""

    name = "plain"

    def sample(self, denoiser: Denoiser, noise: torch.Tensor, caption_ids: torch.Tensor, window: int) -> torch.Tensor:
        if noise.shape[1] != window:
            raise ValueError(f"the plain sampler generates one window ({window} latent frames), got {noise.shape[1]}")
        return self.synchronous(denoiser, noise, caption_ids, self.schedule_for_run())


@dataclass
class PMWDSampler(LongVideoSampler):
    """Parallel Multi-Window Denoising (Sec. 4.4).

    Windows start at ``0, stride, 2*stride, ...`` with the last pinned at ``L - W``
    (``stride``: ``None`` = ``W // 2``, half-window overlap; the paper does not state its overlap).
    ``step_size`` > 0 runs a Diffusion Forcing progress matrix (earlier frames ahead by up to
    ``step_size`` steps per neighbour); 0 is synchronous. Windows without a moving frame are skipped.
    """

    stride: int | None = None
    step_size: int = 0

    name = "pmwd"

    def stride_for(self, window: int) -> int:
        return int(self.stride or max(window // 2, 1))

    def sample(self, denoiser: Denoiser, noise: torch.Tensor, caption_ids: torch.Tensor, window: int) -> torch.Tensor:
        num_frames = noise.shape[1]
        starts = pmwd_window_starts(num_frames, window, self.stride_for(window))
        starts_t = torch.tensor(starts)

        def plan(_iteration: int, moving: torch.Tensor) -> list[int]:
            if self.step_size == 0:
                return starts
            moving_sum = torch.cat([torch.zeros(1, dtype=torch.long), moving.long().cumsum(0)])
            busy = moving_sum[starts_t + window] > moving_sum[starts_t]
            return starts_t[busy].tolist()

        schedule = self.schedule_for_run()
        progress = progress_matrix(num_frames, schedule.num_steps, self.step_size)
        return denoise_through_windows(denoiser, noise, caption_ids, schedule, progress, plan, window,
                                       self.solver.build(schedule))


@dataclass
class FIFOSampler(LongVideoSampler):
    """FIFO-Diffusion-style diagonal denoising on a Diffusion Forcing model.

    Progress ``P[r, f] = clip(r - step_size * f, 0, N)``: with ``step_size = 1`` the frames in flight
    form a queue of ``N`` consecutive frames at ``N`` consecutive noise levels and the head leaves
    clean at every iteration. The queue is cut into windows of ``W`` from its noisy end backwards
    (latent partitioning) and all windows go through one batched forward; a window that reaches past
    the queue sees clean frames (or not-yet-started noise) as context without updating them.
    """

    step_size: int = 1

    name = "fifo"

    def sample(self, denoiser: Denoiser, noise: torch.Tensor, caption_ids: torch.Tensor, window: int) -> torch.Tensor:
        if self.step_size < 1:
            raise ValueError("FIFO needs step_size >= 1 (0 would be synchronous denoising of the whole video)")
        num_frames = noise.shape[1]

        def plan(_iteration: int, moving: torch.Tensor) -> list[int]:
            frames = moving.nonzero().flatten()
            return band_window_starts(int(frames[0]), int(frames[-1]) + 1, num_frames, window)

        schedule = self.schedule_for_run()
        progress = progress_matrix(num_frames, schedule.num_steps, self.step_size)
        return denoise_through_windows(denoiser, noise, caption_ids, schedule, progress, plan, window,
                                       self.solver.build(schedule))


@dataclass
class SlidingWindowSampler(LongVideoSampler):
    """Sequential sliding window (Sec. 4.4): a first window, then chunks of ``new_frames`` frames.

    Each chunk's window ends at its last new frame; the ``W - M`` frames before the chunk are the
    already generated clean latents re-noised once to ``context_sigma``
    (``(1 - s) x0 + s eps``, fresh ``eps`` from ``seed``) and held at timestep ``1000 * s``, while
    the new frames go from noise to clean in ``num_steps`` synchronous solver steps. ``new_frames``:
    ``None`` = ``W // 2``.
    """

    new_frames: int | None = None
    context_sigma: float = 0.02
    seed: int = 0

    name = "sliding"

    def sample(self, denoiser: Denoiser, noise: torch.Tensor, caption_ids: torch.Tensor, window: int) -> torch.Tensor:
        num_frames = noise.shape[1]
        chunk = int(self.new_frames or max(window // 2, 1))
        if not 1 <= chunk <= window:
            raise ValueError(f"new_frames must be between 1 and the window ({window}), got {chunk}")
        if not 0.0 <= self.context_sigma < 1.0:
            raise ValueError(f"context_sigma must be in [0, 1), got {self.context_sigma}")
        schedule = self.schedule_for_run()
        generator = torch.Generator(device="cpu").manual_seed(self.seed)
        out = noise.clone()
        out[:, :window] = self.synchronous(denoiser, noise[:, :window], caption_ids[:window], schedule)
        done = window
        while done < num_frames:
            end = min(done + chunk, num_frames)
            start = end - window
            n_ctx = done - start
            ctx_clean = out[:, start:done]
            eps = torch.randn(ctx_clean.shape, generator=generator, dtype=ctx_clean.dtype).to(ctx_clean.device)
            ctx_sigma = torch.full((n_ctx,), self.context_sigma, dtype=torch.float64)
            ctx = add_flow_noise(ctx_clean, eps, ctx_sigma, frame_dim=1)
            out[:, done:end] = self.synchronous(denoiser, noise[:, done:end], caption_ids[start:end], schedule,
                                                context=ctx, context_timestep=NUM_TRAIN_TIMESTEPS * self.context_sigma)
            done = end
        return out


SAMPLERS: dict[str, type[LongVideoSampler]] = {
    cls.name: cls for cls in (PlainSampler, PMWDSampler, FIFOSampler, SlidingWindowSampler)
}


def create_sampler(name: str, **settings) -> LongVideoSampler:
    """A sampler by name (``plain``, ``pmwd``, ``fifo``, ``sliding``) with its settings."""
    try:
        cls = SAMPLERS[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; choose one of {sorted(SAMPLERS)}") from None
    return cls(**settings)
