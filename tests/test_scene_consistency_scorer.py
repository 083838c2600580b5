"""Scene Consistency scorer: entities from the suite, detections -> crops -> CLIP -> the metric, and an
end-to-end `mvbench evaluate --metrics scene_consistency` run on the demo submission with a fabricated
tiny Grounding-DINO folder and a fabricated tiny CLIP (nothing downloaded)."""

from __future__ import annotations

import numpy as np
import open_clip
import pytest
import torch
from _tiny_models import make_tiny_clip, make_tiny_grounding_dino
from PIL import Image

from mvbench.cli import main
from mvbench.encoders import create_encoder
from mvbench.results import load_results
from mvbench.scorers import METRIC_TO_SCORER, ItemVideos, VideoRef
from mvbench.scorers.scene_consistency import SceneConsistencyScorer, common_entities, scene_entities
from mvbench.suite import parse_suite


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _one_thread():
    """The tiny models' many small matmuls are far faster on one thread on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    return make_tiny_clip(tmp_path_factory.mktemp("clip"))


def _item(scenes, characters=None):
    doc = {"suite": "t", "version": "1", "items": [{"id": "x", "scenes": scenes, "characters": characters or {}}]}
    return parse_suite(doc).items[0]


# ------------------------------------------------------------------ entities from the suite
def test_entities_come_from_the_scenes_or_the_characters():
    item = _item([{"prompt": "p1", "entities": ["Dog", "red ball"], "characters": ["A"]},
                  {"prompt": "p2", "entities": ["dog"], "characters": ["A"]},
                  {"prompt": "p3", "entities": ["Red  Ball"], "characters": ["A", "B"]}],
                 {"A": "a tall woman", "B": ""})
    assert scene_entities(item) == [{"dog": "Dog", "red ball": "red ball"}, {"dog": "dog"}, {"red ball": "Red  Ball"}]
    assert common_entities(scene_entities(item)) == {"dog": [0, 1], "red ball": [0, 2]}
    by_chars = scene_entities(item, "characters")
    assert by_chars[2] == {"a": "a tall woman", "b": "B"}  # appearance text, else the name
    assert common_entities(by_chars) == {"a": [0, 1, 2]}
    plain = _item([{"prompt": "p", "characters": ["A"]}, {"prompt": "q", "characters": ["A"]}], {"A": "a man"})
    assert scene_entities(plain) == [{"a": "a man"}, {"a": "a man"}]  # auto: no entities -> characters


def test_metric_is_registered():
    assert METRIC_TO_SCORER["scene_consistency"] == "scene_consistency"


# ------------------------------------------------------------------ score() against an independent computation
class _FakeDetector:
    """Returns planned Grounding-DINO outputs: ``plan[(phrase, scene)]`` is a box or None (not detected).
    The scene is read from the frame's first pixel, where the test wrote it."""

    def __init__(self, plan):
        self.plan = plan
        self.calls = []

    def detect(self, frames, phrase):
        scene = int(frames[0, 0, 0, 0])
        self.calls.append((phrase, scene, int(frames.shape[0])))
        probs = torch.zeros(frames.shape[0], 4, 8)
        boxes = torch.full((frames.shape[0], 4, 4), 0.5)
        box = self.plan[(phrase, scene)]
        if box is not None:
            probs[-1, 2, 1] = 0.9  # detected in the last sampled frame, query 2
            boxes[-1, 2] = torch.tensor(box)
        probs[0, 0, 1] = 0.3  # a weaker box everywhere (below the 0.35 box threshold)
        return probs, boxes, [1]

    def describe(self):
        return {"name": "fake"}


