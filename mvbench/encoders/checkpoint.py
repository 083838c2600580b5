"""Strict checkpoint loading shared by every encoder: unwrap the state dict, compare key for key and
shape for shape, and name what differs in a :class:`~mvbench.errors.CheckpointMismatchError`."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from mvbench.errors import CheckpointMismatchError

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
