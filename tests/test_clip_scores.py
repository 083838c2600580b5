"""CLIP score / CLIPSIM / Frame Consistency: formulas, the HF CLIP loader, tokenizer and preprocessing
against transformers / torchmetrics / torchvision, and the scorer on the demo submission."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from metrics import (
    clip_score_pairs,
    clip_score_torchmetrics,
    clipsim,
    frame_consistency,
    pooled_mean,
    pooled_mean_bootstrap_ci,
)
from mvbench.encoders.checkpoint import check_state_dict
from mvbench.encoders.clip_hf import ClipImageProtocol, ClipTokenizer, build_clip, clip_config, clip_pixels
from mvbench.errors import CheckpointMismatchError, MvbenchError, WeightsMissingError
from mvbench.frame_protocol import interval_indices, pil_resize_square

transformers = pytest.importorskip("transformers")

# ---------------------------------------------------------------------------- fabricated checkpoints


def write_hf_tokenizer_files(folder: Path) -> None:
    """vocab.json / merges.txt of OpenAI's CLIP BPE (from open_clip's bundled merges), HF spelling."""
    from open_clip.tokenizer import SimpleTokenizer

    tok = SimpleTokenizer()
    names = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}
    vocab = {names.get(k, k): v for k, v in tok.encoder.items()}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    merges = sorted(tok.bpe_ranks.items(), key=lambda kv: kv[1])
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(p) for p, _ in merges) + "\n",
                                       encoding="utf-8")


def tiny_clip_config(patch: int = 32):
    from transformers import CLIPConfig

    return CLIPConfig(
        text_config=dict(vocab_size=49408, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=77, hidden_act="quick_gelu",
                         bos_token_id=0, eos_token_id=2, pad_token_id=1),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=224, patch_size=patch, hidden_act="quick_gelu"),
        projection_dim=16, logit_scale_init_value=math.log(100.0))


def make_tiny_clip_folder(folder: Path, seed: int = 0) -> Path:
    """A Hugging Face CLIP folder (config.json + model.safetensors + tokenizer files)."""
    from transformers import CLIPModel

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = CLIPModel(tiny_clip_config()).eval()
    model.save_pretrained(folder)
    write_hf_tokenizer_files(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    return make_tiny_clip_folder(tmp_path_factory.mktemp("tiny_clip") / "clip")


def pil_image_processor(**kwargs):
    """transformers' PIL-based CLIP image processor (the only one before transformers 5, which made
    ``CLIPImageProcessor`` torchvision-based and kept the PIL path as ``CLIPImageProcessorPil``)."""
    try:
        from transformers import CLIPImageProcessorPil as cls
    except ImportError:
        from transformers import CLIPImageProcessor as cls
    return cls(**kwargs)


def reference_model_and_processor(folder: Path):
    """transformers' own CLIPModel / CLIPProcessor from the folder, with the tensor-returning
    ``get_*_features`` that torchmetrics expects (transformers >= 5 returns model outputs)."""
    from transformers import CLIPModel, CLIPProcessor, CLIPTokenizer

    class _Model(CLIPModel):
        def get_image_features(self, *a, **k):
            out = super().get_image_features(*a, **k)
            return getattr(out, "pooler_output", out)

        def get_text_features(self, *a, **k):
            out = super().get_text_features(*a, **k)
            return getattr(out, "pooler_output", out)

    model = _Model.from_pretrained(str(folder)).eval()
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    return model, CLIPProcessor(image_processor=pil_image_processor(), tokenizer=tokenizer)


def random_frames(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, h // 8 + 1, w // 8 + 1, 3)).astype(np.uint8)
    # smooth-ish images (upsampled noise) so resizing is not dominated by aliasing
    return np.stack([np.kron(f, np.ones((8, 8, 1), np.uint8))[:h, :w] for f in base])


LONG_PLOT = ("Harry walks slowly down the long spiral staircase of the castle, holding a candle, while the "
             "portraits on the stone walls whisper to each other about the storm outside, and a grey owl "
             "follows him from the railing until he reaches the empty great hall where the tables are set for "
             "the feast, the candles float in the air, and the enchanted ceiling shows heavy clouds and lightning; "
             "at the far end Professor Dumbledore stands up, raises his hands and asks the students to be quiet")

# ---------------------------------------------------------------------------- formulas


def test_formulas_hand_worked():
    a = np.array([[1.0, 0.0], [math.cos(math.pi / 3), math.sin(math.pi / 3)], [0.0, 1.0]])
    t = np.array([3.0, 0.0])  # text along x, any length
    # cosines 1, 0.5, 0
    assert clipsim(a, t) == pytest.approx(0.5)
    assert clip_score_torchmetrics(a, t) == pytest.approx(50.0)
    assert clip_score_pairs(a, t, logit_scale=100.0).tolist() == pytest.approx([100.0, 50.0, 0.0])
    # consecutive: cos(60 deg) and cos(30 deg)
    assert frame_consistency(a) == pytest.approx(100 * (0.5 + math.cos(math.pi / 6)) / 2)
    # torchmetrics clamps the mean of the batch, not each frame
    assert clip_score_torchmetrics(np.array([[1.0, 0.0], [-0.5, 0.1]]), t) == pytest.approx(
        100 * (1.0 + (-0.5 / math.hypot(0.5, 0.1))) / 2)
    assert clip_score_torchmetrics(np.array([[-1.0, 0.0], [0.5, 0.1]]), t) == 0.0
    with pytest.raises(ValueError, match="at least 2 frames"):
        frame_consistency(a[:1])
    with pytest.raises(ValueError, match="all-zero"):
        clipsim(np.zeros((1, 2)), t)


def test_pooled_mean_and_item_bootstrap():
    sums, counts = np.array([10.0, 2.0, 9.0]), np.array([2, 1, 3])
    assert pooled_mean(sums, counts) == pytest.approx(21.0 / 6)
    lo, hi = pooled_mean_bootstrap_ci(sums, counts, n_resamples=2000, seed=1)
    # independent: resample items by hand with the same generator
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 3, size=(2000, 3))
    means = sums[idx].sum(1) / counts[idx].sum(1)
    assert (lo, hi) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])))
    assert min(sums / counts) <= lo <= hi <= max(sums / counts)


def test_interval_sampling_is_moviebench_reader():
    # video_to_frames_average: interval = T // n when n < T, keep frames with count % interval == 0, stop at n
    for total, n in [(100, 25), (60, 25), (25, 25), (10, 25), (51, 25)]:
        interval = total // n if n < total else 1
        expected = [c for c in range(total) if c % interval == 0][:n]
        assert interval_indices(total, n) == expected

# ---------------------------------------------------------------------------- tokenizer and pixels


@pytest.mark.parametrize("text", ["A man walks his dog, in the park!", "Actor1 (a red circle) meets Actor2.",
                                  "naïve café — 3 o'clock", LONG_PLOT])
def test_tokenizer_matches_transformers(tiny_folder, text):
    from transformers import CLIPTokenizer

    hf = CLIPTokenizer(str(tiny_folder / "vocab.json"), str(tiny_folder / "merges.txt"))
    expected = hf(text)["input_ids"]
    tok = ClipTokenizer()
    ids, mask, flags = tok([text], truncation="cut")
    assert ids[0, :int(mask.sum())].tolist() == expected[:77]
    assert flags == [len(expected) > 77]
    assert (len(expected) > 77) == (text == LONG_PLOT)
    ids, mask, _ = tok([text], truncation="keep_eot")
    n = int(mask.sum())
    assert ids[0, n - 1] == 49407 and n == min(len(expected), 77)


@pytest.mark.parametrize("h, w", [(120, 161), (161, 120), (224, 224), (230, 227), (48, 48)])
def test_pixels_match_clip_image_processor(h, w):
    from PIL import Image

    frames = random_frames(2, h, w, seed=h + w)
    expected = pil_image_processor()([Image.fromarray(f) for f in frames], return_tensors="pt").pixel_values
    got = clip_pixels(frames)
    torch.testing.assert_close(got, expected.float(), rtol=0, atol=2e-6)


@pytest.mark.parametrize("h, w", [(120, 161), (230, 227), (227, 300)])
def test_round_crop_matches_openai_transform(h, w):
    from PIL import Image
    from torchvision import transforms as T

    # OpenAI clip.load's _transform: Resize(224, BICUBIC), CenterCrop(224), ToTensor, Normalize
    tf = T.Compose([T.Resize(224, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))])
    frames = random_frames(2, h, w, seed=3)
    expected = torch.stack([tf(Image.fromarray(f)) for f in frames])
    torch.testing.assert_close(clip_pixels(frames, ClipImageProtocol(crop_rounding="round")), expected,
                               rtol=0, atol=2e-6)

# ---------------------------------------------------------------------------- models against transformers / torchmetrics


@pytest.mark.parametrize("text", ["Actor1 (a red circle) drifts to the left across a meadow.", LONG_PLOT])
def test_moviebench_protocol_equals_torchmetrics_script(tiny_folder, text):
    """MovieBench's Metric_1_clip_score.py on one shot: frames resized to R x R, CLIPImageProcessor
    (do_normalize=False), then torchmetrics CLIPScore (its processor rescales again)."""
    from PIL import Image
    from torchmetrics.functional.multimodal.clip_score import _clip_score_update
    from torchmetrics.multimodal.clip_score import CLIPScore

    model, processor = reference_model_and_processor(tiny_folder)
    frames = random_frames(5, 90, 140, seed=7)
    pil = [Image.fromarray(f).resize((64, 64)) for f in frames]  # the script's pil.resize((R, R))
    tensor = pil_image_processor().preprocess(pil, return_tensors="pt", do_normalize=False).pixel_values
    metric = CLIPScore(model_name_or_path=lambda: (model, processor))
    expected = float(metric(tensor, [text] * len(pil)).detach())
    raw, _ = _clip_score_update(tensor, [text] * len(pil), model, processor)  # unclamped 100 cos per frame

    clip = build_clip(str(tiny_folder))
    emb = clip.encode_frames(pil_resize_square(frames, 64), ClipImageProtocol(double_rescale=True))
    txt = clip.encode_texts([text], truncation="cut")[0]
    assert clip_score_torchmetrics(emb, txt) == pytest.approx(expected, rel=1e-5, abs=1e-5)
    cos = emb @ txt / (np.linalg.norm(emb, axis=1) * np.linalg.norm(txt))
    np.testing.assert_allclose(100 * cos, raw.detach().numpy(), rtol=1e-4, atol=1e-4)
    assert (text in clip.truncated_texts) == (text == LONG_PLOT)
    # the script's double scaling matters: pixels scaled once give other cosines
    once = clip.encode_frames(pil_resize_square(frames, 64), ClipImageProtocol(double_rescale=False))
    assert np.abs(once @ txt / np.linalg.norm(once, axis=1) - emb @ txt / np.linalg.norm(emb, axis=1)).max() > 1e-3


def test_clip_score_package_protocol(tiny_folder):
    """clip-score v0.1.x: OpenAI preprocessing, exp(logit_scale) * cos per pair, mean over pairs."""
    from PIL import Image
    from torchvision import transforms as T

    model, _ = reference_model_and_processor(tiny_folder)
    tf = T.Compose([T.Resize(224, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))])
    frames = random_frames(3, 100, 150, seed=11)
    text = "a red circle meets a blue square"
    with torch.no_grad():
        img = model.get_image_features(pixel_values=torch.stack([tf(Image.fromarray(f)) for f in frames]))
        ids = ClipTokenizer()([text])[0]
        txt = model.get_text_features(input_ids=ids)
    img = img / img.norm(dim=1, keepdim=True)
    txt = txt / txt.norm(dim=1, keepdim=True)
    expected = (model.logit_scale.exp() * (img * txt).sum(1)).detach().numpy()

    clip = build_clip(str(tiny_folder))
    got = clip_score_pairs(clip.encode_frames(frames, ClipImageProtocol(crop_rounding="round")),
                           clip.encode_texts([text])[0], clip.logit_scale)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert clip.logit_scale == pytest.approx(100.0, rel=1e-5)

# ---------------------------------------------------------------------------- loading


def _save_state(folder: Path, state: dict) -> Path:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(tiny_clip_config().to_json_string(), encoding="utf-8")
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors"))
    return folder


@pytest.mark.parametrize("mutation, words", [
    ("drop", ["missing keys", "vision_model.post_layernorm.bias"]),
    ("extra", ["unexpected keys", "vision_model.head.weight"]),
    ("shape", ["shape mismatches", "text_projection.weight"]),
])
def test_strict_loading_names_keys(tmp_path, tiny_folder, mutation, words):
    from safetensors.torch import load_file

    state = load_file(str(tiny_folder / "model.safetensors"))
    if mutation == "drop":
        del state["vision_model.post_layernorm.bias"]
    elif mutation == "extra":
        state["vision_model.head.weight"] = torch.zeros(2)
    else:
        state["text_projection.weight"] = torch.zeros(8, 32)
    folder = _save_state(tmp_path / "bad", state)
    with pytest.raises(CheckpointMismatchError) as err:
        build_clip(str(folder))
    for w in words:
        assert w in str(err.value)


def test_old_position_id_buffers_are_ignored(tmp_path, tiny_folder):
    from safetensors.torch import load_file

    state = load_file(str(tiny_folder / "model.safetensors"))
    state["text_model.embeddings.position_ids"] = torch.arange(77)[None]
    state["vision_model.embeddings.position_ids"] = torch.arange(50)[None]
    clip = build_clip(str(_save_state(tmp_path / "old", state)))
    torch.testing.assert_close(clip.model.text_projection.weight, state["text_projection.weight"])


class _Payload:
    """Unpickling this would run a shell command: the tensor-only reader must refuse it."""

    def __reduce__(self):
        return (os.system, ("echo HOSTILE_PAYLOAD_RAN",))


def test_hostile_checkpoint_is_refused_in_one_line(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("MVBENCH_HOME", str(tmp_path / "home"))
    from mvbench import weights

    path = weights.weight_path("clip-vit-b32-hf")
    path.parent.mkdir(parents=True)
    torch.save({"model": _Payload()}, path)
    with pytest.raises(MvbenchError) as err:
        build_clip("clip-vit-b32-hf")
    msg = str(err.value)
    assert "clip-vit-b32-hf" in msg and str(path) in msg and "never runs code" in msg
    assert "mvbench weights fetch clip-vit-b32-hf" in msg
    assert "allowlist" not in msg.lower() and "add_safe_globals" not in msg and "weights_only=False" not in msg
    assert len(msg.split("\n")) == 2  # the message and its hint
    assert "HOSTILE_PAYLOAD_RAN" not in capfd.readouterr().out


def test_missing_weights_name_fetch_and_import():
    with pytest.raises(WeightsMissingError) as err:
        build_clip("clip-vit-b16-hf")
    assert "mvbench weights fetch clip-vit-b16-hf" in str(err.value)
    assert "mvbench weights import clip-vit-b16-hf" in str(err.value)


def _hf_layout(patch: int) -> dict[str, tuple[int, ...]]:
    """Key -> shape of openai/clip-vit-base-patch{16,32} (transformers CLIPModel), written out by hand."""
    layout: dict[str, tuple[int, ...]] = {}
    for tower, width, mlp, n_pos in (("vision_model", 768, 3072, (224 // patch) ** 2 + 1),
                                     ("text_model", 512, 2048, 77)):
        for i in range(12):
            p = f"{tower}.encoder.layers.{i}"
            for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                layout[f"{p}.self_attn.{proj}.weight"] = (width, width)
                layout[f"{p}.self_attn.{proj}.bias"] = (width,)
            for ln in ("layer_norm1", "layer_norm2"):
                layout[f"{p}.{ln}.weight"] = layout[f"{p}.{ln}.bias"] = (width,)
            layout[f"{p}.mlp.fc1.weight"], layout[f"{p}.mlp.fc1.bias"] = (mlp, width), (mlp,)
            layout[f"{p}.mlp.fc2.weight"], layout[f"{p}.mlp.fc2.bias"] = (width, mlp), (width,)
        layout[f"{tower}.embeddings.position_embedding.weight"] = (n_pos, width)
    layout["vision_model.embeddings.class_embedding"] = (768,)
    layout["vision_model.embeddings.patch_embedding.weight"] = (768, 3, patch, patch)
    for ln in ("vision_model.pre_layrnorm", "vision_model.post_layernorm"):
        layout[f"{ln}.weight"] = layout[f"{ln}.bias"] = (768,)
    layout["text_model.embeddings.token_embedding.weight"] = (49408, 512)
    layout["text_model.final_layer_norm.weight"] = layout["text_model.final_layer_norm.bias"] = (512,)
    layout["visual_projection.weight"] = (512, 768)
    layout["text_projection.weight"] = (512, 512)
    layout["logit_scale"] = ()
    return layout


@pytest.mark.parametrize("arch, patch", [("ViT-B/16", 16), ("ViT-B/32", 32)])
def test_full_size_layout_matches_published_checkpoints(arch, patch):
    from transformers import CLIPModel

    with torch.device("meta"):
        model = CLIPModel(clip_config(arch))
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    fabricated = {k: torch.empty(s, device="meta") for k, s in _hf_layout(patch).items()}
    check_state_dict(fabricated, expected, "fabricated", "CLIPModel", hint="")  # raises on any difference
    assert len(expected) == 398
    wrong = dict(fabricated)
    wrong["vision_model.embeddings.position_embedding.weight"] = torch.empty(10, 768, device="meta")
    with pytest.raises(CheckpointMismatchError, match="position_embedding"):
        check_state_dict(wrong, expected, "fabricated", "CLIPModel", hint="")

# ---------------------------------------------------------------------------- scorer on the demo submission


def test_scorer_on_demo_matches_independent_computation(demo_videos, demo_suite, tiny_folder):
    from PIL import Image
    from torchmetrics.functional.multimodal.clip_score import _clip_score_update

    from mvbench.runner import run_evaluation
    from mvbench.submission import open_submission
    from mvbench.video import decode_frames

    options = {"clip_score_model": str(tiny_folder), "videostudio_clip_model": str(tiny_folder),
               "clip_score_frames": 4, "no_cache": True, "progress": False, "device": "cpu", "bootstrap": 50}
    res = run_evaluation(demo_suite, open_submission(demo_videos), ["clip_score", "clipsim", "frame_consistency"],
                         options)
    assert not res["failures"]
    assert res["metrics"]["clip_score"]["unit"] == "percent"
    assert res["metrics"]["clipsim"]["unit"] == "fraction"
    item = demo_suite.items[0]
    model, processor = reference_model_and_processor(tiny_folder)
    scene_scores, sims, cons = [], [], []
    for k, scene in enumerate(item.scenes, start=1):
        path = demo_videos / item.id / f"scene_{k}.mp4"
        all_frames = decode_frames(path, list(range(12))).numpy()  # demo scenes have 12 frames
        pil = [Image.fromarray(all_frames[i]) for i in interval_indices(12, 4)]
        tensor = pil_image_processor().preprocess(pil, return_tensors="pt", do_normalize=False).pixel_values
        raw, _ = _clip_score_update(tensor, [scene.prompt] * len(pil), model, processor)
        scene_scores.append(max(0.0, float(raw.detach().mean())))
        with torch.no_grad():
            px = pil_image_processor()([Image.fromarray(f) for f in all_frames], return_tensors="pt").pixel_values
            img = model.get_image_features(pixel_values=px)
            txt = model.get_text_features(**processor.tokenizer([scene.prompt], return_tensors="pt"))
        img = torch.nn.functional.normalize(img.double(), dim=1)
        txt = torch.nn.functional.normalize(txt.double(), dim=1)
        sims.append(float((img @ txt[0]).mean()))
        cons.append(float(100 * (img[:-1] * img[1:]).sum(1).mean()))
    got = res["items"][item.id]["scores"]
    assert got["clip_score"] == pytest.approx(np.mean(scene_scores), rel=1e-4, abs=1e-4)
    assert got["clipsim"] == pytest.approx(np.mean(sims), rel=1e-4, abs=1e-5)
    assert got["frame_consistency"] == pytest.approx(np.mean(cons), rel=1e-5)
    # the set's value pools shots: with 3 shots per item it is the mean of the item means
    per_item = [res["items"][i.id]["scores"]["clip_score"] for i in demo_suite.items]
    assert res["metrics"]["clip_score"]["mean"] == pytest.approx(np.mean(per_item), abs=1e-5)
    assert res["metrics"]["clip_score"]["n_units"] == 12
    cfg = res["config"]["scorers"]["clip_scores"]
    assert cfg["clip_score"]["protocol"] == "moviebench" and cfg["clip_score"]["image"]["double_rescale"] is True


def test_weights_are_checked_before_any_work():
    from mvbench.runner import check_weights_present
    from mvbench.scorers.clip_scores import ClipScoresScorer

    assert ClipScoresScorer.required_weights({"metrics": ["clip_score"]}) == ["clip-vit-b16-hf"]
    assert ClipScoresScorer.required_weights({"metrics": ["clip_score"], "clip_score_protocol": "clip-score"}) == [
        "clip-vit-b32-hf"]
    assert ClipScoresScorer.required_weights({"metrics": ["clipsim"], "videostudio_clip_model": "/no/such/dir"}) == [
        "/no/such/dir"]
    with pytest.raises(WeightsMissingError, match="clip-vit-b16-hf"):
        check_weights_present(["clip_score"], {})
    with pytest.raises(MvbenchError, match="unknown weights"):
        check_weights_present(["clipsim"], {"videostudio_clip_model": "no-such-clip"})


def test_frames_needed_and_padding_policy():
    from mvbench.scorers.clip_scores import ClipScoresScorer

    s = ClipScoresScorer({"metrics": ["clip_score", "clipsim"]})
    assert s.frames_needed() == 1 and s.can_pad
    s = ClipScoresScorer({"metrics": ["frame_consistency"], "videostudio_frames": 6})
    assert s.frames_needed() == 6 and not s.can_pad
