"""Throughput of the FVD feature extractors (clips/s): I3D (``i3d-k400``) and VideoMAE-v2 ViT-g.

Runs the full-size networks with random weights (speed does not depend on the values, so no
checkpoint is needed) on already-preprocessed 16 x 224 x 224 clips; decoding is not included.
On CUDA the extractors run under bf16 autocast (as in ``mvbench evaluate``), on CPU in fp32.

    python benchmarks/fvd_throughput.py                        # CUDA if available, else CPU
    python benchmarks/fvd_throughput.py --device cpu --videomae-batch 1 --iters 1
"""

from __future__ import annotations

import argparse
import time

import torch


def fill_random_(module: torch.nn.Module, seed: int = 0) -> None:
    """Small seeded uniform weights (speed does not depend on the values); BatchNorm variances 1."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=gen).sub_(0.5).mul_(0.04))
        for name, b in module.named_buffers():
            if name.endswith("running_var"):
                b.fill_(1.0)


def build(extractor: str, device: str):
    if extractor == "i3d":
        from mvbench.encoders.i3d import I3DEncoder, InceptionI3d

        module = InceptionI3d()
        fill_random_(module)
        return I3DEncoder(module, None, calibrated=False).to(device)
    from mvbench.encoders.videomae import VideoMAEEncoder, VideoMAEv2ViT, sinusoid_table

    with torch.device("meta"):
        module = VideoMAEv2ViT()
    module = module.to_empty(device="cpu")
    module.pos_embed = sinusoid_table(2048, 1408)[None]  # to_empty() left the buffer uninitialised
    fill_random_(module)
    return VideoMAEEncoder(module, None, calibrated=False).to(device)


def measure(extractor: str, device: str, batch: int, iters: int, warmup: int) -> float:
    encoder = build(extractor, device)
    clips = torch.rand(batch, 16, 3, 224, 224, device=device)
    if encoder.preprocess.value_range == "symmetric":
        clips = clips * 2 - 1
    for _ in range(warmup):
        encoder.encode_video(clips)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        feats = encoder.encode_video(clips)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    assert torch.isfinite(feats).all(), f"{extractor}: non-finite features"
    return batch * iters / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--extractors", default="i3d,videomae")
    parser.add_argument("--i3d-batch", type=int, default=None, help="default 32 on GPU, 2 on CPU")
    parser.add_argument("--videomae-batch", type=int, default=None, help="default 16 on GPU, 1 on CPU")
    parser.add_argument("--iters", type=int, default=None, help="timed batches (default 10 on GPU, 2 on CPU)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed batches (default 2 on GPU, 0 on CPU)")
    args = parser.parse_args()
    gpu = args.device.startswith("cuda")
    iters = args.iters or (10 if gpu else 2)
    warmup = args.warmup if args.warmup is not None else (2 if gpu else 0)
    threads = torch.get_num_threads()
    name = torch.cuda.get_device_name() if gpu else f"CPU ({threads} threads)"
    print(f"device: {name}; precision: {'bf16 autocast' if gpu else 'fp32'}; torch {torch.__version__}")
    for extractor in args.extractors.split(","):
        batch = {"i3d": args.i3d_batch or (32 if gpu else 2),
                 "videomae": args.videomae_batch or (16 if gpu else 1)}[extractor]
        its = iters if extractor == "i3d" or gpu else max(1, iters // 2)
        rate = measure(extractor, args.device, batch, its, warmup)
        print(f"{extractor:9s} batch {batch:3d} x {its} iters: {rate:10.4f} clips/s ({1.0 / rate:8.2f} s/clip)")


if __name__ == "__main__":
    main()
