"""What each paper-table column means for mvbench: metric/preset/scale or why none, interpretation
footnotes, protocol notes, the papers' own inconsistencies (derived rules and cross-checks), and
measured rows in the paper's units."""

from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest
from test_leaderboard_papers import EXPECTED_IDS, raw_tables
from test_leaderboard_support import make_results, write

from leaderboard.board import add_measured_rows, board_from_paper
from leaderboard.cross_check import all_cross_checks, cross_checks_involving
from leaderboard.errors import LeaderboardError
from leaderboard.paper_notes import describe_paper_board
from leaderboard.paper_tables import load_paper_table, parse_paper_table
from leaderboard.render import render
from mvbench.cli import main

#: the shared metric names (notes/names.md), written out independently of leaderboard.paper_vocab
NAMES_MD = {
    "subject_consistency", "background_consistency", "motion_smoothness", "dynamic_degree", "aesthetic_quality",
    "imaging_quality", "temporal_flickering",  # issue 11
    "clip_score", "clipsim", "fid", "fid_per_frame", "inception_score", "frame_consistency", "scene_consistency",
    "aesthetic_score",  # issue 12
    "visual_consistency", "semantic_consistency", "sequence_consistency", "fvd", "fvd_videomae", "confusion_degree",
    "video_text_consistency", "frame_text_consistency", "id_precision", "id_recall", "id_f1",  # existing
    "character_similarity",  # issue 17
    "confusion_degree_normalized",  # issue 18 (CD / (F - 1))
}
PRESETS = {"mask2dit", "framecaps", "moviebench", "videostudio"}
NEW_IDS = ["mask2dit:table6", "mask2dit:table9", "videostudio:table1", "videostudio:table2", "videostudio:table3",
           "videostudio:table6", "videostudio:table7", "videostudio:table-s3", "moviebench:table2",
           "moviebench:table3", "moviebench:table7", "moviebench:table8"]


def number_columns(doc):
    return [c for c in doc["columns"] if c["kind"] == "number"]


# ---- schema and vocabulary --------------------------------------------------------------------------

def test_metric_vocabulary_is_the_shared_names_and_covers_the_registered_scorers():
    from leaderboard.paper_vocab import PRESETS as CODE_PRESETS
    from leaderboard.paper_vocab import SHARED_METRICS
    from mvbench.scorers import METRIC_TO_SCORER

    assert set(SHARED_METRICS) == NAMES_MD
    assert set(CODE_PRESETS) == PRESETS
    assert set(METRIC_TO_SCORER) <= NAMES_MD


def test_every_number_column_says_what_computes_it():
    assert set(NEW_IDS) <= set(EXPECTED_IDS) and len(NEW_IDS) == 12
    for table_id, doc in raw_tables().items():
        parse_paper_table(doc, table_id)  # the schema, strictly
        for col in number_columns(doc):
            where = f"{table_id}:{col['key']}"
            assert ("metric" in col) != ("not_computed" in col), where
            if "metric" in col:
                assert col["metric"] in NAMES_MD, where
                assert col.get("preset", doc.get("preset")) in PRESETS, where
                assert col.get("scale", 1) > 0, where
            else:
                assert col["not_computed"]["kind"] in {"human_study", "annotation_quality", "not_in_mvbench",
                                                       "derived"}, where
                assert len(col["not_computed"]["why"]) > 20, where


def test_vbench_fractions_are_scaled_to_the_papers_percent():
    seen = 0
    for table_id, doc in raw_tables().items():
        for col in number_columns(doc):
            if col.get("metric") in {"subject_consistency", "background_consistency", "motion_smoothness",
                                     "dynamic_degree", "aesthetic_quality", "imaging_quality"}:
                assert (col["scale"], col["unit"]) == (100, "fraction"), f"{table_id}:{col['key']}"
                seen += 1
    assert seen == 3 + 3 + 2 + 4  # framecaps 1 and 2, Mask²DiT 5, MovieBench 5


@pytest.mark.parametrize("mutation, message", [
    (lambda c: c.pop("metric"), "exactly one of 'metric'"),
    (lambda c: c.update(metric="visual_consistancy"), "not an mvbench metric name"),
    (lambda c: c.update(preset="vbench"), "preset 'vbench'"),
    (lambda c: c.update(scale=0), "scale must be a positive number"),
    (lambda c: c.update(unit="permille"), "unit 'permille'"),
    (lambda c: c.update(not_computed={"kind": "human_study", "why": "x"}), "exactly one of"),
    (lambda c: (c.pop("metric"), c.update(not_computed={"kind": "vibes", "why": "because"})), "not_computed needs"),
    (lambda c: c.pop("higher_is_better"), "higher_is_better"),
])
def test_schema_refuses_columns_without_a_clear_source(mutation, message):
    doc = json.loads(json.dumps(raw_tables()["mask2dit:table1"]))
    mutation(doc["columns"][1])
    with pytest.raises(LeaderboardError, match=re.escape(message)):
        parse_paper_table(doc, "t.json")


