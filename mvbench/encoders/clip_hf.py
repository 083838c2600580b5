"""OpenAI CLIP in the Hugging Face ``transformers`` layout, for frame-level CLIP scores.

Model: ``transformers.CLIPModel`` (key layout of the ``openai/clip-vit-base-patch16`` and
``openai/clip-vit-base-patch32`` repositories: ``text_model.*``, ``vision_model.*``,
``visual_projection.weight``, ``text_projection.weight``, ``logit_scale``). Image embedding =
``visual_projection(vision_model(pixels).pooler_output)``, text embedding =
``text_projection(text_model(ids).pooler_output)`` (what ``CLIPModel.get_image_features`` /
``get_text_features`` return); the ViT-B/32 weights are OpenAI's ``ViT-B-32.pt`` converted, so the
``clip-score`` package's model (OpenAI ``clip.load("ViT-B/32")``) gives the same numbers.

Sources of weights:

* a weights entry (``clip-vit-b16-hf``, ``clip-vit-b32-hf``: the repository's ``pytorch_model.bin``),
  built from the architecture recorded in the entry (:data:`ARCHITECTURES`), no config file needed;
* a local folder in the Hugging Face layout: ``config.json`` and ``model.safetensors`` or
  ``pytorch_model.bin`` (any CLIP size; read with ``local_files_only``, nothing is downloaded).

Loading is strict: every key and shape must match, except the ``*.embeddings.position_ids``
buffers that older ``transformers`` versions saved (ignored).

Text: OpenAI's CLIP BPE (open_clip's bundled ``SimpleTokenizer``, the same vocabulary and merges as
the Hugging Face tokenizer): ``[SOT] + BPE(clean(text)) + [EOT]``, 77 positions. Longer prompts
are cut (counted): ``"keep_eot"`` keeps the first 76 tokens and an EOT (OpenAI ``truncate=True``,
open_clip), ``"cut"`` keeps the first 77 tokens with no EOT, as torchmetrics ``CLIPScore`` does;
the text feature is read at the largest token id (the EOT when present; the legacy
``eos_token_id == 2`` rule of the OpenAI configs).

Image preprocessing (:func:`clip_pixels`), from uint8 RGB frames, with PIL as the originals use it:
resize the shorter side to 224 (bicubic, long side ``int(224 * long / short)``), centre crop
224 x 224 (top offset ``(h - 224) // 2`` as ``CLIPImageProcessor``, or ``round((h - 224) / 2)``
as torchvision's ``CenterCrop`` in OpenAI's ``clip`` package), ``/ 255``, normalise with CLIP's
mean and std. ``double_rescale`` reproduces MovieBench's CLIP-score script, whose frames were
already scaled to [0, 1] by ``CLIPImageProcessor(do_normalize=False)`` before torchmetrics'
``CLIPProcessor`` scaled them by 1/255 again (see :func:`clip_pixels`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mvbench.encoders.checkpoint import load_state_dict_strictly, load_torch_file
from mvbench.errors import MissingExtraError, MvbenchError

CONTEXT_LENGTH = 77
IMAGE_SIZE = 224
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
TRUNCATION_MODES = ("keep_eot", "cut")
CROP_ROUNDING = ("floor", "round")
#: frames per forward call (fixed: embeddings never depend on ``--batch-size``)
CHUNK = 8

#: OpenAI CLIP sizes as published in the openai/clip-vit-base-patch{16,32} configs
ARCHITECTURES: dict[str, dict] = {
    "ViT-B/16": {"patch_size": 16},
    "ViT-B/32": {"patch_size": 32},
}
_BASE_TEXT = dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                  num_attention_heads=8, max_position_embeddings=77, hidden_act="quick_gelu",
                  layer_norm_eps=1e-5, bos_token_id=0, eos_token_id=2, pad_token_id=1)
_BASE_VISION = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                    image_size=224, num_channels=3, hidden_act="quick_gelu", layer_norm_eps=1e-5)
_IGNORED_KEYS = ("text_model.embeddings.position_ids", "vision_model.embeddings.position_ids")


def _require_transformers() -> None:
    try:
        import transformers  # noqa: F401
    except ImportError:
        raise MissingExtraError("the frame CLIP scores (clip_score, clipsim, frame_consistency)", "models",
                                "transformers") from None


def clip_config(arch: str):
    """``transformers.CLIPConfig`` of an OpenAI CLIP architecture in :data:`ARCHITECTURES`."""
    _require_transformers()
    from transformers import CLIPConfig

    if arch not in ARCHITECTURES:
        raise MvbenchError(f"unknown CLIP architecture {arch!r}", hint="known: " + ", ".join(ARCHITECTURES))
    vision = dict(_BASE_VISION, **ARCHITECTURES[arch])
    return CLIPConfig(text_config=dict(_BASE_TEXT), vision_config=vision, projection_dim=512,
                      logit_scale_init_value=2.6592)


def _read_state(file: Path, source: str, weights_name: str | None) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file or of a torch file read with :func:`load_torch_file`."""
    if file.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(file), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise MvbenchError(f"{source}: cannot read {file} as a safetensors file: {str(exc)[:200]}",
                               hint="use the model's official model.safetensors") from None
    obj = load_torch_file(file, weights_name, what="CLIP checkpoint")
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise MvbenchError(f"{source}: {file} is not a state dict of tensors",
                           hint="use the official pytorch_model.bin / model.safetensors of the model")
    return obj


