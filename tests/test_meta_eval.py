"""``mvbench meta-eval character-id``: planning and verdicts (pure), then a small run on real faces.

The real run (needs the [face] extra: deepface, dlib-bin, face-recognition-models, scikit-image) uses
the two portraits that installed packages ship (scikit-image's astronaut, matplotlib's Grace Hopper)
and, when insightface's wheel is installed (``pip install --no-deps insightface==2.1``), one person
of its group photograph as the stranger. Real dlib weights, real detection, real H.264 round trip.
It fails if detection (no faces: every perturbation scores like correct casting), recognition
(wrong names), the banks (swapped portraits: the negative control) or the metric broke.
"""

from __future__ import annotations

import json

import pytest

from mvbench.faces import meta_eval as me

# ------------------------------------------------------------------------------------------ pure logic


def test_plan_for_four():
    p = me.make_plan(["A", "B", "C", "D"], ["S"])
    assert p.script == (("A",), ("B",), ("C",), ("D",), ("A", "B"), ("C", "D"))
    cases = {c.name: c.shown for c in p.cases}
    assert cases["swap"][0] == ("B",) and cases["swap"][1:] == p.script[1:]
    assert cases["missing"][4] == ("A",)
    assert cases["extra"][1] == ("B", "A") and cases["stranger"][1] == ("B", "S")


def test_expected_scores_hand_worked():
    """Four-person script: 8 scripted (shot, character) pairs.

    swap: TP 7 FP 1 FN 1 -> 87.5 / 87.5 / 87.5; missing: TP 7 FP 0 FN 1 -> 100 / 87.5 / 2*0.875/1.875;
    extra: TP 8 FP 1 FN 0 -> 8/9 / 100 / 16/17; stranger (not banked): unchanged 100s.
    """
    p = me.make_plan(["A", "B", "C", "D"], ["S"])
    got = {c.name: me.expected_scores(p, c) for c in p.cases}
    assert got["correct"] == {"id_precision": 100.0, "id_recall": 100.0, "id_f1": 100.0}
    assert got["swap"] == {"id_precision": 87.5, "id_recall": 87.5, "id_f1": 87.5}
    assert got["missing"]["id_recall"] == 87.5 and got["missing"]["id_f1"] == pytest.approx(100 * 1.75 / 1.875, abs=1e-5)
    assert got["extra"]["id_precision"] == pytest.approx(800 / 9, abs=1e-5)
    assert got["extra"]["id_f1"] == pytest.approx(1600 / 17, abs=1e-5)
    assert got["stranger"] == got["correct"]


def test_verdicts_flag_wrong_moves():
    p = me.make_plan(["A", "B"], ["S"])
    good = {"correct": (100, 100, 100, 0.97), "swap": (66.7, 66.7, 66.7, 0.9), "missing": (100, 66.7, 80, 0.7),
            "extra": (75, 100, 85.7, 0.965), "stranger": (100, 100, 100, 0.968)}

    def rows(values):
        return me.table_rows(p, {k: dict(zip(me.METRICS, v)) for k, v in values.items()})

    assert me.violations(rows(good)) == []
    broken = dict(good, stranger=(75, 100, 85.7, 0.968),  # a stranger recognised as a cast member
                  missing=(100, 66.7, 80, 0.97))  # similarity did not notice the missing character
    v = me.violations(rows(broken))
    assert len(v) == 3 and any(s.startswith("stranger: id_precision should be =") for s in v)  # and its F1
    assert any(s.startswith("missing: character_similarity should be <") for s in v)
    dead = {k: (0.0, 0.0, 0.0, 0.0) for k in good}  # nothing detected anywhere: nothing moves
    # every expected drop is missed: swap P, R, F1, sim; missing R, F1, sim; extra P, F1
    assert len(me.violations(rows(dead))) == 9
    assert "| swap | 75.0 | 66.7 |" in me.format_table(rows(good))  # expected: TP 3 FP 1 FN 1


# ------------------------------------------------------------------------------ real faces, real weights


def _real_stack_or_skip():
    pytest.importorskip("deepface")
    pytest.importorskip("dlib")
    from mvbench.faces.installed_weights import package_dir
    from mvbench.faces.photos import bundled_photos

    if package_dir("face_recognition_models") is None:
        pytest.skip("face-recognition-models is not installed (pip install -e '.[face]')")
    _, missing = bundled_photos(["astronaut", "grace_hopper"])
    if missing:
        pytest.skip(f"photographs not installed: {missing}")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    _real_stack_or_skip()
    from mvbench.faces.backend import MemoizedBackend
    from mvbench.faces.deepface_backend import DeepFaceBackend, DeepFaceOptions
    from mvbench.faces.photos import bundled_photos

    root = tmp_path_factory.mktemp("meta_eval")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEEPFACE_HOME", str(root / "deepface_home"))
        mp.setenv("MVBENCH_HOME", str(root / "mvbench_home"))
        backend = MemoizedBackend(DeepFaceBackend(DeepFaceOptions(model="Dlib", detector="dlib")))
        _, missing = bundled_photos(["insightface_t1"])
        sources = ["astronaut", "grace_hopper"] + ([] if missing else ["insightface_t1"])
        res = me.run_meta_eval(backend, root / "run", sources=sources, cast=["astronaut", "grace_hopper"],
                               strangers=[] if missing else ["insightface_t1_1"], n_frames=4,
                               options={"id_frames": 2})
        yield res, backend, root


