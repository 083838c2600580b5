"""GitHub-flavoured Markdown table: best value ``**bold**``, second ``<u>underlined</u>``."""

from __future__ import annotations

from leaderboard.board import Board
from leaderboard.formatting import DEFAULT_CI_STYLE, cell_text, legend_lines, row_markers


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(board: Board, ci_style: str = DEFAULT_CI_STYLE) -> str:
    texts, numbers = board.text_columns, board.number_columns
    lines = [f"### {_escape(board.title)}", ""]
    header = [c.label for c in texts] + [c.heading for c in numbers]
    lines.append("| " + " | ".join(_escape(h) for h in header) + " |")
    lines.append("|" + "|".join([" :-- "] * len(texts) + [" --: "] * len(numbers)) + "|")
    group = None
    for row in board.rows:
        if row.group and row.group != group:
            lines.append("| " + " | ".join([f"*{_escape(row.group)}*"] + [""] * (len(header) - 1)) + " |")
        group = row.group
        cells = []
        for i, col in enumerate(texts):
            text = row.texts.get(col.key, row.name if i == 0 else "")
            cells.append(_escape(text + (" " + row_markers(row) if i == 0 and row_markers(row) else "")))
        for col in numbers:
            part = cell_text(row.cell(col.key), col, ci_style)
            value = part.value
            mark = row.cell(col.key).mark
            if mark == "best":
                value = f"**{value}**"
            elif mark == "second":
                value = f"<u>{value}</u>"
            cells.append(_escape(" ".join(p for p in (value, part.spread) if p) + part.suffix))
        lines.append("| " + " | ".join(cells) + " |")
    footer = [*board.notes, *legend_lines(board)]
    if footer:
        lines.append("")
        lines += [f"- {_escape(n)}" for n in footer]
    return "\n".join(lines) + "\n"
