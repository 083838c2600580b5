"""ViCLIP encoders: official key layout, strict loading, tokenizer truncation, numerics, ``tiny``.

No pretrained weights are needed: checkpoints are fabricated in the official layout. Numerics
are checked against a float64 re-statement of InternVid's forward pass written here
(sequence-first nn.MultiheadAttention, Conv3d patch embedding, '(b t) n m -> b (n t) m' token
order, LayerNorm on all tokens then the class token), independent of the SDPA implementation.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mvbench.encoders import create_encoder
from mvbench.encoders.viclip import (
    build_tiny,
    build_viclip,
    check_state_dict,
    expected_shapes,
    model_from_checkpoint,
)
from mvbench.encoders.viclip_model import VICLIP_B16, VICLIP_L14, VICLIP_TINY, ViclipModel
from mvbench.encoders.viclip_tokenizer import ViclipTokenizer
from mvbench.errors import CheckpointMismatchError, WeightsMissingError

SOT, EOT, A_WORD = 49406, 49407, 320  # CLIP BPE ids of <|startoftext|>, <|endoftext|>, "a</w>"

# Written by hand from InternVid's viclip_vision.py / viclip_text.py / viclip.py (ViT-L/14, 8 frames,
# 224 px, text context 32, vocab 49408, text width 768, embed 768).
L14_KEYS_BY_HAND = {
    "temp": (),
    "vision_encoder.conv1.weight": (1024, 3, 1, 14, 14),
    "vision_encoder.class_embedding": (1024,),
    "vision_encoder.positional_embedding": (257, 1024),
    "vision_encoder.temporal_positional_embedding": (1, 8, 1024),
    "vision_encoder.ln_pre.weight": (1024,),
    "vision_encoder.transformer.resblocks.0.attn.in_proj_weight": (3072, 1024),
    "vision_encoder.transformer.resblocks.0.attn.in_proj_bias": (3072,),
    "vision_encoder.transformer.resblocks.23.attn.out_proj.weight": (1024, 1024),
    "vision_encoder.transformer.resblocks.23.mlp.c_fc.weight": (4096, 1024),
    "vision_encoder.transformer.resblocks.23.mlp.c_proj.bias": (1024,),
    "vision_encoder.transformer.resblocks.5.ln_2.bias": (1024,),
    "vision_encoder.ln_post.bias": (1024,),
    "vision_encoder.proj": (1024, 768),
    "text_encoder.token_embedding.weight": (49408, 768),
    "text_encoder.positional_embedding": (32, 768),
    "text_encoder.transformer.resblocks.11.attn.in_proj_weight": (2304, 768),
    "text_encoder.transformer.resblocks.11.mlp.c_fc.weight": (3072, 768),
    "text_encoder.ln_final.weight": (768,),
    "text_encoder.text_projection": (768, 768),
}
B16_KEYS_BY_HAND = {
    "vision_encoder.conv1.weight": (768, 3, 1, 16, 16),
    "vision_encoder.positional_embedding": (197, 768),
    "vision_encoder.temporal_positional_embedding": (1, 8, 768),
    "vision_encoder.transformer.resblocks.11.attn.in_proj_weight": (2304, 768),
    "vision_encoder.proj": (768, 512),
    "text_encoder.token_embedding.weight": (49408, 512),
    "text_encoder.positional_embedding": (32, 512),
    "text_encoder.transformer.resblocks.11.attn.in_proj_weight": (1536, 512),
    "text_encoder.text_projection": (512, 512),
}


def _per_block_keys() -> int:
    # attn in_proj w/b, out_proj w/b, ln_1 w/b, c_fc w/b, c_proj w/b, ln_2 w/b
    return 12


@pytest.mark.parametrize(
    "cfg, by_hand, vision_layers, text_layers",
    [(VICLIP_L14, L14_KEYS_BY_HAND, 24, 12), (VICLIP_B16, B16_KEYS_BY_HAND, 12, 12)],
)
def test_key_layout_matches_official(cfg, by_hand, vision_layers, text_layers):
    shapes = expected_shapes(cfg)
    for key, shape in by_hand.items():
        assert key in shapes, key
        assert shapes[key] == shape, key
    # vision: conv1, class, pos, temporal, ln_pre (2), blocks, ln_post (2), proj
    # text: token, pos, blocks, ln_final (2), text_projection; plus temp
    n_vision = 1 + 1 + 1 + 1 + 2 + vision_layers * _per_block_keys() + 2 + 1
    n_text = 1 + 1 + text_layers * _per_block_keys() + 2 + 1
    assert len(shapes) == n_vision + n_text + 1
    assert f"vision_encoder.transformer.resblocks.{vision_layers}.ln_1.weight" not in shapes
    assert f"text_encoder.transformer.resblocks.{text_layers}.ln_1.weight" not in shapes


def _fabricate(cfg) -> dict[str, torch.Tensor]:
    """Official-layout state dict whose tensors are all views of one random storage.

    torch.save writes a shared storage once, so the file holds ~the largest tensor (the token
    embedding) instead of the whole network: the L/14 layout saves and loads in seconds.
    """
    shapes = expected_shapes(cfg)
    base = torch.randn(max(math.prod(s) for s in shapes.values()), generator=torch.Generator().manual_seed(0)) * 0.02
    return {k: base[: math.prod(s)].view(s) for k, s in shapes.items()}


@pytest.mark.parametrize("name, cfg", [("viclip-l14", VICLIP_L14), ("viclip-b16", VICLIP_B16)])
def test_fabricated_official_checkpoint_loads_strictly(tmp_path, name, cfg):
    path = tmp_path / "ckpt.pth"
    state = _fabricate(cfg)
    torch.save({"model": state, "epoch": 3}, path)
    enc = build_viclip(name, path)
    params = dict(enc.module.named_parameters())
    assert params.keys() == state.keys()
    for key in ("vision_encoder.proj", "text_encoder.positional_embedding", "vision_encoder.conv1.weight", "temp"):
        assert params[key].dtype == torch.float32 and torch.equal(params[key], state[key]), key
    assert not any(p.is_meta for p in params.values())
    assert enc.weights_name == name and len(enc.weights_sha256) == 64 and enc.calibrated
    assert enc.preprocess.num_frames == 8 and enc.preprocess.size == 224
    assert enc.context_length == 32
    if name == "viclip-b16":  # one forward at real size (the L/14 text tower alone takes seconds on CPU)
        emb = enc.encode_text(["a dog"])
        assert emb.shape == (1, 512) and torch.allclose(emb.norm(dim=-1), torch.ones(1))


def test_half_precision_checkpoint_is_loaded_as_float32(tmp_path):
    reference = build_tiny()
    state = {k: v.half() for k, v in reference.module.state_dict().items()}
    path = tmp_path / "half.pth"
    torch.save({"model": state}, path)
    model = model_from_checkpoint(path, VICLIP_TINY)
    for key, value in model.state_dict().items():
        assert value.dtype == torch.float32 and torch.equal(value, state[key].float()), key


def test_missing_unexpected_and_misshaped_keys_are_named():
    state = {k: torch.empty(s, device="meta") for k, s in expected_shapes(VICLIP_L14).items()}
    del state["vision_encoder.transformer.resblocks.7.attn.in_proj_bias"]
    state["vision_encoder.head.weight"] = torch.empty(3, device="meta")
    state["text_encoder.positional_embedding"] = torch.empty(77, 768, device="meta")
    with pytest.raises(CheckpointMismatchError) as err:
        check_state_dict(state, VICLIP_L14, "ckpt.pth")
    msg = str(err.value)
    assert "1 missing keys: vision_encoder.transformer.resblocks.7.attn.in_proj_bias" in msg
    assert "1 unexpected keys: vision_encoder.head.weight" in msg
    assert "text_encoder.positional_embedding (77, 768) (expected (32, 768))" in msg
    assert "ckpt.pth" in msg


def test_b16_checkpoint_rejected_as_l14():
    state = {k: torch.empty(s, device="meta") for k, s in expected_shapes(VICLIP_B16).items()}
    with pytest.raises(CheckpointMismatchError, match="missing keys: vision_encoder.transformer.resblocks.12"):
        check_state_dict(state, VICLIP_L14, "b16.pth")


@pytest.mark.parametrize("edit", ["missing", "extra"])
def test_checkpoint_file_with_missing_or_extra_key_fails(tmp_path, edit):
    state = ViclipModel(VICLIP_TINY).state_dict()
    if edit == "missing":
        del state["text_encoder.ln_final.bias"]
        expected = "missing keys: text_encoder.ln_final.bias"
    else:
        state["text_encoder.logit_bias"] = torch.zeros(1)
        expected = "unexpected keys: text_encoder.logit_bias"
    path = tmp_path / "bad.pth"
    torch.save({"model": state}, path)
    with pytest.raises(CheckpointMismatchError, match=expected):
        model_from_checkpoint(path, VICLIP_TINY)


def test_checkpoint_without_model_entry_fails(tmp_path):
    path = tmp_path / "plain.pth"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(CheckpointMismatchError, match="no 'model' entry"):
        model_from_checkpoint(path, VICLIP_TINY)


def test_missing_weights_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("MVBENCH_HOME", str(tmp_path))
    with pytest.raises(WeightsMissingError) as err:
        create_encoder("viclip-l14")
    assert "mvbench weights fetch viclip-l14" in str(err.value)
    assert "mvbench weights import viclip-l14" in str(err.value)


# ---------------------------------------------------------------- tokenizer


def test_tokenizer_hand_worked_example():
    tokens, truncated = ViclipTokenizer()(["A photo of a  dog"])
    expected = [SOT, 320, 1125, 539, 320, 1929, EOT] + [0] * 25  # CLIP ids of "a photo of a dog"
    assert tokens.shape == (1, 32) and tokens.dtype == torch.long
    assert tokens[0].tolist() == expected and truncated == [False]


def test_long_prompt_is_truncated_with_eot_last():
    tok = ViclipTokenizer()
    tokens, truncated = tok(["a " * 40, "a " * 30, "a " * 31])
    # 40 words: SOT + 30 kept + EOT overwrites the 32nd id
    assert tokens[0].tolist() == [SOT] + [A_WORD] * 30 + [EOT]
    # exactly 32 ids with SOT/EOT: fits, not truncated
    assert tokens[1].tolist() == [SOT] + [A_WORD] * 30 + [EOT]
    assert truncated == [True, False, True]


def test_internvid_special_token_spelling_is_one_piece():
    tokens, _ = ViclipTokenizer()(["a <|endoftext|> a"])
    assert tokens[0, :5].tolist() == [SOT, A_WORD, EOT, A_WORD, EOT]


def test_encoder_counts_truncated_prompts():
    enc = build_tiny()
    enc.encode_text(["a short prompt", "a " * 50])
    assert enc.truncated_prompts == 1
    enc.encode_text(["word " * 33])
    assert enc.truncated_prompts == 2


# ---------------------------------------------------------------- numerics (float64 reference)


def _ref_block(x, p, prefix, heads, mask=None):
    """InternVid's ResidualAttentionBlock on sequence-first x [L, N, W] (float64)."""
    w = x.shape[-1]

    def ln(t, name):
        return F.layer_norm(t, (w,), p[f"{prefix}{name}.weight"], p[f"{prefix}{name}.bias"], 1e-5)

    h = ln(x, "ln_1")
    attn, _ = F.multi_head_attention_forward(
        h, h, h, w, heads, p[f"{prefix}attn.in_proj_weight"], p[f"{prefix}attn.in_proj_bias"],
        None, None, False, 0.0, p[f"{prefix}attn.out_proj.weight"], p[f"{prefix}attn.out_proj.bias"],
        training=False, need_weights=False, attn_mask=mask,
    )
    x = x + attn
    h = F.linear(ln(x, "ln_2"), p[f"{prefix}mlp.c_fc.weight"], p[f"{prefix}mlp.c_fc.bias"])
    h = h * torch.sigmoid(1.702 * h)
    return x + F.linear(h, p[f"{prefix}mlp.c_proj.weight"], p[f"{prefix}mlp.c_proj.bias"])


