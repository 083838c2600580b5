"""The report's per-item view (one ``<template>`` per item, cloned into the page when the item is opened):
keyframe strips and prompts per scene, per-scene semantic scores, the scene-pair heatmap, Confusion
Degree per prompt (and its matrices when saved), character-ID matches per shot, warnings and failure.

Every string from the results file or the suite goes through :func:`html.escape`.
"""

from __future__ import annotations

import json
from html import escape

from leaderboard.report.charts import bars_svg, heatmap_svg
from leaderboard.report.model import ItemView, MetricColumn

#: scorer details shown by their own section (the rest are listed as JSON)
SHOWN = {"consistency", "confusion", "character_id"}


def _num(v, decimals: int = 2) -> str:
    return "-" if not isinstance(v, (int, float)) or isinstance(v, bool) else f"{v:.{decimals}f}"


def _scenes(view: ItemView, fraction: bool = False) -> list[str]:
    cons = view.details.get("consistency") or {}
    semantic = cons.get("scene_semantic") if isinstance(cons.get("scene_semantic"), list) else []
    n = max(view.n_scenes, len(view.keyframes))
    if n == 0:
        return []
    out = ['<h4>Scenes</h4><div class="scenes">']
    for k in range(n):
        prompt = view.scene_prompts[k] if k < len(view.scene_prompts) else ""
        sem = semantic[k] if k < len(semantic) else None
        out.append('<div class="scene">')
        out.append(f'<div class="scene-head"><b>Scene {k + 1}</b>')
        if sem is not None:
            out.append(f' <span class="sem" title="cosine of the scene clip and its prompt{"" if fraction else " x100"}">'
                       f"semantic {escape(_num(sem, 4 if fraction else 2))}</span>")
        out.append("</div>")
        if k < len(view.keyframes):
            kf = view.keyframes[k]
            if kf.uri:
                where = f"frames {', '.join(str(i) for i in kf.indices)} of {kf.file}"
                out.append(f'<img class="keyframes" loading="lazy" decoding="async" src="{kf.uri}" '
                           f'width="{kf.width}" height="{kf.height}" alt="{escape(where)}" title="{escape(where)}">')
            else:
                out.append(f'<div class="missing">no keyframes: {escape(kf.error or "")}'
                           f"{escape(' (' + kf.file + ')') if kf.file else ''}</div>")
        if prompt:
            out.append(f'<div class="prompt">{escape(prompt)}</div>')
        out.append("</div>")
    out.append("</div>")
    return out


def _pairs(view: ItemView, lo: float, hi: float, fraction: bool = False) -> list[str]:
    m = (view.details.get("consistency") or {}).get("scene_similarity")
    if not (isinstance(m, list) and len(m) >= 2 and all(isinstance(r, list) and len(r) == len(m) for r in m)):
        return []
    clean = [[x if isinstance(x, (int, float)) and not isinstance(x, bool) else None for x in r] for r in m]
    d = 3 if fraction else 1
    return ["<div><h4>Scene-pair similarity</h4>",
            heatmap_svg(clean, lo, hi, decimals=2 if fraction else 1,
                        caption=f"cosine of the scene clips' embeddings{'' if fraction else ' x100'} per pair of scenes"),
            f'<p class="note">{"cos" if fraction else "cos ×100"} of scene clips; colour from {lo:.{d}f} (light) to '
            f'{hi:.{d}f} (dark), the lowest '
            "and highest pair of this run; Visual Consistency is the mean over the pairs above the diagonal.</p></div>"]


