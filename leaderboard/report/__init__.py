"""The per-run report (``mvbench report``): one self-contained HTML page per results file.

- :mod:`leaderboard.report.model`: items, metric columns and the suite's prompts;
- :mod:`leaderboard.report.keyframes`: keyframe strips (the frames the consistency clips were made of);
- :mod:`leaderboard.report.item_html`, :mod:`leaderboard.report.charts`: the per-item view and its SVG charts;
- :mod:`leaderboard.report.page`: the page, its stylesheet, script and Content-Security-Policy.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: frames per scene clip when the results do not record the consistency encoder's clip length (ViCLIP's 8)
DEFAULT_CLIP_FRAMES = 8


@dataclass
class ReportInfo:
    path: Path
    items: int
    scenes_with_keyframes: int
    scenes_without_keyframes: int
    seconds: float
    notes: list[str]


def clip_frames(doc: dict) -> int:
    """Frames per scene clip of the consistency scorer in a results file (its encoder's ``num_frames``).

    >>> clip_frames({"config": {"scorers": {"consistency": {"encoder": "e"}}},
    ...              "encoders": {"e": {"preprocess": {"num_frames": 16}}}})
    16
    >>> clip_frames({})
    8
    """
    scorer = ((doc.get("config") or {}).get("scorers") or {}).get("consistency") or {}
    enc = (doc.get("encoders") or {}).get(scorer.get("encoder") or "") or {}
    n = (enc.get("preprocess") or {}).get("num_frames")
    return int(n) if isinstance(n, int) and n > 0 else DEFAULT_CLIP_FRAMES


def clip_sampling(doc: dict) -> str:
    """How the run sampled a scene's clip frames (the consistency scorer's clip protocol; ``middle``).

    >>> clip_sampling({"config": {"scorers": {"consistency": {"clip_sampling": "interval-middle"}}}})
    'interval-middle'
    """
    scorer = ((doc.get("config") or {}).get("scorers") or {}).get("consistency") or {}
    value = scorer.get("clip_sampling")
    return value if isinstance(value, str) and value else "middle"


def build_report(results: str | Path, out: str | Path, *, videos: str | Path | None = None, suite: str | None = None,
                 thumb_height: int = 64, page_size: int = 25, workers: int = 4) -> ReportInfo:
    """Write the report of ``results`` to ``out``; keyframes come from the submission folder ``videos``
    (none without it), prompts from ``suite`` (default: the suite the results name)."""
    from leaderboard.report.keyframes import all_keyframes
    from leaderboard.report.model import item_views, load_run_suite, metric_columns
    from leaderboard.report.page import render_report
    from mvbench.atomic import atomic_write_text
    from mvbench.results import load_results

    t0 = time.perf_counter()
    doc = load_results(results)
    loaded_suite, note = load_run_suite(doc, suite)
    notes = [note] if note else []
    views = item_views(doc, loaded_suite)
    with_frames = without = 0
    if videos is not None:
        counts = {v.id: v.n_scenes for v in views if v.n_scenes > 0}
        frames = all_keyframes(videos, counts, n_frames=clip_frames(doc), height=thumb_height, workers=workers,
                               sampling=clip_sampling(doc))
        for v in views:
            v.keyframes = frames.get(v.id, [])
            with_frames += sum(1 for k in v.keyframes if k.uri)
            without += sum(1 for k in v.keyframes if not k.uri)
        if without:
            notes.append(f"{without} scene(s) have no keyframes (file missing or unreadable; see each item)")
    else:
        notes.append("no --videos folder given: keyframes are not shown")
    html = render_report(doc, views, metric_columns(doc), source=Path(results).name, notes=notes, page_size=page_size)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, html)
    return ReportInfo(out, len(views), with_frames, without, time.perf_counter() - t0, notes)
