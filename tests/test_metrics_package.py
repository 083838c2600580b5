"""The ``metrics`` package's lazy exports: every name resolves to what its module defines."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import metrics


@pytest.mark.parametrize("name", metrics.__all__)
def test_every_export_is_the_object_its_module_defines(name):
    module = importlib.import_module(metrics._EXPORTS[name])
    assert getattr(metrics, name) is getattr(module, name)


@pytest.mark.parametrize("name", ["inception_score", "pooled_mean", "scene_consistency"])
def test_function_named_like_its_module_wins_after_the_module_is_imported(name):
    # a fresh interpreter: import the submodule first (this binds the package attribute), then the name
    code = (f"import metrics.{name}, types\n"
            f"from metrics import {name}\n"
            f"assert callable({name}) and not isinstance({name}, types.ModuleType), {name}\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
