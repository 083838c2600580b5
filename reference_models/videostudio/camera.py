"""Camera movement as a latent warp at sampling step T_m (VideoStudio Sec. 3.3; supplementary Eq. 2).

After the first ``T_m`` sampling steps the noisy latent video ``x`` (now at the next noise level, with
weights ``alpha``, ``sigma``: ``x = alpha x0 + sigma eps``) is decomposed with the noise ``eps_hat``
estimated at step ``T_m``, half of its clean estimate is replaced by a warped copy, and it is re-noised with
the same ``eps_hat``:

    x0_hat = (x - sigma * eps_hat) / alpha
    x0_bar = 0.5 * x0_hat + 0.5 * warp(x0_hat, flow)
    x_bar  = alpha * x0_bar + sigma * eps_hat

``warp`` moves each frame by the camera's optical flow relative to its neighbour: frame 0 is kept and frame
``k`` becomes frame ``k - 1`` displaced by one frame's motion (the paper warps "the neighbouring frames" by
the camera direction and speed and gives no magnitudes). Choices, all options:

* translation per latent frame: ``SPEED_FRACTION[speed]`` of the frame width (left/right) or height
  (up/down): 1% slow, 2% medium, 4% fast; zoom per latent frame: a scale of ``1 + SPEED_FRACTION[speed]``
  (forward) or its inverse (backward) about the centre;
* a camera moving left shows the scene moving right in the image (and so on for up/down);
* bilinear sampling with border padding (``grid_sample``, ``align_corners=False``).

``eps_hat`` and the noise levels come from the scheduler: ``alpha = sqrt(alphabar)``, ``sigma = sqrt(1 -
alphabar)`` for DDIM-type schedulers (epsilon or v prediction: ``eps = sigma_t x_t + alpha_t v``), and
``alpha = 1 - sigma`` for flow matching (``eps = x_t + (1 - sigma_t) v``).
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .script import CameraMove

#: motion per latent frame as a fraction of the frame size (translation) or of the scale (zoom)
SPEED_FRACTION = {"slow": 0.01, "medium": 0.02, "fast": 0.04}


def _affine_grid(move: CameraMove, height: int, width: int, fraction: float, device, dtype) -> torch.Tensor:
    """``[1, H, W, 2]`` sampling grid of one frame's camera motion (normalised coordinates in [-1, 1])."""
    theta = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    if move.direction in ("left", "right"):
        shift = 2.0 * fraction  # the normalised width is 2
        theta[0, 2] = -shift if move.direction == "left" else shift
    elif move.direction in ("up", "down"):
        shift = 2.0 * fraction
        theta[1, 2] = -shift if move.direction == "up" else shift
    elif move.direction in ("forward", "backward"):
        scale = 1.0 + fraction if move.direction == "forward" else 1.0 / (1.0 + fraction)
        theta[0, 0] = theta[1, 1] = 1.0 / scale
    return F.affine_grid(theta[None].to(dtype=torch.float32), [1, 1, height, width], align_corners=False).to(
        device=device, dtype=dtype)


