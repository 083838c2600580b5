"""Writing and reading the tables of :func:`mvbench.results.to_dataframe` and
:func:`~mvbench.results.metrics_dataframe` as CSV, JSON Lines or Parquet.

A table written here and read back with :func:`read_table` is the same table (same columns, order,
dtypes and values): CSV and JSONL text columns are read as text (an item id ``001`` stays ``"001"``),
number columns as float64 / int64 and ``higher_is_better`` as bool. Parquet keeps the types itself
and needs ``pyarrow`` (``pip install "mvbench[parquet]"``).

>>> import os, tempfile
>>> import pandas as pd
>>> table = pd.DataFrame({"item": ["001"], "metric": ["fvd"], "value": [float("nan")], "higher_is_better": [False]})
>>> path = write_table(table, os.path.join(tempfile.mkdtemp(), "t.csv"))
>>> read_table(path).equals(table)
True
"""

from __future__ import annotations

from pathlib import Path

from mvbench.atomic import atomic_write_text
from mvbench.errors import MissingExtraError, MvbenchError

FORMATS = ("csv", "jsonl", "parquet")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """``fmt`` if given, else the format named by the file's suffix."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise MvbenchError(f"unknown table format {fmt!r}", hint="choose one of " + ", ".join(FORMATS))
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise MvbenchError(f"cannot tell the table format of {path} from its suffix",
                           hint="use .csv, .jsonl or .parquet, or give the format")
    return SUFFIXES[suffix]


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise MissingExtraError("Parquet export", "parquet", "pyarrow") from None


def write_table(frame, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``frame`` to ``path`` (atomically) as CSV, JSON Lines or Parquet (``fmt`` or the suffix)."""
    path = Path(path)
    fmt = format_of(path, fmt)
    if fmt == "csv":
        atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
    elif fmt == "jsonl":
        text = frame.to_json(orient="records", lines=True, force_ascii=False) if len(frame) else ""
        atomic_write_text(path, text if not text or text.endswith("\n") else text + "\n")
    else:
        _require_pyarrow()
        from mvbench.atomic import atomic_open

        with atomic_open(path, "wb", suffix=".parquet") as fh:
            frame.to_parquet(fh, index=False)
    return path


def _normalise(frame):
    """Column types of the mvbench tables: floats, ints and bools by name, every other column text."""
    import pandas as pd

    from mvbench.results import BOOL_COLUMNS, FLOAT_COLUMNS, INT_COLUMNS

    out = {}
    for c in frame.columns:
        col = frame[c]
        if c in FLOAT_COLUMNS:
            out[c] = pd.to_numeric(col.replace("", None), errors="coerce").astype("float64")
        elif c in INT_COLUMNS:
            out[c] = pd.to_numeric(col).astype("int64")
        elif c in BOOL_COLUMNS:
            out[c] = col.map(lambda v: v if isinstance(v, bool) else str(v) == "True").astype("bool")
        else:
            out[c] = pd.Series(["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in col],
                               index=frame.index)
    return pd.DataFrame(out, columns=list(frame.columns))


def read_table(path: str | Path, fmt: str | None = None):
    """Read a table written by :func:`write_table` (or ``mvbench export``) back into the same DataFrame."""
    import pandas as pd

    path = Path(path)
    fmt = format_of(path, fmt)
    if not path.is_file():
        raise MvbenchError(f"table file {path} does not exist")
    if fmt == "csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    elif fmt == "jsonl":
        if not path.read_text(encoding="utf-8").strip():
            return pd.DataFrame()
        frame = pd.read_json(path, orient="records", lines=True, dtype=False)
    else:
        _require_pyarrow()
        return pd.read_parquet(path)
    return _normalise(frame)
