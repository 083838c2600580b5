"""The differentiable metric variants (issue 14): same values as the exact float64 functions, gradients
that flow (torch.autograd.gradcheck on small double inputs), dtype and device kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from metrics import (
    confusion_degree,
    confusion_degree_differentiable,
    frame_text_consistency,
    frame_text_consistency_differentiable,
    frechet_distance,
    frechet_distance_differentiable,
    gaussian_fit_differentiable,
    semantic_consistency,
    semantic_consistency_differentiable,
    sequence_consistency,
    sequence_consistency_differentiable,
    video_text_consistency,
    video_text_consistency_differentiable,
    visual_consistency,
    visual_consistency_differentiable,
)


def _x(seed: int, *shape: int, requires_grad: bool = False) -> torch.Tensor:
    t = torch.from_numpy(np.random.default_rng(seed).normal(size=shape))
    return t.requires_grad_(requires_grad)


@pytest.mark.parametrize("pairs", ["all", "consecutive"])
def test_consistency_values_equal_the_exact_path(pairs):
    v, t = _x(0, 4, 6), _x(1, 4, 6)
    assert visual_consistency_differentiable(v, pairs).item() == pytest.approx(visual_consistency(v, pairs), abs=1e-10)
    assert semantic_consistency_differentiable(v, t).item() == pytest.approx(semantic_consistency(v, t), abs=1e-10)
    exact_seq = sequence_consistency(visual_consistency(v, pairs), semantic_consistency(v, t))
    assert sequence_consistency_differentiable(v, t, pairs).item() == pytest.approx(exact_seq, abs=1e-10)


def test_confusion_values_equal_the_exact_path():
    t, s = _x(2, 5, 6), _x(3, 5, 6)
    s[0] = t[0] * 2  # prompt 0 is well shown by its segment; random others include degenerate prompts
    for policy in ("exclude", "floor"):
        exact = confusion_degree(t, s, eps=0.01, degenerate=policy)
        got = confusion_degree_differentiable(t, s, eps=0.01, degenerate=policy)
        assert exact.cd is not None and got.item() == pytest.approx(exact.cd, abs=1e-10)
    assert 0 < confusion_degree(t, s).num_degenerate < 5  # both branches of the policy were exercised
    all_bad = confusion_degree_differentiable(t, -t)
    assert torch.isnan(all_bad) and confusion_degree(t, -t).cd is None
    assert frame_text_consistency_differentiable(t, s).item() == pytest.approx(frame_text_consistency(t, s), abs=1e-12)
    assert video_text_consistency_differentiable(t[0], s[1]).item() == pytest.approx(
        video_text_consistency(t[0], s[1]), abs=1e-12)


def test_frechet_value_equals_the_exact_path():
    a, b = _x(4, 40, 5), _x(5, 30, 5) * 1.5 + 0.3
    mu1, s1 = gaussian_fit_differentiable(a)
    mu2, s2 = gaussian_fit_differentiable(b)
    np.testing.assert_allclose(s1.numpy(), np.cov(a.numpy(), rowvar=False), atol=1e-12)
    exact = frechet_distance(a.mean(0).numpy(), np.cov(a.numpy(), rowvar=False), b.mean(0).numpy(),
                             np.cov(b.numpy(), rowvar=False))
    assert frechet_distance_differentiable(mu1, s1, mu2, s2).item() == pytest.approx(exact, rel=1e-10)
    # rank-deficient covariances (fewer samples than dimensions): the same value up to the square roots of
    # the zero eigenvalues' rounding noise (sqrt(1e-16) = 1e-8), which the two eigen-solvers round differently
    c, e = _x(6, 3, 5), _x(7, 4, 5)
    m1, c1 = gaussian_fit_differentiable(c)
    m2, c2 = gaussian_fit_differentiable(e)
    exact = frechet_distance(m1.numpy(), c1.numpy(), m2.numpy(), c2.numpy())
    assert frechet_distance_differentiable(m1, c1, m2, c2).item() == pytest.approx(exact, abs=1e-7)


def test_gradients_flow_gradcheck():
    v = _x(10, 3, 4, requires_grad=True)
    t = _x(11, 3, 4, requires_grad=True)
    assert gradcheck(lambda x: visual_consistency_differentiable(x), (v,))
    assert gradcheck(lambda x: visual_consistency_differentiable(x, "consecutive"), (v,))
    assert gradcheck(semantic_consistency_differentiable, (v, t))
    assert gradcheck(sequence_consistency_differentiable, (v, t))
    assert gradcheck(frame_text_consistency_differentiable, (v, t))
    assert gradcheck(video_text_consistency_differentiable, (v[0], t[0]))
    ct = _x(12, 3, 4, requires_grad=True)
    cs = (ct.detach() + 0.3 * _x(13, 3, 4)).requires_grad_(True)  # segments close to their prompts
    assert gradcheck(lambda a, b: confusion_degree_differentiable(a, b, degenerate="floor"), (ct, cs))
    assert gradcheck(confusion_degree_differentiable, (ct, cs))
    real, fake = _x(14, 12, 3), _x(15, 10, 3, requires_grad=True)
    mu_r, s_r = gaussian_fit_differentiable(real)
    assert gradcheck(lambda f: frechet_distance_differentiable(*gaussian_fit_differentiable(f), mu_r, s_r), (fake,))


def test_gradient_improves_the_metric():
    """One gradient step on the scene embeddings raises visual consistency (a usable reward)."""
    v = _x(20, 3, 8, requires_grad=True)
    vc = visual_consistency_differentiable(v)
    vc.backward()
    with torch.no_grad():
        stepped = v + 0.1 * v.grad
    assert visual_consistency_differentiable(stepped).item() > vc.item()


def test_dtype_and_device_are_kept():
    v = _x(30, 3, 4).float()
    out = visual_consistency_differentiable(v)
    assert out.dtype == torch.float32 and out.device == v.device and out.ndim == 0
    assert out.item() == pytest.approx(visual_consistency(v), abs=1e-4)
    bf = sequence_consistency_differentiable(v.bfloat16(), v.bfloat16())
    assert bf.dtype == torch.bfloat16
    with pytest.raises(TypeError, match="torch tensor"):
        visual_consistency_differentiable(np.ones((2, 3)))
    with pytest.raises(ValueError, match="all-zero rows"):
        semantic_consistency_differentiable(torch.zeros(2, 3), torch.ones(2, 3))
