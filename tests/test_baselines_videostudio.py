"""VideoStudio-style pipeline: planners, the camera warp of supplementary Eq. 2, component wiring (CPU).

The warp is checked against integer-pixel shifts written with slicing, Eq. 2 against its formula with noise
levels read from the scheduler's ``alphas_cumprod``, and the hook inside a real (tiny) CogVideoX image-to-video
pipeline against the pipeline's own unwarped run.
"""

from __future__ import annotations

import json

import pytest
import torch

from mvbench.suite import parse_suite
from reference_models.videostudio import (
    CameraMove,
    ChatPlanner,
    SuitePlanner,
    VideoStudioPipeline,
    camera_adjustment,
    extract_json,
    warp_frames,
)
from reference_models.videostudio.camera import estimated_noise, noise_levels


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _item(**extra):
    data = {"id": "a", "global_prompt": "a harbor at dusk", "characters": {"Ann": "old woman, red coat", "Bo": "dog"},
            "scenes": [{"prompt": "Ann walks", "characters": ["Ann"]}, {"prompt": "Ann and Bo sail",
                                                                         "characters": ["Ann", "Bo"]}], **extra}
    return parse_suite({"suite": "s", "version": "1", "items": [data]}).items[0]


def _shift_x(video: torch.Tensor, px: int) -> torch.Tensor:
    """Content moved right by px (left border repeated), on the last axis."""
    out = video.clone()
    if px > 0:
        out[..., px:] = video[..., :-px]
        out[..., :px] = video[..., :1]
    return out


def test_camera_moves_parse_the_closed_vocabulary():
    assert CameraMove.parse("moving left, fast") == CameraMove("left", "fast")
    assert CameraMove.parse("[zoom out, slow]") == CameraMove("backward", "slow")
    assert CameraMove.parse("Static") == CameraMove("static", "medium")
    assert CameraMove.parse("pan right") == CameraMove("right", "medium")
    with pytest.raises(ValueError, match="cannot read a camera move"):
        CameraMove.parse("spin around")
    with pytest.raises(ValueError):
        CameraMove("sideways", "slow")


def test_warp_translates_each_frame_from_its_neighbour():
    video = torch.randn(2, 3, 1, 4, 8, generator=torch.Generator().manual_seed(0))  # [B, F, C, H, W]
    warped = warp_frames(video, CameraMove("left", "fast"), 1, {"fast": 0.125})  # 1 px of 8
    assert torch.equal(warped[:, 0], video[:, 0])
    torch.testing.assert_close(warped[:, 1:], _shift_x(video[:, :-1], 1))
    right = warp_frames(video, CameraMove("right", "fast"), 1, {"fast": 0.125})
    torch.testing.assert_close(right[:, 1:, ..., :-1], video[:, :-1, ..., 1:])
    # frames on axis 2 ([B, C, F, H, W]) and vertical moves: camera up -> content down
    channels_first = video.permute(0, 2, 1, 3, 4)
    up = warp_frames(channels_first, CameraMove("up", "slow"), 2, {"slow": 0.25})  # 1 px of 4
    torch.testing.assert_close(up[:, :, 1:, 1:, :], channels_first[:, :, :-1, :-1, :])
    assert warp_frames(video, CameraMove("static"), 1) is video
    zoom = warp_frames(torch.ones(1, 2, 1, 5, 5), CameraMove("forward", "fast"), 1)
    torch.testing.assert_close(zoom, torch.ones(1, 2, 1, 5, 5))  # a flat frame stays flat


def test_eq2_adjustment_against_its_formula():
    gen = torch.Generator().manual_seed(1)
    x, eps = torch.randn(1, 3, 2, 4, 8, generator=gen), torch.randn(1, 3, 2, 4, 8, generator=gen)
    alpha, sigma = 0.6, 0.8
    got = camera_adjustment(x, eps, alpha, sigma, CameraMove("left", "fast"), 1, speed_fraction={"fast": 0.125})
    x0 = (x - sigma * eps) / alpha
    warped = torch.cat([x0[:, :1], _shift_x(x0[:, :-1], 1)], dim=1)
    torch.testing.assert_close(got, alpha * (0.5 * x0 + 0.5 * warped) + sigma * eps, atol=1e-5, rtol=1e-5)


