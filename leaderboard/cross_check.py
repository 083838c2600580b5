"""Numbers a paper prints twice, compared: the paper's own inconsistencies, as data.

A table's ``cross_checks`` list holds checks of two kinds:

- ``same_values``: ``{"kind": "same_values", "row", "other_table", "other_row", "columns": {here: there},
  "why"}`` — a row that reports the same measurement as a row of another table (Mask²DiT Table 4's
  auto-regressive result and Table 10's p = 0.5 row, the default p). Printed numbers with the same
  decimals must be equal; with different decimals, their rounding intervals must meet.
- ``column_mean``: ``{"kind": "column_mean", "column", "printed", "decimals", "where", "why"}`` — the
  mean of a column's rows against a mean the paper states in its text (MovieBench Table 8 against
  the portrait-quality average of Sec. 3.2). Each printed cell x with d decimals stands for any value
  in [x − ½·10⁻ᵈ, x + ½·10⁻ᵈ]; the check fails when the range of the mean, [mean of lower ends, mean of
  upper ends], does not meet the printed mean's own rounding interval.
- ``vote_shares``: ``{"kind": "vote_shares", "columns", "total", "where", "why"}`` — columns of vote
  shares in percent (Mask²DiT Table 9). The printed shares of a column fit only certain vote counts n
  (every share must be some k/n·100 within rounding); the check fails when no choice of one count
  per column adds up to the total the paper states.

Rows are named by their first-column text or as ``#N``. Nothing is corrected; results are reported
by ``mvbench leaderboard --paper`` and ``--check-papers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

KINDS = ("same_values", "column_mean", "vote_shares")


@dataclass(frozen=True)
class CrossCheckResult:
    """One evaluated check: ``ok`` or not, with the compared numbers (label, here, there) as text."""

    table: str
    kind: str
    ok: bool
    subject: str  # what is compared, e.g. "row 'Ours' vs mask2dit:table10 row '0.5'"
    pairs: list[tuple[str, str, str]] = field(default_factory=list)
    why: str = ""

    @property
    def differing(self) -> list[tuple[str, str, str]]:
        return [p for p in self.pairs if p[1] != p[2]]

    def __str__(self) -> str:
        if self.ok and self.kind == "same_values":
            return f"{self.table} {self.subject}: agree (all {len(self.pairs)} numbers equal). {self.why}".strip()
        shown = self.differing if not self.ok else self.pairs
        numbers = "; ".join(f"{label} {here} vs {there}" for label, here, there in shown)
        verdict = "DISAGREE" if not self.ok else "agree"
        return f"{self.table} {self.subject}: {verdict} ({numbers}). {self.why}".strip()


def _interval(value: float, decimals: int) -> tuple[Fraction, Fraction]:
    exact = Fraction(str(round(value, decimals)))
    half = Fraction(1, 2 * 10**decimals)
    return exact - half, exact + half


def printed_agree(a: float, da: int, b: float, db: int) -> bool:
    """Do two printed numbers report the same value? Equal when printed with the same decimals;
    otherwise their rounding intervals must meet.

    >>> printed_agree(24.29, 2, 23.91, 2), printed_agree(73.2, 1, 73.21, 2), printed_agree(73.2, 2, 73.20, 2)
    (False, True, True)
    """
    if da == db:
        return round(a, da) == round(b, db)
    (alo, ahi), (blo, bhi) = _interval(a, da), _interval(b, db)
    return alo <= bhi and blo <= ahi


def mean_agrees(values: list[float], decimals: int, printed: float, printed_decimals: int) -> tuple[bool, float]:
    """Whether a stated mean (``printed``) can be the mean of the printed ``values``; also the mean.

    >>> mean_agrees([4.56, 4.20], 2, 4.38, 2)
    (True, 4.38)
    >>> mean_agrees([4.56, 4.20], 2, 4.48, 2)[0]
    False
    """
    lows, highs = zip(*(_interval(v, decimals) for v in values))
    low, high = sum(lows) / len(values), sum(highs) / len(values)
    plo, phi = _interval(printed, printed_decimals)
    return bool(plo <= high and low <= phi), float(sum(Fraction(str(v)) for v in values) / len(values))


def vote_counts(shares: list[float], decimals: int, limit: int) -> list[int]:
    """The vote counts n ≤ ``limit`` for which every printed percentage is k/n·100 for some k.

    >>> vote_counts([8.96, 29.85, 13.43, 47.76], 2, 201)
    [67, 134, 201]
    """
    out = []
    for n in range(1, limit + 1):
        fits = True
        for share in shares:
            lo, hi = _interval(share, decimals)
            k = -(-lo * n // 100)  # smallest k with 100k/n >= lo
            fits &= 100 * k <= hi * n
        if fits:
            out.append(n)
    return out


def validate_cross_check(table, check: dict) -> str | None:
    """What is wrong with ``check`` as a check of ``table`` (None when it is well formed).

    Only this table's side is validated here (the other table may not be loaded yet);
    :func:`run_cross_check` validates the other side."""
    kind = check.get("kind")
    if kind not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}"
    keys = {c.key for c in table.columns if c.kind == "number"}
    if kind == "same_values":
        if not {"row", "other_table", "other_row", "columns"} <= check.keys() or not check["columns"]:
            return "same_values needs row, other_table, other_row and columns"
        if not set(check["columns"]) <= keys:
            return f"unknown column(s) {sorted(set(check['columns']) - keys)}"
        try:
            table.find_row(check["row"])
        except Exception as exc:  # noqa: BLE001 - reported as a table-file problem
            return str(exc)
    elif kind == "vote_shares":
        if not check.get("columns") or not set(check["columns"]) <= keys or not isinstance(check.get("total"), int):
            return "vote_shares needs number columns and the stated integer total"
    else:
        if check.get("column") not in keys or not isinstance(check.get("printed"), (int, float)):
            return "column_mean needs a number column and the printed mean"
        if "decimals" not in check or not check.get("where"):
            return "column_mean needs the printed mean's decimals and where the paper states it"
    return None


def run_cross_check(table, check: dict, load) -> CrossCheckResult:
    """Evaluate one ``check`` of ``table``; ``load(table_id)`` returns another paper table."""
    if check["kind"] == "column_mean":
        col = table.column(check["column"])
        values = [r.values[col.key] for r in table.rows if r.values.get(col.key) is not None]
        ok, mean = mean_agrees(values, col.decimals, float(check["printed"]), int(check["decimals"]))
        pairs = [(f"mean {col.label}", f"{mean:.{col.decimals + 1}f} (from the {len(values)} rows)",
                  f"{check['printed']:.{check['decimals']}f} ({check['where']})")]
        return CrossCheckResult(table.id, "column_mean", ok, f"column {col.label!r}", pairs, check.get("why", ""))
    if check["kind"] == "vote_shares":
        return _run_vote_shares(table, check)
    other = load(check["other_table"])
    here_row, there_row = table.find_row(check["row"]), other.find_row(check["other_row"])
    pairs, ok = [], True
    for key, other_key in check["columns"].items():
        col, ocol = table.column(key), other.column(other_key)
        label = col.label if not col.group else f"{col.group}: {col.label}"
        for kind, a, b in (("", here_row.values[key], there_row.values[other_key]),
                           (" std", here_row.stds.get(key), there_row.stds.get(other_key))):
            if a is None or b is None:
                continue
            ok &= printed_agree(a, col.decimals, b, ocol.decimals)
            pairs.append((label + kind, f"{a:.{col.decimals}f}", f"{b:.{ocol.decimals}f}"))
    subject = f"row {_row_name(table, here_row)!r} vs {other.id} row {_row_name(other, there_row)!r}"
    return CrossCheckResult(table.id, "same_values", ok, subject, pairs, check.get("why", ""))


def _row_name(table, row) -> str:
    """A row's text cells joined by " / ", with its number (#N) when another row has the same text."""
    keys = [c.key for c in table.columns if c.kind == "text"]
    name = " / ".join(row.texts[k] for k in keys if row.texts[k])
    same = [r for r in table.rows if " / ".join(r.texts[k] for k in keys if r.texts[k]) == name]
    return name if len(same) == 1 else f"#{table.rows.index(row) + 1} {name}"


