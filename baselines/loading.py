"""Loading the parts of a local CogVideoX diffusers folder (never from the network).

Expected layout (a ``THUDM/CogVideoX-2b`` or ``-5b`` snapshot, or the released Mask²DiT folder ``qth/Mask2DiT``)::

    MODEL_DIR/model_index.json
    MODEL_DIR/tokenizer/        T5 tokenizer (spiece.model or tokenizer.json, tokenizer_config.json)
    MODEL_DIR/text_encoder/     T5 encoder (config.json + weights)
    MODEL_DIR/transformer/      CogVideoXTransformer3DModel or Mask2DiT's MultiPromptCogVideoXTransformer3DModel
    MODEL_DIR/vae/              AutoencoderKLCogVideoX (config.json + weights)
    MODEL_DIR/scheduler/        scheduler_config.json (CogVideoXDDIMScheduler or CogVideoXDPMScheduler)

Every ``from_pretrained`` call gets a local folder and ``local_files_only=True``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mvbench.errors import MissingExtraError, MvbenchError

DOWNLOAD_HINT = ("download a CogVideoX diffusers folder on a machine with network, e.g. "
                 "`huggingface-cli download THUDM/CogVideoX-2b --local-dir /models/CogVideoX-2b`, "
                 "and pass that folder as --model-dir")

#: component folder -> files of which at least one must be present
REQUIRED_PARTS: dict[str, tuple[str, ...]] = {
    "tokenizer": ("tokenizer_config.json", "tokenizer.json", "spiece.model"),
    "text_encoder": ("config.json",),
    "transformer": ("config.json",),
    "vae": ("config.json",),
    "scheduler": ("scheduler_config.json",),
}

SUPPORTED_SCHEDULERS = ("CogVideoXDDIMScheduler", "CogVideoXDPMScheduler")


@dataclass
class CogVideoXParts:
    """The five parts of a CogVideoX text-to-video model, on one device and in one dtype."""

    tokenizer: Any
    text_encoder: Any
    transformer: Any
    vae: Any
    scheduler: Any
    model_dir: Path

    @property
    def max_text_length(self) -> int:
        """Prompt length in tokens the transformer was trained with (226 for CogVideoX)."""
        return int(self.transformer.config.max_text_seq_length)

    @property
    def spatial_factor(self) -> int:
        """Pixels per latent pixel: ``2 ** (number of VAE blocks - 1)`` (8 for CogVideoX)."""
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def temporal_factor(self) -> int:
        """Pixel frames per latent frame after the first (4 for CogVideoX)."""
        return int(self.vae.config.temporal_compression_ratio)


def require_model_stack() -> tuple[Any, Any]:
    """``(diffusers, transformers)`` modules, or ``MissingExtraError`` naming the ``models`` extra."""
    try:
        import diffusers
    except ImportError:
        raise MissingExtraError("Video generation baselines", "models", "diffusers") from None
    try:
        import transformers
    except ImportError:
        raise MissingExtraError("Video generation baselines", "models", "transformers") from None
    return diffusers, transformers


def check_model_dir(model_dir: str | Path, transformer_dir: str | Path | None = None) -> Path:
    """Check the folder layout without loading anything; the error lists every missing part."""
    root = Path(model_dir).expanduser()
    if not root.is_dir():
        raise MvbenchError(f"CogVideoX model folder {root} does not exist", hint=DOWNLOAD_HINT)
    missing = []
    for part, files in REQUIRED_PARTS.items():
        if part == "transformer" and transformer_dir is not None:
            continue
        if not any((root / part / name).is_file() for name in files):
            missing.append(f"{part}/ ({' or '.join(files)})")
    if transformer_dir is not None and not (Path(transformer_dir).expanduser() / "config.json").is_file():
        missing.append(f"transformer folder {transformer_dir} (config.json)")
    if missing:
        raise MvbenchError(f"{root} is not a complete CogVideoX diffusers folder; missing: {', '.join(missing)}",
                           hint=DOWNLOAD_HINT)
    return root


def load_cogvideox_parts(model_dir: str | Path, device: str, dtype, transformer_dir: str | Path | None = None,
                         transformer: bool = True) -> CogVideoXParts:
    """Load tokenizer, T5 encoder, transformer, VAE and scheduler from a local folder onto ``device``.

    ``transformer_dir``: a transformer-only folder (``config.json`` + weights) used instead of
    ``MODEL_DIR/transformer``, e.g. the released Mask²DiT transformer. Transformers are read strictly (every
    key and shape must match) by ``reference_models.mask2dit.official.load_transformer_folder``, which also
    accepts the released checkpoint's ``MultiPromptCogVideoXTransformer3DModel`` config.
    """
    diffusers, transformers = require_model_stack()
    root = check_model_dir(model_dir, transformer_dir)

    def load(part: str, loader, *args, **kwargs):
        try:
            return loader(*args, local_files_only=True, **kwargs)
        except (OSError, ValueError) as error:
            raise MvbenchError(f"could not load the {part} from {root}: {error}", hint=DOWNLOAD_HINT) from error

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(root / "tokenizer"), local_files_only=True)
    except (OSError, ValueError, ImportError) as error:
        raise MvbenchError(f"could not load the tokenizer from {root / 'tokenizer'}: {error}",
                           hint="CogVideoX's T5 tokenizer (spiece.model) needs the `sentencepiece` package; "
                                + DOWNLOAD_HINT) from error
    text_encoder = load("text encoder", transformers.T5EncoderModel.from_pretrained, str(root / "text_encoder"),
                        torch_dtype=dtype)
    vae = load("VAE", diffusers.AutoencoderKLCogVideoX.from_pretrained, str(root / "vae"), torch_dtype=dtype)
    scheduler = load("scheduler", _scheduler_class(diffusers, root).from_pretrained, str(root / "scheduler"))
    model = None
    if transformer:
        from reference_models.mask2dit.official import load_transformer_folder

        folder = Path(transformer_dir).expanduser() if transformer_dir is not None else root / "transformer"
        model, _ = load_transformer_folder(folder, dtype=dtype)
        if model.config.in_channels != vae.config.latent_channels:
            raise MvbenchError(f"{folder} is an image-to-video CogVideoX transformer (in_channels "
                               f"{model.config.in_channels}, VAE latents {vae.config.latent_channels}); "
                               "the baselines need a text-to-video checkpoint such as THUDM/CogVideoX-2b")
        model = model.to(device).eval()
    return CogVideoXParts(tokenizer, text_encoder.to(device).eval(), model, vae.to(device).eval(), scheduler, root)


def _scheduler_class(diffusers, root: Path):
    config_path = root / "scheduler" / "scheduler_config.json"
    try:
        name = json.loads(config_path.read_text(encoding="utf-8")).get("_class_name")
    except (OSError, json.JSONDecodeError) as error:
        raise MvbenchError(f"{config_path} is not readable JSON: {error}", hint=DOWNLOAD_HINT) from error
    if name not in SUPPORTED_SCHEDULERS:
        raise MvbenchError(f"{config_path} names scheduler {name!r}; the baselines support "
                           f"{' and '.join(SUPPORTED_SCHEDULERS)}")
    return getattr(diffusers, name)
