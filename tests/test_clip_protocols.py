"""Clip protocols of the consistency metrics (issue 18, point 8): frame indices, resize settings and score scale
of mvbench's default, InternVid's evaluation code, InternVid's demo and VBench's overall_consistency, each
checked against hand-worked values or the library the original calls (torchvision, OpenCV)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import CenterCrop, InterpolationMode, Resize

from mvbench.config import Option
from mvbench.encoders.base import ClipPreprocess
from mvbench.errors import ConfigError
from mvbench.video.protocols import (
    CLIP_MEAN,
    CLIP_PROTOCOLS,
    CLIP_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    FramePreprocess,
    prepare_clip_frames,
    resize_frames,
    resolve_clip_protocol,
)
from mvbench.video.sampling import sample_indices

ENC = ClipPreprocess(num_frames=8, size=4, mean=IMAGENET_MEAN, std=IMAGENET_STD)


# ---------------------------------------------------------------------------------------------- frame indices


def test_frame_indices_49_frames_hand_worked():
    # mvbench: floor((i + 1/2) * 49 / 8) = floor(3.06, 9.19, 15.31, 21.44, 27.56, 33.69, 39.81, 45.94)
    assert sample_indices(49, 8, "middle") == [3, 9, 15, 21, 27, 33, 39, 45]
    # InternVid eval / VBench: bounds int(linspace(0, 49, 9)) = 0 6 12 18 24 30 36 42 49, segments [a, b-1],
    # frames (a + b - 1) // 2: (0+5)//2=2, (6+11)//2=8, ..., (36+41)//2=38, (42+48)//2=45
    assert sample_indices(49, 8, "interval-middle") == [2, 8, 14, 20, 26, 32, 38, 45]
    # InternVid demo: step 49 // 8 = 6 from frame 0, first 8
    assert sample_indices(49, 8, "step") == [0, 6, 12, 18, 24, 30, 36, 42]
    assert CLIP_PROTOCOLS["internvid-eval"].sampling == "interval-middle"
    assert CLIP_PROTOCOLS["vbench"].sampling == "interval-middle"
    assert CLIP_PROTOCOLS["internvid-demo"].sampling == "step"
    assert CLIP_PROTOCOLS["mvbench"].sampling == "middle"


def test_interval_middle_edges_follow_the_original():
    # 16 frames: bounds 0 2 4 ... 16, segments [0,1], [2,3] ... -> lower middles 0, 2, 4, ...
    assert sample_indices(16, 8, "interval-middle") == [0, 2, 4, 6, 8, 10, 12, 14]
    # fewer frames than samples: one segment per frame, padded with the last index
    assert sample_indices(3, 8, "interval-middle") == [0, 1, 2, 2, 2, 2, 2, 2]
    # numpy's floating-point linspace, truncated: 15 * (205 / 25) is 122.999..., so bound 15 is 122, not 123
    assert 15 * (205 / 25) < 123
    idx = sample_indices(205, 25, "interval-middle")
    assert idx[14] == (114 + 122 - 1) // 2 and idx[15] == (122 + 131 - 1) // 2


def test_step_sampling_edges():
    assert sample_indices(8, 8, "step") == list(range(8))
    assert sample_indices(15, 8, "step") == list(range(8))  # step 1
    assert sample_indices(16, 8, "step") == [0, 2, 4, 6, 8, 10, 12, 14]
    with pytest.raises(ValueError, match="at least 8 frames"):  # the demo asserts len >= fnum
        sample_indices(7, 8, "step")


# ---------------------------------------------------------------------------------------------- resizing


def _frames(t: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (t, h, w, 3), generator=g, dtype=torch.uint8)


def test_bilinear_without_antialias_hand_worked():
    # a 2x2 frame squashed to 1x1: the sample point is the centre, so the value is the mean of the four
    # pixels, (0 + 100 + 200 + 255) / 4 = 138.75, rounded to 139 when the original resizes uint8 frames
    x = torch.tensor([[0, 100], [200, 255]], dtype=torch.uint8).view(1, 2, 2, 1).expand(1, 2, 2, 3).contiguous()
    uint8 = FramePreprocess("squash", "bilinear", False, "none", "uint8", "imagenet")
    floaty = FramePreprocess("squash", "bilinear", False, "none", "float", "imagenet")
    assert float(resize_frames(x, 1, uint8)[0, 0, 0, 0]) * 255 == pytest.approx(139.0)
    assert float(resize_frames(x, 1, floaty)[0, 0, 0, 0]) * 255 == pytest.approx(138.75, abs=1e-4)


def test_internvid_eval_equals_torchvision_transform():
    """InternVid's test_transform: Resize((S, S), BICUBIC) on the uint8 tensor, /255, ImageNet mean/std."""
    frames = _frames(2, 6, 9)
    got = prepare_clip_frames(frames, CLIP_PROTOCOLS["internvid-eval"].preprocess, ENC)
    x = frames.permute(0, 3, 1, 2)
    resized = TF.resize(x, [4, 4], interpolation=InterpolationMode.BICUBIC, antialias=False)
    assert resized.dtype == torch.uint8  # torchvision rounds back to uint8
    want = TF.normalize(resized.float() / 255.0, IMAGENET_MEAN, IMAGENET_STD)
    assert got.shape == (2, 3, 4, 4) and got.dtype == torch.float32
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
    # torchvision >= 0.17 antialiases by default; the option gives that reading
    aa = resolve_clip_protocol({"clip_protocol": "internvid-eval", "clip_antialias": "yes"})
    got_aa = prepare_clip_frames(frames, aa.preprocess, ENC)
    want_aa = TF.normalize(TF.resize(x, [4, 4], interpolation=InterpolationMode.BICUBIC, antialias=True).float()
                           / 255.0, IMAGENET_MEAN, IMAGENET_STD)
    torch.testing.assert_close(got_aa, want_aa, atol=1e-6, rtol=0)
    assert not torch.allclose(got, got_aa)


