"""Builders of small, valid results files for the leaderboard/compare/html tests (plus their own checks)."""

from __future__ import annotations

import copy
import json

import pytest

from mvbench.results import write_results

DIRECTIONS = {"visual_consistency": True, "semantic_consistency": True, "sequence_consistency": True,
              "fvd": False, "confusion_degree": False, "id_f1": True}


def make_results(name: str, means: dict[str, float | None], *, version: str = "", suite=("mvbench-demo", "1", "ab" * 32),
                 calibrated: bool = True, failures: dict | None = None, items: dict | None = None,
                 config: dict | None = None, weights_sha: str = "cd" * 32, half_ci: float = 0.5,
                 unreliable: tuple[str, ...] = ()) -> dict:
    """A complete ``mvbench.results/1`` document with the given metric means (CI = mean ± half_ci)."""
    metrics = {}
    for metric, mean in means.items():
        metrics[metric] = {
            "mean": mean, "ci95": None if mean is None else [mean - half_ci, mean + half_ci],
            "n": 3, "higher_is_better": DIRECTIONS.get(metric, True), "std": None if mean is None else 1.0}
        if metric in unreliable:
            metrics[metric]["unreliable"] = True
    return {
        "schema": "mvbench.results/1",
        "model": {"name": name, "version": version, "notes": ""},
        "suite": {"name": suite[0], "version": suite[1], "content_hash": suite[2], "source": "bundled"},
        "mvbench_version": "0.1.0",
        "encoders": {"viclip-l14": {"name": "viclip-l14", "weights": "viclip.pth", "weights_sha256": weights_sha,
                                    "calibrated": calibrated, "preprocess": {"frames": 8, "size": 224}}},
        "config": copy.deepcopy(config) if config is not None else
        {"metrics": sorted(means), "encoder": "viclip-l14", "seed": 0, "bootstrap": 1000, "batch_size": 4},
        "calibrated": calibrated,
        "created": "2025-01-01T00:00:00+00:00",
        "environment": {"python": "3.11", "torch": "2.x", "platform": "linux", "device": "cpu"},
        "metrics": metrics,
        "items": items or {},
        "failures": failures or {},
    }


def write(tmp_path, file_name: str, doc: dict):
    path = tmp_path / file_name
    write_results(path, doc)
    return path


def test_support_documents_load_with_the_project_loader(tmp_path):
    from leaderboard.results_input import read_results

    path = write(tmp_path, "a.json", make_results("A", {"fvd": 10.0}))
    assert read_results(path)["metrics"]["fvd"]["mean"] == 10.0


def test_read_results_names_the_file_on_bad_input(tmp_path):
    from leaderboard.results_input import read_results
    from mvbench.errors import MvbenchError

    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(MvbenchError, match="broken.json"):
        read_results(bad)
    nameless = make_results("", {"fvd": 1.0})
    path = tmp_path / "nameless.json"
    path.write_text(json.dumps(nameless))
    with pytest.raises(MvbenchError, match="nameless.json.*model.name"):
        read_results(path)
