"""VBench's networks: official key layouts (written out by hand in vbench_appearance_fakes.py), strict
loading of fabricated checkpoints (real size once each), forward passes against independent
re-implementations of the original code, and clear errors for mismatched or hostile files."""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from vbench_appearance_fakes import (
    TINY_CLIP_B,
    TINY_DINO,
    TINY_MUSIQ,
    clip_layout,
    dino_layout,
    fabricate,
    musiq_layout,
    openai_clip_file,
    save_torchscript_state,
)

from mvbench.encoders.aesthetic import aesthetic_scores, load_aesthetic_head
from mvbench.encoders.checkpoint import load_state_dict_strictly
from mvbench.encoders.clip_openai import CLIP_VIT_B32, CLIP_VIT_L14, build_clip, load_openai_clip_visual
from mvbench.encoders.dino import DINO_VITB16, build_vit, dino_position_embedding, load_dino
from mvbench.errors import CheckpointMismatchError, MvbenchError

# -- independent references -------------------------------------------------------------------------


def _cubic_weights(t: float, a: float = -0.75) -> list[float]:
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def bicubic_matrix(n_in: int, scale: float) -> np.ndarray:
    """1-D resampling matrix of PyTorch's bicubic interpolation (align_corners=False) when a scale factor
    is given: output i reads input coordinate (i + 0.5) / scale - 0.5, indices clamped to the border."""
    n_out = int(np.floor(n_in * scale))
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        src = (i + 0.5) / scale - 0.5
        x0 = int(np.floor(src))
        for k, w in enumerate(_cubic_weights(src - x0)):
            m[i, min(max(x0 - 1 + k, 0), n_in - 1)] += w
    return m


