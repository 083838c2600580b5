"""benchmarks/pmwd_cost.py: the model-free call counts against the samplers' closed forms (docs/pmwd.md)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "pmwd_cost.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("pmwd_cost", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("steps,multiple", [(10, 1), (10, 4), (25, 2), (50, 8)])
def test_counts_match_closed_forms(bench, steps, multiple):
    window = 21
    frames = multiple * window
    pmwd = bench.count("pmwd", frames, steps, window)
    windows = math.ceil((frames - window) / (window // 2)) + 1  # K, stride W // 2
    assert (pmwd["calls"], pmwd["window_forwards"]) == (steps, steps * windows)
    sliding = bench.count("sliding", frames, steps, window)
    chunks = 1 + math.ceil((frames - window) / (window // 2))
    assert (sliding["calls"], sliding["window_forwards"]) == (steps * chunks, steps * chunks)
    fifo = bench.count("fifo", frames, steps, window)
    assert fifo["calls"] == steps + frames - 1  # one clean frame leaves per iteration
    # every call evaluates the windows tiling the queue of min(N, ...) frames in flight
    assert all(int(k) <= math.ceil(steps / window) + 1 for k in fifo["batches"])
    assert sum(int(k) * n for k, n in fifo["batches"].items()) == fifo["window_forwards"]


def test_fifo_is_dearer_at_few_steps_and_cheaper_at_fifty(bench):
    """The audit's finding: at 2 steps FIFO evaluates a whole window for two moving frames; at 50 it shares."""
    few = [bench.count(name, 84, 2, 21)["window_forwards"] for name in ("pmwd", "fifo")]
    many = [bench.count(name, 84, 50, 21)["window_forwards"] for name in ("pmwd", "fifo")]
    assert few[1] > 5 * few[0] and many[1] < 0.75 * many[0]


def test_fit_line(bench):
    assert bench.fit_line([(1, 3.0), (3, 7.0)]) == pytest.approx((1.0, 2.0))
    assert bench.fit_line([(2, 4.0)]) == (0.0, 2.0)