def _run_vote_shares(table, check: dict) -> CrossCheckResult:
    total = int(check["total"])
    sums, counts = {0}, []
    for key in check["columns"]:
        col = table.column(key)
        shares = [r.values[key] for r in table.rows if r.values.get(key) is not None]
        fitting = vote_counts(shares, col.decimals, total)
        counts.append((col.label, fitting[0] if fitting else None))
        sums = {s + n for s in sums for n in fitting if s + n <= total}
    ok = total in sums
    smallest = [n for _, n in counts]
    found = ("no count fits" if None in smallest else
             " + ".join(str(n) for n in smallest) + f" = {sum(smallest)} at the fewest")
    pairs = [("votes per column", found, f"{total} ({check['where']})")]
    detail = ", ".join(f"{label}: {n}" for label, n in counts)
    return CrossCheckResult(table.id, "vote_shares", ok, f"vote counts ({detail})", pairs, check.get("why", ""))


def cross_checks_involving(table_id: str) -> list[CrossCheckResult]:
    """Every shipped cross-check whose table or other table is ``table_id``, evaluated.

    >>> [r.ok for r in cross_checks_involving("mask2dit:table4")]
    [False]
    """
    from leaderboard.paper_tables import list_paper_tables, load_paper_table

    out = []
    for tid in list_paper_tables():
        table = load_paper_table(tid)
        for check in table.cross_checks:
            if tid == table_id or check.get("other_table") == table_id:
                out.append(run_cross_check(table, check, load_paper_table))
    return out


def all_cross_checks() -> list[CrossCheckResult]:
    """Every cross-check of every shipped table, evaluated (agreements included)."""
    from leaderboard.paper_tables import list_paper_tables, load_paper_table

    return [run_cross_check(t, c, load_paper_table)
            for t in map(load_paper_table, list_paper_tables()) for c in t.cross_checks]
