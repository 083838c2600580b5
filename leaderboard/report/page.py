"""The per-run report as one self-contained HTML page.

No network at view time: styles and the script are inline and allowed by their sha256 in the page's
Content-Security-Policy (no other script or inline style can run), images are data: URIs. The item table
is server-rendered; the script sorts it (click a heading; again to reverse), filters it (text in the
item id and prompts, and status), paginates it, and opens an item's view (cloned from its inert
``<template>``, so its images are decoded only when shown) on click or at ``#item=ID``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from html import escape

from leaderboard.report.charts import item_strip_svg
from leaderboard.report.item_html import item_template
from leaderboard.report.model import ItemView, MetricColumn, consistency_unit, pair_range
from leaderboard.results_input import model_label

PAGE_SIZES = (25, 50, 100, 250)

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:20px 24px;color:#222;font-size:14px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 6px}h3{font-size:16px;margin:4px 0}
h4{font-size:13px;margin:12px 0 4px;color:#444}.meta{color:#555}.banner{background:#fff3cd;border:1px solid #e0c060;
padding:6px 10px;margin:8px 0}table{border-collapse:collapse}th,td{padding:3px 8px;border-bottom:1px solid #e3e3e3;
text-align:left;vertical-align:top}th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}th button{font:inherit;font-weight:600;background:none;border:0;cursor:pointer;padding:0}
#items tbody tr{cursor:pointer}#items tbody tr:hover td{background:#f2f7fc}#items tbody tr.selected td{background:#dceaf7}
.status{font-size:11px;padding:1px 6px;border-radius:8px;background:#e6f4ea;color:#1e5b2e}
.status.warning{background:#fff3cd;color:#7a5a00}.status.failed{background:#fde2e1;color:#8a1c14}
.controls{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:6px 0}.controls input{width:260px}
.prompt-cell{color:#444;max-width:520px}.note{color:#666;font-size:12px;margin:4px 0}
.scenes{display:flex;flex-direction:column;gap:8px}.scene{border-left:3px solid #0072B2;padding-left:8px}
.scene-head{margin-bottom:2px}.sem{color:#555;font-size:12px}.prompt{color:#333;font-size:13px;max-width:900px}
img.keyframes{display:block;max-width:100%;height:auto;image-rendering:auto;border:1px solid #ddd}
.missing{color:#8a1c14;font-size:12px}.item-body{display:flex;gap:28px;flex-wrap:wrap;align-items:flex-start}.item-body>div:first-child{flex:0 1 600px}
.panels{display:flex;flex-direction:column;gap:10px;max-width:560px}
table.small td,table.small th{font-size:12px;padding:2px 6px}td.ok{color:#1e5b2e}td.bad{color:#8a1c14}
td.faces{color:#666;font-size:11px}.failure{background:#fde2e1;padding:6px 10px;margin:6px 0}
ul.warnings{background:#fff8e1;padding:6px 10px 6px 26px;margin:6px 0}ul.scores{list-style:none;padding:0;
display:flex;gap:16px;flex-wrap:wrap}#detail{margin-top:12px;border-top:2px solid #0072B2;padding-top:8px}
pre{background:#f7f7f7;padding:8px;overflow:auto;max-height:360px}code{background:#f3f3f3;padding:0 3px}
"""