def _confusion(view: ItemView) -> list[str]:
    det = view.details.get("confusion")
    if not isinstance(det, dict):
        return []
    out = [f"<div><h4>Confusion Degree (F = {escape(str(det.get('F', '?')))})</h4>"]
    per = det.get("cd_per_prompt")
    segs = det.get("segments") if isinstance(det.get("segments"), list) else []
    stf = det.get("frame_text_per_prompt") if isinstance(det.get("frame_text_per_prompt"), list) else []
    if isinstance(per, list) and per:
        clean = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else None for v in per]
        out.append(bars_svg(clean, labels=[f"P{i + 1}" for i in range(len(clean))], decimals=4))
    rows = []
    degenerate = set(det.get("degenerate_indices") or [])
    for i, seg in enumerate(segs):
        seg = seg if isinstance(seg, list) and len(seg) == 3 else ["?", "?", "?"]
        cd = per[i] if isinstance(per, list) and i < len(per) else None
        rows.append(f"<tr><td>P{i + 1}{' (degenerate)' if i in degenerate else ''}</td><td>{escape(str(seg[0]))}</td>"
                    f"<td>[{escape(str(seg[1]))}, {escape(str(seg[2]))})</td><td class=\"num\">{_num(cd, 4)}</td>"
                    f"<td class=\"num\">{_num(stf[i] if i < len(stf) else None, 4)}</td></tr>")
    if rows:
        out.append('<table class="small"><thead><tr><th>prompt</th><th>scene</th><th>frames</th><th>CD_i</th>'
                   "<th>S_TF(P_i, V_i)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    for key, name in (("s_tt", "S_TT (prompt x prompt)"), ("s_tf", "S_TF (prompt x segment)")):
        mat = det.get(key)
        if isinstance(mat, list) and mat and all(isinstance(r, list) and len(r) == len(mat) for r in mat):
            vals = [x for r in mat for x in r if isinstance(x, (int, float))]
            clean = [[x if isinstance(x, (int, float)) else None for x in r] for r in mat]
            out.append(f"<div>{escape(name)}</div>" + heatmap_svg(clean, min(vals, default=0.0), max(vals, default=1.0),
                                                                  label="P", caption=name, decimals=2, diagonal=True))
    out.append("</div>")
    return out


def _character_id(view: ItemView) -> list[str]:
    det = view.details.get("character_id")
    if not isinstance(det, dict):
        return []
    out = [f"<div><h4>Character ID (TP {escape(str(det.get('tp', '?')))}, FP {escape(str(det.get('fp', '?')))}, "
           f"FN {escape(str(det.get('fn', '?')))})</h4>"]
    rows = []
    for shot in det.get("shots") or []:
        if not isinstance(shot, dict):
            continue
        scripted = [str(x) for x in shot.get("scripted") or []]
        predicted = [str(x) for x in shot.get("predicted") or []]
        hit = [n for n in predicted if n in scripted]
        extra = [n for n in predicted if n not in scripted]
        miss = [n for n in scripted if n not in predicted]
        faces = []
        for f in shot.get("faces") or []:
            if isinstance(f, dict):
                faces.append(f"{f.get('name') or 'unknown'} d={_num(f.get('distance'), 3)}"
                             + (f" @frame {f.get('frame')}" if f.get("frame") is not None else ""))
        rows.append(f"<tr><td>{escape(str(shot.get('scene', '?')))}</td><td>{escape(', '.join(scripted) or '-')}</td>"
                    f"<td class=\"ok\">{escape(', '.join(hit) or '-')}</td><td class=\"bad\">{escape(', '.join(extra) or '-')}"
                    f"</td><td class=\"bad\">{escape(', '.join(miss) or '-')}</td>"
                    f"<td class=\"faces\">{escape('; '.join(faces) or '-')}</td></tr>")
    out.append('<table class="small"><thead><tr><th>shot</th><th>scripted</th><th>matched</th><th>extra (FP)</th>'
               "<th>missed (FN)</th><th>faces</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    if det.get("unbanked_characters"):
        out.append(f'<p class="note">no portrait in the bank for: {escape(", ".join(map(str, det["unbanked_characters"])))}'
                   "</p>")
    out.append("</div>")
    return out


def _scores(view: ItemView, columns: list[MetricColumn]) -> str:
    cells = []
    for col in columns:
        if col.key in view.scores:
            cells.append(f"<li>{escape(col.label)}: <b>{escape(_num(view.scores[col.key], col.decimals))}</b></li>")
    return '<ul class="scores">' + "".join(cells) + "</ul>" if cells else ""


def item_template(view: ItemView, columns: list[MetricColumn], pair_lo: float, pair_hi: float,
                  fraction: bool = False) -> str:
    """The ``<template>`` holding one item's view (``fraction``: consistency in raw cosines, not ×100)."""
    out = [f'<template data-item="{escape(view.id)}"><article class="item-view">',
           f'<h3>{escape(view.id)} <span class="status {view.status}">{view.status}</span></h3>', _scores(view, columns)]
    if view.failure:
        f = view.failure
        out.append(f'<div class="failure"><b>failed</b> at {escape(str(f.get("stage", "?")))} '
                   f'({escape(str(f.get("kind", "?")))})'
                   + (f', file <code>{escape(str(f["file"]))}</code>' if f.get("file") else "")
                   + f': {escape(str(f.get("error", "")))}</div>')
    warnings = view.all_warnings
    if warnings:
        out.append('<ul class="warnings">' + "".join(f"<li>{escape(w)}</li>" for w in warnings) + "</ul>")
    if view.global_prompt:
        out.append(f'<p class="global"><b>Global prompt:</b> {escape(view.global_prompt)}</p>')
    out.append('<div class="item-body"><div>')
    out += _scenes(view, fraction)
    out.append('</div><div class="panels">')
    out += _pairs(view, pair_lo, pair_hi, fraction) + _confusion(view) + _character_id(view)
    out.append("</div></div>")
    others = {k: v for k, v in view.details.items() if k not in SHOWN}
    if others:
        text = json.dumps(others, indent=1, ensure_ascii=False, sort_keys=True, default=str)
        out.append(f"<details><summary>other details</summary><pre>{escape(text)}</pre></details>")
    out.append("</article></template>")
    return "".join(out)
