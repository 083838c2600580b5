"""T5 prompt embeddings as CogVideoX expects them.

Each prompt is tokenized with the end-of-sequence token, padded (or cut) to the transformer's text length
``L`` (226 for CogVideoX) and encoded by the T5 encoder; the embedding is the encoder's last hidden state
``[L, D_text]``. Prompts longer than ``L`` tokens are cut and reported in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch

log = logging.getLogger(__name__)


@torch.no_grad()
def encode_prompts(tokenizer, text_encoder, prompts: Sequence[str], max_length: int, device, dtype) -> torch.Tensor:
    """``[N, max_length, D_text]`` embeddings of ``prompts`` (padded to ``max_length`` tokens)."""
    prompts = list(prompts)
    ids = tokenizer(prompts, padding="max_length", max_length=max_length, truncation=True,
                    add_special_tokens=True, return_tensors="pt").input_ids
    for prompt, full in zip(prompts, tokenizer(prompts, add_special_tokens=True).input_ids):
        if len(full) > max_length:
            log.warning("prompt cut to %d of its %d tokens: %.60s...", max_length, len(full), prompt)
    hidden = text_encoder(ids.to(text_encoder.device))[0]
    return hidden.to(device=device, dtype=dtype)
