"""Every GPU benchmark of the project in one run (under 8 minutes on one H100/H200), with real-size
random-weight models and synthetic 720x480 49-frame scenes generated on the spot. Writes one JSON file
and one Markdown table (for docs/performance.md) and prints peak GPU memory per section.

Sections (each timed, each allowed to fail without stopping the others; the error is recorded):

* ``environment``: torch, CUDA, GPU, decoders available;
* ``scenes``: synthetic H.264 scenes written in parallel processes (then copied to distinct files, so
  every clip is one file's decode as in a real submission);
* ``consistency_e2e_<decoder>``: end-to-end consistency scoring through the runner's own pipeline
  (:class:`mvbench.compute.ComputePipeline`: decode plan, decode threads ahead of the GPU, pinned memory,
  GPU resize, ViCLIP-L/14 under bf16 autocast, one prompt per scene), in scene clips/s; with PyAV on CPU
  workers, and with torchcodec (CPU) and torchcodec-cuda (NVDEC) when they can run here;
* ``viclip_encoder_only``: ViCLIP-L/14 on preprocessed clips, SDPA (flash) vs explicit attention, and how
  far apart their bf16 outputs are;
* ``i3d``: I3D clips/s in fp32 (the default: FVD features) and bf16, and the bf16 logits' relative error;
* ``videomae``: VideoMAE-v2 ViT-g clips/s under bf16 autocast;
* ``metric:<name>``: the VBench quality dimensions and frame metrics whose scorers are registered at run
  time (the scorer registry is read; a metric whose scorer is absent is skipped with a note): through
  the metric's own benchmark script under ``benchmarks/`` when there is one, else through the runner
  when the scorer needs no weights, else skipped with a note;
* ``probe_10k_files``: checking a submission of 10,000 small files with one probing thread vs the pool
  (CPU work, measured on the GPU machine's cores);
* ``mask2dit_attention`` and ``pmwd_cost``: those scripts through their command line (``--device``,
  ``--json`` when they offer it).

``--dry-run`` runs every section on the CPU at toy size (tiny models, 64x48 scenes; scripts that build
real-size networks are only checked for the flags this script passes them), in about a minute; the test
suite runs it so this script cannot rot.

    bash benchmarks/gpu_all.sh --out results/gpu            # on the GPU machine (see gpu_all.sh)
    python benchmarks/gpu_all.py --dry-run --out /tmp/gpu_all
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import torch
from fvd_throughput import fill_random_  # benchmarks/ is on the path: this file runs as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: metrics of the shared names list (docs and scorers of other issues) a run may find registered
FRAME_METRICS = (
    "subject_consistency", "background_consistency", "motion_smoothness", "dynamic_degree", "aesthetic_quality",
    "imaging_quality", "temporal_flickering", "clip_score", "clipsim", "fid", "fid_per_frame", "inception_score",
    "frame_consistency", "scene_consistency", "aesthetic_score", "character_similarity",
)
#: metric -> benchmark script of its scorer (looked up under benchmarks/; others are searched by name)
METRIC_SCRIPTS = {
    **dict.fromkeys(("subject_consistency", "background_consistency", "aesthetic_quality", "imaging_quality",
                     "temporal_flickering"), "quality_throughput.py"),
    **dict.fromkeys(("motion_smoothness", "dynamic_degree"), "motion_throughput.py"),
    "scene_consistency": "scene_consistency_throughput.py",
}
#: scripts of this suite that are not per-metric benchmarks
OWN_SCRIPTS = {"gpu_all.py", "decode_plan.py", "probe_submission.py", "encode_throughput.py", "fvd_throughput.py",
               "report_pages.py",
               "mask2dit_attention.py", "pmwd_cost.py"}


# ------------------------------------------------------------------------------------ measuring
class PeakMemory:
    """Peak device memory while a block runs: the allocator's peak and the device-wide use (polled)."""

    def __init__(self, device: str):
        self.cuda = device.startswith("cuda") and torch.cuda.is_available()
        self.allocated_mib: float | None = None
        self.device_mib: float | None = None

    def __enter__(self):
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._stop = threading.Event()
            self._peak = 0
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            free, total = torch.cuda.mem_get_info()
            self._peak = max(self._peak, total - free)
            self._stop.wait(0.05)

    def __exit__(self, *exc):
        if self.cuda:
            torch.cuda.synchronize()
            self._stop.set()
            self._thread.join()
            self.allocated_mib = torch.cuda.max_memory_allocated() / 2**20
            self.device_mib = self._peak / 2**20


