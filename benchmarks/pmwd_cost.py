"""Cost of the long-video samplers (PMWD, sequential sliding window, FIFO) against video length and step count.

Two measurements, so that real-size numbers at 50 steps fit in about a minute of GPU time:

1. **Counts (exact, no model).** For every sampler, length ``L = m * W`` latent frames (``--multiples``) and
   step count (``--steps``, default 10, 25, 50), the sampler runs on a zero denoiser that records every call:
   transformer calls, window-forwards (windows x calls, before CFG doubles the rows) and window-forwards per
   latent frame, and the number of windows in each call.
2. **Time and memory per call (measured).** The Wan transformer (random weights, frame-level cross-attention,
   CFG in the same forward) is timed on batches of ``k`` windows (``--time-windows``, 2k rows with CFG): the
   median of ``--repeats`` calls after one warm-up, and the peak memory of the call above what was allocated
   before it (CUDA: ``torch.cuda.max_memory_allocated``; CPU: peak resident set size of the process from
   ``/proc/self/statm``, sampled every 2 ms in a thread). A line ``t(k) = a + b k`` is fitted and the
   wall time of every sampler run is estimated as the sum of ``t(k)`` over its calls (solver work, which is
   per-frame arithmetic, is not included).

``--full-runs`` also runs the samplers end to end on the model at ``--time-steps`` steps and reports measured
seconds next to the estimate (a check of the estimate; cheap with ``--quick``).

    python benchmarks/pmwd_cost.py --quick                                   # tiny model, CPU, seconds
    python benchmarks/pmwd_cost.py --model wan-1.3b --device cuda --json pmwd_cost.json

``wan-1.3b`` is Wan2.1-T2V-1.1.3B's transformer at 480x832 (60 x 104 latents, W = 21 latent frames), bf16.
Prints Markdown tables (paste into docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
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
    # name: (transformer config, latent (H, W), caption tokens, dtype on CUDA)
    "tiny": (tiny_wan_config(), (8, 8), 16, torch.float32),
    "wan-1.3b": (WAN_T2V_1_3B_CONFIG, (60, 104), WAN_TEXT_LENGTH, torch.bfloat16),
}
SAMPLERS = ("pmwd", "sliding", "fifo")


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


class ZeroDenoiser:
    """A free denoiser (velocity 0) that records the number of windows of every call."""

    def __init__(self, window: int):
        self.window = window
        self.batches: list[int] = []

    def __call__(self, latents, timesteps, caption_ids):
        self.batches.append(latents.shape[0])
        return torch.zeros_like(latents)


def count(sampler_name: str, frames: int, steps: int, window: int) -> dict:
    """Exact call and window-forward counts of one sampler run (no model)."""
    zero = ZeroDenoiser(window)
    counted = CountingDenoiser(zero)
    create_sampler(sampler_name, num_steps=steps, window=window)(counted, torch.zeros(1, frames, 1, 1),
                                                                  torch.zeros(frames, dtype=torch.long))
    stats = counted.stats
    return {"sampler": sampler_name, "frames": frames, "steps": steps, "calls": stats.calls,
            "window_forwards": stats.windows, "window_forwards_per_frame": stats.windows / frames,
            "batches": {str(k): zero.batches.count(k) for k in sorted(set(zero.batches))}}


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_call(denoiser, windows: int, latent_hw, channels: int, device: str, repeats: int) -> dict:
    """Median seconds and peak extra memory of one denoiser call on ``windows`` windows (2x rows with CFG)."""
    w = denoiser.window
    gen = torch.Generator().manual_seed(windows)
    x = torch.randn(windows, channels, w, *latent_hw, generator=gen).to(device)
    t = torch.linspace(999, 0, w)[None].repeat(windows, 1)
    ids = (torch.arange(w) * denoiser.caption_embeds.shape[0] // w)[None].repeat(windows, 1)
    denoiser(x, t, ids)  # warm-up
    _sync(device)
    times = []
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        for _ in range(repeats):
            start = time.perf_counter()
            denoiser(x, t, ids)
            _sync(device)
            times.append(time.perf_counter() - start)
        peak = torch.cuda.max_memory_allocated() - base
    else:
        with PeakRSS() as mem:
            for _ in range(repeats):
                start = time.perf_counter()
                denoiser(x, t, ids)
                times.append(time.perf_counter() - start)
        peak = mem.used
    return {"windows": windows, "rows": windows * (2 if denoiser.uses_guidance else 1),
            "seconds": statistics.median(times), "peak_mib": peak / 2**20}


def fit_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares ``(a, b)`` of ``y = a + b x`` (a single point: ``b = y / x``, ``a = 0``)."""
    if len(points) == 1:
        x, y = points[0]
        return 0.0, y / x
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    b = sum((p[0] - mx) * (p[1] - my) for p in points) / sxx
    return my - b * mx, b