SCRIPT = r"""
(function(){
  var table=document.getElementById('items');
  if(!table){return;}
  var body=table.tBodies[0];
  var rows=Array.prototype.slice.call(body.rows);
  var heads=Array.prototype.slice.call(table.tHead.rows[0].cells);
  var templates={};
  Array.prototype.forEach.call(document.querySelectorAll('template[data-item]'),function(t){templates[t.dataset.item]=t;});
  var filter=document.getElementById('filter'),status=document.getElementById('status-filter');
  var sizeSel=document.getElementById('page-size'),info=document.getElementById('page-info');
  var prev=document.getElementById('prev'),next=document.getElementById('next');
  var detail=document.getElementById('detail');
  var state={page:0};
  rows.forEach(function(r,i){r.dataset.pos=String(i);});
  function cellValue(r,idx,kind){
    var c=r.cells[idx];var v=c?c.getAttribute('data-value'):null;
    if(kind==='number'){return v===null||v===''?NaN:parseFloat(v);}
    return v===null?(c?c.textContent:''):v;
  }
  function sortBy(idx,dir){
    var th=heads[idx];if(!th){return;}
    var kind=th.dataset.kind;
    if(dir!=='asc'&&dir!=='desc'){dir=(kind==='number'&&th.dataset.higherIsBetter==='1')?'desc':'asc';}
    rows.sort(function(a,b){
      var va=cellValue(a,idx,kind),vb=cellValue(b,idx,kind),d=0;
      if(kind==='number'){
        if(isNaN(va)&&isNaN(vb)){d=0;}else if(isNaN(va)){return 1;}else if(isNaN(vb)){return -1;}else{d=va-vb;}
      }else{d=String(va).localeCompare(String(vb));}
      if(d===0){return a.dataset.pos-b.dataset.pos;}
      return dir==='asc'?d:-d;});
    heads.forEach(function(h){h.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',dir==='asc'?'ascending':'descending');
    table.dataset.sortKey=th.dataset.key;table.dataset.sortDir=dir;
    rows.forEach(function(r){body.appendChild(r);});
    state.page=0;apply();
  }
  function matches(r){
    var q=filter.value.trim().toLowerCase();var s=status.value;
    if(s!=='all'&&r.dataset.status!==s){return false;}
    if(!q){return true;}
    var words=q.split(/\s+/);var hay=r.dataset.search||'';
    for(var i=0;i<words.length;i++){if(hay.indexOf(words[i])<0){return false;}}
    return true;
  }
  function apply(){
    var shown=rows.filter(matches);
    var size=sizeSel.value==='all'?Math.max(1,shown.length):parseInt(sizeSel.value,10);
    var pages=Math.max(1,Math.ceil(shown.length/size));
    if(state.page>=pages){state.page=pages-1;}
    var from=state.page*size,to=Math.min(shown.length,from+size);
    rows.forEach(function(r){r.hidden=true;});
    for(var i=from;i<to;i++){shown[i].hidden=false;}
    info.textContent=shown.length?('items '+(from+1)+'\u2013'+to+' of '+shown.length+
      (shown.length<rows.length?' (filtered from '+rows.length+')':'')):'no item matches';
    prev.disabled=state.page<=0;next.disabled=state.page>=pages-1;
    table.dataset.shown=String(to-from);
  }
  function show(id){
    var t=templates[id];if(!t){return false;}
    while(detail.firstChild){detail.removeChild(detail.firstChild);}
    detail.appendChild(t.content.cloneNode(true));
    rows.forEach(function(r){r.classList.toggle('selected',r.dataset.item===id);});
    detail.dataset.item=id;
    return true;
  }
  function open(id){
    var hash='#item='+encodeURIComponent(id);
    if(window.location.hash!==hash){window.location.hash=hash;}else{show(id);}
    detail.scrollIntoView({block:'start'});
  }
  function fromHash(){
    var m=/^#item=(.*)$/.exec(window.location.hash);
    if(m){try{show(decodeURIComponent(m[1]));}catch(e){}}
  }
  heads.forEach(function(th,idx){
    var b=th.querySelector('button');if(!b){return;}
    b.addEventListener('click',function(){
      var dir;if(table.dataset.sortKey===th.dataset.key){dir=table.dataset.sortDir==='asc'?'desc':'asc';}
      sortBy(idx,dir);});
  });
  body.addEventListener('click',function(e){
    var tr=e.target.closest('tr');if(tr&&tr.dataset.item!==undefined){open(tr.dataset.item);}});
  body.addEventListener('keydown',function(e){
    var tr=e.target.closest('tr');if(tr&&e.key==='Enter'){open(tr.dataset.item);}});
  filter.addEventListener('input',function(){state.page=0;apply();});
  status.addEventListener('change',function(){state.page=0;apply();});
  sizeSel.addEventListener('change',function(){state.page=0;apply();});
  prev.addEventListener('click',function(){state.page=Math.max(0,state.page-1);apply();});
  next.addEventListener('click',function(){state.page+=1;apply();});
  window.addEventListener('hashchange',fromHash);
  apply();fromHash();
  document.documentElement.dataset.ready='1';
})();
"""


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