class Bench:
    """Runs sections within a time budget and collects their results."""

    def __init__(self, args):
        self.args = args
        self.device = args.device
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + args.budget
        self.sections: dict[str, dict] = {}

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def run(self, name: str, fn, *fargs, min_seconds: float = 5.0, **kw) -> Any:
        entry: dict[str, Any] = {"status": "ok"}
        if self.left() < min_seconds:
            entry.update(status="skipped", note=f"out of time budget ({self.args.budget:.0f} s)")
            self.sections[name] = entry
            print(f"[{name}] skipped: out of time budget", flush=True)
            return None
        print(f"[{name}] ...", flush=True)
        t0 = time.perf_counter()
        result = None
        mem = PeakMemory(self.device)
        try:
            with mem:
                result = fn(*fargs, **kw)
            if isinstance(result, dict):
                entry.update(result)
        except Skip as why:
            entry.update(status="skipped", note=str(why))
        except Exception as exc:  # noqa: BLE001 - one section's failure must not stop the others
            entry.update(status="error", error=f"{type(exc).__name__}: {exc}"[:2000],
                         traceback=traceback.format_exc()[-4000:])
        entry["seconds"] = round(time.perf_counter() - t0, 2)
        if mem.allocated_mib is not None and "peak_gpu_mib" not in entry:
            entry["peak_gpu_mib"] = round(mem.device_mib, 1)
            entry["peak_allocated_mib"] = round(mem.allocated_mib, 1)
        self.sections[name] = entry
        peak = entry.get("peak_gpu_mib")
        print(f"[{name}] {entry['status']} in {entry['seconds']:.1f} s"
              + (f", peak GPU memory {peak:.0f} MiB" if peak is not None else "")
              + (f": {entry.get('headline')}" if entry.get("headline") else "")
              + (f" ({entry.get('error') or entry.get('note')})" if entry["status"] != "ok" else ""), flush=True)
        if self.device.startswith("cuda") and torch.cuda.is_available():
            torch.cuda.empty_cache()
        return result


class Skip(Exception):
    """A section that cannot run here (says why)."""


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


