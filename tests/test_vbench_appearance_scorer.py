"""The VBench-appearance scorer: per-scene / whole-video / VBench-Long semantics against an independent
computation on the same decoded frames and network outputs, lazy network building, options, units,
and ``mvbench evaluate`` end to end on the demo submission with fabricated weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from vbench_appearance_fakes import TINY, install_fake_weights

import mvbench.scorers.vbench_appearance as va
from mvbench.compute import compute_requests
from mvbench.errors import ConfigError, MvbenchError, WeightsMissingError
from mvbench.scorers import ItemVideos, VideoRef
from mvbench.suite import Scene, SuiteItem
from mvbench.video.decode import decode_frames
from mvbench.video.write import write_video

ALL = list(va.VBENCH_METRICS)


@pytest.fixture
def tiny_archs(monkeypatch):
    for key, arch in TINY.items():
        monkeypatch.setitem(va.ARCHITECTURES, key, arch)


@pytest.fixture
def fake_weights(_isolated_home, tiny_archs):
    return install_fake_weights(_isolated_home)


@pytest.fixture(scope="module")
def two_scene_item(tmp_path_factory):
    """Scenes of 20 and 12 frames (32 x 48, 8 fps) in separate files: a moving bright square."""
    root = tmp_path_factory.mktemp("vbench_item")
    rng = np.random.default_rng(0)
    refs = []
    for k, n in enumerate((20, 12), start=1):
        frames = np.full((n, 32, 48, 3), 40 * k, dtype=np.uint8)
        for t in range(n):
            frames[t, 8:20, 2 + t:14 + t] = 230
        frames = np.clip(frames + rng.normal(0, 4, frames.shape), 0, 255).astype(np.uint8)
        path = write_video(root / f"scene_{k}.mp4", frames, fps=8.0)
        refs.append(VideoRef(str(path), 0, n, 8.0))
    item = SuiteItem("story", (Scene("a square moves right"), Scene("it moves again")))
    return ItemVideos(item, tuple(refs))


def decoded(videos: ItemVideos) -> list[torch.Tensor]:
    return [decode_frames(r.path, list(range(r.num_frames))) for r in videos.scenes]


# -- independent per-video formulas (VBench's loops) --------------------------------------------------------


def loop_consistency(feats: torch.Tensor) -> float:
    total, first, prev = 0.0, None, None
    for i, f in enumerate(F.normalize(feats.double(), dim=-1)):
        if i == 0:
            first = f
        else:
            total += (max(0.0, float(prev @ f)) + max(0.0, float(first @ f))) / 2
        prev = f
    return total / (len(feats) - 1)


def loop_flicker(frames: torch.Tensor) -> float:
    x = frames.double()
    maes = [float((x[i + 1] - x[i]).abs().mean()) for i in range(len(x) - 1)]
    return (255.0 - sum(maes) / len(maes)) / 255.0


def per_frame(metric: str, frames: torch.Tensor) -> torch.Tensor:
    """Per-frame features/scores straight from the encoder modules (fabricated tiny weights)."""
    from mvbench import weights
    from mvbench.encoders import vbench_preprocess as pp
    from mvbench.encoders.aesthetic import aesthetic_scores, load_aesthetic_head
    from mvbench.encoders.clip_openai import load_openai_clip_visual
    from mvbench.encoders.dino import load_dino
    from mvbench.encoders.musiq import load_musiq

    with torch.no_grad():
        if metric == "subject_consistency":
            return load_dino(weights.require("dino-vitb16"), TINY["dino"])(pp.dino_input(frames))
        if metric == "background_consistency":
            net = load_openai_clip_visual(weights.require("clip-vit-b32-openai"), TINY["clip_b32"], "b32")
            return net(pp.clip_input(frames))
        if metric == "aesthetic_quality":
            net = load_openai_clip_visual(weights.require("clip-vit-l14-openai"), TINY["clip_l14"], "l14")
            head = load_aesthetic_head(weights.require("laion-aesthetic-vit-l14"), TINY["clip_l14"].embed_dim)
            return aesthetic_scores(head, net(pp.clip_input(frames)))
        return load_musiq(weights.require("musiq-spaq"), TINY["musiq"])(pp.musiq_input(frames)).reshape(-1)


def video_value(metric: str, frames: torch.Tensor) -> float:
    if metric == "temporal_flickering":
        return loop_flicker(frames)
    v = per_frame(metric, frames)
    if metric in ("subject_consistency", "background_consistency"):
        return loop_consistency(v)
    return float(v.double().sum() / len(v)) / (10.0 if metric == "aesthetic_quality" else 100.0)


# -- tests ---------------------------------------------------------------------------------------------------


def _score(options: dict, videos: ItemVideos):
    scorer = va.VBenchAppearanceScorer({"device": "cpu", **options})
    results = compute_requests(scorer.requests(videos), {"no_cache": True, "device": "cpu", "progress": False})
    return scorer, scorer.score(videos, results)


def test_requests_are_every_frame(two_scene_item):
    scorer = va.VBenchAppearanceScorer({"metrics": ["temporal_flickering"], "device": "cpu"})
    reqs = scorer.requests(two_scene_item)
    assert [(r.video.path, r.num_frames, r.sampling) for r in reqs] == [
        (two_scene_item.scenes[0].path, 20, "middle"), (two_scene_item.scenes[1].path, 12, "middle")]
    results = compute_requests(reqs, {"no_cache": True, "device": "cpu", "progress": False})
    for r, frames in zip(reqs, decoded(two_scene_item)):
        assert torch.equal(results[r], frames)  # middle sampling of N out of N frames = every frame, in order


@pytest.mark.parametrize("metric", ALL)
def test_scene_and_video_modes_match_independent_computation(fake_weights, two_scene_item, metric):
    frames = decoded(two_scene_item)
    scenes = [video_value(metric, f) for f in frames]
    _, per_scene = _score({"metrics": [metric]}, two_scene_item)
    assert per_scene.details["mode"] == "scene"
    assert per_scene.details["scenes"][metric] == pytest.approx(scenes, abs=2e-6)
    assert per_scene.values[metric] == pytest.approx(sum(scenes) / 2, abs=2e-6)
    _, joined = _score({"metrics": [metric], "vbench_mode": "video"}, two_scene_item)
    assert joined.values[metric] == pytest.approx(video_value(metric, torch.cat(frames)), abs=2e-6)
    assert joined.values[metric] != pytest.approx(per_scene.values[metric], abs=1e-9)


@pytest.mark.parametrize("metric", ["subject_consistency", "temporal_flickering", "imaging_quality"])
def test_long_mode_matches_independent_computation(fake_weights, two_scene_item, metric):
    frames = decoded(two_scene_item)
    # 8 fps x 1 s = 8-frame clips: scene 1 (20 frames) -> [0, 8), [8, 16), [12, 20); scene 2 -> [0, 8), [4, 12)
    clips = [[(0, 8), (8, 16), (12, 20)], [(0, 8), (4, 12)]]
    scenes = [float(np.mean([video_value(metric, f[s:e]) for s, e in c])) for f, c in zip(frames, clips)]
    _, long = _score({"metrics": [metric], "vbench_mode": "long", "vbench_long_seconds": 1}, two_scene_item)
    assert long.details["long_clips"] == [3, 2]
    assert long.details["scenes"][metric] == pytest.approx(scenes, abs=2e-6)
    assert long.values[metric] == pytest.approx(sum(scenes) / 2, abs=2e-6)


def test_long_mode_default_two_seconds_is_one_clip_for_short_scenes(two_scene_item):
    _, per_scene = _score({"metrics": ["temporal_flickering"]}, two_scene_item)
    _, long = _score({"metrics": ["temporal_flickering"], "vbench_mode": "long"}, two_scene_item)
    assert long.details["long_clips"] == [2, 1]  # 16-frame clips: 20 -> [0,16), [4,20); 12 -> all
    assert long.details["scenes"]["temporal_flickering"][1] == per_scene.details["scenes"]["temporal_flickering"][1]


def test_only_requested_networks_are_built(fake_weights, two_scene_item):
    scorer, score = _score({"metrics": ["background_consistency", "temporal_flickering"]}, two_scene_item)
    assert set(score.values) == {"background_consistency", "temporal_flickering"}
    assert set(scorer._nets._built) == {"clip_b32"}


def test_missing_weights_stop_before_decoding(_isolated_home):
    assert va.VBenchAppearanceScorer({"metrics": "temporal_flickering"}).wanted == ["temporal_flickering"]
    with pytest.raises(WeightsMissingError) as err:
        va.VBenchAppearanceScorer({"metrics": "visual_consistency,aesthetic_quality"})
    text = str(err.value)
    assert "clip-vit-l14-openai" in text
    assert "mvbench weights fetch clip-vit-l14-openai" in text and "mvbench weights import" in text


def test_options_are_checked():
    with pytest.raises(ConfigError, match="vbench_mode.*'scenes' is not one of scene, video, long"):
        va.VBenchAppearanceScorer({"metrics": ["temporal_flickering"], "vbench_mode": "scenes"})
    for old, new in (("clip", "scene"), ("whole", "video")):  # the values before both scorers shared the option
        with pytest.raises(ConfigError, match=f"--vbench-mode.*'{old}' is now '{new}'"):
            va.VBenchAppearanceScorer({"metrics": ["temporal_flickering"], "vbench_mode": old})
    with pytest.raises(ConfigError, match="vbench_long_seconds"):
        va.VBenchAppearanceScorer({"metrics": ["temporal_flickering"], "vbench_long_seconds": 0})
    s = va.VBenchAppearanceScorer({"metrics": ["temporal_flickering"], "vbench_mode": None})
    assert s.settings["vbench_mode"] == "scene" and s.settings["imaging_quality_preprocessing"] == "longer"
    assert s.config()["mode"] == "scene" and s.config()["architectures"] == "vbench"


def test_too_short_scene_fails_the_item_with_a_reason(tmp_path):
    path = write_video(tmp_path / "one.mp4", np.zeros((1, 16, 16, 3), dtype=np.uint8))
    videos = ItemVideos(SuiteItem("single", (Scene("x"),)), (VideoRef(str(path), 0, 1, 8.0),))
    with pytest.raises(ValueError, match="item 'single': temporal_flickering: .*at least 2 frames"):
        _score({"metrics": ["temporal_flickering"]}, videos)


def test_whole_mode_flicker_needs_one_frame_size(tmp_path):
    a = write_video(tmp_path / "a.mp4", np.zeros((3, 16, 16, 3), dtype=np.uint8))
    b = write_video(tmp_path / "b.mp4", np.zeros((3, 16, 32, 3), dtype=np.uint8))
    videos = ItemVideos(SuiteItem("mixed", (Scene("x"), Scene("y"))),
                        (VideoRef(str(a), 0, 3, 8.0), VideoRef(str(b), 0, 3, 8.0)))
    _, ok = _score({"metrics": ["temporal_flickering"]}, videos)
    assert ok.values["temporal_flickering"] == 1.0
    with pytest.raises(ValueError, match="one frame size"):
        _score({"metrics": ["temporal_flickering"], "vbench_mode": "video"}, videos)


def test_aggregate_adds_unit_and_interval():
    from mvbench.scorers import ItemScore

    scorer = va.VBenchAppearanceScorer({"metrics": ["temporal_flickering"], "bootstrap": 200})
    scores = {f"i{k}": ItemScore({"temporal_flickering": v}) for k, v in enumerate([0.9, 0.95, 0.97, 0.99])}
    out = scorer.aggregate(scores, seed=1)
    assert set(out) == {"temporal_flickering"}
    m = out["temporal_flickering"]
    assert m["unit"] == "fraction" and m["n"] == 4 and m["mean"] == pytest.approx(0.9525)
    assert m["ci95"][0] <= m["mean"] <= m["ci95"][1] and m["higher_is_better"] is True


def test_evaluate_end_to_end(fake_weights, demo_videos, tmp_path):
    """``mvbench evaluate`` with all five metrics on the demo submission, fabricated weights in MVBENCH_HOME."""
    from mvbench.cli import main

    out = tmp_path / "r.json"
    rc = main(["evaluate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--metrics", ",".join(ALL),
               "--out", str(out), "--no-cache", "--device", "cpu", "--no-progress", "--bootstrap", "200"])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["failures"] == {}
    for name in ALL:
        m = res["metrics"][name]
        assert m["n"] == 4 and m["unit"] == "fraction"
        assert m["ci95"][0] <= m["mean"] <= m["ci95"][1]
    cfg = res["config"]["scorers"]["vbench_appearance"]
    assert cfg["mode"] == "scene" and cfg["architectures"] == "test" and cfg["frames"] == "all"
    assert set(cfg["weights_sha256"]) == set(ALL) - {"temporal_flickering"}
    # one item's flickering, recomputed from its decoded scene files
    item = next(iter(res["items"]))
    files = sorted((demo_videos / item).glob("scene_*.mp4"))
    expected = np.mean([loop_flicker(decode_frames(f, list(range(12)))) for f in files])
    assert res["items"][item]["scores"]["temporal_flickering"] == pytest.approx(expected, abs=2e-6)
    assert 0.0 <= res["metrics"]["temporal_flickering"]["mean"] <= 1.0


def test_flickering_equals_vbench_reading_the_file_with_opencv(two_scene_item):
    """VBench's temporal_flickering reads the file itself with cv2.VideoCapture (BGR): same number."""
    cv2 = pytest.importorskip("cv2")
    expected = []
    for ref in two_scene_item.scenes:
        video, frames = cv2.VideoCapture(ref.path), []
        while video.isOpened():
            ok, frame = video.read()
            if not ok:
                break
            frames.append(frame)
        video.release()
        maes = [np.mean(cv2.absdiff(np.array(a, dtype=np.float32), np.array(b, dtype=np.float32)))
                for a, b in zip(frames[:-1], frames[1:])]
        expected.append((255.0 - np.mean(np.array(maes)).item()) / 255.0)
    _, score = _score({"metrics": ["temporal_flickering"]}, two_scene_item)
    assert score.details["scenes"]["temporal_flickering"] == pytest.approx(expected, abs=1e-6)


