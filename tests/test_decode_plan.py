"""The decode plan: each file decoded once per run for every request that needs it, frames identical to
per-request decoding, exact seeking, bounded concurrency, failures confined to the requests of a file."""

from __future__ import annotations

import sys
import threading
import types

import numpy as np
import pytest
import torch

from mvbench.compute import _decode_clip, compute_requests
from mvbench.decode_plan import DecodePlan, request_taps
from mvbench.errors import VideoDecodeError
from mvbench.scorers import ClipRequest, FrameRequest, ItemScore, MetricInfo, Scorer, VideoRef
from mvbench.video.backends import FrameIndex, PyAVDecoder, seek_runs
from mvbench.video.decode import decode_frames
from mvbench.video.write import write_video


def _moving(n, h=48, w=64, seed=0):
    """Frames that all differ: a random texture shifted by one column per frame, plus the index in red."""
    base = np.random.default_rng(seed).integers(0, 255, (h, w + n, 3), dtype=np.uint8)
    out = np.stack([base[:, t:t + w] for t in range(n)])
    out[:, :4, :4, 0] = np.arange(n, dtype=np.uint8)[:, None, None]
    return out


@pytest.fixture(scope="module")
def long_gop10(tmp_path_factory):
    """200-frame H.264 with a key frame every 10 frames and B-frames (libx264 veryfast)."""
    return write_video(tmp_path_factory.mktemp("v") / "gop10.mp4", _moving(200), fps=25, gop=10)


def test_seeking_gives_the_frames_of_a_sequential_decode(long_gop10):
    wanted = [5, 37, 38, 120, 121, 199]
    seq = PyAVDecoder(seek=False).decode(long_gop10, wanted)
    seek = PyAVDecoder().decode(long_gop10, wanted)
    assert seq.strategy == "sequential" and seq.frames_decoded == 200
    assert seek.strategy == "seek" and seek.frames_decoded < 100
    assert torch.equal(seq.frames, seek.frames)
    # and both are the frames a plain decode of every frame yields at those positions
    every = decode_frames(long_gop10, list(range(200)))
    assert torch.equal(every[wanted], seq.frames)


def test_lossless_all_keyframe_file_seeks_exactly(tmp_path):
    frames = _moving(120, 32, 32, seed=3)
    path = write_video(tmp_path / "v.mkv", frames)  # FFV1: every frame is a key frame, decoding is lossless
    got = PyAVDecoder().decode(path, [3, 64, 119])
    assert got.strategy == "seek"
    assert np.array_equal(got.frames.numpy(), frames[[3, 64, 119]])


def test_dense_or_short_access_decodes_sequentially(long_gop10):
    assert PyAVDecoder().decode(long_gop10, list(range(0, 200, 2))).strategy == "sequential"  # dense
    assert PyAVDecoder().decode(long_gop10, [3, 40]).strategy == "sequential"  # span below SEEK_MIN_SPAN


def test_seek_cost_model_hand_worked():
    idx = FrameIndex(list(range(600)), list(range(0, 600, 250)))  # libx264's default key-frame interval
    runs, cost = seek_runs([30, 290, 590], idx)
    # 30: seek to 0 (31 + 8); 290: key 250 > 30, continuing costs 260 > 41 + 8 -> seek to 250 (49);
    # 590: key 500, continuing costs 300 > 91 + 8 -> seek (99)
    assert runs == [(0, [30]), (250, [290]), (500, [590])]
    assert cost == 39 + 49 + 99


def test_truncated_file_is_a_named_decode_error(tmp_path):
    path = write_video(tmp_path / "t.mp4", _moving(30), gop=5)
    with pytest.raises(VideoDecodeError, match="t.mp4") as err:
        PyAVDecoder().decode(path, [40])
    assert err.value.kind == "truncated"


def _tiny_preprocess(tiny_encoder):
    from mvbench.video.frames import preprocess_frames

    return {"group": lambda req: None if isinstance(req, FrameRequest) else "tiny",
            "transform": lambda key, frames: preprocess_frames(frames, tiny_encoder.preprocess)}


