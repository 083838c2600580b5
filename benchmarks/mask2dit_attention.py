"""Benchmark one Mask²DiT attention call, forward and forward + backward: dense-masked SDPA vs grouped attention
vs FlexAttention vs the unmasked SDPA floor.

Configs (batch 2: classifier-free guidance runs the conditional and the unconditional row together):

* ``full`` (CogVideoX-2B scale, default on CUDA): 3 scenes x 13 latent frames x 1350 patch tokens, 3 x 226 text
  tokens, 30 heads x 64, bf16;
* ``full-5b``: the same sequence with CogVideoX-5B's 48 heads x 64;
* ``small`` (``--quick``, default on CPU): 3 x 4 x 128 video tokens, 3 x 32 text tokens, 4 heads x 64, fp32;
* ``tiny`` (the test suite): 2 x 2 x 32 video tokens, 2 x 8 text tokens, 2 heads x 16, fp32.

FlexAttention runs compiled on CUDA and eagerly on CPU, where PyTorch has no FlexAttention backward: that
row then reports its forward and says the backward failed.

Per implementation: median milliseconds of the forward (no autograd) and of forward + backward (gradients of
q, k, v), peak memory of forward + backward above what was allocated before (CUDA:
``torch.cuda.max_memory_allocated``; CPU: peak resident set size of the process from ``/proc/self/statm``,
sampled every 1 ms in a thread), the largest difference to the dense reference over the output and the three
gradients, the FLOPs the mask requires (forward ``4 * B * H * D * allowed pairs``, backward 2.5x that) and the
achieved TFLOP/s. A method that fails (out of memory, no FlexAttention) is reported as failed with its error; if
the dense reference fails, no difference is reported (nothing is compared against another method instead).

    python benchmarks/mask2dit_attention.py --quick                       # CPU, seconds
    python benchmarks/mask2dit_attention.py --device cuda --config full --json mask2dit_attention.json

Runs from a clean checkout (the repository root is put on ``sys.path``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference_models.mask2dit import (  # noqa: E402
    SceneLayout,
    allowed_pairs,
    build_block_mask,
    dense_mask,
    flex_masked_attention,
    grouped_attention,
)

CONFIGS = {
    "full": dict(scenes=3, frames=13, patch_tokens=1350, text=226, heads=30, head_dim=64, dtype="bfloat16"),
    "full-5b": dict(scenes=3, frames=13, patch_tokens=1350, text=226, heads=48, head_dim=64, dtype="bfloat16"),
    "small": dict(scenes=3, frames=4, patch_tokens=128, text=32, heads=4, head_dim=64, dtype="float32"),
    "tiny": dict(scenes=2, frames=2, patch_tokens=32, text=8, heads=2, head_dim=16, dtype="float32"),
}
DENSE = "dense-masked SDPA"
FLOOR = "unmasked SDPA (floor)"
SHORT = {"dense": DENSE, "grouped": "grouped", "flex": "flex", "floor": FLOOR}


class PeakMemory:
    """Peak memory above the level at entry: CUDA allocator, or the process's resident set size (Linux)."""

    def __init__(self, device: torch.device, interval: float = 0.001):
        self.device, self.interval = device, interval
        self.used = 0
        self._stop = threading.Event()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.start = torch.cuda.memory_allocated()
        else:
            self.start = self.peak = self._rss()
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        return self

    def _watch(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(self.interval)

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.used = torch.cuda.max_memory_allocated() - self.start
        else:
            self._stop.set()
            self._thread.join()
            self.used = max(self.peak, self._rss()) - self.start


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _median_ms(fn, device: torch.device, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def measure(attend, q, k, v, grad, device: torch.device, repeats: int) -> dict:
    """Forward timing, then forward+backward timing and its peak memory; the output and the gradients.

    A backward that fails (e.g. FlexAttention on CPU) leaves the forward numbers and records ``backward_error``.
    """
    leaves = [t.detach().requires_grad_(True) for t in (q, k, v)]

    def forward():
        with torch.no_grad():
            return attend(q, k, v)

    def forward_backward():
        for t in leaves:
            t.grad = None
        out = attend(*leaves)
        out.backward(grad)
        return out

    out = forward()  # warm-up (compilation, allocator)
    _sync(device)
    result = {"forward_ms": _median_ms(forward, device, repeats), "tensors": [out.float()]}
    try:
        forward_backward()
        _sync(device)
        with PeakMemory(device) as memory:
            result["forward_backward_ms"] = _median_ms(forward_backward, device, repeats)
        result["peak_mib"] = memory.used / 2**20
        forward_backward()
        result["tensors"] += [t.grad.float() for t in leaves]
    except Exception as error:  # report and go on: the forward numbers stand
        result["backward_error"] = f"{type(error).__name__}: {error}"[:300]
    return result


def run(config: dict, device: torch.device, variant: str, repeats: int, batch: int,
        only: tuple[str, ...] | None = None) -> dict:
    dtype = getattr(torch, config["dtype"])
    n = config["scenes"]
    layout = SceneLayout.uniform(n, config["text"], config["frames"] * config["patch_tokens"])
    seq, heads, dim = layout.total_length, config["heads"], config["head_dim"]
    gen = torch.Generator(device=device).manual_seed(0)
    q, k, v, grad = (torch.randn(batch, heads, seq, dim, device=device, dtype=dtype, generator=gen) for _ in range(4))
    pairs = allowed_pairs(variant, layout)
    flops_masked, flops_full = 4.0 * batch * heads * dim * pairs, 4.0 * batch * heads * dim * seq * seq

    def dense():
        mask = dense_mask(variant, layout, device=device)
        return lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask)

    def flex():
        block_mask = build_block_mask(layout, variant, device)
        return lambda a, b, c: flex_masked_attention(a, b, c, layout, variant, block_mask=block_mask)

    methods = {
        DENSE: dense,
        "grouped": lambda: (lambda a, b, c: grouped_attention(a, b, c, layout, variant)),
        "flex": flex,
        FLOOR: lambda: F.scaled_dot_product_attention,
    }
    if only is not None:
        unknown = sorted(set(only) - set(SHORT))
        if unknown:
            raise SystemExit(f"--methods: unknown {', '.join(unknown)}; choose from {', '.join(SHORT)}")
        methods = {name: make for name, make in methods.items() if name in {SHORT[m] for m in only}}
    rows, reference = [], None
    for name, make in methods.items():
        try:
            measured = measure(make(), q, k, v, grad, device, repeats)
        except Exception as error:  # report and go on (out of memory, FlexAttention missing, ...)
            rows.append(dict(method=name, error=f"{type(error).__name__}: {error}"[:300]))
            if device.type == "cuda":
                torch.cuda.empty_cache()
            continue
        tensors = measured.pop("tensors")
        if name == DENSE:
            reference = tensors
        diff = None
        if name != FLOOR and reference is not None:
            diff = max(float((a - b).abs().max()) for a, b in zip(tensors, reference))
        flops = flops_full if name == FLOOR else flops_masked
        row = dict(method=name, **measured, max_abs_diff_vs_dense=diff, flops_forward=flops,
                   tflops_forward=flops / measured["forward_ms"] * 1e-9)
        if "forward_backward_ms" in measured:
            row["tflops_forward_backward"] = 3.5 * flops / measured["forward_backward_ms"] * 1e-9
        rows.append(row)
        del tensors
    dense_failed = reference is None
    return dict(config=config, variant=variant, batch=batch, device=str(device), seq=seq, allowed_pairs=pairs,
                mask_density=pairs / seq**2, dense_mask_mib=seq * seq / 2**20, dense_failed=dense_failed,
                memory="torch.cuda.max_memory_allocated" if device.type == "cuda" else "peak RSS (/proc/self/statm)",
                torch=torch.__version__, gpu=torch.cuda.get_device_name() if device.type == "cuda" else None,
                rows=rows)


def to_markdown(result: dict) -> str:
    lines = [f"device {result['gpu'] or result['device']}, torch {result['torch']}, variant {result['variant']}, "
             f"batch {result['batch']}, S = {result['seq']}, mask density {result['mask_density']:.3f}, "
             f"dense bool mask {result['dense_mask_mib']:.1f} MiB; memory: {result['memory']}",
             "", "| method | fwd ms | fwd+bwd ms | peak MiB (fwd+bwd) | max abs diff vs dense (out, grads) | "
                 "fwd TFLOP/s | fwd+bwd TFLOP/s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"| {row['method']} | failed: {row['error']} | | | | | |")
            continue
        if row["method"] == FLOOR:
            diff = "— (no mask)"
        elif row["max_abs_diff_vs_dense"] is None:
            diff = "n/a: dense failed"
        else:
            diff = f"{row['max_abs_diff_vs_dense']:.2e}" + ("" if "backward_error" not in row else " (output only)")
        if "backward_error" in row:
            backward = f"failed: {row['backward_error']} | "
            rate = ""
        else:
            backward = f"{row['forward_backward_ms']:.2f} | {row['peak_mib']:.1f}"
            rate = f"{row['tflops_forward_backward']:.3f}"
        lines.append(f"| {row['method']} | {row['forward_ms']:.2f} | {backward} | {diff} | "
                     f"{row['tflops_forward']:.3f} | {rate} |")
    ok = {r["method"]: r for r in result["rows"] if "error" not in r and "backward_error" not in r}
    failed = [r["method"] + ("" if "error" in r else " (backward)") for r in result["rows"]
              if "error" in r or "backward_error" in r]
    if failed:
        lines += ["", "failed: " + ", ".join(failed)]
    if result["dense_failed"]:
        lines += ["", "the dense reference failed: differences are not reported (no other method stands in for it)"]
    masked = [m for m in ("grouped", "flex") if m in ok]
    if masked and FLOOR in ok:
        best = min(masked, key=lambda m: ok[m]["forward_backward_ms"])
        line = (f"best masked ({best}) / floor, fwd+bwd: "
                f"{ok[best]['forward_backward_ms'] / ok[FLOOR]['forward_backward_ms']:.2f}")
        if DENSE in ok:
            line += f"; dense / {best}, fwd+bwd: {ok[DENSE]['forward_backward_ms'] / ok[best]['forward_backward_ms']:.2f}"
        lines += ["", line]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda if available), cuda or cpu")
    parser.add_argument("--config", default="auto", choices=["auto", *CONFIGS])
    parser.add_argument("--quick", action="store_true", help="the small config")
    parser.add_argument("--variant", default="v2")
    parser.add_argument("--batch", type=int, default=2, help="rows (2: CFG's conditional + unconditional)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per measurement (median; default 3)")
    parser.add_argument("--methods", default="dense,grouped,flex,floor",
                        help="which implementations to run (FlexAttention's first compile on CUDA takes tens of s)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    config_name = "small" if args.quick else (
        args.config if args.config != "auto" else ("full" if device.type == "cuda" else "small"))
    result = run(CONFIGS[config_name], device, args.variant, args.repeats, args.batch,
                 tuple(m.strip() for m in args.methods.split(",") if m.strip()))
    result["config_name"] = config_name
    print(to_markdown(result))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
