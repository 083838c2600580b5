"""How fast the per-run report is built and opens in a real browser, and the README's screenshots.

Timing: a synthetic run of N items x 3 scenes (real video files, tests/_report_fixtures.py) is reported
with ``mvbench report``; headless Chromium (tests/_browser.py, DevTools protocol over a pipe) then opens
the page R times in a fresh tab and reports the time to the page's ready flag (table sorted/paginated)
and to the first item's keyframes decoded. Prints a Markdown table.

Screenshots (``--screenshots DIR``): the report of ``mvbench demo`` (its work folder, ``--demo``) opened at
one item, and the Mask²DiT Table 1 leaderboard with the demo's measured row, written as DIR/report.png
and DIR/leaderboard.png.

    python benchmarks/report_pages.py --items 50 200 --repeats 3
    mvbench demo && python benchmarks/report_pages.py --items 50 --screenshots docs --demo mvbench-demo
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from _browser import Browser, chromium  # noqa: E402
from _report_fixtures import make_run  # noqa: E402

from leaderboard.report import build_report  # noqa: E402
from mvbench.cli import main  # noqa: E402

OPEN_ITEM = """(async () => {
  document.querySelector('#items tbody tr').click();
  const imgs = Array.from(document.querySelectorAll('#detail img'));
  for (const img of imgs) { img.scrollIntoView(); await img.decode(); }
  return imgs.length; })()"""


def time_report(n_items: int, repeats: int, work: Path) -> dict:
    run = make_run(work / f"run{n_items}", model="bench", n_items=n_items)
    out = work / f"report{n_items}.html"
    info = build_report(run["results"], out, videos=run["videos"])
    ready, shown = [], []
    with Browser(work / f"profile{n_items}") as b:
        for _ in range(repeats):
            b.open("about:blank")
            t0 = time.perf_counter()
            b.open(out.as_uri())
            b.wait_for("document.documentElement.dataset.ready === '1'")
            ready.append(time.perf_counter() - t0)
            b.eval(OPEN_ITEM)
            shown.append(time.perf_counter() - t0)
        errors = b.errors()
    return {"items": n_items, "build_s": info.seconds, "size_mb": out.stat().st_size / 1e6,
            "ready_s": statistics.median(ready), "item_s": statistics.median(shown), "errors": len(errors)}


def screenshots(demo: Path, target: Path, work: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    report = demo / "report.html"
    if not report.is_file():
        build_report(demo / "results.json", report, videos=demo / "videos")
    reports = work / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "results.html").write_bytes(report.read_bytes())
    board = work / "board.html"
    assert main(["leaderboard", "--paper", "mask2dit:table1", str(demo / "results.json"), "--reference", "Ours",
                 "--format", "html", "--ci", "brackets", "--out", str(board), "--reports", str(reports)]) == 0
    with Browser(work / "profile-shots", width=1280, height=900) as b:
        b.open(report.resolve().as_uri() + "#item=demo_02_changing_world")
        b.wait_for("document.getElementById('detail').dataset.item === 'demo_02_changing_world'")
        b.eval("(async () => { for (const i of document.querySelectorAll('#detail img')) await i.decode(); })()")
        b.screenshot(target / "report.png", full_page=True, max_height=1700)
        b.open(board.as_uri())
        b.screenshot(target / "leaderboard.png", full_page=True, max_height=1500)
        assert not b.errors(), b.errors()
    print(f"wrote {target / 'report.png'} and {target / 'leaderboard.png'}")


def main_(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, nargs="+", default=[50])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--screenshots", metavar="DIR", help="also write report.png and leaderboard.png here")
    ap.add_argument("--demo", metavar="DIR", default="mvbench-demo", help="work folder of `mvbench demo`")
    args = ap.parse_args(argv)
    if chromium() is None:
        print("no chromium: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("| items | build (s) | page size (MB) | ready in browser (s) | first item's keyframes shown (s) | "
              "console errors |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for n in args.items:
            r = time_report(n, args.repeats, work)
            print(f"| {r['items']} | {r['build_s']:.1f} | {r['size_mb']:.1f} | {r['ready_s']:.2f} | {r['item_s']:.2f} | "
                  f"{r['errors']} |")
        if args.screenshots:
            screenshots(Path(args.demo), Path(args.screenshots), work)
    return 0


if __name__ == "__main__":
    sys.exit(main_())
