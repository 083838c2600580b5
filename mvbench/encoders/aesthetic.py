"""The LAION aesthetic predictor v1 (``sa_0_4_vit_l_14_linear.pth``) as VBench's aesthetic quality
uses it: ``nn.Linear(768, 1)`` (state dict ``weight [1, 768]``, ``bias [1]``) applied to the
L2-normalised fp32 CLIP ViT-L/14 image embedding; the output is a 1-10 rating of the frame
(VBench then divides by 10, see :func:`metrics.vbench_quality.aesthetic_quality`).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mvbench.encoders.checkpoint import load_state_dict_strictly, unwrap_state_dict
from mvbench.errors import MvbenchError

WEIGHTS_NAME = "laion-aesthetic-vit-l14"
#: width of CLIP ViT-L/14's image embedding, the head's input
EMBED_DIM = 768


def aesthetic_scores(head: nn.Linear, image_features: torch.Tensor) -> torch.Tensor:
    """Per-frame ratings ``head(normalize(features.float()))`` ``[B]`` (VBench: ``.to(torch.float32)``,
    ``F.normalize(dim=-1, p=2)``, then the linear head, ``squeeze(-1)``).

    >>> head = nn.Linear(2, 1)
    >>> _ = head.weight.data.copy_(torch.tensor([[3.0, 4.0]])); _ = head.bias.data.fill_(1.0)
    >>> aesthetic_scores(head, torch.tensor([[3.0, 4.0]])).tolist()  # 3*0.6 + 4*0.8 + 1
    [6.0]
    """
    x = F.normalize(image_features.to(torch.float32), dim=-1, p=2)
    return head(x).squeeze(-1)


def load_aesthetic_head(path: str | Path, embed_dim: int = EMBED_DIM, weights_name: str = WEIGHTS_NAME) -> nn.Linear:
    """``nn.Linear(embed_dim, 1)`` with ``path`` loaded strictly (``torch.load(weights_only=True)``)."""
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001
        raise MvbenchError(
            f"cannot read weights {weights_name!r} from {path} ({type(exc).__name__}): it is not a plain "
            "PyTorch state dict",
            hint=f"fetch the official file with `mvbench weights fetch {weights_name}` or adopt your copy with "
                 f"`mvbench weights import {weights_name} PATH`") from None
    head = nn.Linear(embed_dim, 1)
    load_state_dict_strictly(head, unwrap_state_dict(obj, str(path), wrappers=()), str(path))
    return head.float().eval().requires_grad_(False)
