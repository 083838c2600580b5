"""`mvbench compare`: exit codes for pass, regression, improvement, incomparable and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from test_leaderboard_support import make_results, write

from leaderboard.compare import compare_results
from mvbench.cli import main

BASE = {"sequence_consistency": 47.45, "fvd": 720.0, "confusion_degree": 0.20}


def items(scores: list[float]) -> dict:
    return {f"item-{i}": {"scores": {"sequence_consistency": s}, "details": {}} for i, s in enumerate(scores)}


@pytest.fixture()
def base(tmp_path):
    return write(tmp_path, "base.json", make_results("model", BASE, items=items([40.0, 47.0, 55.35])))


def new_file(tmp_path, name="new.json", item_scores=(40.0, 47.0, 55.35), **changes):
    means = {**BASE, **changes}
    return write(tmp_path, name, make_results("model", means, version="2", items=items(list(item_scores))))


def run(capsys, *argv):
    code = main(["compare", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_pass_within_thresholds(tmp_path, base, capsys):
    new = new_file(tmp_path, sequence_consistency=47.0, fvd=729.0)  # drop 0.45 <= 0.5, rise 9 <= 10
    code, out, _ = run(capsys, base, new, "--max-drop", "sequence_consistency=0.5", "--max-rise", "fvd=10")
    assert code == 0
    assert out.startswith("## mvbench compare: PASS")
    assert "| sequence_consistency ↑ | 47.45 [46.95, 47.95] | 47.00 [46.50, 47.50] | -0.45 |" in out


def test_regression_beyond_a_threshold(tmp_path, base, capsys):
    new = new_file(tmp_path, fvd=731.0)
    code, out, _ = run(capsys, base, new, "--max-rise", "fvd=10")
    assert code == 1
    assert "REGRESSION" in out and "Regressions: fvd" in out and "**regression**" in out
    new2 = new_file(tmp_path, "n2.json", sequence_consistency=46.9)
    assert run(capsys, base, new2, "--max-drop", "sequence_consistency=0.5,fvd=1")[0] == 2  # fvd: wrong direction
    assert run(capsys, base, new2, "--max-drop", "sequence_consistency=0.5")[0] == 1


def test_improvement_passes_and_is_reported(tmp_path, base, capsys):
    new = new_file(tmp_path, sequence_consistency=50.0, fvd=600.0, confusion_degree=0.1)
    code, out, _ = run(capsys, base, new, "--max-drop", "sequence_consistency=0", "--max-rise", "fvd=0")
    assert code == 0
    assert out.count("| improved |") == 3


def test_ungated_worsening_does_not_fail(tmp_path, base, capsys):
    new = new_file(tmp_path, confusion_degree=0.5)
    code, out, _ = run(capsys, base, new)
    assert code == 0 and "worse (no gate)" in out


def test_paired_difference_ci_matches_a_numpy_bootstrap(tmp_path, base):
    from leaderboard.results_input import read_results

    new_scores = [41.0, 46.0, 57.0]
    new = new_file(tmp_path, item_scores=new_scores, sequence_consistency=48.0)
    cmp = compare_results(read_results(base), read_results(new), ci_method="percentile")
    row = next(m for m in cmp.metrics if m.metric == "sequence_consistency")
    diffs = np.array(new_scores) - np.array([40.0, 47.0, 55.35])
    rng = np.random.default_rng(0)
    means = diffs[rng.integers(0, 3, size=(1000, 3))].mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    assert row.paired["mean"] == pytest.approx(diffs.mean(), abs=1e-6)
    assert row.paired["ci95"] == pytest.approx([lo, hi], abs=1e-6)
    assert row.delta == pytest.approx(48.0 - 47.45)
    # the default paired interval is BCa: scipy called directly with the same generator
    bca = compare_results(read_results(base), read_results(new))
    row = next(m for m in bca.metrics if m.metric == "sequence_consistency")
    ref = scipy.stats.bootstrap((diffs,), np.mean, n_resamples=1000, method="BCa", rng=np.random.default_rng(0))
    ci = ref.confidence_interval
    assert row.paired["ci95"] == pytest.approx([ci.low, ci.high], abs=1e-6)


# --- interval gate mode: fail only on a drop beyond the threshold AND outside the paired CI ---------------

NOISY_BASE = [40.0, 52.0, 47.0, 61.0, 35.0, 58.0, 44.0, 50.0]
#: per-item changes: mean -1.0 (beyond a 0.5 threshold) but noise of several points either way
NOISY_CHANGE = [6.0, -9.0, 4.0, -7.0, 5.0, -8.0, 3.0, -2.0]
#: per-item changes: mean -1.0 and every item drops (the paired CI lies below 0)
STEADY_CHANGE = [-0.8, -1.2, -0.9, -1.1, -1.0, -0.7, -1.3, -1.0]


def _pair(tmp_path, change, name):
    base_items = {f"i{k}": v for k, v in enumerate(NOISY_BASE)}
    new_items = {f"i{k}": v + c for k, (v, c) in enumerate(zip(NOISY_BASE, change))}
    mean = float(np.mean(NOISY_BASE))
    b = write(tmp_path, f"{name}_b.json", make_results("m", {"sequence_consistency": mean, "fvd": 700.0},
                                                         items=_four_items(base_items)))
    n = write(tmp_path, f"{name}_n.json", make_results("m", {"sequence_consistency": mean + float(np.mean(change)),
                                                             "fvd": 712.0}, version="2",
                                                         items=_four_items(new_items)))
    return b, n


def _independent_paired_ci(change):
    res = scipy.stats.bootstrap((np.asarray(change),), np.mean, n_resamples=1000, method="BCa",
                                rng=np.random.default_rng(0))
    return res.confidence_interval.low, res.confidence_interval.high


def test_interval_mode_passes_a_drop_the_paired_interval_cannot_tell_from_zero(tmp_path, capsys):
    b, n = _pair(tmp_path, NOISY_CHANGE, "noisy")
    lo, hi = _independent_paired_ci(NOISY_CHANGE)
    assert lo < 0 < hi and np.mean(NOISY_CHANGE) < -0.5  # the premise: Δ beyond the threshold, CI contains 0
    gate = ["--max-drop", "sequence_consistency=0.5"]
    code, out, _ = run(capsys, b, n, *gate)
    assert code == 1 and "Regressions: sequence_consistency" in out  # point mode: fails on Δ = -1.00
    code, out, _ = run(capsys, b, n, *gate, "--gate-mode", "interval")
    assert code == 0 and "PASS" in out
    assert "pass (beyond the threshold, but the paired CI contains 0)" in out
    assert "max-drop 0.5 (paired, CI must exclude 0)" in out
    assert f"-1.00 [{lo:+.2f}, {hi:+.2f}] (8)" in out


def test_interval_mode_fails_a_drop_beyond_threshold_and_outside_the_interval(tmp_path, capsys):
    b, n = _pair(tmp_path, STEADY_CHANGE, "steady")
    lo, hi = _independent_paired_ci(STEADY_CHANGE)
    assert hi < 0
    gate = ["--max-drop", "sequence_consistency=0.5"]
    assert run(capsys, b, n, *gate)[0] == 1
    code, out, _ = run(capsys, b, n, *gate, "--gate-mode", "interval")
    assert code == 1 and "Regressions: sequence_consistency" in out
    # significant but within the threshold: passes in both modes
    assert run(capsys, b, n, "--max-drop", "sequence_consistency=1.5", "--gate-mode", "interval")[0] == 0
    assert run(capsys, b, n, "--max-drop", "sequence_consistency=1.5")[0] == 0


def test_interval_mode_judges_a_metric_without_per_item_scores_on_its_means(tmp_path, capsys):
    b, n = _pair(tmp_path, STEADY_CHANGE, "fvd")
    code, out, _ = run(capsys, b, n, "--max-rise", "fvd=10", "--gate-mode", "interval")
    assert code == 1 and "Regressions: fvd" in out  # 712 - 700 = 12 > 10, judged on Δ
    assert "fvd has no per-item scores, so no paired interval" in out
    assert run(capsys, b, n, "--max-rise", "fvd=15", "--gate-mode", "interval")[0] == 0


@pytest.mark.parametrize("change", [
    {"suite": ("mvbench-demo", "1", "00" * 32)},
    {"suite": ("mvbench-demo", "2", "ab" * 32)},
    {"weights_sha": "ee" * 32},
    {"calibrated": False},
    {"config": {"metrics": [], "encoder": "viclip-b16", "seed": 0, "bootstrap": 1000, "batch_size": 4}},
])
def test_incomparable_runs_exit_2_unless_forced(tmp_path, base, capsys, change):
    new = write(tmp_path, "other.json", make_results("model", BASE, **change))
    code, out, _ = run(capsys, base, new)
    assert code == 2 and "INCOMPARABLE" in out and "Not comparable" in out
    code, out, _ = run(capsys, base, new, "--force")
    assert code == 0 and "Compared anyway (--force)" in out


def test_runtime_settings_do_not_make_runs_incomparable(tmp_path, base, capsys):
    cfg = {"metrics": ["fvd"], "encoder": "viclip-l14", "seed": 0, "bootstrap": 200, "batch_size": 64}
    new = write(tmp_path, "n.json", make_results("model", BASE, config=cfg))
    assert run(capsys, base, new)[0] == 0
    # interval methods change the intervals, not the values: an older file without them stays comparable
    a = write(tmp_path, "a.json", make_results("model", BASE, config={
        "seed": 0, "scorers": {"fvd": {"stride": 1, "metrics": {"fvd": {"extractor": "i3d-k400"}}}}}))
    b = write(tmp_path, "b.json", make_results("model", BASE, config={
        "seed": 0, "ci_method": "bca",
        "scorers": {"fvd": {"stride": 1, "interval": "shifted", "metrics": {"fvd": {"extractor": "i3d-k400"}}}}}))
    assert run(capsys, a, b)[0] == 0
    c = write(tmp_path, "c.json", make_results("model", BASE, config={
        "seed": 0, "scorers": {"fvd": {"stride": 2, "metrics": {"fvd": {"extractor": "i3d-k400"}}}}}))
    assert run(capsys, a, c)[0] == 2  # a real protocol change still is not


@pytest.mark.parametrize("args", [
    ["--max-drop", "sequence_consistency"],
    ["--max-drop", "sequence_consistency=-1"],
    ["--max-drop", "sequence_consistency=abc"],
    ["--max-rise", "sequence_consistency=1"],
    ["--max-rise", "no_such_metric=1"],
])
def test_bad_thresholds_exit_2(tmp_path, base, capsys, args):
    new = new_file(tmp_path)
    code, _, err = run(capsys, base, new, *args)
    assert code == 2 and "error" in err


def test_malformed_input_exits_2(tmp_path, base, capsys):
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2")
    code, _, err = run(capsys, base, junk)
    assert code == 2 and "junk.json" in err
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"schema": "something/1"}')
    assert run(capsys, base, wrong)[0] == 2
    assert run(capsys, base, tmp_path / "missing.json")[0] == 2


def test_gated_metric_without_a_value_in_new_is_a_regression(tmp_path, base, capsys):
    new = write(tmp_path, "n.json", make_results("model", {**BASE, "fvd": None}))
    code, out, _ = run(capsys, base, new, "--max-rise", "fvd=10", "--out", tmp_path / "summary.md")
    assert code == 1 and "missing" not in out.split("| fvd ↓")[1].split("\n")[0]
    assert (tmp_path / "summary.md").read_text() == out


# --- item coverage, non-finite means, added metrics, terminal text (review findings) ---------------------

def _four_items(scores: dict[str, float]) -> dict:
    return {i: {"scores": {"sequence_consistency": s}, "details": {}} for i, s in scores.items()}


def test_new_run_with_failed_items_does_not_pass_silently(tmp_path, capsys):
    base_scores = {"a": 40.0, "b": 50.0, "c": 60.0, "d": 70.0}
    base = write(tmp_path, "b.json", make_results("m", {"sequence_consistency": 55.0}, items=_four_items(base_scores)))
    # new: a, b, c failed; the mean over the one remaining item (d) is higher than the base mean
    fails = {i: {"stage": "decode", "kind": "unreadable", "file": None, "error": "x"} for i in "abc"}
    new = write(tmp_path, "n.json", make_results("m", {"sequence_consistency": 69.0},
                                                  items=_four_items({"d": 69.0}), failures=fails))
    code, out, err = run(capsys, base, new, "--max-drop", "sequence_consistency=0.5")
    assert code == 2
    assert "INCOMPLETE" in out and "failed 3 item(s) the base scored: a, b, c" in err
    assert "--allow-failures" in err
    # with --allow-failures the gate judges the paired mean over the common item d: 69 - 70 = -1 < -0.5
    code, out, _ = run(capsys, base, new, "--max-drop", "sequence_consistency=0.5", "--allow-failures")
    assert code == 1 and "max-drop 0.5 (paired)" in out
    code, _, _ = run(capsys, base, new, "--max-drop", "sequence_consistency=1.0", "--allow-failures")
    assert code == 0
    # an item simply absent from the new run counts like a failed one
    absent = write(tmp_path, "a.json", make_results("m", {"sequence_consistency": 55.0},
                                                     items=_four_items({"a": 40.0, "b": 50.0, "c": 60.0})))
    code, _, err = run(capsys, base, absent)
    assert code == 2 and "failed 1 item(s) the base scored: d" in err


def test_allow_failures_cannot_gate_a_metric_without_per_item_scores(tmp_path, capsys):
    base = write(tmp_path, "b.json", make_results("m", {"fvd": 700.0, "sequence_consistency": 50.0},
                                                   items=_four_items({"a": 50.0, "b": 50.0})))
    new = write(tmp_path, "n.json", make_results("m", {"fvd": 700.0, "sequence_consistency": 50.0},
                                                  items=_four_items({"a": 50.0}),
                                                  failures={"b": {"stage": "score", "error": "x"}}))
    code, _, err = run(capsys, base, new, "--max-rise", "fvd=10", "--allow-failures")
    assert code == 2 and "fvd has no per-item scores" in err


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_mean_counts_as_missing(tmp_path, base, capsys, bad):
    doc = make_results("model", BASE, version="2", items=items([40.0, 47.0, 55.35]))
    doc["metrics"]["fvd"]["mean"] = bad
    doc["metrics"]["fvd"]["ci95"] = None
    new = tmp_path / "nan.json"
    import json
    new.write_text(json.dumps(doc))  # json writes NaN/Infinity; mvbench's writer refuses them
    code, out, _ = run(capsys, base, new, "--max-rise", "fvd=10")
    assert code == 1 and "Regressions: fvd" in out
    code, out, _ = run(capsys, base, new)  # ungated: reported, never "unchanged" or "improved"
    assert code == 0 and "| missing value |" in out.split("| fvd ↓")[1].split("\n")[0]
    code, _, err = run(capsys, new, base, "--max-rise", "fvd=10")  # a non-finite base value cannot be gated
    assert code == 2 and "no finite value" in err


def test_adding_a_metric_keeps_runs_comparable(tmp_path, capsys):
    cfg = {"metrics": ["sequence_consistency"], "seed": 0,
           "scorers": {"consistency": {"encoder": "viclip-l14", "vc_pairs": "all"}}}
    base = write(tmp_path, "b.json", make_results("m", {"sequence_consistency": 47.0}, config=cfg))
    cfg_new = {"metrics": ["sequence_consistency", "fvd"], "seed": 0,
               "scorers": {"consistency": {"encoder": "viclip-l14", "vc_pairs": "all"},
                           "fvd": {"stride": 1, "metrics": {"fvd": {"extractor": "i3d"}}}}}
    doc = make_results("m", {"sequence_consistency": 47.0, "fvd": 700.0}, config=cfg_new)
    doc["encoders"]["i3d"] = {"name": "i3d", "weights_sha256": "11" * 32, "calibrated": True}
    new = write(tmp_path, "n.json", doc)
    code, out, _ = run(capsys, base, new)
    assert code == 0 and "fvd is only in" in out
    # a changed setting of a scorer both runs used still makes them incomparable, shown without HTML escapes
    cfg_changed = {**cfg_new, "scorers": {**cfg_new["scorers"], "consistency": {"encoder": "viclip-l14"}}}
    changed = write(tmp_path, "c.json", make_results("m", {"sequence_consistency": 47.0}, config=cfg_changed))
    code, out, _ = run(capsys, base, changed)
    assert code == 2
    assert "config scorers.consistency.vc_pairs = 'all' vs (unset)" in out
    assert "&lt;" not in out and "&gt;" not in out