def test_bicubic_overshoot_is_clamped_and_rounded_like_torchvision():
    # a sharp edge upsampled bicubically overshoots 0..255; torchvision clamps before rounding to uint8
    edge = torch.zeros(1, 2, 4, 3, dtype=torch.uint8)
    edge[:, :, 2:] = 255
    prep = FramePreprocess("squash", "bicubic", False, "none", "uint8", "imagenet")
    got = resize_frames(edge, 8, prep) * 255
    want = TF.resize(edge.permute(0, 3, 1, 2), [8, 8], interpolation=InterpolationMode.BICUBIC, antialias=False)
    torch.testing.assert_close(got, want.float(), atol=1e-4, rtol=0)
    assert float(got.min()) == 0.0 and float(got.max()) == 255.0
    assert torch.equal(got.round(), got.round().clamp(0, 255))


def test_internvid_demo_equals_opencv_and_hand_values():
    cv2 = pytest.importorskip("cv2")
    # hand-worked: a 4x4 frame halved; cv2's INTER_LINEAR samples at (2i + 0.5, 2j + 0.5), i.e. the mean
    # of each 2x2 block (values chosen so that the means are integers)
    block = np.array([[0, 4, 8, 12], [4, 8, 12, 16], [100, 104, 200, 204], [104, 108, 204, 208]], dtype=np.uint8)
    frame = np.repeat(block[:, :, None], 3, axis=2)[None]
    enc2 = ClipPreprocess(num_frames=1, size=2)
    prep = CLIP_PROTOCOLS["internvid-demo"].preprocess
    resized = resize_frames(torch.from_numpy(frame), 2, prep)[0, 0] * 255
    torch.testing.assert_close(resized, torch.tensor([[4.0, 12.0], [104.0, 204.0]], dtype=torch.float64))
    assert float(cv2.resize(block, (2, 2))[1, 1]) == 204.0
    # a random frame: cv2.resize to (S, S), then (x / 255 - mean) / std in float64, cast to float32
    frames = _frames(2, 6, 9, seed=3)
    got = prepare_clip_frames(frames, prep, ENC)
    want = []
    mean, std = np.array(IMAGENET_MEAN).reshape(1, 1, 3), np.array(IMAGENET_STD).reshape(1, 1, 3)
    for f in frames.numpy():
        r = cv2.resize(f, (4, 4))
        want.append(((r / 255.0 - mean) / std).transpose(2, 0, 1))
    torch.testing.assert_close(got, torch.from_numpy(np.stack(want)).float(), atol=0, rtol=0)
    assert prepare_clip_frames(frames, prep, enc2).shape == (2, 3, 2, 2)