def ln(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def reference_dino(state: dict, x: torch.Tensor, heads: int) -> torch.Tensor:
    """DINO VisionTransformer.forward (vision_transformer.py) written out with explicit attention."""
    b, _, h, w = x.shape
    p = state["patch_embed.proj.weight"].shape[-1]
    t = F.conv2d(x, state["patch_embed.proj.weight"], state["patch_embed.proj.bias"], stride=p)
    t = t.flatten(2).transpose(1, 2)
    t = torch.cat([state["cls_token"].expand(b, -1, -1), t], 1)
    pe = state["pos_embed"]
    n, d = pe.shape[1] - 1, pe.shape[2]
    g = int(np.sqrt(n))
    grid = pe[0, 1:].reshape(g, g, d).double().numpy()
    rows = bicubic_matrix(g, (h // p + 0.1) / np.sqrt(n))
    cols = bicubic_matrix(g, (w // p + 0.1) / np.sqrt(n))
    resized = np.einsum("ij,jkd,lk->ild", rows, grid, cols)
    pos = torch.cat([pe[:, :1], torch.from_numpy(resized).float().reshape(1, -1, d)], 1)
    t = t + pos
    depth = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
    for i in range(depth):
        s = {k[len(f"blocks.{i}."):]: v for k, v in state.items() if k.startswith(f"blocks.{i}.")}
        y = ln(t, s["norm1.weight"], s["norm1.bias"], 1e-6)
        qkv = (y @ s["attn.qkv.weight"].T + s["attn.qkv.bias"]).reshape(b, -1, 3, heads, d // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) * (d // heads) ** -0.5).softmax(-1)
        y = (attn @ v).transpose(1, 2).reshape(b, -1, d) @ s["attn.proj.weight"].T + s["attn.proj.bias"]
        t = t + y
        y = ln(t, s["norm2.weight"], s["norm2.bias"], 1e-6)
        y = F.gelu(y @ s["mlp.fc1.weight"].T + s["mlp.fc1.bias"]) @ s["mlp.fc2.weight"].T + s["mlp.fc2.bias"]
        t = t + y
    return ln(t, state["norm.weight"], state["norm.bias"], 1e-6)[:, 0]


def reference_openai_visual(state: dict, x: torch.Tensor) -> torch.Tensor:
    """OpenAI CLIP VisionTransformer.forward (openai/CLIP model.py) in fp32, explicit attention."""
    s = {k[len("visual."):]: v.float() for k, v in state.items() if k.startswith("visual.")}
    w = s["conv1.weight"]
    width, p = w.shape[0], w.shape[-1]
    heads = width // 64
    t = F.conv2d(x, w, stride=p).reshape(x.shape[0], width, -1).permute(0, 2, 1)
    t = torch.cat([s["class_embedding"] + torch.zeros(x.shape[0], 1, width), t], 1) + s["positional_embedding"]
    t = ln(t, s["ln_pre.weight"], s["ln_pre.bias"], 1e-5)
    layers = len({k.split(".")[2] for k in s if k.startswith("transformer.resblocks.")})
    for i in range(layers):
        r = {k[len(f"transformer.resblocks.{i}."):]: v for k, v in s.items() if k.startswith(f"transformer.resblocks.{i}.")}
        y = ln(t, r["ln_1.weight"], r["ln_1.bias"], 1e-5)
        q, k, v = (y @ r["attn.in_proj_weight"].T + r["attn.in_proj_bias"]).chunk(3, dim=-1)
        split = lambda z: z.reshape(z.shape[0], z.shape[1], heads, -1).transpose(1, 2)  # noqa: E731
        q, k, v = split(q), split(k), split(v)
        a = ((q @ k.transpose(-2, -1)) / (width // heads) ** 0.5).softmax(-1)
        y = (a @ v).transpose(1, 2).reshape(t.shape) @ r["attn.out_proj.weight"].T + r["attn.out_proj.bias"]
        t = t + y
        y = ln(t, r["ln_2.weight"], r["ln_2.bias"], 1e-5) @ r["mlp.c_fc.weight"].T + r["mlp.c_fc.bias"]
        y = (y * torch.sigmoid(1.702 * y)) @ r["mlp.c_proj.weight"].T + r["mlp.c_proj.bias"]
        t = t + y
    return ln(t[:, 0], s["ln_post.weight"], s["ln_post.bias"], 1e-5) @ s["proj"]


# -- DINO --------------------------------------------------------------------------------------------


def test_dino_layout_is_dinos():
    vit = build_vit(DINO_VITB16, meta=True)
    assert {k: tuple(v.shape) for k, v in vit.state_dict().items()} == dino_layout(DINO_VITB16)
    assert len(dino_layout(DINO_VITB16)) == 150  # 4 embedding tensors + 12 blocks x 12 + final norm 2


def test_dino_real_size_strict_load(tmp_path):
    state = fabricate(dino_layout(DINO_VITB16), seed=3)
    path = tmp_path / "dino_vitbase16_pretrain.pth"
    torch.save(state, path)
    model = load_dino(path)
    torch.testing.assert_close(model.vit.blocks[11].mlp.fc2.weight, state["blocks.11.mlp.fc2.weight"])
    assert model.vit.pos_embed.shape == (1, 197, 768)


def test_dino_position_embedding_against_hand_bicubic():
    g = torch.Generator().manual_seed(0)
    pe = torch.randn(1, 1 + 14 * 14, 5, generator=g)
    assert dino_position_embedding(pe, 224, 224, 16) is pe
    out = dino_position_embedding(pe, 224, 336, 16)  # a 3:2 frame after VBench's Resize(224)
    assert out.shape == (1, 1 + 14 * 21, 5)
    torch.testing.assert_close(out[:, 0], pe[:, 0])
    grid = pe[0, 1:].reshape(14, 14, 5).double().numpy()
    expected = np.einsum("ij,jkd,lk->ild", bicubic_matrix(14, 14.1 / 14), grid, bicubic_matrix(14, 21.1 / 14))
    np.testing.assert_allclose(out[0, 1:].reshape(14, 21, 5).numpy(), expected, rtol=0, atol=1e-5)
    # the +0.1 matters: a scale of exactly 21/14 maps pixels differently
    plain = np.einsum("ij,jkd,lk->ild", bicubic_matrix(14, 1.0), grid, bicubic_matrix(14, 21 / 14))
    assert np.abs(plain - expected).max() > 1e-3


def test_dino_forward_matches_reference(tmp_path):
    state = fabricate(dino_layout(TINY_DINO), seed=4, scale=0.2)
    path = tmp_path / "dino.pth"
    torch.save(state, path)
    model = load_dino(path, TINY_DINO)
    x = torch.randn(2, 3, 224, 336, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(model(x), reference_dino(state, x, TINY_DINO.num_heads), rtol=1e-4, atol=1e-4)


# -- OpenAI CLIP ----------------------------------------------------------------------------------------


def test_clip_layouts_are_openais():
    for arch, n in ((CLIP_VIT_B32, 302), (CLIP_VIT_L14, 446)):
        layout = clip_layout(arch)
        assert len(layout) == n
        assert {k: tuple(v.shape) for k, v in build_clip(arch, meta=True).state_dict().items()} == layout


def test_clip_l14_real_size_layout_loads_strictly():
    """ViT-L/14 (428 M parameters) checked at real size with shape-only (meta) tensors: every key and
    shape of the official layout is accepted, one missing key is refused."""
    state = {k: torch.empty(s, device="meta") for k, s in clip_layout(CLIP_VIT_L14).items()}
    model = build_clip(CLIP_VIT_L14, meta=True)
    load_state_dict_strictly(model, state, "ViT-L-14.pt", assign=True)
    del state["visual.transformer.resblocks.23.mlp.c_proj.bias"]
    with pytest.raises(CheckpointMismatchError, match="visual.transformer.resblocks.23.mlp.c_proj.bias"):
        load_state_dict_strictly(build_clip(CLIP_VIT_L14, meta=True), state, "ViT-L-14.pt", assign=True)


def test_clip_b32_real_size_archive(tmp_path):
    path, state = openai_clip_file(tmp_path / "ViT-B-32.pt", CLIP_VIT_B32, seed=6)
    assert zipfile.is_zipfile(path)
    model = load_openai_clip_visual(path, CLIP_VIT_B32, "clip-vit-b32-openai")
    assert model.dtype == torch.float32
    torch.testing.assert_close(model.visual.proj, state["visual.proj"].float())
    assert not hasattr(model, "transformer")  # the text tower is dropped after the check


def test_clip_forward_matches_openai_reference(tmp_path):
    path, state = openai_clip_file(tmp_path / "clip.pt", TINY_CLIP_B, seed=7)
    model = load_openai_clip_visual(path, TINY_CLIP_B, "clip-vit-b32-openai")
    x = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(8))
    torch.testing.assert_close(model(x), reference_openai_visual(state, x), rtol=1e-4, atol=1e-4)
    # clip.load's CUDA precision: fp16 linear/conv/attention weights, fp32 LayerNorms
    half = load_openai_clip_visual(path, TINY_CLIP_B, "clip-vit-b32-openai", half=True)
    assert half.dtype == torch.float16 and half.visual.ln_post.weight.dtype == torch.float32
    torch.testing.assert_close(half(x).float(), model(x), rtol=2e-2, atol=2e-2)


def test_clip_plain_state_dict_and_metadata_keys(tmp_path):
    state = fabricate(clip_layout(TINY_CLIP_B), seed=9)
    torch.save(dict(state, input_resolution=torch.tensor(224)), tmp_path / "plain.pt")
    model = load_openai_clip_visual(tmp_path / "plain.pt", TINY_CLIP_B, "clip-vit-b32-openai")
    torch.testing.assert_close(model.visual.conv1.weight, state["visual.conv1.weight"])


@pytest.mark.parametrize("mutation, words", [
    ("drop", ["missing keys", "ln_final.bias"]),  # a text-tower key: the whole file is checked
    ("extra", ["unexpected keys", "visual.extra.weight"]),
])
def test_clip_mismatch_names_keys(tmp_path, mutation, words):
    state = fabricate(clip_layout(TINY_CLIP_B), seed=1, dtype=torch.float16)
    if mutation == "drop":
        del state["ln_final.bias"]
    else:
        state["visual.extra.weight"] = torch.zeros(2)
    path = save_torchscript_state(state, tmp_path / "bad.pt")
    with pytest.raises(CheckpointMismatchError) as err:
        load_openai_clip_visual(path, TINY_CLIP_B, "clip-vit-b32-openai")
    for w in [*words, str(path)]:
        assert w in str(err.value)


def test_clip_broken_archive_is_a_clear_error(tmp_path):
    path = tmp_path / "ViT-B-32.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/constants.pkl", b"not a pickle")
    with pytest.raises(MvbenchError, match="not a loadable TorchScript archive") as err:
        load_openai_clip_visual(path, TINY_CLIP_B, "clip-vit-b32-openai")
    assert "mvbench weights fetch clip-vit-b32-openai" in str(err.value)


# -- aesthetic head and MUSIQ ---------------------------------------------------------------------------


def test_aesthetic_head(tmp_path):
    torch.save({"weight": torch.tensor([[3.0, 4.0]]), "bias": torch.tensor([1.0])}, tmp_path / "head.pth")
    head = load_aesthetic_head(tmp_path / "head.pth", embed_dim=2)
    feats = torch.tensor([[6.0, 8.0], [0.0, -2.0]])  # normalised: (0.6, 0.8) and (0, -1)
    torch.testing.assert_close(aesthetic_scores(head, feats), torch.tensor([3 * 0.6 + 4 * 0.8 + 1, -4 + 1.0]))
    torch.save({"weight": torch.zeros(1, 768), "bias": torch.zeros(1), "extra": torch.zeros(1)}, tmp_path / "x.pth")
    with pytest.raises(CheckpointMismatchError, match="unexpected keys: extra"):
        load_aesthetic_head(tmp_path / "x.pth")
    torch.save({"weight": torch.zeros(1, 768)}, tmp_path / "y.pth")
    with pytest.raises(CheckpointMismatchError, match="missing keys: bias") as err:
        load_aesthetic_head(tmp_path / "y.pth")
    assert str(tmp_path / "y.pth") in str(err.value)


def test_musiq_layout_and_real_size_load(tmp_path):
    from mvbench.encoders.musiq import MUSIQ_SPAQ, load_musiq

    layout = musiq_layout(MUSIQ_SPAQ)
    state = fabricate(layout, seed=10)
    path = tmp_path / "musiq_spaq_ckpt-358bb6af.pth"
    torch.save(state, path)
    model = load_musiq(path)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == layout
    torch.testing.assert_close(model.head.weight, state["head.weight"])


def test_musiq_matches_pyiqa_loading(tmp_path):
    """mvbench's loader (weights_only, 'module.' prefixes stripped) gives the model pyiqa's own loader
    gives (VBench: ``MUSIQ(pretrained_model_path=...)``), on the same [0, 1] frames."""
    from pyiqa.archs.musiq_arch import MUSIQ

    from mvbench.encoders.musiq import load_musiq

    state = fabricate(musiq_layout(TINY_MUSIQ), seed=11, scale=0.1)
    path = tmp_path / "musiq.pth"
    torch.save({"module." + k: v for k, v in state.items()}, path)
    ours = load_musiq(path, TINY_MUSIQ)
    theirs = MUSIQ(hidden_size=TINY_MUSIQ.hidden_size, mlp_dim=TINY_MUSIQ.mlp_dim, num_heads=TINY_MUSIQ.num_heads,
                   num_layers=TINY_MUSIQ.num_layers, longer_side_lengths=list(TINY_MUSIQ.longer_side_lengths),
                   pretrained_model_path=str(path))
    theirs.training = False  # as VBench
    x = torch.rand(2, 3, 40, 72, generator=torch.Generator().manual_seed(12))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)
    del state["head.bias"]
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError, match="missing keys: head.bias"):
        load_musiq(path, TINY_MUSIQ)
    state["head.bias"], state["head.extra"] = torch.zeros(1), torch.zeros(1)
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError, match="unexpected keys: head.extra"):
        load_musiq(path, TINY_MUSIQ)


# -- mismatches and hostile files, every loader ------------------------------------------------------------


class _Hostile:
    def __reduce__(self):
        return (os.getcwd, ())


def _loaders():
    from mvbench.encoders.musiq import load_musiq

    return [
        ("dino-vitb16", lambda p: load_dino(p, TINY_DINO)),
        ("clip-vit-b32-openai", lambda p: load_openai_clip_visual(p, TINY_CLIP_B, "clip-vit-b32-openai")),
        ("laion-aesthetic-vit-l14", lambda p: load_aesthetic_head(p)),
        ("musiq-spaq", lambda p: load_musiq(p, TINY_MUSIQ)),
    ]


@pytest.mark.parametrize("index", range(4))
def test_hostile_pickle_is_refused_without_running_it(tmp_path, index):
    name, load = _loaders()[index]
    path = tmp_path / "weights.pth"
    with open(path, "wb") as fh:
        pickle.dump({"weight": _Hostile()}, fh)
    with pytest.raises(MvbenchError) as err:
        load(path)
    text = str(err.value)
    assert name in text and str(path) in text and f"mvbench weights fetch {name}" in text
    assert "safe_globals" not in text and "weights_only" not in text and "allow" not in text.lower()
    assert len(err.value.message.splitlines()) == 1


def test_dino_mismatch_names_keys(tmp_path):
    state = fabricate(dino_layout(TINY_DINO))
    del state["blocks.1.attn.qkv.bias"]
    state["head.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "dino.pth")
    with pytest.raises(CheckpointMismatchError) as err:
        load_dino(tmp_path / "dino.pth", TINY_DINO)
    assert "missing keys: blocks.1.attn.qkv.bias" in str(err.value)
    assert "unexpected keys: head.weight" in str(err.value)
