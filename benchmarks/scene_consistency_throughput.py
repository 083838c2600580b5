"""Cost of Scene Consistency per detection, and CUDA-vs-CPU agreement of the detector.

Builds Grounding-DINO at the size of ``grounding-dino-tiny`` (transformers' default
``GroundingDinoConfig``: Swin-T backbone, BERT-base text tower, 900 queries) with random weights and a
WordPiece vocabulary written here (timing does not depend on the values, so nothing is downloaded),
then times :meth:`GroundingDino.detect` on frames of ``--size`` (one phrase, ``--frames`` frames per call,
as the scorer calls it) and reports how far the device's token scores are from the CPU's.

    python benchmarks/scene_consistency_throughput.py                    # CUDA if available, else CPU
    python benchmarks/scene_consistency_throughput.py --device cpu --iters 1
"""

from __future__ import annotations

import argparse
import time

import torch

from mvbench.encoders.grounding_dino import GroundingDino


def build() -> GroundingDino:
    from transformers import (
        BertTokenizer,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoProcessor,
    )
    from transformers.models.grounding_dino import GroundingDinoImageProcessor

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "a", "red", "dog", "woman", "umbrella"]
    vocab = {w: i for i, w in enumerate(words + [f"w{i}" for i in range(30522 - len(words))])}
    tokenizer = BertTokenizer(vocab=vocab)
    processor = GroundingDinoProcessor(image_processor=GroundingDinoImageProcessor(), tokenizer=tokenizer)
    torch.manual_seed(0)
    model = GroundingDinoForObjectDetection(GroundingDinoConfig()).eval()
    return GroundingDino("random-grounding-dino-tiny-size", model, processor, None, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--frames", type=int, default=1, help="frames per detect call (default 1: the centre frame)")
    ap.add_argument("--size", default="480x720", help="frame HxW (default CogVideoX's 480x720)")
    ap.add_argument("--iters", type=int, default=5)
    args = ap.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    det = build()
    frames = torch.randint(0, 256, (args.frames, h, w, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    ref_probs, ref_boxes, _ = det.detect(frames, "a red umbrella")  # CPU reference
    det.to(args.device)
    probs, boxes, positions = det.detect(frames, "a red umbrella")  # warm-up
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(args.iters):
        det.detect(frames, "a red umbrella")
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    per_call = (time.perf_counter() - t) / args.iters
    print(f"device {args.device}: {per_call * 1000:.1f} ms per detect call ({args.frames} frame(s) of {h}x{w}), "
          f"{args.frames / per_call:.1f} frames/s; entity tokens {positions}")
    print(f"max |score - cpu score| {float((probs - ref_probs).abs().max()):.2e}, "
          f"max |box - cpu box| {float((boxes - ref_boxes).abs().max()):.2e}")


if __name__ == "__main__":
    main()
