"""Time to check (probe) a submission of many small files: one at a time (as mvbench did before) vs the
thread pool of :meth:`mvbench.submission.Submission.resolve`.

Writes one small H.264 scene (``--frames`` frames of ``--size`` px) and copies it to ``--files`` paths
(``ITEM/scene_1.mp4``, one scene per item) in a temporary folder, builds a matching suite, then resolves
the submission with 1 probing thread and with the default pool (and ``--workers`` if given). Probing
reads each container's header and demuxes its packets (no decoding), so the cost is per file, not per
pixel.

    python benchmarks/probe_submission.py                    # 10,000 files
    python benchmarks/probe_submission.py --files 2000 --workers 8 32
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mvbench.submission import Submission, probe_workers
from mvbench.suite import parse_suite
from mvbench.video.write import write_video


def make_submission(root: Path, n: int, frames: int, size: int) -> Path:
    rng = np.random.default_rng(0)
    src = write_video(root / "src.mp4", rng.integers(0, 255, (frames, size, size, 3), dtype=np.uint8), fps=8)
    sub = root / "videos"
    for i in range(n):
        d = sub / f"item{i:05d}"
        d.mkdir(parents=True)
        shutil.copyfile(src, d / "scene_1.mp4")
    return sub


def measure(files: int, frames: int, size: int, workers: list[int]) -> list[tuple[int, float]]:
    """Seconds to resolve a ``files``-file submission with each number of probing threads."""
    suite = parse_suite({"suite": "probe-bench", "version": "1",
                         "items": [{"id": f"item{i:05d}", "scenes": [{"prompt": "p"}]} for i in range(files)]})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        root = make_submission(Path(tmp), files, frames, size)
        print(f"# wrote {files} files in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        sub = Submission.open(root)
        for n in workers:
            t0 = time.perf_counter()
            res = sub.resolve(suite, workers=n)
            sec = time.perf_counter() - t0
            assert len(res.items) == files, res.problems[:3]
            rows.append((n, sec))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--workers", type=int, nargs="*", default=[], help="extra pool sizes to time")
    args = ap.parse_args(argv)
    rows = measure(args.files, args.frames, args.size, [1, probe_workers(), *args.workers])
    print(f"# {args.files} files ({args.frames} frames {args.size}x{args.size} H.264), {os.cpu_count()} cores")
    print("| probing threads | seconds | ms per file | speed-up |")
    print("|---:|---:|---:|---:|")
    for workers, sec in rows:
        label = f"{workers} (before: one at a time)" if workers == 1 else str(workers)
        print(f"| {label} | {sec:.1f} | {1000 * sec / args.files:.2f} | {rows[0][1] / sec:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
