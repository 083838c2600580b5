"""The denoising loop shared by PMWD and FIFO: a Diffusion Forcing schedule run through model windows.

At iteration ``r`` of a progress matrix ``P`` (:func:`~reference_models.pmwd.diffusion_forcing.progress_matrix`)
the frames with ``P[r, f] > P[r-1, f]`` move one step, from ``sigma[P[r-1, f]]`` to ``sigma[P[r, f]]``.
A window plan chooses which windows of ``W`` frames the model sees; all of them go through the
denoiser as one batch, each frame's velocity is the mean over the windows covering it, and every
moving frame takes one solver step with that mean (one solver state for the whole sequence):

    x_f <- solver(x_f, mean_{k covers f} v_k(f), step P[r-1, f] -> P[r, f])

With the Euler solver, ``x_f + (sigma[P[r, f]] - sigma[P[r-1, f]]) * mean v``, this equals averaging the
windows' updated latents after each step (Sec. 4.4); for UniPC see :mod:`~reference_models.pmwd.solvers`.
A moving frame that no window covers is an error, never silently skipped.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from reference_models.pmwd.denoiser import Denoiser
from reference_models.pmwd.solvers import FlowSchedule, FrameSolver
from reference_models.pmwd.windows import average_window_predictions, gather_windows, window_frame_index

#: given the iteration and the (L,) bool mask of moving frames, the window starts to evaluate
WindowPlan = Callable[[int, torch.Tensor], list[int]]


def denoise_through_windows(
    denoiser: Denoiser,
    latents: torch.Tensor,
    caption_ids: torch.Tensor,
    schedule: FlowSchedule,
    progress: torch.Tensor,
    plan: WindowPlan,
    window: int,
    solver: FrameSolver,
    on_iteration: Callable[[int, list[int]], None] | None = None,
) -> torch.Tensor:
    """Run ``progress`` over ``latents`` ``(C, L, H, W)`` and return the final latents.

    ``caption_ids`` ``(L,)``; ``schedule`` the ``N``-step ladder; ``progress`` ``(R + 1, L)`` with values
    in ``0..N`` starting at all 0 (the latents are then pure noise at ``sigma_0``), each column rising by at
    most 1 per iteration; ``solver`` the state of this run (``SolverConfig.build(schedule)``).
    """
    num_frames = latents.shape[1]
    if progress.shape[1] != num_frames or caption_ids.shape != (num_frames,):
        raise ValueError(
            f"progress {tuple(progress.shape)} and caption_ids {tuple(caption_ids.shape)} must have "
            f"one column/entry per latent frame ({num_frames})"
        )
    if progress.shape[0] > 1 and int((progress[1:] - progress[:-1]).max()) > 1:
        raise ValueError("a progress matrix may move a frame by at most one step per iteration")
    for r in range(1, progress.shape[0]):
        before, after = progress[r - 1], progress[r]
        moving = after > before
        if not bool(moving.any()):
            continue
        starts = plan(r, moving)
        index = window_frame_index(starts, window)
        timesteps = schedule.timestep_at(before)[index]
        velocity = denoiser(gather_windows(latents, index), timesteps, caption_ids[index])
        mean, count = average_window_predictions(velocity, index, num_frames)
        uncovered = moving & (count == 0)
        if bool(uncovered.any()):
            frames = uncovered.nonzero().flatten().tolist()
            raise RuntimeError(f"iteration {r}: frames {frames} move but no window covers them (window plan bug)")
        latents = solver.step(latents, mean, before, moving)
        if on_iteration is not None:
            on_iteration(r, starts)
    return latents
