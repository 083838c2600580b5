"""Throughput of the consistency pipeline: decode + preprocess + ViCLIP encode, in scene clips per second.

Renders synthetic scene videos (default 49 frames at 480x720, CogVideoX's output size), then times
three stages through the runner's own code path (``mvbench.compute.compute_requests``, no cache):

* ``decode``: PyAV decode of 8 "middle" frames + antialiased resize + normalisation (thread pool),
* ``encode``: the encoder alone on preprocessed clips (bf16 autocast on CUDA, fp32 on CPU),
* ``end-to-end``: both, as ``mvbench evaluate`` runs them.

ViCLIP-L/14 is built at real size with random weights (timing does not depend on the values).
Clips cycle over ``--videos`` files, and the decode plan decodes each file once per chunk for all the
clips taken from it, so ``end-to-end`` with few files is optimistic; ``benchmarks/gpu_all.py`` times one
file per clip, as a real submission has.

    python benchmarks/encode_throughput.py                      # CPU, few clips
    python benchmarks/encode_throughput.py --device cuda --clips 600 --batch-size 64
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mvbench.compute import EncoderPool, _decode_clip, compute_requests
from mvbench.encoders.viclip import VARIANTS, ViclipEncoder
from mvbench.encoders.viclip_model import ViclipModel
from mvbench.scorers import ClipRequest, VideoRef
from mvbench.video import probe
from mvbench.video.write import write_video


def render(folder: Path, n_videos: int, frames: int, h: int, w: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    base = rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8)
    for i in range(n_videos):
        clip = np.empty((frames, h, w, 3), dtype=np.uint8)
        for t in range(frames):
            small = np.roll(base, shift=(t + i) % (w // 8), axis=1)
            clip[t] = np.kron(small, np.ones((8, 8, 1), dtype=np.uint8))
        paths.append(write_video(folder / f"v{i}.mp4", clip, fps=8))
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--variant", default="viclip-l14", choices=sorted(VARIANTS))
    ap.add_argument("--clips", type=int, default=None, help="clips to time (default 8 on CPU, 512 on GPU)")
    ap.add_argument("--videos", type=int, default=8, help="distinct video files rendered (clips cycle over them)")
    ap.add_argument("--batch-size", type=int, default=None, help="default 8 on CPU, 64 on GPU")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--frames", type=int, default=49)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=720)
    args = ap.parse_args(argv)
    gpu = args.device.startswith("cuda")
    n_clips = args.clips or (512 if gpu else 8)
    bs = args.batch_size or (64 if gpu else 8)

    torch.manual_seed(0)
    model = ViclipModel(VARIANTS[args.variant]).to(args.device)
    encoder = ViclipEncoder(args.variant + "-random", model, weights_name=None, weights_sha256=None, calibrated=False)
    pool = EncoderPool(args.device, {encoder.name: encoder})
    opts = {"device": args.device, "batch_size": bs, "num_workers": args.workers, "no_cache": True, "progress": False}

    with tempfile.TemporaryDirectory() as tmp:
        paths = render(Path(tmp), args.videos, args.frames, args.height, args.width)
        n = probe(paths[0]).num_frames
        # distinct requests (different frame ranges) so nothing is deduplicated
        reqs = [ClipRequest(encoder.name, (VideoRef(str(paths[i % len(paths)]), 0, n - (i // len(paths)) % 8, 8.0),))
                for i in range(n_clips)]
        rows = []

        from concurrent.futures import ThreadPoolExecutor

        workers = opts["num_workers"] or min(8, __import__("os").cpu_count() or 2)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            clips = list(ex.map(lambda r: _decode_clip(r, encoder), reqs))
        rows.append(("decode+preprocess", n_clips, time.perf_counter() - t0))

        x = torch.stack(clips[:bs]).to(args.device)
        with torch.inference_mode(), torch.autocast("cuda", torch.bfloat16, enabled=gpu):
            encoder.encode_video(x)  # warm-up
            if gpu:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            done = 0
            while done < n_clips:
                encoder.encode_video(x)
                done += bs
            if gpu:
                torch.cuda.synchronize()
        rows.append(("encode only", done, time.perf_counter() - t0))

        if gpu:
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        compute_requests(reqs, opts, encoders=pool)
        if gpu:
            torch.cuda.synchronize()
        rows.append(("end-to-end", n_clips, time.perf_counter() - t0))

    dev = torch.cuda.get_device_name() if gpu else f"CPU ({torch.get_num_threads()} threads)"
    print(f"# {args.variant} (random weights), {args.frames} frames {args.width}x{args.height} -> 8x224x224, "
          f"batch {bs}, {workers} decode workers, {dev}, torch {torch.__version__}")
    print("| stage | clips | seconds | clips/s |")
    print("|---|---:|---:|---:|")
    for name, k, sec in rows:
        print(f"| {name} | {k} | {sec:.2f} | {k / sec:.2f} |")
    if gpu:
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