def test_noise_levels_and_estimated_noise():
    from diffusers import CogVideoXDDIMScheduler, UniPCMultistepScheduler

    ddim = CogVideoXDDIMScheduler(prediction_type="v_prediction", timestep_spacing="trailing")
    ddim.set_timesteps(10)
    t = ddim.timesteps[3]
    (a_t, s_t), (a_n, s_n), kind = noise_levels(ddim, t)
    cumprod = ddim.alphas_cumprod
    assert kind == "v_prediction" and a_t == pytest.approx(float(cumprod[int(t)]) ** 0.5)
    assert a_n == pytest.approx(float(cumprod[int(t) - 100]) ** 0.5) and s_n == pytest.approx((1 - a_n**2) ** 0.5)
    gen = torch.Generator().manual_seed(2)
    x0, eps = torch.randn(4, generator=gen), torch.randn(4, generator=gen)
    record = type("R", (), {"sample": a_t * x0 + s_t * eps, "model_output": a_t * eps - s_t * x0})
    torch.testing.assert_close(estimated_noise(record, a_t, s_t, kind), eps, atol=1e-5, rtol=1e-5)
    flow = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    flow.set_timesteps(5)
    (a_t, s_t), (_, s_n), kind = noise_levels(flow, flow.timesteps[1])
    assert kind == "flow" and s_t == pytest.approx(float(flow.sigmas[1])) and s_n == pytest.approx(float(flow.sigmas[2]))
    record = type("R", (), {"sample": (1 - s_t) * x0 + s_t * eps, "model_output": eps - x0})
    torch.testing.assert_close(estimated_noise(record, a_t, s_t, kind), eps, atol=1e-5, rtol=1e-5)


def test_camera_warp_inside_a_real_image_to_video_pipeline(tmp_path):
    """At T_m = the last step the next level is clean (alpha 1, sigma 0): Eq. 2 must turn the pipeline's final
    latents x into 0.5 x + 0.5 warp(x); a static camera leaves the run untouched; the scheduler is restored."""
    pytest.importorskip("diffusers")
    from diffusers import CogVideoXImageToVideoPipeline
    from PIL import Image
    from test_baselines_tiny_models import build_tiny_cogvideox_i2v

    from reference_models.videostudio.camera import CameraWarp, record_steps, stop_recording

    pipe = CogVideoXImageToVideoPipeline.from_pretrained(build_tiny_cogvideox_i2v(tmp_path / "i2v"))
    pipe.set_progress_bar_config(disable=True)
    image = Image.new("RGB", (32, 32), (200, 40, 90))

    def run(move: CameraMove | None):
        records = record_steps(pipe.scheduler)
        warp = CameraWarp(pipe.scheduler, records, move or CameraMove("static"), t_m=2, frame_dim=1,
                          speed_fraction={"fast": 0.25})
        try:
            out = pipe(image=image, prompt="a red boat", num_frames=9, height=32, width=32, num_inference_steps=2,
                       guidance_scale=2.0, generator=torch.Generator().manual_seed(0), output_type="latent",
                       callback_on_step_end=warp, callback_on_step_end_tensor_inputs=["latents"]).frames
        finally:
            stop_recording(pipe.scheduler)
        return out, warp, records

    plain, static_warp, records = run(None)
    assert len(records) == 2 and not static_warp.applied and "step" not in pipe.scheduler.__dict__
    moved, warp, _ = run(CameraMove("left", "fast"))  # 1 latent px of 4 per frame
    assert warp.applied
    expected = 0.5 * plain + 0.5 * torch.cat([plain[:, :1], _shift_x(plain[:, :-1], 1)], dim=1)
    torch.testing.assert_close(moved, expected, atol=1e-4, rtol=1e-4)


def test_suite_planner_reads_the_structured_fields():
    script = SuitePlanner().plan(_item(meta={"camera": ["moving left, slow", "zoom in, fast"]}))
    assert [s.prompt for s in script.scenes] == ["Ann walks", "Ann and Bo sail"]
    assert script.scenes[1].foreground == ("Ann", "Bo") and script.scenes[0].background == "background"
    assert script.entities["Ann"].description == "old woman, red coat"
    assert script.entities["background"].kind == "background"
    assert [s.camera for s in script.scenes] == [CameraMove("left", "slow"), CameraMove("forward", "fast")]
    assert script.common_entities() == ["Ann", "background"]  # Bo appears in one scene only
    with pytest.raises(ValueError, match="one camera move per scene"):
        SuitePlanner().plan(_item(meta={"camera": ["static"]}))


class ScriptedChat:
    """Replies in order; records every request."""

    def __init__(self, replies):
        self.replies, self.seen = list(replies), []

    def __call__(self, messages, seed):
        self.seen.append((messages, seed))
        return self.replies.pop(0)


