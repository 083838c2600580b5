"""Encoders and the one factory that builds them by name.

Names: ``viclip-l14``, ``viclip-b16`` (InternVid ViCLIP), ``clip:ARCH:PRETRAINED`` (open_clip,
frame-averaged), ``tiny`` (seeded ViCLIP-architecture model, uncalibrated), and the FVD feature
extractors ``i3d-k400`` and ``videomae-v2-g``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mvbench.errors import MvbenchError

if TYPE_CHECKING:  # the base classes import torch: loaded on first use (see __getattr__)
    from mvbench.encoders.base import ClipPreprocess, VideoEncoder, VideoTextEncoder

# name -> "module:function"; builders are imported lazily so optional stacks stay optional.
_BUILDERS: dict[str, str] = {
    "tiny": "mvbench.encoders.viclip:build_tiny",
    "viclip-l14": "mvbench.encoders.viclip:build_viclip_l14",
    "viclip-b16": "mvbench.encoders.viclip:build_viclip_b16",
    "i3d-k400": "mvbench.encoders.i3d:build_i3d_k400",
    "i3d-torchscript": "mvbench.encoders.i3d:build_i3d_torchscript",
    "videomae-v2-g": "mvbench.encoders.videomae:build_videomae_v2_g",
}
#: one line per encoder for ``mvbench list encoders``
ENCODER_DESCRIPTIONS: dict[str, str] = {
    "tiny": "seeded ViCLIP-architecture model at toy size, no weights needed (uncalibrated; demo and tests)",
    "viclip-l14": "InternVid ViCLIP ViT-L/14 (video + text; default for consistency and Confusion Degree)",
    "viclip-b16": "InternVid ViCLIP ViT-B/16 (video + text)",
    "i3d-k400": "I3D Kinetics-400 (FVD features)",
    "i3d-torchscript": "StyleGAN-V's TorchScript I3D (FVD features)",
    "videomae-v2-g": "VideoMAE-v2 ViT-g (content-debiased FVD features)",
    "clip:ARCH:PRETRAINED": "any open_clip image-text model, frame-averaged (e.g. clip:ViT-B-32:openai)",
}
_PREFIX_BUILDERS: dict[str, str] = {
    "clip:": "mvbench.encoders.openclip:build_openclip",
}


def _resolve(target: str) -> Callable[..., VideoEncoder]:
    import importlib

    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


#: encoder -> weights registry entries it loads (encoders not listed load none or register their own)
ENCODER_WEIGHTS: dict[str, tuple[str, ...]] = {
    "viclip-l14": ("viclip-l14",),
    "viclip-b16": ("viclip-b16",),
    "i3d-k400": ("i3d-k400",),
    "i3d-torchscript": ("i3d-torchscript",),
    "videomae-v2-g": ("videomae-v2-g",),
}


def encoder_weights(name: str) -> list[str]:
    """Weights entries encoder ``name`` needs (checked before a run starts, without importing torch).

    >>> encoder_weights("viclip-l14"), encoder_weights("tiny")
    (['viclip-l14'], [])
    """
    return list(ENCODER_WEIGHTS.get(name, ()))


def available_encoders() -> list[str]:
    return sorted(_BUILDERS) + [p + "ARCH:PRETRAINED" for p in _PREFIX_BUILDERS]


def create_encoder(name: str, device: str | None = None, **kwargs) -> VideoEncoder:
    """Build encoder ``name`` (weights from the mvbench cache) and move it to ``device``."""
    if name in _BUILDERS:
        encoder = _resolve(_BUILDERS[name])(**kwargs)
    else:
        for prefix, target in _PREFIX_BUILDERS.items():
            if name.startswith(prefix):
                encoder = _resolve(target)(name, **kwargs)
                break
        else:
            raise MvbenchError(
                f"unknown encoder {name!r}", hint="available: " + ", ".join(available_encoders())
            )
    if device is not None:
        encoder.to(device)
    return encoder


def __getattr__(name: str):
    if name in ("ClipPreprocess", "VideoEncoder", "VideoTextEncoder"):
        from mvbench.encoders import base

        return getattr(base, name)
    raise AttributeError(name)


__all__ = ["ClipPreprocess", "VideoEncoder", "VideoTextEncoder", "create_encoder", "available_encoders"]
