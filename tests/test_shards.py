"""`evaluate --shard K/N` + `merge` give exactly a single run's results (FVD and every interval included);
partial files store payloads losslessly; merging refuses incomplete or mixed sets of parts; sharded
probing under torchrun probes each rank's own files and still yields the complete resolution."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mvbench.cli import main
from mvbench.errors import MvbenchError
from mvbench.scorers import ItemScore
from mvbench.shards import decode, encode, merge_partials, parse_shard

#: what must be identical between a single run and a merged one (the rest is provenance: time, runtime)
SAME = ("schema", "model", "suite", "encoders", "config", "calibrated", "metrics", "items", "failures", "warnings",
        "truncated_prompts")


def test_codec_is_lossless():
    value = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.float64(1 / 3), "c": (1, "x", None),
             "d": {3: "int key"}, "e": {"x", "y"}, "f": [float("nan"), float("inf"), -0.0],
             "g": ItemScore({"v": 0.5}, {"d": [1, 2]}, {"fvd": np.ones((2, 4))}), "__h": 1}
    back = decode(json.loads(json.dumps(encode(value))))
    assert back["a"].dtype == np.float32 and np.array_equal(back["a"], value["a"])
    assert back["b"] == value["b"] and type(back["b"]) is np.float64
    assert back["c"] == (1, "x", None) and back["d"] == {3: "int key"} and back["e"] == {"x", "y"}
    assert np.isnan(back["f"][0]) and back["f"][1] == float("inf") and str(back["f"][2]) == "-0.0"
    assert isinstance(back["g"], ItemScore) and np.array_equal(back["g"].payload["fvd"], np.ones((2, 4)))
    assert back["__h"] == 1
    with pytest.raises(TypeError, match="object"):
        encode(object())


def test_parse_shard():
    assert parse_shard("0/1") == (0, 1) and parse_shard((3, 4)) == (3, 4) and parse_shard(None) is None
    for bad in ("4/4", "-1/4", "1/0", "a/b", "3"):
        with pytest.raises(MvbenchError):
            parse_shard(bad)


@pytest.fixture
def fvd_reference(demo_suite, tmp_path):
    from mvbench.demo import render_submission

    real = render_submission(demo_suite, tmp_path / "real", n_frames=16, size=48, seed=1, container=".mp4")
    ref = tmp_path / "real_tiny.npz"
    assert main(["fvd-stats", "--videos", str(real), "--extractor", "tiny", "--out", str(ref), "--no-cache",
                 "--no-progress", "--device", "cpu"]) == 0
    return ref


def _common(videos, ref, *extra):
    return ["evaluate", "--suite", "mvbench-demo", "--videos", str(videos), "--encoder", "tiny",
            "--metrics", "visual_consistency,semantic_consistency,sequence_consistency,confusion_degree,fvd",
            "--fvd-extractor", "tiny", "--fvd-reference", str(ref), "--device", "cpu", "--no-progress",
            "--bootstrap", "200", *extra]


def test_shards_merge_to_exactly_the_single_run(demo_videos, demo_suite, fvd_reference, tmp_path, capsys):
    ids = demo_suite.ids
    # one broken scene: its item fails in whichever part holds it
    (demo_videos / ids[2] / "scene_2.mp4").write_bytes(b"broken" * 100)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main([*_common(demo_videos, fvd_reference, *cache), "--out", str(tmp_path / "one.json")]) == 0
    parts = []
    for k in range(3):
        out = tmp_path / f"part{k}.json"
        assert main([*_common(demo_videos, fvd_reference, *cache), "--shard", f"{k}/3", "--out", str(out)]) == 0
        parts.append(out)
    doc = json.loads(parts[1].read_text())
    assert doc["schema"] == "mvbench.partial/1" and doc["shard"] == {"index": 1, "count": 3}
    assert set(decode(doc["part"]["scores"])) == {ids[1]}  # items 1, 4, ... of the 4-item suite
    fvd = decode(doc["part"]["partials"])["fvd"][0]["fvd"]  # one process: one summary
    assert fvd["count"] == 3 and set(fvd["features"]) == {ids[1]}
    capsys.readouterr()
    assert main(["merge", *map(str, reversed(parts)), "--out", str(tmp_path / "merged.json")]) == 0
    assert "merged 3 parts" in capsys.readouterr().out
    one = json.loads((tmp_path / "one.json").read_text())
    merged = json.loads((tmp_path / "merged.json").read_text())
    for key in SAME:
        assert merged[key] == one[key], key
    assert one["metrics"]["fvd"]["ci95"] is not None and one["metrics"]["fvd"]["n"] == 9
    assert ids[2] in one["failures"]
    assert merged["runtime"]["shards"] == 3
    # the record travels too: files, prompts and the digest (in `items` and `model` above), wall times per part
    assert merged["model"]["videos_digest"] and merged["items"][ids[0]]["files_sha256"]
    assert list(merged["runtime"]["stage_seconds"]) == ["plan", "compute", "score", "aggregate"]
    assert len(merged["runtime"]["part_stage_seconds"]) == 3
    assert merged["runtime"]["clips_from_cache"] == one["runtime"]["clips_encoded"] + one["runtime"]["clips_from_cache"]


def test_fvd_without_ci_travels_as_sums(demo_videos, fvd_reference, tmp_path):
    common = [*_common(demo_videos, fvd_reference), "--no-cache", "--fvd-bootstrap", "0"]
    assert main([*common, "--out", str(tmp_path / "one.json")]) == 0
    for k in range(2):
        assert main([*common, "--shard", f"{k}/2", "--out", str(tmp_path / f"p{k}.json")]) == 0
    fvd_part = decode(json.loads((tmp_path / "p0.json").read_text())["part"]["partials"])["fvd"][0]["fvd"]
    assert fvd_part["features"] is None and fvd_part["outer"].shape == (32, 32)  # sums only, no per-clip rows
    merged = merge_partials([tmp_path / "p0.json", tmp_path / "p1.json"])
    one = json.loads((tmp_path / "one.json").read_text())
    assert one["metrics"]["fvd"]["ci95"] is None and one["metrics"]["fvd"]["bootstrap_resamples"] == 0
    # the FVD of summed statistics: float64 sums in another order, equal at the reported precision
    assert merged["metrics"]["fvd"] == one["metrics"]["fvd"]
    assert merged["items"] == one["items"]


def test_merge_refuses_incomplete_or_mixed_parts(demo_videos, fvd_reference, tmp_path):
    common = [*_common(demo_videos, fvd_reference), "--metrics", "visual_consistency", "--cache-dir",
              str(tmp_path / "c")]
    for k in range(2):
        assert main([*common, "--shard", f"{k}/2", "--out", str(tmp_path / f"p{k}.json")]) == 0
    assert main([*common, "--shard", "0/2", "--seed", "5", "--out", str(tmp_path / "other.json")]) == 0
    with pytest.raises(MvbenchError, match=r"shard\(s\) 1/2 missing"):
        merge_partials([tmp_path / "p0.json"])
    with pytest.raises(MvbenchError, match="both shard 0/2"):
        merge_partials([tmp_path / "p0.json", tmp_path / "p0.json", tmp_path / "p1.json"])
    with pytest.raises(MvbenchError, match="different runs: their config differ"):
        merge_partials([tmp_path / "other.json", tmp_path / "p1.json"])
    with pytest.raises(MvbenchError, match="not a partial results file"):
        (tmp_path / "x.json").write_text('{"schema": "mvbench.results/1"}')
        merge_partials([tmp_path / "x.json"])
    # a shard's file is not silently replaced by another shard's
    assert main([*common, "--shard", "1/2", "--out", str(tmp_path / "p0.json")]) == 2


def test_sharded_probing_probes_own_files_and_gathers_the_whole_resolution(demo_videos, demo_suite, monkeypatch):
    import mvbench.submission as submission_module
    from mvbench.submission import Submission

    (demo_videos / demo_suite.ids[1] / "scene_3.mp4").write_bytes(b"broken" * 100)
    (demo_videos / "stray_item").mkdir()
    sub = Submission.open(demo_videos)
    full = sub.resolve(demo_suite, min_frames=8)
    probed: list[str] = []
    real = submission_module.probe

    def counting(path, exact=False):
        probed.append(str(path))
        return real(path, exact=exact)

    monkeypatch.setattr(submission_module, "probe", counting)

    def gather(mine):  # what all_gather_object returns on rank 0 of 2: both ranks' outcomes
        other = sub._resolve_items(list(demo_suite.items)[1::2], False, 8, None, 1, False)
        return [mine, other]

    part = sub.resolve(demo_suite, min_frames=8, part=(0, 2), gather=gather)
    own = {str(p) for i in (0, 2) for p in (demo_videos / demo_suite.items[i].id).glob("*.mp4")}
    assert set(probed[:len(own)]) == own  # rank 0 probed its items' files (the rest is the simulated rank 1)
    assert part.problems == full.problems and part.items == full.items and part.infos == full.infos
    assert [p.kind for p in part.problems] == ["unreadable", "unknown_item"]
