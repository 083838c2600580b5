"""How the characters of one shot are recognised: frames, detection filter, crop, match, union.

Two presets (``--id-protocol``):

``mvbench`` (default)
    ``num_frames`` (5) frames at segment midpoints; in each, faces with detection confidence
    ``>= 0.8`` are cropped with their box enlarged 2x about its centre (clipped to the frame),
    embedded and matched against the bank; the shot's prediction is the **union** of the
    characters recognised in all sampled frames.

``moviebench``
    Reproduces MovieBench's published ``Metric_5_Character_ID_Consistency.py``: frames ``i * (T // 5)``
    (``i = 0..4``; every frame if ``T <= 5``), confidence ``>= 0.8``, the same 2x crop but with
    Python's slicing of ``image[y0:y0+2h, x0:x0+2w]`` (a negative start counts from the far edge,
    so a face within half a box of the top/left border usually yields an empty crop and is
    dropped), frames and crops passed through JPEG files as the script does, names taken from
    bank file names with ``_`` turned into spaces, and only the **last** sampled frame's faces
    scored (the script resets its prediction dictionary for every frame).
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, replace

import numpy as np

from mvbench.faces.backend import DetectedFace, FaceBackend, FaceBox, FaceMatch
from mvbench.faces.bank import CharacterBank

PROTOCOLS = ("mvbench", "moviebench")


@dataclass(frozen=True)
class IdProtocol:
    """Options of the per-shot recognition; see the module docstring for the presets."""

    name: str = "mvbench"
    num_frames: int = 5
    #: "middle" (segment midpoints) or "interval" (``i * (T // N)``, MovieBench's reader)
    sampling: str = "middle"
    #: "all": union over sampled frames; "last": only the last sampled frame counts
    frames_used: str = "all"
    min_confidence: float = 0.8
    crop_scale: float = 2.0
    #: True: clip the enlarged box to the frame; False: Python slicing with raw (maybe negative) starts
    clip_crop: bool = True
    #: encode the frame (quality 75) and the crop (quality 95) as JPEG and decode them again
    jpeg_roundtrip: bool = False
    underscores_to_spaces: bool = False

    def __post_init__(self):
        if self.sampling not in ("middle", "interval"):
            raise ValueError(f"ID protocol sampling must be 'middle' or 'interval', got {self.sampling!r}")
        if self.frames_used not in ("all", "last"):
            raise ValueError(f"ID protocol frames_used must be 'all' or 'last', got {self.frames_used!r}")
        if self.num_frames < 1 or self.crop_scale <= 0:
            raise ValueError(f"ID protocol needs num_frames >= 1 and crop_scale > 0, got {self.num_frames}, {self.crop_scale}")

    def as_dict(self) -> dict:
        return asdict(self)


def get_protocol(name: str, **overrides) -> IdProtocol:
    """A preset by name, with ``None``-valued overrides ignored."""
    if name == "mvbench":
        base = IdProtocol()
    elif name == "moviebench":
        base = IdProtocol(name="moviebench", sampling="interval", frames_used="last", clip_crop=False,
                          jpeg_roundtrip=True, underscores_to_spaces=True)
    else:
        raise ValueError(f"unknown ID protocol {name!r}; choose from {PROTOCOLS}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return replace(base, **overrides)


def interval_indices(n_total: int, n: int) -> list[int]:
    """MovieBench's frame reader: ``i * (T // n)`` for ``i < n`` if ``n < T``, else every frame."""
    if n_total <= 0:
        raise ValueError("cannot sample from a video with no frames")
    if n >= n_total:
        return list(range(n_total))
    step = n_total // n
    return [i * step for i in range(n)]


def enlarged_box(box: FaceBox, scale: float) -> tuple[int, int, int, int]:
    """``(x0, y0, W, H)`` of the box scaled by ``scale`` about its centre.

    ``W = int(w * scale)``, ``x0 = x - int((W - w) / 2)`` (and the same for y); for ``scale = 2``
    this is MovieBench's ``x - int(2w / 4)``.
    """
    big_w, big_h = int(box.w * scale), int(box.h * scale)
    return box.x - int((big_w - box.w) / 2), box.y - int((big_h - box.h) / 2), big_w, big_h


def crop_face(frame: np.ndarray, box: FaceBox, scale: float, clip: bool) -> np.ndarray:
    """The enlarged face crop of ``frame`` ``[H, W, 3]`` (may be empty when ``clip`` is False)."""
    x0, y0, w, h = enlarged_box(box, scale)
    if clip:
        height, width = frame.shape[:2]
        x1, y1 = min(width, x0 + w), min(height, y0 + h)
        x0, y0 = max(0, x0), max(0, y0)
        return frame[y0:y1, x0:x1]
    return frame[y0:y0 + h, x0:x0 + w]


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """RGB ``uint8`` image encoded as baseline JPEG (PIL/libjpeg, 4:2:0) and decoded again."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def recognize_frame(backend: FaceBackend, bank: CharacterBank, frame: np.ndarray, protocol: IdProtocol,
                    frame_index: int | None = None) -> list[FaceMatch]:
    """Every face of one frame that passes the confidence filter, with its bank match."""
    if protocol.jpeg_roundtrip:
        frame = jpeg_roundtrip(frame, 75)  # PIL's default quality for Image.save(".jpg")
    faces: list[DetectedFace] = backend.detect(frame)
    out: list[FaceMatch] = []
    for face in faces:
        if face.confidence < protocol.min_confidence:
            continue
        crop = crop_face(frame, face.box, protocol.crop_scale, protocol.clip_crop)
        if crop.shape[0] == 0 or crop.shape[1] == 0:
            continue
        if protocol.jpeg_roundtrip:
            crop = jpeg_roundtrip(crop, 95)  # OpenCV's default quality for cv2.imwrite(".jpg")
        emb = np.atleast_2d(backend.embed(np.ascontiguousarray(crop)))
        m = bank.match(emb[0], backend.distance_metric, backend.threshold)
        out.append(FaceMatch(m.name, m.distance, face.box, face.confidence, frame_index, emb[0]))
    return out


def recognize_frames(backend: FaceBackend, bank: CharacterBank, frames, protocol: IdProtocol,
                     frame_indices: list[int] | None = None) -> list[list[FaceMatch]]:
    """The matches of each frame the protocol uses (all sampled frames, or only the last), in order."""
    frames = np.asarray(frames.cpu() if hasattr(frames, "cpu") else frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be [N, H, W, 3], got shape {frames.shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    indices = list(frame_indices) if frame_indices is not None else list(range(len(frames)))
    chosen = range(len(frames)) if protocol.frames_used == "all" else range(len(frames) - 1, len(frames))
    return [recognize_frame(backend, bank, frames[k], protocol, indices[k]) for k in chosen]


def recognize_shot(backend: FaceBackend, bank: CharacterBank, frames, protocol: IdProtocol,
                   frame_indices: list[int] | None = None) -> tuple[set[str], list[FaceMatch]]:
    """Characters recognised in a shot's sampled frames ``[N, H, W, 3]`` (RGB uint8) and all matches.

    ``frames_used="all"``: union over the frames; ``"last"``: only the last frame's faces.
    """
    per_frame = recognize_frames(backend, bank, frames, protocol, frame_indices)
    matches = [m for frame in per_frame for m in frame]
    return {m.name for m in matches if m.name is not None}, matches