#: scripts and styles run only when their hash is listed: injected markup can do neither
CSP = f"default-src 'none'; img-src data:; style-src {_sha(STYLE)}; script-src {_sha(SCRIPT)}"


def _fmt(v, decimals: int) -> str:
    return "-" if not isinstance(v, (int, float)) or isinstance(v, bool) else f"{v:.{decimals}f}"


def _interval(ci, decimals: int) -> str:
    if not (isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci)):
        return "-"
    return f"[{ci[0]:.{decimals}f}, {ci[1]:.{decimals}f}]"


def _header(doc: dict, source: str, notes: list[str]) -> list[str]:
    suite = doc.get("suite") or {}
    model = doc.get("model") or {}
    out = [f"<h1>{escape(model_label(doc))} on {escape(str(suite.get('name', '?')))} "
           f"v{escape(str(suite.get('version', '?')))}</h1>",
           f'<div class="meta">results <code>{escape(source)}</code> · created {escape(str(doc.get("created", "?")))} · '
           f"mvbench {escape(str(doc.get('mvbench_version', '?')))} · suite content hash "
           f"<code>{escape(str(suite.get('content_hash', ''))[:12])}</code>"
           + (f" · {escape(str(model.get('notes')))}" if model.get("notes") else "") + "</div>"]
    if doc.get("calibrated") is False:
        out.append('<div class="banner">Uncalibrated encoder (e.g. the <code>tiny</code> test encoder): these numbers '
                   "exercise the pipeline and are not comparable with published ones.</div>")
    for note in notes:
        out.append(f'<div class="banner">{escape(note)}</div>')
    return out


def _summary(doc: dict, columns: list[MetricColumn], views: list[ItemView]) -> list[str]:
    metrics = doc.get("metrics") or {}
    out = ["<h2>Summary</h2>", '<table id="summary"><thead><tr><th>metric</th><th>mean</th><th>95% CI</th>'
           "<th>std</th><th>n</th><th>per-item scores (dots), mean and CI</th><th>notes</th></tr></thead><tbody>"]
    for col in columns:
        m = metrics.get(col.key) or {}
        ci = m.get("ci95")
        ci_pair = tuple(ci) if isinstance(ci, list) and len(ci) == 2 and None not in ci else None
        values = [v.scores[col.key] for v in views if isinstance(v.scores.get(col.key), (int, float))]
        notes = [str(w) for w in m.get("warnings") or []]
        if m.get("unreliable"):
            notes.insert(0, "marked unreliable by the scorer")
        arrow = "↑" if col.higher_is_better else "↓"
        mean = m.get("mean") if isinstance(m.get("mean"), (int, float)) else None
        out.append(f"<tr><td>{escape(col.label)} {arrow}<br><code>{escape(col.key)}</code></td>"
                   f'<td class="num">{_fmt(mean, col.decimals)}</td><td class="num">{_interval(ci, col.decimals)}</td>'
                   f'<td class="num">{_fmt(m.get("std"), col.decimals)}</td><td class="num">{escape(str(m.get("n", "-")))}</td>'
                   f"<td>{item_strip_svg(values, mean, ci_pair, decimals=col.decimals)}</td>"
                   f'<td class="note">{"<br>".join(escape(n) for n in notes)}</td></tr>')
    out.append("</tbody></table>")
    return out


def _run_details(doc: dict) -> list[str]:
    out = []
    warnings = [str(w) for w in doc.get("warnings") or []]
    if warnings:
        out.append("<h2>Run warnings</h2><ul class=\"warnings\">" + "".join(f"<li>{escape(w)}</li>" for w in warnings)
                   + "</ul>")
    failures = doc.get("failures") or {}
    if failures:
        out.append(f'<h2>Failures ({len(failures)})</h2><table id="failures"><thead><tr><th>item</th><th>stage</th>'
                   "<th>kind</th><th>file</th><th>error</th></tr></thead><tbody>")
        for item_id, f in failures.items():
            f = f if isinstance(f, dict) else {"error": str(f)}
            out.append(f"<tr><td>{escape(str(item_id))}</td><td>{escape(str(f.get('stage', '')))}</td>"
                       f"<td>{escape(str(f.get('kind', '')))}</td><td><code>{escape(str(f.get('file') or ''))}</code></td>"
                       f"<td>{escape(str(f.get('error', '')))}</td></tr>")
        out.append("</tbody></table>")
    run = {k: doc.get(k) for k in ("model", "suite", "encoders", "config", "environment", "runtime") if k in doc}
    text = json.dumps(run, indent=1, ensure_ascii=False, sort_keys=True, default=str)
    out.append(f"<details><summary>Run details (model, suite, encoders with weight hashes, config)</summary>"
               f"<pre>{escape(text)}</pre></details>")
    return out


