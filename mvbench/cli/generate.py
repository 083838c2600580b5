"""``mvbench generate``: turn a suite into a submission folder with a baseline generator (see docs/baselines.md)."""

from __future__ import annotations

import argparse

BASELINE_NAMES = ("cogvideox-concat", "mask2dit")  # kept here so --help needs no torch import


def register(sub) -> None:
    p = sub.add_parser("generate", help="generate a submission for a suite with a baseline model",
                       description="Generate ITEM_ID/scene_K.mp4 + submission.json for every suite item with a "
                                   "baseline on a local CogVideoX diffusers folder. Finished items are skipped, so "
                                   "an interrupted run resumes.")
    p.add_argument("--baseline", required=True, choices=BASELINE_NAMES,
                   help="cogvideox-concat: scenes generated independently (Mask2DiT Table 1 'CogVideoX'); "
                        "mask2dit: scenes generated jointly with the Mask2DiT attention mask")
    p.add_argument("--model-dir", required=True, help="local CogVideoX diffusers folder (e.g. CogVideoX-2b)")
    p.add_argument("--suite", required=True, help="bundled suite name or path to a suite JSON")
    p.add_argument("--out", required=True, help="submission folder to write (resumed if it exists)")
    p.add_argument("--limit", type=int, default=None, help="generate only the first N items")
    p.add_argument("--steps", type=int, default=50, help="sampling steps (default: %(default)s)")
    p.add_argument("--guidance", type=float, default=6.0, help="classifier-free guidance scale; 1 = off "
                                                                 "(default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="base seed; item i uses seed + i (default: %(default)s)")
    p.add_argument("--frames", type=int, default=49, help="frames per scene, 1 + 4k (default: %(default)s)")
    p.add_argument("--height", type=int, default=480, help="default: %(default)s")
    p.add_argument("--width", type=int, default=720, help="default: %(default)s")
    p.add_argument("--fps", type=float, default=8.0, help="frame rate written to the files (default: %(default)s)")
    p.add_argument("--negative-prompt", default="", help="negative prompt for guidance (default: empty)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--dtype", default="auto", choices=("auto", "bf16", "fp16", "fp32"),
                   help="model dtype (default: bf16 on CUDA, fp32 on CPU)")
    p.add_argument("--no-vae-tiling", dest="vae_tiling", action="store_false",
                   help="decode whole frames at once (more memory)")
    p.add_argument("--transformer-dir", default=None,
                   help="transformer-only diffusers folder to use instead of MODEL_DIR/transformer "
                        "(e.g. your fine-tuned Mask2DiT weights)")
    p.add_argument("--model-name", default=None, help="model name in submission.json (default: the baseline name)")
    p.add_argument("--variant", default=None, help="mask2dit: attention mask variant v1..v5 (default v2)")
    p.add_argument("--attention-backend", default=None, choices=("auto", "flex", "grouped", "dense"),
                   help="mask2dit: attention implementation (default auto)")
    p.add_argument("--temporal-positions", default=None, choices=("continuous", "per_scene"),
                   help="mask2dit: frame positions across scenes (default continuous)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from baselines import create_baseline, generate_submission
    from mvbench.suite import load_suite

    suite = load_suite(args.suite)
    options = {name: getattr(args, name) for name in (
        "steps", "guidance", "seed", "frames", "height", "width", "fps", "negative_prompt", "device", "dtype",
        "vae_tiling", "transformer_dir", "model_name", "variant", "attention_backend", "temporal_positions")}
    options = {k: v for k, v in options.items() if v is not None}
    baseline = create_baseline(args.baseline, args.model_dir, **options)
    summary = generate_submission(baseline, suite, args.out, limit=args.limit, progress=args.progress)
    print(f"{baseline.name}: generated {len(summary.generated)} item(s), skipped {len(summary.skipped)} already "
          f"complete, in {summary.out_dir}")
    print(f"next: mvbench validate --suite {args.suite} --videos {summary.out_dir} --min-frames {args.frames}")
    return 0