def _ref_video(p, clips, cfg):
    v = "vision_encoder."
    x = clips.permute(0, 2, 1, 3, 4)  # [B, T, C, H, W] -> [B, C, T, H, W]
    x = F.conv3d(x, p[v + "conv1.weight"], stride=(1, cfg.patch_size, cfg.patch_size))
    b, c, t, h, w = x.shape
    x = x.permute(0, 2, 3, 4, 1).reshape(b * t, h * w, c)
    cls = p[v + "class_embedding"].expand(b * t, 1, c)
    x = torch.cat([cls, x], dim=1) + p[v + "positional_embedding"]
    cls_tokens = x[:b, :1]
    x = x[:, 1:]
    x = x.reshape(b, t, h * w, c).permute(0, 2, 1, 3).reshape(b * h * w, t, c)  # (b t) n m -> (b n) t m
    temporal = p[v + "temporal_positional_embedding"]
    x = x + (temporal.mean(1) if t == 1 else temporal)
    x = x.reshape(b, h * w * t, c)  # (b n) t m -> b (n t) m
    x = torch.cat([cls_tokens, x], dim=1)
    x = F.layer_norm(x, (c,), p[v + "ln_pre.weight"], p[v + "ln_pre.bias"], 1e-5).permute(1, 0, 2)
    for i in range(cfg.vision_layers):
        x = _ref_block(x, p, f"{v}transformer.resblocks.{i}.", cfg.vision_heads)
    x = F.layer_norm(x, (c,), p[v + "ln_post.weight"], p[v + "ln_post.bias"], 1e-5)
    emb = x[0] @ p[v + "proj"]
    return emb / emb.norm(dim=-1, keepdim=True)


