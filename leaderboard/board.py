"""The table model every renderer draws: columns, rows of cells, marks and notes.

Boards are built from results files (:func:`board_from_results`), from a published table
(:func:`board_from_paper`), or both (:func:`add_measured_rows`: measured rows beside the paper's,
with the difference to the matching published row).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from leaderboard.errors import LeaderboardError, MixedSuitesError
from leaderboard.marking import mark_best_and_second
from leaderboard.metric_info import metric_info, metric_order
from leaderboard.paper_tables import PaperTable
from leaderboard.paper_units import measured_factor, scaled_cell
from leaderboard.results_input import model_label, read_results, suite_identity

FLAG_UNCALIBRATED = "uncalibrated"
FLAG_FAILURES = "failures"


@dataclass(frozen=True)
class Column:
    """A number column (``kind="number"``) or a text column naming rows (``kind="text"``)."""

    key: str
    label: str
    kind: str = "number"
    higher_is_better: bool | None = None
    decimals: int = 2
    group: str | None = None
    meaning: str = ""

    @property
    def arrow(self) -> str:
        if self.kind != "number" or self.higher_is_better is None:
            return ""
        return "↑" if self.higher_is_better else "↓"

    @property
    def heading(self) -> str:
        """Label with its direction arrow (not repeated when the paper's label already has one)."""
        text = self.label if not self.group else f"{self.group}: {self.label}"
        if self.arrow and "↑" not in self.label and "↓" not in self.label:
            text = f"{text} {self.arrow}"
        return text


@dataclass
class Cell:
    value: float | None = None
    std: float | None = None
    ci95: tuple[float, float] | None = None
    n: int | None = None
    unreliable: bool = False
    delta: float | None = None  # measured − published, for measured rows beside a paper table
    mark: str | None = None  # "best" / "second", set by marking


@dataclass
class Row:
    name: str
    cells: dict[str, Cell]
    texts: dict[str, str] = field(default_factory=dict)
    group: str | None = None
    source: str = ""  # results file path, or the paper table id
    flags: dict[str, str] = field(default_factory=dict)  # flag -> explanation
    details: dict = field(default_factory=dict)  # shown on the HTML page
    published: bool = False
    item_values: dict[str, list[float]] = field(default_factory=dict)  # column -> per-item scores (strip plots)
    report: str = ""  # link to the run's `mvbench report` page (HTML leaderboard)

    def cell(self, key: str) -> Cell:
        return self.cells.get(key) or Cell()


@dataclass
class Board:
    title: str
    columns: list[Column]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    mark_second: bool = True

    @property
    def text_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind == "text"]

    @property
    def number_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind == "number"]

    def remark(self) -> None:
        mark_best_and_second(self)


def _row_from_results(doc: dict, source: str, metrics: list[str]) -> Row:
    cells = {}
    for name in metrics:
        summary = doc["metrics"].get(name)
        if summary is None:
            continue
        ci = summary.get("ci95")
        cells[name] = Cell(value=summary.get("mean"), std=summary.get("std"),
                           ci95=tuple(ci) if ci else None, n=summary.get("n"),
                           unreliable=bool(summary.get("unreliable", False)))
    flags = {}
    if doc.get("calibrated") is False:
        flags[FLAG_UNCALIBRATED] = "computed with an uncalibrated encoder: not comparable to calibrated runs"
    failures = doc.get("failures") or {}
    if failures:
        flags[FLAG_FAILURES] = f"{len(failures)} item(s) failed and are left out of the means"
    suite = doc.get("suite", {})
    details = {
        "file": source,
        "model": doc.get("model", {}),
        "suite": suite,
        "mvbench_version": doc.get("mvbench_version"),
        "created": doc.get("created"),
        "calibrated": doc.get("calibrated"),
        "encoders": doc.get("encoders", {}),
        "config": doc.get("config", {}),
        "environment": doc.get("environment", {}),
        "failures": failures,
    }
    return Row(name=model_label(doc), cells=cells, texts={"model": model_label(doc)}, source=source,
               flags=flags, details=details, item_values=item_values(doc, metrics))


def item_values(doc: dict, metrics: list[str]) -> dict[str, list[float]]:
    """Per-item scores of ``metrics`` in a results file (items order), for strip plots."""
    out: dict[str, list[float]] = {}
    for rec in (doc.get("items") or {}).values():
        scores = rec.get("scores") if isinstance(rec, dict) else None
        for m in metrics:
            v = (scores or {}).get(m)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.setdefault(m, []).append(float(v))
    return out


def load_many(paths) -> list[tuple[str, dict]]:
    """``(path, results)`` for each path, in the given order."""
    if not paths:
        raise LeaderboardError("no results files given", hint="mvbench leaderboard results/*.json")
    return [(str(p), read_results(p)) for p in paths]


