"""Shared fixtures: an isolated MVBENCH_HOME and small rendered submissions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mvbench.demo import render_submission
from mvbench.suite import load_suite


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Never touch the user's cache: every test gets its own empty MVBENCH_HOME."""
    home = tmp_path_factory.mktemp("mvbench_home")
    monkeypatch.setenv("MVBENCH_HOME", str(home))
    yield home


@pytest.fixture(scope="session")
def demo_suite():
    return load_suite("mvbench-demo")


@pytest.fixture(scope="session")
def _rendered_demo(tmp_path_factory, demo_suite) -> Path:
    out = tmp_path_factory.mktemp("demo_render") / "videos"
    render_submission(demo_suite, out, n_frames=12, size=48, container=".mp4")
    return out


@pytest.fixture
def demo_videos(tmp_path, _rendered_demo) -> Path:
    """A fresh, writable copy of the rendered 4-item demo submission."""
    dst = tmp_path / "videos"
    shutil.copytree(_rendered_demo, dst)
    return dst


@pytest.fixture(scope="session")
def tiny_encoder():
    from mvbench.encoders import create_encoder

    return create_encoder("tiny", device="cpu")
