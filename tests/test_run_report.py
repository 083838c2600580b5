"""`mvbench report`: the page's content, its keyframes (the frames the consistency clips were made of), its
escaping and its self-containment, checked on the HTML text (the rendered page: test_browser_pages.py)."""

from __future__ import annotations

import base64
import io
import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from _report_fixtures import HOSTILE_MODEL, INJECTED, ONERROR, make_run

from leaderboard.report import build_report, clip_frames
from mvbench.cli import main


class Page(HTMLParser):
    """Top-level script elements, keyframe images, templates, heatmap cell texts."""

    def __init__(self):
        super().__init__()
        self.scripts, self.keyframes, self.templates, self.rows = 0, [], [], []
        self._in_template = 0
        self.csp = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self._in_template += 1
            self.templates.append(a.get("data-item"))
        elif tag == "script" and not self._in_template:
            self.scripts += 1
        elif tag == "img" and "keyframes" in (a.get("class") or ""):
            self.keyframes.append((self.templates[-1] if self._in_template else None, a))
        elif tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
            self.csp = a["content"]
        elif tag == "tr" and "data-item" in a:
            self.rows.append(a)

    def handle_endtag(self, tag):
        if tag == "template":
            self._in_template -= 1


def parse(html: str) -> Page:
    p = Page()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    paths = make_run(root, model=HOSTILE_MODEL, n_items=6, hostile=True)
    out = root / "report.html"
    info = build_report(paths["results"], out, videos=paths["videos"])
    return paths, out, info


