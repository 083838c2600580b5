"""The Python API (issue 14): a light package top, in-memory scoring equal to the command line on the
same frames, the caching policy for tensors, and input errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import mvbench
from mvbench.cli import main as cli_main
from mvbench.demo import _render_scene
from mvbench.errors import MvbenchError
from mvbench.video import memory
from mvbench.video.write import write_video

T, SIZE = 12, 32
METRICS = "visual_consistency,semantic_consistency,sequence_consistency,confusion_degree"


def test_import_mvbench_is_light_and_lists_the_api():
    code = ("import sys, mvbench, mvbench.cli; print(mvbench.__all__); "
            "assert 'torch' not in sys.modules, 'torch imported'; assert 'numpy' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "'evaluate'" in out.stdout and "'to_dataframe'" in out.stdout


def test_every_public_name_has_its_own_docstring():
    for name in mvbench.__all__:
        obj = getattr(mvbench, name)
        doc = obj.__doc__ or ""
        assert doc.strip(), f"mvbench.{name} has no docstring"
        assert doc is not type(obj).__doc__ or isinstance(obj, type), f"mvbench.{name} only inherits a docstring"
    assert set(mvbench.__all__) <= set(dir(mvbench))
    with pytest.raises(AttributeError):
        mvbench.not_a_name  # noqa: B018


def test_catalog_lists_are_the_cli_lists(capsys):
    assert mvbench.list_metrics() == mvbench.catalog.list_metrics()
    assert cli_main(["list", "metrics"]) == 0
    printed = capsys.readouterr().out.split("\n")
    assert [line.split()[0] for line in printed if line.strip()] == [n for n, _ in mvbench.list_metrics()]


@pytest.fixture(scope="module")
def frames(demo_suite) -> dict[str, list[np.ndarray]]:
    """Rendered demo frames per item (uint8 [T, H, W, 3] per scene)."""
    rng = np.random.default_rng(3)
    return {item.id: [_render_scene(spec, T, SIZE, rng) for spec in item.meta["render"]] for item in demo_suite.items}


@pytest.fixture(scope="module")
def cli_results(frames, tmp_path_factory) -> dict:
    """``mvbench evaluate`` on lossless FFV1 .mkv files of the same frames."""
    root = tmp_path_factory.mktemp("mkv")
    for item, scenes in frames.items():
        for k, f in enumerate(scenes, start=1):
            write_video(root / "videos" / item / f"scene_{k}.mkv", f)
    out = root / "cli.json"
    code = cli_main(["evaluate", "--suite", "mvbench-demo", "--videos", str(root / "videos"), "--encoder", "tiny",
                     "--metrics", METRICS, "--device", "cpu", "--no-cache", "--no-progress", "--out", str(out)])
    assert code == 0
    return json.loads(out.read_text())


#: per-item fields that record what was scored (files and their hashes), not a number
RECORD = ("files", "files_sha256")


def _numbers(res: dict) -> tuple[dict, dict, dict]:
    items = {i: {k: v for k, v in rec.items() if k not in RECORD} for i, rec in res["items"].items()}
    return res["metrics"], items, res["failures"]


def test_in_memory_uint8_equals_cli(frames, cli_results):
    res = mvbench.evaluate(frames, "mvbench-demo", METRICS, {"encoder": "tiny", "device": "cpu"}, no_cache=True,
                           progress=False, model="tensors")
    assert res["model"]["name"] == "tensors"
    assert res["metrics"]["visual_consistency"]["n"] == 4
    assert _numbers(res) == _numbers(cli_results)
    assert res["config"] == cli_results["config"]
    assert memory.registered() == []  # the frames are forgotten after the call


def test_in_memory_float_and_iterator_equal_cli(frames, cli_results):
    as_float = ((item, [torch.from_numpy(f).permute(0, 3, 1, 2).float() / 255.0 for f in scenes])
                for item, scenes in frames.items())  # [T, 3, H, W] in [0, 1], as a generator
    res = mvbench.evaluate(as_float, "mvbench-demo", METRICS.split(","), encoder="tiny", device="cpu",
                           no_cache=True, progress=False)
    assert _numbers(res) == _numbers(cli_results)


def test_folder_input_is_the_cli(frames, cli_results, tmp_path):
    for item, scenes in frames.items():
        for k, f in enumerate(scenes, start=1):
            write_video(tmp_path / item / f"scene_{k}.mkv", f)
    res = mvbench.evaluate(tmp_path, "mvbench-demo", METRICS, encoder="tiny", device="cpu", no_cache=True,
                           progress=False, out=tmp_path / "r.json")
    assert _numbers(res) == _numbers(cli_results)
    assert mvbench.load_results(tmp_path / "r.json")["metrics"] == cli_results["metrics"]


def test_in_memory_features_are_cached_by_content(frames, tmp_path):
    two = {k: frames[k] for k in list(frames)[:2]}
    opts = {"encoder": "tiny", "device": "cpu", "cache_dir": str(tmp_path / "cache"), "progress": False, "limit": 2}
    first = mvbench.evaluate(two, "mvbench-demo", config=opts)
    assert first["runtime"]["clips_encoded"] == 6 and first["runtime"]["clips_from_cache"] == 0
    again = mvbench.evaluate({k: [f.copy() for f in v] for k, v in two.items()}, "mvbench-demo", config=opts)
    assert again["runtime"]["clips_encoded"] == 0 and again["runtime"]["clips_from_cache"] == 6
    assert _numbers(again) == _numbers(first)
    changed = {k: [f.copy() for f in v] for k, v in two.items()}
    changed["demo_01_persistent_pair"][0][0, 0, 0, 0] ^= 1  # one pixel of one frame
    third = mvbench.evaluate(changed, "mvbench-demo", config=opts)
    # the cache key hashes every frame's bytes (not only the sampled ones): that one clip is encoded again
    assert third["runtime"]["clips_encoded"] == 1


def test_float_conversion_is_the_inverse_of_to_float():
    from mvbench.video.frames import to_float

    levels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=3)
    back = memory.to_uint8_frames(to_float(torch.from_numpy(levels)))
    assert back.dtype == np.uint8 and (back == levels).all()
    # halfway values round to even; out-of-range values are clamped
    x = torch.tensor([0.5, 1.5, 2.5, -7.0, 300.0], dtype=torch.float64) / 255.0
    q = memory.to_uint8_frames(x.reshape(1, 1, 1, 5).expand(1, 3, 1, 5))
    assert q[0, 0, :, 0].tolist() == [0, 2, 2, 0, 255]
    assert (memory.to_uint8_frames(x.numpy().reshape(1, 1, 1, 5).repeat(3, axis=1)) == q).all()


def test_bad_inputs_are_clear(frames, demo_suite):
    item = demo_suite.items[0].id
    with pytest.raises(MvbenchError, match=rf"item '{item}' scene 2: uint8 frames must be shaped"):
        mvbench.evaluate({item: [frames[item][0], frames[item][1][..., 0], frames[item][2]]}, "mvbench-demo",
                         encoder="tiny", device="cpu", no_cache=True, progress=False, limit=1)
    with pytest.raises(MvbenchError, match="expected a list of scene tensors"):
        mvbench.evaluate({item: frames[item][0]}, "mvbench-demo", encoder="tiny", device="cpu", limit=1)
    with pytest.raises(MvbenchError, match="unknown option 'encodr'"):
        mvbench.evaluate({item: frames[item]}, "mvbench-demo", encodr="tiny")
    res = mvbench.evaluate({item: frames[item][:2], "not_an_item": frames[item],
                            demo_suite.items[1].id: frames[demo_suite.items[1].id]},
                           "mvbench-demo", encoder="tiny", device="cpu", no_cache=True, progress=False, limit=2)
    assert res["failures"][item]["kind"] == "missing_scene"
    assert list(res["items"]) == [demo_suite.items[1].id]
    assert any("not_an_item" in w for w in res["warnings"])
    assert memory.registered() == []


def test_embeddings_equal_what_the_scorers_see(frames, cli_results):
    """embed_scenes / embed_texts give the features behind the command's numbers."""
    from metrics import semantic_consistency, visual_consistency
    from mvbench.suite import load_suite

    suite = load_suite("mvbench-demo")
    for item in suite.items:
        v = mvbench.embed_scenes(frames[item.id], "tiny", device="cpu")
        t = mvbench.embed_texts([s.prompt for s in item.scenes], "tiny", device="cpu")
        scores = cli_results["items"][item.id]["scores"]
        assert round(visual_consistency(v), 6) == scores["visual_consistency"]
        assert round(semantic_consistency(v, t), 6) == scores["semantic_consistency"]
