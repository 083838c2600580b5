"""Checkpoint loading shared by every encoder: read a file safely (:func:`load_torch_file`), unwrap the
state dict, compare key for key and shape for shape, and name what differs in a
:class:`~mvbench.errors.CheckpointMismatchError`."""

from __future__ import annotations

import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from mvbench.errors import CheckpointMismatchError, MvbenchError

#: keys listed per category in a mismatch message
SHOW_KEYS = 8


def unwrap_state_dict(obj, source: str, wrappers: tuple[str, ...] = ("model", "module", "state_dict")
                      ) -> Mapping[str, torch.Tensor]:
    """The tensor dict inside a checkpoint: ``obj`` itself or ``obj[w]`` for the first wrapper key present."""
    for key in wrappers:
        if isinstance(obj, Mapping) and key in obj and isinstance(obj[key], Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointMismatchError(f"{source}: not a state dict of tensors", hint="pass the official checkpoint file")
    return obj


def check_state_dict(state: Mapping[str, torch.Tensor], expected: Mapping[str, tuple[int, ...]], source: str,
                     architecture: str, hint: str, optional_suffixes: tuple[str, ...] = ()) -> None:
    """Raise unless ``state`` has exactly the keys and shapes of ``expected`` (keys ending in
    ``optional_suffixes`` may be absent)."""
    missing = sorted(k for k in expected if k not in state and not k.endswith(optional_suffixes))
    unexpected = sorted(k for k in state if k not in expected)
    mis_shaped = sorted(f"{k} {tuple(state[k].shape)} (expected {tuple(expected[k])})"
                        for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k]))
    if not (missing or unexpected or mis_shaped):
        return
    parts = []
    for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", mis_shaped)):
        if keys:
            more = f", ... ({len(keys) - SHOW_KEYS} more)" if len(keys) > SHOW_KEYS else ""
            parts.append(f"{len(keys)} {label}: " + ", ".join(keys[:SHOW_KEYS]) + more)
    raise CheckpointMismatchError(f"{source} does not match the {architecture} architecture:\n  " + "\n  ".join(parts),
                                  hint=hint)


def load_state_dict_strictly(module: nn.Module, state: Mapping[str, torch.Tensor], source: str,
                             optional_suffixes: tuple[str, ...] = (), assign: bool = False,
                             hint: str = "check that this is the official file for this model "
                                         "(see `mvbench weights list`)") -> None:
    """Check ``state`` against ``module``'s own state dict, then copy (or ``assign``) it in."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    check_state_dict(state, expected, source, type(module).__name__, hint, optional_suffixes)
    module.load_state_dict(dict(state), strict=False, assign=assign)


def _fix_hint(weights_name: str | None) -> str:
    if weights_name:
        return (f"get the official file again with `mvbench weights fetch {weights_name}`, or import a copy "
                f"you trust with `mvbench weights import {weights_name} PATH`")
    return "pass the official checkpoint file"


def load_error_text(exc: BaseException) -> str:
    """The informative part of a loader's error, without torch's advice to lower ``weights_only``.

    >>> load_error_text(RuntimeError("PytorchStreamReader failed\\nmore detail"))
    'PytorchStreamReader failed'
    """
    text = str(exc)
    if isinstance(exc, pickle.UnpicklingError) or "Weights only load failed" in text:
        found = re.search(r"GLOBAL ([\w.]+)", text)
        detail = re.search(r"WeightsUnpickler error: \s*(.+)", text)
        what = (f"a pickled Python object ({found.group(1)})" if found else
                f"pickle instructions the tensor-only reader refuses ({detail.group(1).strip()})" if detail else
                "pickled Python objects")
        return (f"it holds {what}, not plain tensors; mvbench only reads tensor checkpoints and never runs "
                "code from a weight file")
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(exc).__name__)
    return first[:200]


def load_torch_file(path: str | Path, weights_name: str | None = None, what: str = "checkpoint",
                    mmap: bool = True) -> object:
    """``torch.load(path, weights_only=True)`` (memory-mapped when the file allows it) with one clear
    error for every failure: the entry, the file and what to do, never advice to allow-list globals.

    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "w.pth")
    >>> torch.save({"a": torch.zeros(2)}, f)
    >>> load_torch_file(f)["a"].shape
    torch.Size([2])
    >>> with open(f, "wb") as fh:
    ...     fh.write(b"not a checkpoint")
    16
    >>> load_torch_file(f, "viclip-l14")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mvbench.errors.MvbenchError: weights 'viclip-l14': cannot read .../w.pth as a checkpoint: ...
    """
    path = Path(path)
    label = f"weights {weights_name!r}: " if weights_name else ""
    if not path.is_file():
        raise MvbenchError(f"{label}{what} file {path} does not exist", hint=_fix_hint(weights_name))
    try:
        warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
        try:
            return torch.load(str(path), map_location="cpu", weights_only=True, mmap=mmap)
        except RuntimeError as exc:
            if not mmap or "mmap" not in str(exc):
                raise
            return torch.load(str(path), map_location="cpu", weights_only=True)  # legacy, non-zip format
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, TypeError, AttributeError,
            ImportError, KeyError, IndexError, UnicodeDecodeError) as exc:
        raise MvbenchError(f"{label}cannot read {path} as a {what}: {load_error_text(exc)}",
                           hint=_fix_hint(weights_name)) from None


def load_torchscript_file(path: str | Path, weights_name: str | None = None, what: str = "TorchScript model"):
    """``torch.jit.load`` with the same one-line errors as :func:`load_torch_file` (a TorchScript archive
    is the official format of some networks, e.g. StyleGAN-V's I3D)."""
    path = Path(path)
    label = f"weights {weights_name!r}: " if weights_name else ""
    if not path.is_file():
        raise MvbenchError(f"{label}{what} file {path} does not exist", hint=_fix_hint(weights_name))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
            return torch.jit.load(str(path), map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, TypeError, AttributeError,
            KeyError, IndexError, UnicodeDecodeError) as exc:
        raise MvbenchError(f"{label}cannot read {path} as a {what}: {load_error_text(exc)}",
                           hint=_fix_hint(weights_name)) from None
