"""No bundled consistency prompt is truncated by ViCLIP's 32-token text context.

Semantic Consistency compares each scene's video with its scene prompt through ViCLIP's text tower, which
reads ``[SOT] + 30 BPE tokens + [EOT]``; a longer prompt is cut, so the score would mostly measure its
beginning. Every bundled suite that has multi-scene items (the consistency suites) must fit whole. The
long-plot suite is a Confusion Degree suite: its single scene repeats the 150+ word global prompt, which
is truncated by design (docs/suites.md says what the encoder reads of it); its frame-level prompts fit.
"""

from __future__ import annotations

import pytest

from mvbench.suite import bundled_suites, load_suite

tokenizer_mod = pytest.importorskip("mvbench.encoders.viclip_tokenizer")
#: bundled suites that are not scored for consistency, and why
NOT_CONSISTENCY_SUITES = {"mvbench-longplot": "single-scene Confusion Degree suite (docs/confusion_degree.md)"}


def consistency_suites() -> list[str]:
    return [name for name in bundled_suites() if any(len(it.scenes) > 1 for it in load_suite(name).items)]


def test_every_bundled_suite_is_classified():
    assert set(bundled_suites()) == set(consistency_suites()) | set(NOT_CONSISTENCY_SUITES)
    assert {"mvbench-3scene", "mvbench-demo"} <= set(consistency_suites())


@pytest.mark.parametrize("name", consistency_suites())
def test_no_consistency_prompt_is_truncated(name):
    tok = tokenizer_mod.ViclipTokenizer(context_length=tokenizer_mod.VICLIP_CONTEXT_LENGTH)
    suite = load_suite(name)
    prompts = [sc.prompt for it in suite.items for sc in it.scenes]
    _, truncated = tok(prompts)
    cut = [p for p, t in zip(prompts, truncated) if t]
    assert not cut, f"{name}: {len(cut)} scene prompt(s) exceed ViCLIP's 32 tokens, e.g. {cut[0]!r}"
    for p in prompts:  # independent count: open_clip's BPE plus start and end tokens
        assert len(tokenizer_mod.SimpleTokenizer().encode(p)) + 2 <= 32, p


def test_longplot_frame_prompts_fit_and_global_prompts_are_read_in_part():
    tok = tokenizer_mod.ViclipTokenizer()
    suite = load_suite("mvbench-longplot")
    frames = [p for it in suite.items for sc in it.scenes for p in sc.frame_prompts or []]
    assert not any(tok(frames)[1])
    # what ViCLIP reads of each global prompt: the longest run of leading words within 30 tokens
    read = []
    for it in suite.items:
        words = it.global_prompt.split()
        k = max(i for i in range(1, len(words) + 1) if len(tok.encode(" ".join(words[:i]))) <= 30)
        read.append((k, len(words)))
    assert min(k for k, _ in read) >= 20 and max(k for k, _ in read) <= 30  # docs/suites.md: 23-28 words
    assert max(k / n for k, n in read) < 0.2  # under a fifth of each global prompt
