"""ViCLIP encoders: ``viclip-l14``, ``viclip-b16`` (official InternVid checkpoints) and ``tiny``.

Input: 8 frames per clip at 224 x 224, scaled to [0, 1] and normalised with the ImageNet mean
(0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), the statistics of InternVid's demo and evaluation
code; which frames and how they are resized is the clip protocol's business (mvbench's default:
exact-midpoint frames, antialiased bilinear squash; InternVid's evaluation, demo and VBench's protocols in
:mod:`mvbench.video.protocols`). Prompts are tokenized with the CLIP BPE at context 32 (see
:mod:`mvbench.encoders.viclip_tokenizer`). Both embeddings are L2-normalised, so cosine similarity is a
dot product.

Checkpoints are read with ``torch.load(weights_only=True)``; the state dict under ``"model"``
must match the architecture key for key and shape for shape, otherwise a
:class:`~mvbench.errors.CheckpointMismatchError` names the missing, unexpected and mis-shaped keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F

from mvbench import weights
from mvbench.encoders import checkpoint
from mvbench.encoders.base import ClipPreprocess, VideoTextEncoder
from mvbench.encoders.viclip_model import (
    VICLIP_B16,
    VICLIP_L14,
    VICLIP_TINY,
    ViclipConfig,
    ViclipModel,
    seeded_init_,
)
from mvbench.encoders.viclip_tokenizer import ViclipTokenizer
from mvbench.errors import CheckpointMismatchError, MvbenchError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VARIANTS: dict[str, ViclipConfig] = {"viclip-l14": VICLIP_L14, "viclip-b16": VICLIP_B16, "tiny": VICLIP_TINY}
TINY_SEED = 20240611


class ViclipEncoder(VideoTextEncoder):
    """ViCLIP behind the mvbench encoder interface."""

    def __init__(self, name: str, model: ViclipModel, *, weights_name: str | None,
                 weights_sha256: str | None, calibrated: bool = True):
        super().__init__()
        cfg = model.config
        self.name = name
        self.module = model.eval().requires_grad_(False)
        self.weights_name = weights_name
        self.weights_sha256 = weights_sha256
        self.calibrated = calibrated
        self.context_length = cfg.context_length
        self.preprocess = ClipPreprocess(
            num_frames=cfg.num_frames, size=cfg.image_size, mean=IMAGENET_MEAN, std=IMAGENET_STD
        )
        self.tokenizer = ViclipTokenizer(cfg.context_length)

    def encode_video(self, clips: torch.Tensor) -> torch.Tensor:
        """L2-normalised float32 ``[B, D]`` of preprocessed clips ``[B, T, 3, S, S]``."""
        if clips.ndim != 5:
            raise ValueError(f"{self.name}: expected clips [B, T, 3, S, S], got shape {tuple(clips.shape)}")
        with torch.inference_mode():
            emb = self.module.encode_video(clips.to(self.device))
        return F.normalize(emb.float(), dim=-1)

    def encode_text(self, prompts: list[str]) -> torch.Tensor:
        """L2-normalised float32 ``[B, D]``; prompts over 32 tokens are cut and counted."""
        prompts = list(prompts)
        tokens, truncated = self.tokenizer(prompts)
        self.note_truncated(prompts, truncated)
        with torch.inference_mode():
            emb = self.module.encode_text(tokens.to(self.device))
        return F.normalize(emb.float(), dim=-1)


def expected_shapes(cfg: ViclipConfig) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the official state dict for ``cfg`` (built on the meta device, no memory)."""
    with torch.device("meta"):
        model = ViclipModel(cfg)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def check_state_dict(state: Mapping[str, torch.Tensor], cfg: ViclipConfig, source: str) -> None:
    """Raise :class:`CheckpointMismatchError` unless ``state`` has exactly the keys and shapes of ``cfg``."""
    checkpoint.check_state_dict(
        state, expected_shapes(cfg), source, f"ViCLIP ({cfg.patch_size=}, {cfg.vision_width=})",
        hint="use the official InternVid ViCLIP checkpoint for this variant (ViT-L/14 for viclip-l14, "
        "ViT-B/16 for viclip-b16), with its state dict under the 'model' key",
    )


def load_checkpoint_state(path: str | Path, weights_name: str | None = None) -> dict[str, torch.Tensor]:
    """The ``"model"`` state dict of an InternVid checkpoint (``weights_only``, memory-mapped)."""
    ckpt = checkpoint.load_torch_file(path, weights_name, what="ViCLIP checkpoint")
    if not isinstance(ckpt, Mapping) or "model" not in ckpt:
        top = sorted(map(str, ckpt))[:10] if isinstance(ckpt, Mapping) else type(ckpt).__name__
        raise CheckpointMismatchError(
            f"{path} is not an InternVid ViCLIP checkpoint: no 'model' entry (top level: {top})",
            hint="the official file stores the state dict as checkpoint['model']",
        )
    return dict(ckpt["model"])


def model_from_checkpoint(path: str | Path, cfg: ViclipConfig, weights_name: str | None = None) -> ViclipModel:
    """Build ``cfg`` and fill it from ``path`` with strict key/shape matching (float32 on CPU)."""
    state = load_checkpoint_state(path, weights_name)
    check_state_dict(state, cfg, str(path))
    with torch.device("meta"):
        model = ViclipModel(cfg)
    state = {k: v.to(torch.float32).contiguous() for k, v in state.items()}
    model.load_state_dict(state, strict=True, assign=True)
    return model


def build_viclip(name: str, checkpoint: str | Path | None = None) -> ViclipEncoder:
    """ViCLIP variant ``name`` from ``checkpoint`` or, if None, from the mvbench weights cache."""
    if name not in ("viclip-l14", "viclip-b16"):
        raise MvbenchError(f"unknown ViCLIP variant {name!r}", hint="use viclip-l14 or viclip-b16")
    path = Path(checkpoint).expanduser() if checkpoint is not None else weights.require(name)
    model = model_from_checkpoint(path, VARIANTS[name], name)
    return ViclipEncoder(name, model, weights_name=name, weights_sha256=weights.file_sha256(path))


def build_viclip_l14(checkpoint: str | Path | None = None) -> ViclipEncoder:
    """``viclip-l14``: ViCLIP ViT-L/14 trained on InternVid-10M-FLT."""
    return build_viclip("viclip-l14", checkpoint)


def build_viclip_b16(checkpoint: str | Path | None = None) -> ViclipEncoder:
    """``viclip-b16``: ViCLIP ViT-B/16 trained on InternVid-10M-FLT."""
    return build_viclip("viclip-b16", checkpoint)


def state_dict_sha256(module: torch.nn.Module) -> str:
    """sha256 over (key, shape, float32 little-endian bytes) of every state-dict entry, in key order."""
    h = hashlib.sha256()
    for key, value in sorted(module.state_dict().items()):
        h.update(key.encode())
        h.update(str(tuple(value.shape)).encode())
        h.update(value.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes())
    return h.hexdigest()


def build_tiny(seed: int = TINY_SEED) -> ViclipEncoder:
    """``tiny``: ViCLIP architecture at toy size with seeded weights; uncalibrated, for offline runs."""
    model = seeded_init_(ViclipModel(VICLIP_TINY), seed)
    return ViclipEncoder("tiny", model, weights_name=None, weights_sha256=state_dict_sha256(model),
                         calibrated=False)