def load_clip_model(file: Path, config, source: str, weights_name: str | None = None):
    """``CLIPModel(config)`` with ``file`` loaded strictly (position-id buffers ignored)."""
    from transformers import CLIPModel

    state = {k: v for k, v in _read_state(file, source, weights_name).items() if k not in _IGNORED_KEYS}
    model = CLIPModel(config)
    load_state_dict_strictly(model, state, f"{source} ({file})",
                             hint="expected a transformers CLIPModel checkpoint (openai/clip-vit-* layout) of "
                                  "the architecture named by the weights entry or the folder's config.json")
    return model.eval().requires_grad_(False)


@dataclass(frozen=True)
class ClipImageProtocol:
    """How frames become CLIP pixels (see :func:`clip_pixels`)."""

    crop_rounding: str = "floor"
    double_rescale: bool = False

    def as_dict(self) -> dict:
        return {"resize": "PIL bicubic, shorter side 224", "crop": f"centre 224, offset {self.crop_rounding}",
                "double_rescale": self.double_rescale, "mean": list(CLIP_MEAN), "std": list(CLIP_STD)}


def _resize_crop(frame: np.ndarray, crop_rounding: str) -> np.ndarray:
    from PIL import Image

    h, w = frame.shape[:2]
    if w <= h:
        new_w, new_h = IMAGE_SIZE, int(IMAGE_SIZE * h / w)
    else:
        new_w, new_h = int(IMAGE_SIZE * w / h), IMAGE_SIZE
    img = Image.fromarray(frame)
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), resample=Image.Resampling.BICUBIC)
    arr = np.asarray(img)

    def offset(diff: int) -> int:
        return diff // 2 if crop_rounding == "floor" else int(round(diff / 2.0))

    top, left = offset(new_h - IMAGE_SIZE), offset(new_w - IMAGE_SIZE)
    return arr[top:top + IMAGE_SIZE, left:left + IMAGE_SIZE]