def test_weights_entries(tmp_path):
    from mvbench import weights

    files = {n: weights.get_spec(n).filename.rsplit("/", 1)[-1] for n in
             ("dino-vitb16", "clip-vit-b32-openai", "clip-vit-l14-openai", "laion-aesthetic-vit-l14", "musiq-spaq")}
    assert files == {"dino-vitb16": "dino_vitbase16_pretrain.pth", "clip-vit-b32-openai": "ViT-B-32.pt",
                     "clip-vit-l14-openai": "ViT-L-14.pt", "laion-aesthetic-vit-l14": "sa_0_4_vit_l_14_linear.pth",
                     "musiq-spaq": "musiq_spaq_ckpt-358bb6af.pth"}
    # OpenAI publishes each file's sha256 as the folder of its address; nothing else publishes one
    for name in ("clip-vit-b32-openai", "clip-vit-l14-openai"):
        spec = weights.get_spec(name)
        assert spec.sha256 and spec.url.split("/")[-2] == spec.sha256
    assert all(weights.get_spec(n).sha256 is None for n in ("dino-vitb16", "laion-aesthetic-vit-l14", "musiq-spaq"))
    # `mvbench weights import` adopts a file, and refuses one that does not match a registered hash
    src = tmp_path / "dino.pth"
    torch.save({"x": torch.zeros(1)}, src)
    assert weights.import_file("dino-vitb16", src) == weights.weight_path("dino-vitb16")
    with pytest.raises(MvbenchError, match="does not match the sha256"):
        weights.import_file("clip-vit-b32-openai", src)
