"""CSV: one row per table row; per number column its value (column decimals) plus, where any row has
them, ``<key>_std``, ``<key>_ci_lo``/``<key>_ci_hi`` (the interval's bounds as they are),
``<key>_F`` (Confusion Degree: the items' number of frame-level prompts), ``<key>_delta`` and
``<key>_mark``."""

from __future__ import annotations

import csv
import io

from leaderboard.board import Board
from leaderboard.formatting import DEFAULT_CI_STYLE, fmt


def render_csv(board: Board, ci_style: str = DEFAULT_CI_STYLE) -> str:
    numbers = board.number_columns
    has = {kind: {c.key for c in numbers if any(_part(r.cell(c.key), kind) is not None for r in board.rows)}
           for kind in ("std", "ci", "frames", "delta")}
    header = [c.key for c in board.text_columns] + ["group", "source", "flags"]
    for col in numbers:
        header.append(col.key)
        if col.key in has["std"]:
            header.append(f"{col.key}_std")
        if col.key in has["ci"]:
            header += [f"{col.key}_ci_lo", f"{col.key}_ci_hi"]
        if col.key in has["frames"]:
            header.append(f"{col.key}_F")
        if col.key in has["delta"]:
            header.append(f"{col.key}_delta")
        header.append(f"{col.key}_mark")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in board.rows:
        line = [row.texts.get(c.key, row.name if i == 0 else "") for i, c in enumerate(board.text_columns)]
        line += [row.group or "", row.source, ";".join(sorted(row.flags))]
        for col in numbers:
            cell, d = row.cell(col.key), col.decimals
            line.append("" if cell.value is None else fmt(cell.value, d))
            if col.key in has["std"]:
                line.append("" if cell.std is None else fmt(cell.std, d))
            if col.key in has["ci"]:
                line += ["", ""] if cell.ci95 is None else [fmt(cell.ci95[0], d), fmt(cell.ci95[1], d)]
            if col.key in has["frames"]:
                line.append(cell.frames)
            if col.key in has["delta"]:
                line.append("" if cell.delta is None else fmt(cell.delta, d))
            line.append(cell.mark or "")
        writer.writerow(line)
    return buf.getvalue()


def _part(cell, kind):
    return {"std": cell.std, "ci": cell.ci95, "frames": cell.frames or None, "delta": cell.delta}[kind]