def _ref_text(p, tokens, cfg):
    t = "text_encoder."
    x = p[t + "token_embedding.weight"][tokens] + p[t + "positional_embedding"]
    n = tokens.shape[1]
    mask = torch.full((n, n), float("-inf"), dtype=torch.float64).triu_(1)
    x = x.permute(1, 0, 2)
    for i in range(cfg.text_layers):
        x = _ref_block(x, p, f"{t}transformer.resblocks.{i}.", cfg.text_heads, mask)
    x = x.permute(1, 0, 2)
    w = x.shape[-1]
    x = F.layer_norm(x, (w,), p[t + "ln_final.weight"], p[t + "ln_final.bias"], 1e-5)
    emb = x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)] @ p[t + "text_projection"]
    return emb / emb.norm(dim=-1, keepdim=True)


@pytest.fixture(scope="module")
def tiny():
    return build_tiny()


@pytest.mark.parametrize("frames", [8, 1])
def test_video_embedding_matches_reference(tiny, frames):
    gen = torch.Generator().manual_seed(1)
    clips = torch.randn(3, frames, 3, 32, 32, generator=gen)
    p = {k: v.double() for k, v in tiny.module.state_dict().items()}
    out = tiny.encode_video(clips)
    assert out.dtype == torch.float32 and out.shape == (3, 32)
    torch.testing.assert_close(out.double(), _ref_video(p, clips.double(), VICLIP_TINY), atol=1e-5, rtol=1e-5)
    assert torch.allclose(out.norm(dim=-1), torch.ones(3))


