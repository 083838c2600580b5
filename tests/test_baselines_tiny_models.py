"""Tiny random model folders in the exact diffusers / release layouts the baselines read (CPU, no weights).

Builders (used by the other ``test_baselines*`` files): CogVideoX text-to-video and image-to-video pipelines,
a Stable Diffusion text-to-image pipeline, a Wan 2.1 text-to-video pipeline (UniPC scheduler as released), and
the released Mask²DiT transformer folder (``MultiPromptCogVideoXTransformer3DModel`` config with
``attn_msk_version``, sharded safetensors with an index), written from a reading of
github.com/Tianhao-Qi/Mask2DiT (``videox_fun/models/cogvideox_transformer3d.py``, ``save_pretrained`` in
``scripts/cogvideox_fun/train_mask2dit.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

TEXT_LEN, TEXT_DIM, LATENT_CHANNELS = 5, 12, 4
WORDS = ("a the man woman walks runs in rain sun city night sea boat red blue old dog at harbor coat cap climbs "
         "lighthouse storm photo of").split()


def word_tokenizer(model_max_length: int | None = None, bos: bool = False):
    """An offline word-level fast tokenizer (T5/UMT5-like: ``</s>`` appended; CLIP-like with ``bos``)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, "<s>": 3, **{w: i + 4 for i, w in enumerate(WORDS)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    single = "<s> $A </s>" if bos else "$A </s>"
    backend.post_processor = processors.TemplateProcessing(single=single, special_tokens=[("</s>", 1), ("<s>", 3)])
    extra = {"model_max_length": model_max_length} if model_max_length else {}
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   bos_token="<s>", **extra)


def _randomize(module, std: float = 0.3, seed: int = 0) -> None:
    """Non-zero weights everywhere, so text, images and other scenes really change the output."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * std)


def tiny_t5():
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    return T5EncoderModel(T5Config(vocab_size=len(WORDS) + 4, d_model=TEXT_DIM, d_kv=4, d_ff=16, num_layers=1,
                                   num_heads=2))


def tiny_cogvideox_transformer(frames: int, rotary: bool = False, in_channels: int = LATENT_CHANNELS,
                               seed: int = 0):
    from diffusers import CogVideoXTransformer3DModel

    model = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=in_channels, out_channels=LATENT_CHANNELS,
        time_embed_dim=8, text_embed_dim=TEXT_DIM, num_layers=2, sample_width=4, sample_height=4,
        sample_frames=frames, max_text_seq_length=TEXT_LEN, use_rotary_positional_embeddings=rotary)
    _randomize(model, seed=seed)
    return model


def tiny_cogvideox_vae():
    from diffusers import AutoencoderKLCogVideoX

    torch.manual_seed(0)
    return AutoencoderKLCogVideoX(block_out_channels=(8, 8, 8, 8), latent_channels=LATENT_CHANNELS,
                                  layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)


def cogvideox_scheduler():
    from diffusers import CogVideoXDDIMScheduler

    return CogVideoXDDIMScheduler(beta_end=0.012, clip_sample=False, prediction_type="v_prediction",
                                  rescale_betas_zero_snr=True, timestep_spacing="trailing", snr_shift_scale=3.0)


def build_tiny_cogvideox(root, frames: int = 9, rotary: bool = False) -> Path:
    """Random CogVideoX-shaped text-to-video parts (v-prediction DDIM), saved as a diffusers folder."""
    from diffusers import CogVideoXPipeline

    CogVideoXPipeline(tokenizer=word_tokenizer(), text_encoder=tiny_t5(), vae=tiny_cogvideox_vae(),
                      transformer=tiny_cogvideox_transformer(frames, rotary),
                      scheduler=cogvideox_scheduler()).save_pretrained(root)
    return Path(root)


def build_tiny_cogvideox_i2v(root, frames: int = 9) -> Path:
    """Random CogVideoX-5b-I2V-shaped parts (rotary positions; image latents concatenated on channels)."""
    from diffusers import CogVideoXImageToVideoPipeline

    CogVideoXImageToVideoPipeline(
        tokenizer=word_tokenizer(), text_encoder=tiny_t5(), vae=tiny_cogvideox_vae(),
        transformer=tiny_cogvideox_transformer(frames, rotary=True, in_channels=2 * LATENT_CHANNELS, seed=3),
        scheduler=cogvideox_scheduler()).save_pretrained(root)
    return Path(root)


def build_tiny_sd(root) -> Path:
    """Random Stable-Diffusion-shaped text-to-image parts (CLIP text encoder, UNet, VAE, DDIM)."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(8, 8), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=8,
                                norm_num_groups=4, attention_head_dim=2)
    vae = AutoencoderKL(block_out_channels=(4, 4, 4, 4), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        norm_num_groups=2, layers_per_block=1)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(WORDS) + 4, hidden_size=8, intermediate_size=16,
                                        num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=16,
                                        bos_token_id=3, eos_token_id=1, pad_token_id=0))
    _randomize(unet, 0.2, 1)
    StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=word_tokenizer(16, bos=True), unet=unet,
                            scheduler=DDIMScheduler(clip_sample=False, steps_offset=1), safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(root)
    return Path(root)


