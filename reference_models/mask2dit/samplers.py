"""Mask²DiT sampling on diffusers schedulers: fixed-n multi-scene generation and auto-regressive extension.

Both run one loop (``denoise_scenes``): context scenes (clean latents, held fixed, timestep 0 — the
segment-level conditional mask at inference, Sec. 3.3 and the supplementary "Auto-Regressive Scene
Extension") come first in time order, followed by the scenes being generated, which start from noise and are
updated by ``scheduler.step`` at every step. Classifier-free guidance:
``v = v_uncond + g * (v_cond - v_uncond)`` with per-scene negative prompt embeddings.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch


def _scheduler_step(scheduler, output: torch.Tensor, t: torch.Tensor, previous_t, sample: torch.Tensor, state: dict,
                    generator: torch.Generator | None = None):
    """``scheduler.step`` for DDIM-style schedulers, and CogVideoXDPMScheduler's two-sample variant.

    ``generator`` feeds schedulers that draw noise inside the step (CogVideoXDPMScheduler), so a seeded run
    is reproducible whatever the global random state.
    """
    extra = {"generator": generator} if "generator" in inspect.signature(scheduler.step).parameters else {}
    if type(scheduler).__name__ == "CogVideoXDPMScheduler":
        sample, state["pred_original"] = scheduler.step(
            output, state.get("pred_original"), t, previous_t, sample, return_dict=False, **extra
        )
        return sample
    return scheduler.step(output, t, sample, return_dict=False, **extra)[0]


def denoise_scenes(
    model,
    scheduler,
    prompt_embeds: Sequence[torch.Tensor],
    noise: Sequence[torch.Tensor],
    context_latents: Sequence[torch.Tensor] = (),
    num_inference_steps: int = 50,
    guidance_scale: float = 1.0,
    negative_prompt_embeds: Sequence[torch.Tensor] | None = None,
    step_generator: torch.Generator | None = None,
) -> list[torch.Tensor]:
    """Denoise the scenes started from ``noise`` (``[B, F_i, C, H, W]`` each), conditioned on ``context_latents``.

    ``prompt_embeds`` has one entry per scene, context scenes first. Returns all scenes' latents: the context
    latents unchanged (the very same tensors), then the generated ones. As in diffusers' CogVideoX pipeline,
    guidance and the scheduler step run in float32 whatever the model's dtype; the latents keep their dtype.
    ``step_generator`` seeds the noise a stochastic scheduler draws inside its step.
    """
    context, noise = list(context_latents), list(noise)
    if len(prompt_embeds) != len(context) + len(noise):
        raise ValueError(f"need one prompt embedding per scene: {len(context)} context + {len(noise)} new scenes, "
                         f"got {len(prompt_embeds)}")
    use_cfg = guidance_scale != 1.0
    if use_cfg and (negative_prompt_embeds is None or len(negative_prompt_embeds) != len(prompt_embeds)):
        raise ValueError("guidance_scale != 1 needs negative_prompt_embeds with one entry per scene")
    prompts = [torch.cat([neg, pos]) for neg, pos in zip(negative_prompt_embeds, prompt_embeds)] if use_cfg \
        else list(prompt_embeds)
    num_context, num_new = len(context), len(noise)
    frames = [x.shape[1] for x in noise]

    scheduler.set_timesteps(num_inference_steps, device=noise[0].device)
    timesteps = scheduler.timesteps
    sample = torch.cat(noise, dim=1) * scheduler.init_noise_sigma
    dtype = sample.dtype
    state: dict = {}
    for index, t in enumerate(timesteps):
        new_scenes = list(scheduler.scale_model_input(sample, t).split(frames, dim=1))
        scenes = context + new_scenes
        scene_t = torch.cat([torch.zeros(num_context), torch.full((num_new,), float(t))]).to(sample.device)
        if use_cfg:
            scenes = [torch.cat([x, x]) for x in scenes]
        scene_t = scene_t[None].expand(scenes[0].shape[0], -1)
        outputs = model(scenes, prompts, scene_t)[num_context:]
        output = torch.cat(outputs, dim=1).float()
        if use_cfg:
            uncond, cond = output.chunk(2)
            output = uncond + guidance_scale * (cond - uncond)
        previous_t = timesteps[index - 1] if index > 0 else None
        sample = _scheduler_step(scheduler, output, t, previous_t, sample, state, step_generator).to(dtype)
    return context + list(sample.split(frames, dim=1))


def generate_scenes(
    model, scheduler, prompt_embeds: Sequence[torch.Tensor], latent_shape: tuple[int, int, int, int, int] |
    Sequence[tuple[int, int, int, int, int]], generator: torch.Generator | None = None, **kwargs,
) -> list[torch.Tensor]:
    """Fixed-n multi-scene generation (Sec. 3.2): n scenes denoised jointly from Gaussian noise.

    ``latent_shape`` is ``(B, F, C, H, W)`` for all scenes or a list of per-scene shapes.
    ``kwargs`` go to ``denoise_scenes`` (num_inference_steps, guidance_scale, negative_prompt_embeds,
    step_generator: by default the same ``generator``, continued after the initial noise).
    """
    shapes = [tuple(latent_shape)] * len(prompt_embeds) if isinstance(latent_shape[0], int) else list(latent_shape)
    noise = [_noise(shape, generator, model) for shape in shapes]
    kwargs.setdefault("step_generator", generator)
    return denoise_scenes(model, scheduler, prompt_embeds, noise, (), **kwargs)


def extend_scenes(
    model, scheduler, context_latents: Sequence[torch.Tensor], prompt_embeds: Sequence[torch.Tensor],
    num_frames: int | None = None, generator: torch.Generator | None = None, **kwargs,
) -> list[torch.Tensor]:
    """Auto-regressive scene extension: one new scene after ``context_latents``, which stay exactly as given.

    ``prompt_embeds``: one per context scene plus one for the new scene. ``num_frames`` defaults to the last
    context scene's latent frame count. Call repeatedly (dropping the oldest scenes if needed) to go on.
    """
    last = context_latents[-1]
    shape = (last.shape[0], num_frames or last.shape[1], *last.shape[2:])
    noise = [_noise(shape, generator, model)]
    kwargs.setdefault("step_generator", generator)
    return denoise_scenes(model, scheduler, prompt_embeds, noise, context_latents, **kwargs)


def _noise(shape, generator: torch.Generator | None, model) -> torch.Tensor:
    draw_on = generator.device if generator is not None else torch.device("cpu")
    return torch.randn(shape, generator=generator, device=draw_on).to(device=model.device, dtype=model.dtype)
