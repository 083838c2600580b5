"""Encoders and the one factory that builds them by name.

Names: ``viclip-l14``, ``viclip-b16`` (InternVid ViCLIP), ``clip:ARCH:PRETRAINED`` (open_clip,
frame-averaged), ``tiny`` (seeded ViCLIP-architecture model, uncalibrated), and the FVD feature
extractors ``i3d-k400`` and ``videomae-v2-g``.
"""

from __future__ import annotations

from collections.abc import Callable

from mvbench.encoders.base import ClipPreprocess, VideoEncoder, VideoTextEncoder
from mvbench.errors import MvbenchError

# name -> "module:function"; builders are imported lazily so optional stacks stay optional.
_BUILDERS: dict[str, str] = {
    "tiny": "mvbench.encoders.viclip:build_tiny",
    "viclip-l14": "mvbench.encoders.viclip:build_viclip_l14",
    "viclip-b16": "mvbench.encoders.viclip:build_viclip_b16",
    "i3d-k400": "mvbench.encoders.i3d:build_i3d_k400",
    "i3d-torchscript": "mvbench.encoders.i3d:build_i3d_torchscript",
    "videomae-v2-g": "mvbench.encoders.videomae:build_videomae_v2_g",
}
_PREFIX_BUILDERS: dict[str, str] = {
    "clip:": "mvbench.encoders.openclip:build_openclip",
}


def _resolve(target: str) -> Callable[..., VideoEncoder]:
    import importlib

    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


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


__all__ = ["ClipPreprocess", "VideoEncoder", "VideoTextEncoder", "create_encoder", "available_encoders"]
