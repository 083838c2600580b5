"""What a published table's columns mean for mvbench, printed under the table.

:func:`describe_paper_board` adds to a paper board (from :func:`leaderboard.board.board_from_paper`,
with or without measured rows): one line per column that mvbench computes (metric, preset, scale),
the columns it does not compute and why (human studies, annotation quality, other tools), footnotes
for columns whose formula the paper leaves open (mvbench's interpretation), the derived-column rules
and cross-checks with their verdicts, and a warning when a measured row was run under another preset.
"""

from __future__ import annotations

from leaderboard.board import Board
from leaderboard.cross_check import cross_checks_involving
from leaderboard.derived_check import check_derived_columns
from leaderboard.marking import mark_best_and_second
from leaderboard.paper_tables import PaperColumn, PaperTable
from leaderboard.paper_vocab import NOT_COMPUTED_KINDS

FOOTNOTE_MARKS = ("¹", "²", "³", "⁴", "⁵", "⁶")

_NOT_COMPUTED_HEAD = {
    "human_study": "Human study, not computed by mvbench",
    "annotation_quality": "Rates the dataset's annotations, not generated video; not computed by mvbench",
    "not_in_mvbench": "Not computed by mvbench",
    "derived": "Derived from other columns, not a metric of its own",
}
assert set(_NOT_COMPUTED_HEAD) == set(NOT_COMPUTED_KINDS)


def column_name(col: PaperColumn) -> str:
    """The column as a reader finds it in the table: ``group: label`` or ``label``.

    >>> column_name(PaperColumn("k", "Visual Con.", "number", True, 2, group="Overall"))
    'Overall: Visual Con.'
    """
    return f"{col.group}: {col.label}" if col.group else col.label


def footnote_marks(table: PaperTable) -> dict[str, str]:
    """Column key → footnote mark, one mark per distinct interpretation text (in column order)."""
    marks: dict[str, str] = {}
    by_text: dict[str, str] = {}
    for col in table.columns:
        if col.interpretation:
            if col.interpretation not in by_text:
                by_text[col.interpretation] = FOOTNOTE_MARKS[len(by_text)]
            marks[col.key] = by_text[col.interpretation]
    return marks


def _scale_text(col: PaperColumn) -> str:
    text = f"×{col.scale:g}"
    if col.unit:
        text += f" of the {col.unit} mvbench records"
    return text


def provenance_lines(table: PaperTable) -> list[str]:
    """Per column: the mvbench metric, preset and scale that reproduce it, or why none does.

    >>> from leaderboard.paper_tables import load_paper_table
    >>> provenance_lines(load_paper_table("mask2dit:table5"))[3]
    'Computed by mvbench: Aesthetic Quality ← aesthetic_quality (preset mask2dit, ×100 of the fraction mvbench records)'
    """
    marks = footnote_marks(table)
    lines, not_computed = [], {}
    for col in table.columns:
        if col.kind != "number":
            continue
        name = column_name(col) + marks.get(col.key, "")
        if col.metric:
            line = f"Computed by mvbench: {name} ← {col.metric} (preset {col.preset}, {_scale_text(col)})"
            if col.condition:
                line += f"; from a separate run ({col.condition}), so results files do not fill it"
            lines.append(line)
        else:
            not_computed.setdefault(col.not_computed, []).append(name)
    for (kind, why), names in not_computed.items():
        lines.append(f"{_NOT_COMPUTED_HEAD[kind]}: {', '.join(names)} — {why}")
    return lines


def footnote_lines(table: PaperTable) -> list[str]:
    """``¹ mvbench's interpretation: …`` for each distinct interpretation."""
    seen: dict[str, str] = {}
    for col in table.columns:
        if col.interpretation and col.interpretation not in seen:
            seen[col.interpretation] = footnote_marks(table)[col.key]
    return [f"{mark} mvbench's interpretation: {text}" for text, mark in seen.items()]


def check_lines(table: PaperTable) -> list[str]:
    """Derived-column rules and cross-checks involving ``table``, with their verdicts."""
    lines = []
    found = check_derived_columns(table)
    for rule in table.derived:
        out = column_name(table.column(rule["column"]))
        ins = ", ".join(column_name(table.column(k)) for k in rule["of"])
        bad = [d for d in found if d.column == rule["column"]]
        verdict = f"{len(bad)} row(s) disagree beyond rounding" if bad else "every row agrees within rounding"
        lines.append(f"Derived column checked: {out} = {rule['rule']}({ins}); {verdict}.")
        lines += [f"PAPER INCONSISTENCY: {d}" for d in bad]
    for result in cross_checks_involving(table.id):
        lines.append(("Cross-check: " if result.ok else "PAPER INCONSISTENCY: ") + str(result))
    return lines


def _recorded_preset(doc: dict) -> str | None:
    for holder in (doc, doc.get("config") or {}):
        for key in ("protocol", "preset"):
            value = holder.get(key)
            if isinstance(value, dict):
                value = value.get("name") or value.get("preset")
            if isinstance(value, str) and value:
                return value
    return None


def preset_lines(table: PaperTable, loaded: list[tuple[str, dict]]) -> list[str]:
    """A warning per results file whose recorded preset is not the one the table's columns use."""
    wanted = sorted({c.preset for c in table.columns if c.fills_from_results and c.preset})
    lines = []
    for path, doc in loaded:
        recorded = _recorded_preset(doc)
        if wanted and recorded not in wanted:
            got = f"preset {recorded!r}" if recorded else "no preset"
            lines.append(f"{path} was evaluated with {got}; this table's columns use preset "
                         f"{' / '.join(wanted)} (mvbench evaluate --protocol {wanted[0]}).")
    return lines


def mark_within_groups(board: Board) -> None:
    """Best/second marks within each row group (papers that bold the best of each block)."""
    groups: dict[str | None, list] = {}
    for row in board.rows:
        groups.setdefault(row.group, []).append(row)
    for rows in groups.values():
        mark_best_and_second(Board(title="", columns=board.columns, rows=rows, mark_second=board.mark_second))


def describe_paper_board(board: Board, table: PaperTable, loaded: list[tuple[str, dict]] = ()) -> Board:
    """Add footnote marks to interpreted columns' labels and the provenance, footnote, check and preset
    lines to ``board.notes`` (in place; also returned). ``loaded``: ``(path, results)`` of measured rows.

    >>> from leaderboard.board import board_from_paper
    >>> from leaderboard.paper_tables import load_paper_table
    >>> table = load_paper_table("mask2dit:table1")
    >>> board = describe_paper_board(board_from_paper(table), table)
    >>> board.columns[1].label
    'Visual Con. (%)¹'
    >>> [n for n in board.notes if n.startswith("Computed by mvbench: FVD")]
    ['Computed by mvbench: FVD (↓)² ← fvd_videomae (preset mask2dit, ×1)']
    """
    import dataclasses

    marks = footnote_marks(table)
    board.columns = [dataclasses.replace(c, label=c.label + marks[c.key]) if c.key in marks else c
                     for c in board.columns]
    if table.mark_per_group:
        mark_within_groups(board)
    board.notes += [*provenance_lines(table), *footnote_lines(table), *check_lines(table),
                    *preset_lines(table, list(loaded))]
    return board
