"""The torchmetrics classes (issue 14): a 2-process gloo run of each equals the single-process number of
``mvbench evaluate``; ``reset()`` and ``forward()`` behave as torchmetrics documents."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import torch

import mvbench
from metrics import (
    FVD,
    CharacterIDScores,
    ConfusionDegree,
    GaussianStats,
    SemanticConsistency,
    SequenceConsistency,
    VisualConsistency,
    confusion_degree,
    frechet_distance,
    semantic_consistency,
    visual_consistency,
)
from mvbench.cli import main as cli_main
from mvbench.demo import render_submission
from mvbench.video.decode import decode_frames

T, SIZE = 12, 32


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, demo_suite):
    """Generated and reference demo renderings (lossless .mkv), the FVD reference made by
    ``mvbench fvd-stats`` and the results of ``mvbench evaluate`` with the tiny encoder."""
    root = tmp_path_factory.mktemp("stateful")
    videos = render_submission(demo_suite, root / "videos", n_frames=T, size=SIZE, seed=0)
    real = render_submission(demo_suite, root / "real", n_frames=T, size=SIZE, seed=1)
    ref = root / "real_tiny.npz"
    assert cli_main(["fvd-stats", "--videos", str(real), "--extractor", "tiny", "--out", str(ref), "--no-cache",
                     "--no-progress", "--device", "cpu"]) == 0
    out = root / "cli.json"
    assert cli_main(["evaluate", "--suite", "mvbench-demo", "--videos", str(videos), "--encoder", "tiny",
                     "--metrics", "sequence_consistency,visual_consistency,semantic_consistency,confusion_degree,fvd",
                     "--fvd-extractor", "tiny", "--fvd-reference", str(ref), "--device", "cpu", "--no-cache",
                     "--no-progress", "--out", str(out)]) == 0
    return videos, ref, json.loads(out.read_text())


def _item_embeddings(videos, suite) -> list[dict]:
    """Per item: scene video embeddings, prompt embeddings and FVD clip features, from the decoded files."""
    out = []
    for item in suite.items:
        scenes = [decode_frames(videos / item.id / f"scene_{k}.mkv", list(range(T)))
                  for k in range(1, len(item.scenes) + 1)]
        out.append({"id": item.id,
                    "video": mvbench.embed_scenes(scenes, "tiny", device="cpu"),
                    "text": mvbench.embed_texts([s.prompt for s in item.scenes], "tiny", device="cpu"),
                    "fvd": mvbench.embed_scenes(scenes, "tiny", device="cpu", num_frames=8, sampling="first")})
    return out


def _character_id_results(tmp_path, monkeypatch):
    from PIL import Image
    from test_character_id import shot_videos, suite_doc
    from test_faces_fakebackend import COLORS, FakeFaceBackend, portrait

    from mvbench.scorers.character_id import CharacterIdScorer
    from mvbench.suite import parse_suite

    bank = tmp_path / "bank"
    bank.mkdir()
    for name, rb in COLORS.items():
        Image.fromarray(portrait(rb)).save(bank / f"{name}.png")
    fake = FakeFaceBackend()
    monkeypatch.setattr(CharacterIdScorer, "backend", property(lambda self: fake))
    return mvbench.evaluate({"movie1": shot_videos()}, parse_suite(suite_doc()), "character_id",
                            character_bank=str(bank), progress=False, no_cache=True, device="cpu")


@pytest.mark.timeout(900)
def test_two_process_gloo_equals_cli(cli_run, demo_suite, tmp_path, monkeypatch):
    videos, ref, cli = cli_run
    items = _item_embeddings(videos, demo_suite)
    ids = _character_id_results(tmp_path, monkeypatch)
    shots = [(set(s["predicted"]), set(s["scripted"])) for s in ids["items"]["movie1"]["details"]["character_id"]["shots"]]
    payload = tmp_path / "payload.pkl"
    payload.write_bytes(pickle.dumps({"items": items, "fvd_reference": str(ref), "shots": shots}))

    import torch.multiprocessing as mp
    from _stateful_worker import run

    os.environ["OMP_NUM_THREADS"] = "1"
    mp.spawn(run, args=(2, str(tmp_path / "init"), str(payload), str(tmp_path)), nprocs=2, join=True)
    got = [pickle.loads((tmp_path / f"rank{r}.pkl").read_bytes()) for r in range(2)]
    assert [g["local_items"] for g in got] == [2, 2] and [g["local_clips"] for g in got] == [6, 6]
    assert {k: v for k, v in got[0].items() if not k.startswith("local")} == \
        {k: v for k, v in got[1].items() if not k.startswith("local")}  # every rank gets the synced value
    m = cli["metrics"]
    assert m["visual_consistency"]["n"] == 4 and m["confusion_degree"]["n"] >= 3  # CD: degenerate items left out
    for name in ("visual_consistency", "semantic_consistency", "sequence_consistency", "confusion_degree"):
        assert round(got[0][name], 6) == m[name]["mean"], name  # the command's number, to its last digit
    assert m["fvd"]["n"] == 12 and m["fvd"]["mean"] > 0
    assert got[0]["fvd"] == pytest.approx(m["fvd"]["mean"], abs=1e-6)
    for name in ("id_precision", "id_recall", "id_f1"):
        assert round(got[0][name], 6) == ids["metrics"][name]["mean"]
        assert got[0][name] == pytest.approx(100 * 5 / 6)  # hand-worked in test_character_id.py


# ---------------------------------------------------------------- single process: formulas, reset, forward
def _emb(seed: int, items: int = 3, scenes: int = 3, d: int = 5) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(items, scenes, d)))


def test_item_means_match_the_functions():
    v, t = _emb(0), _emb(1)
    vc, sc, seq = VisualConsistency(), SemanticConsistency(), SequenceConsistency(pairs="consecutive")
    vc.update(v)
    sc.update(list(v), list(t))
    seq.update(v, t)
    exp_vc = np.mean([visual_consistency(x) for x in v])
    exp_sc = np.mean([semantic_consistency(x, y) for x, y in zip(v, t)])
    exp_seq = np.mean([(visual_consistency(x, "consecutive") + semantic_consistency(x, y)) / 2 for x, y in zip(v, t)])
    assert float(vc.compute()) == pytest.approx(exp_vc, abs=1e-12)
    assert float(sc.compute()) == pytest.approx(exp_sc, abs=1e-12)
    assert float(seq.compute()) == pytest.approx(exp_seq, abs=1e-12)
    one_scene = VisualConsistency()
    one_scene.update([v[0][:1], v[1]])  # a single-scene item has no VC and is left out, as in the runner
    assert int(one_scene.count) == 1 and float(one_scene.compute()) == pytest.approx(visual_consistency(v[1]))


def test_confusion_degree_skips_items_without_cd():
    t, s = _emb(2, items=2, scenes=4), _emb(3, items=2, scenes=4)
    m = ConfusionDegree(degenerate="floor")
    m.update([t[0], t[1], t[0][:1]], [s[0], s[1], s[0][:1]])  # the 1-prompt item has no CD
    exp = np.mean([confusion_degree(t[i], s[i], degenerate="floor").cd for i in range(2)])
    assert float(m.compute()) == pytest.approx(exp, abs=1e-12)
    assert int(m.count) == 2 and int(m.prompts) == 9


@pytest.mark.parametrize("cls,args", [
    (VisualConsistency, lambda s: (_emb(s),)),
    (SemanticConsistency, lambda s: (_emb(s), _emb(s + 50))),
    (SequenceConsistency, lambda s: (_emb(s), _emb(s + 50))),
    (ConfusionDegree, lambda s: (_emb(s, scenes=4), _emb(s + 50, scenes=4))),
])
def test_forward_returns_the_batch_value_and_accumulates(cls, args):
    b1, b2 = args(10), args(20)
    alone1, alone2, both = cls(), cls(), cls()
    alone1.update(*b1)
    alone2.update(*b2)
    both.update(*b1)
    both.update(*b2)
    m = cls()
    assert float(m(*b1)) == pytest.approx(float(alone1.compute()), abs=1e-12)  # forward = this batch only
    assert float(m(*b2)) == pytest.approx(float(alone2.compute()), abs=1e-12)
    assert float(m.compute()) == pytest.approx(float(both.compute()), abs=1e-12)  # ... and accumulated
    m.reset()
    assert int(m.count) == 0 and float(m.total) == 0.0
    m.update(*b2)
    assert float(m.compute()) == pytest.approx(float(alone2.compute()), abs=1e-12)


def test_fvd_statistics_reference_forms_and_reset(tmp_path):
    rng = np.random.default_rng(0)
    real, fake1, fake2 = rng.normal(size=(30, 4)), rng.normal(size=(20, 4)) + 0.5, rng.normal(size=(25, 4)) * 1.3
    ref = GaussianStats.from_features(real)
    fake = np.concatenate([fake1, fake2])
    expected = frechet_distance(fake.mean(0), np.cov(fake, rowvar=False), real.mean(0), np.cov(real, rowvar=False))
    forms = [ref, (ref.mean(), ref.covariance())]
    from mvbench.fvd_reference import ReferenceStats, save_reference

    path = save_reference(tmp_path / "ref.npz", ReferenceStats(ref, "tiny", None, {"sampling": "first"}))
    forms += [path, str(path)]
    for reference in forms:
        m = FVD(reference=reference)
        m.update(torch.from_numpy(fake1))
        m.update(fake2)
        assert float(m.compute()) == pytest.approx(expected, rel=1e-10)
    # forward: the batch's own FVD; accumulated statistics are the union
    m = FVD(reference=ref)
    one = frechet_distance(fake1.mean(0), np.cov(fake1, rowvar=False), ref.mean(), ref.covariance())
    assert float(m(torch.from_numpy(fake1))) == pytest.approx(one, rel=1e-10)
    m(torch.from_numpy(fake2))
    assert float(m.compute()) == pytest.approx(expected, rel=1e-10)
    assert m.generated_stats().count == 45
    # real features accumulated in the metric; kept across reset when asked
    m = FVD(num_features=4, reset_real_features=False)
    m.update(torch.from_numpy(real), real=True)
    m.update(torch.from_numpy(fake))
    assert float(m.compute()) == pytest.approx(expected, rel=1e-10)
    m.reset()
    assert int(m.fake_count) == 0 and int(m.real_count) == 30
    with pytest.warns(UserWarning, match="before the ``update``"), \
            pytest.raises(ValueError, match="at least 2 generated clips"):
        m.compute()
    with pytest.raises(ValueError, match="fixed reference"):
        FVD(reference=ref).update(torch.from_numpy(real), real=True)
    with pytest.raises(ValueError, match=r"features must be \[n, 4\]"):
        FVD(reference=ref).update(torch.zeros(3, 5))


def test_character_id_scores_sum_counts_over_shots():
    m = CharacterIDScores()
    out = m([{"Alice"}, {"Bob", "Carol"}], [{"Alice", "Bob"}, {"Bob"}])  # TP 2, FP 1, FN 1
    assert {k: round(float(v), 6) for k, v in out.items()} == {"id_precision": round(200 / 3, 6),
                                                              "id_recall": round(200 / 3, 6),
                                                              "id_f1": round(200 / 3, 6)}
    m([set()], [{"Dan"}])  # TP 0, FP 0, FN 1
    assert (int(m.tp), int(m.fp), int(m.fn)) == (2, 1, 2)
    assert float(m.compute()["id_recall"]) == pytest.approx(50.0)
    m.reset()
    assert (int(m.tp), int(m.fp), int(m.fn)) == (0, 0, 0)
    with pytest.raises(TypeError, match="one collection of names per shot"):
        m.update({"Alice"}, {"Alice"})
