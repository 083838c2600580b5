"""Decode plan vs per-request decoding, side by side (decode + preprocess, no encoder).

Two access patterns, each timed both ways on the same files:

* **Confusion Degree**: ``--cd-videos`` 600-frame 720x480 H.264 videos (copies of one rendering), each cut
  into 10 segments; per video 10 segment clips of 8 frames at segment midpoints plus the 8-frame
  whole-video clip (what ``confusion_degree`` asks). Per request, each clip decodes its file from the
  start to its last frame (as mvbench did before the plan); the plan decodes each file once (``--gop``
  sets the key-frame interval: with libx264's default 250 the plan decodes sequentially; with short GOPs
  it seeks).
* **Sparse frames**: 5 frames at segment midpoints of each Confusion Degree video, as a frame request
  (how the character-ID metric samples a shot): the plan seeks when the key frames are close enough
  (``--gop 30``), decoding a fraction of the file.
* **Shared scenes**: ``--scenes`` 49-frame 720x480 scenes, each asked for by consistency (ViCLIP: 8 middle
  frames at 224), FVD (I3D: the first 16 frames at 224, [-1, 1]) and a frame metric (every frame at
  native size, as VBench's quality dimensions ask). Per request: three decodes per file; the plan: one.

Several files keep every worker busy, so wall time measures throughput (a single file would let the
per-request path spread its redundant decodes over idle cores); CPU time (all threads) is reported too,
as it does not depend on what else the machine runs. Each pattern is timed for decoding alone (uint8 frames out) and for decoding + preprocessing (the
antialiased resize to 224 and normalisation, the same work on both paths: the plan resizes each
distinct frame once). Both paths use ``--workers`` decoding threads (files in parallel; PyAV frame
threading inside a file).

    python benchmarks/decode_plan.py                         # CPU numbers for docs/performance.md
    python benchmarks/decode_plan.py --json decode_plan.json --gop 30
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from mvbench.compute import _decode_clip
from mvbench.decode_plan import DecodePlan, DecodeStats, request_taps
from mvbench.encoders.base import ClipPreprocess
from mvbench.scorers import ClipRequest, FrameRequest, VideoRef
from mvbench.video.backends import PyAVDecoder, get_decoder, torchcodec_available
from mvbench.video.decode import decode_frames
from mvbench.video.frames import preprocess_frames
from mvbench.video.write import write_video

VICLIP = ClipPreprocess(8, 224, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
I3D = ClipPreprocess(16, 224, value_range="symmetric", sampling="first")


def synthetic(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """A textured background panning right plus noise (H.264 has real work to do; every frame differs)."""
    rng = np.random.default_rng(seed)
    tile = rng.integers(0, 255, (h // 8, (w + n) // 8 + 1, 3), dtype=np.uint8)
    big = np.kron(tile, np.ones((8, 8, 1), dtype=np.uint8))
    out = np.empty((n, h, w, 3), dtype=np.uint8)
    for t in range(n):
        out[t] = big[:h, t:t + w]
        out[t, :, :, 0] ^= rng.integers(0, 16, (h, w), dtype=np.uint8)
    return out


def cd_requests(path: Path, n: int, segments: int) -> list[ClipRequest]:
    ref = VideoRef(str(path), 0, n, 24.0)
    bounds = [round(k * n / segments) for k in range(segments + 1)]
    reqs = [ClipRequest("viclip", (ref.sub(a, b),), "middle", 8) for a, b in zip(bounds, bounds[1:])]
    return reqs + [ClipRequest("viclip", (ref,), "middle", 8)]


def per_request(reqs, preprocess, workers: int, with_preprocess: bool = True) -> tuple[float, float]:
    """Each request decodes its own frames (the pre-plan path); returns seconds and decodes."""
    enc = {k: SimpleNamespace(preprocess=p) for k, p in preprocess.items()}

    def one(r):
        if isinstance(r, FrameRequest) or not with_preprocess:
            by_file: dict[str, list[int]] = {}
            for path, i in request_taps(r, None if isinstance(r, FrameRequest) else preprocess[r.encoder].num_frames):
                by_file.setdefault(path, []).append(i)
            return [decode_frames(p, idx) for p, idx in by_file.items()]
        return _decode_clip(r, enc[r.encoder])

    t0, c0 = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, reqs))
    return time.perf_counter() - t0, time.process_time() - c0


def planned(reqs, preprocess, workers: int, decoder, with_preprocess: bool = True) -> tuple[float, float, DecodeStats]:
    def group(r):
        return None if isinstance(r, FrameRequest) or not with_preprocess else r.encoder

    def transform(key, frames):
        return preprocess_frames(frames.cpu(), preprocess[key])

    stats = DecodeStats()
    t0, c0 = time.perf_counter(), time.process_time()
    plan = DecodePlan(reqs, clip_frames=lambda r: preprocess[r.encoder].num_frames)
    for _, got in plan.execute(decoder, workers=workers, group=group, transform=transform, stats=stats):
        assert not isinstance(got, Exception), got
        got.assemble()
    return time.perf_counter() - t0, time.process_time() - c0, stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=600, help="frames of the Confusion Degree video")
    ap.add_argument("--segments", type=int, default=10)
    ap.add_argument("--cd-videos", type=int, default=None, help="Confusion Degree videos (default: workers x 2)")
    ap.add_argument("--scenes", type=int, default=8, help="scenes of the shared-scenes pattern")
    ap.add_argument("--scene-frames", type=int, default=49)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=720)
    ap.add_argument("--gop", type=int, default=None, help="H.264 key-frame interval (default libx264's 250)")
    ap.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 2))
    ap.add_argument("--repeats", type=int, default=1, help="timed repetitions (the best is kept)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    args = ap.parse_args(argv)
    h, w = args.height, args.width
    decoders = [("pyav", PyAVDecoder())]
    if torchcodec_available() is None:
        decoders.append(("torchcodec", get_decoder("torchcodec")))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        long = write_video(tmp / "long.mp4", synthetic(args.frames, h, w), fps=24, gop=args.gop)
        longs = []
        for k in range(args.cd_videos or 2 * args.workers):
            longs.append(tmp / f"long_{k}.mp4")
            shutil.copyfile(long, longs[-1])
        scenes = [write_video(tmp / f"scene_{k}.mp4", synthetic(args.scene_frames, h, w, seed=k + 1), fps=24,
                              gop=args.gop) for k in range(args.scenes)]
        print(f"# rendered the videos in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

        patterns = {
            "confusion_degree": ([r for p in longs for r in cd_requests(p, args.frames, args.segments)],
                                 {"viclip": VICLIP}),
        }
        patterns["sparse_frames"] = ([FrameRequest(VideoRef(str(p), 0, args.frames, 24.0), 5) for p in longs], {})
        shared = []
        for p in scenes:
            ref = VideoRef(str(p), 0, args.scene_frames, 24.0)
            shared += [ClipRequest("viclip", (ref,), "middle", 8), ClipRequest("i3d", (ref,), "first", 16),
                       FrameRequest(ref, args.scene_frames, "first")]
        patterns["shared_scenes"] = (shared, {"viclip": VICLIP, "i3d": I3D})

        for name, (reqs, pre) in patterns.items():
            n_files = len({p for r in reqs for p in ([r.video.path] if isinstance(r, FrameRequest)
                                                     else [v.path for v in r.videos])})
            for stage, with_pre in (("decode", False), ("decode+preprocess", True)):
                base, base_cpu = min(per_request(reqs, pre, args.workers, with_pre) for _ in range(args.repeats))
                for dname, dec in decoders:
                    best = None
                    for _ in range(args.repeats):
                        got = planned(reqs, pre, args.workers, dec, with_pre)
                        if best is None or got[0] < best[0]:
                            best = got
                    sec, cpu_s, stats = best
                    rows.append({"pattern": name, "stage": stage, "decoder": dname, "requests": len(reqs),
                                 "files": n_files, "per_request_s": round(base, 3), "per_request_cpu_s": round(base_cpu, 3),
                                 "per_request_decodes": len(reqs), "plan_s": round(sec, 3), "plan_cpu_s": round(cpu_s, 3),
                                 "plan_decodes": stats.files_decoded, "plan_seeking_files": stats.seeks,
                                 "frames_decoded": stats.frames_decoded, "speedup": round(base / sec, 2),
                                 "cpu_speedup": round(base_cpu / cpu_s, 2)})
    cpu = f"{os.cpu_count()} cores, {args.workers} decode workers"
    print(f"# decode + preprocess, {w}x{h} H.264 (gop {args.gop or 250}), {cpu}")
    print("| pattern | stage | decoder | requests | files | per-request: wall s / CPU s (decodes) | "
          "plan: wall s / CPU s (decodes, by seeking) | speed-up wall / CPU |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['pattern']} | {r['stage']} | {r['decoder']} | {r['requests']} | {r['files']} | "
              f"{r['per_request_s']:.2f} / {r['per_request_cpu_s']:.2f} ({r['per_request_decodes']}) | "
              f"{r['plan_s']:.2f} / {r['plan_cpu_s']:.2f} ({r['plan_decodes']}, {r['plan_seeking_files']}) | "
              f"{r['speedup']:.1f}x / {r['cpu_speedup']:.1f}x |")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "machine": cpu, "gop": args.gop or 250}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
