"""Grounding-DINO open-set detector (Liu et al., 2023) through transformers, loaded from a local folder.

The model is transformers' ``GroundingDinoForObjectDetection`` with its ``GroundingDinoProcessor``
(BERT tokenizer + image processor), read from a folder in the Hugging Face layout of the
``IDEA-Research/grounding-dino-*`` repositories: ``config.json``, ``model.safetensors``,
``preprocessor_config.json``, ``tokenizer_config.json`` and ``vocab.txt`` (a ``tokenizer.json`` is used
when present). Either name a registered model (``grounding-dino-tiny``, the Swin-T "OGC" model that
Grounding-DINO's own README uses by default, or ``grounding-dino-base``; each file is a weights entry of
``mvbench/data/weights/grounding.json``, fetched into ``$MVBENCH_HOME/weights/<name>/``) or give the path
of a folder you already have. Nothing is downloaded here.

Loading is strict: every key of the checkpoint must match the architecture of ``config.json`` in name and
shape (:class:`~mvbench.errors.CheckpointMismatchError` names the keys otherwise). A ``pytorch_model.bin``
(only used when a folder has no ``model.safetensors``) is read with ``weights_only=True``.

The text prompt is built as Grounding-DINO's ``preprocess_caption``: lower-cased, stripped, ending in
``"."``. :meth:`GroundingDino.detect` returns the sigmoid token scores and normalised boxes of every
query; :func:`metrics.scene_consistency.best_detection` does the thresholding.
"""

from __future__ import annotations

import logging
import pickle
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from mvbench import weights
from mvbench.encoders.checkpoint import SHOW_KEYS
from mvbench.errors import CheckpointMismatchError, MissingExtraError, MvbenchError, WeightsMissingError

log = logging.getLogger(__name__)

#: registered models: name -> Hugging Face repository (the weights entries' source)
MODELS: dict[str, str] = {
    "grounding-dino-tiny": "IDEA-Research/grounding-dino-tiny",
    "grounding-dino-base": "IDEA-Research/grounding-dino-base",
}
#: the files of a model folder that are weights entries; the model file's entry is the model's name
FILES = ("model.safetensors", "config.json", "preprocessor_config.json", "tokenizer_config.json", "vocab.txt")
MODEL_TYPE = "grounding-dino"


def entry_name(model: str, filename: str) -> str:
    """Weights entry of one file of a registered model: the model's name for ``model.safetensors``,
    ``MODEL:FILE`` for the others.

    >>> entry_name("grounding-dino-tiny", "model.safetensors"), entry_name("grounding-dino-tiny", "vocab.txt")
    ('grounding-dino-tiny', 'grounding-dino-tiny:vocab.txt')
    """
    return model if filename == "model.safetensors" else f"{model}:{filename}"


def caption(phrase: str) -> str:
    """Grounding-DINO's prompt for one phrase: lower-cased, stripped, ending in ``"."``.

    >>> caption("  A Red Umbrella ")
    'a red umbrella.'
    """
    text = " ".join(phrase.lower().split())
    if not text:
        raise ValueError("empty entity phrase")
    return text if text.endswith(".") else text + "."


def resolve_folder(name_or_path: str) -> tuple[Path, str | None, Path]:
    """``(folder, weights entry or None, weight file)`` of a registered model name or a local folder."""
    if name_or_path in MODELS:
        missing = [entry_name(name_or_path, f) for f in FILES
                   if not weights.weight_path(entry_name(name_or_path, f)).is_file()]
        if missing:
            folder = weights.weight_path(name_or_path).parent
            raise WeightsMissingError(
                f"Grounding-DINO {name_or_path!r}: {len(missing)} of its {len(FILES)} files are not in the cache "
                f"({folder}): {', '.join(missing)}",
                hint="download them with " + "; ".join(f"`mvbench weights fetch {m}`" for m in missing)
                + f" (or `mvbench weights import NAME PATH` for files you have), or pass a local folder of "
                  f"{MODELS[name_or_path]} in the Hugging Face layout instead of the name")
        model_file = weights.require(name_or_path)
        return model_file.parent, name_or_path, model_file
    folder = Path(name_or_path).expanduser()
    if not folder.is_dir():
        raise MvbenchError(f"unknown Grounding-DINO model {name_or_path!r}: neither a registered name nor a folder",
                           hint="registered: " + ", ".join(MODELS) + "; or give a folder with config.json and "
                                "model.safetensors in the Hugging Face layout")
    if not (folder / "config.json").is_file():
        raise MvbenchError(f"{folder} has no config.json: not a Hugging Face model folder",
                           hint="download e.g. " + MODELS["grounding-dino-tiny"] + " into a folder and give its path")
    for f in ("model.safetensors", "pytorch_model.bin"):
        if (folder / f).is_file():
            return folder, None, folder / f
    raise MvbenchError(f"{folder} has neither model.safetensors nor pytorch_model.bin",
                       hint="copy the model's weight file into the folder")


