"""``clip:ARCH:PRETRAINED`` encoders: local checkpoints only, frame-averaged video embeddings.

A tiny open_clip architecture is registered from a JSON config and saved with random weights,
so nothing is downloaded. Expected values are computed here from the raw open_clip model.
"""

from __future__ import annotations

import json

import open_clip
import open_clip.factory
import open_clip.pretrained
import pytest
import torch

from mvbench import weights
from mvbench.encoders import create_encoder
from mvbench.encoders.openclip import openclip_weight_spec, parse_name
from mvbench.errors import MvbenchError, WeightsMissingError

ARCH = "mvbench-test-tiny-clip"
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)  # CLIP's published normalisation constants
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openclip")
    config = {
        "embed_dim": 16,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
    }
    (folder / f"{ARCH}.json").write_text(json.dumps(config))
    open_clip.add_model_config(folder / f"{ARCH}.json")
    torch.manual_seed(0)
    model = open_clip.create_model(ARCH, pretrained_text=False)
    path = folder / "weights.bin"
    torch.save(model.state_dict(), path)
    return path, model.eval()


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("open_clip tried to download")

    for module in (open_clip.pretrained, open_clip.factory):
        for name in ("download_pretrained", "download_pretrained_from_url", "download_pretrained_from_hf"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, refuse)


@pytest.fixture()
def encoder(checkpoint):
    return create_encoder(f"clip:{ARCH}:{checkpoint[0]}")


def test_video_embedding_is_normalised_mean_of_frame_embeddings(encoder, checkpoint):
    _, reference = checkpoint
    clips = torch.randn(2, 5, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    out = encoder.encode_video(clips)
    with torch.no_grad():
        expected = []
        for clip in clips:
            frames = [reference.encode_image(frame[None]).double()[0] for frame in clip]
            mean = torch.stack(frames).mean(0)
            expected.append(mean / mean.norm())
    assert out.dtype == torch.float32 and out.shape == (2, 16)
    torch.testing.assert_close(out.double(), torch.stack(expected), atol=1e-5, rtol=1e-5)


def test_text_embedding_and_truncation_count(encoder, checkpoint):
    _, reference = checkpoint
    prompts = ["a dog runs on the beach", "a " * 80, "a " * 75]  # 75 words + SOT/EOT = 77: fits
    out = encoder.encode_text(prompts)
    assert encoder.truncated_prompts == 1
    tokens = open_clip.get_tokenizer(ARCH)(prompts)
    with torch.no_grad():
        expected = reference.encode_text(tokens).double()
    expected = expected / expected.norm(dim=-1, keepdim=True)
    torch.testing.assert_close(out.double(), expected, atol=1e-5, rtol=1e-5)


def test_preprocess_and_description(encoder, checkpoint):
    pp = encoder.preprocess
    assert (pp.num_frames, pp.size) == (8, 32)
    assert pp.mean == pytest.approx(OPENAI_MEAN) and pp.std == pytest.approx(OPENAI_STD)
    info = encoder.describe()
    assert info["weights"] is None and info["weights_sha256"] == weights.file_sha256(checkpoint[0])
    assert info["context_length"] == 77
    # a file given by path, with no weights entry and so no published sha256, is not calibrated
    assert info["calibrated"] is False and info["calibration"]


def test_tag_resolves_to_the_cache_and_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("MVBENCH_HOME", str(tmp_path))
    with pytest.raises(WeightsMissingError) as err:
        create_encoder("clip:ViT-B-32:openai")
    assert "mvbench weights fetch clip:ViT-B-32:openai" in str(err.value)
    spec = weights.get_spec("clip:ViT-B-32:openai")  # registered so `weights fetch` knows it
    assert spec.url == (
        "https://huggingface.co/timm/vit_base_patch32_clip_224.openai/resolve/main/open_clip_pytorch_model.bin"
    )
    assert spec.extras["quick_gelu"] is True
    assert weights.weight_path(spec.name).is_relative_to(tmp_path)


def test_openaipublic_address_carries_its_sha256(monkeypatch):
    digest = "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"
    url = f"https://openaipublic.azureedge.net/clip/models/{digest}/ViT-B-32.pt"
    monkeypatch.setattr(open_clip, "get_pretrained_cfg", lambda arch, tag: {"url": url})
    spec = openclip_weight_spec("clip:ViT-B-32:openai")
    assert spec.sha256 == digest and spec.filename.endswith("/ViT-B-32.pt")


@pytest.mark.parametrize(
    "name, message",
    [
        ("clip:ViT-B-32", "bad open_clip encoder name"),
        ("clip::openai", "bad open_clip encoder name"),
        ("clip:No-Such-Arch:openai", "no architecture 'No-Such-Arch'"),
        ("clip:ViT-B-32:no_such_tag", "neither a checkpoint file nor an open_clip pretrained tag"),
    ],
)
def test_bad_names_are_clear_errors(name, message):
    with pytest.raises(MvbenchError, match=message):
        create_encoder(name)


def test_parse_name_keeps_colons_in_paths():
    assert parse_name("clip:ViT-B-32:C:/weights/x.bin") == ("ViT-B-32", "C:/weights/x.bin")