def test_plan_gives_each_request_the_frames_of_per_request_decoding(tmp_path, tiny_encoder):
    a = write_video(tmp_path / "a.mp4", _moving(40, seed=1))
    b = write_video(tmp_path / "b.mp4", _moving(30, 48, 80, seed=2))  # another size
    ra, rb = VideoRef(str(a), 0, 40, 8.0), VideoRef(str(b), 5, 30, 8.0)
    reqs = [ClipRequest("tiny", (ra,)), ClipRequest("tiny", (ra, rb), "middle", 8),
            ClipRequest("tiny", (rb,), "first", 8, 2), ClipRequest("tiny", (ra.sub(10, 20),), "uniform", 3),
            FrameRequest(ra, 40, "first"), FrameRequest(rb, 5, "middle")]
    plan = DecodePlan(reqs, clip_frames=lambda r: tiny_encoder.preprocess.num_frames)
    assert set(plan.files) == {str(a), str(b)}
    got = {r: ready.assemble() for r, ready in plan.execute(PyAVDecoder(), workers=2,
                                                            **_tiny_preprocess(tiny_encoder))}
    for r in reqs[:4]:
        assert torch.equal(got[r], _decode_clip(r, tiny_encoder)), r
    assert torch.equal(got[reqs[4]], decode_frames(a, list(range(40))))
    assert torch.equal(got[reqs[5]], decode_frames(b, [5 + i for i in (2, 7, 12, 17, 22)]))


def test_requests_come_out_in_order_and_a_bad_file_fails_only_its_requests(tmp_path):
    good = write_video(tmp_path / "good.mp4", _moving(12))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 50)
    rg, rb = VideoRef(str(good), 0, 12, 8.0), VideoRef(str(bad), 0, 12, 8.0)
    reqs = [FrameRequest(rg, 2), FrameRequest(rb, 2), ClipRequest("x", (rg, rb), "middle", 4),
            FrameRequest(rg, 3, "first"), FrameRequest(rg, 20, "first")]  # the last cannot be sampled
    out = list(DecodePlan(reqs).execute(PyAVDecoder(), workers=2))
    assert [r for r, _ in out] == [reqs[4], reqs[0], reqs[1], reqs[2], reqs[3]]
    res = dict(out)
    assert isinstance(res[reqs[1]], VideoDecodeError) and "bad.mp4" in str(res[reqs[1]])
    assert isinstance(res[reqs[2]], VideoDecodeError)  # spans the bad file
    assert isinstance(res[reqs[4]], VideoDecodeError) and "needs 20 frames" in str(res[reqs[4]])
    assert res[reqs[0]].assemble().shape == (2, 48, 64, 3)
    assert torch.equal(res[reqs[3]].assemble(), decode_frames(good, [0, 1, 2]))


class _Concurrency(PyAVDecoder):
    def __init__(self):
        super().__init__()
        self.lock, self.now, self.peak, self.calls = threading.Lock(), 0, 0, []

    def decode(self, path, indices):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.calls.append(str(path))
        try:
            return super().decode(path, indices)
        finally:
            with self.lock:
                self.now -= 1


def test_files_in_flight_are_bounded_and_each_decoded_once(tmp_path):
    paths = [write_video(tmp_path / f"v{k}.mp4", _moving(10, 32, 32, seed=k)) for k in range(8)]
    refs = [VideoRef(str(p), 0, 10, 8.0) for p in paths]
    reqs = [FrameRequest(r, 2) for r in refs] + [FrameRequest(r, 10, "first") for r in refs]
    dec = _Concurrency()
    out = list(DecodePlan(reqs).execute(dec, workers=4, inflight=2))
    assert len(out) == 16 and dec.peak <= 2
    assert sorted(dec.calls) == sorted(map(str, paths))  # one decode per file for both requests


def test_taps_of_a_clip_over_two_scenes():
    a, b = VideoRef("a.mp4", 0, 10, 8.0), VideoRef("a.mp4", 10, 20, 8.0)  # two scenes of one file
    assert request_taps(ClipRequest("e", (a, b), "middle", 4)) == [("a.mp4", 2), ("a.mp4", 7), ("a.mp4", 12),
                                                                   ("a.mp4", 17)]
    assert DecodePlan([ClipRequest("e", (a, b), "middle", 4)]).files == {"a.mp4": [2, 7, 12, 17]}


