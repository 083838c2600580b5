"""Generation baselines on a tiny random CogVideoX diffusers folder (CPU, no network, no weights).

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

from baselines import create_baseline, generate_submission  # noqa: E402
from mvbench.cli import main  # noqa: E402
from mvbench.errors import MissingExtraError, MvbenchError  # noqa: E402
from mvbench.suite import load_suite  # noqa: E402

TEXT_LEN, TEXT_DIM, LATENT_CHANNELS = 5, 12, 4
FRAMES, SIZE = 9, 32  # 9 frames = 3 latent frames; 32 px = 4 latent px = 2 x 2 patches
WORDS = "a the man woman walks runs in rain sun city night sea boat red blue old dog".split()
FAST = {"steps": 2, "frames": FRAMES, "height": SIZE, "width": SIZE, "device": "cpu", "dtype": "fp32"}


def build_tiny_cogvideox(root) -> None:
    """Random CogVideoX-2b-shaped parts (sin-cos positions, v-prediction DDIM), saved as a diffusers folder."""
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, T5Config, T5EncoderModel

    torch.manual_seed(0)
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>",
                                        unk_token="<unk>")
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(vocab), d_model=TEXT_DIM, d_kv=4, d_ff=16, num_layers=1,
                                           num_heads=2))
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=LATENT_CHANNELS, out_channels=LATENT_CHANNELS,
        time_embed_dim=8, text_embed_dim=TEXT_DIM, num_layers=2, sample_width=4, sample_height=4, sample_frames=FRAMES,
        max_text_seq_length=TEXT_LEN)
    with torch.no_grad():  # non-zero everywhere, so the text and the other scenes really change the output
        for p in transformer.parameters():
            p.normal_(0.0, 0.3)
    vae = AutoencoderKLCogVideoX(block_out_channels=(8, 8, 8, 8), latent_channels=LATENT_CHANNELS, layers_per_block=1,
                                 norm_num_groups=2, temporal_compression_ratio=4)
    scheduler = CogVideoXDDIMScheduler(beta_end=0.012, clip_sample=False, prediction_type="v_prediction",
                                       rescale_betas_zero_snr=True, timestep_spacing="trailing", snr_shift_scale=3.0)
    CogVideoXPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                      scheduler=scheduler).save_pretrained(root)


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


def cli_args(baseline, model_dir, suite_path, out, *extra):
    fast = ["--steps", "2", "--frames", str(FRAMES), "--height", str(SIZE), "--width", str(SIZE), "--device", "cpu",
            "--dtype", "fp32", "--no-progress"]
    return ["generate", "--baseline", baseline, "--model-dir", str(model_dir), "--suite", str(suite_path),
            "--out", str(out), *fast, *extra]


@pytest.mark.parametrize("baseline", ["cogvideox-concat", "mask2dit"])
def test_generated_submission_validates_and_scores(baseline, model_dir, suite_path, tmp_path):
    out = tmp_path / baseline
    assert main(cli_args(baseline, model_dir, suite_path, out)) == 0
    meta = json.loads((out / "submission.json").read_text())
    assert meta["model"] == baseline and meta["fps"] == 8.0 and meta["generation"]["steps"] == 2
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4")) == [
        "city/scene_1.mp4", "city/scene_2.mp4", "harbor/scene_1.mp4", "harbor/scene_2.mp4"]
    assert main(["validate", "--suite", str(suite_path), "--videos", str(out), "--min-frames", str(FRAMES)]) == 0
    results = tmp_path / "results.json"
    assert main(["evaluate", "--suite", str(suite_path), "--videos", str(out), "--encoder", "tiny",
                 "--out", str(results), "--no-progress", "--device", "cpu", "--strict"]) == 0
    scores = json.loads(results.read_text())["metrics"]
    assert scores["visual_consistency"]["n"] == 2 and np.isfinite(scores["sequence_consistency"]["mean"])


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
    with pytest.raises(MvbenchError, match="mask2dit baseline only"):
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
