"""The Wan long-video baselines (pmwd, sliding, fifo) on a tiny random Wan 2.1 folder (CPU, no weights).

Independent reference: diffusers' own ``WanPipeline`` built from the folder's parts and called with the prompt
string (its own text cleaning and UMT5 encoding, UniPC scheduler, CFG and VAE decoding): with one scene and
``L == W`` latent frames PMWD is plain sampling, so both must give the same frames.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from test_baselines_tiny_models import build_tiny_wan, tiny_wan_transformer  # noqa: E402

from baselines import create_baseline, generate_submission  # noqa: E402
from mvbench.errors import CheckpointMismatchError, MvbenchError  # noqa: E402
from mvbench.suite import load_suite, parse_suite  # noqa: E402

FAST = {"steps": 2, "frames": 21, "height": 32, "width": 32, "device": "cpu", "dtype": "fp32", "window": 3,
        "guidance": 3.0}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def wan_dir(tmp_path_factory):
    return build_tiny_wan(tmp_path_factory.mktemp("tiny") / "wan")


@pytest.fixture(scope="module")
def suite_path(tmp_path_factory):
    items = [{"id": "harbor", "scenes": [{"prompt": "an old man walks in the rain"},
                                         {"prompt": "a red boat", "frame_prompts": ["a red boat", "a blue boat"]}]},
             {"id": "city", "scenes": [{"prompt": "a woman runs in the city at night"}, {"prompt": "a blue dog"}]}]
    path = tmp_path_factory.mktemp("suite") / "suite.json"
    path.write_text(json.dumps({"suite": "tiny-wan", "version": "1", "items": items}))
    return path


def _one_scene(prompt: str):
    return parse_suite({"suite": "one", "version": "1", "items": [{"id": "solo", "scenes": [{"prompt": prompt}]}]}
                       ).items[0]


def stock_wan_pipeline(root):
    """diffusers' WanPipeline from the folder's parts (the transformer rebuilt in memory: diffusers cannot load it
    without `accelerate` here)."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline
    from transformers import AutoTokenizer, UMT5EncoderModel

    pipe = WanPipeline(tokenizer=AutoTokenizer.from_pretrained(root / "tokenizer"),
                       text_encoder=UMT5EncoderModel.from_pretrained(root / "text_encoder"),
                       transformer=tiny_wan_transformer(), vae=AutoencoderKLWan.from_pretrained(root / "vae"),
                       scheduler=UniPCMultistepScheduler.from_pretrained(root / "scheduler"))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_single_window_pmwd_equals_stock_wan_pipeline(wan_dir):
    prompt = "a man walks in the  sun &amp; rain"  # exercises Wan's prompt cleaning
    options = {**FAST, "frames": 9, "steps": 3, "seed": 5}
    ours = create_baseline("pmwd", wan_dir, **options).generate_item(_one_scene(prompt), 2)
    assert ours.scenes == ((0, 9),) and ours.frames.shape == (9, 32, 32, 3)
    noise = torch.randn(1, 4, 3, 4, 4, generator=torch.Generator().manual_seed(5 + 2))  # seed + item index
    video = stock_wan_pipeline(wan_dir)(prompt=prompt, negative_prompt="", height=32, width=32, num_frames=9,
                                        num_inference_steps=3, guidance_scale=3.0, latents=noise,
                                        output_type="np").frames[0]
    expected = np.round(np.asarray(video, dtype=np.float64) * 255)
    assert expected.std() > 5  # not a flat video
    assert np.abs(ours.frames.astype(np.float64) - expected).max() <= 1
    euler = create_baseline("pmwd", wan_dir, solver="euler", **options).generate_item(_one_scene(prompt), 2)
    assert np.abs(euler.frames.astype(int) - ours.frames.astype(int)).max() > 1  # the solver matters


def test_streamed_decoding_equals_vae_decode(wan_dir):
    from diffusers import AutoencoderKLWan

    from baselines.base import frames_to_uint8
    from baselines.wan_decoding import decode_wan_video, unnormalize

    vae = AutoencoderKLWan.from_pretrained(wan_dir / "vae")
    latents = torch.randn(1, 4, 6, 4, 4, generator=torch.Generator().manual_seed(0))
    streamed = decode_wan_video(vae, latents)
    whole = frames_to_uint8(vae.decode(unnormalize(vae, latents)).sample[0])
    assert streamed.shape == (21, 32, 32, 3)
    assert np.abs(streamed.astype(int) - whole.astype(int)).max() <= 1
    # the normalisation is z * std + mean per channel
    torch.testing.assert_close(unnormalize(vae, torch.ones(1, 4, 1, 1, 1)).flatten(),
                               torch.tensor([1.5 + 0.1, 0.8 - 0.2, 1.2 + 0.3, 2.0 + 0.0]))


