"""Leaderboards built from generated results files: marks, order, missing metrics, suites, flags, plots."""

from __future__ import annotations

import pytest
from test_leaderboard_support import make_results, write

from leaderboard.board import add_measured_rows, board_from_paper, board_from_results
from leaderboard.errors import LeaderboardError, MixedSuitesError
from leaderboard.paper_tables import load_paper_table
from leaderboard.render import render
from mvbench.cli import main

MEANS = {
    "alpha": {"visual_consistency": 60.0, "semantic_consistency": 24.0, "fvd": 700.0},
    "beta": {"visual_consistency": 72.5, "semantic_consistency": 22.0, "fvd": 900.0},
    "gamma": {"visual_consistency": 65.25, "semantic_consistency": 25.5},  # no FVD
}


@pytest.fixture()
def three(tmp_path):
    return [write(tmp_path, f"{n}.json", make_results(n, m)) for n, m in MEANS.items()]


def marks(board):
    return {(r.name, k): c.mark for r in board.rows for k, c in r.cells.items() if c.mark}


def test_columns_order_marks_and_missing_metric(three):
    board = board_from_results(three)
    assert [c.key for c in board.number_columns] == ["visual_consistency", "semantic_consistency", "fvd"]
    # default order: best first on the first column (visual, higher is better)
    assert [r.name for r in board.rows] == ["beta", "gamma", "alpha"]
    assert marks(board) == {
        ("beta", "visual_consistency"): "best", ("gamma", "visual_consistency"): "second",
        ("gamma", "semantic_consistency"): "best", ("alpha", "semantic_consistency"): "second",
        ("alpha", "fvd"): "best", ("beta", "fvd"): "second"}  # FVD: lower is better; gamma has none
    md = render(board, "markdown")
    assert "| gamma | <u>65.25</u> [64.75, 65.75] | **25.50** [25.00, 26.00] | - |" in md
    assert "±" not in md  # intervals are never shown as half-widths
    assert "FVD ↓" in md and "Visual Con. ↑" in md


def test_sort_by_lower_is_better_metric_puts_missing_last(three):
    board = board_from_results(three, sort="fvd")
    assert [r.name for r in board.rows] == ["alpha", "beta", "gamma"]
    assert [r.name for r in board_from_results(three, sort=None).rows] == ["alpha", "beta", "gamma"]


def test_ci_styles_and_consistent_decimals(three):
    board = board_from_results(three, metrics=["semantic_consistency"])
    assert "| beta | 22.00 [21.50, 22.50] |" in render(board, "markdown", ci_style="brackets")
    assert "| beta | 22.00 +0.50/-0.50 |" in render(board, "markdown", ci_style="asymmetric")
    assert "| beta | 22.00 |" in render(board, "markdown", ci_style="none")
    latex = render(board, "latex")
    assert "\\textbf{25.50} [25.00, 26.00]" in latex and "\\pm" not in latex
    with pytest.raises(LeaderboardError, match="unknown CI style 'pm'"):
        render(board, "markdown", ci_style="pm")


def test_asymmetric_intervals_are_shown_as_they_are(tmp_path):
    """An FVD-like interval far from symmetric: printed [lo, hi] or +a/-b, in every format, never ± half-width."""
    doc = make_results("skewed", {"fvd": 0.09})
    doc["metrics"]["fvd"]["ci95"] = [0.03, 0.297]
    board = board_from_results([write(tmp_path, "s.json", doc)])
    assert "| skewed | 0.09 [0.03, 0.30] |" in render(board, "markdown")
    assert "| skewed | 0.09 +0.21/-0.06 |" in render(board, "markdown", ci_style="asymmetric")
    assert "skewed & 0.09 [0.03, 0.30]" in render(board, "latex")
    assert "0.09 <span class=\"spread\">[0.03, 0.30]</span>" in render(board, "html", with_plots=False)
    csv_text = render(board, "csv")
    assert "fvd_ci_lo,fvd_ci_hi" in csv_text and ",0.03,0.30," in csv_text
    for fmt in ("markdown", "latex", "csv"):
        assert "±" not in render(board, fmt) and "\\pm" not in render(board, fmt)


