"""The released Mask²DiT checkpoint layout and position scheme (github.com/Tianhao-Qi/Mask2DiT, Oct. 2025).

A folder is fabricated in the release's exact layout (authors' class name, ``attn_msk_version``, sharded
safetensors + index, diffusers key names) with random values, then loaded strictly and run. The official 2B
position scheme is checked against an independent numpy trilinear interpolation of the model's own table.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

pytest.importorskip("diffusers")

from test_baselines_tiny_models import (  # noqa: E402
    build_tiny_cogvideox,
    tiny_cogvideox_transformer,
    write_official_mask2dit_transformer,
)

from mvbench.errors import CheckpointMismatchError, MvbenchError  # noqa: E402
from reference_models.mask2dit import MultiSceneTransformer  # noqa: E402
from reference_models.mask2dit.official import load_transformer_folder, read_transformer_folder  # noqa: E402
from reference_models.mask2dit.positions import sincos_video_positions  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """(official folder, the in-memory model whose weights it holds)."""
    model = tiny_cogvideox_transformer(9, rotary=True, seed=11)
    folder = write_official_mask2dit_transformer(model, tmp_path_factory.mktemp("release") / "transformer")
    return folder, model


def test_release_folder_loads_strictly_with_its_mask(released):
    folder, model = released
    loaded, info = load_transformer_folder(folder)
    assert info.is_official and info.mask_version == 2 and info.variant == "v2"
    assert type(loaded).__name__ == "CogVideoXTransformer3DModel"
    theirs, ours = model.state_dict(), loaded.state_dict()
    assert theirs.keys() == ours.keys() and all(torch.equal(theirs[k], ours[k]) for k in theirs)
    wrapper = MultiSceneTransformer.from_pretrained(str(folder.parent), torch_dtype=torch.float32)
    assert wrapper.rule.name == "v2" and wrapper.temporal_positions == "official"


def test_mask_version_five_and_unknown_versions(released, tmp_path):
    folder, _ = released
    copy = tmp_path / "t5"
    shutil.copytree(folder, copy)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "attn_msk_version": 5}))
    assert read_transformer_folder(copy).variant == "v5"
    (copy / "config.json").write_text(json.dumps({**config, "attn_msk_version": 9}))
    with pytest.raises(MvbenchError, match="attn_msk_version 9"):
        read_transformer_folder(copy)
    (copy / "config.json").write_text(json.dumps({**config, "_class_name": "UNet2DModel"}))
    with pytest.raises(MvbenchError, match="UNet2DModel"):
        read_transformer_folder(copy)


def test_missing_or_extra_weights_are_named(released, tmp_path):
    from safetensors.torch import load_file, save_file

    folder, _ = released
    copy = tmp_path / "broken"
    shutil.copytree(folder, copy)
    shard = sorted(copy.glob("*.safetensors"))[0]
    state = load_file(str(shard))
    removed = sorted(state)[0]
    state.pop(removed)
    state["transformer_blocks.0.attn1.extra.weight"] = torch.zeros(2)
    save_file(state, str(shard))
    with pytest.raises(CheckpointMismatchError, match="1 missing keys") as error:
        load_transformer_folder(copy)
    assert removed in str(error.value) and "transformer_blocks.0.attn1.extra.weight" in str(error.value)
    next(copy.glob("*-00002-*")).unlink()
    with pytest.raises(MvbenchError, match="shards listed in"):
        load_transformer_folder(copy)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickled_bin_is_refused_with_one_clear_error(tmp_path, released):
    import pickle

    folder, _ = released
    bad = tmp_path / "bin"
    bad.mkdir()
    shutil.copy(folder / "config.json", bad / "config.json")

    class Hostile:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(bad / "diffusion_pytorch_model.bin", "wb") as handle:
        pickle.dump({"w": Hostile()}, handle)
    with pytest.raises(MvbenchError, match="cannot be read safely"):
        load_transformer_folder(bad)


def _numpy_trilinear_time(table: np.ndarray, out_frames: int) -> np.ndarray:
    """Linear resampling along axis 0 with align_corners=False, written from the formula
    src = (dst + 0.5) * in / out - 0.5, clamped to [0, in - 1]."""
    in_frames = table.shape[0]
    out = np.empty((out_frames,) + table.shape[1:])
    for d in range(out_frames):
        src = min(max((d + 0.5) * in_frames / out_frames - 0.5, 0.0), in_frames - 1)
        lo = int(np.floor(src))
        hi = min(lo + 1, in_frames - 1)
        w = src - lo
        out[d] = (1 - w) * table[lo] + w * table[hi]
    return out


def test_official_sincos_positions_stretch_the_13_frame_table():
    model = tiny_cogvideox_transformer(9, rotary=False)  # sample: 3 latent frames of 2 x 2 patches
    embed = model.patch_embed
    base = embed.pos_embedding[0, embed.max_text_seq_length:].double().numpy().reshape(3, 2, 2, -1)
    got = sincos_video_positions(model, [3, 3], 4, 4, "official", torch.device("cpu"), text_tokens=2 * 5)
    want = _numpy_trilinear_time(base, 6).reshape(-1, base.shape[-1])  # spatial size unchanged: identity
    np.testing.assert_allclose(got.double().numpy(), want, atol=1e-6)
    one = sincos_video_positions(model, [3], 4, 4, "official", torch.device("cpu"), text_tokens=5)
    np.testing.assert_allclose(one.double().numpy(), base.reshape(-1, base.shape[-1]), atol=1e-7)
    continuous = sincos_video_positions(model, [3, 3], 4, 4, "continuous", torch.device("cpu"))
    assert (got - continuous).abs().max() > 0.1  # the two schemes really differ
    with pytest.raises(ValueError, match="fewer than the 4 latent frames"):
        sincos_video_positions(model, [4], 4, 4, "official", torch.device("cpu"), text_tokens=5)


def test_baseline_generates_from_the_release_folder(released, tmp_path):
    """``--transformer-dir`` with the release folder == the same weights in a diffusers folder (strict loading
    changes nothing), the mask comes from attn_msk_version, and the default positions are the official ones."""
    from baselines import create_baseline
    from mvbench.suite import parse_suite

    folder, model = released
    cog = build_tiny_cogvideox(tmp_path / "cog", rotary=True)
    model.save_pretrained(tmp_path / "diffusers_transformer")
    item = parse_suite({"suite": "s", "version": "1", "items": [{"id": "a", "scenes": [
        {"prompt": "a man walks"}, {"prompt": "a red boat"}]}]}).items[0]
    fast = {"steps": 2, "frames": 9, "height": 32, "width": 32, "device": "cpu", "dtype": "fp32",
            "attention_backend": "grouped", "guidance": 2.0}
    official = create_baseline("mask2dit", cog, transformer_dir=folder, **fast)
    assert official.variant == "v2" and official.settings()["checkpoint_attn_msk_version"] == 2
    plain = create_baseline("mask2dit", cog, transformer_dir=tmp_path / "diffusers_transformer", **fast)
    assert plain.settings()["checkpoint_class"] == "CogVideoXTransformer3DModel"
    a, b = official.generate_item(item, 0), plain.generate_item(item, 0)
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and a[0].shape == (9, 32, 32, 3)
    v5 = create_baseline("mask2dit", cog, transformer_dir=folder, variant="v5", **fast).generate_item(item, 0)
    assert max(np.abs(x.astype(int) - y.astype(int)).max() for x, y in zip(a, v5)) > 1
