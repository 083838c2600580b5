"""What a results file records about the software and machine that produced a number: the mvbench git
revision (when run from a checkout), the versions of the libraries that touch pixels or numbers (PyAV and
its FFmpeg, numpy, scipy, torch, open_clip, ...), the GPU, CUDA and cuDNN, and the command line.

>>> env = environment("cpu")
>>> sorted(k for k in ("python", "torch", "numpy", "av", "ffmpeg", "command") if k in env)
['av', 'command', 'ffmpeg', 'numpy', 'python', 'torch']
"""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from functools import cache
from pathlib import Path

#: distributions whose versions can change a number (decoding, resizing, linear algebra, networks)
LIBRARIES = ("numpy", "scipy", "torch", "torchvision", "av", "open_clip_torch", "timm", "transformers",
             "diffusers", "deepface", "pyiqa", "torchmetrics", "pandas", "opencv-python-headless",
             "opencv-contrib-python-headless", "pillow")


def library_versions() -> dict[str, str]:
    """``{distribution: version}`` of the installed :data:`LIBRARIES` (absent ones left out)."""
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


@cache
def git_revision() -> dict | None:
    """``{"commit", "dirty"}`` of the mvbench checkout this code runs from, or None (an installed copy)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status)} if commit else None


def ffmpeg_versions() -> dict[str, str]:
    """The FFmpeg libraries PyAV was built against (decoding is part of the protocol)."""
    try:
        import av
    except ImportError:
        return {}
    libs = getattr(av, "library_versions", {}) or {}
    out = {name: ".".join(map(str, v)) for name, v in sorted(libs.items())}
    ffmpeg = getattr(av, "ffmpeg_version_info", None)
    if ffmpeg:
        out["ffmpeg"] = str(ffmpeg)
    return out


def accelerator(device: str | None) -> dict:
    """GPU name, CUDA and cuDNN versions when ``device`` is a CUDA device; the same keys, None, otherwise.

    >>> accelerator("cpu")
    {'gpu': None, 'cuda': None, 'cudnn': None, 'gpu_count': 0}
    """
    none = {"gpu": None, "cuda": None, "cudnn": None, "gpu_count": 0}
    if not str(device or "").startswith("cuda"):
        return none
    import torch

    if not torch.cuda.is_available():
        return none
    index = torch.device(device).index or 0
    return {"gpu": torch.cuda.get_device_name(index), "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "gpu_count": torch.cuda.device_count()}


def environment(device: str | None = None) -> dict:
    """Everything :mod:`mvbench.provenance` records, for the results file's ``environment``."""
    versions = library_versions()
    ff = ffmpeg_versions()
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "device": device or "cpu",
        "torch": versions.get("torch"),
        "numpy": versions.get("numpy"),
        "scipy": versions.get("scipy"),
        "open_clip": versions.get("open_clip_torch"),
        "av": versions.get("av"),
        "ffmpeg": ff.get("ffmpeg") or ff.get("libavcodec"),
        "ffmpeg_libraries": ff,
        "libraries": versions,
        "mvbench_git": git_revision(),
        "command": list(sys.argv),
        **accelerator(device),
    }
