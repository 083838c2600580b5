"""Diffusion Forcing: independent noise levels per latent frame (frame-level captions paper, Sec. 4.3).

Training (:func:`reference_segment_noise_levels`): a reference frame ``r`` and its noise level
``u_r ~ U(0, 1)`` are drawn; frames before it get cleaner levels and frames after it noisier ones,
each neighbour differing by an amount drawn from ``U(0, step_size)``:

    u_f = clip(u_r + sum_{g=r+1}^{f} d_g, 0, 1)   for f > r
    u_f = clip(u_r - sum_{g=f+1}^{r} d_g, 0, 1)   for f < r,     d_g ~ U(0, step_size)

so ``u`` is non-decreasing in ``f`` and ``|u_f - u_{f-1}| <= step_size`` (clipping is monotone and
1-Lipschitz, so it keeps both properties). ``step_size = 0`` is ordinary synchronous training.

Inference (:func:`progress_matrix`): an integer matrix ``P[r, f]`` = how many of the ``N``
denoising steps frame ``f`` has taken after iteration ``r``:

    P[r, f] = clip(r - step_size * (f // block), 0, N),   r = 0 .. N + step_size * (ceil(L / block) - 1)

Row 0 is pure noise, the last row is clean. ``step_size = 0`` is fully synchronous denoising,
``step_size >= N`` is autoregressive (a block starts only when the previous one is clean; larger
values act as ``N``), and values
in between interpolate: a neighbour is at most ``step_size`` steps behind (Sec. 4.3, "step-size").
This is the same staggering as SkyReels-V2's ``generate_timestep_matrix`` (``ar_step``), written as a
closed form.
"""

from __future__ import annotations

import math

import torch


def num_iterations(num_frames: int, num_steps: int, step_size: int, block: int = 1) -> int:
    """Iterations until every frame is clean: ``N + min(step_size, N) * (ceil(L / block) - 1)``."""
    return num_steps + min(int(step_size), num_steps) * (math.ceil(num_frames / block) - 1)


def progress_matrix(num_frames: int, num_steps: int, step_size: int = 0, block: int = 1) -> torch.Tensor:
    """Per-frame progress over iterations, ``(R + 1, L)`` int64 (see module docstring).

    ``P[0] == 0`` (all noise), ``P[R] == num_steps`` (all clean), each column is non-decreasing by at
    most 1 per iteration, and ``0 <= P[r, f-1] - P[r, f] <= step_size``.
    """
    if num_frames < 1 or num_steps < 1:
        raise ValueError(f"need num_frames >= 1 and num_steps >= 1, got {num_frames} and {num_steps}")
    if step_size < 0 or int(step_size) != step_size:
        raise ValueError(f"step_size must be a non-negative integer, got {step_size}")
    if block < 1:
        raise ValueError(f"block must be at least 1, got {block}")
    step_size = min(int(step_size), num_steps)  # beyond N a block would wait idle after its predecessor
    rows = num_iterations(num_frames, num_steps, step_size, block)
    r = torch.arange(rows + 1, dtype=torch.int64)[:, None]
    lag = step_size * (torch.arange(num_frames, dtype=torch.int64) // block)[None, :]
    return (r - lag).clamp(0, num_steps)


def reference_segment_noise_levels(
    batch: int,
    num_frames: int,
    step_size: float,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Training noise levels ``u`` in ``[0, 1]``, ``(batch, num_frames)`` float64 (see module docstring).

    ``u`` is a flow-matching ``sigma`` before any schedule shift; ``step_size`` is in the same units
    (``1.0`` lets neighbours differ by up to the whole range).
    """
    if step_size < 0:
        raise ValueError(f"step_size must be non-negative, got {step_size}")
    ref = torch.randint(0, num_frames, (batch, 1), generator=generator)
    u_ref = torch.rand(batch, 1, generator=generator, dtype=torch.float64)
    steps = torch.rand(batch, num_frames, generator=generator, dtype=torch.float64) * step_size
    steps[:, 0] = 0.0
    # offset of frame f from frame 0: cumulative sum of neighbour differences d_1..d_f
    offset = steps.cumsum(dim=1)
    u = u_ref + offset - offset.gather(1, ref)
    return u.clamp(0.0, 1.0).to(device)
