"""Throughput of VBench's motion dimensions in mvbench (scene clips/s): motion smoothness (AMT-S) and
dynamic degree (RAFT, 20 iterations), on synthetic 49-frame 720x480 scenes (CogVideoX's output size)
written to H.264 on the spot and decoded with PyAV as the runner does.

The networks are full size with random weights (speed does not depend on the values, so no checkpoint
is needed). Dynamic degree is timed on all pairs (``early_exit=False``: the cost of a static video; a
dynamic one stops as soon as VBench's count is reached). fp32 on every device, as VBench.

    python benchmarks/motion_throughput.py --device cpu --clips 1
    python benchmarks/motion_throughput.py --device cuda --clips 8 --pair-batch 1 8
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def synthetic_scene(n: int = 49, h: int = 480, w: int = 720, seed: int = 0) -> np.ndarray:
    """Moving sinusoidal texture with a drifting square and noise (uint8 ``[n, h, w, 3]``)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = np.empty((n, h, w, 3), np.uint8)
    for t in range(n):
        img = np.empty((h, w, 3), np.float32)
        img[..., 0] = 128 + 90 * np.sin((xx + 4 * t) / 23.0)
        img[..., 1] = 128 + 90 * np.cos((yy - 3 * t) / 17.0)
        img[..., 2] = 128 + 60 * np.sin((xx + yy + 5 * t) / 31.0)
        y0, x0 = 100 + 2 * t, 200 + 5 * t
        img[y0:y0 + 80, x0:x0 + 80] = (230, 40, 40)
        img += rng.normal(0, 3, img.shape)
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--clips", type=int, default=1, help="timed scenes per measurement")
    ap.add_argument("--fps", type=float, nargs="+", default=[24.0], help="scene frame rates for dynamic degree")
    ap.add_argument("--pair-batch", type=int, nargs="+", default=[1], help="frame pairs per network call")
    ap.add_argument("--warmup", type=int, default=0, help="untimed scenes first (GPU: 1)")
    args = ap.parse_args()

    from mvbench.encoders.amt import AMTS
    from mvbench.encoders.raft import RAFTFlow
    from mvbench.scorers.vbench_motion import score_dynamic_degree, score_motion_smoothness
    from mvbench.video.decode import decode_frames
    from mvbench.video.write import write_video

    torch.manual_seed(0)
    amt = AMTS().eval().to(args.device)
    raft = RAFTFlow().eval().to(args.device)
    rows: list[tuple[str, str, str, float]] = []

    def add(row: tuple[str, str, str, float]) -> None:
        rows.append(row)
        print(f"{row[0]} | {row[1]} | {row[2]} | {row[3]:.3f} s", file=sys.stderr, flush=True)  # progress

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scene.mp4"
        write_video(path, synthetic_scene(), fps=24.0)
        t0 = time.perf_counter()
        for _ in range(args.clips):
            frames = decode_frames(path, list(range(49))).numpy()
        add(("decode (PyAV, all 49 frames)", "-", "-", (time.perf_counter() - t0) / args.clips))
        for batch in args.pair_batch:
            for _ in range(args.warmup):
                score_motion_smoothness(frames, amt, batch=batch)
            _sync(args.device)
            t0 = time.perf_counter()
            for _ in range(args.clips):
                res = score_motion_smoothness(frames, amt, batch=batch)
            _sync(args.device)
            add(("motion_smoothness (AMT-S)", "49 frames", f"{res['num_predictions']} x{batch}",
                 (time.perf_counter() - t0) / args.clips))
            for fps in args.fps:
                for _ in range(args.warmup):
                    score_dynamic_degree(frames, fps, raft, batch=batch, early_exit=False)
                _sync(args.device)
                t0 = time.perf_counter()
                for _ in range(args.clips):
                    res = score_dynamic_degree(frames, fps, raft, batch=batch, early_exit=False)
                _sync(args.device)
                add(("dynamic_degree (RAFT, 20 iters)", f"{fps:g} fps, {res['num_sampled']} frames",
                     f"{len(res['pair_scores'])} x{batch}", (time.perf_counter() - t0) / args.clips))
    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    print(f"device: {name}, torch {torch.__version__}, {torch.get_num_threads()} threads, {args.clips} timed clip(s)\n")
    print("| step | clip | pairs x batch | s/clip | clips/s |")
    print("| --- | --- | --- | ---: | ---: |")
    for step, clip, pairs, sec in rows:
        print(f"| {step} | {clip} | {pairs} | {sec:.3f} | {1 / sec:.3g} |")


if __name__ == "__main__":
    main()
