"""Loading the parts of a local Wan 2.1 text-to-video diffusers folder (never from the network).

Expected layout (``Wan-AI/Wan2.1-T2V-1.3B-Diffusers`` or ``-14B-Diffusers``)::

    MODEL_DIR/tokenizer/      UMT5 tokenizer (tokenizer.json / spiece.model + tokenizer_config.json)
    MODEL_DIR/text_encoder/   UMT5EncoderModel (config.json + weights)
    MODEL_DIR/transformer/    WanTransformer3DModel (config.json + weights)
    MODEL_DIR/vae/            AutoencoderKLWan (config.json + weights)
    MODEL_DIR/scheduler/      scheduler_config.json (UniPCMultistepScheduler with flow sigmas, as released,
                              or FlowMatchEulerDiscreteScheduler)

The text encoder and transformer are loaded in the run's dtype (the transformer strictly, every key checked,
its float32-pinned modules kept in float32); the VAE in float32, as diffusers' Wan example does. Every
``from_pretrained`` call gets a local folder and ``local_files_only=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mvbench.errors import MvbenchError

from .base import missing_parts, read_config
from .loading import REQUIRED_PARTS, require_model_stack

WAN_DOWNLOAD_HINT = ("download a Wan 2.1 diffusers folder on a machine with network, e.g. `huggingface-cli download "
                     "Wan-AI/Wan2.1-T2V-1.3B-Diffusers --local-dir /models/Wan2.1-T2V-1.3B-Diffusers`, and pass "
                     "that folder as --model-dir")

#: a Wan 2.1 diffusers folder has the same component folders as a CogVideoX one
WAN_PARTS: dict[str, tuple[str, ...]] = REQUIRED_PARTS

SUPPORTED_WAN_SCHEDULERS = ("UniPCMultistepScheduler", "FlowMatchEulerDiscreteScheduler")
#: Wan's UMT5 context: prompts are padded (with zero embeddings) to this many tokens
WAN_TEXT_LENGTH = 512


@dataclass
class WanParts:
    """The five parts of a Wan text-to-video model."""

    tokenizer: Any
    text_encoder: Any
    transformer: Any
    vae: Any
    scheduler: Any
    model_dir: Path

    @property
    def spatial_factor(self) -> int:
        return int(self.vae.config.scale_factor_spatial)

    @property
    def temporal_factor(self) -> int:
        return int(self.vae.config.scale_factor_temporal)


def check_wan_dir(model_dir: str | Path) -> Path:
    """Check the Wan folder layout without loading anything; the error lists every missing part."""
    root = Path(model_dir).expanduser()
    if not root.is_dir():
        raise MvbenchError(f"Wan model folder {root} does not exist", hint=WAN_DOWNLOAD_HINT)
    missing = missing_parts(root, WAN_PARTS)
    if missing:
        raise MvbenchError(f"{root} is not a complete Wan diffusers folder; missing: {', '.join(missing)}",
                           hint=WAN_DOWNLOAD_HINT)
    transformer = read_config(root / "transformer" / "config.json")
    if transformer.get("_class_name", "WanTransformer3DModel") != "WanTransformer3DModel" or transformer.get(
            "image_dim") is not None:
        raise MvbenchError(f"{root / 'transformer'} is not a Wan text-to-video transformer "
                           f"({transformer.get('_class_name')}, image_dim={transformer.get('image_dim')}); "
                           "the long-video baselines need Wan2.1-T2V")
    scheduler = read_config(root / "scheduler" / "scheduler_config.json").get("_class_name")
    if scheduler not in SUPPORTED_WAN_SCHEDULERS:
        raise MvbenchError(f"{root / 'scheduler'} names scheduler {scheduler!r}; the long-video baselines support "
                           f"{' and '.join(SUPPORTED_WAN_SCHEDULERS)}")
    return root


def wan_scale_factors(root: Path) -> tuple[int, int, tuple[int, int, int]]:
    """``(spatial, temporal, patch_size)`` from the folder's VAE and transformer configs (no loading)."""
    vae = read_config(root / "vae" / "config.json")
    transformer = read_config(root / "transformer" / "config.json")
    spatial = int(vae.get("scale_factor_spatial") or 8)
    temporal = int(vae.get("scale_factor_temporal") or 4)
    patch = tuple(int(p) for p in transformer.get("patch_size", (1, 2, 2)))
    return spatial, temporal, patch


def load_wan_parts(model_dir: str | Path, device: str, dtype: torch.dtype) -> WanParts:
    """Load tokenizer, UMT5 encoder, transformer (in ``dtype``), VAE (float32) and scheduler onto ``device``."""
    diffusers, transformers = require_model_stack()
    root = check_wan_dir(model_dir)

    def load(part: str, loader, *args, **kwargs):
        try:
            return loader(*args, local_files_only=True, **kwargs)
        except (OSError, ValueError) as error:
            raise MvbenchError(f"could not load the {part} from {root}: {error}", hint=WAN_DOWNLOAD_HINT) from error

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(root / "tokenizer"), local_files_only=True)
    except (OSError, ValueError, ImportError) as error:
        raise MvbenchError(f"could not load the tokenizer from {root / 'tokenizer'}: {error}",
                           hint="Wan's UMT5 tokenizer may need the `sentencepiece` package; " + WAN_DOWNLOAD_HINT
                           ) from error
    text_encoder = load("text encoder", transformers.UMT5EncoderModel.from_pretrained, str(root / "text_encoder"),
                        torch_dtype=dtype)
    from reference_models.diffusers_loading import load_diffusers_model

    transformer = load_diffusers_model(diffusers.WanTransformer3DModel, root / "transformer", dtype,
                                       hint=WAN_DOWNLOAD_HINT)
    vae = load("VAE", diffusers.AutoencoderKLWan.from_pretrained, str(root / "vae"), torch_dtype=torch.float32)
    scheduler_name = read_config(root / "scheduler" / "scheduler_config.json")["_class_name"]
    scheduler = load("scheduler", getattr(diffusers, scheduler_name).from_pretrained, str(root / "scheduler"))
    if transformer.config.in_channels != vae.config.z_dim:
        raise MvbenchError(f"{root}: the transformer takes {transformer.config.in_channels} latent channels, the VAE "
                           f"makes {vae.config.z_dim}; the long-video baselines need a text-to-video checkpoint")
    return WanParts(tokenizer, text_encoder.to(device).eval(), transformer.to(device).eval(), vae.to(device).eval(),
                    scheduler, root)
