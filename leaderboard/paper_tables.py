"""Published tables of the source papers, shipped as data in ``leaderboard/tables/*.json``.

One JSON file per table (schema ``mvbench.paper_table/1``)::

    {"id": "mask2dit:table1", "paper": {"key", "title", "seed_file"}, "table": "1",
     "caption": str, "protocol": str, "preset"?: str, "derived": [{"column", "rule": "mean"|"f1", "of": [a, b]}],
     "marking": {"second": bool, "per_group": bool}, "notes": [str], "cross_checks": [...],
     "columns": [{"key", "label", "kind": "text"} |
                 {"key", "label", "kind": "number", "higher_is_better": bool | null, "decimals",
                  "meaning"?, "std"?, "group"?, "interpretation"?,
                  and either "metric", "preset"?, "scale"?, "unit"?, "condition"?
                  or "not_computed": {"kind", "why"}}],
     "rows": [{"cells": [...one per column...], "group"?: str}]}

A number cell is a float, ``null`` for a cell the paper leaves empty ("-"), or ``[mean, std]`` for a
column with ``"std": true`` (papers that print "mean ± std"). ``decimals`` is the precision the paper
prints, so 2.80 renders as "2.80". ``higher_is_better: null`` is a column with no better direction
(vote shares): it is never marked.

Every number column says where its numbers come from: ``metric`` names the mvbench metric (one of
:data:`leaderboard.paper_vocab.SHARED_METRICS`) that reproduces it under ``preset`` (the column's, else
the table's), and ``scale`` turns mvbench's value, in ``unit`` when given, into the paper's printed units
(a VBench fraction printed in percent: ``"scale": 100, "unit": "fraction"``). ``condition`` marks a
column whose videos come from a different run than the rest of the table (Mask²DiT Table 10's
auto-regressive columns); such columns are not filled from results files. Otherwise ``not_computed``
gives the kind (:data:`leaderboard.paper_vocab.NOT_COMPUTED_KINDS`) and why. ``interpretation`` says how
mvbench reads a column whose formula the paper does not state; it is printed as a footnote.
``cross_checks`` compare numbers the paper prints twice (see :mod:`leaderboard.cross_check`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

from leaderboard.errors import LeaderboardError
from leaderboard.paper_vocab import NOT_COMPUTED_KINDS, PRESETS, SHARED_METRICS, UNITS

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
    preset: str | None = None
    scale: float = 1.0
    unit: str | None = None
    condition: str | None = None
    interpretation: str | None = None
    not_computed: tuple[str, str] | None = None  # (kind, why)

    @property
    def fills_from_results(self) -> bool:
        """Measured rows fill this column from the results metric ``metric``."""
        return self.kind == "number" and self.metric is not None and self.condition is None


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
    preset: str | None = None
    cross_checks: list[dict] = field(default_factory=list)
    mark_per_group: bool = False

    def column(self, key: str) -> PaperColumn:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    def find_row(self, ref: str) -> PaperRow:
        """The row ``ref`` names: ``#N`` (1-based) or the exact text of the first column (unique)."""
        if ref.startswith("#") and ref[1:].isdigit() and 1 <= int(ref[1:]) <= len(self.rows):
            return self.rows[int(ref[1:]) - 1]
        first = self.columns[0].key
        found = [r for r in self.rows if r.texts[first] == ref]
        if len(found) != 1:
            raise LeaderboardError(f"{self.id}: row {ref!r} matches {len(found)} rows",
                                   hint="name a row by its first-column text or as #N")
        return found[0]

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
    return sorted(ids, key=_table_order)


def _table_order(table_id: str) -> tuple[str, int, str]:
    paper, table = table_id.split(":")
    return paper, int("".join(c for c in table if c.isdigit()) or 0), table


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
    table_preset = doc.get("preset")
    if table_preset is not None and table_preset not in PRESETS:
        raise fail(f"preset {table_preset!r} is not one of {', '.join(PRESETS)}")
    columns = [_parse_column(spec, table_preset, fail) for spec in doc["columns"]]
    if len({c.key for c in columns}) != len(columns):
        raise fail("column keys must be unique")
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
    marking = doc.get("marking", {})
    table = PaperTable(
        id=doc["id"], paper_key=paper["key"], paper_title=paper["title"], seed_file=paper.get("seed_file", ""),
        table=str(doc["table"]), caption=doc["caption"], protocol=doc.get("protocol", ""), columns=columns,
        rows=rows, derived=list(doc.get("derived", [])), mark_second=bool(marking.get("second", True)),
        notes=list(doc.get("notes", [])), preset=table_preset, cross_checks=list(doc.get("cross_checks", [])),
        mark_per_group=bool(marking.get("per_group", False)))
    from leaderboard.cross_check import validate_cross_check

    for check in table.cross_checks:
        problem = validate_cross_check(table, check)
        if problem:
            raise fail(f"bad cross-check {check}: {problem}")
    return table


def _parse_column(spec: dict, table_preset: str | None, fail) -> PaperColumn:
    key, kind = spec.get("key"), spec.get("kind")
    if kind not in ("text", "number"):
        raise fail(f"column {key!r}: kind must be 'text' or 'number'")
    if kind == "text":
        return PaperColumn(key=key, label=spec["label"], kind=kind)
    hib = spec.get("higher_is_better", "missing")
    if not (isinstance(hib, bool) or hib is None):
        raise fail(f"column {key!r}: number columns need higher_is_better true/false (null: no direction)")
    metric, not_computed = spec.get("metric"), spec.get("not_computed")
    if (metric is None) == (not_computed is None):
        raise fail(f"column {key!r}: give exactly one of 'metric' (the mvbench metric that reproduces it) "
                   "and 'not_computed' ({'kind', 'why'})")
    preset = spec.get("preset", table_preset)
    scale, unit = spec.get("scale", 1), spec.get("unit")
    if metric is not None:
        if metric not in SHARED_METRICS:
            raise fail(f"column {key!r}: metric {metric!r} is not an mvbench metric name")
        if preset not in PRESETS:
            raise fail(f"column {key!r}: preset {preset!r} is not one of {', '.join(PRESETS)}")
        if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0:
            raise fail(f"column {key!r}: scale must be a positive number")
        if unit is not None and unit not in UNITS:
            raise fail(f"column {key!r}: unit {unit!r} is not one of {', '.join(UNITS)}")
        nc = None
    else:
        if spec.keys() & {"preset", "scale", "unit", "condition"}:
            raise fail(f"column {key!r}: preset/scale/unit/condition belong to columns with a metric")
        if not isinstance(not_computed, dict) or not_computed.get("kind") not in NOT_COMPUTED_KINDS \
                or not str(not_computed.get("why", "")).strip():
            raise fail(f"column {key!r}: not_computed needs a kind ({', '.join(NOT_COMPUTED_KINDS)}) and a why")
        nc = (not_computed["kind"], not_computed["why"])
    return PaperColumn(
        key=key, label=spec["label"], kind=kind, higher_is_better=hib, decimals=int(spec.get("decimals", 0)),
        metric=metric, meaning=spec.get("meaning", ""), has_std=bool(spec.get("std", False)),
        group=spec.get("group"), preset=preset if metric else None, scale=float(scale), unit=unit,
        condition=spec.get("condition"), interpretation=spec.get("interpretation"), not_computed=nc)
