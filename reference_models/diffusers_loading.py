"""Strict loading of a diffusers model folder (``config.json`` + weights) into a diffusers model class.

diffusers' own ``from_pretrained`` tolerates unexpected keys (a warning) and, without ``accelerate``, refuses
models with float32-pinned modules such as Wan's transformer. Here the model is built from its config with
parameters on the meta device (no memory, no random init; buffers are built normally), every weight file is
read (``diffusion_pytorch_model.safetensors``, shards listed in ``*.safetensors.index.json``, other
``*.safetensors`` files, or ``diffusion_pytorch_model.bin`` read with ``weights_only``), the keys and shapes are
checked against the architecture (a missing, extra or mis-shaped key is an error naming it), and the tensors
are assigned. Parameters are then cast to ``dtype`` except the class's ``_keep_in_fp32_modules``.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
INDEX_FILE = "diffusion_pytorch_model.safetensors.index.json"


def _error(message: str, hint: str | None = None) -> Exception:
    from mvbench.errors import MvbenchError

    return MvbenchError(message, hint=hint)


@contextmanager
def parameters_on_meta():
    """Within the block, every parameter a module registers is moved to the meta device (buffers are not)."""
    register = nn.Module.register_parameter

    def on_meta(module, name, param):
        register(module, name, param)
        if param is not None and param.device.type != "meta":
            module._parameters[name] = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)

    nn.Module.register_parameter = on_meta
    try:
        yield
    finally:
        nn.Module.register_parameter = register


def read_model_config(folder: str | Path, drop_keys: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """``(raw config, constructor config)``: the latter without ``_``-keys and ``drop_keys``."""
    path = Path(folder) / "config.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise _error(f"cannot read the model config {path}: {error}") from error
    return raw, {k: v for k, v in raw.items() if not k.startswith("_") and k not in drop_keys}


def weight_files(folder: Path, hint: str | None = None) -> list[Path]:
    """The weight files of a model folder, in the order described in the module docstring."""
    index = folder / INDEX_FILE
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, json.JSONDecodeError, KeyError, AttributeError) as error:
            raise _error(f"{index} is not a safetensors index ({error})", hint) from error
        missing = [s for s in shards if not (folder / s).is_file()]
        if missing:
            raise _error(f"{folder}: shards listed in {INDEX_FILE} are missing: {', '.join(missing)}", hint)
        return [folder / s for s in shards]
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return [folder / name]
    found = sorted(folder.glob("*.safetensors"))
    if found:
        return found
    raise _error(f"no weights in {folder} (expected {WEIGHT_FILES[0]}, shards with {INDEX_FILE}, other "
                 f"*.safetensors files or {WEIGHT_FILES[1]})", hint)


def read_state_dict(folder: str | Path, hint: str | None = None) -> dict[str, torch.Tensor]:
    """All tensors of a model folder's weight files (safetensors, or a ``.bin`` read with ``weights_only``)."""
    state: dict[str, torch.Tensor] = {}
    for file in weight_files(Path(folder), hint):
        if file.suffix == ".safetensors":
            from safetensors.torch import load_file

            try:
                part = load_file(str(file))
            except Exception as error:  # safetensors raises its own error types for corrupt headers
                raise _error(f"{file} is not a readable safetensors file ({error})", hint) from error
        else:
            try:
                part = torch.load(str(file), map_location="cpu", weights_only=True)
            except Exception as error:  # an unpickling error for anything but plain tensors
                raise _error(f"{file} cannot be read safely: it holds objects other than tensors "
                             f"({type(error).__name__})", "convert it to safetensors, or use the released "
                                                          ".safetensors files") from error
            if isinstance(part, dict) and isinstance(part.get("state_dict"), dict):
                part = part["state_dict"]
        overlap = set(part) & set(state)
        if overlap:
            raise _error(f"{file} repeats tensors of another weight file: {', '.join(sorted(overlap)[:5])}", hint)
        state.update(part)
    return state


def load_diffusers_model(model_class, folder: str | Path, dtype: torch.dtype | None = None,
                         drop_keys: tuple[str, ...] = (), hint: str | None = None, keep_fp32: bool = True):
    """Build ``model_class`` from ``folder/config.json`` and load its weights strictly; cast to ``dtype``.

    ``drop_keys``: config keys the class does not take (e.g. the Mask²DiT release's ``attn_msk_version``);
    ``keep_fp32``: leave the class's ``_keep_in_fp32_modules`` parameters in float32 (as diffusers does).
    """
    from mvbench.encoders.checkpoint import load_state_dict_strictly

    folder = Path(folder).expanduser()
    _, config = read_model_config(folder, drop_keys)
    try:
        with parameters_on_meta():
            model = model_class.from_config(config)
    except (TypeError, ValueError) as error:
        raise _error(f"{folder / 'config.json'} is not a {model_class.__name__} config: {error}", hint) from error
    load_state_dict_strictly(model, read_state_dict(folder, hint), str(folder), assign=True,
                             hint=hint or f"pass a {model_class.__name__} folder")
    if dtype is not None:
        keep = tuple(getattr(model, "_keep_in_fp32_modules", None) or ()) if keep_fp32 else ()
        for name, param in model.named_parameters():
            if param.is_floating_point() and not any(part in keep for part in name.split(".")):
                param.data = param.data.to(dtype)
    return model.eval()