def test_vbench_shorter_side_crop_and_clip_normalisation():
    """VBench's clip_transform(S): Resize(S, BICUBIC, antialias=False) on the uint8 tensor, CenterCrop(S),
    /255, CLIP mean/std."""
    frames = _frames(2, 8, 14, seed=5)
    prep = CLIP_PROTOCOLS["vbench"].preprocess
    # hand: shorter side 8 -> 4, longer int(4 * 14 / 8) = 7; crop left int(round(1.5)) = 2 (half to even), top 0
    resized = resize_frames(frames, 4, FramePreprocess("squash", "bicubic", False, "none", "uint8", "clip"))
    assert resized.shape[-2:] == (4, 4)
    x = frames.permute(0, 3, 1, 2)
    full = TF.resize(x, 4, interpolation=InterpolationMode.BICUBIC, antialias=False)
    assert tuple(full.shape[-2:]) == (4, 7)
    assert torch.equal(CenterCrop(4)(full), full[..., 0:4, 2:6])
    want = TF.normalize(CenterCrop(4)(Resize(4, InterpolationMode.BICUBIC, antialias=False)(x)).float() / 255.0,
                        CLIP_MEAN, CLIP_STD)
    got = prepare_clip_frames(frames, prep, ENC)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
    # a portrait frame: longer side is the height; crop top int(round((7 - 4) / 2)) = 2
    tall = _frames(1, 14, 8, seed=6)
    full = TF.resize(tall.permute(0, 3, 1, 2), 4, interpolation=InterpolationMode.BICUBIC, antialias=False)
    torch.testing.assert_close(prepare_clip_frames(tall, prep, ENC),
                               TF.normalize(full[..., 2:6, 0:4].float() / 255.0, CLIP_MEAN, CLIP_STD),
                               atol=1e-6, rtol=0)


def test_mvbench_default_is_the_encoders_own_path():
    from mvbench.video.frames import preprocess_frames

    proto = CLIP_PROTOCOLS["mvbench"]
    assert proto.request_preprocess is None  # requests keep the encoder's preprocessing (unchanged numbers)
    frames = _frames(2, 6, 9, seed=7)
    torch.testing.assert_close(prepare_clip_frames(frames, proto.preprocess, ENC), preprocess_frames(frames, ENC),
                               atol=0, rtol=0)
    # and that path antialiases: a downscaled checkerboard is grey, not black/white
    # (15 -> 5: without antialiasing each output samples exactly one input pixel, 3i + 1)
    board = ((torch.arange(15)[:, None] + torch.arange(15)[None, :]) % 2 * 255).to(torch.uint8)
    frame = board[None, :, :, None].expand(1, 15, 15, 3).contiguous()
    aa = resize_frames(frame, 5, proto.preprocess)
    plain = resize_frames(frame, 5, FramePreprocess(antialias=False))
    assert float(aa.std()) < 0.1 and float(plain.std()) > 0.4
    assert torch.equal(plain[0, 0], board[1::3, 1::3].float() / 255)


# ---------------------------------------------------------------------------------------------- options


def test_overrides_and_invalid_combinations():
    p = resolve_clip_protocol({"clip_protocol": "vbench", "clip_normalize": "imagenet", "clip_sampling": "middle"})
    assert p.name == "vbench+custom" and p.sampling == "middle" and p.preprocess.normalize == "imagenet"
    assert p.preprocess.crop == "center" and p.scale == "fraction"
    assert resolve_clip_protocol({}) is CLIP_PROTOCOLS["mvbench"]
    with pytest.raises(ConfigError, match="centre crop"):
        resolve_clip_protocol({"clip_protocol": "mvbench", "clip_resize": "shorter-side"})
    with pytest.raises(ConfigError, match="cv2-linear"):
        resolve_clip_protocol({"clip_protocol": "mvbench", "clip_interpolation": "cv2-linear"})
    with pytest.raises(ConfigError, match="unknown clip protocol"):
        resolve_clip_protocol({"clip_protocol": "nope"})


