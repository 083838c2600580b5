"""The bundled mvbench-longplot suite: size, prompt lengths and frame-level prompts."""

from __future__ import annotations

import pytest

from mvbench.suite import bundled_suites, load_suite


@pytest.fixture(scope="module")
def suite():
    return load_suite("mvbench-longplot")


def test_bundled_and_at_least_30_items(suite):
    assert "mvbench-longplot" in bundled_suites()
    assert suite.name == "mvbench-longplot" and len(suite.items) >= 30
    cats = [it.meta.get("category") for it in suite.items]
    assert cats.count("complex_plot") >= 15 and cats.count("complex_landscape") >= 15


def test_global_prompts_are_long_and_distinct(suite):
    for it in suite.items:
        assert it.global_prompt and len(it.global_prompt.split()) >= 150, it.id
    assert len({it.global_prompt for it in suite.items}) == len(suite.items)


def test_single_scene_with_frame_prompts(suite):
    for it in suite.items:
        assert len(it.scenes) == 1, it.id
        fps = it.scenes[0].frame_prompts
        assert 5 <= len(fps) <= 12, it.id
        assert len(set(fps)) >= len(fps) - 2, it.id  # adjacent segments may share text, but rarely
        for k, p in enumerate(fps):
            if p in fps[:k]:
                assert fps[k - 1] == p, f"{it.id}: repeated frame prompt {k} is not adjacent to its twin"


def test_frame_prompts_fit_the_viclip_text_context(suite):
    # ViCLIP reads 32 BPE tokens including start/end; a longer frame prompt would be truncated
    tokenizer = pytest.importorskip("open_clip.tokenizer").SimpleTokenizer()
    for it in suite.items:
        for p in it.scenes[0].frame_prompts:
            assert len(tokenizer.encode(p)) + 2 <= 32, (it.id, p)