def full_run(denoiser, sampler_name: str, frames: int, steps: int, latent_hw, channels: int, device: str) -> float:
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(channels, frames, *latent_hw, generator=gen).to(device)
    ids = (torch.arange(frames) * denoiser.caption_embeds.shape[0]) // frames
    _sync(device)
    start = time.perf_counter()
    create_sampler(sampler_name, num_steps=steps)(denoiser, noise, ids)
    _sync(device)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default=None,
                        help="default: wan-1.3b on CUDA, tiny otherwise")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None)
    parser.add_argument("--quick", action="store_true", help="tiny model, multiples 1,2,4, steps 10,25,50, full runs")
    parser.add_argument("--steps", default="10,25,50", help="step counts of the count sweep")
    parser.add_argument("--multiples", default="1,2,4,8", help="L / W values")
    parser.add_argument("--samplers", default=",".join(SAMPLERS))
    parser.add_argument("--window", type=int, default=WAN_NATIVE_LATENT_FRAMES)
    parser.add_argument("--captions", type=int, default=8, help="distinct frame-level captions")
    parser.add_argument("--max-batch", type=int, default=None, help="rows per transformer forward (memory cap)")
    parser.add_argument("--time-windows", default="1,4", help="windows per timed call (CFG doubles the rows)")
    parser.add_argument("--repeats", type=int, default=2, help="timed calls per batch size (median)")
    parser.add_argument("--full-runs", action="store_true", help="also run the samplers end to end")
    parser.add_argument("--time-steps", type=int, default=2, help="steps of the --full-runs")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model_name = "tiny" if args.quick else (args.model or ("wan-1.3b" if device == "cuda" else "tiny"))
    if args.quick:
        args.multiples, args.full_runs = "1,2,4", True
    config, latent_hw, text_len, dtype = MODELS[model_name]
    if device == "cpu":
        dtype = torch.float32
    window = args.window
    samplers = args.samplers.split(",")
    multiples = [int(m) for m in args.multiples.split(",")]
    step_counts = [int(s) for s in args.steps.split(",")]

    # 1. exact counts
    counts = [count(name, m * window, steps, window) for steps in step_counts for m in multiples for name in samplers]

    # 2. time and memory per call
    transformer = build_random_wan(config, seed=0, dtype=dtype, device=device)
    gen = torch.Generator().manual_seed(1)
    captions = torch.randn(args.captions, text_len, config["text_dim"], generator=gen)
    negative = torch.randn(text_len, config["text_dim"], generator=gen)
    denoiser = WanFrameDenoiser(transformer, captions, negative, guidance_scale=5.0, window=window,
                                max_batch=args.max_batch)
    channels = config["in_channels"]
    timed = [time_call(denoiser, int(k), latent_hw, channels, device, args.repeats)
             for k in args.time_windows.split(",")]
    a, b = fit_line([(r["windows"], r["seconds"]) for r in timed])
    for row in counts:
        row["est_seconds"] = sum(n * (a + b * int(k)) for k, n in row["batches"].items())
        row["est_seconds_per_frame"] = row["est_seconds"] / row["frames"]
    full = []
    if args.full_runs:
        for m in multiples:
            for name in samplers:
                seconds = full_run(denoiser, name, m * window, args.time_steps, latent_hw, channels, device)
                est = count(name, m * window, args.time_steps, window)
                est_s = sum(n * (a + b * int(k)) for k, n in est["batches"].items())
                full.append({"sampler": name, "frames": m * window, "steps": args.time_steps, "seconds": seconds,
                             "est_seconds": est_s})

    where = (torch.cuda.get_device_name() if device == "cuda"
             else f"{platform.processor() or 'CPU'}, {torch.get_num_threads()} threads")
    print(f"model {model_name}, {device} ({where}), dtype {str(dtype).replace('torch.', '')}, W={window}, latent "
          f"{latent_hw[0]}x{latent_hw[1]}, CFG on (2 rows per window), {args.captions} captions\n")
    print("Exact counts (window-forwards = windows x calls; per latent frame = / L):\n")
    print("| steps | sampler | L | calls | window-forwards | per latent frame | vs PMWD | est. s / latent frame |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    pmwd = {(r["steps"], r["frames"]): r["window_forwards"] for r in counts if r["sampler"] == "pmwd"}
    for r in counts:
        ratio = r["window_forwards"] / pmwd[(r["steps"], r["frames"])] if (r["steps"], r["frames"]) in pmwd else None
        print(f"| {r['steps']} | {r['sampler']} | {r['frames'] // window}W = {r['frames']} | {r['calls']} | "
              f"{r['window_forwards']} | {r['window_forwards_per_frame']:.2f} | "
              f"{'' if ratio is None else f'{ratio:.2f}'} | {r['est_seconds_per_frame']:.4f} |")
    print("\nMeasured transformer calls (median of "
          f"{args.repeats}; memory: {'max_memory_allocated' if device == 'cuda' else 'peak RSS'} above the "
          "level before the calls):\n")
    print("| windows per call | rows | s per call | peak MiB |")
    print("| ---: | ---: | ---: | ---: |")
    for r in timed:
        print(f"| {r['windows']} | {r['rows']} | {r['seconds']:.4f} | {r['peak_mib']:.0f} |")
    separate = {k: k * (a + b) for k in (4, 16)}
    print(f"\nfit: t(k) = {a:.4f} + {b:.4f} k s; one batched call of 16 windows vs 16 separate calls: "
          f"{a + 16 * b:.3f} s vs {separate[16]:.3f} s")
    if full:
        print("\nFull sampler runs (measured vs estimated from the fit):\n")
        print("| sampler | L | steps | measured s | estimated s |")
        print("| --- | --- | ---: | ---: | ---: |")
        for r in full:
            print(f"| {r['sampler']} | {r['frames'] // window}W = {r['frames']} | {r['steps']} | {r['seconds']:.3f} | "
                  f"{r['est_seconds']:.3f} |")
    result = {"model": model_name, "device": device, "device_name": where, "dtype": str(dtype), "window": window,
              "latent_hw": list(latent_hw), "counts": counts, "timed_calls": timed, "fit": {"a": a, "b": b},
              "full_runs": full, "torch": torch.__version__}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