def test_frame_order_matters(tiny):
    clips = torch.randn(1, 8, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    a = tiny.encode_video(clips)
    b = tiny.encode_video(clips.flip(1))
    assert not torch.allclose(a, b, atol=1e-4)  # the temporal positional embedding is used


def test_text_embedding_matches_reference(tiny):
    prompts = ["a cat jumps over a red fence", "two people talk in a kitchen at night", "a " * 40]
    tokens, _ = tiny.tokenizer(prompts)
    p = {k: v.double() for k, v in tiny.module.state_dict().items()}
    out = tiny.encode_text(prompts)
    torch.testing.assert_close(out.double(), _ref_text(p, tokens, VICLIP_TINY), atol=1e-5, rtol=1e-5)
    assert torch.allclose(out.norm(dim=-1), torch.ones(3))


def test_wrong_clip_shape_is_a_clear_error(tiny):
    with pytest.raises(ValueError, match="32, 32"):
        tiny.encode_video(torch.zeros(1, 8, 3, 64, 64))
    with pytest.raises(ValueError, match="8 frames"):
        tiny.encode_video(torch.zeros(1, 4, 3, 32, 32))


# ---------------------------------------------------------------- tiny


def test_tiny_is_deterministic_and_labelled_uncalibrated(tiny):
    other = create_encoder("tiny")
    a, b = tiny.module.state_dict(), other.module.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert other.weights_sha256 == tiny.weights_sha256 and len(tiny.weights_sha256) == 64
    assert build_tiny(seed=1).weights_sha256 != tiny.weights_sha256
    info = other.describe()
    assert info["calibrated"] is False and info["weights"] is None and info["name"] == "tiny"
    assert info["context_length"] == 32
    pp = other.preprocess
    assert (pp.num_frames, pp.size) == (8, 32)
    assert pp.mean == (0.485, 0.456, 0.406) and pp.std == (0.229, 0.224, 0.225)  # ImageNet (InternVid demo)
    # seeded init draws real random values: weight matrices ~ N(0, 1/fan_in)
    w = a["vision_encoder.transformer.resblocks.0.mlp.c_fc.weight"]
    assert math.isclose(w.std().item(), 64**-0.5, rel_tol=0.05)
