"""OpenAI CLIP image towers from OpenAI's own ``.pt`` files, as VBench loads them with ``clip.load``.

VBench's background consistency uses ``ViT-B-32.pt`` and its aesthetic quality ``ViT-L-14.pt``, both
through ``clip.load(path, device)``: OpenAI's files are TorchScript archives whose state dict is
rebuilt into the eager CLIP model (QuickGELU, ``nn.MultiheadAttention``, pre-LN blocks, [CLS] token
after ``ln_post`` projected by ``proj``). On CUDA ``clip.load`` keeps the weights in fp16
(``convert_weights``: convolutions, linear layers, attention projections, ``proj`` and
``text_projection``; LayerNorms compute in fp32) and feeds images cast to fp16; on CPU it calls
``model.float()``. :func:`load_openai_clip_visual` does the same with open_clip's ``CLIP`` class,
whose key layout is OpenAI's (``visual.conv1.weight``, ``visual.class_embedding``,
``visual.transformer.resblocks.N.attn.in_proj_weight``, ..., ``token_embedding.weight``,
``transformer.resblocks.N...``, ``ln_final``, ``text_projection``, ``logit_scale``).

Reading the file (:func:`read_openai_checkpoint`): a TorchScript archive (a zip with
``constants.pkl``) is opened with ``torch.jit.load`` as open_clip and clip do (TorchScript's own
loader, not Python's pickle) and its ``state_dict()`` taken; anything else goes through
``torch.load(weights_only=True)``. The scalar entries ``input_resolution``, ``context_length`` and
``vocab_size`` that OpenAI's archives may carry are dropped, as ``clip``'s ``build_model`` does;
every other key must match the architecture in name and shape, the text tower included (it is then
discarded: VBench only encodes images).
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import torch
from torch import nn

from mvbench.encoders.checkpoint import load_state_dict_strictly, unwrap_state_dict
from mvbench.encoders.vbench_archs import CLIP_VIT_B32 as CLIP_VIT_B32
from mvbench.encoders.vbench_archs import CLIP_VIT_L14 as CLIP_VIT_L14
from mvbench.encoders.vbench_archs import ClipArch
from mvbench.errors import MvbenchError

#: scalar metadata OpenAI's archives may hold besides the weights (dropped by ``clip.build_model``)
OPENAI_META_KEYS = ("input_resolution", "context_length", "vocab_size")


def _is_torchscript_archive(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(name == "constants.pkl" or name.endswith("/constants.pkl") for name in zf.namelist())


def _unreadable(path: Path, weights_name: str, what: str, exc: BaseException) -> MvbenchError:
    return MvbenchError(
        f"cannot read weights {weights_name!r} from {path} ({type(exc).__name__}): {what}",
        hint=f"fetch the official file with `mvbench weights fetch {weights_name}` or adopt your copy with "
             f"`mvbench weights import {weights_name} PATH`")


def read_openai_checkpoint(path: str | Path, weights_name: str) -> dict[str, torch.Tensor]:
    """The state dict of an OpenAI CLIP file (TorchScript archive or plain state dict), metadata keys
    dropped. Unreadable or unsafe files raise one :class:`~mvbench.errors.MvbenchError` naming the
    weights entry and the file."""
    path = Path(path)
    if _is_torchscript_archive(path):
        try:
            with warnings.catch_warnings():  # torch >= 2.14 flags torch.jit as deprecated; it still loads
                warnings.simplefilter("ignore", FutureWarning)
                state = dict(torch.jit.load(str(path), map_location="cpu").state_dict())
        except Exception as exc:  # noqa: BLE001
            raise _unreadable(path, weights_name, "not a loadable TorchScript archive", exc) from None
    else:
        try:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - the pickle error text suggests allow-lists: not shown
            raise _unreadable(path, weights_name, "neither a TorchScript archive nor a plain PyTorch state "
                              "dict", exc) from None
        state = dict(unwrap_state_dict(obj, str(path), wrappers=()))
    return {k: v for k, v in state.items() if k not in OPENAI_META_KEYS}


def build_clip(arch: ClipArch, half: bool = False, meta: bool = False) -> nn.Module:
    """open_clip ``CLIP`` with OpenAI's layout (QuickGELU); ``half`` selects fp32-computing LayerNorms
    (``LayerNormFp32``) as for fp16 weights."""
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    vision = CLIPVisionCfg(layers=arch.vision_layers, width=arch.vision_width, patch_size=arch.vision_patch_size,
                           image_size=arch.image_size)
    text = CLIPTextCfg(context_length=arch.context_length, vocab_size=arch.vocab_size, width=arch.text_width,
                       heads=arch.text_width // 64, layers=arch.text_layers)
    kwargs = dict(vision_cfg=vision, text_cfg=text, quick_gelu=True, cast_dtype=torch.float16 if half else None)
    if meta:
        with torch.device("meta"):
            return CLIP(arch.embed_dim, **kwargs)
    return CLIP(arch.embed_dim, **kwargs)


class ClipImageFeatures(nn.Module):
    """``forward(images) -> [B, embed_dim]`` (not normalised) image embeddings, computed in the
    tower's weight dtype as OpenAI's ``encode_image`` (``visual(image.type(dtype))``)."""

    def __init__(self, visual: nn.Module):
        super().__init__()
        self.visual = visual

    @property
    def dtype(self) -> torch.dtype:
        return self.visual.conv1.weight.dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.visual(x.to(self.dtype))


def load_openai_clip_visual(path: str | Path, arch: ClipArch, weights_name: str, half: bool = False) -> ClipImageFeatures:
    """The image tower of the OpenAI CLIP file ``path`` (checked key for key against ``arch``, text tower
    included), in fp32, or with ``clip.load``'s fp16 weights when ``half``."""
    from open_clip.model import convert_weights_to_lp

    state = read_openai_checkpoint(path, weights_name)
    model = build_clip(arch, half=half, meta=True)
    load_state_dict_strictly(model, state, str(path), assign=True)
    visual = model.visual.float()
    if half:
        convert_weights_to_lp(visual, torch.float16)
    return ClipImageFeatures(visual).eval().requires_grad_(False)