def test_page_is_self_contained_strict_and_escaped(run):
    _, out, info = run
    html = out.read_text(encoding="utf-8")
    page = parse(html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "nothing may load from the network"
    assert "default-src 'none'" in page.csp and "img-src data:" in page.csp
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'$", page.csp), "scripts run only by hash"
    assert "unsafe-inline" not in page.csp
    assert page.scripts == 1  # the page's own script; nothing injected became a script element
    for payload in (INJECTED, ONERROR, HOSTILE_MODEL):
        assert payload not in html
    assert "&lt;script&gt;document.body.setAttribute(" in html  # the prompt is shown, as text
    assert "evil &lt;script&gt;" in html  # the model name too
    assert info.items == 6 and len(page.rows) == 6 and page.templates == [f"item_{i:03d}" for i in range(6)]


def _sampled(n_total: int, n: int) -> list[int]:
    """Segment midpoints, written independently of mvbench.video.sampling."""
    return [min(n_total - 1, int(math.floor((2 * i + 1) * n_total / (2 * n)))) for i in range(n)]


def _decode_all(path) -> np.ndarray:
    import av

    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def test_keyframes_are_the_scored_frames_in_both_layouts(run):
    from PIL import Image

    paths, out, info = run
    page = parse(out.read_text(encoding="utf-8"))
    assert info.scenes_with_keyframes == 18 and info.scenes_without_keyframes == 0
    assert len(page.keyframes) == 18  # 6 items x 3 scenes, one strip each
    n = clip_frames(json.loads(paths["results"].read_text()))
    assert n == 8
    videos = paths["videos"]
    for item_id, attrs in page.keyframes:
        frames_text, file_name = re.fullmatch(r"frames ([\d, ]+) of (.+)", attrs["alt"]).groups()
        indices = [int(x) for x in frames_text.split(", ")]
        idx = int(item_id[-3:])
        if idx % 2 == 0:  # one file per scene: ITEM/scene_K.mkv, 16 frames
            k = int(re.fullmatch(rf"{item_id}/scene_(\d)\.mkv", file_name).group(1))
            assert indices == _sampled(16, n)
            video = _decode_all(videos / file_name)
        else:  # one file per item, scene K is frames [16 (K-1), 16 K)
            assert file_name == f"{item_id}.mkv"
            k = indices[0] // 16 + 1
            assert indices == [16 * (k - 1) + i for i in _sampled(16, n)]
            video = _decode_all(videos / file_name)
        strip = np.asarray(Image.open(io.BytesIO(base64.b64decode(attrs["src"].split(",", 1)[1]))).convert("RGB"),
                           dtype=np.float64)
        h = int(attrs["height"])
        assert strip.shape[0] == h and strip.shape[1] == int(attrs["width"])
        tile_w = (strip.shape[1] - (n - 1)) // n
        for j, frame_index in enumerate(indices):
            tile = strip[:, j * (tile_w + 1): j * (tile_w + 1) + tile_w]
            want = np.asarray(Image.fromarray(video[frame_index]).resize((tile_w, h), Image.Resampling.BOX),
                              dtype=np.float64)
            assert np.abs(tile - want).mean() < 12, (item_id, k, j)


def test_keyframes_follow_the_runs_clip_sampling(tmp_path):
    paths = make_run(tmp_path / "r", n_items=2, failed=0, per_item_files=False)
    doc = json.loads(paths["results"].read_text())
    doc["config"]["scorers"]["consistency"]["clip_sampling"] = "step"  # InternVid's demo: every T // 8-th frame
    doc["encoders"]["tiny"]["preprocess"]["num_frames"] = 4
    paths["results"].write_text(json.dumps(doc))
    out = tmp_path / "r.html"
    build_report(paths["results"], out, videos=paths["videos"])
    alts = [a["alt"] for _, a in parse(out.read_text(encoding="utf-8")).keyframes]
    assert len(alts) == 6 and all(alt.startswith("frames 0, 4, 8, 12 of ") for alt in alts)  # 16 // 4 = 4


def test_item_views_show_what_the_results_keep(run):
    paths, out, _ = run
    html = out.read_text(encoding="utf-8")
    doc = json.loads(paths["results"].read_text())
    rec = doc["items"]["item_000"]
    template = html.split('<template data-item="item_000">', 1)[1].split("</template>", 1)[0]
    # per-scene semantic scores and the pair matrix cells (one decimal) of item_000
    for k, s in enumerate(rec["details"]["consistency"]["scene_semantic"], start=1):
        assert f"<b>Scene {k}</b>" in template and f"semantic {s:.2f}" in template
    m = rec["details"]["consistency"]["scene_similarity"]
    cells = re.findall(r">(\d+\.\d)</text>", template.split('class="heatmap"', 1)[1].split("</svg>", 1)[0])
    assert cells == [f"{m[i][j]:.1f}" for i in range(3) for j in range(3) if i != j]
    # Confusion Degree per prompt, its matrices, and the character-ID shots
    for v in rec["details"]["confusion"]["cd_per_prompt"]:
        assert f"{v:.4f}" in template
    assert "S_TT (prompt x prompt)" in template and "S_TF (prompt x segment)" in template
    assert template.count("<tr><td>") >= 3 and "Actor2" in template and "missed (FN)" in template
    # warnings and failures, with their files
    assert "[short_scene]" in html.split('<template data-item="item_002">', 1)[1].split("</template>", 1)[0]
    failed = html.split('<template data-item="item_005">', 1)[1].split("</template>", 1)[0]
    assert "failed</b> at decode (truncated)" in failed and "item_005/scene_2.mkv" in failed
    assert '<table id="failures">' in html


def test_summary_intervals_are_lo_hi(run):
    paths, out, _ = run
    html = out.read_text(encoding="utf-8")
    m = json.loads(paths["results"].read_text())["metrics"]
    vc, cd = m["visual_consistency"], m["confusion_degree"]
    assert f"[{vc['ci95'][0]:.2f}, {vc['ci95'][1]:.2f}]" in html
    assert f"[{cd['ci95'][0]:.4f}, {cd['ci95'][1]:.4f}]" in html  # 4 decimals, as the papers print CD
    assert "±" not in html.split('<table id="summary">', 1)[1].split("</table>", 1)[0]


def test_missing_videos_suite_and_hostile_ids(tmp_path, capsys):
    paths = make_run(tmp_path / "r", n_items=3, videos=True, per_item_files=False, failed=0)
    (paths["videos"] / "item_001" / "scene_2.mkv").unlink()
    (paths["videos"] / "item_002" / "scene_3.mkv").write_bytes(b"not a video")
    out = tmp_path / "r.html"
    info = build_report(paths["results"], out, videos=paths["videos"])
    html = out.read_text(encoding="utf-8")
    assert info.scenes_with_keyframes == 7 and info.scenes_without_keyframes == 2
    assert "no keyframes: no file item_001/scene_2.*" in html and "cannot open video" in html

    # the suite file is gone: no prompts, a note; a crafted results file with a hostile item id stays text
    doc = json.loads(paths["results"].read_text())
    doc["items"]['x"><img src=x onerror=alert(1)>'] = doc["items"].pop("item_000")
    doc["suite"]["source"] = str(tmp_path / "gone.json")
    crafted = tmp_path / "crafted.json"
    crafted.write_text(json.dumps(doc))
    build_report(crafted, out)
    html = out.read_text(encoding="utf-8")
    assert "could not be loaded" in html and "no --videos folder given" in html
    assert "<img src=x" not in html and 'x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;' in html
    assert parse(html).scripts == 1 and not parse(html).keyframes

    # the suite changed since the run
    suite = json.loads(paths["suite"].read_text())
    suite["items"][0]["scenes"][0]["prompt"] = "edited"
    paths["suite"].write_text(json.dumps(suite))
    build_report(paths["results"], out)
    assert "has changed since the run" in out.read_text(encoding="utf-8")


def test_cli(run, tmp_path, capsys):
    paths, _, _ = run
    out = tmp_path / "sub" / "page.html"
    assert main(["report", str(paths["results"]), "--videos", str(paths["videos"]), "--out", str(out),
                 "--page-size", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"report written to {out}" in printed and "18 scenes with keyframes" in printed
    assert '<option value="2" selected>' in out.read_text(encoding="utf-8")
    assert main(["report", str(paths["results"]), "--videos", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.json")]) == 2
