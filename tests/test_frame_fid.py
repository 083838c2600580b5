"""FID Inception-v3 (pytorch-fid / torch-fidelity layout and outputs), FID / per-frame FID / Inception Score
against torchmetrics, torch-fidelity and pytorch-fid, frame reference statistics and the scorer."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from metrics import frechet_distance, inception_score, per_index_fid
from mvbench.encoders.inception import (
    FIDInceptionV3,
    build_inception,
    load_inception,
    preprocess_frames,
    resize_bilinear_tf1,
)
from mvbench.errors import CheckpointMismatchError, MvbenchError, WeightsMissingError

# ---------------------------------------------------------------------------- fabricated checkpoint


def official_layout() -> dict[str, tuple[int, ...]]:
    """Key -> shape of pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``: the state dict of torchvision's
    ``inception_v3(num_classes=1008, aux_logits=False)`` that pytorch-fid loads it into (an independent
    implementation), without ``num_batches_tracked``."""
    import torchvision

    net = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
    return {k: tuple(v.shape) for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}


def fabricate_inception(seed: int = 0) -> OrderedDict:
    """Random values in the official layout, scaled so activations stay O(1) through 94 conv layers."""
    g = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for key, shape in official_layout().items():
        if key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=g) + 0.5
        elif key.endswith("conv.weight"):
            fan_in = shape[1] * shape[2] * shape[3]
            state[key] = torch.randn(shape, generator=g) * (2.0 / fan_in) ** 0.5
        elif key.endswith("bn.weight"):
            state[key] = 1.0 + 0.1 * torch.randn(shape, generator=g)
        elif key == "fc.weight":
            state[key] = torch.randn(shape, generator=g) * (1.0 / 2048) ** 0.5
        else:
            state[key] = torch.randn(shape, generator=g) * 0.1
    return state


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory) -> tuple[Path, OrderedDict]:
    path = tmp_path_factory.mktemp("inception") / "pt_inception-2015-12-05-6726825d.pth"
    state = fabricate_inception()
    torch.save(state, path)
    return path, state


@pytest.fixture(scope="module")
def frames() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randint(0, 256, (2, 37, 53, 3), dtype=torch.uint8, generator=g)


def test_layout_is_torchvision_inception3_with_1008_classes():
    mine = {k: tuple(v.shape) for k, v in FIDInceptionV3().state_dict().items()
            if not k.endswith("num_batches_tracked")}
    assert mine == official_layout()
    assert len(mine) == 472  # 94 conv+BN units x 5 (conv weight, BN weight, bias, mean, var) + fc weight, bias
    assert mine["fc.weight"] == (1008, 2048)


def test_outputs_equal_pytorch_fid(inception_file, frames, monkeypatch):
    pfi = pytest.importorskip("pytorch_fid.inception")
    path, state = inception_file
    monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: state)  # nothing is downloaded
    ref = pfi.InceptionV3([0, 1, 2, 3]).eval()
    with torch.no_grad():
        expected = ref(frames.permute(0, 3, 1, 2).float() / 255)  # pytorch-fid's ToTensor input in [0, 1]
    net = build_inception("inception-fid", path=path)
    got = net.extract(frames.numpy(), ("64", "192", "768", "2048"))
    for block, name in enumerate(("64", "192", "768", "2048")):
        pooled = expected[block].mean(dim=(2, 3)).numpy()  # pytorch-fid's adaptive_avg_pool2d of the block
        np.testing.assert_allclose(got[name], pooled, rtol=1e-5, atol=1e-5)


def test_outputs_equal_torch_fidelity(inception_file, frames):
    fe = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")
    path, _ = inception_file
    names = ["64", "192", "768", "2048", "logits_unbiased", "logits"]
    ref = fe.FeatureExtractorInceptionV3("inception-v3-compat", names, feature_extractor_weights_path=str(path))
    with torch.no_grad():
        expected = ref(frames.permute(0, 3, 1, 2).contiguous())
    got = build_inception("inception-torch-fidelity", path=path).extract(frames, names)
    for name, exp in zip(names, expected):
        np.testing.assert_allclose(got[name], exp.numpy(), rtol=1e-5, atol=1e-5)


def test_tf1_resize_equals_torch_fidelity():
    tfi = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
    x = torch.rand(2, 3, 37, 53) * 255
    for size in (299, 20):
        expected = tfi.interpolate_bilinear_2d_like_tensorflow1x(x, size=(size, size), align_corners=False)
        torch.testing.assert_close(resize_bilinear_tf1(x, size), expected, rtol=0, atol=0)


def test_preprocessing_hand_worked():
    white = torch.full((1, 5, 7, 3), 255, dtype=torch.uint8)
    assert preprocess_frames(white, "pytorch-fid").shape == (1, 3, 299, 299)
    assert torch.allclose(preprocess_frames(white, "pytorch-fid"), torch.ones(1))  # 2 * 1 - 1
    assert torch.allclose(preprocess_frames(white, "torch-fidelity"), torch.tensor(127 / 128))  # (255 - 128) / 128
    with pytest.raises(ValueError, match="unknown Inception preprocessing"):
        preprocess_frames(white, "bilinear")


@pytest.mark.parametrize("mutation, words", [
    ("drop", ["missing keys", "Mixed_7c.branch_pool.bn.running_var"]),
    ("extra", ["unexpected keys", "AuxLogits.fc.weight"]),
    ("shape", ["shape mismatches", "fc.weight"]),
])
def test_mismatched_checkpoint_names_keys(tmp_path, inception_file, mutation, words):
    state = OrderedDict(inception_file[1])
    if mutation == "drop":
        del state["Mixed_7c.branch_pool.bn.running_var"]
    elif mutation == "extra":
        state["AuxLogits.fc.weight"] = torch.zeros(1000, 768)
    else:
        state["fc.weight"] = torch.zeros(1000, 2048)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError) as err:
        load_inception(path, "inception-fid")
    for w in words:
        assert w in str(err.value)
    assert str(path) in str(err.value)


def test_num_batches_tracked_is_optional(tmp_path, inception_file):
    state = OrderedDict(inception_file[1])
    state["Conv2d_1a_3x3.bn.num_batches_tracked"] = torch.tensor(5)
    path = tmp_path / "with_nbt.pth"
    torch.save(state, path)
    model = load_inception(path)
    torch.testing.assert_close(model.fc.weight, state["fc.weight"])


class _Payload:
    """Unpickling this would run a shell command: the tensor-only reader must refuse it."""

    def __reduce__(self):
        return (os.system, ("echo HOSTILE_PAYLOAD_RAN",))


def test_hostile_file_is_refused_in_one_line(tmp_path, capfd):
    path = tmp_path / "evil.pth"
    torch.save({"fc.weight": torch.zeros(2), "hook": _Payload()}, path)
    with pytest.raises(MvbenchError) as err:
        load_inception(path, "inception-torch-fidelity")
    msg = str(err.value)
    assert "inception-torch-fidelity" in msg and str(path) in msg and "never runs code" in msg
    assert "add_safe_globals" not in msg and "allowlist" not in msg.lower()
    assert "HOSTILE_PAYLOAD_RAN" not in capfd.readouterr().out


def test_missing_weights_name_fetch_and_import():
    with pytest.raises(WeightsMissingError) as err:
        build_inception("inception-fid")
    assert "mvbench weights fetch inception-fid" in str(err.value)
    assert "mvbench weights import inception-fid" in str(err.value)

# ---------------------------------------------------------------------------- formulas against the tools


class _Given(torch.nn.Module):
    """A torchmetrics feature extractor that returns its input: the metric then sees our features."""

    def __init__(self, dim: int):
        super().__init__()
        self.num_features = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_fid_equals_torchmetrics_and_pytorch_fid():
    from torchmetrics.image.fid import FrechetInceptionDistance

    rng = np.random.default_rng(0)
    d = 24
    real = rng.normal(size=(300, d)) @ rng.normal(size=(d, d)) * 0.3
    fake = rng.normal(size=(200, d)) @ rng.normal(size=(d, d)) * 0.3 + 0.2
    tm = FrechetInceptionDistance(feature=_Given(d))
    tm.update(torch.from_numpy(real), real=True)
    tm.update(torch.from_numpy(fake), real=False)
    expected = float(tm.compute())
    mu1, s1 = fake.mean(0), np.cov(fake, rowvar=False)
    mu2, s2 = real.mean(0), np.cov(real, rowvar=False)
    got = frechet_distance(mu1, s1, mu2, s2)
    assert got == pytest.approx(expected, rel=1e-6)
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    assert got == pytest.approx(fid_score.calculate_frechet_distance(mu1, s1, mu2, s2), rel=1e-6)


@pytest.mark.parametrize("n, splits", [(250, 10), (25, 10), (7, 3)])
def test_inception_score_equals_torchmetrics(n, splits):
    from torchmetrics.image.inception import InceptionScore

    logits = torch.from_numpy(np.random.default_rng(n).normal(size=(n, 1008)) * 3).float()
    metric = InceptionScore(feature=_Given(1008), splits=splits)
    metric.update(logits)
    torch.manual_seed(123)
    exp_mean, exp_std = (float(v) for v in metric.compute())
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(123)).numpy()
    mean, std = inception_score(logits.numpy(), splits=splits, permutation=perm)
    assert mean == pytest.approx(exp_mean, rel=1e-6)
    assert std == pytest.approx(exp_std, rel=1e-5, abs=1e-7)


def test_inception_score_equals_torch_fidelity():
    isc = pytest.importorskip("torch_fidelity.metric_isc")
    logits = np.random.default_rng(3).normal(size=(103, 1008)) * 2
    out = isc.isc_features_to_metric(torch.from_numpy(logits), splits=10, shuffle=True, rng_seed=2020)
    perm = np.random.RandomState(2020).permutation(103)
    mean, std = inception_score(logits, splits=10, permutation=perm, mode="torch-fidelity")
    assert mean == pytest.approx(out["inception_score_mean"], rel=1e-9)
    assert std == pytest.approx(out["inception_score_std"], rel=1e-7)


def test_per_index_fid_by_hand():
    from scipy import linalg

    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 3))
    pos = np.tile(np.arange(4), 10)
    mu_r, sig_r = np.zeros(3), np.eye(3) * 2

    def fid(a):  # textbook formula with scipy's sqrtm
        mu, s = a.mean(0), np.cov(a, rowvar=False)
        return float(((mu - mu_r) ** 2).sum() + np.trace(s + sig_r - 2 * linalg.sqrtm(s @ sig_r).real))

    mean, per = per_index_fid(x, pos, mu_r, sig_r)
    assert per == pytest.approx({k: fid(x[pos == k]) for k in range(4)}, rel=1e-8)
    assert mean == pytest.approx(np.mean([fid(x[pos == k]) for k in range(4)]), rel=1e-8)

# ---------------------------------------------------------------------------- reference statistics and scorer


def _install(monkeypatch, tmp_path: Path, path: Path, *names: str) -> None:
    from mvbench import weights

    monkeypatch.setenv("MVBENCH_HOME", str(tmp_path / "home"))
    for name in names:
        weights.import_file(name, path)


def test_reference_and_scorer_moviebench_protocol(monkeypatch, tmp_path, inception_file, demo_videos, demo_suite):
    """--fid-protocol moviebench: FID and IS from one torch-fidelity pass; 192-d features of 2 interval
    frames per scene minus the last for FID; both checked against torchmetrics-style recomputation."""
    import shutil

    from mvbench.fvd_reference import compute_frame_reference, load_reference, save_reference
    from mvbench.runner import run_evaluation
    from mvbench.submission import open_submission
    from mvbench.video import decode_frames

    _install(monkeypatch, tmp_path, inception_file[0], "inception-torch-fidelity")
    items = demo_suite.items[:2]  # two items keep the CPU time down (Inception runs at 299 x 299)
    real = tmp_path / "real"
    for item in items:
        shutil.copytree(demo_videos / item.id, real / item.id)
    ref = compute_frame_reference(real, "inception-moviebench", frames=3, options={"device": "cpu"},
                                  log=lambda m: None)
    assert ref.extractor == "inception-torch-fidelity" and ref.stats.dim == 192
    assert ref.protocol["drop_last"] is True and ref.protocol["sampling"] == "interval"
    assert ref.stats.count == 6 * 2  # 6 scene files x (3 interval frames - the last)
    ref_path = save_reference(tmp_path / "ref.npz", ref)
    assert load_reference(ref_path).protocol == ref.protocol

    opts = {"fid_protocol": "moviebench", "fid_frames": 3, "fid_reference": str(ref_path), "no_cache": True,
            "progress": False, "device": "cpu", "bootstrap": 20, "limit": 2}
    res = run_evaluation(demo_suite, open_submission(demo_videos), ["fid", "fid_per_frame", "inception_score"], opts)
    assert not res["failures"]
    # independent recomputation: torch-fidelity's extractor on the same frames
    fe = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")
    net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["192", "logits_unbiased"],
                                         feature_extractor_weights_path=str(inception_file[0]))
    feats, logits, pos = [], [], []
    for item in items:
        for k in range(1, len(item.scenes) + 1):
            f = decode_frames(demo_videos / item.id / f"scene_{k}.mp4", [0, 4, 8])  # 12 frames: interval 4
            with torch.no_grad():
                a, b = net(f.permute(0, 3, 1, 2).contiguous())
            feats.append(a[:2].numpy())
            logits.append(b.numpy())
            pos += [0, 1]
    x = np.concatenate(feats).astype(np.float64)
    # the same frames from the same videos: FID to their own statistics is 0
    assert res["metrics"]["fid"]["mean"] == pytest.approx(0.0, abs=1e-4)
    assert res["metrics"]["fid"]["unreliable"] is True  # 12 frames < 193
    np.testing.assert_allclose(ref.stats.mean(), x.mean(0), rtol=1e-4, atol=1e-5)
    expected_pf, _ = per_index_fid(x, np.array(pos), ref.stats.mean(), ref.stats.covariance())
    assert res["metrics"]["fid_per_frame"]["mean"] == pytest.approx(expected_pf, rel=1e-3)
    all_logits = np.concatenate(logits)
    perm = torch.randperm(18, generator=torch.Generator().manual_seed(123)).numpy()
    exp_is, _ = inception_score(all_logits, splits=10, permutation=perm)
    assert res["metrics"]["inception_score"]["mean"] == pytest.approx(exp_is, rel=1e-4)
    assert res["metrics"]["inception_score"]["unit"] == "score"
    cfg = res["config"]["scorers"]["frame_fid"]
    assert cfg["fid"]["protocol"]["feature"] == "192" and cfg["inception_score"]["feature"] == "logits_unbiased"


def test_reference_protocol_mismatch_is_refused(monkeypatch, tmp_path, inception_file):
    from metrics import GaussianStats
    from mvbench.fvd_reference import ReferenceStats, save_reference
    from mvbench.scorers.frame_fid import FrameFIDScorer, feature_protocol

    _install(monkeypatch, tmp_path, inception_file[0], "inception-fid")
    proto = feature_protocol("pytorch-fid", frames=8)
    stats = GaussianStats.from_features(np.random.default_rng(0).normal(size=(5, 2048)))
    path = save_reference(tmp_path / "r.npz", ReferenceStats(stats, "inception-fid", None, proto.as_dict()))
    FrameFIDScorer({"metrics": ["fid"], "fid_reference": str(path), "fid_frames": 8})  # accepted
    with pytest.raises(MvbenchError) as err:
        FrameFIDScorer({"metrics": ["fid"], "fid_reference": str(path)})  # 16 frames per scene here
    assert "num_frames" in str(err.value) and "--frames 16" in str(err.value)
    with pytest.raises(MvbenchError, match="--fid-reference"):
        FrameFIDScorer({"metrics": ["fid"]})
    planning = FrameFIDScorer({"metrics": ["fid"], "_planning_only": True})  # validate: collected, not raised
    assert "--fid-reference" in str(planning.setup_errors[0])
    assert FrameFIDScorer.required_weights({"metrics": ["fid", "inception_score"]}) == [
        "inception-fid", "inception-torch-fidelity"]
    assert FrameFIDScorer.required_weights({"metrics": ["fid"], "fid_protocol": "moviebench"}) == [
        "inception-torch-fidelity"]
    assert FrameFIDScorer({"metrics": ["inception_score"]}).frames_needed() == 16
    assert FrameFIDScorer({"metrics": ["inception_score"], "fid_protocol": "moviebench"}).frames_needed() == 1


def test_fvd_stats_frame_options_and_extractors(tmp_path, capsys, demo_videos):
    from mvbench.cli import main

    out = tmp_path / "r.npz"
    assert main(["fvd-stats", "--videos", str(demo_videos), "--extractor", "i3d", "--frames", "3",
                 "--out", str(out)]) == 2
    assert "--frames and --resize apply to the frame extractors only" in capsys.readouterr().err
    # a frame extractor whose weights are missing says how to get them, before decoding anything
    assert main(["fvd-stats", "--videos", str(demo_videos), "--extractor", "inception-fid", "--out", str(out)]) == 2
    assert "mvbench weights fetch inception-fid" in capsys.readouterr().err
    assert not out.exists()
