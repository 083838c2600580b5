"""Face detection, recognition against character banks, and the per-shot protocol (character-ID metrics).

The DeepFace backend (``mvbench.faces.deepface_backend``) needs the ``[face]`` extra and is imported
only when used; everything else here is numpy/PIL only.
"""

from mvbench.faces.backend import (
    DISTANCE_METRICS,
    DetectedFace,
    FaceBackend,
    FaceBox,
    FaceMatch,
    face_distance,
)
from mvbench.faces.bank import (
    CharacterBank,
    EmbeddingCache,
    build_bank,
    discover_portraits,
    portraits_for_item,
)
from mvbench.faces.protocol import (
    PROTOCOLS,
    IdProtocol,
    get_protocol,
    interval_indices,
    recognize_frames,
    recognize_shot,
)

__all__ = [
    "DISTANCE_METRICS", "DetectedFace", "FaceBackend", "FaceBox", "FaceMatch", "face_distance",
    "CharacterBank", "EmbeddingCache", "build_bank", "discover_portraits", "portraits_for_item",
    "PROTOCOLS", "IdProtocol", "get_protocol", "interval_indices", "recognize_frames", "recognize_shot",
]
