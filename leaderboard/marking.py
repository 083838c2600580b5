"""Best (bold) and second-best (underlined) values per column, as the source papers mark them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leaderboard.board import Board


def mark_best_and_second(board: Board) -> None:
    """Set ``cell.mark`` to "best"/"second" in every number column of ``board``.

    Values are compared as printed (rounded to the column's decimals), so rows that tie on the page
    share the mark; "second" is the next distinct printed value. Uncalibrated rows and cells flagged
    unreliable never get a mark, and a column needs at least two candidate rows to be marked.
    """
    from leaderboard.board import FLAG_UNCALIBRATED

    for col in board.number_columns:
        candidates = []
        for row in board.rows:
            cell = row.cells.get(col.key)
            if cell is None:
                continue
            cell.mark = None
            if cell.value is None or cell.unreliable or FLAG_UNCALIBRATED in row.flags:
                continue
            candidates.append((round(cell.value, col.decimals), cell))
        if len(candidates) < 2 or col.higher_is_better is None:
            continue
        distinct = sorted({v for v, _ in candidates}, reverse=col.higher_is_better)
        for value, cell in candidates:
            if value == distinct[0]:
                cell.mark = "best"
            elif board.mark_second and len(distinct) > 1 and value == distinct[1]:
                cell.mark = "second"
