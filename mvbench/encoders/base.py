"""The one small interface every encoder implements, and the preprocessing it carries.

An encoder turns clips of decoded frames into embeddings (and, for video-text encoders,
prompts into embeddings in the same space). Preprocessing is part of the encoder (open_clip
style): :class:`ClipPreprocess` says how many frames a clip has, the square size frames are
resized to, and the normalisation applied after the single uint8 -> float conversion in
:func:`mvbench.video.frames.to_float`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

import torch


@dataclass(frozen=True)
class ClipPreprocess:
    """How a clip is prepared for an encoder.

    ``num_frames`` frames are sampled per clip, resized (antialiased) to ``size`` x ``size``,
    converted to float in [0, 1], then mapped by ``value_range`` ("unit": kept in [0, 1];
    "symmetric": scaled to [-1, 1]) and finally normalised by ``mean``/``std`` if given.
    """

    num_frames: int
    size: int
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    value_range: str = "unit"
    sampling: str = "middle"

    def as_dict(self) -> dict:
        return asdict(self)

    def normalize(self, clips: torch.Tensor) -> torch.Tensor:
        """Map float clips ``[..., 3, H, W]`` in [0, 1] to the encoder's input range."""
        if self.value_range == "symmetric":
            clips = clips * 2.0 - 1.0
        elif self.value_range != "unit":
            raise ValueError(f"unknown value_range {self.value_range!r}")
        if self.mean is not None and self.std is not None:
            mean = torch.tensor(self.mean, dtype=clips.dtype, device=clips.device).view(3, 1, 1)
            std = torch.tensor(self.std, dtype=clips.dtype, device=clips.device).view(3, 1, 1)
            clips = (clips - mean) / std
        return clips


class VideoEncoder(ABC):
    """Maps clips ``[B, T, 3, size, size]`` (already preprocessed) to features ``[B, d]``."""

    #: registry name, e.g. ``"viclip-l14"``
    name: str
    #: weights registry entry the parameters came from (None for seeded/random weights)
    weights_name: str | None = None
    #: sha256 of the weight file actually loaded (recorded in results files)
    weights_sha256: str | None = None
    #: False for encoders whose numbers are not comparable with published ones (e.g. ``tiny``)
    calibrated: bool = True
    #: True if :meth:`encode_video` returns L2-normalised embeddings
    normalized: bool = True
    preprocess: ClipPreprocess
    module: torch.nn.Module

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def to(self, device: str | torch.device) -> VideoEncoder:
        self.module.to(device)
        return self

    @abstractmethod
    def encode_video(self, clips: torch.Tensor) -> torch.Tensor:
        """Embeddings ``[B, d]`` (float32) of preprocessed clips ``[B, T, 3, S, S]``."""

    def describe(self) -> dict:
        """What a results file records about this encoder."""
        return {
            "name": self.name,
            "weights": self.weights_name,
            "weights_sha256": self.weights_sha256,
            "calibrated": self.calibrated,
            "preprocess": self.preprocess.as_dict(),
        }


class VideoTextEncoder(VideoEncoder):
    """A video encoder with a text tower in the same embedding space."""

    #: text context length in tokens
    context_length: int = 77

    def __init__(self) -> None:
        #: prompts truncated to the context length since creation (every call counted)
        self.truncated_prompts: int = 0
        #: the distinct prompt texts that were truncated (results report their number)
        self.truncated_texts: set[str] = set()

    def note_truncated(self, prompts: list[str], flags: list[bool]) -> None:
        """Record which of ``prompts`` the tokenizer had to cut."""
        for text, cut in zip(prompts, flags):
            if cut:
                self.truncated_prompts += 1
                self.truncated_texts.add(text)

    @abstractmethod
    def encode_text(self, prompts: list[str]) -> torch.Tensor:
        """L2-normalised embeddings ``[B, d]`` (float32); counts truncated prompts."""

    def describe(self) -> dict:
        info = super().describe()
        info["context_length"] = self.context_length
        return info