def _frames(scene: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    f = torch.randint(0, 256, (1, 48, 64, 3), dtype=torch.uint8, generator=g)
    f[0, 0, 0, 0] = scene
    return f


def _reference_embedding(model, frame: torch.Tensor, bounds) -> np.ndarray:
    """open_clip's own (PIL) eval transform on the PIL crop, then encode_image: an independent path."""
    x0, y0, x1, y1 = bounds
    crop = Image.fromarray(frame.numpy()).crop((x0, y0, x1, y1))
    pp = open_clip.get_model_preprocess_cfg(model)
    transform = open_clip.image_transform(pp["size"], is_train=False, mean=pp["mean"], std=pp["std"])
    with torch.no_grad():
        return model.encode_image(transform(crop)[None]).double()[0].numpy()


def _cos(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# boxes giving exact 32x32 crops of a 64x48 frame (the tiny CLIP's size), so that no resize is involved
DOG = {1: (0.5, 0.5, 0.5, 2 / 3), 2: (0.25, 1 / 3, 0.5, 2 / 3), 3: (0.75, 2 / 3, 0.5, 2 / 3)}
BOUNDS = {1: (16, 8, 48, 40), 2: (0, 0, 32, 32), 3: (32, 16, 64, 48)}


@pytest.mark.parametrize("missing", ["skip", "zero"])
def test_score_equals_an_independent_computation(tiny_clip, missing):
    name, _, model = tiny_clip
    item = _item([{"prompt": "p1", "entities": ["dog", "ball"]}, {"prompt": "p2", "entities": ["dog"]},
                  {"prompt": "p3", "entities": ["dog", "ball"]}, {"prompt": "p4", "entities": ["cat"]}])
    videos = ItemVideos(item, tuple(VideoRef(f"s{k}.mp4", 0, 16, 8.0) for k in (1, 2, 3, 4)))
    plan = {("dog", k): DOG[k] for k in (1, 2, 3)} | {("ball", 1): (0.5, 0.5, 0.5, 2 / 3), ("ball", 3): None}
    fake = _FakeDetector(plan)
    scorer = SceneConsistencyScorer({"scene_missing": missing, "scene_frames": 2}, detector=fake,
                                    clip_encoder=create_encoder(name))
    reqs = scorer.requests(videos)
    assert [r.video.path for r in reqs] == ["s1.mp4", "s2.mp4", "s3.mp4"]  # scene 4 has no common entity
    assert all(r.num_frames == 2 and r.sampling == "middle" for r in reqs)
    frames = {k: torch.cat([_frames(k, 10 + k), _frames(k, 20 + k)]) for k in (1, 2, 3)}
    results = {r: frames[k] for r, k in zip(reqs, (1, 2, 3))}
    out = scorer.score(videos, results)

    dog = [_reference_embedding(model, frames[k][1], BOUNDS[k]) for k in (1, 2, 3)]  # last sampled frame
    dog_value = 100 * (_cos(dog[0], dog[1]) + _cos(dog[1], dog[2])) / 2
    expected = dog_value if missing == "skip" else (dog_value + 0.0) / 2  # ball: one pair, undetected -> 0
    assert out.values["scene_consistency"] == pytest.approx(expected, abs=1e-3)
    d = out.details["entities"]
    assert [s["crop"] for s in d["dog"]["scenes"]] == [list(BOUNDS[k]) for k in (1, 2, 3)]
    assert d["ball"]["scenes"][1] == {"scene": 3, "detected": False}
    assert d["ball"]["value"] is None if missing == "skip" else d["ball"]["value"] == 0.0
    assert sorted(fake.calls) == sorted([("dog", 1, 2), ("dog", 2, 2), ("dog", 3, 2), ("ball", 1, 2), ("ball", 3, 2)])


def test_items_without_common_entities_have_no_value():
    item = _item([{"prompt": "p1", "entities": ["dog"]}, {"prompt": "p2", "entities": ["cat"]}])
    videos = ItemVideos(item, (VideoRef("a.mp4", 0, 8, 8.0), VideoRef("b.mp4", 0, 8, 8.0)))
    scorer = SceneConsistencyScorer({}, detector=_FakeDetector({}), clip_encoder=object())
    assert scorer.requests(videos) == []
    out = scorer.score(videos, {})
    assert out.values == {} and "no entity" in out.details["note"]
    summary = scorer.aggregate({"x": out, "y": type(out)({"scene_consistency": 50.0})})
    assert summary["scene_consistency"]["n"] == 1 and "'x'" in summary["scene_consistency"]["warnings"][0]


def test_options_are_checked():
    from mvbench.errors import ConfigError

    with pytest.raises(ConfigError, match="scene_box_threshold"):
        SceneConsistencyScorer({"scene_box_threshold": 1.5}).opt("scene_box_threshold")
    with pytest.raises(ConfigError, match="scene_pairs"):
        SceneConsistencyScorer({"scene_pairs": "every"}).opt("scene_pairs")
    assert SceneConsistencyScorer({}).config()["clip"] == "clip:ViT-B-32:openai"


# ------------------------------------------------------------------ end to end, through the command line
def test_evaluate_demo_submission_end_to_end(demo_videos, tmp_path, tiny_clip):
    gd = make_tiny_grounding_dino(tmp_path / "gd")
    name, _, _ = tiny_clip
    out = tmp_path / "res.json"
    args = ["evaluate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--metrics", "scene_consistency",
            "--scene-detector", str(gd), "--scene-clip", name, "--scene-box-threshold", "0",
            "--scene-text-threshold", "0", "--scene-frames", "2", "--device", "cpu", "--no-progress",
            "--out", str(out)]
    assert main(args) == 0
    res = load_results(out)
    summary = res["metrics"]["scene_consistency"]
    assert summary["n"] == 4 and -100.0 <= summary["mean"] <= 100.0
    assert res["failures"] == {}
    cfg = res["config"]["scorers"]["scene_consistency"]
    assert cfg["box_threshold"] == 0.0 and cfg["frames"] == 2 and cfg["pairs"] == "adjacent"
    assert cfg["detector_info"]["weights_sha256"] and cfg["clip_info"]["name"] == name
    item = res["items"]["demo_04_same_place_new_faces"]
    ents = item["details"]["scene_consistency"]["entities"]
    # Actor1 ("a green circle") in scenes 1 and 3, Actor2 ("a purple square") in scenes 2 and 3
    assert {k: [s["scene"] for s in v["scenes"]] for k, v in ents.items()} == {"actor1": [1, 3], "actor2": [2, 3]}
    assert ents["actor1"]["phrase"] == "a green circle"
    values = [v["value"] for v in ents.values()]
    assert item["scores"]["scene_consistency"] == pytest.approx(sum(values) / len(values), abs=1e-3)
    # the same inputs give the same numbers
    out2 = tmp_path / "res2.json"
    assert main(args[:-1] + [str(out2)]) == 0
    assert load_results(out2)["items"] == res["items"]
