"""The CogVideoX baselines' shared steps: the local CogVideoX folder, T5 prompts, VAE decoding, geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mvbench.errors import MvbenchError

from .base import Baseline, read_config
from .decoding import decode_to_frames
from .loading import CogVideoXParts, check_model_dir, load_cogvideox_parts
from .options import GenerationOptions, resolve_dtype
from .prompts import encode_prompts


class CogVideoXBaseline(Baseline):
    """A generation method over a local CogVideoX diffusers folder (optionally another transformer folder)."""

    defaults = {"steps": 50, "guidance": 6.0, "frames": 49, "height": 480, "width": 720, "fps": 8.0,
                "vae_tiling": True}
    extra_options = ("model_name", "transformer_dir")
    model_dir_help = "a CogVideoX text-to-video diffusers folder (THUDM/CogVideoX-2b or -5b)"

    def __init__(self, model_dir: str | Path, options: GenerationOptions | None = None,
                 transformer_dir: str | Path | None = None, model_name: str | None = None):
        self.transformer_dir = Path(transformer_dir).expanduser() if transformer_dir is not None else None
        super().__init__(model_dir, options, model_name)
        self.latent_size = self._check_geometry()
        self._negative: torch.Tensor | None = None

    def check_model_dir(self, root: Path) -> Path:
        return check_model_dir(root, self.transformer_dir)

    def settings(self) -> dict:
        return {**super().settings(), "transformer_dir": str(self.transformer_dir) if self.transformer_dir else None}

    def notes(self) -> str:
        extra = f" Transformer from {self.transformer_dir}." if self.transformer_dir else ""
        return super().notes() + extra

    # -- model --------------------------------------------------------------------------
    def load_parts(self) -> CogVideoXParts:
        dtype = resolve_dtype(self.options.dtype, self.device)
        parts = load_cogvideox_parts(self.model_dir, self.device, dtype, self.transformer_dir)
        if self.options.vae_tiling:
            parts.vae.enable_tiling()
        self._on_loaded(parts)
        return parts

    def _on_loaded(self, parts: CogVideoXParts) -> None:
        """Build whatever the baseline needs on top of the loaded parts (a pipeline, a wrapper)."""

    def latent_shape(self, channels: int) -> tuple[int, int, int, int, int]:
        frames, height, width = self.latent_size
        return (1, frames, channels, height, width)

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

    # -- geometry -----------------------------------------------------------------------
    def _check_geometry(self) -> tuple[int, int, int]:
        """Latent (frames, height, width), checked against the folder's VAE and transformer configs."""
        vae = read_config(self.model_dir / "vae" / "config.json")
        transformer_folder = self.transformer_dir or self.model_dir / "transformer"
        transformer = read_config(transformer_folder / "config.json")
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