def test_schema_refuses_bad_cross_checks():
    doc = json.loads(json.dumps(raw_tables()["mask2dit:table4"]))
    doc["cross_checks"][0]["row"] = "Theirs"
    with pytest.raises(LeaderboardError, match="bad cross-check"):
        parse_paper_table(doc, "t.json")
    doc["cross_checks"][0] = {"kind": "column_mean", "column": "visual_consistency", "printed": 75.3}
    with pytest.raises(LeaderboardError, match="decimals"):
        parse_paper_table(doc, "t.json")


# ---- what the tables say they measure ------------------------------------------------------------

def test_moviebench_table4_is_annotation_quality_not_the_id_metrics():
    doc = raw_tables()["moviebench:table4"]
    for col in number_columns(doc):
        assert "metric" not in col and col["not_computed"]["kind"] == "annotation_quality"
        why = col["not_computed"]["why"]
        assert "no DeepFace" in why and "no generated video" in why and "not comparable" in why
    out = _cli_markdown("moviebench:table4")
    assert "← id_" not in out and "not comparable with mvbench's id_precision / id_recall / id_f1" in out


def test_columns_whose_formula_the_paper_leaves_open_carry_mvbenchs_interpretation():
    expected = {("framecaps:table1", "frame_text_consistency"), ("framecaps:table2", "frame_text_consistency"),
                ("moviebench:table2", "aesthetic"), ("moviebench:table5", "aesthetic")}
    for n in (1, 2, 3, 4, 5, 7, 8):
        expected |= {(f"mask2dit:table{n}", "visual_consistency"), (f"mask2dit:table{n}", "sequence_consistency")}
    for n in (1, 7, 8):
        expected.add((f"mask2dit:table{n}", "fvd"))
    expected |= {("mask2dit:table10", k) for k in ("visual_consistency", "sequence_consistency",
                                                    "ar_visual_consistency", "ar_sequence_consistency")}
    found = {(t, c["key"]) for t, doc in raw_tables().items() for c in doc["columns"] if c.get("interpretation")}
    assert found == expected
    assert "pairs" in raw_tables()["mask2dit:table1"]["columns"][1]["interpretation"]
    assert raw_tables()["mask2dit:table1"]["columns"][4]["metric"] == "fvd_videomae"  # FVD cites Ge et al.


@pytest.mark.parametrize("fmt", ["markdown", "latex", "html"])
def test_interpretation_is_a_footnote_in_every_format(fmt, capsys):
    assert main(["leaderboard", "--paper", "framecaps:table2", "--format", fmt]) == 0
    out = capsys.readouterr().out
    heading = {"markdown": "Frame-level Text-Video Consistency↑¹", "html": "Frame-level Text-Video Consistency↑¹",
               "latex": "Frame-level Text-Video Consistency$\\uparrow$\\textsuperscript{1}"}[fmt]
    assert heading in out
    footnote = {"latex": "\\textsuperscript{1} mvbench's interpretation: ", "html": "¹ mvbench&#x27;s interpretation: ",
                "markdown": "¹ mvbench's interpretation: "}[fmt]
    assert footnote in out and ("S\\_TF(P\\_i, V\\_i)" if fmt == "latex" else "S_TF(P_i, V_i)") in out
    assert ("imaging\\_quality (preset framecaps, $\\times$100" if fmt == "latex" else
            "imaging_quality (preset framecaps, ×100 of the fraction mvbench records)") in out


def test_protocol_notes_the_tables_omit():
    notes = {t: " ".join(doc.get("notes", [])) for t, doc in raw_tables().items()}
    for n in (4, 5, 10):
        assert "256×384" in notes[f"mask2dit:table{n}"], n
    assert "CogVideoX [38] row, which repeats Table 1" in notes["mask2dit:table3"]
    table10 = load_paper_table("mask2dit:table10")
    assert {"column": "overall_sequence_consistency", "rule": "mean",
            "of": ["sequence_consistency", "ar_sequence_consistency"]} in table10.derived
    assert table10.column("overall_sequence_consistency").not_computed[0] == "derived"
    assert all(table10.column(k).condition and not table10.column(k).fills_from_results
               for k in ("ar_visual_consistency", "ar_semantic_consistency", "ar_sequence_consistency"))


def _cli_markdown(table_id: str, *results) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["leaderboard", "--paper", table_id, *map(str, results)]) == 0
    return buf.getvalue()