@contextmanager
def _quiet_transformers():
    """transformers' load report and progress bars off while loading (mvbench raises on mismatches itself)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _load_failure(exc: Exception) -> str:
    """One line on why a weight file could not be read (torch's advice on unsafe loading is not repeated)."""
    text = str(exc).strip()
    if isinstance(exc, pickle.UnpicklingError) or any(w in text for w in ("Weights only", "weights_only", "pickle")):
        return ("it holds pickled Python objects besides tensors, and mvbench reads checkpoints with "
                "weights_only=True only")
    return text.splitlines()[0] if text else type(exc).__name__


def _check_loading_info(info: dict, source: str) -> None:
    missing = sorted(info.get("missing_keys") or [])
    unexpected = sorted(info.get("unexpected_keys") or [])
    mis_shaped = sorted(f"{k} {tuple(a)} (expected {tuple(b)})" for k, a, b in info.get("mismatched_keys") or [])
    if not (missing or unexpected or mis_shaped):
        return
    parts = []
    for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", mis_shaped)):
        if keys:
            more = f", ... ({len(keys) - SHOW_KEYS} more)" if len(keys) > SHOW_KEYS else ""
            parts.append(f"{len(keys)} {label}: " + ", ".join(keys[:SHOW_KEYS]) + more)
    raise CheckpointMismatchError(f"{source} does not match the GroundingDinoForObjectDetection architecture of its "
                                  "config.json:\n  " + "\n  ".join(parts),
                                  hint="use the official files of the model (see `mvbench weights list`)")


@dataclass
class GroundingDino:
    """A loaded Grounding-DINO model with its processor."""

    name: str
    model: torch.nn.Module
    processor: object
    weights_name: str | None
    weights_sha256: str | None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def max_text_len(self) -> int:
        return int(self.model.config.max_text_len)

    def entity_positions(self, input_ids: list[int], phrase: str) -> list[int]:
        """Token positions of ``phrase``'s words in the tokenized caption (after ``[CLS]``)."""
        tok = self.processor.tokenizer
        words = tok(caption(phrase)[:-1], add_special_tokens=False)["input_ids"]
        n = len(words)
        if n and list(input_ids[1:1 + n]) == list(words):
            return [i for i in range(1, 1 + n) if i < self.max_text_len]
        # fallback: every non-special token that is not the final "."
        special = set(tok.all_special_ids)
        dot = tok.convert_tokens_to_ids(".")
        return [i for i, t in enumerate(input_ids) if t not in special and t != dot and i < self.max_text_len]

    def detect(self, frames: torch.Tensor, phrase: str) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
        """Token scores ``sigmoid(logits)`` ``[F, Q, L]``, boxes ``[F, Q, 4]`` (normalised cx, cy, w, h) and
        the phrase's token positions, for uint8 frames ``[F, H, W, 3]`` prompted with ``phrase``."""
        if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected uint8 frames [F, H, W, 3], got {frames.dtype} {tuple(frames.shape)}")
        text = caption(phrase)
        images = [f.cpu().numpy() for f in frames]
        inputs = self.processor(images=images, text=[text] * len(images), return_tensors="pt",
                                truncation=True, max_length=self.max_text_len)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            out = self.model(**inputs)
        probs = out.logits.float().sigmoid().cpu()
        boxes = out.pred_boxes.float().cpu()
        positions = self.entity_positions(inputs["input_ids"][0].tolist(), phrase)
        return probs, boxes, positions

    def to(self, device: str | torch.device) -> GroundingDino:
        self.model.to(device)
        return self

    def describe(self) -> dict:
        ip = getattr(self.processor, "image_processor", None)
        return {"name": self.name, "weights": self.weights_name, "weights_sha256": self.weights_sha256,
                "image_processor": type(ip).__name__ if ip is not None else None,
                "image_size": dict(getattr(ip, "size", {}) or {}), "box_format": "cxcywh (normalised)",
                "caption": "lower-cased, stripped, ending in '.' (Grounding-DINO preprocess_caption)"}


def load_grounding_dino(name_or_path: str = "grounding-dino-tiny", device: str | torch.device = "cpu") -> GroundingDino:
    """Grounding-DINO from the weights cache (a registered name) or a local Hugging Face folder, strictly."""
    try:
        from transformers import AutoProcessor, GroundingDinoConfig, GroundingDinoForObjectDetection
    except ImportError as exc:  # transformers is in the [models] extra
        raise MissingExtraError("Scene Consistency (Grounding-DINO)", "models", "transformers") from exc
    folder, entry, model_file = resolve_folder(name_or_path)
    what = f"weights {entry!r} ({model_file})" if entry else str(model_file)
    try:
        config = GroundingDinoConfig.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise MvbenchError(f"{folder / 'config.json'}: not a Grounding-DINO config ({str(exc).splitlines()[0]})",
                           hint="use the config.json of the same model as the weights") from exc
    if config.model_type != MODEL_TYPE:
        raise MvbenchError(f"{folder / 'config.json'} describes a {config.model_type!r} model, not {MODEL_TYPE!r}")
    with _quiet_transformers():
        try:
            model, info = GroundingDinoForObjectDetection.from_pretrained(
                folder, config=config, local_files_only=True, output_loading_info=True,
                ignore_mismatched_sizes=True, use_safetensors=model_file.suffix == ".safetensors")
        except Exception as exc:  # a corrupt or truncated file, or one with pickled objects
            raise MvbenchError(f"cannot load Grounding-DINO {what}: {_load_failure(exc)}",
                               hint="replace it with the official model.safetensors"
                                    + (f" (`mvbench weights fetch {entry}`)" if entry else "")) from None
        _check_loading_info(info, what)
        try:
            processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError, TypeError) as exc:
            raise MvbenchError(f"{folder}: cannot build the Grounding-DINO processor ({str(exc).splitlines()[0]})",
                               hint="the folder needs preprocessor_config.json, tokenizer_config.json and "
                                    "vocab.txt (or tokenizer.json) of the model") from exc
    if type(processor).__name__ != "GroundingDinoProcessor":
        raise MvbenchError(f"{folder}: expected a GroundingDinoProcessor, got {type(processor).__name__}")
    model.eval().requires_grad_(False)
    det = GroundingDino(entry or str(folder), model, processor, entry, weights.file_sha256(model_file))
    log.info("loaded Grounding-DINO %s from %s", det.name, folder)
    return det.to(device)
