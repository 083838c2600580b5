"""The one small interface every encoder implements, and the preprocessing it carries.

An encoder turns clips of decoded frames into embeddings (and, for video-text encoders,
prompts into embeddings in the same space). Preprocessing is part of the encoder (open_clip
style): :class:`ClipPreprocess` says how many frames a clip has, the square size frames are
resized to, and the normalisation applied after the single uint8 -> float conversion in
:func:`mvbench.video.frames.to_float`. Which frames a clip is made of is not the encoder's
business: each request says it (:class:`~mvbench.scorers.base.ClipRequest` ``sampling``), and a clip
protocol (:mod:`mvbench.video.protocols`) may replace the resizing and normalisation.

Calibration: an encoder's numbers are comparable with published ones only when its weights are the
published checkpoint, i.e. the file's sha256 equals the sha256 registered for its weights entry
(:func:`calibration_status`). Seeded weights (``tiny``), entries without a published sha256 and
files whose hash differs are recorded as ``"calibrated": false`` with the reason.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where it is used, so this module stays cheap to import
    import torch


@dataclass(frozen=True)
class ClipPreprocess:
    """How a clip is prepared for an encoder.

    A clip has ``num_frames`` frames (which ones, the request says), resized (antialiased) to
    ``size`` x ``size``, converted to float in [0, 1], then mapped by ``value_range`` ("unit": kept
    in [0, 1]; "symmetric": scaled to [-1, 1]) and finally normalised by ``mean``/``std`` if given.

    >>> ClipPreprocess(8, 224).as_dict()
    {'num_frames': 8, 'size': 224, 'mean': None, 'std': None, 'value_range': 'unit'}
    """

    num_frames: int
    size: int
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    value_range: str = "unit"

    def as_dict(self) -> dict:
        return asdict(self)

    def normalize(self, clips: torch.Tensor) -> torch.Tensor:
        """Map float clips ``[..., 3, H, W]`` in [0, 1] to the encoder's input range."""
        import torch

        if self.value_range == "symmetric":
            clips = clips * 2.0 - 1.0
        elif self.value_range != "unit":
            raise ValueError(f"unknown value_range {self.value_range!r}")
        if self.mean is not None and self.std is not None:
            mean = torch.tensor(self.mean, dtype=clips.dtype, device=clips.device).view(3, 1, 1)
            std = torch.tensor(self.std, dtype=clips.dtype, device=clips.device).view(3, 1, 1)
            clips = (clips - mean) / std
        return clips


def calibration_status(weights_name: str | None, weights_sha256: str | None,
                       calibrated: bool = True) -> tuple[bool, str | None]:
    """``(calibrated, reason)``: True only when the loaded file's sha256 equals the sha256 published for
    its weights entry; otherwise False and why (``reason`` is None when calibrated).

    ``calibrated`` False (seeded or random weights by construction) is never calibrated.

    >>> calibration_status(None, None, calibrated=False)
    (False, 'seeded or random weights, not a published checkpoint')
    >>> calibration_status("viclip-l14", "ab" * 32)
    (False, "weights unverified: no published sha256 for 'viclip-l14'")
    """
    if not calibrated:
        return False, "seeded or random weights, not a published checkpoint"
    if weights_name is None:
        return False, "weights unverified: not loaded from a registered weights entry"
    from mvbench.weights import REGISTRY

    spec = REGISTRY.get(weights_name)
    if spec is None:
        return False, f"weights unverified: {weights_name!r} is not a registered weights entry"
    if not spec.sha256:
        return False, f"weights unverified: no published sha256 for {weights_name!r}"
    if weights_sha256 != spec.sha256:
        got = (weights_sha256 or "unknown")[:12]
        return False, (f"weights unverified: sha256 mismatch for {weights_name!r} (file {got}..., "
                       f"published {spec.sha256[:12]}...)")
    return True, None


def weights_calibration(names: list[str]) -> dict[str, str]:
    """``{weights entry: reason}`` for each present weight file among ``names`` that is not a verified
    published checkpoint (no registered sha256, or a different one); verified and absent files are left
    out (an absent file was not loaded from the cache).

    >>> weights_calibration([])
    {}
    """
    from mvbench.weights import verify

    out: dict[str, str] = {}
    for name in dict.fromkeys(names):
        report = verify(name)
        if report.status == "unverified":
            out[name] = f"weights unverified: no published sha256 for {name!r}"
        elif report.status == "MISMATCH":
            out[name] = f"weights unverified: sha256 mismatch for {name!r} (file {(report.sha256 or '')[:12]}...)"
    return out


class VideoEncoder(ABC):
    """Maps clips ``[B, T, 3, size, size]`` (already preprocessed) to features ``[B, d]``."""

    #: registry name, e.g. ``"viclip-l14"``
    name: str
    #: weights registry entry the parameters came from (None for seeded/random weights)
    weights_name: str | None = None
    #: sha256 of the weight file actually loaded (recorded in results files)
    weights_sha256: str | None = None
    #: False for encoders built with seeded/random weights (e.g. ``tiny``); True only means "meant to be a
    #: published checkpoint": :meth:`calibration` checks the file's hash against the registry
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

    def calibration(self) -> tuple[bool, str | None]:
        """``(calibrated, reason)`` of the loaded weights (see :func:`calibration_status`)."""
        return calibration_status(self.weights_name, self.weights_sha256, self.calibrated)

    def describe(self) -> dict:
        """What a results file records about this encoder (``calibration`` says why it is not calibrated)."""
        calibrated, reason = self.calibration()
        info = {
            "name": self.name,
            "weights": self.weights_name,
            "weights_sha256": self.weights_sha256,
            "calibrated": calibrated,
            "preprocess": self.preprocess.as_dict(),
        }
        if reason:
            info["calibration"] = reason
        return info


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
