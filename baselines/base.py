"""What every baseline shares: settings, the local model folder, lazy loading, seeded noise and the output layout.

A baseline turns one suite item into videos (``generate_item``); ``baselines.generate`` runs it over a suite
and writes the submission. Two output layouts (DESIGN.md): one file per scene (``ITEM/scene_K.mp4``,
``generate_item`` returns one uint8 ``[T, H, W, 3]`` array per scene) or one file per item (``ITEM.mp4`` with
the scene frame ranges in ``submission.json``, ``generate_item`` returns an :class:`ItemVideo`). Models are
loaded on the first item that needs generating, so a re-run over a finished folder loads nothing.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mvbench import __version__
from mvbench.errors import MvbenchError
from mvbench.suite import SuiteItem

from .options import GenerationOptions, item_seed, resolve_device

#: offset between an item's initial-noise seed and its scheduler-step seed
STEP_STREAM_OFFSET = 1_000_003


@dataclass(frozen=True)
class ItemVideo:
    """One video for a whole item and the ``[start, end)`` frame range of each scene in it.

    >>> ItemVideo(np.zeros((9, 2, 2, 3), np.uint8), ((0, 5), (5, 9))).scenes
    ((0, 5), (5, 9))
    """

    frames: np.ndarray
    scenes: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        total = self.frames.shape[0]
        bounds = [tuple(int(v) for v in b) for b in self.scenes]
        if not bounds or bounds[0][0] != 0 or bounds[-1][1] != total or any(
                a >= b for a, b in bounds) or any(x[1] != y[0] for x, y in zip(bounds, bounds[1:])):
            raise ValueError(f"scene ranges {bounds} must tile the video's {total} frames in order")
        object.__setattr__(self, "scenes", tuple(bounds))


class Baseline(ABC):
    """A generation method over a local diffusers folder (``model_dir``)."""

    #: registry name (``mvbench generate --baseline NAME``)
    name: str = ""
    #: one line for submission.json's notes
    summary: str = ""
    #: ``"scenes"``: ``ITEM/scene_K.mp4``; ``"item"``: ``ITEM.mp4`` + scene boundaries in submission.json
    layout: str = "scenes"
    #: ``GenerationOptions`` defaults of this baseline's model (e.g. Wan: 480x832 at 16 fps)
    defaults: dict[str, Any] = {}
    #: names of the baseline-specific keyword options ``__init__`` takes (``create_baseline`` routes them)
    extra_options: tuple[str, ...] = ("model_name",)
    #: what ``--model-dir`` must hold, for errors and ``--help``
    model_dir_help: str = ""

    def __init__(self, model_dir: str | Path, options: GenerationOptions | None = None, model_name: str | None = None):
        self.options = options or GenerationOptions(**self.defaults)
        self.model_dir = self.check_model_dir(Path(model_dir).expanduser())
        self.model_name = model_name or self.name
        self.device = resolve_device(self.options.device)
        self._parts: Any = None

    # -- description ---------------------------------------------------------------------
    def settings(self) -> dict:
        """Everything that changes the output, recorded in ``submission.json`` under ``generation``."""
        return {"baseline": self.name, "model_dir": self.model_dir.name, **self.options.recorded()}

    def notes(self) -> str:
        o = self.options
        return (f"{self.summary} Model folder {self.model_dir.name}; {o.frames} frames at {o.height}x{o.width}, "
                f"{o.steps} steps, guidance {o.guidance}, seed {o.seed} + item index, dtype {o.dtype}.")

    def metadata(self) -> dict:
        return {"model": self.model_name, "version": f"mvbench-baselines {__version__}", "notes": self.notes(),
                "generation": self.settings()}

    def shortest_scene_frames(self, max_scenes: int) -> int:
        """Frames of the shortest scene an item of up to ``max_scenes`` scenes gets (for ``validate --min-frames``)."""
        return self.options.frames

    # -- model --------------------------------------------------------------------------
    @abstractmethod
    def check_model_dir(self, root: Path) -> Path:
        """Check the folder layout without loading anything; the error lists every missing part."""

    @abstractmethod
    def load_parts(self) -> Any:
        """Load the models (called once, on the first item to generate)."""

    @property
    def parts(self) -> Any:
        if self._parts is None:
            self._parts = self.load_parts()
        return self._parts

    # -- shared steps -------------------------------------------------------------------
    def generator(self, item_index: int) -> torch.Generator:
        """CPU generator seeded with ``seed + item_index`` (noise is drawn on the CPU, then moved)."""
        return torch.Generator("cpu").manual_seed(item_seed(self.options.seed, item_index))

    def step_generator(self, item_index: int) -> torch.Generator:
        """A second CPU stream for the noise a stochastic scheduler draws inside its steps, seeded from the item
        seed, so that the initial noise of every scene is the same whatever the scheduler."""
        return torch.Generator("cpu").manual_seed(item_seed(self.options.seed, item_index) + STEP_STREAM_OFFSET)

    @abstractmethod
    def generate_item(self, item: SuiteItem, item_index: int) -> list[np.ndarray] | ItemVideo:
        """uint8 frames ``[T, H, W, 3]`` for each scene of ``item`` (layout ``"scenes"``) or one
        :class:`ItemVideo` (layout ``"item"``); ``item_index`` is the item's place in the suite."""


def read_config(path: Path) -> dict:
    """A JSON config file as a dict, or an ``MvbenchError`` naming the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise MvbenchError(f"cannot read {path}: {error}") from error


def missing_parts(root: Path, required: dict[str, tuple[str, ...]], skip: tuple[str, ...] = ()) -> list[str]:
    """``part/ (file or file)`` for each ``required`` sub-folder of ``root`` holding none of its files."""
    return [f"{part}/ ({' or '.join(files)})" for part, files in required.items()
            if part not in skip and not any((root / part / name).is_file() for name in files)]


def draw_noise(shape: tuple[int, ...], generator: torch.Generator, device, dtype) -> torch.Tensor:
    """Standard normal noise drawn in float32 on the CPU from ``generator``, then moved to ``device``/``dtype``.

    Drawn the same way as ``reference_models.mask2dit.samplers`` does, so the baselines start from the same noise.

    >>> draw_noise((2,), torch.Generator().manual_seed(0), "cpu", torch.float32).shape
    torch.Size([2])
    """
    return torch.randn(shape, generator=generator).to(device=device, dtype=dtype)


def frames_to_uint8(pixels: torch.Tensor) -> np.ndarray:
    """``[3, T, H, W]`` pixels in [-1, 1] to uint8 ``[T, H, W, 3]``: ``round(255 * clamp(x / 2 + 1/2, 0, 1))``.

    >>> frames_to_uint8(torch.tensor([-1.0, 0.0, 1.0]).view(3, 1, 1, 1)).ravel().tolist()
    [0, 128, 255]
    """
    unit = (pixels.float() / 2 + 0.5).clamp(0, 1)
    return (unit * 255).round().to(torch.uint8).permute(1, 2, 3, 0).cpu().numpy()
