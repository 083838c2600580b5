"""The offline demo: a procedurally rendered multi-scene submission for the bundled ``mvbench-demo``
suite, scored with the seeded ``tiny`` encoder (numbers are uncalibrated: they exercise the
pipeline, they are not comparable with published ones).

Each demo item has characters (coloured shapes) and a background per scene. Items where the
characters and background persist across scenes should get a higher Visual Consistency than
items where everything changes, which the demo's table lets you see.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mvbench.atomic import atomic_write_text
from mvbench.suite import Suite
from mvbench.video.write import write_video

COLORS = {
    "red": (220, 40, 40), "blue": (40, 80, 220), "green": (40, 170, 70), "yellow": (235, 210, 40),
    "purple": (140, 60, 190), "orange": (240, 140, 30), "white": (240, 240, 240), "black": (20, 20, 20),
    "grey": (128, 128, 128), "teal": (30, 160, 160), "sky": (120, 180, 240), "sand": (210, 190, 140),
    "night": (20, 25, 60), "grass": (70, 140, 60), "pink": (240, 150, 180), "brown": (120, 80, 40),
}


def _render_scene(spec: dict, n_frames: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Background gradient between two colours, shapes moving on linear paths, mild noise."""
    top = np.array(COLORS[spec["background"][0]], dtype=np.float32)
    bottom = np.array(COLORS[spec["background"][1]], dtype=np.float32)
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    bg = (1 - ramp) * top + ramp * bottom
    bg = np.broadcast_to(bg, (size, size, 3)).copy()
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    frames = np.empty((n_frames, size, size, 3), dtype=np.uint8)
    tracks = []
    for shape in spec["shapes"]:
        start = rng.uniform(0.2, 0.8, size=2) * size
        vel = rng.uniform(-0.25, 0.25, size=2) * size / max(1, n_frames)
        tracks.append((shape, start, vel))
    for t in range(n_frames):
        img = bg.copy()
        for shape, start, vel in tracks:
            cy, cx = start + vel * t
            r = shape.get("radius", 0.14) * size
            if shape["kind"] == "circle":
                mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            else:
                mask = (np.abs(yy - cy) <= r) & (np.abs(xx - cx) <= r)
            img[mask] = COLORS[shape["color"]]
        img += rng.normal(0.0, 3.0, size=img.shape).astype(np.float32)
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def render_submission(suite: Suite, out_dir: str | Path, n_frames: int = 16, size: int = 64, fps: float = 8.0,
                      seed: int = 0, container: str = ".mkv") -> Path:
    """Render every item of a demo suite (items carry ``meta.render`` scene specs) to ``out_dir`` as
    ``ITEM/scene_K.mkv`` (lossless FFV1, bit-identical across runs; ``container=".mp4"`` for H.264)."""
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    for item in suite.items:
        specs = item.meta.get("render")
        if not specs or len(specs) != len(item.scenes):
            raise ValueError(f"demo item {item.id!r} lacks meta.render with one spec per scene")
        for k, spec in enumerate(specs, start=1):
            write_video(out_dir / item.id / f"scene_{k}{container}", _render_scene(spec, n_frames, size, rng),
                        fps=fps)
    meta = {"model": "demo-procedural", "version": "1", "fps": fps,
            "notes": "procedurally rendered by `mvbench demo`; not a generative model"}
    atomic_write_text(out_dir / "submission.json", json.dumps(meta, indent=2) + "\n")
    return out_dir