@pytest.mark.parametrize("table_id", EXPECTED_IDS)
def test_every_table_prints_under_it_what_mvbench_computes(table_id):
    doc = raw_tables()[table_id]
    out = _cli_markdown(table_id)
    notes = [ln[2:] for ln in out.splitlines() if ln.startswith("- ")]
    for col in number_columns(doc):
        label = f"{col['group']}: {col['label']}" if col.get("group") else col["label"]
        if "metric" in col:
            preset = col.get("preset", doc["preset"])
            scale = f"×{col.get('scale', 1):g}"
            assert any(n.startswith("Computed by mvbench: " + label) and f"← {col['metric']} (preset {preset}, "
                       f"{scale}" in n for n in notes), (table_id, label)
        else:
            assert any(label in n and col["not_computed"]["why"] in n and "not computed by mvbench" in n.lower()
                       or label in n and n.startswith("Derived") for n in notes), (table_id, label)


@pytest.mark.parametrize("table_id", NEW_IDS)
def test_the_new_tables_render_in_every_format(table_id):
    board = describe_paper_board(board_from_paper(load_paper_table(table_id)), load_paper_table(table_id))
    for fmt in ("markdown", "latex", "csv"):
        assert render(board, fmt).strip()
    html = render(board, "html", with_plots=False)
    assert html.count("<tr id=\"row-") == len(raw_tables()[table_id]["rows"])
    assert "mvbench" in html


# ---- the papers' own inconsistencies ----------------------------------------------------------------

def test_cross_checks_flag_exactly_the_known_inconsistencies():
    bad = {(r.table, r.subject) for r in all_cross_checks() if not r.ok}
    assert bad == {
        ("mask2dit:table4", "row 'Ours' vs mask2dit:table10 row '0.5'"),
        ("mask2dit:table5", "row 'Pre-training + SFT' vs mask2dit:table10 row '0.5'"),
        ("mask2dit:table9", "vote counts (Visual Consistency↑: 67, Semantic Consistency↑: 66, Video Quality↑: 65, "
                            "Overall↑: 66)"),
    }
    # the disagreeing numbers, as printed (Table 4 vs Table 10 at p = 0.5; Table 5 vs Table 10)
    results = {r.table: r for r in all_cross_checks() if not r.ok}
    assert [p[1:] for p in results["mask2dit:table4"].differing] == [("24.29", "23.91"), ("49.81", "49.62")]
    assert [p[1:] for p in results["mask2dit:table5"].differing] == [("73.73", "73.21"), ("23.73", "23.82"),
                                                                      ("48.73", "48.52")]


def test_same_value_checks_agree_with_an_independent_reading_of_the_json():
    """Printed with the same decimals, two cells report the same number exactly when the JSON values are equal."""
    docs = raw_tables()

    def cells(doc, ref):
        row = doc["rows"][int(ref[1:]) - 1] if ref.startswith("#") else \
            next(r for r in doc["rows"] if r["cells"][0] == ref)
        return dict(zip([c["key"] for c in doc["columns"]], row["cells"]))

    differing = set()
    for table_id, doc in docs.items():
        for check in doc.get("cross_checks", []):
            if check["kind"] == "same_values":
                here, there = cells(doc, check["row"]), cells(docs[check["other_table"]], check["other_row"])
                differing |= {(table_id, a) for a, b in check["columns"].items() if here[a] != there[b]}
    assert differing == {("mask2dit:table4", "semantic_consistency"), ("mask2dit:table4", "sequence_consistency"),
                         ("mask2dit:table5", "visual_consistency"), ("mask2dit:table5", "semantic_consistency"),
                         ("mask2dit:table5", "sequence_consistency")}


def test_moviebench_table8_portrait_mean_matches_the_text():
    """The text's 4.53 is the mean of the ten printed rows (4.528): no inconsistency here."""
    doc = raw_tables()["moviebench:table8"]
    quality = [Fraction(str(r["cells"][1])) for r in doc["rows"]]
    relevance = [Fraction(str(r["cells"][2])) for r in doc["rows"]]
    assert len(quality) == 10
    assert sum(quality) / 10 == Fraction("4.528") and sum(relevance) / 10 == Fraction("4.922")
    results = [r for r in cross_checks_involving("moviebench:table8")]
    assert [r.ok for r in results] == [True, True]
    assert "4.528" in str(results[0]) and "4.53" in str(results[0])
    # a stated mean off by more than rounding is flagged
    table = load_paper_table("moviebench:table8")
    from leaderboard.cross_check import run_cross_check

    wrong = dict(table.cross_checks[0], printed=4.628)
    assert not run_cross_check(table, wrong, load_paper_table).ok