def test_options_are_declared_typed_and_recorded():
    from mvbench.options import recorded_options, resolve_options

    opts = resolve_options({"clip_protocol": "internvid-demo", "device": "cpu"})
    assert opts["clip_protocol"] == "internvid-demo" and opts["consistency_scale"] is None
    assert recorded_options(opts)["clip_protocol"] == "internvid-demo"
    with pytest.raises(ConfigError, match="clip_protocol"):
        resolve_options({"clip_protocol": "internvid"})
    specs = {o.name: o for o in __import__("mvbench.scorers.consistency", fromlist=["x"]).ConsistencyScorer.option_specs}
    assert isinstance(specs["clip_antialias"], Option) and specs["clip_antialias"].flag == "--clip-antialias"


# ---------------------------------------------------------------------------------------------- scorers


def _item(n_scenes: int = 3):
    from mvbench.scorers.base import ItemVideos, VideoRef
    from mvbench.suite import Scene, SuiteItem

    item = SuiteItem(id="x", scenes=tuple(Scene(prompt=f"p{k}") for k in range(n_scenes)))
    refs = tuple(VideoRef(f"s{k}.mp4", 0, 49, 8.0) for k in range(n_scenes))
    return ItemVideos(item, refs)


@pytest.mark.parametrize("name", ["mvbench", "internvid-eval", "internvid-demo", "vbench"])
def test_consistency_requests_and_config_follow_the_protocol(name):
    from mvbench.scorers.consistency import ConsistencyScorer

    sc = ConsistencyScorer({"encoder": "tiny", "clip_protocol": name})
    proto = CLIP_PROTOCOLS[name]
    clips = [r for r in sc.requests(_item()) if hasattr(r, "videos")]
    assert all(r.sampling == proto.sampling and r.preprocess == proto.request_preprocess for r in clips)
    cfg = sc.config()
    assert cfg["clip_protocol"]["name"] == name and cfg["clip_sampling"] == proto.sampling
    assert cfg["scale"] == proto.scale


def test_scale_percent_vs_raw_cosine():
    from mvbench.scorers.base import ClipRequest, TextRequest
    from mvbench.scorers.consistency import ConsistencyScorer

    rng = np.random.default_rng(0)
    v, t = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    vn = v / np.linalg.norm(v, axis=1, keepdims=True)
    tn = t / np.linalg.norm(t, axis=1, keepdims=True)
    vc = np.mean([vn[i] @ vn[j] for i in range(3) for j in range(i + 1, 3)])
    sc_ = np.mean([vn[k] @ tn[k] for k in range(3)])
    videos = _item()
    out = {}
    for name in ("internvid-eval", "vbench"):
        scorer = ConsistencyScorer({"encoder": "tiny", "clip_protocol": name})
        reqs = scorer.requests(videos)
        results = {}
        for r in reqs:
            if isinstance(r, ClipRequest):
                results[r] = v[int(r.videos[0].path[1])]
            elif isinstance(r, TextRequest):
                results[r] = t[int(r.text[1])]
        out[name] = scorer.score(videos, results).values
    assert out["internvid-eval"]["visual_consistency"] == pytest.approx(100 * vc, abs=1e-6)
    assert out["internvid-eval"]["semantic_consistency"] == pytest.approx(100 * sc_, abs=1e-6)
    assert out["vbench"]["visual_consistency"] == pytest.approx(vc, abs=1e-6)  # raw cosine, no x100
    assert out["vbench"]["semantic_consistency"] == pytest.approx(sc_, abs=1e-6)
    assert out["vbench"]["sequence_consistency"] == pytest.approx((vc + sc_) / 2, abs=1e-6)
    pct = ConsistencyScorer({"encoder": "tiny", "clip_protocol": "vbench", "consistency_scale": "percent"})
    assert pct.protocol.scale == "percent"


def test_confusion_clips_follow_the_protocol():
    from mvbench.scorers.confusion import ConfusionScorer

    sc = ConfusionScorer({"encoder": "tiny", "clip_protocol": "vbench"})
    clips = [r for r in sc.requests(_item()) if hasattr(r, "videos")]
    assert clips and all(r.sampling == "interval-middle" for r in clips)
    assert all(r.preprocess == CLIP_PROTOCOLS["vbench"].preprocess for r in clips)
    cfg = sc.config()
    assert cfg["clip_protocol"]["name"] == "vbench" and cfg["video_clip_sampling"] == "interval-middle"