def test_chat_planner_rounds_retries_and_entity_dialogue():
    scenes = {"scenes": [{"prompt": "An old woman walks on the pier", "entities": ["woman"], "background": "pier"},
                         {"prompt": "The woman sails with her dog", "entities": ["woman", "dog"],
                          "background": "pier"}]}
    replies = ["I think there are two scenes.",  # not JSON: asked again with a seed
               "```json\n" + json.dumps(scenes) + "\n```",
               json.dumps({"camera": [{"direction": "left", "speed": "slow"}, "zoom in, fast"]}),
               json.dumps({"aspects": ["hair", "clothes"]}), json.dumps({"description": "a grey-haired woman"}),
               json.dumps({"aspects": ["planks"]}), json.dumps({"description": "a wooden pier at dusk"})]
    chat = ScriptedChat(replies)
    script = ChatPlanner(chat).plan(_item())
    assert script.source == "chat" and [s.camera for s in script.scenes] == [CameraMove("left", "slow"),
                                                                              CameraMove("forward", "fast")]
    assert script.entities["woman"].description == "a grey-haired woman"
    assert script.entities["pier"] == type(script.entities["pier"])("pier", "a wooden pier at dusk", "background")
    assert script.entities["dog"].description == "dog"  # used once: not a common entity, not described
    seeds = [seed for _, seed in chat.seen]
    assert seeds[:2] == [None, 1]  # greedy, then a sampled retry
    camera_request = chat.seen[2][0][-1]["content"]
    assert "An old woman walks on the pier" in camera_request and len(chat.seen[2][0]) == 4  # history kept


def test_chat_planner_falls_back_to_the_suite_plan():
    chat = ScriptedChat(["nope"] * 3)
    planner = ChatPlanner(chat, attempts=3)
    script = planner.plan(_item())
    assert script.source == "suite" and planner.fallbacks == 1
    with pytest.raises(ValueError, match="no valid reply after 2 attempts"):
        ChatPlanner(ScriptedChat(["nope"] * 2), attempts=2, fallback=None).plan(_item())


def test_extract_json_skips_chatter_and_handles_strings():
    assert extract_json('x {"a": "b}\\" {"} y') == {"a": 'b}" {'}
    assert extract_json("first {not json} then {\"k\": 1}") == {"k": 1}
    with pytest.raises(ValueError, match="no JSON object"):
        extract_json("no braces here")


def test_transformers_chat_runs_a_local_chat_model(tmp_path):
    pytest.importorskip("transformers")
    from test_baselines_tiny_models import word_tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    from reference_models.videostudio import TransformersChat

    tokenizer = word_tokenizer()
    tokenizer.chat_template = ("{% for m in messages %}{{ m['content'] }} {% endfor %}"
                               "{% if add_generation_prompt %}a{% endif %}")
    tokenizer.save_pretrained(tmp_path)
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=8, intermediate_size=16,
                                 num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                                 max_position_embeddings=512, pad_token_id=0, eos_token_id=1,
                                 bos_token_id=3)).save_pretrained(tmp_path)
    chat = TransformersChat(tmp_path, max_new_tokens=4)
    reply = chat([{"role": "user", "content": "a man walks"}], None)
    assert isinstance(reply, str) and reply == chat([{"role": "user", "content": "a man walks"}], None)
    planner = ChatPlanner(chat, attempts=1)
    assert planner.plan(_item()).source == "suite" and planner.fallbacks == 1  # a random model never parses


def test_pipeline_conditions_each_scene_on_its_entity_reference():
    made = []

    def text_to_image(prompt, seed):
        made.append(prompt)
        return f"img<{prompt}>"

    def image_to_video(image, prompt, seed, camera):
        return {"image": image, "prompt": prompt, "seed": seed, "camera": camera}

    item = _item(meta={"camera": ["left", "static"]})
    result = VideoStudioPipeline(SuitePlanner(), text_to_image, image_to_video).generate(item, seed=3)
    assert made == ["old woman, red coat", "a harbor at dusk"]  # the common entities only
    assert [v["image"] for v in result.videos] == ["img<old woman, red coat>"] * 2
    assert result.videos[0]["camera"] == CameraMove("left", "medium")
    again = VideoStudioPipeline(SuitePlanner(), text_to_image, image_to_video).generate(item, seed=3)
    assert [v["seed"] for v in again.videos] == [v["seed"] for v in result.videos]
    made.clear()
    by_prompt = VideoStudioPipeline(SuitePlanner(), text_to_image, image_to_video, scene_image="prompt")
    assert [v["image"] for v in by_prompt.generate(item, seed=3).videos] == ["img<Ann walks>", "img<Ann and Bo sail>"]
    assert made == ["Ann walks", "Ann and Bo sail"]