def test_user_study_vote_counts_by_brute_force():
    """Each aspect's percentages fit only some vote counts; the fewest are 67, 66, 65 and 66 (264 in all), and
    no larger counts make the 266 votes the text states."""
    doc = raw_tables()["mask2dit:table9"]

    def fits(n, shares):
        return all(any(abs(Fraction(100 * k, n) - Fraction(str(s))) <= Fraction(1, 200) for k in range(n + 1))
                   for s in shares)

    counts = []
    for j in range(1, 5):
        shares = [r["cells"][j] for r in doc["rows"]]
        counts.append([n for n in range(1, 267) if fits(n, shares)])
    assert [c[0] for c in counts] == [67, 66, 65, 66]
    totals = {a + b + c + d for a in counts[0] for b in counts[1] for c in counts[2] for d in counts[3]}
    assert 266 not in totals and 264 in totals


def test_check_papers_reports_derived_and_cross_check_disagreements(capsys):
    assert main(["leaderboard", "--check-papers"]) == 0
    out = capsys.readouterr().out
    assert out.count("disagreement: ") == 4  # StoryGen F1, Mask²DiT 4 vs 10, 5 vs 10, Table 9 votes
    assert "3 of 16 cross-check(s)" in out


def test_paper_output_names_the_inconsistencies_under_both_tables():
    for table_id in ("mask2dit:table4", "mask2dit:table10"):
        out = _cli_markdown(table_id)
        assert "PAPER INCONSISTENCY: mask2dit:table4 row 'Ours' vs mask2dit:table10 row '0.5'" in out
    out = _cli_markdown("mask2dit:table10")
    assert "Overall: Sequence Con. = mean(Fixed number of scenes: Sequence Con., Auto-regressive scene extension: " \
           "Sequence Con.); every row agrees within rounding." in out


# ---- measured rows in the paper's units ----------------------------------------------------------

def test_measured_vbench_fractions_render_in_percent_with_deltas(tmp_path):
    run = make_results("First-In-First-Out (FIFO) / Frame", {"motion_smoothness": 0.9881, "aesthetic_quality": 0.5,
                                                              "confusion_degree": 0.2516})
    run["metrics"]["motion_smoothness"]["unit"] = "fraction"
    run["metrics"]["motion_smoothness"]["ci95"] = [0.98, 0.99]
    path = write(tmp_path, "fifo.json", run)
    table = load_paper_table("framecaps:table2")
    board = add_measured_rows(board_from_paper(table), table, [path])
    row = board.rows[-1]
    assert row.cell("motion_smoothness").value == pytest.approx(98.81)
    assert row.cell("motion_smoothness").ci95 == pytest.approx((98.0, 99.0))
    assert row.cell("motion_smoothness").delta == pytest.approx(0.0)
    assert row.cell("aesthetic_quality").delta == pytest.approx(50.0 - 51.32)
    assert row.cell("confusion_degree").delta == pytest.approx(0.2516 - 0.2416)  # raw ratio: ×1
    out = _cli_markdown("framecaps:table2", path)
    assert "98.81" in out and "(Δ -1.32)" in out


def test_a_results_unit_in_percent_is_not_scaled_twice_and_unknown_units_fail(tmp_path):
    table = load_paper_table("framecaps:table2")
    run = make_results("x", {"motion_smoothness": 98.5})
    run["metrics"]["motion_smoothness"]["unit"] = "percent"
    board = add_measured_rows(board_from_paper(table), table, [write(tmp_path, "p.json", run)],
                              reference="#4")
    assert board.rows[-1].cell("motion_smoothness").value == pytest.approx(98.5)
    run["metrics"]["motion_smoothness"]["unit"] = "decibel"
    with pytest.raises(LeaderboardError, match="recorded in 'decibel'"):
        add_measured_rows(board_from_paper(table), table, [write(tmp_path, "d.json", run)], reference="#4")


def test_condition_columns_are_not_filled_and_presets_are_checked(tmp_path):
    run = make_results("0.5", {"visual_consistency": 70.0, "semantic_consistency": 24.0,
                               "sequence_consistency": 47.0})
    path = write(tmp_path, "p05.json", run)
    out = _cli_markdown("mask2dit:table10", path)
    measured = [ln for ln in out.splitlines() if ln.startswith("| 0.5 ") and "Δ" in ln][0]
    assert measured.count("(Δ") == 3 and measured.count("| - ") == 4  # AR and overall columns stay empty
    assert "p05.json was evaluated with no preset; this table's columns use preset mask2dit" in out
    run["config"]["protocol"] = "mask2dit"
    assert "was evaluated with" not in _cli_markdown("mask2dit:table10", write(tmp_path, "ok.json", run))
    run["config"]["protocol"] = "moviebench"
    assert "was evaluated with preset 'moviebench'" in _cli_markdown("mask2dit:table10",
                                                                   write(tmp_path, "mb.json", run))


def test_human_study_tables_refuse_measured_rows(tmp_path):
    path = write(tmp_path, "a.json", make_results("Ours", {"visual_consistency": 70.0}))
    assert main(["leaderboard", "--paper", "videostudio:table6", str(path)]) == 2
