"""``mvbench generate``: turn a suite into a submission folder with a baseline generator (see docs/baselines.md)."""

from __future__ import annotations

import argparse

#: name -> (what it is, the folders it needs); kept here so --help needs no torch import
BASELINE_HELP: dict[str, tuple[str, str]] = {
    "cogvideox-concat": ("each scene generated on its own by the stock CogVideoX pipeline (Mask2DiT Table 1 "
                         "'CogVideoX')", "--model-dir CogVideoX-2b or -5b diffusers folder"),
    "mask2dit": ("all scenes of an item denoised jointly with the Mask2DiT attention mask (Mask2DiT Table 1 / 7 "
                 "'Ours')", "--model-dir the released Mask2DiT folder (qth/Mask2DiT) or a CogVideoX folder "
                        "[--transformer-dir a Mask2DiT transformer/ folder]"),
    "pmwd": ("Parallel Multi-Window Denoising, one long video per item with frame-level prompts (frame-level "
             "captions paper, Table 2)", "--model-dir Wan2.1-T2V diffusers folder"),
    "sliding": ("sequential sliding window on Wan with frame-level prompts (Table 2)",
                "--model-dir Wan2.1-T2V diffusers folder"),
    "fifo": ("FIFO diagonal denoising on Wan with frame-level prompts (Table 2)",
             "--model-dir Wan2.1-T2V diffusers folder"),
    "videostudio": ("script -> entity reference images -> per-scene image-to-video with a camera warp at step T_m "
                    "(VideoStudio; Mask2DiT Table 1 'VideoStudio')",
                    "--model-dir image-to-video pipeline (CogVideoX-5b-I2V) --t2i-dir text-to-image pipeline "
                    "(stable-diffusion-2-1) [--planner chat --planner-dir chat model]"),
}
BASELINE_NAMES = tuple(BASELINE_HELP)

#: CLI destinations passed to ``create_baseline`` when given (None = the baseline's own default)
OPTION_NAMES = ("steps", "guidance", "seed", "frames", "height", "width", "fps", "negative_prompt", "device", "dtype",
                "vae_tiling", "model_name", "transformer_dir", "variant", "attention_backend", "temporal_positions",
                "window", "solver", "shift", "max_batch", "stride", "step_size", "new_frames", "context_sigma",
                "t2i_dir", "planner", "planner_dir", "camera_step", "scene_image", "reference_steps",
                "reference_guidance")


def _epilog() -> str:
    lines = ["baselines and the folders they need:"]
    for name, (what, folders) in BASELINE_HELP.items():
        lines += [f"  {name}", f"      {what}", f"      needs: {folders}"]
    lines += ["", "Defaults follow each baseline's model: CogVideoX 49 frames per scene at 480x720, 8 fps, guidance 6; "
              "Wan 481 frames per item (30 s) at 480x832, 16 fps, guidance 5. Nothing is downloaded."]
    return "\n".join(lines)


