"""Decoding backends: torchcodec (CPU) gives PyAV's frames on the project's test videos; the backend is an
option recorded in the results; an unusable backend is one clear error.

torchcodec needs FFmpeg shared libraries. Where none are installed system-wide but PyAV's wheel bundles
an FFmpeg major version torchcodec supports, the comparison runs in a subprocess whose library path
holds links to PyAV's bundled libraries (PyAV's FFmpeg is then the one both backends use)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mvbench.errors import MissingExtraError
from mvbench.video.backends import PyAVDecoder, get_decoder, torchcodec_available
from mvbench.video.write import write_video

_INNER = "MVBENCH_TORCHCODEC_INNER"
#: libavutil major version -> FFmpeg major version
_AVUTIL_TO_FFMPEG = {56: 4, 57: 5, 58: 6, 59: 7, 60: 8, 61: 9}


def _pyav_ffmpeg_links(tmp: Path) -> Path | None:
    """A folder of ``libavX.so.N`` links to PyAV's bundled FFmpeg, if torchcodec supports that version."""
    try:
        import av
        import torchcodec
    except ImportError:
        return None
    libs = Path(av.__file__).parent.parent / "av.libs"
    avutil = sorted(libs.glob("libavutil-*.so.*"))
    if not avutil:
        return None
    major = int(re.search(r"\.so\.(\d+)", avutil[0].name).group(1))
    ffmpeg = _AVUTIL_TO_FFMPEG.get(major)
    if ffmpeg is None or not (Path(torchcodec.__file__).parent / f"libtorchcodec_core{ffmpeg}.so").exists():
        return None
    tmp.mkdir(parents=True, exist_ok=True)
    for lib in libs.glob("lib*.so.*"):
        m = re.match(r"(lib(?:av|sw)\w+)-[0-9a-f]+\.so\.(\d+)", lib.name)
        if m:
            link = tmp / f"{m.group(1)}.so.{m.group(2)}"
            if not link.exists():
                link.symlink_to(lib)
    return tmp


def _run_inner(test: str, tmp_path: Path) -> None:
    """Run ``test`` of this file in a subprocess that can load torchcodec with PyAV's FFmpeg, or skip."""
    links = _pyav_ffmpeg_links(tmp_path / "ffmpeg")
    if links is None:
        pytest.skip("torchcodec (optional extra) is not installed or finds no FFmpeg it supports")
    import av

    libs = Path(av.__file__).parent.parent / "av.libs"
    env = {**os.environ, _INNER: "1", "OMP_NUM_THREADS": "1",
           "LD_LIBRARY_PATH": os.pathsep.join([str(links), str(libs), os.environ.get("LD_LIBRARY_PATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::{test}"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout


def _videos(folder: Path) -> list[tuple[Path, int]]:
    """The kinds of file the project writes and reads: H.264 (demo, B-frames, short GOP), FFV1."""
    from mvbench.demo import render_submission
    from mvbench.suite import load_suite

    demo = render_submission(load_suite("mvbench-demo"), folder / "demo", n_frames=12, size=48, container=".mp4")
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (90, 48, 64, 3), dtype=np.uint8)
    out = [(p, 12) for p in sorted(demo.rglob("*.mp4"))[:3]]
    out.append((write_video(folder / "gop8.mp4", frames, fps=24, gop=8), 90))
    out.append((write_video(folder / "lossless.mkv", frames[:40]), 40))
    return out


def test_torchcodec_cpu_gives_pyavs_frames(tmp_path):
    if torchcodec_available("cpu") is not None:
        if os.environ.get(_INNER):
            pytest.fail(f"torchcodec still unusable in the subprocess: {torchcodec_available('cpu')}")
        return _run_inner("test_torchcodec_cpu_gives_pyavs_frames", tmp_path)
    tc, pyav = get_decoder("torchcodec"), PyAVDecoder()
    for path, n in _videos(tmp_path):
        for idx in (list(range(n)), [0, n // 2, n - 1], list(range(1, n, 7))):
            a, b = pyav.decode(path, idx).frames, tc.decode(path, idx).frames
            assert a.shape == b.shape and a.dtype == b.dtype == torch.uint8
            assert torch.equal(a, b), f"{path.name} {idx}: max |diff| {(a.int() - b.int()).abs().max()}"


def test_evaluate_with_torchcodec_records_the_decoder_and_gives_the_same_numbers(tmp_path, tiny_encoder):
    if torchcodec_available("cpu") is not None:
        if os.environ.get(_INNER):
            pytest.fail(f"torchcodec still unusable in the subprocess: {torchcodec_available('cpu')}")
        return _run_inner("test_evaluate_with_torchcodec_records_the_decoder_and_gives_the_same_numbers", tmp_path)
    from mvbench.demo import render_submission
    from mvbench.runner import run_evaluation
    from mvbench.submission import Submission
    from mvbench.suite import load_suite

    suite = load_suite("mvbench-demo")
    videos = render_submission(suite, tmp_path / "v", n_frames=12, size=48, container=".mp4")
    opts = {"encoder": "tiny", "progress": False, "cache_dir": str(tmp_path / "cache")}
    runs = {d: run_evaluation(suite, Submission.open(videos), None, {**opts, "decoder": d},
                              encoders={"tiny": tiny_encoder}) for d in ("pyav", "torchcodec")}
    assert runs["torchcodec"]["config"]["options"]["decoder"] == "torchcodec"
    assert runs["pyav"]["config"]["options"]["decoder"] == "pyav"
    assert runs["torchcodec"]["runtime"]["clips_from_cache"] == 0  # the backend is part of the cache key
    assert runs["pyav"]["metrics"] == runs["torchcodec"]["metrics"]
    assert runs["pyav"]["items"] == runs["torchcodec"]["items"]


def test_unusable_backend_is_one_clear_error(monkeypatch):
    import mvbench.video.backends as backends

    monkeypatch.setattr(backends, "torchcodec_available", lambda device="cpu": "torchcodec is not installed (x)")
    with pytest.raises(MissingExtraError, match="decoder 'torchcodec' is not usable: torchcodec is not installed") \
            as err:
        get_decoder("torchcodec")
    assert "pip install torchcodec" in err.value.hint
    with pytest.raises(MissingExtraError, match="torchcodec-cuda"):
        get_decoder("torchcodec-cuda")
    with pytest.raises(ValueError, match="unknown decoder"):
        get_decoder("opencv")


def test_decoder_option_is_checked_and_recorded():
    from mvbench.errors import ConfigError
    from mvbench.options import recorded_options, resolve_options

    assert resolve_options({})["decoder"] == "pyav"
    assert recorded_options(resolve_options({"decoder": "torchcodec"}))["decoder"] == "torchcodec"
    with pytest.raises(ConfigError, match="decoder"):
        resolve_options({"decoder": "ffmpeg-cli"})
