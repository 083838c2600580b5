"""Confusion Degree (Eq. 3-5) and text-video consistency against float64 references and hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from metrics import (
    confusion_degree,
    frame_text_consistency,
    normalize_confusion_degree,
    video_text_consistency,
)


def reference_cd(text: np.ndarray, seg: np.ndarray, eps: float, policy: str) -> tuple[float | None, list]:
    """Eq. 3-5 written out with explicit loops in float64 (independent of the code under test)."""
    n = text.shape[0]

    def cos(a, b):
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))

    per = []
    for i in range(n):
        norm_tf = cos(text[i], seg[i])
        if norm_tf < eps:
            if policy == "exclude":
                per.append(None)
                continue
            norm_tf = eps
        norm_tt = cos(text[i], text[i])
        total = 0.0
        for j in range(n):
            total += max(0.0, cos(text[i], seg[j]) / norm_tf - cos(text[i], text[j]) / norm_tt)
        per.append(total)
    usable = [v for v in per if v is not None]
    return (sum(usable) / len(usable) if usable else None), per


def unit(*rows) -> torch.Tensor:
    x = torch.tensor(rows, dtype=torch.float64)
    return x / x.norm(dim=1, keepdim=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("policy", ["exclude", "floor"])
def test_matches_float64_reference_on_random_embeddings(seed, policy):
    rng = np.random.default_rng(seed)
    f, d = 7, 12
    text = rng.normal(size=(f, d))
    # segments correlated with their prompts, so most normalisers are positive but some may not be
    seg = 0.8 * text + rng.normal(size=(f, d))
    res = confusion_degree(torch.tensor(text, dtype=torch.float32), torch.tensor(seg, dtype=torch.float32),
                           eps=0.05, degenerate=policy)
    ref_cd, ref_per = reference_cd(text.astype(np.float32).astype(np.float64),
                                   seg.astype(np.float32).astype(np.float64), 0.05, policy)
    assert res.cd == pytest.approx(ref_cd, rel=1e-9, abs=1e-12)
    for got, want in zip(res.per_prompt_list(), ref_per):
        if want is None:
            assert got is None
        else:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    diag = [np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)) for a, b in zip(text, seg)]
    assert res.num_degenerate == sum(v < 0.05 for v in diag)


def test_random_case_with_degenerate_prompts_is_counted():
    rng = np.random.default_rng(5)
    text = rng.normal(size=(9, 6))
    seg = rng.normal(size=(9, 6))  # uncorrelated: about half the normalisers are negative
    diag = [np.dot(t, s) / np.linalg.norm(t) / np.linalg.norm(s) for t, s in zip(text, seg)]
    expected = sum(v < 0.01 for v in diag)
    assert 0 < expected < 9
    res = confusion_degree(torch.tensor(text), torch.tensor(seg))
    assert res.num_degenerate == expected
    assert res.cd is not None and math.isfinite(res.cd)


def test_perfect_alignment_with_orthogonal_prompts_is_zero():
    eye = torch.eye(3, dtype=torch.float64)
    res = confusion_degree(eye, eye)
    assert res.cd == 0.0
    assert res.per_prompt.tolist() == [0.0, 0.0, 0.0]
    assert torch.equal(res.s_tt, eye) and torch.equal(res.s_tf_norm, eye)


def test_segments_equal_to_prompt_embeddings_give_zero_for_any_prompts():
    text = torch.randn(5, 8, generator=torch.Generator().manual_seed(3))
    assert confusion_degree(text, text.clone(), degenerate="floor").cd == pytest.approx(0.0, abs=1e-12)


def test_every_segment_showing_prompt_one_gives_large_cd():
    # prompts are orthonormal e1, e2, e3; every segment is the same clip, mostly prompt 1's content
    # (with a faint trace of the others so no normaliser is zero). Then S~_TF(P_i, V_j) = 1 for all
    # j and, with S~_TT = I, CD_i = sum_{j != i} 1 = 2 for every i: CD = F - 1 = 2.
    text = torch.eye(3, dtype=torch.float64)
    seg = unit([1.0, 0.1, 0.1], [1.0, 0.1, 0.1], [1.0, 0.1, 0.1])
    res = confusion_degree(text, seg)
    assert res.cd == pytest.approx(2.0, abs=1e-12)
    assert res.per_prompt.tolist() == pytest.approx([2.0, 2.0, 2.0], abs=1e-12)
    assert res.num_degenerate == 0


def test_permuting_segments_changes_cd_as_hand_worked():
    # t_i = e_i; V_j = (2 e_j + sum_{k != j} e_k) / sqrt(6). In order: S~_TF(i, j) = 1 if i == j else 1/2,
    # so CD_i = 1/2 + 1/2 = 1 and CD = 1.
    text = torch.eye(3, dtype=torch.float64)
    v1, v2, v3 = [2.0, 1.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 2.0]
    in_order = confusion_degree(text, unit(v1, v2, v3))
    assert in_order.cd == pytest.approx(1.0, abs=1e-12)
    # Swap segments 1 and 2: row 1 is [1, 2, 1] / 1 - [1, 0, 0] -> [0, 2, 1] -> CD_1 = 3;
    # row 2 is [2, 1, 1] / 1 - [0, 1, 0] -> [2, 0, 1] -> CD_2 = 3; row 3 is [1, 1, 2] / 2 - e3 -> CD_3 = 1.
    swapped = confusion_degree(text, unit(v2, v1, v3))
    assert swapped.per_prompt.tolist() == pytest.approx([3.0, 3.0, 1.0], abs=1e-12)
    assert swapped.cd == pytest.approx(7.0 / 3.0, abs=1e-12)


@pytest.mark.parametrize("f", [2, 3, 5, 8])
def test_cd_grows_with_f_and_the_normalised_variant_does_not(f):
    """F orthonormal prompts, every segment the same clip mostly showing prompt 1 (a faint trace of the
    others keeps every normaliser positive): by hand, S~_TF(i, j) = 1 for all j and S~_TT = I, so every
    CD_i = F - 1, CD = F - 1, and the per-pair CD / (F - 1) = 1 whatever F."""
    text = torch.eye(f, dtype=torch.float64)
    clip = [1.0] + [0.1] * (f - 1)
    res = confusion_degree(text, unit(*[clip] * f))
    assert res.cd == pytest.approx(f - 1, abs=1e-12)
    assert res.cd_normalized == pytest.approx(1.0, abs=1e-12)
    assert normalize_confusion_degree(res.cd, f) == pytest.approx(1.0, abs=1e-12)


def test_normalised_variant_hand_worked_on_the_swapped_segments():
    # the swap of test_permuting_segments_changes_cd_as_hand_worked: CD_i = 3, 3, 1 over F - 1 = 2 other
    # segments each, i.e. per-pair terms (0 + 2 + 1, 2 + 0 + 1, 0.5 + 0.5) / 6 ordered pairs = 7/6
    text = torch.eye(3, dtype=torch.float64)
    swapped = confusion_degree(text, unit([1.0, 2.0, 1.0], [2.0, 1.0, 1.0], [1.0, 1.0, 2.0]))
    assert swapped.cd_normalized == pytest.approx(7.0 / 6.0, abs=1e-12)
    # one prompt: no pair, no value; a missing CD stays missing
    assert confusion_degree(torch.eye(1, 4, dtype=torch.float64), torch.eye(1, 4, dtype=torch.float64)).cd_normalized is None
    assert normalize_confusion_degree(None, 4) is None


@pytest.mark.parametrize("seed", [0, 1])
def test_normalised_variant_is_the_mean_over_ordered_pairs(seed):
    """Independent: the mean of max(0, S~_TF - S~_TT) over the F (F - 1) ordered pairs i != j, in numpy."""
    rng = np.random.default_rng(seed)
    f = 6
    text = rng.normal(size=(f, 12))
    seg = text + 0.8 * rng.normal(size=(f, 12))
    t = text / np.linalg.norm(text, axis=1, keepdims=True)
    v = seg / np.linalg.norm(seg, axis=1, keepdims=True)
    stf, stt = t @ v.T, t @ t.T
    assert (np.diag(stf) > 0.01).all()
    terms = np.maximum(stf / np.diag(stf)[:, None] - stt / np.diag(stt)[:, None], 0.0)
    pairs = [terms[i, j] for i in range(f) for j in range(f) if i != j]
    res = confusion_degree(torch.tensor(text), torch.tensor(seg))
    assert res.cd_normalized == pytest.approx(float(np.mean(pairs)), abs=1e-12)


def test_similar_prompts_forgive_similar_segments():
    # identical prompts 1 and 2 (adjacent segments sharing text): S~_TT(1, 2) = 1 so a segment 2
    # that matches prompt 1 exactly as well as segment 1 costs nothing
    text = unit([1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    seg = unit([1.0, 0.2, 0.0], [1.0, 0.2, 0.0], [0.0, 0.2, 1.0])
    res = confusion_degree(text, seg)
    assert res.per_prompt.tolist()[:2] == pytest.approx([0.0, 0.0], abs=1e-12)


@pytest.mark.parametrize("diag_value", [0.0, -0.3, 1e-4])
def test_degenerate_normaliser_exclude_policy(diag_value):
    # prompt 2's own segment has cosine `diag_value` with it (zero, negative, tiny)
    text = torch.eye(3, dtype=torch.float64)
    s = math.sqrt(1.0 - diag_value**2)
    seg = torch.tensor([[1.0, 0.0, 0.0], [s, diag_value, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    res = confusion_degree(text, seg, eps=0.01, degenerate="exclude")
    assert res.degenerate.tolist() == [False, True, False]
    assert res.num_degenerate == 1
    per = res.per_prompt_list()
    assert per[1] is None
    # prompt 1: S_TF(1, .) = [1, s, 0] -> CD_1 = s; prompt 3: CD_3 = 0. CD = mean over the two usable ones
    assert per[0] == pytest.approx(s, abs=1e-12) and per[2] == pytest.approx(0.0, abs=1e-12)
    assert res.cd == pytest.approx(s / 2.0, abs=1e-12)
    assert not torch.isinf(res.s_tf_norm).any()


def test_degenerate_normaliser_floor_policy():
    text = torch.eye(3, dtype=torch.float64)
    seg = unit([1.0, 0.0, 0.0], [1.0, -0.2, 0.0], [0.0, 0.3, 1.0])
    res = confusion_degree(text, seg, eps=0.05, degenerate="floor")
    assert res.num_degenerate == 1
    # row 2: S_TF(2, .) = [0, -0.2/|.|, 0.3/|.|]; normaliser floored to 0.05
    s21 = -0.2 / math.hypot(1.0, 0.2)
    s23 = 0.3 / math.hypot(1.0, 0.3)
    want2 = max(0.0, 0.0 / 0.05) + max(0.0, s21 / 0.05 - 1.0) + max(0.0, s23 / 0.05)
    assert res.per_prompt[1].item() == pytest.approx(want2, rel=1e-12)
    assert all(math.isfinite(v) for v in res.per_prompt.tolist())


def test_all_prompts_degenerate_gives_undefined_cd_not_nan():
    text = torch.eye(2, dtype=torch.float64)
    seg = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    res = confusion_degree(text, seg)
    assert res.cd is None and res.num_degenerate == 2


def test_input_errors():
    with pytest.raises(ValueError, match="one segment per frame-level prompt"):
        confusion_degree(torch.randn(3, 4), torch.randn(2, 4))
    with pytest.raises(ValueError, match="zero vectors"):
        confusion_degree(torch.zeros(2, 4), torch.randn(2, 4))
    with pytest.raises(ValueError, match="degenerate must be"):
        confusion_degree(torch.eye(2), torch.eye(2), degenerate="clip")


def test_video_and_frame_text_consistency_match_numpy():
    rng = np.random.default_rng(11)
    g, v = rng.normal(size=8), rng.normal(size=8)
    want = np.dot(g, v) / (np.linalg.norm(g) * np.linalg.norm(v))
    assert video_text_consistency(torch.tensor(g), torch.tensor(v)) == pytest.approx(want, rel=1e-12)
    t, s = rng.normal(size=(4, 8)), rng.normal(size=(4, 8))
    want_f = np.mean([np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)) for a, b in zip(t, s)])
    assert frame_text_consistency(torch.tensor(t), torch.tensor(s)) == pytest.approx(want_f, rel=1e-12)