# ------------------------------------------------------------------------------------ scenes
def synthetic_scene(args: tuple[int, int, int, int]) -> np.ndarray:
    """A blocky texture panning right over a drifting gradient: compressible like generated video, and
    every frame differs (uint8 ``[n, h, w, 3]``)."""
    n, h, w, seed = args
    rng = np.random.default_rng(seed)
    tile = rng.integers(0, 255, (h // 16 + 1, (w + 4 * n) // 16 + 2, 3), dtype=np.uint8)
    big = np.kron(tile, np.ones((16, 16, 1), dtype=np.uint8))
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    out = np.empty((n, h, w, 3), dtype=np.uint8)
    for t in range(n):
        grad = ((yy + t / n) % 1.0 * 64).astype(np.uint8)
        out[t] = big[:h, 4 * t:4 * t + w] // 2 + grad[..., None]
    return out


def _write_scene(job: tuple[str, int, int, int, int]) -> str:
    from mvbench.video.write import write_video

    path, n, h, w, seed = job
    write_video(path, synthetic_scene((n, h, w, seed)), fps=8)
    return path


def make_scenes(folder: Path, unique: int, total: int, n: int, h: int, w: int) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(str(folder / f"u{k:03d}.mp4"), n, h, w, k) for k in range(unique)]
    procs = max(1, min(unique, os.cpu_count() or 2)) if h * w > 64 * 64 else 1  # toy scenes: no process start-up
    t0 = time.perf_counter()
    if procs > 1:
        with mp.get_context("spawn").Pool(procs) as pool:
            pool.map(_write_scene, jobs)
    else:
        for job in jobs:
            _write_scene(job)
    written = time.perf_counter() - t0
    paths = []
    for i in range(total):
        dst = folder / f"item{i:05d}" / "scene_1.mp4"
        dst.parent.mkdir(exist_ok=True)
        shutil.copyfile(jobs[i % unique][0], dst)
        paths.append(str(dst))
    size = sum(os.path.getsize(p) for p in paths[:unique]) / max(1, unique)
    return {"paths": paths, "unique": unique, "files": total, "frames": n, "size": f"{w}x{h}",
            "mean_file_kib": round(size / 1024, 1), "write_seconds": round(written, 2)}


# ------------------------------------------------------------------------------------ models
def viclip(device: str, dry: bool):
    from mvbench.encoders.viclip import VARIANTS, ViclipEncoder
    from mvbench.encoders.viclip_model import ViclipModel, seeded_init_

    cfg = VARIANTS["tiny" if dry else "viclip-l14"]
    with torch.device("meta"):
        model = ViclipModel(cfg)
    model = seeded_init_(model.to_empty(device=device), seed=0)  # CLIP-like scales: finite, realistic activations
    return ViclipEncoder("viclip-l14-random" if not dry else "tiny-random", model, weights_name=None,
                         weights_sha256=None, calibrated=False)


# ------------------------------------------------------------------------------------ sections
def sec_environment(args) -> dict:
    from mvbench.video.backends import torchcodec_available

    try:
        import av

        av_version = av.__version__
    except ImportError:
        av_version = None
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    tc = {d: torchcodec_available(d) or "available" for d in ("cpu", "cuda")}
    return {"headline": gpu or "CPU", "python": platform.python_version(), "torch": torch.__version__,
            "cuda": torch.version.cuda, "gpu": gpu, "cpu_cores": os.cpu_count(), "pyav": av_version,
            "torchcodec_cpu": tc["cpu"], "torchcodec_cuda": tc["cuda"], "dry_run": args.dry_run}


def sec_scenes(args, folder: Path) -> dict:
    got = make_scenes(folder, args.unique_scenes, args.clips + args.warmup_clips, args.frames, args.height,
                      args.width)
    args.scene_paths = got.pop("paths")
    got["headline"] = f"{got['files']} files ({got['unique']} distinct) of {got['frames']} frames {got['size']}"
    return got


def sec_consistency_e2e(args, decoder: str) -> dict:
    from mvbench.compute import ComputePipeline, ComputeStats, EncoderPool
    from mvbench.scorers import ClipRequest, TextRequest, VideoRef
    from mvbench.video.backends import get_decoder, torchcodec_available

    if decoder != "pyav":
        why = torchcodec_available("cuda" if decoder.endswith("cuda") else "cpu")
        if why is not None:
            raise Skip(why)
    enc = viclip(args.device, args.dry_run)
    pool = EncoderPool(args.device, {enc.name: enc})
    opts = {"device": args.device, "batch_size": args.batch_size, "num_workers": args.workers, "no_cache": True,
            "progress": False, "decoder": decoder}
    paths = args.scene_paths

    def requests(sub):
        out = []
        for k, p in enumerate(sub):
            ref = VideoRef(p, 0, args.frames, 8.0)
            out += [ClipRequest(enc.name, (ref,), "middle"), TextRequest(enc.name, f"scene {k}: a synthetic prompt")]
        return out

    chunk = 3 * args.chunk_items  # the runner's chunks: chunk_items items of 3 scenes
    warm, timed = paths[:args.warmup_clips], paths[args.warmup_clips:]
    pipe = ComputePipeline(opts, encoders=pool, decoder=get_decoder(decoder, args.device))
    for _ in pipe.run([requests(warm)]):
        pass
    sync(args.device)
    stats = ComputeStats()
    pipe = ComputePipeline(opts, encoders=pool, stats=stats, decoder=get_decoder(decoder, args.device))
    chunks = [requests(timed[i:i + chunk]) for i in range(0, len(timed), chunk)]
    t0 = time.perf_counter()
    done = 0
    for got in pipe.run(chunks):
        bad = [v for v in got.values() if isinstance(v, Exception)]
        if bad:
            raise RuntimeError(f"{len(bad)} request(s) failed, e.g. {bad[0]}")
        done += sum(isinstance(r, ClipRequest) for r in got)
    sync(args.device)
    sec = time.perf_counter() - t0
    return {"headline": f"{done / sec:.1f} scene clips/s", "clips_per_s": round(done / sec, 2), "clips": done,
            "seconds_timed": round(sec, 2), "decoder": decoder, "decode_workers": args.workers,
            "batch_size": args.batch_size, "encoder": enc.name, "files_decoded": stats.decode.files_decoded,
            "target": "150 scene clips/s on one H100 (issue 15)"}


def sec_probe(args) -> dict:
    """Checking a submission of many small files: one probing thread vs the default pool (CPU only)."""
    sys.path.insert(0, str(HERE))
    from probe_submission import measure

    from mvbench.submission import probe_workers

    n = 200 if args.dry_run else 10_000
    rows = measure(n, 8, 32, [1, probe_workers()])
    (_, one), (workers, pool) = rows
    return {"headline": f"{n} files: {one:.1f} s with 1 thread, {pool:.1f} s with {workers} ({one / pool:.1f}x)",
            "files": n, "seconds_one_thread": round(one, 2), "seconds_pool": round(pool, 2), "pool_threads": workers}


def _encode_rate(fn, x, device: str, iters: int) -> float:
    with torch.inference_mode():
        fn(x)
        sync(device)
        t0 = time.perf_counter()
        for _ in range(iters):
            out = fn(x)
        sync(device)
    assert torch.isfinite(out.float()).all()
    return x.shape[0] * iters / (time.perf_counter() - t0)


def sec_viclip_encoder(args) -> dict:
    from mvbench.compute import _autocast
    from mvbench.encoders.viclip_model import set_attention

    enc = viclip(args.device, args.dry_run)
    pre = enc.preprocess
    x = torch.randn(args.batch_size, pre.num_frames, 3, pre.size, pre.size, device=args.device)
    out: dict[str, Any] = {}
    ref = None
    for mode in ("sdpa", "math"):
        set_attention(enc.module, mode)
        with _autocast(args.device):
            out[f"{mode}_clips_per_s"] = round(_encode_rate(enc.encode_video, x, args.device, args.iters), 2)
            with torch.inference_mode():
                emb = enc.encode_video(x[:8])
        if ref is None:
            ref = emb
        else:
            out["sdpa_vs_math_max_abs_diff"] = float((emb - ref).abs().max())
            out["sdpa_vs_math_min_cosine"] = float((emb * ref).sum(-1).min())
    set_attention(enc.module, "sdpa")
    out["headline"] = (f"{out['sdpa_clips_per_s']:.1f} clips/s (SDPA) vs {out['math_clips_per_s']:.1f} (explicit), "
                       f"batch {args.batch_size}")
    out["precision"] = "bf16 autocast" if args.device.startswith("cuda") else "fp32"
    return out


def sec_i3d(args) -> dict:
    from mvbench.compute import _autocast
    from mvbench.encoders.i3d import I3DEncoder, InceptionI3d

    module = InceptionI3d()
    fill_random_(module)
    batch = 1 if args.dry_run else 32
    x = torch.rand(batch, 16, 3, 224, 224, device=args.device) * 2 - 1
    if args.dry_run:  # one forward of the full-size network (about 3 s of CPU)
        enc = I3DEncoder(module, None, calibrated=False).to(args.device)
        t0 = time.perf_counter()
        with torch.inference_mode():
            assert torch.isfinite(enc.encode_video(x)).all()
        return {"headline": f"{1 / (time.perf_counter() - t0):.2f} clips/s fp32 (one CPU forward)"}
    out: dict[str, Any] = {}
    feats = {}
    for precision in (("fp32",) if args.dry_run else ("fp32", "bf16")):  # on the CPU both run in fp32
        enc = I3DEncoder(module, None, calibrated=False, precision=precision).to(args.device)
        with _autocast(args.device):
            out[f"{precision}_clips_per_s"] = round(_encode_rate(enc.encode_video, x, args.device,
                                                                 1 if args.dry_run else args.iters), 2)
            with torch.inference_mode():
                feats[precision] = enc.encode_video(x[:4]).float()
    if "bf16" not in feats:
        out["headline"] = f"{out['fp32_clips_per_s']:.2f} clips/s fp32"
        return out
    err = (feats["bf16"] - feats["fp32"]).norm(dim=-1) / feats["fp32"].norm(dim=-1).clamp_min(1e-12)
    out["bf16_relative_error"] = float(err.max())
    out["headline"] = (f"{out['fp32_clips_per_s']:.1f} clips/s fp32 (used), {out['bf16_clips_per_s']:.1f} bf16; "
                       f"bf16 logits rel. error {out['bf16_relative_error']:.1e}")
    return out


def sec_videomae(args) -> dict:
    from mvbench.compute import _autocast
    from mvbench.encoders.videomae import VideoMAEEncoder, VideoMAEv2ViT, ViTConfig, sinusoid_table

    cfg = ViTConfig() if not args.dry_run else ViTConfig(embed_dim=64, depth=2, num_heads=4, mlp_hidden=128)
    with torch.device("meta"):
        module = VideoMAEv2ViT(cfg)
    module = module.to_empty(device="cpu")
    module.pos_embed = sinusoid_table(module.pos_embed.shape[1], cfg.embed_dim)[None]
    fill_random_(module)
    enc = VideoMAEEncoder(module, None, calibrated=False).to(args.device)
    batch = 1 if args.dry_run else 16
    x = torch.rand(batch, 16, 3, 224, 224, device=args.device)
    with _autocast(args.device):
        rate = _encode_rate(enc.encode_video, x, args.device, 1 if args.dry_run else max(2, args.iters // 2))
    return {"headline": f"{rate:.1f} clips/s ({'bf16 autocast' if args.device.startswith('cuda') else 'fp32'}, "
                        f"batch {batch})", "clips_per_s": round(rate, 2), "batch": batch,
            "params_millions": round(sum(p.numel() for p in module.parameters()) / 1e6, 1)}


def _help_flags(script: Path) -> set[str] | None:
    """The flags a script's argparse parser declares (read from its source; ``--help`` if none found)."""
    found = set(re.findall(r"add_argument\(\s*[\"'](--[a-z][a-z0-9-]*)[\"']", script.read_text(errors="ignore")))
    if found:
        return found | {"--help"}
    try:
        proc = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60,
                              env=_env(), cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"{script.name} --help failed: {proc.stderr.strip()[-500:]}")
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", proc.stdout))


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_script(bench: Bench, script: Path, wanted: list[tuple[str, str | None]], positional: list[str],
               cap: float) -> dict:
    """Run a benchmark script with the flags of ``wanted`` it accepts (``(flag, value)``; value None: a
    switch), under a memory-watching wrapper; its JSON output (``--json``) when it has one."""
    flags = _help_flags(script)
    if flags is None:
        raise RuntimeError(f"{script.name} --help did not answer")
    argv = list(positional)
    dropped = []
    for flag, value in wanted:
        if flag in flags:
            argv += [flag] if value is None else [flag, value]
        else:
            dropped.append(flag)
    json_path = None
    if "--json" in flags:
        json_path = Path(tempfile.mkdtemp(prefix="gpu_all_")) / f"{script.stem}.json"
        argv += ["--json", str(json_path)]
    if bench.args.dry_run and script.name not in ("mask2dit_attention.py", "pmwd_cost.py"):
        return {"headline": "flags checked (--help); not run in --dry-run (real-size networks)",
                "argv": argv, "flags_not_offered": dropped}
    timeout = max(10.0, min(cap, bench.left() - 5))
    cmd = [sys.executable, str(Path(__file__)), "--_wrap", str(script), *argv]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env(), cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = (exc.stderr or b"").decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return {"status": "error", "error": f"timed out after {timeout:.0f} s", "stdout_tail": out[-3000:],
                "stderr_tail": err[-3000:], "argv": argv}
    peak = re.findall(r"MVBENCH_PEAK_GPU_MIB=([0-9.]+)", proc.stderr)
    res: dict[str, Any] = {"argv": argv, "returncode": proc.returncode, "stdout_tail": proc.stdout[-4000:]}
    if peak:
        res["peak_gpu_mib"] = float(peak[-1])
    if proc.returncode != 0:
        res.update(status="error", error=f"exit {proc.returncode}: {proc.stderr.strip()[-1500:]}")
        return res
    if json_path is not None and json_path.is_file():
        res["json"] = json.loads(json_path.read_text())
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    res["headline"] = _script_headline(script.name, res.get("json"), lines)
    return res


def _script_headline(name: str, doc: Any, lines: list[str]) -> str:
    if name == "mask2dit_attention.py" and isinstance(doc, dict) and doc.get("rows"):
        ms = {r["method"]: r.get("ms") for r in doc["rows"] if r.get("ms") is not None}
        masked = {k: v for k, v in ms.items() if k in ("grouped", "flex")}
        if masked and "unmasked SDPA (floor)" in ms:
            best = min(masked, key=masked.get)
            return (f"best masked ({best}) {masked[best]:.2f} ms = {masked[best] / ms['unmasked SDPA (floor)']:.2f}x "
                    f"the floor; dense-masked {ms.get('dense-masked SDPA', float('nan')):.2f} ms; S = {doc.get('seq')}")
    if name == "pmwd_cost.py" and isinstance(doc, dict) and doc.get("rows"):
        return f"{len(doc['rows'])} sampler x length rows ({doc.get('model')}, {doc.get('steps')} steps)"
    table = [ln for ln in lines if ln.startswith("|")]
    return (table[-1] if table else (lines[-1] if lines else ""))[:300]


def sec_script(bench: Bench, script: Path, wanted, positional, cap) -> dict:
    res = run_script(bench, script, wanted, positional, cap)
    if res.get("status") == "error":
        raise RuntimeError(res["error"] + ("\n" + res.get("stdout_tail", "")[-1000:] if res.get("stdout_tail") else ""))
    return res


def metric_sections(bench: Bench) -> None:
    """One section per registered frame/quality metric (see the module doc); absent ones are noted."""
    from mvbench.scorers import METRIC_TO_SCORER, scorer_class

    args = bench.args
    by_script: dict[Path, list[str]] = {}
    for metric in FRAME_METRICS:
        if metric not in METRIC_TO_SCORER:
            bench.sections[f"metric:{metric}"] = {"status": "skipped", "note": "scorer not present in this checkout"}
            continue
        script = HERE / METRIC_SCRIPTS[metric] if metric in METRIC_SCRIPTS else None
        if script is None or not script.is_file():
            script = next((p for p in sorted(HERE.glob("*.py")) if p.name not in OWN_SCRIPTS
                           and re.search(rf"\b{metric}\b", p.read_text(errors="ignore"))), None)
        if script is not None and script.is_file():
            by_script.setdefault(script, []).append(metric)
            continue
        scorer = METRIC_TO_SCORER[metric]
        try:
            weights = scorer_class(scorer).required_weights({"metrics": [metric]})
        except Exception as exc:  # noqa: BLE001
            weights = [f"? ({exc})"]
        if weights:
            bench.sections[f"metric:{metric}"] = {
                "status": "skipped", "note": f"no benchmark script under benchmarks/ names it, and its scorer "
                                             f"{scorer!r} needs weights {weights} (no random-weight path)"}
            continue
        bench.run(f"metric:{metric}", sec_metric_runner, args, metric, min_seconds=10)
    for script, metrics in by_script.items():
        wanted = [("--device", args.device), ("--clips", "8" if not args.dry_run else "1"),
                  ("--frames", str(args.frames)), ("--width", str(args.width)), ("--height", str(args.height)),
                  ("--iters", "3" if not args.dry_run else "1"), ("--warmup", "1" if not args.dry_run else "0")]
        positional = metrics if script.name == "quality_throughput.py" else []
        bench.run("metric:" + ",".join(metrics), sec_script, bench, script, wanted, positional, args.script_cap,
                  min_seconds=15)


def sec_metric_runner(args, metric: str) -> dict:
    """A registered metric that needs no weights, through the runner on the synthetic scenes."""
    from mvbench.runner import run_evaluation
    from mvbench.submission import Submission
    from mvbench.suite import parse_suite

    root = Path(args.scene_paths[0]).parent.parent
    n = min(len(args.scene_paths), 64 if not args.dry_run else 4)
    suite = parse_suite({"suite": "gpu-all", "version": "1", "items": [
        {"id": Path(p).parent.name, "scenes": [{"prompt": "a synthetic scene"}]} for p in args.scene_paths[:n]]})
    t0 = time.perf_counter()
    res = run_evaluation(suite, Submission.open(root), [metric],
                         {"device": args.device, "no_cache": True, "progress": False, "limit": n,
                          "num_workers": args.workers})
    sec = time.perf_counter() - t0
    if res["failures"]:
        raise RuntimeError(f"{len(res['failures'])} item(s) failed: {next(iter(res['failures'].values()))}")
    return {"headline": f"{n / sec:.1f} scenes/s through the runner (decode included)", "scenes_per_s": n / sec,
            "metric_value": res["metrics"].get(metric, {}).get("mean")}


# ------------------------------------------------------------------------------------ report
def markdown(doc: dict) -> str:
    env = doc["sections"].get("environment", {})
    lines = [f"GPU benchmark ({'dry run, CPU, toy sizes' if doc['dry_run'] else env.get('gpu') or 'CPU'}; "
             f"torch {env.get('torch')}, CUDA {env.get('cuda')}, {env.get('cpu_cores')} CPU cores; "
             f"{doc['total_seconds']:.0f} s in all; `bash benchmarks/gpu_all.sh`)", "",
             "| section | result | peak GPU MiB | s | status |", "| --- | --- | ---: | ---: | --- |"]
    for name, s in doc["sections"].items():
        result = (s.get("headline") or s.get("note") or s.get("error") or "").replace("|", "/").replace("\n", " ")
        peak = s.get("peak_gpu_mib")
        lines.append(f"| {name} | {result[:220]} | {'' if peak is None else f'{peak:.0f}'} | "
                     f"{s.get('seconds', '')} | {s['status']} |")
    return "\n".join(lines) + "\n"


def wrap(argv: list[str]) -> int:
    """``--_wrap SCRIPT ARGS``: run a benchmark script in this process and report its peak GPU memory."""
    import runpy

    script, rest = argv[0], argv[1:]
    cuda = torch.cuda.is_available() and "cpu" not in rest
    mem = PeakMemory("cuda" if cuda else "cpu")
    sys.argv = [script, *rest]
    code = 0
    try:
        with mem:
            runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        if mem.device_mib is not None:
            print(f"MVBENCH_PEAK_GPU_MIB={mem.device_mib:.1f}", file=sys.stderr, flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--_wrap"]:
        return wrap(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true", help="CPU, toy sizes (about a minute)")
    ap.add_argument("--device", default=None, help="default cuda (cpu with --dry-run)")
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or "gpu_all_results"),
                    help="folder for gpu_all.json and gpu_all.md (default $OUT or ./gpu_all_results)")
    ap.add_argument("--budget", type=float, default=None, help="seconds for everything (default 450; dry run 120)")
    ap.add_argument("--clips", type=int, default=None, help="timed end-to-end clips (default 1024; dry run 6)")
    ap.add_argument("--batch-size", type=int, default=None, help="clips per encoder batch (default 64; dry 4)")
    ap.add_argument("--workers", type=int, default=None, help="decode threads (default: CPU cores)")
    ap.add_argument("--skip", default="", help="comma-separated section names (or prefixes) to leave out")
    args = ap.parse_args(argv)
    dry = args.dry_run
    args.device = args.device or ("cpu" if dry else "cuda")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: use --dry-run for the CPU check", file=sys.stderr)
        return 2
    args.budget = args.budget or (900.0 if dry else 450.0)
    args.clips = args.clips or (4 if dry else 1024)
    args.warmup_clips = 1 if dry else 64
    args.batch_size = args.batch_size or (4 if dry else 64)
    args.workers = args.workers or (2 if dry else (os.cpu_count() or 8))
    args.frames, args.height, args.width = (12, 48, 64) if dry else (49, 480, 720)
    args.unique_scenes = 2 if dry else 48
    args.chunk_items = 32
    args.iters = 2 if dry else 10
    args.script_cap = 400.0 if dry else 80.0  # dry: wall time on a loaded CI machine, mostly imports
    skip = [s for s in args.skip.split(",") if s]
    if dry:
        torch.set_num_threads(min(2, torch.get_num_threads()))

    bench = Bench(args)

    def run(name, fn, *a, **kw):
        if any(name.startswith(s) for s in skip):
            bench.sections[name] = {"status": "skipped", "note": "--skip"}
            return None
        return bench.run(name, fn, *a, **kw)

    with tempfile.TemporaryDirectory(prefix="mvbench_gpu_all_") as tmp:
        run("environment", sec_environment, args, min_seconds=0)
        run("scenes", sec_scenes, args, Path(tmp) / "scenes", min_seconds=0)
        have_scenes = bool(getattr(args, "scene_paths", None))
        # in order of priority: a section that would start with too little budget left is skipped (recorded)
        for decoder in ("pyav", "torchcodec-cuda"):
            if have_scenes:
                run(f"consistency_e2e_{decoder}", sec_consistency_e2e, args, decoder, min_seconds=20)
        run("viclip_encoder_only", sec_viclip_encoder, args, min_seconds=15)
        run("i3d", sec_i3d, args, min_seconds=10)
        run("videomae", sec_videomae, args, min_seconds=15)
        m2d = HERE / "mask2dit_attention.py"
        if m2d.is_file():
            wanted = [("--device", args.device), ("--config", "small" if dry else None), ("--repeats", "1" if dry else "5")]
            run("mask2dit_attention", sec_script, bench, m2d, [w for w in wanted if w[1] is not None], [],
                args.script_cap, min_seconds=15)
        pmwd = HERE / "pmwd_cost.py"
        if pmwd.is_file():
            wanted = ([("--device", "cpu"), ("--steps", "1"), ("--multiples", "1"), ("--no-separate", None)] if dry
                      else [("--model", "wan-1.3b"), ("--device", "cuda"), ("--steps", "2"), ("--max-batch", "8"),
                            ("--multiples", "1,2,4")])
            run("pmwd_cost", sec_script, bench, pmwd, wanted, [], args.script_cap * (1 if dry else 1.5),
                min_seconds=15)
        if have_scenes and not any("metric:".startswith(s) or s.startswith("metric:") for s in skip):
            metric_sections(bench)
        run("probe_10k_files", sec_probe, args, min_seconds=30)
        if have_scenes:
            run("consistency_e2e_torchcodec", sec_consistency_e2e, args, "torchcodec", min_seconds=30)
    total = time.perf_counter() - bench.t0
    doc = {"dry_run": dry, "device": args.device, "total_seconds": round(total, 1), "budget_seconds": args.budget,
           "sections": bench.sections}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_all.json").write_text(json.dumps(doc, indent=2, default=str))
    (args.out / "gpu_all.md").write_text(markdown(doc))
    print(markdown(doc))
    print(f"wrote {args.out / 'gpu_all.json'} and {args.out / 'gpu_all.md'} ({total:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
