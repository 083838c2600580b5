"""PMWD reference model: frame-level cross-attention, Diffusion Forcing and long-video samplers on Wan.

From "Frame-Level Captions for Long Video Generation with Complex Multi Scenes", Sec. 4.2-4.4:

- :mod:`.frame_cross_attention` -- Eq. 1 as a diffusers attention processor for Wan;
- :mod:`.diffusion_forcing` -- per-frame noise levels for training and the inference progress matrix;
- :mod:`.training` -- one Diffusion Forcing flow-matching training step;
- :mod:`.samplers` -- ``plain``, ``pmwd``, ``sliding``, ``fifo`` behind one interface;
- :mod:`.solvers` -- noise ladders (ours or a diffusers scheduler's) and per-frame Euler / UniPC steps;
- :mod:`.prompts` -- frame-level prompts of a suite item or an expanded global prompt -> latent frames;
- :mod:`.wan_denoiser` -- diffusers' ``WanTransformer3DModel`` as a frame-captioned denoiser.

Only :mod:`.wan_denoiser` and :mod:`.frame_cross_attention` need diffusers (imported lazily).
"""

from reference_models.pmwd.denoiser import CountingDenoiser, Denoiser, DenoiserStats
from reference_models.pmwd.diffusion_forcing import progress_matrix, reference_segment_noise_levels
from reference_models.pmwd.flow_matching import flow_sigmas
from reference_models.pmwd.frame_cross_attention import (
    FrameLevelCrossAttnProcessor,
    frame_captions,
    install_frame_level_cross_attention,
)
from reference_models.pmwd.prompts import (
    FramePromptPlan,
    plan_from_frame_texts,
    plan_from_global_prompt,
    plan_from_suite_item,
)
from reference_models.pmwd.samplers import (
    SAMPLERS,
    FIFOSampler,
    LongVideoSampler,
    PlainSampler,
    PMWDSampler,
    SlidingWindowSampler,
    create_sampler,
)
from reference_models.pmwd.solvers import EulerSolver, FlowSchedule, SolverConfig, UniPCSolver
from reference_models.pmwd.training import diffusion_forcing_step

__all__ = [
    "SAMPLERS",
    "CountingDenoiser",
    "Denoiser",
    "DenoiserStats",
    "EulerSolver",
    "FIFOSampler",
    "FlowSchedule",
    "FrameLevelCrossAttnProcessor",
    "FramePromptPlan",
    "LongVideoSampler",
    "PMWDSampler",
    "PlainSampler",
    "SlidingWindowSampler",
    "SolverConfig",
    "UniPCSolver",
    "create_sampler",
    "diffusion_forcing_step",
    "flow_sigmas",
    "frame_captions",
    "install_frame_level_cross_attention",
    "plan_from_frame_texts",
    "plan_from_global_prompt",
    "plan_from_suite_item",
    "progress_matrix",
    "reference_segment_noise_levels",
]
