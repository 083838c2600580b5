"""The report and the leaderboard opened in a real headless Chromium (Chrome DevTools Protocol over a pipe,
tests/_browser.py): no console errors (CSP violations included), keyframes decoded, sorting, filtering and
pagination change the rows, hostile model names and prompts stay inert, screenshots taken.

Set ``MVBENCH_SCREENSHOTS=DIR`` to also keep the screenshots (``report.png``, ``leaderboard.png``) in DIR
(the README's come from ``MVBENCH_SCREENSHOTS=docs``). The time a 50-item report takes to open and render
is printed, not asserted (docs/leaderboard.md records it).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from _browser import SKIP_REASON, Browser, chromium
from _report_fixtures import HOSTILE_MODEL, make_run

from mvbench.cli import main

pytestmark = pytest.mark.skipif(chromium() is None, reason=SKIP_REASON)

N_ITEMS = 50
ROWS = "Array.from(document.querySelectorAll('#items tbody tr')).filter(r => !r.hidden).map(r => r.dataset.item)"
INERT = ("[document.body.getAttribute('data-pwned'), document.querySelectorAll('script').length, "
         "Array.from(document.images).filter(i => i.getAttribute('src') === 'x').length, window.__pwned || null]")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    hostile = make_run(root / "hostile", model=HOSTILE_MODEL, n_items=N_ITEMS, hostile=True)
    clean = [make_run(root / name, model=name, n_items=N_ITEMS, hostile=True, seed=seed, videos=False)
             for seed, name in ((1, "alpha"), (2, "beta"))]
    reports = root / "reports"
    for name, run in (("hostile", hostile), ("alpha", clean[0]), ("beta", clean[1])):
        run["results"] = run["results"].rename(run["results"].with_name(f"{name}.json"))
        assert main(["report", str(run["results"]), "--videos", str(hostile["videos"]), "--out",
                     str(reports / f"{name}.html")]) == 0
    board = root / "board.html"
    assert main(["leaderboard", "--paper", "mask2dit:table1", str(clean[0]["results"]), str(clean[1]["results"]),
                 "--reference", "Ours", "--format", "html", "--out", str(board), "--reports", str(reports)]) == 0
    evil_board = root / "evil.html"
    assert main(["leaderboard", str(hostile["results"]), str(clean[0]["results"]), "--format", "html",
                 "--out", str(evil_board), "--reports", str(reports)]) == 0
    return {"root": root, "reports": reports, "board": board, "evil_board": evil_board}


@pytest.fixture()
def browser(tmp_path):
    with Browser(tmp_path / "profile", width=1280, height=900) as b:
        yield b


def _keep(shot: Path, name: str) -> None:
    target = os.environ.get("MVBENCH_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(target) / name)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _set(b: Browser, element_id: str, value: str, event: str) -> None:
    """Set a control's value the way a user does: value, then the event the page listens to."""
    b.eval(f"(() => {{ const e = document.getElementById({element_id!r}); e.value = {value!r}; "
           f"e.dispatchEvent(new Event({event!r})); }})()")


def _open_item(b: Browser, item: str) -> list[int]:
    """Click the item's row; wait for its view; scroll to and decode every image; their natural widths."""
    b.eval(f"document.querySelector('#items tbody tr[data-item=\"{item}\"]').click()")
    b.wait_for(f"document.getElementById('detail').dataset.item === '{item}'")
    return b.eval("""(async () => {
        const imgs = Array.from(document.querySelectorAll('#detail img'));
        for (const img of imgs) { img.scrollIntoView(); await img.decode(); }
        return imgs.map(i => i.naturalWidth); })()""")


