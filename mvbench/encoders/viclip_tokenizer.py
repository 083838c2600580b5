"""ViCLIP's text tokenizer: CLIP byte-level BPE, context 32, EOT forced at truncation.

The vocabulary (``bpe_simple_vocab_16e6.txt.gz``, 49,408 ids) and the BPE merge procedure are
the CLIP ones that open_clip ships; we reuse open_clip's :class:`SimpleTokenizer` for them and
adjust the two places where InternVid's copy of the tokenizer behaves differently:

- special tokens are spelled ``<|startoftext|>`` / ``<|endoftext|>`` (ids 49406 / 49407) and are
  the only strings the split pattern treats as one piece;
- text cleaning is ``ftfy`` + double HTML unescape, then runs of regex ``\\s`` collapse to one
  space, strip, lower-case.

A prompt becomes ``[SOT] + bpe(prompt) + [EOT]``. When that is longer than the context
(32 for ViCLIP), it is cut to the first 32 ids and the last id is overwritten with EOT, so the
text feature (read at the EOT position) still exists; the prompt is reported as truncated.
Unused positions are 0.
"""

from __future__ import annotations

import html

import ftfy
import regex
import torch
from open_clip.tokenizer import SimpleTokenizer

SOT_TEXT = "<|startoftext|>"
EOT_TEXT = "<|endoftext|>"
SOT_ID = 49406
EOT_ID = 49407
VICLIP_CONTEXT_LENGTH = 32

_SPLIT_PATTERN = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    regex.IGNORECASE,
)
_WHITESPACE = regex.compile(r"\s+")


def clean_text(text: str) -> str:
    """InternVid's cleaning: ftfy fix, HTML unescape twice, collapse whitespace, lower-case."""
    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return _WHITESPACE.sub(" ", text).strip().lower()


class ViclipTokenizer:
    """Prompts -> ``[B, context_length]`` int64 ids, plus which prompts were truncated."""

    def __init__(self, context_length: int = VICLIP_CONTEXT_LENGTH):
        if context_length < 2:
            raise ValueError(f"context_length must be >= 2 (SOT and EOT), got {context_length}")
        self.context_length = context_length
        bpe = SimpleTokenizer(context_length=context_length)
        if bpe.sot_token_id != SOT_ID or bpe.eot_token_id != EOT_ID or bpe.vocab_size != 49408:
            raise RuntimeError(
                "open_clip's SimpleTokenizer no longer has the CLIP vocabulary layout "
                f"(sot={bpe.sot_token_id}, eot={bpe.eot_token_id}, size={bpe.vocab_size}); "
                "ViCLIP needs the 49,408-id CLIP BPE vocabulary"
            )
        # InternVid's spelling of the special tokens, treated as single pieces.
        bpe.encoder[SOT_TEXT] = SOT_ID
        bpe.encoder[EOT_TEXT] = EOT_ID
        bpe.cache[SOT_TEXT] = SOT_TEXT
        bpe.cache[EOT_TEXT] = EOT_TEXT
        bpe.pat = _SPLIT_PATTERN
        bpe.clean_fn = clean_text
        self._bpe = bpe

    @property
    def vocab_size(self) -> int:
        return 49408

    def encode(self, text: str) -> list[int]:
        """BPE ids of ``text`` without SOT/EOT."""
        return self._bpe.encode(text)

    def decode(self, ids: list[int]) -> str:
        return self._bpe.decode(ids)

    def __call__(self, prompts: list[str]) -> tuple[torch.Tensor, list[bool]]:
        """Token ids ``[B, context_length]`` (int64, zero-padded) and a truncated flag per prompt."""
        if isinstance(prompts, str):
            prompts = [prompts]
        out = torch.zeros(len(prompts), self.context_length, dtype=torch.long)
        truncated: list[bool] = []
        for row, prompt in enumerate(prompts):
            ids = [SOT_ID, *self.encode(prompt), EOT_ID]
            cut = len(ids) > self.context_length
            if cut:
                ids = ids[: self.context_length]
                ids[-1] = EOT_ID
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            truncated.append(cut)
        return out, truncated
