"""``clip:ARCH:PRETRAINED`` encoders through open_clip, applied frame by frame.

Video embedding = L2-normalise(mean over the T frames of the image embeddings); text embedding =
L2-normalise(text tower output); both float32. Frames are normalised with the model's own mean
and std at its own (square) image size.

``PRETRAINED`` is either a path to a checkpoint file or an open_clip pretrained tag (e.g.
``clip:ViT-B-32:openai``). A tag is resolved to a file in the mvbench weights cache, registered
as weights entry ``clip:ARCH:TAG`` with the download address open_clip lists for it, so that
``mvbench weights fetch clip:ARCH:TAG`` can get it. open_clip is never allowed to download.
"""

from __future__ import annotations

import re
from pathlib import Path

import open_clip
import torch
import torch.nn.functional as F

from mvbench import weights
from mvbench.encoders.base import ClipPreprocess, VideoTextEncoder
from mvbench.errors import MvbenchError

PREFIX = "clip:"
_HF_DEFAULT_FILE = "open_clip_pytorch_model.bin"


def parse_name(name: str) -> tuple[str, str]:
    """``clip:ARCH:PRETRAINED`` -> (ARCH, PRETRAINED); PRETRAINED may itself contain ':'."""
    parts = name.split(":", 2)
    if len(parts) != 3 or parts[0] + ":" != PREFIX or not parts[1] or not parts[2]:
        raise MvbenchError(
            f"bad open_clip encoder name {name!r}",
            hint="write clip:ARCH:PRETRAINED, e.g. clip:ViT-B-32:openai or clip:ViT-B-32:/path/to/weights.bin",
        )
    return parts[1], parts[2]


def _model_config(arch: str) -> dict:
    cfg = open_clip.get_model_config(arch)
    if cfg is None:
        raise MvbenchError(
            f"open_clip has no architecture {arch!r}",
            hint='list them with: python -c "import open_clip; print(open_clip.list_models())"',
        )
    text_cfg = cfg.get("text_cfg", {})
    if "hf_tokenizer_name" in text_cfg or "hf_model_name" in text_cfg:
        raise MvbenchError(
            f"open_clip architecture {arch!r} uses a Hugging Face text model/tokenizer, which would be "
            "downloaded implicitly; mvbench supports open_clip architectures with the built-in CLIP tokenizer",
            hint="choose e.g. ViT-B-32, ViT-B-16 or ViT-L-14",
        )
    return cfg


def _download_url(pcfg: dict) -> str:
    """Where open_clip would fetch a tag's weights (its Hugging Face file first, as open_clip does)."""
    if pcfg.get("hf_hub"):
        repo, filename = pcfg["hf_hub"].rstrip().rsplit("/", 1)
        return f"https://huggingface.co/{repo}/resolve/main/{filename or _HF_DEFAULT_FILE}"
    if pcfg.get("url"):
        return pcfg["url"]
    raise MvbenchError("open_clip lists no download address for this tag")


def openclip_weight_spec(name: str) -> weights.WeightSpec:
    """Weights entry ``clip:ARCH:TAG`` for an open_clip pretrained tag (file in the mvbench cache)."""
    arch, tag = parse_name(name)
    _model_config(arch)
    pcfg = open_clip.get_pretrained_cfg(arch, tag)
    if not pcfg:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(arch)) or "none"
        raise MvbenchError(
            f"{tag!r} is neither a checkpoint file nor an open_clip pretrained tag of {arch}",
            hint=f"tags of {arch}: {tags}; or give a path: clip:{arch}:/path/to/checkpoint",
        )
    url = _download_url(pcfg)
    # openaipublic addresses carry the file's sha256 as the folder name.
    sha = re.search(r"/([0-9a-f]{64})/[^/]+$", url)
    return weights.WeightSpec(
        name=f"{PREFIX}{arch}:{tag}",
        filename=f"open_clip/{arch}/{tag}/{url.rsplit('/', 1)[-1]}",
        url=url,
        description=f"open_clip {arch} pretrained {tag!r}",
        sha256=sha.group(1) if sha else None,
        extras={"quick_gelu": bool(pcfg.get("quick_gelu", False))},
    )


