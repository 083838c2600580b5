"""The HTML leaderboard: self-contained, escaped, sortable — checked in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from test_leaderboard_support import make_results, write

from leaderboard.board import board_from_results
from leaderboard.render import render

INJECTED = "<script>alert(1)</script>"
ONERROR = "beta <img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=3000"]


class DomReader(HTMLParser):
    """Collects table rows (id, cell texts, data-value per data-key), script and img elements, body attrs."""

    def __init__(self):
        super().__init__()
        self.rows, self.scripts, self.imgs, self.body_attrs, self.table_attrs = [], 0, [], {}, {}
        self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        elif tag == "img":
            self.imgs.append(attrs.get("src", ""))
        elif tag == "body":
            self.body_attrs = attrs
        elif tag == "table" and attrs.get("id") == "leaderboard":
            self.table_attrs = attrs
        elif tag == "tr" and (attrs.get("id") or "").startswith("row-"):
            self._row = {"id": attrs["id"], "texts": [], "values": {}}
            self.rows.append(self._row)
        elif tag == "td" and self._row is not None:
            self._cell = []
            if "data-value" in attrs:
                self._row["values"][attrs["data-key"]] = attrs["data-value"]

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row["texts"].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_dom(html: str) -> DomReader:
    reader = DomReader()
    reader.feed(html)
    return reader


@pytest.fixture()
def page(tmp_path):
    paths = [
        write(tmp_path, "a.json", make_results(INJECTED, {"visual_consistency": 60.0, "fvd": 700.0})),
        write(tmp_path, "b.json", make_results(ONERROR, {"visual_consistency": 70.0, "fvd": 900.0})),
        write(tmp_path, "c.json", make_results("gamma", {"visual_consistency": 65.0})),
    ]
    board = board_from_results(paths)
    path = tmp_path / "board.html"
    path.write_text(render(board, "html"), encoding="utf-8")
    return path


def test_page_is_self_contained_and_escaped(page):
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "page must not load anything from the network"
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert INJECTED not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    dom = read_dom(html)
    assert dom.scripts == 1  # only the page's own sorting script
    assert dom.imgs == [] and html.count('<svg class="strip"') == 2  # charts are inline SVG, one per metric
    assert [r["texts"][0] for r in dom.rows] == [ONERROR, "gamma", INJECTED]  # default: visual, best first
    for key in ("config", "weights_sha256", "content_hash", "mvbench_version"):
        assert key in html  # run details per row


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def dump_dom(browser: str, url: str, profile) -> str:
    result = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.skipif(_chromium() is None, reason="no headless browser: install Debian's `chromium` "
                    "(apt-get install -y chromium) to run the rendered-page checks")
def test_rendered_page_in_headless_chromium(page, tmp_path):
    browser = _chromium()
    # sort by FVD (lower is better): 700, 900, then the row without FVD
    dom = read_dom(dump_dom(browser, page.as_uri() + "#sort=fvd", tmp_path / "profile1"))
    assert dom.table_attrs.get("data-sort-key") == "fvd" and dom.table_attrs.get("data-sort-dir") == "asc"
    assert [r["texts"][0] for r in dom.rows] == [INJECTED, ONERROR, "gamma"]
    assert [r["values"].get("fvd") for r in dom.rows] == ["700.0", "900.0", ""]
    assert [r["texts"][2] for r in dom.rows] == ["700.00 ± 0.50", "900.00 ± 0.50", "-"]
    # the injected names stayed text: no extra script element, no img, no attribute set by onerror
    assert dom.scripts == 1 and "data-pwned" not in dom.body_attrs
    assert not any(src == "x" for src in dom.imgs)
    # explicit direction
    dom = read_dom(dump_dom(browser, page.as_uri() + "#sort=visual_consistency:asc", tmp_path / "profile2"))
    assert [r["values"]["visual_consistency"] for r in dom.rows] == ["60.0", "65.0", "70.0"]
