"""Benchmark one Mask²DiT attention call: dense-masked SDPA vs grouped vs FlexAttention vs unmasked floor.

Full config (used on CUDA by default): CogVideoX-2B scale, 3 scenes x 13 latent frames x 1350 patch tokens,
3 x 226 text tokens, 30 heads x 64, bf16. Small config (default on CPU): 3 x 4 x 128 video tokens,
3 x 32 text tokens, 4 heads x 64, fp32.

Reported per implementation: median time, peak extra memory (CUDA), max |diff| to the dense reference,
the FLOPs the mask actually requires (4 * B * H * D * allowed pairs; QK^T and PV, 2 FLOPs per MAC) and the
achieved TFLOP/s; the unmasked floor is credited with its full 4 * B * H * D * S^2.

    python benchmarks/mask2dit_attention.py                 # auto: full on CUDA, small on CPU
    python benchmarks/mask2dit_attention.py --config small --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

from reference_models.mask2dit import (
    SceneLayout,
    allowed_pairs,
    build_block_mask,
    dense_mask,
    flex_masked_attention,
    grouped_attention,
)

CONFIGS = {
    "full": dict(scenes=3, frames=13, patch_tokens=1350, text=226, heads=30, head_dim=64, dtype="bfloat16"),
    "small": dict(scenes=3, frames=4, patch_tokens=128, text=32, heads=4, head_dim=64, dtype="float32"),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_call(fn, device: torch.device, repeats: int, warmup: int = 2) -> tuple[float, float | None, torch.Tensor]:
    """Median seconds of ``fn()`` and peak memory (bytes) above what was allocated before (CUDA only)."""
    for _ in range(warmup):
        out = fn()
    del out
    _sync(device)
    peak = None
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() - base
    return statistics.median(times), peak, out


def run(config: dict, device: torch.device, variant: str, repeats: int) -> dict:
    dtype = getattr(torch, config["dtype"])
    n = config["scenes"]
    layout = SceneLayout.uniform(n, config["text"], config["frames"] * config["patch_tokens"])
    seq, heads, dim = layout.total_length, config["heads"], config["head_dim"]
    gen = torch.Generator(device=device).manual_seed(0)
    q, k, v = (torch.randn(1, heads, seq, dim, device=device, dtype=dtype, generator=gen) for _ in range(3))
    pairs = allowed_pairs(variant, layout)
    flops_masked, flops_full = 4.0 * heads * dim * pairs, 4.0 * heads * dim * seq * seq

    mask = dense_mask(variant, layout, device=device)
    block_mask = build_block_mask(layout, variant, device)
    methods = {
        "dense-masked SDPA": lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        "grouped": lambda: grouped_attention(q, k, v, layout, variant),
        "flex": lambda: flex_masked_attention(q, k, v, layout, variant, block_mask=block_mask),
        "unmasked SDPA (floor)": lambda: F.scaled_dot_product_attention(q, k, v),
    }
    rows, reference = [], None
    for name, fn in methods.items():
        try:
            seconds, peak, out = time_call(fn, device, repeats)
        except Exception as error:  # report, keep going (e.g. FlexAttention unavailable)
            rows.append(dict(method=name, error=f"{type(error).__name__}: {error}"[:200]))
            continue
        if reference is None:
            reference = out.float()
        flops = flops_full if name.startswith("unmasked") else flops_masked
        rows.append(dict(
            method=name, ms=seconds * 1e3, peak_extra_mib=None if peak is None else peak / 2**20,
            max_abs_diff_vs_dense=None if name.startswith("unmasked") else float((out.float() - reference).abs().max()),
            flops=flops, tflops_per_s=flops / seconds / 1e12,
        ))
        del out
    return dict(config=config, variant=variant, device=str(device), seq=seq, allowed_pairs=pairs,
                mask_density=pairs / seq**2, dense_mask_mib=seq * seq / 2**20,
                torch=torch.__version__, gpu=torch.cuda.get_device_name() if device.type == "cuda" else None,
                rows=rows)


def to_markdown(result: dict) -> str:
    lines = [f"device {result['gpu'] or result['device']}, torch {result['torch']}, variant {result['variant']}, "
             f"S = {result['seq']}, mask density {result['mask_density']:.3f}, "
             f"dense bool mask {result['dense_mask_mib']:.1f} MiB",
             "", "| method | ms | peak extra MiB | max abs diff vs dense | GFLOP | TFLOP/s |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"| {row['method']} | failed: {row['error']} | | | | |")
            continue
        peak = "n/a" if row["peak_extra_mib"] is None else f"{row['peak_extra_mib']:.1f}"
        diff = "—" if row["max_abs_diff_vs_dense"] is None else f"{row['max_abs_diff_vs_dense']:.2e}"
        lines.append(f"| {row['method']} | {row['ms']:.2f} | {peak} | {diff} | {row['flops'] / 1e9:.2f} | "
                     f"{row['tflops_per_s']:.3f} |")
    times = {r["method"]: r["ms"] for r in result["rows"] if "ms" in r}
    masked = [times[m] for m in ("grouped", "flex") if m in times]
    if masked and "unmasked SDPA (floor)" in times and "dense-masked SDPA" in times:
        best = min(masked)
        lines += ["", f"best masked / floor = {best / times['unmasked SDPA (floor)']:.2f} (target <= 1.5); "
                      f"dense / best masked = {times['dense-masked SDPA'] / best:.2f} (target >= 3)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda if available), cuda or cpu")
    parser.add_argument("--config", default="auto", choices=["auto", *CONFIGS])
    parser.add_argument("--variant", default="v2")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    config_name = args.config if args.config != "auto" else ("full" if device.type == "cuda" else "small")
    result = run(CONFIGS[config_name], device, args.variant, args.repeats)
    result["config_name"] = config_name
    print(to_markdown(result))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
