"""On-disk feature cache: one ``.npy`` file per encoded clip or prompt, keyed by what determines it.

A clip's key is the sha256 of (video file content hashes, frame ranges, sampling, encoder name,
encoder weights sha256, preprocessing (the encoder's, and a clip protocol's when the request carries
one), numeric precision: bf16 autocast on CUDA vs fp32 on CPU, and,
when not the defaults, the decoding backend and the device frames were resized on). A prompt's key
is the sha256 of (encoder name, weights sha256, tokenizer and its context length, precision, text).
A re-run, or a run resumed after a crash, reloads every clip and prompt that finished and encodes only
the rest. Files are written atomically, so a killed run leaves no half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from mvbench.atomic import atomic_open
from mvbench.scorers.base import ClipRequest

_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def content_hash(path: str | Path) -> str:
    """sha256 of a file's bytes, memoised per (path, size, mtime) for the process; for an in-memory video
    (``mem://...``, :mod:`mvbench.video.memory`) the sha256 of its frames."""
    if isinstance(path, str) and path.startswith("mem://"):
        from mvbench.video import memory

        return memory.content_hash(path)
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASH_MEMO:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
        _HASH_MEMO[key] = h.hexdigest()
    return _HASH_MEMO[key]


def clip_key(req: ClipRequest, encoder_desc: dict, num_frames: int, precision: str = "fp32", *,
             decoder: str = "pyav", preprocess_device: str = "cpu") -> str:
    """Cache key of one clip feature (see the module doc). ``decoder`` and ``preprocess_device`` enter
    the key only when they differ from the defaults, so caches written before they existed stay valid."""
    payload = {
        "precision": precision,
        "videos": [[content_hash(v.path), v.start, v.end] for v in req.videos],
        "sampling": req.sampling,
        "num_frames": num_frames,
        "stride": req.stride,
        "encoder": {k: encoder_desc.get(k) for k in ("name", "weights_sha256", "preprocess")},
    }
    if decoder != "pyav":
        payload["decoder"] = decoder
    if preprocess_device != "cpu":
        payload["preprocess_device"] = preprocess_device
    if req.preprocess is not None:  # a clip protocol's own resizing and normalisation
        payload["frame_preprocess"] = req.preprocess.as_dict()
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def tokenizer_settings(encoder) -> dict:
    """What determines how ``encoder`` tokenizes a prompt: tokenizer class and context length (plus the
    tokenizer's own ``name`` or ``vocab_size`` when it has one)."""
    tok = getattr(encoder, "tokenizer", None)
    out = {"class": type(tok).__name__ if tok is not None else None,
           "context_length": getattr(encoder, "context_length", None)}
    for attr in ("name", "name_or_path", "vocab_size"):
        value = getattr(tok, attr, None)
        if isinstance(value, (str, int)):
            out[attr] = value
    return out


def text_key(text: str, encoder_desc: dict, tokenizer: dict, precision: str = "fp32") -> str:
    """Cache key of one prompt embedding: encoder name, weights sha256, tokenizer settings, precision, text.

    >>> desc = {"name": "tiny", "weights_sha256": "ab"}
    >>> tok = {"class": "ViclipTokenizer", "context_length": 32}
    >>> text_key("a cat", desc, tok) == text_key("a cat", desc, tok) != text_key("a dog", desc, tok)
    True
    >>> text_key("a cat", desc, tok) != text_key("a cat", desc, {**tok, "context_length": 77})
    True
    """
    payload = {"kind": "text", "precision": precision, "text": text, "tokenizer": tokenizer,
               "encoder": {k: encoder_desc.get(k) for k in ("name", "weights_sha256")}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


#: suffix of the cache folder holding an encoder's prompt embeddings (``root/<encoder>.text/...``)
TEXT_SUFFIX = ".text"


class FeatureCache:
    """``root/<encoder>/<key[:2]>/<key>.npy``; ``root=None`` disables caching."""

    def __init__(self, root: str | Path | None):
        self.root = Path(root) if root is not None else None
        self.hits = 0
        self.writes = 0

    def _path(self, encoder: str, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in encoder)
        return self.root / safe / key[:2] / f"{key}.npy"

    def get(self, encoder: str, key: str) -> np.ndarray | None:
        if self.root is None:
            return None
        path = self._path(encoder, key)
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        self.hits += 1
        return arr

    def put(self, encoder: str, key: str, value: np.ndarray) -> None:
        if self.root is None:
            return
        with atomic_open(self._path(encoder, key), "wb", suffix=".npy") as fh:
            np.save(fh, value, allow_pickle=False)
        self.writes += 1