def test_mixed_suites_are_refused_unless_allowed(tmp_path):
    a = write(tmp_path, "a.json", make_results("A", {"fvd": 1.0}))
    b = write(tmp_path, "b.json", make_results("B", {"fvd": 2.0}, suite=("mvbench-demo", "2", "ef" * 32)))
    with pytest.raises(MixedSuitesError, match="different suites"):
        board_from_results([a, b])
    board = board_from_results([a, b], allow_mixed=True)
    assert any(n.startswith("MIXED SUITES") for n in board.notes)
    assert "MIXED SUITES" in render(board, "markdown") and "MIXED SUITES" in render(board, "latex")
    assert main(["leaderboard", str(a), str(b)]) == 2


def test_uncalibrated_failed_and_unreliable_rows_are_marked_and_never_best(tmp_path):
    paths = [
        write(tmp_path, "a.json", make_results("cal", {"id_f1": 50.0})),
        write(tmp_path, "b.json", make_results("tiny", {"id_f1": 90.0}, calibrated=False)),
        write(tmp_path, "c.json", make_results("broken", {"id_f1": 40.0},
                                               failures={"item-3": {"stage": "decode", "file": "x.mp4", "error": "eof"}})),
        write(tmp_path, "d.json", make_results("shaky", {"id_f1": 95.0}, unreliable=("id_f1",))),
    ]
    board = board_from_results(paths)
    assert marks(board) == {("cal", "id_f1"): "best", ("broken", "id_f1"): "second"}
    md = render(board, "markdown")
    assert "| tiny † |" in md and "| broken ‡ |" in md and "95.00 [94.50, 95.50]*" in md
    assert "† uncalibrated encoder" in md and "‡ some items failed" in md and "* marked unreliable" in md


def test_duplicate_model_names_are_told_apart(tmp_path):
    a = write(tmp_path, "run1.json", make_results("same", {"fvd": 1.0}))
    b = write(tmp_path, "run2.json", make_results("same", {"fvd": 2.0}))
    assert sorted(r.name for r in board_from_results([a, b]).rows) == ["same (run1.json)", "same (run2.json)"]


def test_measured_rows_beside_paper_table_with_deltas(tmp_path):
    ours = write(tmp_path, "ours.json", make_results("TALC", {"visual_consistency": 68.0, "semantic_consistency": 20.0,
                                                                "sequence_consistency": 44.0,
                                                                "fvd_videomae": 1500.0}))
    table = load_paper_table("mask2dit:table1")
    board = add_measured_rows(board_from_paper(table), table, [ours])
    measured = board.rows[-1]
    assert not measured.published and measured.details["delta_reference"] == "TALC [2]"
    assert measured.cell("visual_consistency").delta == pytest.approx(68.0 - 67.47)
    assert measured.cell("fvd").delta == pytest.approx(1500.0 - 1516.59)
    md = render(board, "markdown")
    assert "(Δ +0.53)" in md and "(Δ -16.59)" in md
    assert "*Published (Mask²DiT Table 1)*" in md and "*Measured with mvbench (suite mvbench-demo v1)*" in md
    # a measured row with no namesake uses --reference
    other = write(tmp_path, "x.json", make_results("NewModel", {"visual_consistency": 71.0}))
    board = add_measured_rows(board_from_paper(table), table, [other], reference="Ours")
    assert board.rows[-1].cell("visual_consistency").delta == pytest.approx(71.0 - 70.95)
    assert board.rows[-1].cell("visual_consistency").mark == "best"  # 71.00 beats the paper's 70.95


def test_cli_paper_with_results_and_file_outputs(tmp_path, capsys):
    ours = write(tmp_path, "ours.json", make_results("Ours", {"visual_consistency": 70.0}))
    assert main(["leaderboard", "--paper", "mask2dit:table1", str(ours)]) == 0
    assert "(Δ -0.95)" in capsys.readouterr().out
    out = tmp_path / "board.csv"
    plots = tmp_path / "plots"
    assert main(["leaderboard", str(ours), "--format", "csv", "--out", str(out), "--plots", str(plots)]) == 0
    assert out.read_text().splitlines()[0].startswith("model,group,source,flags,visual_consistency")
    for name in ("visual_consistency.png", "visual_consistency.pdf", "comparison.png", "comparison.pdf"):
        data = (plots / name).read_bytes()
        assert data[:4] in (b"\x89PNG", b"%PDF"), name
    assert main(["leaderboard"]) == 2