def register_openclip_weights(name: str) -> weights.WeightSpec:
    """Register (idempotently) the weights entry of ``clip:ARCH:TAG`` so fetch/import/verify know it."""
    spec = openclip_weight_spec(name)
    weights.register(spec)
    return spec


class OpenClipEncoder(VideoTextEncoder):
    """An open_clip image-text model applied per frame; video = mean of frame embeddings."""

    def __init__(self, name: str, model: torch.nn.Module, tokenizer, *, num_frames: int,
                 weights_name: str | None, weights_sha256: str | None):
        super().__init__()
        self.name = name
        self.module = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.weights_name = weights_name
        self.weights_sha256 = weights_sha256
        self.context_length = int(tokenizer.context_length)
        pp = open_clip.get_model_preprocess_cfg(model)
        size = pp["size"]
        if isinstance(size, (tuple, list)):
            if size[0] != size[1]:
                raise MvbenchError(f"{name}: non-square image size {tuple(size)} is not supported")
            size = size[0]
        self.preprocess = ClipPreprocess(
            num_frames=num_frames, size=int(size), mean=tuple(pp["mean"]), std=tuple(pp["std"])
        )

    def encode_video(self, clips: torch.Tensor) -> torch.Tensor:
        """L2-normalised mean of per-frame image embeddings, float32 ``[B, D]``."""
        if clips.ndim != 5:
            raise ValueError(f"{self.name}: expected clips [B, T, 3, S, S], got shape {tuple(clips.shape)}")
        b, t = clips.shape[:2]
        with torch.inference_mode():
            frames = clips.reshape(b * t, *clips.shape[2:]).to(self.device)
            per_frame = self.module.encode_image(frames).float().view(b, t, -1)
        return F.normalize(per_frame.mean(dim=1), dim=-1)

    def encode_text(self, prompts: list[str]) -> torch.Tensor:
        """L2-normalised float32 ``[B, D]``; prompts longer than the context are cut (EOT kept) and counted."""
        prompts = list(prompts)
        # [SOT] + bpe + [EOT] longer than the context is truncated by the tokenizer.
        self.note_truncated(prompts, [len(self.tokenizer.encode(p)) + 2 > self.context_length for p in prompts])
        tokens = self.tokenizer(prompts)
        with torch.inference_mode():
            emb = self.module.encode_text(tokens.to(self.device)).float()
        return F.normalize(emb, dim=-1)


def build_openclip(name: str, num_frames: int = 8) -> OpenClipEncoder:
    """Encoder ``clip:ARCH:PRETRAINED`` from a local checkpoint (a path, or a tag in the mvbench cache)."""
    arch, pretrained = parse_name(name)
    _model_config(arch)
    file = Path(pretrained).expanduser()
    overrides: dict = {}
    if file.is_file():
        weights_name = None
    else:
        spec = register_openclip_weights(name)
        file = weights.require(spec.name)  # WeightsMissingError naming fetch / import
        weights_name = spec.name
        pcfg = open_clip.get_pretrained_cfg(arch, pretrained)
        overrides["force_quick_gelu"] = bool(pcfg.get("quick_gelu", False))
        overrides["force_preprocess_cfg"] = {k: pcfg[k] for k in ("mean", "std") if k in pcfg}
    model = open_clip.create_model(
        arch, pretrained=str(file), pretrained_image=False, pretrained_text=False,
        weights_only=True, device="cpu", **overrides,
    )
    tokenizer = open_clip.get_tokenizer(arch)
    return OpenClipEncoder(name, model, tokenizer, num_frames=num_frames, weights_name=weights_name,
                           weights_sha256=weights.file_sha256(file))