def _items_table(columns: list[MetricColumn], views: list[ItemView], page_size: int) -> list[str]:
    sizes = sorted(set(PAGE_SIZES) | {page_size})
    options = "".join(f'<option value="{s}"{" selected" if s == page_size else ""}>{s}</option>' for s in sizes)
    out = [f"<h2>Items ({len(views)})</h2>",
           '<div class="controls"><label>filter <input id="filter" type="search" placeholder="item id or prompt words">'
           '</label><label>status <select id="status-filter"><option value="all">all</option><option value="ok">ok'
           '</option><option value="warning">warning</option><option value="failed">failed</option></select></label>'
           f'<label>per page <select id="page-size">{options}<option value="all">all</option></select></label>'
           '<button id="prev" type="button">‹ prev</button><span id="page-info"></span>'
           '<button id="next" type="button">next ›</button></div>',
           '<p class="note">Click a heading to sort (again to reverse); click an item to see its scenes. '
           "Scores are per item; failed items have none.</p>",
           '<table id="items"><thead><tr>'
           '<th data-key="pos" data-kind="number" data-higher-is-better="0"><button type="button">#</button></th>'
           '<th data-key="item" data-kind="text"><button type="button">item</button></th>'
           '<th data-key="status" data-kind="text"><button type="button">status</button></th>']
    for col in columns:
        hib = "1" if col.higher_is_better else "0"
        out.append(f'<th data-key="{escape(col.key)}" data-kind="number" data-higher-is-better="{hib}">'
                   f'<button type="button">{escape(col.label)} {"↑" if col.higher_is_better else "↓"}</button></th>')
    out.append('<th data-key="prompt" data-kind="text">prompt</th></tr></thead><tbody>')
    for k, view in enumerate(views):
        out.append(f'<tr tabindex="0" data-item="{escape(view.id)}" data-status="{view.status}" '
                   f'data-search="{escape(view.search_text)}"><td class="num" data-value="{k + 1}">{k + 1}</td>'
                   f'<td data-value="{escape(view.id)}">{escape(view.id)}</td>'
                   f'<td data-value="{view.status}"><span class="status {view.status}">{view.status}</span></td>')
        for col in columns:
            v = view.scores.get(col.key)
            raw = repr(float(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
            out.append(f'<td class="num" data-value="{raw}">{_fmt(v, col.decimals)}</td>')
        full = view.global_prompt or " | ".join(view.scene_prompts)
        out.append(f'<td class="prompt-cell" title="{escape(full)}">{escape(view.prompt)}</td></tr>')
    out.append("</tbody></table>")
    out.append('<section id="detail"><p class="note">Click an item above to see its keyframes, per-scene scores, '
               "scene-pair similarities, Confusion Degree and character-ID matches.</p></section>")
    return out


def render_report(doc: dict, views: list[ItemView], columns: list[MetricColumn], *, source: str = "results.json",
                  notes: list[str] | None = None, page_size: int = 25) -> str:
    """The report page as a string (see the module docstring)."""
    lo, hi = pair_range(views)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(model_label(doc))}: mvbench report</title><style>{STYLE}</style></head><body>"]
    out += _header(doc, source, list(notes or []))
    out += _summary(doc, columns, views)
    out += _run_details(doc)
    out += _items_table(columns, views, page_size)
    fraction = consistency_unit(doc) == "fraction"
    out += [item_template(v, columns, lo, hi, fraction) for v in views]
    out.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"