def warp_frames(video: torch.Tensor, move: CameraMove, frame_dim: int, speed_fraction: dict[str, float] | None = None
                ) -> torch.Tensor:
    """``warp(x0, flow)``: frame 0 kept, frame ``k`` = frame ``k - 1`` moved by one frame of the camera motion.

    ``video`` has its frames along ``frame_dim`` and height, width last (e.g. ``[B, F, C, H, W]``,
    ``frame_dim=1``, or ``[B, C, F, H, W]``, ``frame_dim=2``). A static camera returns ``video`` itself.

    >>> v = torch.arange(8.0).view(1, 2, 1, 1, 4)
    >>> warp_frames(v, CameraMove("left", "fast"), 1, {"fast": 0.25})[0, 1, 0, 0].tolist()  # moved 1 px right
    [0.0, 0.0, 1.0, 2.0]
    """
    if move.direction == "static" or video.shape[frame_dim] < 2:
        return video
    fraction = (speed_fraction or SPEED_FRACTION)[move.speed]
    moved = video.movedim(frame_dim, 0)  # [F, ..., H, W]
    frames, height, width = moved.shape[0], moved.shape[-2], moved.shape[-1]
    previous = moved[:-1].reshape(frames - 1, -1, height, width)
    grid = _affine_grid(move, height, width, fraction, video.device, torch.float32).expand(frames - 1, -1, -1, -1)
    warped = F.grid_sample(previous.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    warped = warped.to(video.dtype).reshape(moved[1:].shape)
    return torch.cat([moved[:1], warped]).movedim(0, frame_dim)


def camera_adjustment(x: torch.Tensor, eps_hat: torch.Tensor, alpha: float, sigma: float, move: CameraMove,
                      frame_dim: int, blend: float = 0.5, speed_fraction: dict[str, float] | None = None
                      ) -> torch.Tensor:
    """Supplementary Eq. 2 on the latent ``x`` at noise level ``(alpha, sigma)`` with the step's ``eps_hat``.

    >>> x, eps = torch.ones(1, 2, 1, 1, 2), torch.zeros(1, 2, 1, 1, 2)
    >>> torch.equal(camera_adjustment(x, eps, 0.8, 0.6, CameraMove("static"), 1), x)
    True
    """
    if move.direction == "static":
        return x
    x0_hat = (x.float() - sigma * eps_hat.float()) / alpha
    x0_bar = (1.0 - blend) * x0_hat + blend * warp_frames(x0_hat, move, frame_dim, speed_fraction)
    return (alpha * x0_bar + sigma * eps_hat.float()).to(x.dtype)


@dataclass
class StepRecord:
    """What one ``scheduler.step`` call saw: the model output, the timestep and the sample it stepped."""

    model_output: torch.Tensor
    timestep: torch.Tensor
    sample: torch.Tensor


def record_steps(scheduler) -> list[StepRecord]:
    """Wrap ``scheduler.step`` (on this instance, keeping its signature) to append a :class:`StepRecord` per call.

    Undo with :func:`stop_recording`.
    """
    original = scheduler.step
    records: list[StepRecord] = []
    signature = inspect.signature(original)

    @functools.wraps(original)
    def step(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        records.append(StepRecord(bound.arguments["model_output"], bound.arguments["timestep"],
                                  bound.arguments["sample"]))
        return original(*args, **kwargs)

    scheduler.step = step
    return records


def stop_recording(scheduler) -> None:
    """Remove the wrapper of :func:`record_steps` (the class's ``step`` shows through again)."""
    scheduler.__dict__.pop("step", None)


def noise_levels(scheduler, timestep) -> tuple[tuple[float, float], tuple[float, float], str]:
    """``((alpha_t, sigma_t), (alpha_next, sigma_next), kind)`` around one step of a diffusers scheduler.

    ``kind`` is ``"epsilon"``, ``"v_prediction"`` (DDIM-type: next timestep ``t - T // N``, or the final
    alpha below 0) or ``"flow"`` (``sigmas`` of the step and the next one).
    """
    config = scheduler.config
    t = int(torch.as_tensor(timestep).flatten()[0].item())
    if hasattr(scheduler, "alphas_cumprod") and config.get("prediction_type") in ("epsilon", "v_prediction"):
        cumprod = scheduler.alphas_cumprod
        prev = t - config.num_train_timesteps // scheduler.num_inference_steps
        final = getattr(scheduler, "final_alpha_cumprod", cumprod[0])
        a_t = float(cumprod[t])
        a_prev = float(cumprod[prev]) if prev >= 0 else float(final)
        return (a_t ** 0.5, (1 - a_t) ** 0.5), (a_prev ** 0.5, (1 - a_prev) ** 0.5), config.prediction_type
    if hasattr(scheduler, "sigmas") and (config.get("use_flow_sigmas") or config.get("prediction_type") in (
            None, "flow_prediction")):
        index = (scheduler.timesteps.cpu() == torch.as_tensor(timestep).cpu().flatten()[0]).nonzero()
        if len(index) == 0:
            raise ValueError(f"timestep {timestep} is not in the scheduler's timesteps")
        i = int(index[0])
        s_t, s_next = float(scheduler.sigmas[i]), float(scheduler.sigmas[i + 1])
        return (1 - s_t, s_t), (1 - s_next, s_next), "flow"
    raise ValueError(f"camera warp: unsupported scheduler {type(scheduler).__name__} "
                     f"(prediction_type {config.get('prediction_type')!r})")


def estimated_noise(record: StepRecord, alpha_t: float, sigma_t: float, kind: str) -> torch.Tensor:
    """``eps_hat`` from the model output at the step: epsilon as is, ``sigma x + alpha v`` (v), ``x + (1-sigma) v``."""
    out, x = record.model_output.float(), record.sample.float()
    if kind == "epsilon":
        return out
    if kind == "v_prediction":
        return sigma_t * x + alpha_t * out
    return x + (1.0 - sigma_t) * out


class CameraWarp:
    """A diffusers ``callback_on_step_end`` applying Eq. 2 once, after step ``t_m`` (1-based; paper: 5).

    Use with :func:`record_steps` on the pipeline's scheduler; ``frame_dim`` is the frame axis of the
    pipeline's latents (1 for CogVideoX ``[B, F, C, H, W]``, 2 for Wan ``[B, C, F, H, W]``).
    """

    def __init__(self, scheduler, records: list[StepRecord], move: CameraMove, t_m: int = 5, frame_dim: int = 1,
                 speed_fraction: dict[str, float] | None = None):
        if t_m < 1:
            raise ValueError(f"T_m counts sampling steps from 1, got {t_m}")
        self.scheduler, self.records, self.move, self.t_m = scheduler, records, move, t_m
        self.frame_dim, self.speed_fraction = frame_dim, speed_fraction
        self.applied = False

    def __call__(self, pipe, step_index: int, timestep, callback_kwargs: dict) -> dict:
        if step_index != self.t_m - 1 or self.move.direction == "static":
            return {}
        latents = callback_kwargs["latents"]
        record = self.records[-1]
        (a_t, s_t), (a_next, s_next), kind = noise_levels(self.scheduler, record.timestep)
        eps_hat = estimated_noise(record, a_t, s_t, kind)
        if a_next <= 0:
            return {}
        self.applied = True
        adjusted = camera_adjustment(latents, eps_hat.to(latents.device), a_next, s_next, self.move, self.frame_dim,
                                     speed_fraction=self.speed_fraction)
        return {"latents": adjusted}
