"""Throughput of VBench's quality dimensions (clips/s), one 49-frame 720 x 480 scene per clip.

Synthetic scenes (a gradient, moving shapes, noise) are generated on the spot, written as H.264 and
decoded once through mvbench's decoder (timed separately); each dimension then scores the decoded
frames through the scorer's own code path (VBench preprocessing, network, per-video formula) with
real-size networks and random weights (speed does not depend on the values, so no checkpoint is
needed). On CUDA the CLIP towers hold fp16 weights as VBench's ``clip.load`` does; everything else
runs in fp32.

    python benchmarks/quality_throughput.py subject_consistency temporal_flickering --device cpu --clips 1
    python benchmarks/quality_throughput.py --device cuda --clips 16        # every VBench-appearance dimension

Dimensions this script does not know (e.g. another scorer's) are reported as skipped.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

NETWORK = {
    "subject_consistency": "DINO ViT-B/16",
    "background_consistency": "CLIP ViT-B/32",
    "aesthetic_quality": "CLIP ViT-L/14 + LAION head",
    "imaging_quality": "MUSIQ (pyiqa)",
    "temporal_flickering": "none (pixels)",
}


def synthetic_scene(n_frames: int, height: int, width: int, seed: int) -> np.ndarray:
    """uint8 ``[T, H, W, 3]``: vertical colour gradient, two moving discs, Gaussian noise."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    top, bottom = rng.uniform(0, 255, 3).astype(np.float32), rng.uniform(0, 255, 3).astype(np.float32)
    bg = np.broadcast_to((1 - ramp) * top + ramp * bottom, (height, width, 3))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    starts, vels = rng.uniform(0.2, 0.8, (2, 2)) * (height, width), rng.uniform(-3, 3, (2, 2))
    colors = rng.uniform(0, 255, (2, 3)).astype(np.float32)
    for t in range(n_frames):
        img = bg.copy()
        for (cy, cx), (vy, vx), col in zip(starts, vels, colors):
            img[(yy - cy - vy * t) ** 2 + (xx - cx - vx * t) ** 2 <= (0.12 * height) ** 2] = col
        img += rng.normal(0, 3, img.shape).astype(np.float32)
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def _randomize_(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=gen) - 0.5) * 0.04)
    return module


def random_networks(metric: str, device: str) -> dict[str, torch.nn.Module]:
    """Real-size networks of one dimension with random weights, keyed as the scorer's network cache."""
    from mvbench.encoders.clip_openai import CLIP_VIT_B32, CLIP_VIT_L14, ClipImageFeatures, build_clip
    from mvbench.encoders.dino import DINO_VITB16, DinoFeatures, build_vit

    half = device.startswith("cuda")

    def clip(arch):
        from open_clip.model import convert_weights_to_lp

        visual = _randomize_(build_clip(arch, half=half, meta=True).visual.to_empty(device="cpu"))
        if half:
            convert_weights_to_lp(visual, torch.float16)
        return ClipImageFeatures(visual).eval().to(device)

    if metric == "subject_consistency":
        return {"dino": DinoFeatures(build_vit(DINO_VITB16)).eval().to(device)}
    if metric == "background_consistency":
        return {"clip_b32": clip(CLIP_VIT_B32)}
    if metric == "aesthetic_quality":
        return {"clip_l14": clip(CLIP_VIT_L14), "aesthetic": torch.nn.Linear(768, 1).eval().to(device)}
    if metric == "imaging_quality":
        from mvbench.encoders.musiq import build_musiq

        return {"musiq": build_musiq().eval().to(device)}
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("metrics", nargs="*", help="dimension names (default: the five VBench-appearance ones)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--clips", type=int, default=None, help="scenes per dimension (default 16 on GPU, 1 on CPU)")
    parser.add_argument("--frames", type=int, default=49)
    parser.add_argument("--width", type=int, default=720)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--frame-batch", type=int, default=32, help="frames per network call")
    args = parser.parse_args()

    from mvbench.scorers import ItemVideos, VideoRef
    from mvbench.scorers.vbench_appearance import VBENCH_METRICS, VBenchAppearanceScorer
    from mvbench.suite import Scene, SuiteItem
    from mvbench.video.decode import decode_frames
    from mvbench.video.write import write_video

    names = [m for part in args.metrics for m in part.split(",") if m] or list(VBENCH_METRICS)
    gpu = args.device.startswith("cuda")
    n_clips = args.clips or (16 if gpu else 1)
    with tempfile.TemporaryDirectory() as tmp:
        refs, frames = [], []
        for k in range(n_clips):
            path = write_video(Path(tmp) / f"scene_{k}.mp4", synthetic_scene(args.frames, args.height, args.width, k),
                               fps=8.0, crf=23)
            refs.append(VideoRef(str(path), 0, args.frames, 8.0))
        start = time.perf_counter()
        for ref in refs:
            frames.append(decode_frames(ref.path, list(range(ref.num_frames))))
        decode_rate = n_clips / (time.perf_counter() - start)
    videos = ItemVideos(SuiteItem("bench", tuple(Scene(f"scene {k}") for k in range(n_clips))), tuple(refs))

    class _Bench(VBenchAppearanceScorer):
        def _check_setup(self) -> None:  # random networks: no weight files needed
            pass

    device_name = torch.cuda.get_device_name() if gpu else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {device_name}; torch {torch.__version__}; {n_clips} scene(s) of {args.frames} frames at "
          f"{args.width}x{args.height}; decode (PyAV, every frame): {decode_rate:.2f} clips/s\n")
    print("| dimension | network | clips/s | s/clip | frames/s |")
    print("| --- | --- | ---: | ---: | ---: |")
    for metric in names:
        if metric not in VBENCH_METRICS:
            print(f"| `{metric}` | (not a VBench-appearance dimension: skipped) | | | |")
            continue
        scorer = _Bench({"metrics": [metric], "device": args.device, "vbench_frame_batch": args.frame_batch})
        scorer._nets._built.update(random_networks(metric, args.device))
        results = dict(zip(scorer.requests(videos), frames))
        if gpu:  # one untimed scene warms up kernels and allocator
            scorer.score(ItemVideos(videos.item, videos.scenes[:1]), results)
            torch.cuda.synchronize()
        start = time.perf_counter()
        score = scorer.score(videos, results)
        if gpu:
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        assert np.isfinite(score.values[metric]), f"{metric}: non-finite score"
        rate = n_clips / elapsed
        print(f"| `{metric}` | {NETWORK[metric]} | {rate:.3g} | {1 / rate:.3g} | {rate * args.frames:.3g} |")


if __name__ == "__main__":
    main()
