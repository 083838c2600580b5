"""One self-contained HTML page: sortable table, embedded plots, per-row results details.

Nothing is fetched at view time (a Content-Security-Policy forbids it; plots are data: URIs).
Every string from a results file goes through :func:`html.escape`, so a model named
``<script>alert(1)</script>`` is shown as text. Sorting: click a column heading, or open the page
with ``#sort=<metric>`` (best first) or ``#sort=<metric>:asc`` / ``:desc``.
"""

from __future__ import annotations

import base64
import json
from html import escape

from leaderboard.board import Board
from leaderboard.formatting import cell_text, legend_lines, row_markers

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:12px 0}th,td{padding:4px 10px;border-bottom:1px solid #ddd}
th{background:#f4f4f4;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th button{font:inherit;font-weight:600;background:none;border:0;cursor:pointer;padding:0}
td.best b{color:#1b5e20}td.second u{text-decoration-thickness:2px}.spread{color:#666;font-size:90%}
tr.flagged td{background:#fff8e1}.notes li{color:#555}pre{background:#f7f7f7;padding:8px;overflow:auto}
img.plot{max-width:100%;border:1px solid #eee;margin:6px 0}
"""

# Sorting reads only data-* attributes written by the server side; it never evaluates table text.
SCRIPT = """
(function(){
  var table=document.getElementById('leaderboard');
  function sortBy(key,dir){
    var th=table.querySelector('th[data-key="'+key+'"]');
    if(!th||th.dataset.kind!=='number'){return false;}
    if(dir!=='asc'&&dir!=='desc'){dir=th.dataset.higherIsBetter==='1'?'desc':'asc';}
    var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
    rows.forEach(function(r,i){r.dataset.pos=r.dataset.pos||String(i);});
    rows.sort(function(a,b){
      var ca=a.querySelector('td[data-key="'+key+'"]'),cb=b.querySelector('td[data-key="'+key+'"]');
      var va=ca&&ca.dataset.value!==''?parseFloat(ca.dataset.value):NaN;
      var vb=cb&&cb.dataset.value!==''?parseFloat(cb.dataset.value):NaN;
      if(isNaN(va)&&isNaN(vb)){return a.dataset.pos-b.dataset.pos;}
      if(isNaN(va)){return 1;} if(isNaN(vb)){return -1;}
      if(va===vb){return a.dataset.pos-b.dataset.pos;}
      return dir==='asc'?va-vb:vb-va;});
    rows.forEach(function(r){body.appendChild(r);});
    table.dataset.sortKey=key;table.dataset.sortDir=dir;return true;
  }
  function fromHash(){
    var m=/^#sort=([A-Za-z0-9_]+)(?::(asc|desc))?$/.exec(window.location.hash);
    if(m){sortBy(m[1],m[2]);}
  }
  Array.prototype.forEach.call(table.querySelectorAll('th[data-kind="number"] button'),function(b){
    b.addEventListener('click',function(){
      var key=b.parentNode.dataset.key;var dir=undefined;
      if(table.dataset.sortKey===key){dir=table.dataset.sortDir==='asc'?'desc':'asc';}
      sortBy(key,dir);});
  });
  window.addEventListener('hashchange',fromHash);fromHash();
})();
"""


def _details(board: Board) -> list[str]:
    out = ["<h2>Run details</h2>"]
    for i, row in enumerate(board.rows):
        out.append(f'<details id="details-{i}"><summary>{escape(row.name)}</summary>')
        text = json.dumps(row.details, indent=2, ensure_ascii=False, sort_keys=True, default=str)
        out.append(f"<pre>{escape(text)}</pre></details>")
    return out


def render_html(board: Board, ci_style: str = "pm", plots: dict[str, bytes] | None = None) -> str:
    """The page as a string. ``plots``: title → PNG bytes, embedded as data: URIs."""
    texts, numbers = board.text_columns, board.number_columns
    with_group = any(r.group for r in board.rows)
    from leaderboard.charts_html import CHART_STYLE, charts_section, row_colors, swatch

    colors = row_colors(board)
    mixed = any(r.published for r in board.rows) and not all(r.published for r in board.rows)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
           f"<title>{escape(board.title)}</title><style>{STYLE}{CHART_STYLE}</style></head><body>",
           f"<h1>{escape(board.title)}</h1>", '<table id="leaderboard"><thead><tr>']
    for col in texts:
        out.append(f'<th data-key="{escape(col.key)}" data-kind="text">{escape(col.label)}</th>')
    if with_group:
        out.append('<th data-key="group" data-kind="text">Group</th>')
    for col in numbers:
        hib = "1" if col.higher_is_better else "0"
        tip = f' title="{escape(col.meaning)}"' if col.meaning else ""
        out.append(f'<th data-key="{escape(col.key)}" data-kind="number" data-higher-is-better="{hib}"{tip}>'
                   f'<button type="button">{escape(col.heading)}</button></th>')
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(board.rows):
        kinds = [k for k, on in (("flagged", row.flags), ("published", row.published)) if on]
        flagged = f' class="{" ".join(kinds)}"' if kinds else ""
        title = escape("; ".join(row.flags.values()))
        out.append(f'<tr id="row-{i}"{flagged} data-name="{escape(row.name)}">')
        for j, col in enumerate(texts):
            text = escape(row.texts.get(col.key, row.name if j == 0 else ""))
            if j == 0:
                markers = row_markers(row)
                text = f'{swatch(colors[i], row.published)} <a href="#details-{i}">{text}</a>'
                if markers:
                    text += f' <span class="flags" title="{title}">{escape(markers)}</span>'
                if mixed:
                    text += (' <span class="badge published" title="number printed in the paper">published</span>'
                             if row.published else ' <span class="badge measured" title="measured by mvbench">'
                             "measured</span>")
                if row.report:
                    text += f' <a class="report" href="{escape(row.report)}">report</a>'
            out.append(f'<td data-key="{escape(col.key)}">{text}</td>')
        if with_group:
            out.append(f'<td data-key="group">{escape(row.group or "")}</td>')
        for col in numbers:
            cell = row.cell(col.key)
            part = cell_text(cell, col, ci_style)
            value = escape(part.value)
            if cell.mark == "best":
                value = f"<b>{value}</b>"
            elif cell.mark == "second":
                value = f"<u>{value}</u>"
            spread = f' <span class="spread">{escape(part.spread)}</span>' if part.spread else ""
            raw = "" if cell.value is None else repr(float(cell.value))
            mark = f" {cell.mark}" if cell.mark else ""
            out.append(f'<td class="num{mark}" data-key="{escape(col.key)}" data-value="{raw}">'
                       f"{value}{spread}{escape(part.suffix)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    footer = [*board.notes, *legend_lines(board)]
    if footer:
        out.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in footer) + "</ul>")
    out += charts_section(board, colors)
    for name, png in (plots or {}).items():
        data = base64.b64encode(png).decode("ascii")
        out.append(f'<figure><img class="plot" alt="{escape(name)}" src="data:image/png;base64,{data}">'
                   f"<figcaption>{escape(name)}</figcaption></figure>")
    out += _details(board)
    out.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"
