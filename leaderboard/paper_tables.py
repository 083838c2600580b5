"""Published tables of the source papers, shipped as data in ``leaderboard/tables/*.json``.

One JSON file per table (schema ``mvbench.paper_table/1``)::

    {"id": "mask2dit:table1", "paper": {"key", "title", "seed_file"}, "table": "1",
     "caption": str, "protocol": str, "derived": [{"column", "rule": "mean"|"f1", "of": [a, b]}],
     "marking": {"second": bool}, "notes": [str],
     "columns": [{"key", "label", "kind": "text"} |
                 {"key", "label", "kind": "number", "higher_is_better", "decimals",
                  "metric"?, "meaning"?, "std"?, "group"?}],
     "rows": [{"cells": [...one per column...], "group"?: str}]}

A number cell is a float, ``null`` for a cell the paper leaves empty ("-"), or ``[mean, std]`` for a
column with ``"std": true`` (papers that print "mean ± std"). ``decimals`` is the precision the paper
prints, so 2.80 renders as "2.80". ``metric`` names the mvbench metric the column reports, where the
protocol is the same kind of measurement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

from leaderboard.errors import LeaderboardError

SCHEMA = "mvbench.paper_table/1"


@dataclass(frozen=True)
class PaperColumn:
    key: str
    label: str
    kind: str  # "text" or "number"
    higher_is_better: bool | None = None
    decimals: int = 0
    metric: str | None = None
    meaning: str = ""
    has_std: bool = False
    group: str | None = None


@dataclass(frozen=True)
class PaperRow:
    """``texts``: text-column values; ``values``/``stds``: number-column values (None = empty cell)."""

    texts: dict[str, str]
    values: dict[str, float | None]
    stds: dict[str, float | None]
    group: str | None = None


@dataclass(frozen=True)
class PaperTable:
    id: str
    paper_key: str
    paper_title: str
    seed_file: str
    table: str
    caption: str
    protocol: str
    columns: list[PaperColumn]
    rows: list[PaperRow]
    derived: list[dict] = field(default_factory=list)
    mark_second: bool = True
    notes: list[str] = field(default_factory=list)

    def column(self, key: str) -> PaperColumn:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    @property
    def title(self) -> str:
        short = self.paper_title.split(":")[0]
        return f"{short} Table {self.table}: {self.caption}"


def _tables_dir():
    return resources.files("leaderboard") / "tables"


def list_paper_tables() -> list[str]:
    """Ids (``paper:tableN``) of every shipped table, sorted by paper and table number."""
    ids = []
    for entry in _tables_dir().iterdir():
        if entry.name.endswith(".json"):
            ids.append(json.loads(entry.read_text(encoding="utf-8"))["id"])
    return sorted(ids, key=lambda i: (i.split(":")[0], int("".join(c for c in i.split(":")[1] if c.isdigit()) or 0)))


def load_paper_table(table_id: str) -> PaperTable:
    """Load ``table_id`` (e.g. ``mask2dit:table1``; case-insensitive) from the shipped data."""
    wanted = table_id.strip().lower()
    file_name = wanted.replace(":", "_") + ".json"
    path = _tables_dir() / file_name
    if ":" not in wanted or not path.is_file():
        known = ", ".join(list_paper_tables())
        raise LeaderboardError(f"unknown paper table {table_id!r}", hint=f"known tables: {known}")
    return parse_paper_table(json.loads(path.read_text(encoding="utf-8")), source=file_name)


def parse_paper_table(doc: dict, source: str = "<table>") -> PaperTable:
    """Validate a paper-table document and build a :class:`PaperTable` (errors name ``source``)."""

    def fail(msg: str) -> LeaderboardError:
        return LeaderboardError(f"{source}: {msg}", hint="fix the table file (see leaderboard/paper_tables.py)")

    if doc.get("schema") != SCHEMA:
        raise fail(f"schema must be {SCHEMA!r}, got {doc.get('schema')!r}")
    columns = []
    for spec in doc["columns"]:
        kind = spec.get("kind")
        if kind not in ("text", "number"):
            raise fail(f"column {spec.get('key')!r}: kind must be 'text' or 'number'")
        if kind == "number" and not isinstance(spec.get("higher_is_better"), bool):
            raise fail(f"column {spec['key']!r}: number columns need higher_is_better true/false")
        columns.append(PaperColumn(
            key=spec["key"], label=spec["label"], kind=kind, higher_is_better=spec.get("higher_is_better"),
            decimals=int(spec.get("decimals", 0)), metric=spec.get("metric"), meaning=spec.get("meaning", ""),
            has_std=bool(spec.get("std", False)), group=spec.get("group")))
    if not columns or columns[0].kind != "text":
        raise fail("the first column must be a text column naming the row")
    rows = []
    for r, spec in enumerate(doc["rows"], start=1):
        cells = spec["cells"]
        if len(cells) != len(columns):
            raise fail(f"row {r} has {len(cells)} cells for {len(columns)} columns")
        texts, values, stds = {}, {}, {}
        for col, cell in zip(columns, cells):
            if col.kind == "text":
                texts[col.key] = str(cell)
                continue
            value, std = (cell if col.has_std and cell is not None else (cell, None))
            for number in (value, std):
                if number is not None and round(float(number), col.decimals) != float(number):
                    raise fail(f"row {r} column {col.key!r}: {number} has more than {col.decimals} decimals")
            values[col.key] = None if value is None else float(value)
            stds[col.key] = None if std is None else float(std)
        rows.append(PaperRow(texts=texts, values=values, stds=stds, group=spec.get("group")))
    keys = {c.key for c in columns}
    for rule in doc.get("derived", []):
        if rule["rule"] not in ("mean", "f1") or not {rule["column"], *rule["of"]} <= keys:
            raise fail(f"bad derived rule {rule}")
    paper = doc["paper"]
    return PaperTable(
        id=doc["id"], paper_key=paper["key"], paper_title=paper["title"], seed_file=paper.get("seed_file", ""),
        table=str(doc["table"]), caption=doc["caption"], protocol=doc.get("protocol", ""), columns=columns,
        rows=rows, derived=list(doc.get("derived", [])),
        mark_second=bool(doc.get("marking", {}).get("second", True)), notes=list(doc.get("notes", [])))