def tiny_wan_transformer():
    from reference_models.pmwd.wan_denoiser import build_random_wan, tiny_wan_config

    model = build_random_wan(tiny_wan_config(), seed=0)
    _randomize(model, 0.3, 2)
    return model


def wan_unipc_scheduler():
    """The released Wan2.1-T2V-1.3B-Diffusers scheduler settings (UniPC on flow sigmas, shift 3)."""
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0,
                                   num_train_timesteps=1000, solver_order=2, solver_type="bh2", predict_x0=True,
                                   lower_order_final=True, final_sigmas_type="zero", sample_max_value=1.0)


def build_tiny_wan(root, scheduler=None) -> Path:
    """Random Wan-2.1-T2V-shaped parts: UMT5 encoder, WanTransformer3DModel, AutoencoderKLWan, UniPC."""
    from diffusers import AutoencoderKLWan, WanPipeline
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    encoder = UMT5EncoderModel(UMT5Config(vocab_size=len(WORDS) + 4, d_model=16, d_kv=4, d_ff=16, num_layers=1,
                                          num_heads=2, relative_attention_num_buckets=8))
    vae = AutoencoderKLWan(base_dim=4, z_dim=4, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True], latents_mean=[0.1, -0.2, 0.3, 0.0],
                           latents_std=[1.5, 0.8, 1.2, 2.0])
    WanPipeline(tokenizer=word_tokenizer(), text_encoder=encoder, transformer=tiny_wan_transformer(), vae=vae,
                scheduler=scheduler or wan_unipc_scheduler()).save_pretrained(root)
    return Path(root)


def write_official_mask2dit_transformer(model, folder, attn_msk_version: int = 2, shards: int = 2) -> Path:
    """The released Mask²DiT ``transformer/`` layout from a CogVideoX transformer's weights: the authors' class
    name and extra config keys, diffusers key names, weights split into safetensors shards plus an index."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {k: v for k, v in dict(model.config).items() if not k.startswith("_")}
    config.pop("ofs_embed_dim", None)  # the authors' CogVideoX class has no ofs embedding
    config = {"_class_name": "MultiPromptCogVideoXTransformer3DModel", "_diffusers_version": "0.31.0",
              **config, "add_noise_in_inpaint_model": False, "attn_msk_version": attn_msk_version}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    keys = sorted(state)
    names = [f"diffusion_pytorch_model-{i + 1:05d}-of-{shards:05d}.safetensors" for i in range(shards)]
    weight_map = {}
    for i, name in enumerate(names):
        part = {k: state[k] for k in keys[i::shards]}
        save_file(part, str(folder / name), metadata={"format": "pt"})
        weight_map.update({k: name for k in part})
    index = {"metadata": {"total_size": sum(v.numel() * v.element_size() for v in state.values())},
             "weight_map": weight_map}
    (folder / "diffusion_pytorch_model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    return folder


def test_builders_write_the_documented_layouts(tmp_path):
    """The fabricated Mask²DiT folder has the release's class name, mask key and sharded weights."""
    folder = write_official_mask2dit_transformer(tiny_cogvideox_transformer(9), tmp_path / "transformer")
    config = json.loads((folder / "config.json").read_text())
    assert config["_class_name"] == "MultiPromptCogVideoXTransformer3DModel" and config["attn_msk_version"] == 2
    assert sorted(p.name for p in folder.glob("*.safetensors")) == [
        "diffusion_pytorch_model-00001-of-00002.safetensors", "diffusion_pytorch_model-00002-of-00002.safetensors"]
    index = json.loads((folder / "diffusion_pytorch_model.safetensors.index.json").read_text())
    assert "transformer_blocks.0.attn1.to_q.weight" in index["weight_map"]
