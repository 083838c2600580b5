"""Paper presets (``--protocol``, issue 18 point 6): applied before options resolve, recorded in the results
file, refused by ``mvbench compare`` across presets, named by the leaderboard; calibration of weights."""

from __future__ import annotations

import json

import pytest

from mvbench.errors import ConfigError
from mvbench.protocols import PROTOCOLS, Protocol, apply_protocol, preset_option_values, unknown_metrics

CHEAP = ["visual_consistency", "semantic_consistency", "sequence_consistency"]


def test_every_preset_names_valid_options_and_the_shared_metric_names():
    from leaderboard.paper_vocab import PRESETS, SHARED_METRICS

    assert set(PROTOCOLS) == set(PRESETS)
    for p in PROTOCOLS.values():
        preset_option_values(p)  # every key is an option and every value passes its check
        assert set(p.metrics) <= SHARED_METRICS, p.name
        assert p.description and p.paper and p.tables


def test_preset_options_are_what_the_papers_cite():
    assert PROTOCOLS["mask2dit"].options["clip_protocol"] == "internvid-eval"
    assert "fvd_videomae" in PROTOCOLS["mask2dit"].metrics  # Ge et al. (content-debiased FVD), ref. [13]
    assert PROTOCOLS["mask2dit"].options["fvd_cov_ddof"] == 0  # the cd-fvd package's covariance
    assert PROTOCOLS["mask2dit"].options["fvd_resize"] == "plain"  # the cd-fvd package's resize
    assert PROTOCOLS["framecaps"].options["vbench_mode"] == "video"  # all VBench dimensions, motion too
    assert PROTOCOLS["moviebench"].options["id_protocol"] == "moviebench"
    assert PROTOCOLS["moviebench"].options["fvd_extractor"] == "i3d-torchscript"  # StyleGAN-V's I3D
    assert PROTOCOLS["videostudio"].options["fvd_extractor"] == "i3d-k400"  # Unterthiner et al.


def test_apply_sets_metrics_and_options_and_refuses_conflicts():
    metrics, opts, rec = apply_protocol(None, {"protocol": "mask2dit"})
    assert metrics == list(PROTOCOLS["mask2dit"].metrics)
    assert opts["encoder"] == "viclip-l14" and opts["clip_protocol"] == "internvid-eval"
    assert rec == {"name": "mask2dit", "paper": PROTOCOLS["mask2dit"].paper,
                   "options": dict(PROTOCOLS["mask2dit"].options), "metrics": list(PROTOCOLS["mask2dit"].metrics)}
    # explicit metrics win; an explicit option equal to the preset's is fine ("0" and 0 for an untyped flag)
    metrics, opts, _ = apply_protocol(CHEAP, {"protocol": "mask2dit", "vc_pairs": "all", "fvd_cov_ddof": "0"})
    assert metrics == CHEAP
    with pytest.raises(ConfigError, match=r"--protocol mask2dit sets encoder to 'viclip-l14', but 'tiny'"):
        apply_protocol(None, {"protocol": "mask2dit", "encoder": "tiny"})
    with pytest.raises(ConfigError, match="vc_pairs"):
        apply_protocol(None, {"protocol": "mask2dit", "vc_pairs": "consecutive"})
    assert apply_protocol(["x"], {"seed": 1}) == (["x"], {"seed": 1}, None)
    with pytest.raises(ConfigError, match="did you mean 'framecaps'"):
        apply_protocol(None, {"protocol": "framecap"})


def test_unknown_metric_of_a_preset_fails_naming_it(monkeypatch):
    fake = Protocol("fake", "a preset with a metric this installation lacks", "none",
                    ("visual_consistency", "no_such_metric", "also_missing"), {"vc_pairs": "consecutive"})
    monkeypatch.setitem(PROTOCOLS, "fake", fake)
    assert unknown_metrics(fake) == ["no_such_metric", "also_missing"]
    with pytest.raises(ConfigError, match="no_such_metric, also_missing") as err:
        apply_protocol(None, {"protocol": "fake"})
    assert "visual_consistency" in str(err.value)  # the hint names what can run
    metrics, opts, rec = apply_protocol(["visual_consistency"], {"protocol": "fake"})  # --metrics avoids it
    assert metrics == ["visual_consistency"] and opts["vc_pairs"] == "consecutive" and rec["name"] == "fake"
    bad = Protocol("bad", "", "", ("visual_consistency",), {"vc_pair": "all"})
    with pytest.raises(ConfigError, match="unknown option 'vc_pair'; did you mean 'vc_pairs'"):
        preset_option_values(bad)


def _run(demo_suite, demo_videos, tiny_encoder, preset, metrics=CHEAP, extra=None):
    from mvbench.runner import plan_run, run_evaluation
    from mvbench.submission import Submission

    opts = {"no_cache": True, "progress": False, "bootstrap": 20, "device": "cpu", **(extra or {})}
    if preset:
        opts["protocol"] = preset
    encoder = (PROTOCOLS[preset].options.get("encoder") if preset else None) or "tiny"
    if encoder == "tiny":
        opts["encoder"] = "tiny"
    sub = Submission.open(demo_videos)
    plan = plan_run(demo_suite, sub, metrics, opts)
    return run_evaluation(demo_suite, sub, metrics, opts, plan=plan, encoders={encoder: tiny_encoder})


