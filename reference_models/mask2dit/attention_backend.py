"""Pick one of the three equivalent Mask²DiT attention implementations and run it.

``"auto"`` uses compiled FlexAttention on CUDA when PyTorch provides it and grouped attention otherwise
(CPU, or FlexAttention missing or failing to compile); the choice is logged once per device. ``"dense"``,
``"grouped"`` and ``"flex"`` force one implementation.
"""

from __future__ import annotations

import logging

import torch

from .attention_dense import dense_masked_attention
from .attention_flex import flex_attention_available, flex_masked_attention
from .attention_grouped import grouped_attention
from .layout import SceneLayout
from .masks import MaskRule

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "dense", "grouped", "flex")
_chosen: dict[str, str] = {}


def resolve_backend(backend: str, device: torch.device) -> str:
    """Concrete backend name for ``backend`` on ``device`` (``"auto"`` → ``"flex"`` or ``"grouped"``)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown Mask²DiT attention backend {backend!r}; choose one of {BACKENDS}")
    if backend != "auto":
        return backend
    key = device.type
    if key not in _chosen:
        if device.type == "cuda" and flex_attention_available():
            _chosen[key] = "flex"
        else:
            _chosen[key] = "grouped"
        reason = "compiled FlexAttention on CUDA" if _chosen[key] == "flex" else (
            "FlexAttention needs CUDA and torch>=2.5; using grouped attention")
        logger.info("Mask²DiT attention backend on %s: %s (%s)", key, _chosen[key], reason)
    return _chosen[key]


def masked_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, layout: SceneLayout, rule: MaskRule | str,
    backend: str = "auto",
) -> torch.Tensor:
    """Mask²DiT attention over ``[B, H, S, D]`` tensors with the chosen implementation."""
    chosen = resolve_backend(backend, query.device)
    if chosen == "dense":
        return dense_masked_attention(query, key, value, layout, rule)
    if chosen == "grouped":
        return grouped_attention(query, key, value, layout, rule)
    try:
        return flex_masked_attention(query, key, value, layout, rule)
    except Exception as error:  # compile failures differ by platform; fall back, loudly, only under "auto"
        if backend != "auto":
            raise
        logger.warning("Mask²DiT: FlexAttention failed on %s (%s); falling back to grouped attention",
                       query.device.type, error)
        _chosen[query.device.type] = "grouped"
        return grouped_attention(query, key, value, layout, rule)


def chosen_backend(device: torch.device | str) -> str | None:
    """The backend ``"auto"`` resolved to on this device type, or None if not used yet."""
    return _chosen.get(torch.device(device).type)
