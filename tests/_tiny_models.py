"""Fabricated, tiny models for offline tests (random weights, nothing downloaded).

* :func:`make_tiny_grounding_dino`: a Grounding-DINO folder in the Hugging Face layout of
  ``IDEA-Research/grounding-dino-*`` (config.json, model.safetensors, preprocessor_config.json,
  tokenizer_config.json, vocab.txt) built from a small ``GroundingDinoConfig`` (Swin backbone, BERT text
  tower) and a WordPiece vocabulary written here.
* :func:`make_tiny_clip`: a tiny open_clip architecture registered from a JSON config, saved as a state dict.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

#: WordPiece vocabulary of the tiny BERT tokenizer: specials, the prompt end, the demo suite's words
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "a", "an", "red", "blue", "yellow", "orange", "green",
         "purple", "circle", "square", "dog", "cat", "ball", "man", "woman", "umbrella", "##s"]
TINY_CLIP_ARCH = "mvbench-test-scene-clip"
FOLDER_FILES = ("config.json", "model.safetensors", "preprocessor_config.json", "tokenizer_config.json", "vocab.txt")


def tiny_grounding_config(max_text_len: int = 32):
    from transformers import BertConfig, GroundingDinoConfig, SwinConfig

    backbone = SwinConfig(embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], window_size=4, image_size=64,
                          out_features=["stage2", "stage3", "stage4"], out_indices=[2, 3, 4])
    text = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=32, max_position_embeddings=64)
    # decoder_layers >= 2: transformers ties the box heads of the decoder layers to the first one
    return GroundingDinoConfig(backbone_config=backbone, text_config=text, d_model=32, encoder_layers=1,
                               decoder_layers=2, encoder_ffn_dim=32, decoder_ffn_dim=32, encoder_attention_heads=2,
                               decoder_attention_heads=2, num_queries=12, max_text_len=max_text_len,
                               num_feature_levels=4, encoder_n_points=2, decoder_n_points=2)


def make_tiny_grounding_dino(folder: Path, seed: int = 0) -> Path:
    """Write a random-weight Grounding-DINO folder in the official Hugging Face layout; returns it."""
    from transformers import BertTokenizer, GroundingDinoForObjectDetection
    from transformers.models.grounding_dino import GroundingDinoImageProcessor

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    GroundingDinoForObjectDetection(tiny_grounding_config()).save_pretrained(folder)
    BertTokenizer(vocab={t: i for i, t in enumerate(VOCAB)}).save_pretrained(folder)
    (folder / "tokenizer.json").unlink(missing_ok=True)  # keep the registered files only: the vocab serves
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    GroundingDinoImageProcessor(size={"shortest_edge": 64, "longest_edge": 96}).save_pretrained(folder)
    return folder


def make_tiny_clip(folder: Path, seed: int = 0) -> tuple[str, Path, torch.nn.Module]:
    """Register the tiny open_clip architecture and save random weights; ``(encoder name, file, model)``."""
    import open_clip

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "embed_dim": 16,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
    }
    (folder / f"{TINY_CLIP_ARCH}.json").write_text(json.dumps(config))
    open_clip.add_model_config(folder / f"{TINY_CLIP_ARCH}.json")
    torch.manual_seed(seed)
    model = open_clip.create_model(TINY_CLIP_ARCH, pretrained_text=False)
    path = folder / "clip.bin"
    torch.save(model.state_dict(), path)
    return f"clip:{TINY_CLIP_ARCH}:{path}", path, model.eval()
