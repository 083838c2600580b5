"""CogVideoX baselines on a tiny random CogVideoX diffusers folder (CPU, no network, no weights); the end-to-end
generate -> validate -> evaluate -> leaderboard run of every baseline is in test_baselines_e2e.py.

Independent references: diffusers' own ``CogVideoXPipeline`` loaded from the folder and called with prompt
strings (its own T5 encoding and decoding), and, for Mask²DiT, the fact that mask v1 with per-scene positions
is n independent stock runs (Sec. 3.2), i.e. exactly the ``cogvideox-concat`` baseline.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from test_baselines_tiny_models import LATENT_CHANNELS, TEXT_LEN, build_tiny_cogvideox  # noqa: E402

from baselines import create_baseline, generate_submission  # noqa: E402
from mvbench.errors import MissingExtraError, MvbenchError  # noqa: E402
from mvbench.suite import load_suite  # noqa: E402

FRAMES, SIZE = 9, 32  # 9 frames = 3 latent frames; 32 px = 4 latent px = 2 x 2 patches
FAST = {"steps": 2, "frames": FRAMES, "height": SIZE, "width": SIZE, "device": "cpu", "dtype": "fp32"}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models on a shared machine: one intra-op thread avoids oversubscription (results do not change)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_cogvideox")
    build_tiny_cogvideox(root)
    return root


@pytest.fixture(scope="module")
def suite_path(tmp_path_factory):
    items = [
        {"id": "harbor", "scenes": [{"prompt": "an old man walks in the rain"}, {"prompt": "a red boat at sea"}]},
        {"id": "city", "scenes": [{"prompt": "a woman runs in the city at night"}, {"prompt": "a blue dog"}]},
    ]
    path = tmp_path_factory.mktemp("suite") / "tiny_suite.json"
    path.write_text(json.dumps({"suite": "tiny-gen", "version": "1", "items": items}))
    return path


def test_rerun_skips_finished_items_and_redoes_partial_ones(model_dir, suite_path, tmp_path):
    suite = load_suite(suite_path)
    out = tmp_path / "sub"
    first = generate_submission(create_baseline("cogvideox-concat", model_dir, **FAST), suite, out, progress=False)
    assert first.generated == ["harbor", "city"]
    again = create_baseline("cogvideox-concat", model_dir, **FAST)
    summary = generate_submission(again, suite, out, progress=False)
    assert summary.skipped == ["harbor", "city"] and summary.generated == []
    assert again._parts is None  # nothing was even loaded

    (out / "city" / "scene_2.mp4").unlink()  # an interrupted item: one scene written, one temp file left
    (out / "city" / ".scene_2.tmp.mp4").write_bytes(b"partial")
    summary = generate_submission(again, suite, out, progress=False)
    assert summary.generated == ["city"] and (out / "city" / "scene_2.mp4").is_file()
    assert not list((out / "city").glob(".*tmp*"))


def test_resume_with_other_settings_is_refused(model_dir, suite_path, tmp_path):
    suite = load_suite(suite_path)
    generate_submission(create_baseline("cogvideox-concat", model_dir, **FAST), suite, tmp_path, limit=1,
                        progress=False)
    with pytest.raises(MvbenchError, match="steps 2 -> 3"):
        generate_submission(create_baseline("cogvideox-concat", model_dir, **{**FAST, "steps": 3}), suite, tmp_path,
                            progress=False)


def test_concat_matches_stock_pipeline_called_with_prompt_strings(model_dir, suite_path):
    """Our T5 encoding, noise and decoding equal diffusers' own pipeline given the same initial latents."""
    from diffusers import CogVideoXPipeline

    item = load_suite(suite_path).items[0]
    frames = create_baseline("cogvideox-concat", model_dir, guidance=3.0, seed=7, **FAST).generate_item(item, 1)
    pipe = CogVideoXPipeline.from_pretrained(str(model_dir), local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    generator = torch.Generator().manual_seed(7 + 1)  # seed + item index
    for k, scene in enumerate(item.scenes):
        noise = torch.randn(1, 3, LATENT_CHANNELS, 4, 4, generator=generator)
        video = pipe(prompt=scene.prompt, height=SIZE, width=SIZE, num_frames=FRAMES, num_inference_steps=2,
                     guidance_scale=3.0, latents=noise, max_sequence_length=TEXT_LEN, output_type="np").frames[0]
        expected = np.round(np.asarray(video, dtype=np.float64) * 255)
        assert frames[k].shape == (FRAMES, SIZE, SIZE, 3) and frames[k].dtype == np.uint8
        assert np.abs(frames[k].astype(np.float64) - expected).max() <= 1


def test_same_seed_same_frames_and_items_get_different_seeds(model_dir, suite_path):
    item = load_suite(suite_path).items[0]
    baseline = create_baseline("mask2dit", model_dir, attention_backend="grouped", **FAST)
    first, second = baseline.generate_item(item, 0), baseline.generate_item(item, 0)
    other = create_baseline("mask2dit", model_dir, attention_backend="grouped", **FAST).generate_item(item, 0)
    assert all(np.array_equal(a, b) and np.array_equal(a, c) for a, b, c in zip(first, second, other))
    shifted = baseline.generate_item(item, 1)
    assert not np.array_equal(first[0], shifted[0])


def test_mask2dit_v1_per_scene_equals_independent_scenes_and_v2_couples_them(model_dir, suite_path):
    """v1 + per-scene positions is n independent stock runs (Sec. 3.2), i.e. cogvideox-concat; v2 is not."""
    item = load_suite(suite_path).items[1]
    options = {**FAST, "guidance": 2.0, "seed": 3}
    concat = create_baseline("cogvideox-concat", model_dir, **options).generate_item(item, 1)
    v1 = create_baseline("mask2dit", model_dir, variant="v1", temporal_positions="per_scene",
                         attention_backend="grouped", **options).generate_item(item, 1)
    v2 = create_baseline("mask2dit", model_dir, attention_backend="grouped", **options).generate_item(item, 1)
    for a, b in zip(concat, v1):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    assert max(np.abs(a.astype(int) - b.astype(int)).max() for a, b in zip(concat, v2)) > 1


def test_mask2dit_single_scene_equals_stock_generation(model_dir):
    """With one scene the default Mask2DiT (v2, continuous positions) is the stock model (Sec. 3.2)."""
    from mvbench.suite import parse_suite

    item = parse_suite({"suite": "one", "version": "1", "items": [
        {"id": "solo", "scenes": [{"prompt": "a man walks in the sun"}]}]}).items[0]
    concat = create_baseline("cogvideox-concat", model_dir, guidance=2.0, **FAST).generate_item(item, 0)
    joint = create_baseline("mask2dit", model_dir, guidance=2.0, attention_backend="grouped", **FAST).generate_item(
        item, 0)
    assert np.abs(concat[0].astype(int) - joint[0].astype(int)).max() <= 1


def test_missing_model_parts_are_named(tmp_path, model_dir):
    with pytest.raises(MvbenchError, match="does not exist"):
        create_baseline("mask2dit", tmp_path / "nowhere")
    (tmp_path / "partial" / "vae").mkdir(parents=True)
    (tmp_path / "partial" / "vae" / "config.json").write_text("{}")
    with pytest.raises(MvbenchError, match=r"missing: tokenizer/.*text_encoder/.*transformer/.*scheduler/") as err:
        create_baseline("cogvideox-concat", tmp_path / "partial")
    assert "huggingface-cli download THUDM/CogVideoX-2b" in str(err.value)


def test_bad_settings_fail_before_loading(model_dir):
    with pytest.raises(MvbenchError, match="1 \\+ 8k frames"):
        create_baseline("cogvideox-concat", model_dir, frames=8)
    with pytest.raises(MvbenchError, match="multiples of 16"):
        create_baseline("cogvideox-concat", model_dir, height=40)
    with pytest.raises(MvbenchError, match="unknown baseline"):
        create_baseline("sora", model_dir)
    with pytest.raises(MvbenchError, match="do not apply to the cogvideox-concat baseline"):
        create_baseline("cogvideox-concat", model_dir, variant="v3")
    with pytest.raises(MvbenchError, match="unknown Mask2DiT mask variant"):
        create_baseline("mask2dit", model_dir, variant="v9")


def test_missing_diffusers_names_the_models_extra(model_dir, suite_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "diffusers", None)
    baseline = create_baseline("cogvideox-concat", model_dir, **FAST)
    with pytest.raises(MissingExtraError, match="diffusers"):
        baseline.generate_item(load_suite(suite_path).items[0], 0)


def test_recorded_settings_name_the_dtype_actually_used():
    """Resuming a bf16 (GPU) folder on a CPU (fp32) must be refused: "auto" is recorded resolved."""
    from baselines.options import GenerationOptions

    gpu, cpu = GenerationOptions(device="cuda").recorded(), GenerationOptions(device="cpu").recorded()
    assert gpu != cpu
    assert (gpu["dtype"], gpu["device_type"]) == ("bfloat16", "cuda")
    assert (cpu["dtype"], cpu["device_type"]) == ("float32", "cpu")
