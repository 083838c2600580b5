"""What every baseline shares: settings, the local model folder, lazy loading, noise, prompts and decoding.

A baseline turns one suite item into one uint8 video per scene (``generate_item``); ``baselines.generate``
runs it over a suite and writes the submission. Models are loaded on the first item that needs generating,
so a re-run over a finished folder loads nothing.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import torch

from mvbench import __version__
from mvbench.errors import MvbenchError
from mvbench.suite import SuiteItem

from .decoding import decode_to_frames
from .loading import CogVideoXParts, check_model_dir, load_cogvideox_parts
from .options import GenerationOptions, item_seed, resolve_device, resolve_dtype
from .prompts import encode_prompts


class Baseline(ABC):
    """A generation method over a local CogVideoX diffusers folder."""

    #: registry name (``mvbench generate --baseline NAME``)
    name: str = ""
    #: one line for submission.json's notes
    summary: str = ""

    def __init__(self, model_dir: str | Path, options: GenerationOptions | None = None,
                 transformer_dir: str | Path | None = None, model_name: str | None = None):
        self.options = options or GenerationOptions()
        self.transformer_dir = Path(transformer_dir).expanduser() if transformer_dir is not None else None
        self.model_dir = check_model_dir(model_dir, self.transformer_dir)
        self.model_name = model_name or self.name
        self.device = resolve_device(self.options.device)
        self.latent_size = self._check_geometry()
        self._parts: CogVideoXParts | None = None
        self._negative: torch.Tensor | None = None

    # -- description ---------------------------------------------------------------------
    def settings(self) -> dict:
        """Everything that changes the output, recorded in ``submission.json`` under ``generation``."""
        return {"baseline": self.name, "model_dir": self.model_dir.name,
                "transformer_dir": str(self.transformer_dir) if self.transformer_dir else None,
                **self.options.recorded()}

    def metadata(self) -> dict:
        o = self.options
        notes = (f"{self.summary} Model folder {self.model_dir.name}"
                 + (f", transformer {self.transformer_dir}" if self.transformer_dir else "")
                 + f"; {o.frames} frames at {o.height}x{o.width}, {o.steps} steps, guidance {o.guidance}, "
                 f"seed {o.seed} + item index, dtype {o.dtype}.")
        return {"model": self.model_name, "version": f"mvbench-baselines {__version__}", "notes": notes,
                "generation": self.settings()}

    # -- model --------------------------------------------------------------------------
    @property
    def parts(self) -> CogVideoXParts:
        if self._parts is None:
            dtype = resolve_dtype(self.options.dtype, self.device)
            self._parts = load_cogvideox_parts(self.model_dir, self.device, dtype, self.transformer_dir)
            if self.options.vae_tiling:
                self._parts.vae.enable_tiling()
            self._on_loaded(self._parts)
        return self._parts

    @abstractmethod
    def _on_loaded(self, parts: CogVideoXParts) -> None:
        """Build whatever the baseline needs on top of the loaded parts (a pipeline, a wrapper)."""

    # -- shared steps -------------------------------------------------------------------
    def latent_shape(self, channels: int) -> tuple[int, int, int, int, int]:
        frames, height, width = self.latent_size
        return (1, frames, channels, height, width)

    def generator(self, item_index: int) -> torch.Generator:
        """CPU generator seeded with ``seed + item_index`` (noise is drawn on the CPU, then moved)."""
        return torch.Generator("cpu").manual_seed(item_seed(self.options.seed, item_index))

    def step_generator(self, item_index: int) -> torch.Generator:
        """A second CPU stream for the noise a stochastic scheduler (CogVideoX DPM) draws inside its steps,
        seeded from the item seed, so that the initial noise of every scene is the same whatever the scheduler."""
        return torch.Generator("cpu").manual_seed(item_seed(self.options.seed, item_index) + STEP_STREAM_OFFSET)

    def prompt_embeddings(self, prompts: list[str]) -> torch.Tensor:
        """``[n, L, D]`` T5 embeddings of the scene prompts."""
        p = self.parts
        return encode_prompts(p.tokenizer, p.text_encoder, prompts, p.max_text_length, self.device,
                              p.transformer.dtype)

    def negative_embedding(self) -> torch.Tensor:
        """``[1, L, D]`` embedding of the negative prompt (computed once)."""
        if self._negative is None:
            self._negative = self.prompt_embeddings([self.options.negative_prompt])
        return self._negative

    def decode(self, latents: torch.Tensor) -> np.ndarray:
        frames = decode_to_frames(self.parts.vae, latents)
        if frames.shape[0] != self.options.frames:
            raise MvbenchError(f"the VAE decoded {frames.shape[0]} frames, {self.options.frames} were asked for")
        return frames

    @abstractmethod
    def generate_item(self, item: SuiteItem, item_index: int) -> list[np.ndarray]:
        """uint8 frames ``[T, H, W, 3]`` for each scene of ``item`` (``item_index``: its place in the suite)."""

    # -- geometry -----------------------------------------------------------------------
    def _check_geometry(self) -> tuple[int, int, int]:
        """Latent (frames, height, width), checked against the folder's VAE and transformer configs."""
        vae = _read_config(self.model_dir / "vae" / "config.json")
        transformer_folder = self.transformer_dir or self.model_dir / "transformer"
        transformer = _read_config(transformer_folder / "config.json")
        spatial = 2 ** (len(vae.get("block_out_channels", (0, 0, 0, 0))) - 1)
        temporal = int(vae.get("temporal_compression_ratio", 4))
        grid = spatial * int(transformer.get("patch_size", 2))
        o = self.options
        step = 2 * temporal  # the causal VAE turns an odd number F of latent frames into 1 + temporal (F - 1)
        if (o.frames - 1) % step:
            lower = (o.frames - 1) // step * step + 1
            raise MvbenchError(f"--frames {o.frames} does not fit the VAE: use 1 + {step}k frames "
                               f"(e.g. {lower} or {lower + step})")
        if o.height % grid or o.width % grid:
            raise MvbenchError(f"--height/--width {o.height}x{o.width} must be multiples of {grid} "
                               f"(VAE factor {spatial} x patch size)")
        return ((o.frames - 1) // temporal + 1, o.height // spatial, o.width // spatial)


def _read_config(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise MvbenchError(f"cannot read {path}: {error}") from error


#: offset between an item's initial-noise seed and its scheduler-step seed
STEP_STREAM_OFFSET = 1_000_003


def draw_noise(shape: tuple[int, ...], generator: torch.Generator, device, dtype) -> torch.Tensor:
    """Standard normal noise drawn in float32 on the CPU from ``generator``, then moved to ``device``/``dtype``.

    Drawn the same way as ``reference_models.mask2dit.samplers`` does, so both baselines start from the same noise.
    """
    return torch.randn(shape, generator=generator).to(device=device, dtype=dtype)