def test_plot_error_bars_come_from_the_ci(three):
    from leaderboard.plots import bar_chart_figure

    board = board_from_results(three, metrics=["visual_consistency"])
    fig = bar_chart_figure(board, "visual_consistency")
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == [72.5, 65.25, 60.0]
    segments = [c for c in ax.collections if c.get_segments()][0].get_segments()
    assert [(s[0][0], s[1][0]) for s in segments] == [(72.0, 73.0), (64.75, 65.75), (59.5, 60.5)]


def test_deltas_never_go_to_the_wrong_published_row(tmp_path):
    from leaderboard.errors import LeaderboardError

    table = load_paper_table("mask2dit:table7")  # rows: CogVideoX-2B, Ours (2B), CogVideoX-5B, Ours (5B)
    ours = write(tmp_path, "ours.json", make_results("Ours", {"visual_consistency": 80.0}))
    with pytest.raises(LeaderboardError, match=r"matches 2 published rows.*#2 Ours, #4 Ours"):
        add_measured_rows(board_from_paper(table), table, [ours])
    with pytest.raises(LeaderboardError, match="names 2 rows"):
        add_measured_rows(board_from_paper(table), table, [ours], reference="Ours")
    board = add_measured_rows(board_from_paper(table), table, [ours], reference="#2")
    assert board.rows[-1].cell("visual_consistency").delta == pytest.approx(80.0 - 70.95)  # 2B "Ours"
    board = add_measured_rows(board_from_paper(table), table, [ours], reference="#4")
    assert board.rows[-1].cell("visual_consistency").delta == pytest.approx(80.0 - 89.21)  # 5B "Ours"
    # --reference applies only to measured rows without their own namesake
    cog = write(tmp_path, "cog.json", make_results("CogVideoX-5B", {"visual_consistency": 44.0}))
    board = add_measured_rows(board_from_paper(table), table, [cog, ours], reference="#2")
    by_name = {r.name: r for r in board.rows if not r.published}
    assert by_name["CogVideoX-5B"].cell("visual_consistency").delta == pytest.approx(44.0 - 43.82)
    assert by_name["Ours"].cell("visual_consistency").delta == pytest.approx(80.0 - 70.95)
    table1 = load_paper_table("mask2dit:table1")
    talc = write(tmp_path, "talc.json", make_results("TALC", {"visual_consistency": 68.0}))
    board = add_measured_rows(board_from_paper(table1), table1, [talc], reference="Ours")
    assert board.rows[-1].details["delta_reference"] == "TALC [2]"
    assert board.rows[-1].cell("visual_consistency").delta == pytest.approx(68.0 - 67.47)


def test_confusion_degree_is_printed_with_its_f(tmp_path):
    """CD grows with the number of frame-level prompts F, so every table shows F beside it."""
    docs = []
    for name, cd, f in (("short", 0.10, {"min": 3, "max": 3, "mean": 3}), ("long", 0.30, {"min": 7, "max": 8, "mean": 7.5})):
        doc = make_results(name, {"confusion_degree": cd})
        doc["metrics"]["confusion_degree"]["F"] = f
        docs.append(write(tmp_path, f"{name}.json", doc))
    old = make_results("old", {"confusion_degree": 0.2})
    old["metrics"]["confusion_degree"]["F"] = [3, 4]  # results files before the {"min", "max", "mean"} form
    docs.append(write(tmp_path, "old.json", old))
    board = board_from_results(docs, allow_mixed=True)
    md = render(board, "markdown")
    assert "| short | **0.1000** [-0.4000, 0.6000] (F=3) |" in md
    assert "| long | 0.3000 [-0.2000, 0.8000] (F=7-8) |" in md
    assert "| old | <u>0.2000</u> [-0.3000, 0.7000] (F=3-4) |" in md
    assert "(F=7-8)" in render(board, "latex") and "(F=7-8)" in render(board, "html", with_plots=False)
    csv_lines = render(board, "csv").splitlines()
    assert "confusion_degree_F" in csv_lines[0].split(",")
    col = csv_lines[0].split(",").index("confusion_degree_F")
    assert [line.split(",")[col] for line in csv_lines[1:]] == ["3", "3-4", "7-8"]