def test_frame_prompts_scene_boundaries_and_resume(wan_dir, suite_path, tmp_path):
    suite = load_suite(suite_path)
    baseline = create_baseline("pmwd", wan_dir, **FAST)
    assert baseline.scene_bounds(2) == ((0, 9), (9, 21))  # latents 0-2 -> frames 0-8, latents 3-5 -> 9-20
    summary = generate_submission(baseline, suite, tmp_path, progress=False)
    assert summary.generated == ["harbor", "city"]
    meta = json.loads((tmp_path / "submission.json").read_text())
    assert meta["items"]["harbor"] == {"file": "harbor.mp4", "scenes": [[0, 9], [9, 21]]}
    assert meta["generation"]["scheduler"] == "UniPCMultistepScheduler" and meta["generation"]["flow_shift"] == 3.0
    again = create_baseline("pmwd", wan_dir, **FAST)
    assert generate_submission(again, suite, tmp_path, progress=False).skipped == ["harbor", "city"]
    assert again._parts is None  # nothing loaded
    (tmp_path / "city.mp4").unlink()  # interrupted: the file is gone, its entry stays
    assert generate_submission(again, suite, tmp_path, progress=False).generated == ["city"]
    with pytest.raises(MvbenchError, match="window 3 -> 4"):
        generate_submission(create_baseline("pmwd", wan_dir, **{**FAST, "window": 4}), suite, tmp_path,
                            progress=False)


def test_scene_latent_prompts_follow_the_causal_grouping(wan_dir):
    """Scene 2 (latents 3-5) has frame prompts spread over its 3 latent frames: red, red, blue... by centre."""
    from reference_models.pmwd.prompts import plan_from_suite_item

    item = parse_suite({"suite": "s", "version": "1", "items": [{"id": "a", "scenes": [
        {"prompt": "one"}, {"prompt": "two", "frame_prompts": ["red", "blue"], "frame_ranges": [[0, 4], [4, 12]]}]}]}
                       ).items[0]
    baseline = create_baseline("fifo", wan_dir, **FAST)
    plan = plan_from_suite_item(item, baseline.latent_frames, baseline.scene_latent_frames(2))
    # scene 2 video frames 9..20 (relative 0..11): latent 3 = 0..3 -> red, latent 4 = 4..7, latent 5 = 8..11 -> blue
    assert plan.frame_prompts() == ["one"] * 3 + ["red", "blue", "blue"]


def test_settings_errors_and_folder_checks(wan_dir, tmp_path):
    with pytest.raises(MvbenchError, match="1 \\+ 4k frames"):
        create_baseline("pmwd", wan_dir, **{**FAST, "frames": 20})
    with pytest.raises(MvbenchError, match="fewer than the window of 3"):
        create_baseline("pmwd", wan_dir, **{**FAST, "frames": 5})
    with pytest.raises(MvbenchError, match="multiples of 16x16"):
        create_baseline("sliding", wan_dir, **{**FAST, "height": 40})
    with pytest.raises(MvbenchError, match="stride applies to pmwd"):
        create_baseline("fifo", wan_dir, stride=2, **FAST)
    with pytest.raises(MvbenchError, match="--solver"):
        create_baseline("pmwd", wan_dir, solver="heun", **FAST)
    with pytest.raises(MvbenchError, match="missing: tokenizer/.*scheduler/"):
        (tmp_path / "partial" / "vae").mkdir(parents=True)
        (tmp_path / "partial" / "vae" / "config.json").write_text("{}")
        create_baseline("pmwd", tmp_path / "partial")
    assert create_baseline("pmwd", wan_dir, **FAST).settings()["solver"] == "unipc"
    assert create_baseline("sliding", wan_dir, solver="euler", shift=5.0, **FAST).settings()["flow_shift"] == 5.0


def test_transformer_weights_load_strictly(wan_dir, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    from baselines.wan_loading import load_wan_parts

    copy = tmp_path / "wan"
    shutil.copytree(wan_dir, copy)
    weights = next((copy / "transformer").glob("*.safetensors"))
    state = load_file(str(weights))
    state.pop("blocks.0.attn2.to_k.weight")
    state["extra.weight"] = torch.zeros(1)
    save_file(state, str(weights))
    with pytest.raises(CheckpointMismatchError, match="blocks.0.attn2.to_k.weight") as error:
        load_wan_parts(copy, "cpu", torch.float32)
    assert "extra.weight" in str(error.value)
