"""`mvbench plot` figures and the HTML leaderboard's charts: normalisation, intervals as they are, per-item
strips, per-model colours, report links and published rows marked."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from _report_fixtures import make_run
from test_leaderboard_support import make_results, write

from leaderboard.board import add_measured_rows, board_from_paper, board_from_results
from leaderboard.charts_html import RADAR_NORMALISATION, radar_scores, strip_svg
from leaderboard.figures import KINDS, scene_distance_curve
from leaderboard.paper_tables import load_paper_table
from leaderboard.render import render
from leaderboard.svg import PALETTE
from mvbench.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return [make_run(root / name, model=name, n_items=12, seed=seed, videos=False)["results"]
            for seed, name in enumerate(["alpha", "beta", "gamma"])]


def test_radar_normalisation_hand_worked(tmp_path):
    paths = [write(tmp_path, f"{n}.json", make_results(n, {"visual_consistency": vc, "fvd": fvd, "id_f1": f1}))
             for n, vc, fvd, f1 in (("a", 60.0, 500.0, 10.0), ("b", 70.0, 900.0, 10.0), ("c", 65.0, 700.0, None))]
    board = board_from_results(paths, sort=None)
    cols = [c for c in board.number_columns]
    got = radar_scores(board, cols)
    # visual ↑: worst 60 -> 0, best 70 -> 1; FVD ↓: best 500 -> 1, worst 900 -> 0; id_f1 all equal -> 1
    assert got[0] == {"visual_consistency": 0.0, "fvd": 1.0, "id_f1": 1.0}
    assert got[1] == {"visual_consistency": 1.0, "fvd": 0.0, "id_f1": 1.0}
    assert got[2] == pytest.approx({"visual_consistency": 0.5, "fvd": 0.5})  # no id_f1: no point on that axis
    html = render(board, "html")
    assert '<svg class="radar"' in html and "r = (v − worst) / (best − worst)" in RADAR_NORMALISATION
    assert "the centre is the worst value shown and the rim the best" in html


def _x_of(svg: str, value: float) -> float:
    """Pixel x of ``value`` from the axis tick labels of a strip plot (linear axis)."""
    ticks = [(float(t), float(x)) for x, t in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" '
                                                         r'font-size="10" fill="#777">([-\d.]+)</text>', svg)]
    (v0, x0), (v1, x1) = ticks[0], ticks[-1]
    return x0 + (value - v0) * (x1 - x0) / (v1 - v0)


def test_strip_plot_draws_asymmetric_intervals_as_they_are(tmp_path):
    doc = make_results("asym", {"fvd": 700.0})
    doc["metrics"]["fvd"]["ci95"] = [650.0, 900.0]  # FVD's interval is far from symmetric
    doc["items"] = {f"i{k}": {"scores": {"fvd": 600.0 + 25 * k}, "details": {}} for k in range(9)}
    board = board_from_results([write(tmp_path, "a.json", doc)])
    col = board.number_columns[0]
    svg = strip_svg(board, col, ["#0072B2"])
    lines = re.findall(r'<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="\2" stroke="#0072B2" stroke-width="2"/>',
                       svg)
    assert len(lines) == 1
    x1, _, x2 = lines[0]
    assert float(x1) == pytest.approx(_x_of(svg, 650.0), abs=0.15) and float(x2) == pytest.approx(_x_of(svg, 900.0),
                                                                                                   abs=0.15)
    mean_x = float(re.search(r'<circle cx="([\d.]+)" cy="[\d.]+" r="5"', svg).group(1))
    assert mean_x == pytest.approx(_x_of(svg, 700.0), abs=0.15)
    assert svg.count('r="2.2"') == 9  # one dot per item
    assert "95% CI [650.00, 900.00]" in svg


def test_leaderboard_page_colours_links_and_published_rows(runs, tmp_path, capsys):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / f"{runs[0].parent.name}.html").write_text("x")  # not the stem of results.json: no link
    (reports / "results.html").write_text("report")
    page = tmp_path / "out" / "board.html"
    assert main(["leaderboard", "--paper", "mask2dit:table1", str(runs[0]), "--reference", "Ours", "--format", "html",
                 "--out", str(page), "--reports", str(reports)]) == 0
    html = page.read_text(encoding="utf-8")
    rows = re.findall(r'<tr id="row-\d+"( class="[^"]*")? data-name="([^"]*)">(.*?)</tr>', html, flags=re.S)
    published = [r for r in rows if "published" in r[0]]
    measured = [r for r in rows if "published" not in r[0]]
    assert len(published) == 5 and len(measured) == 1
    assert all('class="badge published"' in r[2] for r in published)
    assert 'class="badge measured"' in measured[0][2] and 'href="../reports/results.html"' in measured[0][2]
    # one colour per model, the same in the table and in the charts
    swatch = r'<svg class="sw"[^>]*><circle [^>]*?(?:fill|stroke)="(#(?!ffffff)[0-9A-Fa-f]{6})"'
    colours = [re.search(swatch, r[2]).group(1) for r in rows]
    assert colours == list(PALETTE[:6])
    legend = html.split('<div class="legend">', 1)[1].split("</div>", 1)[0]
    assert re.findall(swatch, legend) == colours
    assert 'stroke="#56B4E9" stroke-width="2"/>' in html.split('<svg class="radar"', 1)[1]  # the measured row
    assert html.count('<svg class="strip"') == 4 and '<svg class="radar"' in html
    assert "<img" not in html  # the charts are inline SVG (no more bar-chart PNGs)
    # the measured row's strip shows its items, in the paper's units
    doc = json.loads(runs[0].read_text())
    n_items = len(doc["items"])
    strip = html.split('<svg class="strip"', 1)[1].split("</svg>", 1)[0]
    assert "Visual Con." in strip and f"{n_items} items" in strip and strip.count('r="2.2"') == n_items
    board = add_measured_rows(board_from_paper(load_paper_table("mask2dit:table1")),
                              load_paper_table("mask2dit:table1"), [runs[0]], reference="Ours")
    assert sorted(board.rows[-1].item_values["visual_consistency"]) == sorted(
        r["scores"]["visual_consistency"] for r in doc["items"].values())
    capsys.readouterr()
    assert main(["leaderboard", str(runs[1]), "--format", "html", "--out", str(tmp_path / "b.html"),
                 "--reports", str(tmp_path / "none")]) == 0
    assert "note: no report for" in capsys.readouterr().err
    # a folder whose name looks like a URL scheme stays a relative link
    odd = tmp_path / "javascript:alert(1)"
    odd.mkdir()
    (odd / "results.html").write_text("r")
    from leaderboard.report_links import attach_reports

    board = board_from_results([runs[1]])
    assert attach_reports(board, odd, tmp_path / "page.html") == []
    assert board.rows[0].report == "./javascript:alert(1)/results.html"


def test_scene_distance_curve_matches_numpy(runs):
    doc = json.loads(runs[0].read_text())
    curve = scene_distance_curve(doc, n_resamples=2000)
    mats = [np.array(r["details"]["consistency"]["scene_similarity"]) for r in doc["items"].values()]
    for d in (1, 2):
        per_item = [np.mean([m[i, i + d] for i in range(m.shape[0] - d)]) for m in mats]
        mean, lo, hi, n = curve[d]
        assert n == len(mats) and mean == pytest.approx(np.mean(per_item), abs=1e-9)
        rng = np.random.default_rng(0)
        boots = np.asarray(per_item)[rng.integers(0, n, size=(2000, n))].mean(axis=1)
        assert (lo, hi) == pytest.approx(tuple(np.quantile(boots, [0.025, 0.975])), abs=1e-9)
    assert sorted(curve) == [1, 2]


@pytest.mark.parametrize("kind", KINDS)
def test_plot_writes_vector_figures_at_column_width(runs, tmp_path, kind):
    out = tmp_path / f"{kind}.pdf"
    assert main(["plot", *map(str, runs), "--kind", kind, "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert float(box.group(1)) == pytest.approx(3.3 * 72, abs=0.5)  # one column, as asked
    assert b"/Subtype /Image" not in data  # vector only
    again = tmp_path / f"{kind}-again.pdf"
    assert main(["plot", *map(str, runs), "--kind", kind, "--out", str(again)]) == 0
    assert again.read_bytes() == data  # no timestamps: the same input gives the same file


def test_plot_errors_say_what_to_do(runs, tmp_path, capsys):
    doc = json.loads(runs[0].read_text())
    for rec in doc["items"].values():
        rec["details"]["consistency"].pop("scene_similarity")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    assert main(["plot", str(old), "--kind", "scene-distance", "--out", str(tmp_path / "f.pdf")]) == 2
    assert "re-run `mvbench evaluate`" in capsys.readouterr().err
    assert main(["plot", str(runs[0]), "--kind", "radar", "--out", str(tmp_path / "f.pdf")]) == 2
    assert "at least 3 metrics" in capsys.readouterr().err
    assert main(["plot", str(runs[0]), "--kind", "bars", "--out", str(tmp_path / "f.gif")]) == 2
    assert main(["plot", str(runs[0]), "--kind", "bars", "--out", str(tmp_path / "f.svg"), "--width", "6.9"]) == 0
    assert (tmp_path / "f.svg").read_text().startswith("<?xml")


def test_cli_stays_light():
    import subprocess
    import sys

    code = ("import sys, mvbench.cli; from mvbench.cli import COMMANDS; "
            "assert 'report' in COMMANDS and 'plot' in COMMANDS; "
            "print(','.join(m for m in ('matplotlib', 'torch', 'PIL', 'leaderboard.report') if m in sys.modules))")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert got.stdout.strip() == ""