def check_same_suite(loaded: list[tuple[str, dict]], allow_mixed: bool) -> list[str]:
    """Refuse results from different suites unless ``allow_mixed``; return the notes to print."""
    by_suite: dict[tuple, list[str]] = {}
    for path, doc in loaded:
        by_suite.setdefault(suite_identity(doc), []).append(Path(path).name)
    if len(by_suite) <= 1:
        return []
    listing = "; ".join(f"{n or '?'} v{v or '?'} ({h[:12] or 'no hash'}): {', '.join(files)}"
                        for (n, v, h), files in by_suite.items())
    if not allow_mixed:
        raise MixedSuitesError(f"results come from different suites: {listing}",
                               hint="compare runs on one suite version, or pass --allow-mixed to build the table anyway")
    return [f"MIXED SUITES: rows were computed on different suites and are not directly comparable ({listing})."]


def _unique_names(rows: list[Row]) -> None:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.name] = counts.get(row.name, 0) + 1
    for row in rows:
        if counts[row.name] > 1 and row.source:
            row.name = f"{row.name} ({Path(row.source).name})"
            row.texts = {k: row.name for k in row.texts} or {"model": row.name}


def sort_rows(board: Board, key: str) -> None:
    """Sort ``board.rows`` best-first by number column ``key`` (missing values last; stable)."""
    col = next((c for c in board.number_columns if c.key == key), None)
    if col is None:
        known = ", ".join(c.key for c in board.number_columns)
        raise LeaderboardError(f"cannot sort by {key!r}: no such metric column", hint=f"columns: {known}")
    sign = -1.0 if col.higher_is_better else 1.0

    def order(row: Row):
        value = row.cell(key).value
        return (value is None, 0.0 if value is None else sign * value)

    board.rows.sort(key=order)


def board_from_results(paths, metrics: list[str] | None = None, allow_mixed: bool = False,
                       sort: str | None = "auto", title: str = "mvbench leaderboard") -> Board:
    """One row per results file, one column per metric (``metrics`` or all that any file has).

    ``sort``: a metric name, ``"auto"`` (the first column) or None (keep the given order).
    """
    loaded = load_many(paths)
    notes = check_same_suite(loaded, allow_mixed)
    if metrics is None:
        metrics = metric_order({m for _, doc in loaded for m in doc["metrics"]})
    directions = {}
    for _, doc in loaded:
        for m in metrics:
            if m in doc["metrics"]:
                directions.setdefault(m, doc["metrics"][m]["higher_is_better"])
    columns = [Column("model", "Model", kind="text")]
    for m in metrics:
        info = metric_info(m, directions.get(m))
        columns.append(Column(m, info.label, higher_is_better=info.higher_is_better, decimals=info.decimals))
    rows = [_row_from_results(doc, path, metrics) for path, doc in loaded]
    _unique_names(rows)
    suites = {suite_identity(doc) for _, doc in loaded}
    if len(suites) == 1:
        name, version, digest = next(iter(suites))
        notes.insert(0, f"Suite {name} v{version} (content hash {digest[:12] or 'unknown'}).")
    board = Board(title=title, columns=columns, rows=rows, notes=notes)
    if sort == "auto":
        sort = metrics[0] if metrics else None
    if sort:
        sort_rows(board, sort)
    board.remark()
    return board


def board_from_paper(table: PaperTable) -> Board:
    """The published table as a board: the paper's columns, rows, row groups and order."""
    columns = []
    for col in table.columns:
        columns.append(Column(col.key, col.label, kind=col.kind, higher_is_better=col.higher_is_better,
                              decimals=col.decimals, group=col.group, meaning=col.meaning))
    rows = []
    for prow in table.rows:
        cells = {k: Cell(value=v, std=prow.stds.get(k)) for k, v in prow.values.items()}
        name = prow.texts[table.columns[0].key]
        rows.append(Row(name=name, cells=cells, texts=dict(prow.texts), group=prow.group, source=table.id,
                        published=True, details={"paper": table.paper_title, "table": table.table,
                                                 "protocol": table.protocol}))
    notes = [f"Published numbers from {table.paper_title}, Table {table.table} ({table.protocol})."]
    notes += table.notes
    board = Board(title=table.title, columns=columns, rows=rows, notes=notes, mark_second=table.mark_second)
    board.remark()
    return board


def normalise_name(name: str) -> str:
    """Lower-case letters and digits only, citation brackets removed ("TALC [2]" → "talc")."""
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\[[^\]]*\]", "", name.lower()))


