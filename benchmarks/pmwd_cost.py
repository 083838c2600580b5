"""Cost of the long-video samplers (PMWD, sliding window, FIFO) as the video grows.

For L = m * W latent frames (m = 1, 2, 4, 8 by default) and each sampler this measures, on a
random-weight Wan transformer with frame-level cross-attention and CFG:

- denoiser calls (batched forwards) and window-forwards (windows x steps, before CFG doubling),
- window-forwards, wall time per generated latent frame,
- peak memory during sampling (CUDA: ``max_memory_allocated``; CPU: peak RSS above the RSS before
  the run, sampled every 2 ms),
- for PMWD also the same run with every window in its own forward (``max_batch = 1``) to show what
  batching the K windows buys.

Tiny model on CPU (default when no GPU)::

    python benchmarks/pmwd_cost.py --model tiny --device cpu --steps 10 --threads 1

Wan2.1-1.3B-sized random model on GPU (480x832 -> 60x104 latents, W = 21)::

    python benchmarks/pmwd_cost.py --model wan-1.3b --device cuda --steps 2 --max-batch 8

Prints a Markdown table (paste into docs/performance.md) and optionally writes JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference_models.pmwd.denoiser import CountingDenoiser  # noqa: E402
from reference_models.pmwd.samplers import create_sampler  # noqa: E402
from reference_models.pmwd.wan_denoiser import (  # noqa: E402
    WAN_NATIVE_LATENT_FRAMES,
    WAN_T2V_1_3B_CONFIG,
    WAN_TEXT_LENGTH,
    WanFrameDenoiser,
    build_random_wan,
    tiny_wan_config,
)

MODELS = {
    # name: (transformer config, latent (H, W), caption tokens, dtype)
    "tiny": (tiny_wan_config(), (8, 8), 16, torch.float32),
    "wan-1.3b": (WAN_T2V_1_3B_CONFIG, (60, 104), WAN_TEXT_LENGTH, torch.bfloat16),
}


class PeakRSS:
    """Peak resident memory of this process above its level at start, sampled in a thread (Linux)."""

    def __init__(self, interval: float = 0.002):
        self.interval = interval
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.peak = 0
        self._stop = threading.Event()

    def _rss(self) -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * self.page

    def __enter__(self):
        self.start = self._rss()
        self.peak = self.start
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def used(self) -> int:
        return self.peak - self.start


def run_one(denoiser, sampler_name: str, frames: int, steps: int, latent_hw, channels: int, device: str,
            seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(channels, frames, *latent_hw, generator=gen).to(device)
    caption_ids = (torch.arange(frames) * denoiser.caption_embeds.shape[0]) // frames
    counted = CountingDenoiser(denoiser)
    sampler = create_sampler(sampler_name, num_steps=steps)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        start = time.perf_counter()
        sampler(counted, noise, caption_ids)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated() - base
    else:
        with PeakRSS() as mem:
            start = time.perf_counter()
            sampler(counted, noise, caption_ids)
            seconds = time.perf_counter() - start
        peak = mem.used
    stats = counted.stats
    return {
        "sampler": sampler_name, "frames": frames, "calls": stats.calls, "window_forwards": stats.windows,
        "window_forwards_per_frame": stats.windows / frames, "seconds": seconds,
        "seconds_per_frame": seconds / frames, "peak_mib": peak / 2**20,
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default=None,
                        help="default: wan-1.3b when CUDA is available, else tiny")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None)
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default 10 tiny, 2 wan-1.3b)")
    parser.add_argument("--multiples", default="1,2,4,8", help="L / W values")
    parser.add_argument("--samplers", default="pmwd,sliding,fifo")
    parser.add_argument("--window", type=int, default=WAN_NATIVE_LATENT_FRAMES)
    parser.add_argument("--captions", type=int, default=8, help="distinct frame-level captions")
    parser.add_argument("--max-batch", type=int, default=None, help="rows per transformer forward (memory cap)")
    parser.add_argument("--no-separate", action="store_true", help="skip PMWD with one forward per window")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model_name = args.model or ("wan-1.3b" if device == "cuda" else "tiny")
    config, latent_hw, text_len, dtype = MODELS[model_name]
    if device == "cpu" and dtype == torch.bfloat16:
        dtype = torch.float32
    steps = args.steps or (2 if model_name == "wan-1.3b" else 10)
    transformer = build_random_wan(config, seed=0, dtype=dtype, device=device)
    gen = torch.Generator().manual_seed(1)
    captions = torch.randn(args.captions, text_len, config["text_dim"], generator=gen)
    negative = torch.randn(text_len, config["text_dim"], generator=gen)
    denoiser = WanFrameDenoiser(transformer, captions, negative, guidance_scale=5.0, window=args.window,
                                max_batch=args.max_batch)
    channels = config["in_channels"]

    # warm-up (allocator, kernels) on one window
    run_one(denoiser, "plain", args.window, 1, latent_hw, channels, device)

    rows = []
    for multiple in [int(m) for m in args.multiples.split(",")]:
        frames = multiple * args.window
        for name in args.samplers.split(","):
            row = run_one(denoiser, name, frames, steps, latent_hw, channels, device)
            if name == "pmwd" and not args.no_separate:
                denoiser.max_batch = 1
                sep = run_one(denoiser, name, frames, steps, latent_hw, channels, device)
                denoiser.max_batch = args.max_batch
                row["separate_seconds"] = sep["seconds"]
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)

    where = torch.cuda.get_device_name() if device == "cuda" else f"{platform.processor() or 'CPU'}, {torch.get_num_threads()} threads"
    print(f"\nmodel {model_name}, {device} ({where}), dtype {str(dtype).replace('torch.', '')}, W={args.window}, "
          f"latent {latent_hw[0]}x{latent_hw[1]}, {steps} steps, CFG on, max_batch={args.max_batch}\n")
    print("| sampler | L | calls | window-forwards | per latent frame | s / latent frame | peak MiB | PMWD batched vs separate |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        sep = f"{r['seconds']:.2f} s vs {r['separate_seconds']:.2f} s" if "separate_seconds" in r else ""
        print(f"| {r['sampler']} | {r['frames'] // args.window}W = {r['frames']} | {r['calls']} | {r['window_forwards']} "
              f"| {r['window_forwards_per_frame']:.2f} | {r['seconds_per_frame']:.4f} | {r['peak_mib']:.0f} | {sep} |")
    if args.json:
        args.json.write_text(json.dumps({"model": model_name, "device": device, "steps": steps, "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