# ------------------------------------------------------------- one decode per file in a whole run
class FrameMeanScorer(Scorer):
    """A stand-in for the frame metrics (VBench quality, CLIP score ...): every frame of every scene."""

    name = "frame_mean_test"
    metrics = (MetricInfo("frame_mean_test", True, "mean pixel value of all frames"),)

    def requests(self, videos):
        return [FrameRequest(ref, ref.num_frames, "first") for ref in videos.scenes]

    def score(self, videos, results):
        frames = [results[r] for r in self.requests(videos)]
        return ItemScore({"frame_mean_test": round(float(torch.cat(frames).float().mean()), 6)})


@pytest.fixture
def frame_metric(monkeypatch):
    from mvbench import scorers

    module = types.ModuleType("mvbench_test_frame_scorer")
    module.FrameMeanScorer = FrameMeanScorer
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(scorers.SCORERS, "frame_mean_test", f"{module.__name__}:FrameMeanScorer")
    monkeypatch.setitem(scorers.METRIC_TO_SCORER, "frame_mean_test", "frame_mean_test")
    return "frame_mean_test"


def test_consistency_fvd_and_a_frame_metric_decode_each_file_once(demo_videos, demo_suite, tiny_encoder, tmp_path,
                                                                  monkeypatch, frame_metric):
    from mvbench.fvd_reference import compute_reference, save_reference
    from mvbench.runner import run_evaluation
    from mvbench.submission import Submission

    ref = tmp_path / "ref.npz"
    save_reference(ref, compute_reference(demo_videos, "tiny", options={"device": "cpu", "no_cache": True,
                                                                          "progress": False}, log=lambda *_: None))
    calls: dict[str, int] = {}
    lock = threading.Lock()
    original = PyAVDecoder.decode

    def counting(self, path, indices):
        with lock:
            calls[str(path)] = calls.get(str(path), 0) + 1
        return original(self, path, indices)

    monkeypatch.setattr(PyAVDecoder, "decode", counting)
    opts = {"encoder": "tiny", "no_cache": True, "progress": False, "fvd_extractor": "tiny",
            "fvd_reference": str(ref), "chunk_items": 2}
    metrics = ["visual_consistency", "semantic_consistency", "fvd", frame_metric]
    res = run_evaluation(demo_suite, Submission.open(demo_videos), metrics, opts, encoders={"tiny": tiny_encoder})
    files = sorted(str(p) for p in demo_videos.rglob("*.mp4"))
    assert len(files) == 12 and res["failures"] == {}
    assert calls == {f: 1 for f in files}  # one decode per file for the ViCLIP, FVD and frame requests
    assert res["runtime"]["files_decoded"] == 12
    assert res["metrics"]["fvd"]["n"] == 12 and res["metrics"][frame_metric]["n"] == 4
    # the frame metric's number is the one a direct decode gives
    item = demo_suite.items[0]
    direct = torch.cat([decode_frames(p, list(range(12))) for p in sorted((demo_videos / item.id).glob("*.mp4"))])
    assert res["items"][item.id]["scores"][frame_metric] == round(float(direct.float().mean()), 6)


def test_compute_requests_serves_every_request_type(tmp_path, tiny_encoder):
    from mvbench.compute import EncoderPool

    path = write_video(tmp_path / "a.mp4", _moving(16))
    ref = VideoRef(str(path), 0, 16, 8.0)
    from mvbench.scorers import TextRequest

    reqs = [ClipRequest("tiny", (ref,)), FrameRequest(ref, 3), TextRequest("tiny", "a prompt")]
    got = compute_requests(reqs, {"device": "cpu", "no_cache": True},
                           encoders=EncoderPool("cpu", {"tiny": tiny_encoder}))
    assert got[reqs[0]].shape == (32,) and got[reqs[0]].dtype == np.float32
    assert got[reqs[1]].dtype == torch.uint8 and got[reqs[1]].shape == (3, 48, 64, 3)
    assert got[reqs[2]].shape == (32,)
