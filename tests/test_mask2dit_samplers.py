"""Mask²DiT samplers: fixed-n generation and auto-regressive scene extension on diffusers schedulers."""

import pytest
import torch

pytest.importorskip("diffusers")
from diffusers import CogVideoXDDIMScheduler, CogVideoXDPMScheduler  # noqa: E402
from test_mask2dit_model import CHANNELS, SIZE, scene_inputs, tiny_cogvideox  # noqa: E402

from reference_models.mask2dit import MultiSceneTransformer, extend_scenes, generate_scenes  # noqa: E402


class Spy(torch.nn.Module):
    """Wraps the model and records the per-scene inputs and timesteps of every call."""

    def __init__(self, model):
        super().__init__()
        self.model, self.calls = model, []

    @property
    def device(self):
        return self.model.device

    @property
    def dtype(self):
        return self.model.dtype

    def forward(self, latents, prompts, timesteps):
        self.calls.append(([x.clone() for x in latents], timesteps.clone()))
        return self.model(latents, prompts, timesteps)


def scheduler(kind=CogVideoXDDIMScheduler):
    return kind(prediction_type="v_prediction", rescale_betas_zero_snr=True, timestep_spacing="trailing")


def test_auto_regressive_extension_keeps_context_bit_identical():
    model = Spy(MultiSceneTransformer(tiny_cogvideox(rotary=True), "v2"))
    context, prompts = scene_inputs([2, 2], batch=1)
    _, (new_prompt,) = scene_inputs([1], batch=1, seed=9)
    frozen = [x.clone() for x in context]
    with torch.no_grad():
        out = extend_scenes(model, scheduler(), context, prompts + [new_prompt], num_inference_steps=3,
                            generator=torch.Generator().manual_seed(0))
    assert len(out) == 3 and out[2].shape == (1, 2, CHANNELS, SIZE, SIZE) and torch.isfinite(out[2]).all()
    assert all(torch.equal(a, b) for a, b in zip(out[:2], frozen))
    assert len(model.calls) == 3
    for latents, scene_t in model.calls:  # context fed clean at t=0 at every step, new scene at t > 0
        assert all(torch.equal(a, b) for a, b in zip(latents[:2], frozen))
        assert scene_t[0, :2].tolist() == [0, 0] and scene_t[0, 2] > 0


@pytest.mark.parametrize("kind", [CogVideoXDDIMScheduler, CogVideoXDPMScheduler])
def test_fixed_n_generation_with_guidance(kind):
    model = Spy(MultiSceneTransformer(tiny_cogvideox(rotary=False), "v2"))
    _, prompts = scene_inputs([1, 1], batch=1)
    negatives = [torch.zeros_like(p) for p in prompts]
    with torch.no_grad():
        out = generate_scenes(model, scheduler(kind), prompts, (1, 2, CHANNELS, SIZE, SIZE), num_inference_steps=2,
                              guidance_scale=5.0, negative_prompt_embeds=negatives,
                              generator=torch.Generator().manual_seed(0))
    assert [x.shape for x in out] == [(1, 2, CHANNELS, SIZE, SIZE)] * 2
    assert all(torch.isfinite(x).all() for x in out)
    latents, scene_t = model.calls[0]
    assert latents[0].shape[0] == 2  # unconditional and conditional branches batched together
    assert bool((scene_t == scene_t[0, 0]).all())
    with pytest.raises(ValueError, match="negative_prompt_embeds"):
        generate_scenes(model, scheduler(), prompts, (1, 2, CHANNELS, SIZE, SIZE), guidance_scale=5.0)


def test_stochastic_scheduler_is_reproducible_from_the_seed_alone():
    """CogVideoXDPMScheduler draws noise inside every step: a seeded run must not depend on torch's global RNG."""
    model = MultiSceneTransformer(tiny_cogvideox(rotary=False), "v2")
    _, prompts = scene_inputs([1, 1], batch=1)
    runs = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        with torch.no_grad():
            runs.append(generate_scenes(model, scheduler(CogVideoXDPMScheduler), prompts, (1, 2, CHANNELS, SIZE, SIZE),
                                        num_inference_steps=3, generator=torch.Generator().manual_seed(0)))
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_guidance_and_step_run_in_float32_for_a_bf16_model():
    """As diffusers' CogVideoX pipeline: the model output is upcast before guidance and the scheduler step."""
    seen = []

    class Recorder:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def step(self, model_output, *args, **kwargs):
            seen.append(model_output.dtype)
            return self.inner.step(model_output, *args, **kwargs)

    model = MultiSceneTransformer(tiny_cogvideox(rotary=False), "v2").to(torch.bfloat16)
    _, prompts = scene_inputs([1], batch=1)
    prompts = [p.to(torch.bfloat16) for p in prompts]
    with torch.no_grad():
        out = generate_scenes(model, Recorder(scheduler()), prompts, (1, 2, CHANNELS, SIZE, SIZE), num_inference_steps=2,
                              guidance_scale=5.0, negative_prompt_embeds=[torch.zeros_like(p) for p in prompts],
                              generator=torch.Generator().manual_seed(0))
    assert seen == [torch.float32, torch.float32]
    assert out[0].dtype == torch.bfloat16
