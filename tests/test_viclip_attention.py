"""ViCLIP's SDPA attention (the fused/flash path used on GPUs) equals the explicit softmax attention."""

import pytest
import torch

from mvbench.encoders.viclip_model import VICLIP_TINY, ViclipConfig, ViclipModel, seeded_init_, set_attention

#: a B/16-like layout (12 heads of 64, 8 frames) at reduced depth and resolution, so the test stays fast
MIDSIZE = ViclipConfig(image_size=64, patch_size=16, vision_width=768, vision_layers=2, vision_heads=12,
                       embed_dim=512, text_width=512, text_layers=2, text_heads=8)


@pytest.mark.parametrize("cfg", [VICLIP_TINY, MIDSIZE], ids=["tiny", "b16-heads"])
def test_sdpa_equals_explicit_attention(cfg):
    torch.manual_seed(0)
    model = seeded_init_(ViclipModel(cfg), seed=1).eval()
    clips = torch.randn(3, cfg.num_frames, 3, cfg.image_size, cfg.image_size)
    tokens = torch.randint(1, 1000, (3, cfg.context_length))
    tokens[:, 10] = cfg.vocab_size - 1  # EOT (largest id) position, causal text attention before it
    with torch.inference_mode():
        sdpa = (model.encode_video(clips), model.encode_text(tokens))
        set_attention(model, "math")
        math_ = (model.encode_video(clips), model.encode_text(tokens))
        set_attention(model, "sdpa")
        again = model.encode_video(clips)
    for a, b in zip(sdpa, math_):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5), (a - b).abs().max()
    assert torch.equal(again, sdpa[0])
    # and in float64 the two agree to rounding
    model = model.double()
    with torch.inference_mode():
        x64 = model.encode_video(clips.double())
        set_attention(model, "math")
        assert torch.allclose(model.encode_video(clips.double()), x64, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="attention mode"):
        set_attention(model, "flash")
