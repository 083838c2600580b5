"""Loading the authors' released Mask²DiT transformer (github.com/Tianhao-Qi/Mask2DiT, Hugging Face qth/Mask2DiT).

The release (October 2025, built on VideoX-Fun and CogVideoX-5B) is a diffusers-style pipeline folder whose
``transformer/`` sub-folder was written by ``save_pretrained`` of the authors' class
``MultiPromptCogVideoXTransformer3DModel`` (a subclass of their copy of diffusers' CogVideoX transformer):

* ``config.json``: ``"_class_name": "MultiPromptCogVideoXTransformer3DModel"``, the CogVideoX keys
  (``num_attention_heads``, ``attention_head_dim``, ``sample_frames``, ``max_text_seq_length``,
  ``use_rotary_positional_embeddings``, ...), plus ``"attn_msk_version"`` (2 = the paper's mask: text sees
  its own text and video, video sees its own text and every video; 5 = full attention; the authors' code
  implements only these two) and ``"add_noise_in_inpaint_model"`` (unused for text-to-video);
* weights: ``diffusion_pytorch_model.safetensors``, or shards listed in
  ``diffusion_pytorch_model.safetensors.index.json`` (what ``save_pretrained`` writes for the 5B model; the
  authors' loader also globs ``*.safetensors``), or ``diffusion_pytorch_model.bin``, with diffusers' CogVideoX
  key names (``patch_embed.proj.weight``,
  ``transformer_blocks.N.attn1.to_q.weight``, ``norm_out.linear.weight``, ...).

:func:`load_transformer_folder` reads such a folder (or a plain diffusers ``CogVideoXTransformer3DModel``
folder) into diffusers' ``CogVideoXTransformer3DModel`` with strict key and shape checking (the authors'
loader skips mismatched keys silently; here a missing or extra key is an error naming it), and returns
the mask variant the config asks for.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch

log = logging.getLogger(__name__)

#: the authors' transformer class, as written in the released config.json
OFFICIAL_CLASS = "MultiPromptCogVideoXTransformer3DModel"
#: class names a transformer folder may declare
ACCEPTED_CLASSES = (OFFICIAL_CLASS, "CogVideoXTransformer3DModel")
#: config keys of the authors' class that diffusers' CogVideoX transformer does not take
OFFICIAL_ONLY_KEYS = ("attn_msk_version", "add_noise_in_inpaint_model")
#: attn_msk_version -> mask variant of ``masks.VARIANTS`` (the authors implement 2 and 5)
MASK_VERSION_TO_VARIANT = {1: "v1", 2: "v2", 3: "v3", 4: "v4", 5: "v5"}
OFFICIAL_MASK_VERSIONS = (2, 5)

DOWNLOAD_HINT = ("the released Mask2DiT checkpoint: `huggingface-cli download qth/Mask2DiT --local-dir /models/Mask2DiT` "
                 "on a machine with network, then pass /models/Mask2DiT as --model-dir (or its transformer/ "
                 "folder as --transformer-dir)")


@dataclass(frozen=True)
class TransformerFolder:
    """What a transformer folder's config says: class, diffusers config, mask variant (None: not given)."""

    path: Path
    class_name: str
    config: dict
    variant: str | None
    mask_version: int | None

    @property
    def is_official(self) -> bool:
        return self.class_name == OFFICIAL_CLASS


def _error(message: str, hint: str = DOWNLOAD_HINT) -> Exception:
    from mvbench.errors import MvbenchError

    return MvbenchError(message, hint=hint)


def read_transformer_folder(folder: str | Path) -> TransformerFolder:
    """Parse ``folder/config.json`` of an official Mask²DiT or a diffusers CogVideoX transformer folder."""
    path = Path(folder).expanduser()
    config_path = path / "config.json"
    try:
        raw = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise _error(f"cannot read the transformer config {config_path}: {error}") from error
    class_name = raw.get("_class_name", "CogVideoXTransformer3DModel")
    if class_name not in ACCEPTED_CLASSES:
        raise _error(f"{config_path} names class {class_name!r}; expected one of {', '.join(ACCEPTED_CLASSES)}")
    version = raw.get("attn_msk_version")
    variant = None
    if version is not None:
        if version not in MASK_VERSION_TO_VARIANT:
            raise _error(f"{config_path}: attn_msk_version {version!r} is not one of 1..5")
        variant = MASK_VERSION_TO_VARIANT[int(version)]
        if version not in OFFICIAL_MASK_VERSIONS:
            log.warning("%s asks for attn_msk_version %s, which the authors' code does not implement (only 2 "
                        "and 5); using mvbench's mask %s", config_path, version, variant)
    config = {k: v for k, v in raw.items() if not k.startswith("_") and k not in OFFICIAL_ONLY_KEYS}
    return TransformerFolder(path, class_name, config, variant, None if version is None else int(version))


def load_transformer_folder(folder: str | Path, dtype: torch.dtype | None = None, device: str | torch.device = "cpu"):
    """``(CogVideoXTransformer3DModel, TransformerFolder)`` from an official Mask²DiT or diffusers folder.

    Keys and shapes must match diffusers' architecture built from the config exactly
    (``reference_models.diffusers_loading``); then the whole model (buffers too, as the released loader's
    ``model.to(torch_dtype)`` does) is cast to ``dtype``.
    """
    try:
        from diffusers import CogVideoXTransformer3DModel
    except ImportError:
        from mvbench.errors import MissingExtraError

        raise MissingExtraError("The Mask²DiT reference model", "models", "diffusers") from None
    from reference_models.diffusers_loading import load_diffusers_model

    info = read_transformer_folder(folder)
    model = load_diffusers_model(CogVideoXTransformer3DModel, info.path, drop_keys=OFFICIAL_ONLY_KEYS,
                                 hint="pass the transformer/ folder of the released Mask2DiT checkpoint (or a "
                                      "CogVideoXTransformer3DModel folder); " + DOWNLOAD_HINT)
    if dtype is not None:
        model = model.to(dtype)
    return model.to(device).eval(), info
