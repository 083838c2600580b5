"""Noise ladders and per-frame solvers (Euler, UniPC) for the flow-matching long-video samplers.

Wan is a flow-matching model: ``x_sigma = (1 - sigma) x0 + sigma eps`` and the network predicts the
velocity ``v = eps - x0``. A sampler walks a ladder ``sigma_0 > sigma_1 > ... > sigma_N = 0``
(:class:`FlowSchedule`); the solver turns the velocity at step ``i`` into the latent at step ``i + 1``.

Frames may sit at different steps (Diffusion Forcing schedules, FIFO's diagonal queue), so a solver
here keeps its state **per latent frame**: ``solver.step(x, v, before, moving)`` moves the frames with
``moving[f]`` from step ``before[f]`` to ``before[f] + 1`` and leaves the others untouched.

* :class:`EulerSolver`: ``x <- x + (sigma_{i+1} - sigma_i) v`` (first order, no state).
* :class:`UniPCSolver`: the multistep UniPC predictor-corrector (Zhao et al. 2023) as diffusers'
  ``UniPCMultistepScheduler`` runs it for Wan (``prediction_type="flow_prediction"``,
  ``predict_x0=True``, ``solver_type`` bh1/bh2, ``lower_order_final``). Each frame keeps its own
  history of data predictions ``m = x - sigma v`` and its last corrected sample, so a frame's update
  depends only on its own past steps; with all frames moving together it is exactly the stock scheduler.

Window fusion with a multistep solver (PMWD, FIFO): the windows covering a frame are fused **before**
the solver step by averaging their velocities, and one solver state is kept for the whole sequence
(not per window). The data prediction ``m = x - sigma v`` is linear in ``v`` and every UniPC update
(predictor and corrector) is affine in the current ``m`` given the frame's history, so this equals
stepping each window with the shared history and averaging the windows' updated latents; for Euler
it is exactly Gen-L-Video / PMWD's "average the latents after each step".
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

from reference_models.pmwd.flow_matching import NUM_TRAIN_TIMESTEPS, flow_sigmas

SOLVERS = ("euler", "unipc")


@dataclass(frozen=True)
class FlowSchedule:
    """``sigmas`` ``(N + 1,)`` float64 from about 1 down to 0, and the transformer's timestep input at each
    step, ``timesteps`` ``(N,)`` float32 (``1000 sigma_i``, or the scheduler's own, e.g. UniPC's integers)."""

    sigmas: torch.Tensor
    timesteps: torch.Tensor
    source: str = "linear"

    def __post_init__(self) -> None:
        sigmas = torch.as_tensor(self.sigmas, dtype=torch.float64).flatten()
        timesteps = torch.as_tensor(self.timesteps, dtype=torch.float32).flatten()
        if sigmas.numel() < 2 or timesteps.numel() != sigmas.numel() - 1:
            raise ValueError(f"a schedule needs N + 1 sigmas and N timesteps, got {sigmas.numel()} and "
                             f"{timesteps.numel()}")
        if not bool((sigmas[1:] < sigmas[:-1]).all()) or float(sigmas[-1]) != 0.0 or float(sigmas[0]) > 1.0:
            raise ValueError(f"sigmas must decrease from at most 1 to exactly 0, got {sigmas.tolist()}")
        object.__setattr__(self, "sigmas", sigmas)
        object.__setattr__(self, "timesteps", timesteps)

    @property
    def num_steps(self) -> int:
        return self.timesteps.numel()

    def timestep_at(self, progress: torch.Tensor) -> torch.Tensor:
        """Timestep input of frames that have taken ``progress`` steps (``N``: clean, timestep 0).

        >>> FlowSchedule.linear(2, shift=1.0).timestep_at(torch.tensor([0, 1, 2])).tolist()
        [1000.0, 500.0, 0.0]
        """
        progress = torch.as_tensor(progress, dtype=torch.long)
        table = torch.cat([self.timesteps, torch.zeros(1)])
        return table[progress.clamp(0, self.num_steps)]

    @classmethod
    def linear(cls, num_steps: int, shift: float = 5.0, first_sigma_below_one: bool = False) -> FlowSchedule:
        """The ladder of :func:`~reference_models.pmwd.flow_matching.flow_sigmas`, timesteps ``1000 sigma_i``.

        ``first_sigma_below_one`` lowers ``sigma_0 = 1`` by 1e-6, as diffusers' UniPC does (its
        ``log(1 - sigma)`` would be infinite at 1).

        >>> FlowSchedule.linear(2, shift=1.0).sigmas.tolist()
        [1.0, 0.5, 0.0]
        """
        sigmas = flow_sigmas(num_steps, shift).clone()
        if first_sigma_below_one and abs(float(sigmas[0]) - 1.0) < 1e-6:
            sigmas[0] -= 1e-6
        return cls(sigmas, (sigmas[:-1] * NUM_TRAIN_TIMESTEPS).float(), f"linear(shift={shift})")

    @classmethod
    def from_diffusers(cls, scheduler, num_steps: int) -> FlowSchedule:
        """The ladder and timesteps a diffusers flow-matching scheduler uses for ``num_steps`` steps.

        Works on a copy (``set_timesteps`` is called on it), for ``UniPCMultistepScheduler`` with
        ``use_flow_sigmas`` (Wan's default) and ``FlowMatchEulerDiscreteScheduler``.
        """
        check_flow_scheduler(scheduler)
        sched = copy.deepcopy(scheduler)
        sched.set_timesteps(num_steps, device="cpu")
        sigmas = torch.as_tensor(sched.sigmas, dtype=torch.float64).cpu()
        timesteps = torch.as_tensor(sched.timesteps).float().cpu()
        if sigmas.numel() != timesteps.numel() + 1:
            raise ValueError(f"{type(scheduler).__name__}: {sigmas.numel()} sigmas for {timesteps.numel()} timesteps")
        return cls(sigmas, timesteps, f"{type(scheduler).__name__}(shift={_shift_of(scheduler)})")


def _shift_of(scheduler) -> float | None:
    config = scheduler.config
    return config.get("flow_shift", config.get("shift"))


def check_flow_scheduler(scheduler) -> str:
    """``"unipc"`` or ``"euler"`` for a diffusers flow-matching scheduler; a clear error otherwise."""
    name = type(scheduler).__name__
    config = scheduler.config
    if name == "UniPCMultistepScheduler":
        if not config.get("use_flow_sigmas") or config.get("prediction_type") != "flow_prediction":
            raise ValueError("UniPCMultistepScheduler must use flow sigmas and flow_prediction (Wan's settings); "
                             f"got use_flow_sigmas={config.get('use_flow_sigmas')}, "
                             f"prediction_type={config.get('prediction_type')!r}")
        if config.get("final_sigmas_type", "zero") != "zero":
            raise ValueError("only final_sigmas_type='zero' is supported (the ladder must end at sigma 0)")
        if config.get("use_dynamic_shifting") or config.get("use_karras_sigmas") or config.get("thresholding"):
            raise ValueError("UniPC with dynamic shifting, Karras sigmas or thresholding is not supported")
        if config.get("solver_p") is not None or not config.get("predict_x0", True):
            raise ValueError("UniPC with solver_p or predict_x0=False is not supported")
        return "unipc"
    if name == "FlowMatchEulerDiscreteScheduler":
        if config.get("invert_sigmas") or config.get("stochastic_sampling"):
            raise ValueError("FlowMatchEulerDiscreteScheduler with invert_sigmas or stochastic_sampling is not supported")
        return "euler"
    raise ValueError(f"{name} is not a flow-matching scheduler the long-video samplers support "
                     "(UniPCMultistepScheduler with use_flow_sigmas, or FlowMatchEulerDiscreteScheduler)")


@dataclass(frozen=True)
class SolverConfig:
    """Which solver and its settings; ``build(schedule)`` makes the per-run state.

    ``order``, ``variant`` (``"bh1"``/``"bh2"``), ``lower_order_final`` and ``disable_corrector`` are UniPC's
    ``solver_order``, ``solver_type``, ``lower_order_final`` and ``disable_corrector``.
    """

    name: str = "euler"
    order: int = 2
    variant: str = "bh2"
    lower_order_final: bool = True
    disable_corrector: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.name not in SOLVERS:
            raise ValueError(f"unknown solver {self.name!r}; choose one of {', '.join(SOLVERS)}")
        if self.order < 1 or self.variant not in ("bh1", "bh2"):
            raise ValueError(f"UniPC needs order >= 1 and variant bh1 or bh2, got {self.order}, {self.variant!r}")
        object.__setattr__(self, "disable_corrector", tuple(int(i) for i in self.disable_corrector))

    def build(self, schedule: FlowSchedule) -> FrameSolver:
        if self.name == "euler":
            return EulerSolver(schedule)
        return UniPCSolver(schedule, self.order, self.variant, self.lower_order_final, self.disable_corrector)

    def describe(self) -> str:
        if self.name == "euler":
            return "euler"
        return f"unipc(order={self.order}, {self.variant}, lower_order_final={self.lower_order_final})"

    @classmethod
    def from_diffusers(cls, scheduler) -> SolverConfig:
        """The solver a diffusers flow scheduler runs: UniPC with its settings, or Euler."""
        if check_flow_scheduler(scheduler) == "euler":
            return cls("euler")
        c = scheduler.config
        return cls("unipc", int(c.get("solver_order", 2)), str(c.get("solver_type", "bh2")),
                   bool(c.get("lower_order_final", True)), tuple(c.get("disable_corrector", ()) or ()))


def as_solver_config(solver: str | SolverConfig) -> SolverConfig:
    """``SolverConfig(solver)`` for a name, the config itself otherwise."""
    return solver if isinstance(solver, SolverConfig) else SolverConfig(str(solver))


class FrameSolver(ABC):
    """One sampling run's solver state over the frames of a latent video ``(C, L, H, W)``."""

    def __init__(self, schedule: FlowSchedule):
        self.schedule = schedule

    @abstractmethod
    def step(self, x: torch.Tensor, velocity: torch.Tensor, before: torch.Tensor, moving: torch.Tensor) -> torch.Tensor:
        """New latents: frames with ``moving[f]`` go from step ``before[f]`` to ``before[f] + 1`` using
        ``velocity[:, f]``; the others are returned unchanged. ``x``/``velocity`` ``(C, L, H, W)``."""

    def _check(self, x: torch.Tensor, before: torch.Tensor, moving: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        before = torch.as_tensor(before, dtype=torch.long).cpu()
        moving = torch.as_tensor(moving, dtype=torch.bool).cpu()
        if before.shape != (x.shape[1],) or moving.shape != (x.shape[1],):
            raise ValueError(f"before/moving need one entry per latent frame ({x.shape[1]}), got "
                             f"{tuple(before.shape)} and {tuple(moving.shape)}")
        if bool(moving.any()) and (int(before[moving].min()) < 0 or int(before[moving].max()) >= self.schedule.num_steps):
            raise ValueError(f"moving frames must be at steps 0..{self.schedule.num_steps - 1}, got {before[moving].tolist()}")
        return before, moving


class EulerSolver(FrameSolver):
    """``x_f <- x_f + (sigma[i_f + 1] - sigma[i_f]) v_f`` for moving frames (``i_f = before[f]``).

    >>> s = EulerSolver(FlowSchedule.linear(2, shift=1.0))
    >>> s.step(torch.ones(1, 2, 1, 1), torch.ones(1, 2, 1, 1), torch.tensor([0, 1]), torch.tensor([True, False])).flatten()
    tensor([0.5000, 1.0000])
    """

    def step(self, x, velocity, before, moving):
        before, moving = self._check(x, before, moving)
        sig = self.schedule.sigmas
        after = torch.where(moving, before + 1, before).clamp(max=self.schedule.num_steps)
        delta = (sig[after] - sig[before]).to(device=x.device, dtype=x.dtype)
        return x + delta.view(1, -1, *([1] * (x.ndim - 2))) * velocity


def _lam(sigma: float) -> float:
    """UniPC's half log-SNR for flow sigmas: ``log(1 - sigma) - log(sigma)`` (``+inf`` at sigma 0)."""
    if sigma <= 0.0:
        return math.inf
    return math.log(1.0 - sigma) - math.log(sigma)


def _unipc_coefficients(lam_target: float, lam_s0: float, lam_hist: list[float], variant: str,
                        predictor: bool) -> tuple[float, float, np.ndarray, np.ndarray]:
    """``(h_phi_1, B_h, rhos, rks)`` of one UniPC update (bh variant) from half log-SNRs.

    ``lam_hist``: the half log-SNR of the history points used for the differences D1 (order - 1 of them).
    The predictor's rhos solve the leading ``order - 1`` equations (0.5 at order 2); the corrector's all
    ``order`` (0.5 at order 1). Float64 throughout.
    """
    order = len(lam_hist) + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        h = lam_target - lam_s0
        hh = -h
        h_phi_1 = math.expm1(hh) if math.isfinite(hh) else -1.0
        b_h = hh if variant == "bh1" else h_phi_1
        rks = np.array([(lam - lam_s0) / h for lam in lam_hist] + [1.0])
        h_phi_k = h_phi_1 / hh - 1.0
        factorial = 1.0
        rows, b = [], []
        for i in range(1, order + 1):
            rows.append(rks ** (i - 1))
            b.append(h_phi_k * factorial / b_h)
            factorial *= i + 1
            h_phi_k = h_phi_k / hh - 1.0 / factorial
        big_r, b = np.stack(rows), np.array(b)
    if predictor:
        if order == 1:
            rhos = np.zeros(0)
        elif order == 2:
            rhos = np.array([0.5])
        else:
            rhos = np.linalg.solve(big_r[:-1, :-1], b[:-1])
    else:
        rhos = np.array([0.5]) if order == 1 else np.linalg.solve(big_r, b)
    return h_phi_1, b_h, rhos, rks


class UniPCSolver(FrameSolver):
    """UniPC (bh1/bh2, data prediction) with one history per latent frame; see the module docstring.

    At step ``i`` of a frame (velocity ``v`` at its sample ``x_i``): ``m_i = x_i - sigma_i v``; if ``i > 0``
    the corrector recomputes ``x_i`` from the frame's previous corrected sample and ``m_{i-1}, m_{i-2}, ...``
    plus ``m_i``; the predictor then gives ``x_{i+1}`` from the corrected ``x_i`` and ``m_i, m_{i-1}, ...``.
    The order at step ``i`` is ``min(order, i + 1, N - i)`` (``N - i`` only with ``lower_order_final``), the
    corrector at step ``i`` uses the order of step ``i - 1``, as in diffusers' ``UniPCMultistepScheduler``.
    """

    def __init__(self, schedule: FlowSchedule, order: int = 2, variant: str = "bh2", lower_order_final: bool = True,
                 disable_corrector: tuple[int, ...] = ()):
        super().__init__(schedule)
        if float(schedule.sigmas[0]) >= 1.0:
            raise ValueError("UniPC needs sigma_0 < 1 (log(1 - sigma) is infinite at 1): use "
                             "FlowSchedule.linear(..., first_sigma_below_one=True) or FlowSchedule.from_diffusers")
        self.order, self.variant = int(order), variant
        self.lower_order_final = lower_order_final
        self.disable_corrector = set(disable_corrector)
        self.lams = [_lam(float(s)) for s in schedule.sigmas]
        self.history: list[torch.Tensor] | None = None  # newest first: m of each frame's last steps
        self.last_sample: torch.Tensor | None = None

    def order_at(self, i: int) -> int:
        """The predictor's order at step ``i`` (warm-up, and lower order at the last steps)."""
        order = min(self.order, i + 1)
        if self.lower_order_final:
            order = min(order, self.schedule.num_steps - i)
        return max(order, 1)

    def step(self, x, velocity, before, moving):
        before, moving = self._check(x, before, moving)
        if self.history is None:
            self.history = [torch.zeros_like(x) for _ in range(self.order)]
            self.last_sample = torch.zeros_like(x)
        out = x.clone()
        for i in sorted(set(before[moving].tolist())):
            frames = (moving & (before == i)).nonzero().flatten().to(x.device)
            out.index_copy_(1, frames, self._step_frames(x, velocity, frames, i))
        return out

    def _step_frames(self, x: torch.Tensor, velocity: torch.Tensor, frames: torch.Tensor, i: int) -> torch.Tensor:
        sig = self.schedule.sigmas
        sample = x.index_select(1, frames)
        m_new = sample - float(sig[i]) * velocity.index_select(1, frames).to(x.dtype)
        hist = [h.index_select(1, frames) for h in self.history]
        if i > 0 and (i - 1) not in self.disable_corrector:
            sample = self._correct(m_new, hist, self.last_sample.index_select(1, frames), i)
        hist = [m_new, *hist[:-1]]
        for k, h in enumerate(hist):
            self.history[k].index_copy_(1, frames, h)
        self.last_sample.index_copy_(1, frames, sample)
        return self._predict(sample, hist, i)

    def _predict(self, sample: torch.Tensor, hist: list[torch.Tensor], i: int) -> torch.Tensor:
        order = self.order_at(i)
        lams = self.lams
        sig = self.schedule.sigmas
        h_phi_1, b_h, rhos, rks = _unipc_coefficients(lams[i + 1], lams[i], [lams[i - k] for k in range(1, order)],
                                                      self.variant, predictor=True)
        sigma_t, sigma_s0 = float(sig[i + 1]), float(sig[i])
        alpha_t = 1.0 - sigma_t
        m0 = hist[0]
        out = (sigma_t / sigma_s0) * sample - (alpha_t * h_phi_1) * m0
        for k in range(1, order):
            out = out - (alpha_t * b_h * rhos[k - 1] / rks[k - 1]) * (hist[k] - m0)
        return out

    def _correct(self, m_new: torch.Tensor, hist: list[torch.Tensor], last: torch.Tensor, i: int) -> torch.Tensor:
        order = self.order_at(i - 1)
        lams = self.lams
        sig = self.schedule.sigmas
        h_phi_1, b_h, rhos, rks = _unipc_coefficients(lams[i], lams[i - 1],
                                                      [lams[i - 1 - k] for k in range(1, order)],
                                                      self.variant, predictor=False)
        sigma_t, sigma_s0 = float(sig[i]), float(sig[i - 1])
        alpha_t = 1.0 - sigma_t
        m0 = hist[0]
        out = (sigma_t / sigma_s0) * last - (alpha_t * h_phi_1) * m0
        for k in range(1, order):
            out = out - (alpha_t * b_h * rhos[k - 1] / rks[k - 1]) * (hist[k] - m0)
        return out - (alpha_t * b_h * rhos[-1]) * (m_new - m0)
