"""MUSIQ (Ke et al., ICCV 2021) trained on SPAQ, through pyiqa, as VBench's imaging quality runs it.

VBench builds ``pyiqa.archs.musiq_arch.MUSIQ(pretrained_model_path=musiq_spaq_ckpt-358bb6af.pth)``
with the class defaults (patch 32, hidden 384, MLP 1152, 6 heads, 14 layers, 3 scale embeddings,
10 x 10 hashed spatial grid, scales with longer side 224 and 384 plus the full-resolution patches,
one output: ``head = nn.Linear(384, 1)``) and calls ``model(frame)`` on each [0, 1] frame with
``model.training = False``, which makes MUSIQ map the frame to [-1, 1] and cut the multi-scale
patches itself; the output is a 0-100 quality score. Dropout rates are 0, so the submodules'
training flags VBench leaves on change nothing; here the model is simply in eval mode.

The checkpoint is loaded by mvbench, not by pyiqa (whose loader unpickles with
``weights_only=False``): ``torch.load(weights_only=True)``, a leading ``module.`` stripped from keys
(pyiqa's ``clean_state_dict``), then a strict key-and-shape check (``conv_root``, ``gn_root``,
``block1.{conv1,gn1,conv2,gn2,conv3,gn3,conv_proj,gn_proj}``, ``embedding``,
``transformer_encoder.{posembed_input.position_emb, scaleembed_input.scale_emb, cls, encoder_norm,
transformer.encoderblock_N.{norm1, attention.{query,key,value,out}, norm2, mlp.fc1, mlp.fc2}}``,
``head``). pyiqa is an optional dependency: ``pip install "mvbench[vbench]"``.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from mvbench.encoders.checkpoint import load_state_dict_strictly, unwrap_state_dict
from mvbench.encoders.vbench_archs import MUSIQ_SPAQ, MusiqConfig
from mvbench.errors import MissingExtraError, MvbenchError

WEIGHTS_NAME = "musiq-spaq"


def musiq_class():
    """pyiqa's ``MUSIQ`` class, or a :class:`~mvbench.errors.MissingExtraError` naming the extra."""
    try:
        from pyiqa.archs.musiq_arch import MUSIQ
    except ImportError as exc:
        raise MissingExtraError("imaging_quality (MUSIQ, as VBench runs it)", "vbench", "pyiqa") from exc
    return MUSIQ


def build_musiq(config: MusiqConfig = MUSIQ_SPAQ) -> nn.Module:
    """An untrained pyiqa MUSIQ with VBench's settings (one output, nothing downloaded)."""
    cls = musiq_class()
    return cls(num_class=1, hidden_size=config.hidden_size, mlp_dim=config.mlp_dim, num_heads=config.num_heads,
               num_layers=config.num_layers, longer_side_lengths=list(config.longer_side_lengths), pretrained=False,
               pretrained_model_path=None)


def clean_state_dict(state) -> OrderedDict:
    """Keys with a leading ``module.`` (from DataParallel) stripped, as pyiqa's ``clean_state_dict``.

    >>> list(clean_state_dict({"module.head.bias": torch.zeros(1), "cls": torch.zeros(1)}))
    ['head.bias', 'cls']
    """
    return OrderedDict((k[len("module."):] if k.startswith("module.") else k, v) for k, v in state.items())


def load_musiq(path: str | Path, config: MusiqConfig = MUSIQ_SPAQ, weights_name: str = WEIGHTS_NAME) -> nn.Module:
    """pyiqa MUSIQ with ``path`` loaded strictly; ``model(x)`` maps [0, 1] images ``[B, 3, H, W]`` to
    quality scores ``[B, 1]``."""
    model = build_musiq(config)
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001
        raise MvbenchError(
            f"cannot read weights {weights_name!r} from {path} ({type(exc).__name__}): it is not a plain "
            "PyTorch state dict",
            hint=f"fetch the official file with `mvbench weights fetch {weights_name}` or adopt your copy with "
                 f"`mvbench weights import {weights_name} PATH`") from None
    state = clean_state_dict(unwrap_state_dict(obj, str(path), wrappers=()))
    load_state_dict_strictly(model, state, str(path))
    return model.float().eval().requires_grad_(False)