def register(sub) -> None:
    p = sub.add_parser("generate", help="generate a submission for a suite with a baseline model",
                       description="Generate ITEM_ID/scene_K.mp4 (or ITEM_ID.mp4 with scene boundaries) + "
                                   "submission.json for every suite item with a baseline on local model folders. "
                                   "Finished items are skipped, so an interrupted run resumes.",
                       epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", required=True, choices=BASELINE_NAMES, help="; ".join(BASELINE_NAMES))
    p.add_argument("--model-dir", required=True, help="the baseline's main model folder (see below)")
    p.add_argument("--suite", required=True, help="bundled suite name or path to a suite JSON")
    p.add_argument("--out", required=True, help="submission folder to write (resumed if it exists)")
    p.add_argument("--limit", type=int, default=None, help="generate only the first N items")
    p.add_argument("--steps", type=int, default=None, help="sampling steps (default 50)")
    p.add_argument("--guidance", type=float, default=None, help="classifier-free guidance scale; 1 = off "
                                                                  "(default: 6 CogVideoX, 5 Wan)")
    p.add_argument("--seed", type=int, default=None, help="base seed; item i uses seed + i (default 0)")
    p.add_argument("--frames", type=int, default=None,
                   help="frames per scene (CogVideoX, 1 + 8k; default 49) or per item (Wan, 1 + 4k; default 481)")
    p.add_argument("--height", type=int, default=None, help="default 480")
    p.add_argument("--width", type=int, default=None, help="default 720 (CogVideoX), 832 (Wan)")
    p.add_argument("--fps", type=float, default=None, help="frame rate written to the files (default 8; Wan 16)")
    p.add_argument("--negative-prompt", default=None, help="negative prompt for guidance (default: empty)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--dtype", default=None, choices=("auto", "bf16", "fp16", "fp32"),
                   help="model dtype (default auto: bf16 on CUDA, fp32 on CPU)")
    p.add_argument("--vae-tiling", dest="vae_tiling", action=argparse.BooleanOptionalAction, default=None,
                   help="spatially tiled VAE decoding (default: on for CogVideoX; off for Wan, which decodes frame by "
                        "frame anyway)")
    p.add_argument("--model-name", default=None, help="model name in submission.json (default: the baseline name)")

    g = p.add_argument_group("cogvideox-concat, mask2dit")
    g.add_argument("--transformer-dir", default=None,
                   help="transformer folder to use instead of MODEL_DIR/transformer (e.g. the released Mask2DiT "
                        "transformer/, a MultiPromptCogVideoXTransformer3DModel folder)")
    g = p.add_argument_group("mask2dit")
    g.add_argument("--variant", default=None, help="attention mask v1..v5 (default: the checkpoint's attn_msk_version, "
                                                   "else v2)")
    g.add_argument("--attention-backend", default=None, choices=("auto", "flex", "grouped", "dense"),
                   help="attention implementation (default auto)")
    g.add_argument("--temporal-positions", default=None, choices=("official", "continuous", "per_scene"),
                   help="frame positions across scenes (default official: the released code's scheme)")
    g = p.add_argument_group("pmwd, sliding, fifo (Wan)")
    g.add_argument("--window", type=int, default=None, help="model window in latent frames (default 21 = 81 frames)")
    g.add_argument("--solver", default=None, choices=("auto", "euler", "unipc"),
                   help="auto = the folder's scheduler (UniPC as released); window fusion averages velocities before "
                        "the solver step, with one solver state for the whole video")
    g.add_argument("--shift", type=float, default=None, help="flow shift (default: the folder's scheduler, 3.0 for "
                                                             "Wan2.1-1.3B)")
    g.add_argument("--max-batch", type=int, default=None, help="cap on rows per transformer forward (memory)")
    g.add_argument("--stride", type=int, default=None, help="pmwd: window stride (default window // 2)")
    g.add_argument("--step-size", type=int, default=None,
                   help="pmwd: Diffusion Forcing step-size (default 0, synchronous); fifo: default 1")
    g.add_argument("--new-frames", type=int, default=None, help="sliding: new latent frames per chunk "
                                                                "(default window // 2)")
    g.add_argument("--context-sigma", type=float, default=None, help="sliding: re-noise level of the context "
                                                                     "(default 0.02)")
    g = p.add_argument_group("videostudio")
    g.add_argument("--t2i-dir", default=None, help="text-to-image diffusers pipeline for the entity references")
    g.add_argument("--planner", default=None, choices=("suite", "chat"),
                   help="suite: the suite's fields are the script (default); chat: a chat model writes it")
    g.add_argument("--planner-dir", default=None, help="local transformers chat model for --planner chat")
    g.add_argument("--camera-step", type=int, default=None, help="T_m: camera warp after this many steps (default 5)")
    g.add_argument("--scene-image", default=None, choices=("entity", "prompt"),
                   help="condition each scene on its entity reference (default) or on a picture of its prompt")
    g.add_argument("--reference-steps", type=int, default=None, help="text-to-image steps (default 50)")
    g.add_argument("--reference-guidance", type=float, default=None, help="text-to-image guidance (default 7.5)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from baselines import create_baseline, generate_submission
    from mvbench.suite import load_suite

    suite = load_suite(args.suite)
    options = {name: getattr(args, name) for name in OPTION_NAMES}
    options = {k: v for k, v in options.items() if v is not None}
    baseline = create_baseline(args.baseline, args.model_dir, **options)
    summary = generate_submission(baseline, suite, args.out, limit=args.limit, progress=args.progress)
    print(f"{baseline.name}: generated {len(summary.generated)} item(s), skipped {len(summary.skipped)} already "
          f"complete, in {summary.out_dir}")
    shortest = baseline.shortest_scene_frames(max(len(item.scenes) for item in suite.items))
    print(f"next: mvbench validate --suite {args.suite} --videos {summary.out_dir} --min-frames {shortest}")
    return 0