@pytest.mark.parametrize("preset,metrics", [
    ("mask2dit", CHEAP),
    ("framecaps", ["confusion_degree", "video_text_consistency", "frame_text_consistency"]),
    ("moviebench", ["visual_consistency"]),
    ("videostudio", ["visual_consistency"]),
])
def test_a_run_records_its_preset(demo_suite, demo_videos, tiny_encoder, preset, metrics):
    res = _run(demo_suite, demo_videos, tiny_encoder, preset, metrics)
    cfg = res["config"]
    assert cfg["options"]["protocol"] == preset
    assert cfg["protocol"]["name"] == preset and cfg["protocol"]["options"] == dict(PROTOCOLS[preset].options)
    for key, value in PROTOCOLS[preset].options.items():
        assert str(cfg["options"][key]) == str(value)
    if preset == "mask2dit":
        assert cfg["scorers"]["consistency"]["clip_protocol"]["name"] == "internvid-eval"
    if preset == "framecaps":
        assert cfg["scorers"]["confusion"]["clip_protocol"]["name"] == "vbench"


def test_compare_refuses_runs_of_different_presets(demo_suite, demo_videos, tiny_encoder, tmp_path, capsys):
    from mvbench.cli import main
    from mvbench.results import write_results

    plain = _run(demo_suite, demo_videos, tiny_encoder, None, ["visual_consistency"])
    studio = _run(demo_suite, demo_videos, tiny_encoder, "videostudio", ["visual_consistency"])
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    write_results(a, plain)
    write_results(b, studio)
    write_results(c, studio)
    assert plain["config"]["protocol"] is None
    assert main(["compare", str(a), str(b)]) == 2
    out = capsys.readouterr().out
    assert "preset differs: no preset vs preset 'videostudio'" in out
    assert main(["compare", str(b), str(c)]) == 0  # same preset: comparable
    assert main(["compare", str(a), str(b), "--force"]) == 0


def test_leaderboard_warns_about_another_preset(demo_suite, demo_videos, tiny_encoder, tmp_path, capsys):
    from mvbench.cli import main
    from mvbench.results import write_results

    studio = _run(demo_suite, demo_videos, tiny_encoder, "videostudio", ["visual_consistency"])
    path = tmp_path / "studio.json"
    write_results(path, studio)
    assert main(["leaderboard", "--paper", "mask2dit:table2", str(path)]) == 0
    out = capsys.readouterr().out
    assert "was evaluated with preset 'videostudio'" in out and "--protocol mask2dit" in out


def test_cli_protocol_flag_and_list(capsys):
    from mvbench.cli import main

    assert main(["list", "protocols"]) == 0
    out = capsys.readouterr().out
    for name in PROTOCOLS:
        assert name in out
    with pytest.raises(SystemExit):
        main(["evaluate", "--suite", "mvbench-demo", "--videos", ".", "--protocol", "nope"])


def test_cli_evaluate_with_a_preset_needs_its_weights(demo_videos, tmp_path):
    """--protocol mask2dit without --metrics asks for the preset's weights (ViCLIP-L/14 first), before any work."""
    from mvbench.cli import main

    code = main(["evaluate", "--suite", "mvbench-demo", "--videos", str(demo_videos), "--protocol", "mask2dit",
                 "--metrics", ",".join(CHEAP), "--out", str(tmp_path / "r.json"), "--no-progress"])
    assert code != 0
    assert not (tmp_path / "r.json").exists()


# ------------------------------------------------------------------------------------------ calibration


def test_calibration_requires_a_published_matching_sha256(monkeypatch, tmp_path):
    from mvbench import weights
    from mvbench.encoders.base import calibration_status, weights_calibration

    assert calibration_status(None, None, calibrated=False)[0] is False
    ok, why = calibration_status("viclip-l14", "0" * 64)
    assert ok is False and why == "weights unverified: no published sha256 for 'viclip-l14'"
    spec = weights.WeightSpec("fake-net", "fake.bin", "https://example.invalid/fake.bin", sha256="ab" * 32)
    monkeypatch.setitem(weights.REGISTRY, "fake-net", spec)
    assert calibration_status("fake-net", "ab" * 32) == (True, None)
    ok, why = calibration_status("fake-net", "cd" * 32)
    assert ok is False and "sha256 mismatch" in why and "cdcdcdcdcdcd" in why
    # weight files a scorer loads: a file with the published hash is verified; one without a published hash not
    import hashlib

    path = weights.weight_path("fake-net")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"weights")
    monkeypatch.setitem(weights.REGISTRY, "fake-net", weights.WeightSpec(
        "fake-net", "fake.bin", "u", sha256=hashlib.sha256(b"weights").hexdigest()))
    assert weights_calibration(["fake-net"]) == {}
    monkeypatch.setitem(weights.REGISTRY, "fake-net", weights.WeightSpec("fake-net", "fake.bin", "u"))
    assert weights_calibration(["fake-net", "viclip-l14"]) == {
        "fake-net": "weights unverified: no published sha256 for 'fake-net'"}  # viclip-l14 absent: not loaded


def test_results_say_why_they_are_not_calibrated(demo_suite, demo_videos, tiny_encoder):
    from mvbench.report import metrics_table
    from mvbench.results import build_results

    res = _run(demo_suite, demo_videos, tiny_encoder, None, ["visual_consistency"])
    assert res["calibrated"] is False
    assert res["encoders"]["tiny"]["calibrated"] is False
    assert res["calibration"] == {"tiny": "seeded or random weights, not a published checkpoint"}
    assert "uncalibrated tiny: seeded" in metrics_table(res)
    doc = build_results(model={}, suite={}, encoders={"e": {"calibrated": True}}, config={}, metrics={}, items={},
                        failures={}, calibration={"viclip-l14": "weights unverified: no published sha256"})
    assert doc["calibrated"] is False and doc["calibration"] == {"viclip-l14": "weights unverified: no published sha256"}
    ok = build_results(model={}, suite={}, encoders={"e": {"calibrated": True}}, config={}, metrics={}, items={},
                       failures={})
    assert ok["calibrated"] is True and "calibration" not in ok
    json.dumps(doc)
