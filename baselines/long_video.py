"""``pmwd``, ``sliding``, ``fifo``: one long video per item from Wan 2.1 with frame-level prompts.

The rows of Table 2 of "Frame-Level Captions for Long Video Generation with Complex Multi Scenes" (PMWD,
sequential sliding window, FIFO with frame-level prompts), on a local Wan 2.1 T2V diffusers folder:

1. the item's prompts become one prompt per latent frame (``reference_models.pmwd.prompts``: scenes split
   the ``L`` latent frames evenly; a scene's ``frame_prompts`` are placed by ``frame_ranges`` or spread
   evenly; Wan's causal 1 + 4k frame grouping is respected);
2. the distinct prompts are encoded by UMT5 as Wan's pipeline does (cleaned text, 512 tokens, trimmed
   and zero-padded), the negative prompt likewise;
3. the long-video sampler runs on Wan's transformer with frame-level cross-attention (Eq. 1), on the
   folder's noise ladder and solver (UniPC as released, or Euler), with classifier-free guidance;
4. the latents are decoded frame by frame (``wan_decoding``) into one video ``ITEM_ID.mp4`` whose scene
   boundaries (the video frames of each scene's latent frames) go to ``submission.json``.

Stock Wan weights were not trained with frame-level captions or per-frame timesteps (the paper fine-tunes
with Diffusion Forcing); with them this is the inference procedure on the base model, not the paper's model.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import torch

from mvbench.errors import MvbenchError
from mvbench.suite import SuiteItem

from .base import STEP_STREAM_OFFSET, Baseline, ItemVideo, draw_noise, read_config
from .options import GenerationOptions, item_seed, resolve_dtype
from .wan_loading import WAN_TEXT_LENGTH, WanParts, check_wan_dir, load_wan_parts, wan_scale_factors

SOLVER_CHOICES = ("auto", "euler", "unipc")


def clean_wan_prompt(text: str) -> str:
    """Wan's prompt cleaning: ``ftfy.fix_text`` (when installed), HTML unescaped twice, whitespace collapsed.

    >>> clean_wan_prompt("  a  cat &amp;amp; a\\n dog ")
    'a cat & a dog'
    """
    try:
        import ftfy

        text = ftfy.fix_text(text)
    except ImportError:
        pass
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r"\s+", " ", text).strip()


class WanLongVideo(Baseline):
    """A long-video sampler of ``reference_models.pmwd`` on Wan 2.1, one video per item."""

    sampler_name = "pmwd"
    layout = "item"
    defaults = {"steps": 50, "guidance": 5.0, "frames": 481, "height": 480, "width": 832, "fps": 16.0,
                "vae_tiling": False}
    extra_options = ("model_name", "window", "solver", "shift", "max_batch")
    model_dir_help = "a Wan 2.1 T2V diffusers folder (Wan-AI/Wan2.1-T2V-1.3B-Diffusers)"

    def __init__(self, model_dir: str | Path, options: GenerationOptions | None = None, model_name: str | None = None,
                 window: int = 21, solver: str = "auto", shift: float | None = None, max_batch: int | None = None,
                 **sampler_options):
        super().__init__(model_dir, options, model_name)
        if solver not in SOLVER_CHOICES:
            raise MvbenchError(f"--solver must be one of {', '.join(SOLVER_CHOICES)}, got {solver!r}")
        if window < 1 or (max_batch is not None and max_batch < 1) or (shift is not None and shift <= 0):
            raise MvbenchError(f"--window (got {window}) and --max-batch (got {max_batch}) must be positive, "
                               f"--shift (got {shift}) > 0")
        self.window, self.solver_choice, self.shift, self.max_batch = int(window), solver, shift, max_batch
        scheduler = read_config(self.model_dir / "scheduler" / "scheduler_config.json")
        self.scheduler_class = scheduler.get("_class_name")
        released = "unipc" if self.scheduler_class == "UniPCMultistepScheduler" else "euler"
        self.solver_name = released if solver == "auto" else solver
        self.flow_shift = shift if shift is not None else scheduler.get("flow_shift", scheduler.get("shift"))
        self.sampler_options = {k: v for k, v in sampler_options.items() if v is not None}
        self.latent_frames, self.latent_hw = self._check_geometry()
        self.scene_sampler = self._build_sampler(num_steps=self.options.steps)  # validates the options early

    # -- description ---------------------------------------------------------------------
    def check_model_dir(self, root: Path) -> Path:
        return check_wan_dir(root)

    def settings(self) -> dict:
        return {**super().settings(), "sampler": self.sampler_name, "window": self.window, "solver": self.solver_name,
                "scheduler": self.scheduler_class, "flow_shift": self.flow_shift, "max_batch": self.max_batch,
                **self.sampler_options}

    def notes(self) -> str:
        return (super().notes() + f" {self.sampler_name} over {self.latent_frames} latent frames, window "
                f"{self.window}, {self.solver_name} on the {self.scheduler_class} ladder (shift {self.flow_shift}); "
                "frame-level prompts; one video per item.")

    def scene_latent_frames(self, num_scenes: int) -> list[int]:
        """Latent frames of each scene: the ``L`` frames split evenly."""
        from reference_models.pmwd.prompts import even_scene_split

        return even_scene_split(self.latent_frames, num_scenes)

    def scene_bounds(self, num_scenes: int) -> tuple[tuple[int, int], ...]:
        """``[start, end)`` video frames of each scene: those its latent frames decode to (1, then 4 each)."""
        from reference_models.pmwd.prompts import video_frame_start

        counts = self.scene_latent_frames(num_scenes)
        edges = np.concatenate([[0], np.cumsum(counts)]).tolist()
        stride = wan_scale_factors(self.model_dir)[1]
        return tuple((video_frame_start(a, stride), video_frame_start(b, stride)) for a, b in zip(edges, edges[1:]))

    def shortest_scene_frames(self, max_scenes: int) -> int:
        return min(b - a for a, b in self.scene_bounds(max_scenes))

    # -- model --------------------------------------------------------------------------
    def load_parts(self) -> WanParts:
        return load_wan_parts(self.model_dir, self.device, resolve_dtype(self.options.dtype, self.device))

    def _build_sampler(self, num_steps: int, scheduler=None, seed: int = 0):
        """The sampler; with ``scheduler`` (the folder's), on its noise ladder (shift overridable by ``--shift``).
        ``seed``: the sliding window's context re-noising stream (the item seed + a fixed offset)."""
        from reference_models.pmwd.samplers import create_sampler
        from reference_models.pmwd.solvers import FlowSchedule, SolverConfig

        settings = dict(self.sampler_options)
        if self.sampler_name == "sliding":
            settings.setdefault("seed", seed)
        solver = SolverConfig(self.solver_name)
        schedule = None
        if scheduler is not None:
            if self.shift is not None:
                key = "flow_shift" if "flow_shift" in scheduler.config else "shift"
                scheduler = type(scheduler).from_config(scheduler.config, **{key: self.shift})
            released = SolverConfig.from_diffusers(scheduler)
            if released.name == self.solver_name:
                solver = released
            schedule = FlowSchedule.from_diffusers(scheduler, num_steps)
            if solver.name == "unipc" and float(schedule.sigmas[0]) >= 1.0:  # as diffusers' UniPC does
                sigmas = schedule.sigmas.clone()
                sigmas[0] -= 1e-6
                schedule = FlowSchedule(sigmas, schedule.timesteps, schedule.source)
        try:
            return create_sampler(self.sampler_name, num_steps=num_steps, window=self.window, solver=solver,
                                  schedule=schedule, **settings)
        except (TypeError, ValueError) as error:
            raise MvbenchError(f"{self.name}: {error}") from error

    # -- geometry -----------------------------------------------------------------------
    def _check_geometry(self) -> tuple[int, tuple[int, int]]:
        spatial, temporal, patch = wan_scale_factors(self.model_dir)
        o = self.options
        if (o.frames - 1) % temporal:
            lower = (o.frames - 1) // temporal * temporal + 1
            raise MvbenchError(f"--frames {o.frames} does not fit Wan's VAE: use 1 + {temporal}k frames for the whole "
                               f"item (e.g. {lower} or {lower + temporal})")
        latent = (o.frames - 1) // temporal + 1
        if latent < self.window:
            raise MvbenchError(f"--frames {o.frames} gives {latent} latent frames, fewer than the window of "
                               f"{self.window}; use at least {1 + temporal * (self.window - 1)} frames")
        grid_h, grid_w = spatial * patch[1], spatial * patch[2]
        if o.height % grid_h or o.width % grid_w:
            raise MvbenchError(f"--height/--width {o.height}x{o.width} must be multiples of {grid_h}x{grid_w} "
                               f"(VAE factor {spatial} x patch size)")
        return latent, (o.height // spatial, o.width // spatial)

    # -- generation ---------------------------------------------------------------------
    def encode(self, prompts: list[str]) -> torch.Tensor:
        """``[P, 512, D]`` UMT5 embeddings as Wan's pipeline makes them (cleaned, trimmed, zero-padded)."""
        from reference_models.pmwd.wan_denoiser import encode_prompts_umt5

        p = self.parts
        embeds = encode_prompts_umt5([clean_wan_prompt(t) for t in prompts], p.tokenizer, p.text_encoder,
                                     WAN_TEXT_LENGTH)
        return embeds.to(self.device, p.transformer.dtype)

    def generate_item(self, item: SuiteItem, item_index: int) -> ItemVideo:
        from reference_models.pmwd.prompts import plan_from_suite_item
        from reference_models.pmwd.wan_denoiser import WanFrameDenoiser

        parts = self.parts
        o = self.options
        stride = parts.temporal_factor
        try:
            plan = plan_from_suite_item(item, self.latent_frames, self.scene_latent_frames(len(item.scenes)), stride)
        except ValueError as error:
            raise MvbenchError(str(error), hint="generate more frames (--frames) or use fewer frame prompts") from error
        embeds = self.encode(list(plan.prompts))
        negative = self.encode([o.negative_prompt])[0] if o.guidance > 1.0 else None
        denoiser = WanFrameDenoiser(parts.transformer, embeds, negative, guidance_scale=o.guidance, window=self.window,
                                    max_batch=self.max_batch)
        channels = parts.transformer.config.in_channels
        shape = (1, channels, self.latent_frames, *self.latent_hw)
        noise = draw_noise(shape, self.generator(item_index), self.device, torch.float32)[0]
        sampler = self._build_sampler(o.steps, parts.scheduler, item_seed(o.seed, item_index) + STEP_STREAM_OFFSET)
        with torch.no_grad():
            latents = sampler(denoiser, noise, plan.caption_ids())
        from .wan_decoding import decode_wan_video

        frames = decode_wan_video(parts.vae, latents[None])
        if frames.shape[0] != o.frames:
            raise MvbenchError(f"the VAE decoded {frames.shape[0]} frames, {o.frames} were asked for")
        return ItemVideo(frames, self.scene_bounds(len(item.scenes)))


class PMWDLongVideo(WanLongVideo):
    name = "pmwd"
    sampler_name = "pmwd"
    summary = ("PMWD (Parallel Multi-Window Denoising) on Wan 2.1 with frame-level prompts "
               "(frame-level captions paper, Table 2).")
    extra_options = WanLongVideo.extra_options + ("stride", "step_size")

    def __init__(self, model_dir, options=None, model_name=None, stride: int | None = None, step_size: int = 0,
                 **kwargs):
        super().__init__(model_dir, options, model_name, stride=stride, step_size=step_size, **kwargs)


class SlidingLongVideo(WanLongVideo):
    name = "sliding"
    sampler_name = "sliding"
    summary = ("Sequential sliding window on Wan 2.1 with frame-level prompts (frame-level captions paper, "
               "Table 2).")
    extra_options = WanLongVideo.extra_options + ("new_frames", "context_sigma")

    def __init__(self, model_dir, options=None, model_name=None, new_frames: int | None = None,
                 context_sigma: float | None = None, **kwargs):
        super().__init__(model_dir, options, model_name, new_frames=new_frames, context_sigma=context_sigma, **kwargs)


class FIFOLongVideo(WanLongVideo):
    name = "fifo"
    sampler_name = "fifo"
    summary = "FIFO-Diffusion-style diagonal denoising on Wan 2.1 with frame-level prompts (Table 2)."
    extra_options = WanLongVideo.extra_options + ("step_size",)

    def __init__(self, model_dir, options=None, model_name=None, step_size: int = 1, **kwargs):
        super().__init__(model_dir, options, model_name, step_size=step_size, **kwargs)
