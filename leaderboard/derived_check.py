"""Recompute the columns a paper derives from other columns and report rows that disagree.

Rules (only where the paper defines them):

- ``mean``: Sequence Consistency = (Visual + Semantic) / 2 (Mask²DiT, Sec. 4.1 "Evaluation Metrics");
  Mask²DiT Table 10's Overall = mean of its two Sequence columns (not stated; every row agrees).
- ``f1``: F1_ID = 2·P·R / (P + R) (MovieBench, Sec. 3.5).

"Beyond rounding" is decided exactly: a printed number x with d decimals stands for any true value in
[x − ½·10⁻ᵈ, x + ½·10⁻ᵈ]. Both rules increase monotonically in each input, so the derived value
lies in [f(lower ends), f(upper ends)]; the printed derived number disagrees when its own rounding
interval does not meet that range. Nothing is "fixed"; disagreements are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from leaderboard.paper_tables import PaperTable


@dataclass(frozen=True)
class Disagreement:
    table: str
    row: str
    column: str
    printed: float
    recomputed: float
    low: float
    high: float
    decimals: int

    def __str__(self) -> str:
        return (f"{self.table} row {self.row!r}: {self.column} is printed as {self.printed:.{self.decimals}f} but the other "
                f"columns give {self.recomputed:.4f} (anything in [{self.low:.4f}, {self.high:.4f}] would be rounding)")


def _mean(a: float, b: float) -> float:
    return (a + b) / 2.0


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2.0 * p * r / (p + r)


RULES = {"mean": _mean, "f1": _f1}


def check_derived_columns(table: PaperTable) -> list[Disagreement]:
    """Every row/derived column of ``table`` whose printed value is off by more than rounding."""
    found = []
    for rule in table.derived:
        fn = RULES[rule["rule"]]
        out_col = table.column(rule["column"])
        in_cols = [table.column(k) for k in rule["of"]]
        for row in table.rows:
            inputs = [row.values[c.key] for c in in_cols]
            printed = row.values[out_col.key]
            if printed is None or any(v is None for v in inputs):
                continue
            halves = [0.5 * 10.0 ** -c.decimals for c in in_cols]
            low = fn(*[v - h for v, h in zip(inputs, halves)])
            high = fn(*[v + h for v, h in zip(inputs, halves)])
            half_out = 0.5 * 10.0 ** -out_col.decimals
            eps = 1e-9  # float noise in the interval ends
            if printed + half_out < low - eps or printed - half_out > high + eps:
                found.append(Disagreement(table.id, row.texts[table.columns[0].key], out_col.key,
                                          printed, fn(*inputs), low, high, out_col.decimals))
    return found