def row_label(row: Row, text_keys: list[str]) -> str:
    """A row's full label: its text cells in column order joined by " / " ("DF + Video-level Prompt / 5s")."""
    return " / ".join(row.texts[k] for k in text_keys if row.texts.get(k)) or row.name


def _listing(rows: list[tuple[int, Row]], text_keys: list[str]) -> str:
    return ", ".join(f"#{i} {row_label(r, text_keys)}" for i, r in rows)


def find_published(rows: list[Row], text_keys: list[str], query: str) -> list[tuple[int, Row]]:
    """Published rows (1-based position, row) that ``query`` names.

    ``#N`` is the N-th published row; otherwise rows whose full label (:func:`row_label`), else whose
    name, equals ``query`` after :func:`normalise_name`. Several results mean the name is ambiguous.
    """
    numbered = list(enumerate(rows, start=1))
    position = re.fullmatch(r"#(\d+)", query.strip())
    if position:
        n = int(position.group(1))
        return [(n, rows[n - 1])] if 1 <= n <= len(rows) else []
    key = normalise_name(query)
    by_label = [(i, r) for i, r in numbered if normalise_name(row_label(r, text_keys)) == key]
    return by_label or [(i, r) for i, r in numbered if normalise_name(r.name) == key]


def add_measured_rows(board: Board, table: PaperTable, paths, allow_mixed: bool = False,
                      reference: str | None = None) -> Board:
    """Append measured rows (from results files) under the published ones, with deltas.

    A measured column is filled from the results metric named by the paper column's ``metric``, times the
    column's scale (so it is in the paper's units); columns with a ``condition`` are left empty.
    The delta is measured − published against the one published row with the same normalised name
    (or full label). ``reference`` (a published row name, full label or ``#N``) is used only for
    measured rows without such a unique match; a name shared by several published rows (Mask²DiT
    Table 7 has two "Ours") with no ``reference`` is an error, never a silent pick.
    """
    loaded = load_many(paths)
    notes = check_same_suite(loaded, allow_mixed)
    mapped = {c.key: c.metric for c in table.columns if c.fills_from_results}
    if not mapped:
        raise LeaderboardError(f"{table.id} has no column that mvbench measures",
                               hint="pick a table with consistency, FVD, confusion or ID columns")
    text_keys = [c.key for c in table.columns if c.kind == "text"]
    published = [r for r in board.rows if r.published]
    everything = _listing(list(enumerate(published, start=1)), text_keys)
    ref_row = None
    if reference is not None:
        found = find_published(published, text_keys, reference)
        if not found:
            raise LeaderboardError(f"--reference {reference!r} is not a row of {table.id}", hint="rows: " + everything)
        if len(found) > 1:
            raise LeaderboardError(f"--reference {reference!r} names {len(found)} rows of {table.id}: "
                                   f"{_listing(found, text_keys)}",
                                   hint="pass the full row label or the row number, e.g. --reference "
                                        f"'#{found[-1][0]}'; rows: {everything}")
        ref_row = found[0][1]
    first_text = table.columns[0].key
    for path, doc in loaded:
        row = _row_from_results(doc, path, list(mapped.values()))
        factors = {key: measured_factor(table.column(key), doc["metrics"][m], path)
                   for key, m in mapped.items() if m in row.cells}
        row.cells = {key: scaled_cell(row.cells[mapped[key]], f) for key, f in factors.items()}  # in the paper's units
        row.item_values = {key: [v * f for v in row.item_values.get(mapped[key], [])] for key, f in factors.items()}
        row.texts = {first_text: row.name}
        name, version, _ = suite_identity(doc)
        row.group = f"Measured with mvbench (suite {name} v{version})"
        matches = find_published(published, text_keys, row.name)
        if len(matches) > 1 and ref_row is None:
            raise LeaderboardError(
                f"measured row {row.name!r} ({path}) matches {len(matches)} published rows of {table.id}: "
                f"{_listing(matches, text_keys)}",
                hint=f"pass --reference '#N' (or a full row label) to choose the row its deltas refer to; rows: {everything}")
        target = matches[0][1] if len(matches) == 1 else ref_row
        if target is not None:
            row.details["delta_reference"] = target.name
            for key, cell in row.cells.items():
                base = target.cell(key).value
                if cell.value is not None and base is not None:
                    cell.delta = cell.value - base
        board.rows.append(row)
    if not any(r.group for r in board.rows if r.published):
        for r in board.rows:
            if r.published:
                r.group = f"Published ({table.paper_title.split(':')[0]} Table {table.table})"
    board.notes += notes + [
        "Measured rows use this mvbench run's suite and protocol, not the paper's evaluation set; "
        "Δ is measured − published (the one published row of the same name" +
        (f", else {reference!r}" if reference else "") + ")."]
    board.remark()
    return board