def test_feature_cache_key_depends_on_the_protocol(tmp_path):
    from mvbench.features import clip_key
    from mvbench.scorers.base import ClipRequest, VideoRef

    f = tmp_path / "a.mp4"
    f.write_bytes(b"x" * 10)
    ref = (VideoRef(str(f), 0, 10, 8.0),)
    desc = {"name": "tiny", "weights_sha256": "0", "preprocess": {}}
    keys = {clip_key(ClipRequest("tiny", ref, p.sampling, preprocess=p.request_preprocess), desc, 8)
            for p in CLIP_PROTOCOLS.values()}
    assert len(keys) == 4


def test_end_to_end_internvid_eval_clip_equals_hand_preprocessing(demo_videos, demo_suite, tiny_encoder):
    """compute_requests under internvid-eval: decoded frames at the interval-middle indices, resized by
    torchvision as InternVid's test_transform, encoded by the same encoder."""
    from mvbench.compute import EncoderPool, compute_requests
    from mvbench.scorers.base import ClipRequest
    from mvbench.submission import Submission
    from mvbench.video import decode_frames

    sub = Submission.open(demo_videos)
    item = demo_suite.items[0]
    res = sub.resolve(demo_suite, min_frames=8)
    ref = res.items[item.id].scenes[0]
    proto = CLIP_PROTOCOLS["internvid-eval"]
    req = ClipRequest("tiny", (ref,), proto.sampling, preprocess=proto.request_preprocess)
    got = compute_requests([req], {"no_cache": True, "device": "cpu", "progress": False},
                           encoders=EncoderPool("cpu", {"tiny": tiny_encoder}))[req]
    n = ref.num_frames
    bounds = [int(b) for b in np.linspace(0, n, 9)]
    idx = [(bounds[k] + bounds[k + 1] - 1) // 2 for k in range(8)]
    frames = decode_frames(ref.path, [ref.start + i for i in idx]).permute(0, 3, 1, 2)
    size = tiny_encoder.preprocess.size
    x = TF.resize(frames, [size, size], interpolation=InterpolationMode.BICUBIC, antialias=False).float() / 255.0
    x = TF.normalize(x, IMAGENET_MEAN, IMAGENET_STD)
    with torch.inference_mode():
        want = tiny_encoder.encode_video(x[None]).float().numpy()[0]
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_run_records_protocol_and_unit(demo_videos, demo_suite, tiny_encoder):
    from mvbench.runner import run_evaluation
    from mvbench.submission import Submission

    sub = Submission.open(demo_videos)
    base = {"encoder": "tiny", "no_cache": True, "progress": False, "bootstrap": 50}
    runs = {name: run_evaluation(demo_suite, sub, None, {**base, "clip_protocol": name}, encoders={"tiny": tiny_encoder})
            for name in ("mvbench", "vbench")}
    for name, res in runs.items():
        assert res["config"]["options"]["clip_protocol"] == name
        assert res["config"]["scorers"]["consistency"]["clip_protocol"]["name"] == name
    assert runs["mvbench"]["metrics"]["visual_consistency"]["unit"] == "percent"
    assert runs["vbench"]["metrics"]["visual_consistency"]["unit"] == "fraction"
    assert 0 < abs(runs["vbench"]["metrics"]["semantic_consistency"]["mean"]) < 1.5


def test_demo_sampling_never_pads_short_scenes(demo_suite, tmp_path):
    """InternVid's demo asserts at least 8 frames: with --short-scenes pad, mvbench's protocol pads a 6-frame
    scene (warning) but the demo protocol blocks the item."""
    from mvbench.demo import render_submission
    from mvbench.runner import plan_run
    from mvbench.submission import Submission

    out = tmp_path / "short"
    render_submission(demo_suite, out, n_frames=6, size=32, container=".mp4")
    sub = Submission.open(out)
    base = {"encoder": "tiny", "short_scenes": "pad", "device": "cpu"}
    padded = plan_run(demo_suite, sub, ["visual_consistency"], base)
    assert not padded.blocking and padded.item_warnings
    demo = plan_run(demo_suite, sub, ["visual_consistency"], {**base, "clip_protocol": "internvid-demo"})
    assert set(demo.blocking) == set(demo_suite.ids)