def test_real_faces_move_every_metric_the_right_way(real_run):
    res, _, _ = real_run
    assert res.violations == []
    rows = {r["case"]: r for r in res.rows}
    assert {"correct", "swap", "missing", "extra"} <= set(rows)
    for name, r in rows.items():  # the real pipeline scores exactly like a perfect recogniser here
        for m in ("id_precision", "id_recall", "id_f1"):
            assert r["measured"][m] == pytest.approx(r["expected"][m], abs=1e-4), (name, m)
    assert rows["correct"]["measured"]["id_f1"] == 100.0
    sim = {k: r["measured"]["character_similarity"] for k, r in rows.items()}
    assert sim["correct"] > 0.9  # same person under augmentation: dlib cosines ~0.95-0.98
    assert sim["missing"] < sim["correct"] - 0.1  # one of 4 pairs drops to 0
    assert sim["swap"] < sim["correct"]
    assert res.backend["tier"]["name"] == "dlib-offline"


def test_real_run_details(real_run):
    """The swapped scene shows Grace Hopper where the astronaut is scripted: recognised as her, and
    the astronaut's similarity there is the cosine between two different people."""
    res, _, root = real_run
    suite = json.loads((root / "run" / "suite.json").read_text())
    assert [i["id"] for i in suite["items"]][:4] == ["correct", "swap", "missing", "extra"]
    assert sorted(p.name for p in (root / "run" / "bank").iterdir()) == ["astronaut.png", "grace_hopper.png"]


def test_stranger_is_rejected(real_run):
    res, _, _ = real_run
    rows = {r["case"]: r for r in res.rows}
    if "stranger" not in rows:
        pytest.skip("no stranger photograph: pip install --no-deps insightface==2.1 (its wheel ships t1.jpg)")
    assert rows["stranger"]["measured"]["id_precision"] == 100.0 and rows["stranger"]["ok"]["id_precision"]


def test_swapped_bank_is_caught(real_run):
    """Negative control: the bank's portraits swapped between the two names. In correct casting the two
    solo scenes are then misnamed (FP + FN each) and only the pair scene is right: P = R = 2/4; the
    perturbations no longer move the expected way, so the meta-evaluation fails."""
    res, backend, root = real_run
    bank = root / "run" / "bank"
    a, h = bank / "astronaut.png", bank / "grace_hopper.png"
    tmp = bank / "tmp.png"
    a.rename(tmp)
    h.rename(a)
    tmp.rename(h)
    try:
        measured = me.score_cases({k: root / "run" / v for k, v in
                                   (("suite", "suite.json"), ("bank", "bank"), ("submission", "submission"))},
                                  backend, {"id_frames": 2})
    finally:
        h.rename(tmp)
        a.rename(h)
        tmp.rename(a)
    assert measured["correct"]["id_precision"] == 50.0 and measured["correct"]["id_recall"] == 50.0
    assert me.violations(me.table_rows(res.plan, measured))


def test_mvbench_evaluate_scores_the_kept_submission(real_run, tmp_path, monkeypatch):
    """The built folder is an ordinary suite + submission + bank: `mvbench evaluate` with the offline
    tier gives the meta-evaluation's numbers for correct casting, and the results say which tier."""
    res, _, root = real_run
    from mvbench.cli import main

    monkeypatch.setenv("DEEPFACE_HOME", str(root / "deepface_home"))
    out = tmp_path / "r.json"
    run = root / "run"
    code = main(["evaluate", "--suite", str(run / "suite.json"), "--videos", str(run / "submission"),
                 "--character-bank", str(run / "bank"), "--metrics", "character_id", "--face-model", "Dlib",
                 "--face-detector", "dlib", "--id-frames", "2", "--limit", "1", "--out", str(out),
                 "--no-cache", "--no-progress", "--bootstrap", "20"])
    assert code == 0
    r = json.loads(out.read_text())
    correct = next(x for x in res.rows if x["case"] == "correct")["measured"]
    for m in me.METRICS:
        assert r["metrics"][m]["mean"] == pytest.approx(correct[m], abs=1e-6), m
    fb = r["config"]["scorers"]["character_id"]["face_backend"]
    assert fb["tier"]["name"] == "dlib-offline" and fb["model"] == "Dlib"
    assert r["metrics"]["character_similarity"]["unit"] == "cosine"