def test_report_50_items_sort_filter_paginate_and_keyframes(site, browser, tmp_path, capsys):
    b = browser
    url = (site["reports"] / "alpha.html").as_uri()
    t0 = time.perf_counter()
    b.open(url)
    b.wait_for("document.documentElement.dataset.ready === '1'")
    opened = time.perf_counter() - t0
    widths = _open_item(b, "item_000")
    rendered = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\n[browser] {N_ITEMS}-item report: page ready in {opened:.2f} s, first item's "
              f"{len(widths)} keyframe strips decoded at {rendered:.2f} s")
    assert len(widths) == 3 and all(w > 0 for w in widths)
    assert b.eval("document.querySelector('#detail svg.heatmap').querySelectorAll('rect').length") == 9
    shot = b.screenshot(tmp_path / "report.png", full_page=True, max_height=2400)
    assert _png_size(shot)[0] == 1280
    _keep(shot, "report.png")

    first_page = b.eval(ROWS)
    assert first_page == [f"item_{i:03d}" for i in range(25)]  # 25 per page, suite order
    b.eval("document.getElementById('next').click()")
    assert b.eval(ROWS) == [f"item_{i:03d}" for i in range(25, 50)]
    _set(b, "page-size", "all", "change")
    assert len(b.eval(ROWS)) == N_ITEMS

    # sort by Visual Consistency: best first, then reversed; failed items (no score) last
    b.eval("document.querySelector('#items th[data-key=\"visual_consistency\"] button').click()")
    order = b.eval(ROWS)
    values = b.eval("Array.from(document.querySelectorAll('#items tbody tr')).filter(r => !r.hidden)"
                    ".map(r => r.cells[3].dataset.value)")
    scored = [float(v) for v in values if v]
    assert order != first_page and scored == sorted(scored, reverse=True) and values[-1] == ""
    assert b.eval("document.getElementById('items').dataset.sortDir") == "desc"
    b.eval("document.querySelector('#items th[data-key=\"visual_consistency\"] button').click()")
    asc = b.eval("Array.from(document.querySelectorAll('#items tbody tr')).filter(r => !r.hidden)"
                 ".map(r => r.cells[3].dataset.value)")
    assert [float(v) for v in asc if v] == sorted(float(v) for v in asc if v) and asc[-1] == ""

    # filter by prompt words and by status
    _set(b, "filter", "lighthouse", "input")
    shown = b.eval(ROWS)
    assert shown and len(shown) == N_ITEMS // 10 and all(int(i[-3:]) % 10 == 0 for i in shown)
    _set(b, "filter", "", "input")
    _set(b, "status-filter", "failed", "change")
    assert b.eval(ROWS) == [f"item_{N_ITEMS - 1:03d}"]
    assert b.errors() == []


def test_hostile_names_and_prompts_stay_inert(site, browser):
    b = browser
    b.open((site["reports"] / "hostile.html").as_uri())
    b.wait_for("document.documentElement.dataset.ready === '1'")
    assert "evil <script>" in b.eval("document.querySelector('h1').textContent")
    widths = _open_item(b, "item_001")  # its first scene prompt carries both payloads
    assert len(widths) == 3 and all(w > 0 for w in widths)
    prompt = b.eval("document.querySelector('#detail .prompt').textContent")
    assert "<script>document.body.setAttribute('data-pwned','script')</script>" in prompt and "onerror=" in prompt
    assert b.eval(INERT) == [None, 1, 0, None]
    b.open("about:blank")
    b.open((site["reports"] / "hostile.html").as_uri() + "#item=item_001")  # a fresh load, item from the address
    b.wait_for("document.getElementById('detail').dataset.item === 'item_001'")
    assert b.eval(INERT) == [None, 1, 0, None]

    b.open(site["evil_board"].as_uri())
    names = b.eval("Array.from(document.querySelectorAll('#leaderboard tbody tr')).map(r => r.dataset.name)")
    assert any(n.startswith(HOSTILE_MODEL) for n in names)  # the name, as text, exactly
    assert b.eval("document.querySelectorAll('svg.strip text').length") > 0
    assert b.eval(INERT) == [None, 1, 0, None]
    assert b.errors() == []


def test_leaderboard_sorts_links_reports_and_draws_charts(site, browser, tmp_path):
    b = browser
    b.open(site["board"].as_uri())
    names = "Array.from(document.querySelectorAll('#leaderboard tbody tr')).map(r => r.dataset.name)"
    before = b.eval(names)
    assert before[:5] == ["CogVideoX [38]", "StoryDiffusion [42] + CogVideoX-I2V [38]", "TALC [2]",
                          "VideoStudio [12]", "Ours"]
    b.eval("document.querySelector('#leaderboard th[data-key=\"visual_consistency\"] button').click()")
    after = b.eval(names)
    assert after != before and sorted(after) == sorted(before)
    assert b.eval("document.querySelectorAll('tr.published .badge.published').length") == 5
    assert b.eval("document.querySelectorAll('svg.radar polygon.model, svg.radar line').length") > 0
    assert b.eval("document.querySelectorAll('svg.strip').length") == 4
    shot = b.screenshot(tmp_path / "leaderboard.png", full_page=True, max_height=2400)
    assert _png_size(shot)[0] == 1280
    _keep(shot, "leaderboard.png")
    assert b.errors() == []
    # each measured row links to its report, which opens
    href = b.eval("document.querySelector('tr[data-name^=\"alpha\"] a.report').href")
    assert href.endswith("reports/alpha.html")
    b.open(href)
    b.wait_for("document.documentElement.dataset.ready === '1'")
    assert b.eval("document.querySelector('h1').textContent").startswith("alpha 1 on report-test")
    assert b.errors() == []
