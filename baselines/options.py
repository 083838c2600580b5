"""Generation settings shared by every baseline, checked before any model is loaded.

Defaults follow the CogVideoX / Mask²DiT protocol: 49 frames per scene at 480×720 (Mask²DiT Sec. 4,
"Implementation Details"), 50 sampling steps, classifier-free guidance 6, 8 frames per second.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mvbench.errors import MvbenchError

#: names accepted by ``dtype``; "auto" is bf16 on CUDA and fp32 on CPU
DTYPE_NAMES = ("auto", "bf16", "fp16", "fp32")


@dataclass(frozen=True)
class GenerationOptions:
    """How every scene is sampled. ``frames`` counts output (pixel) frames per scene."""

    steps: int = 50
    guidance: float = 6.0
    seed: int = 0
    frames: int = 49
    height: int = 480
    width: int = 720
    fps: float = 8.0
    negative_prompt: str = ""
    device: str | None = None
    dtype: str = "auto"
    vae_tiling: bool = True

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise MvbenchError(f"--steps must be at least 1, got {self.steps}")
        if self.guidance < 1.0:
            raise MvbenchError(f"--guidance must be >= 1 (1 turns classifier-free guidance off), got {self.guidance}")
        if self.frames < 1:
            raise MvbenchError(f"--frames must be at least 1, got {self.frames}")
        if self.height < 1 or self.width < 1:
            raise MvbenchError(f"--height/--width must be positive, got {self.height}x{self.width}")
        if self.fps <= 0:
            raise MvbenchError(f"--fps must be positive, got {self.fps}")
        if self.dtype not in DTYPE_NAMES:
            raise MvbenchError(f"--dtype must be one of {', '.join(DTYPE_NAMES)}, got {self.dtype!r}")

    def recorded(self) -> dict:
        """The settings that change the pixels (written to submission.json; compared when resuming)."""
        settings = asdict(self)
        device = str(settings.pop("device"))
        # the dtype actually used ("auto" is bf16 on CUDA, fp32 on CPU) and the device kind change the pixels
        settings["dtype"] = str(resolve_dtype(self.dtype, device)).replace("torch.", "")
        settings["device_type"] = device.split(":")[0]
        return settings


def item_seed(base_seed: int, item_index: int) -> int:
    """Seed of the item at ``item_index`` (its position in the whole suite): ``base_seed + item_index``.

    Using the suite position, not the position among the items still to do, keeps every item's video the same
    whether it is generated in one run, after an interruption, or with ``--limit``.
    """
    return base_seed + item_index


def resolve_device(device: str | None) -> str:
    """``device`` as given, else ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(name: str, device: str):
    """torch dtype for ``name``; ``"auto"`` is bfloat16 on CUDA and float32 elsewhere."""
    import torch

    if name == "auto":
        return torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]