def clip_pixels(frames, protocol: ClipImageProtocol = ClipImageProtocol()) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` -> float32 ``[N, 3, 224, 224]`` CLIP input.

    Resize (PIL bicubic, shorter side 224) and centre crop, then ``x = u / 255`` (float64 product
    stored as float32, as ``CLIPImageProcessor.rescale``) and ``(x - mean) / std``. With
    ``double_rescale`` the steps of MovieBench's script are replayed: the cropped image scaled to
    [0, 1], converted back to uint8 by truncation for the PIL resize of the second processor
    (``q = uint8(float32(x * 255))``), and scaled by 1/255 twice, so ``x = q / 255 / 255``.

    >>> x = clip_pixels(np.full((1, 32, 48, 3), 255, np.uint8))
    >>> tuple(x.shape), round(float(x[0, 0, 0, 0]), 4)
    ((1, 3, 224, 224), 1.9303)
    """
    arr = np.asarray(frames)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames [N, H, W, 3], got {arr.dtype} {arr.shape}")
    if protocol.crop_rounding not in CROP_ROUNDING:
        raise ValueError(f"crop_rounding must be one of {CROP_ROUNDING}")
    out = np.empty((arr.shape[0], IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float32)
    for i, frame in enumerate(arr):
        u = _resize_crop(frame, protocol.crop_rounding)
        x = (u.astype(np.float64) * (1 / 255)).astype(np.float32)
        if protocol.double_rescale:
            q = (x.astype(np.float64) * 255).astype(np.float32).astype(np.uint8)
            x = (q.astype(np.float64) * (1 / 255)).astype(np.float32)
            x = (x.astype(np.float64) * (1 / 255)).astype(np.float32)
        out[i] = x
    mean = np.asarray(CLIP_MEAN, dtype=np.float32)
    std = np.asarray(CLIP_STD, dtype=np.float32)
    return torch.from_numpy((out - mean) / std).permute(0, 3, 1, 2).contiguous()


class ClipTokenizer:
    """OpenAI CLIP BPE (open_clip's ``SimpleTokenizer``) with mvbench's truncation rules."""

    def __init__(self, context_length: int = CONTEXT_LENGTH):
        from open_clip.tokenizer import SimpleTokenizer

        self._tok = SimpleTokenizer()
        self.context_length = context_length
        self.sot, self.eot = self._tok.sot_token_id, self._tok.eot_token_id

    def __call__(self, texts: list[str], truncation: str = "keep_eot"
                 ) -> tuple[torch.Tensor, torch.Tensor, list[bool]]:
        """``(input_ids [B, L], attention_mask [B, L], truncated flags)``; ``L`` <= context length."""
        if truncation not in TRUNCATION_MODES:
            raise ValueError(f"truncation must be one of {TRUNCATION_MODES}, got {truncation!r}")
        rows, flags = [], []
        for text in texts:
            ids = [self.sot] + self._tok.encode(text) + [self.eot]
            cut = len(ids) > self.context_length
            if cut:
                ids = ids[:self.context_length]
                if truncation == "keep_eot":
                    ids[-1] = self.eot
            rows.append(ids)
            flags.append(cut)
        width = max(len(r) for r in rows)
        ids_t = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids_t[i, :len(r)] = torch.tensor(r)
            mask[i, :len(r)] = 1
        return ids_t, mask, flags


class HFClip:
    """A loaded CLIP with its tokenizer: :meth:`encode_frames` and :meth:`encode_texts` (float32, not normalised)."""

    def __init__(self, model, name: str, weights_name: str | None, weights_sha256: str | None,
                 device: str | torch.device = "cpu"):
        self.model = model.to(device)
        self.name = name
        self.weights_name = weights_name
        self.weights_sha256 = weights_sha256
        self.tokenizer = ClipTokenizer(int(model.config.text_config.max_position_embeddings))
        #: distinct prompts cut to the context length (reported in the results)
        self.truncated_texts: set[str] = set()

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def logit_scale(self) -> float:
        """``exp(logit_scale)`` of the checkpoint (100 for OpenAI CLIP)."""
        return float(self.model.logit_scale.detach().exp().item())

    def describe(self) -> dict:
        cfg = self.model.config
        return {"model": self.name, "weights": self.weights_name, "weights_sha256": self.weights_sha256,
                "patch_size": int(cfg.vision_config.patch_size), "width": int(cfg.vision_config.hidden_size),
                "precision": "fp32"}

    @torch.no_grad()
    def encode_pixels(self, pixels: torch.Tensor) -> np.ndarray:
        """Image embeddings ``[N, d]`` of CLIP pixels ``[N, 3, 224, 224]`` (chunks of :data:`CHUNK`)."""
        out = []
        for start in range(0, pixels.shape[0], CHUNK):
            pooled = self.model.vision_model(pixel_values=pixels[start:start + CHUNK].to(self.device)).pooler_output
            out.append(self.model.visual_projection(pooled).float().cpu().numpy())
        width = int(self.model.config.projection_dim)
        return np.concatenate(out) if out else np.zeros((0, width), np.float32)

    def encode_frames(self, frames, protocol: ClipImageProtocol = ClipImageProtocol()) -> np.ndarray:
        """Image embeddings ``[N, d]`` of uint8 frames ``[N, H, W, 3]`` (:func:`clip_pixels`)."""
        return self.encode_pixels(clip_pixels(frames, protocol))

    @torch.no_grad()
    def encode_texts(self, texts: list[str], truncation: str = "keep_eot") -> np.ndarray:
        """Text embeddings ``[B, d]``, one prompt at a time (padding never enters a result)."""
        out = []
        for text in texts:
            ids, mask, flags = self.tokenizer([text], truncation)
            if flags[0]:
                self.truncated_texts.add(text)
            pooled = self.model.text_model(input_ids=ids.to(self.device),
                                           attention_mask=mask.to(self.device)).pooler_output
            out.append(self.model.text_projection(pooled).float().cpu().numpy())
        return np.concatenate(out)


def build_clip(spec: str, device: str | torch.device = "cpu") -> HFClip:
    """CLIP from a weights entry name (``clip-vit-b16-hf``) or a local Hugging Face folder."""
    from mvbench import weights

    _require_transformers()
    folder = Path(spec).expanduser()
    if folder.is_dir():
        from transformers import CLIPConfig

        cfg_file = folder / "config.json"
        if not cfg_file.is_file():
            raise MvbenchError(f"CLIP folder {folder} has no config.json",
                               hint="give a Hugging Face CLIP folder (config.json + model.safetensors or "
                                    "pytorch_model.bin) or a weights entry name such as clip-vit-b32-hf")
        files = [folder / n for n in ("model.safetensors", "pytorch_model.bin") if (folder / n).is_file()]
        if not files:
            raise MvbenchError(f"CLIP folder {folder} has neither model.safetensors nor pytorch_model.bin")
        try:
            config = CLIPConfig.from_dict(json.loads(cfg_file.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise MvbenchError(f"{cfg_file}: not a CLIP config ({exc})") from None
        model = load_clip_model(files[0], config, f"CLIP folder {folder}")
        return HFClip(model, str(folder), None, weights.file_sha256(files[0]), device)
    entry = weights.get_spec(spec)
    arch = entry.extras.get("arch")
    if arch not in ARCHITECTURES:
        raise MvbenchError(f"weights entry {spec!r} is not a CLIP checkpoint mvbench knows",
                           hint="use clip-vit-b16-hf, clip-vit-b32-hf or a local Hugging Face CLIP folder")
    file = weights.require(spec)
    model = load_clip_model(file, clip_config(arch), f"weights {spec!r}", spec)
    return HFClip(model, spec, spec, weights.file_sha256(file), device)
