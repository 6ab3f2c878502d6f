"""Reading a pragmascope's input: a CSV or Parquet table of numbers (or an array), its views
(groups of columns), and the policy for missing or non-finite values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from greedlab.errors import ConfigError

NA_POLICIES = ("refuse", "drop")


@dataclass
class Table:
    """A data file as the pragmascope sees it: the numeric columns, and what was left out of them."""

    x: np.ndarray
    names: list[str]
    dropped_columns: list[str]
    """Columns that are not numeric (text, dates, booleans): not variables, so not in ``x``."""
    dropped_rows: int = 0
    """Rows with a missing or non-finite value, left out under ``na="drop"``."""


def load(data: str | Path | np.ndarray, na: str = "refuse") -> tuple[np.ndarray, list[str]]:
    """(rows × columns float array, column names) from an array or a CSV/Parquet file."""
    t = load_table(data, na)
    return t.x, t.names


def load_table(data: str | Path | np.ndarray, na: str = "refuse") -> Table:
    """The numeric columns of an array or a CSV/Parquet file. A missing or non-finite value is
    refused (``na="refuse"``): a blank cell would otherwise be read as 0.0 and an inf breaks the
    whitening, both silently; ``na="drop"`` leaves such rows out instead."""
    if na not in NA_POLICIES:
        raise ConfigError("--na", ", ".join(NA_POLICIES), na)
    if isinstance(data, np.ndarray):
        x = np.asarray(data, dtype=float)
        if x.ndim != 2:
            raise ConfigError("data", "a 2-D array (rows × columns)", x.shape)
        return _finite(Table(x, [f"x{i}" for i in range(x.shape[1])], []), np.isfinite(x), na, "data")
    path = Path(data)
    kind = path.suffix.lower()
    if path.is_dir():
        raise ConfigError("data", "a .csv or .parquet file, not a folder", str(path))
    if kind not in (".csv", ".parquet"):
        raise ConfigError("data", "a .csv or .parquet file", str(path))
    if not path.exists():
        raise ConfigError("data", "an existing .csv or .parquet file", str(path))
    names, cols = _read(path, kind)
    numeric = [n for n in names if np.issubdtype(np.asarray(cols[n]).dtype, np.number)]
    dropped = [n for n in names if n not in numeric]
    if len(numeric) < 2:
        raise ConfigError("data", "a file with at least two numeric columns",
                          f"{path} (numeric: {numeric or 'none'}; non-numeric: {dropped or 'none'})")
    # NULL (a blank cell) comes back masked over a 0.0: read the mask, never the fill
    x = np.column_stack([np.ma.getdata(cols[n]).astype(float) for n in numeric])
    ok = np.column_stack([~np.ma.getmaskarray(cols[n]) for n in numeric]) & np.isfinite(x)
    return _finite(Table(x, numeric, dropped), ok, na, str(path))


def _read(path: Path, kind: str) -> tuple[list[str], dict]:
    import duckdb  # already the store's engine: reads CSV and Parquet without another dependency

    reader = "read_csv_auto" if kind == ".csv" else "read_parquet"
    try:
        with duckdb.connect() as con:
            rel = con.execute(f"select * from {reader}(?)", [str(path)])
            return [d[0] for d in rel.description], rel.fetchnumpy()
    except duckdb.Error as e:
        what = "a UTF-8 CSV file with a header row" if kind == ".csv" else "a Parquet file"
        raise ConfigError("data", what, f"{path} ({_first_line(e)})") from None


def _first_line(e: Exception) -> str:
    lines = [ln.strip().removeprefix("Invalid Input Error: ") for ln in str(e).splitlines() if ln.strip()]
    # DuckDB's CSV errors put the cause on a later line ("CSV Error on Line: 2" first)
    cause = next((ln for ln in lines if "not utf-8" in ln.lower() or "too small" in ln.lower()), None)
    return cause or (lines[0] if lines else type(e).__name__)


def _finite(t: Table, ok: np.ndarray, na: str, where: str) -> Table:
    if ok.all():
        return t
    if na == "drop":
        keep = ok.all(axis=1)
        return Table(t.x[keep], t.names, t.dropped_columns, int((~keep).sum()))
    col = int(np.flatnonzero(~ok.all(axis=0))[0])
    row = int(np.flatnonzero(~ok[:, col])[0])
    bad_rows = int((~ok.all(axis=1)).sum())
    raise ConfigError("data", "numbers in every cell, or --na drop to leave out rows with a missing or "
                      "non-finite value", f"{where}: column {t.names[col]!r} has a missing or non-finite value in "
                      f"data row {row + 1}; {bad_rows} of {len(ok)} rows have one")


def parse_views(spec: str | None, n_cols: int, names: list[str] | None = None) -> list[np.ndarray]:
    """Column indices of each view. ``None``: every column its own view. "auto:V": V contiguous,
    near-equal blocks. Otherwise views separated by ",", each a "+"-joined list of columns or
    inclusive ranges: "0-3,4-7" or "0-1+8-9,2-3+10-11". A column may also be named: "a+b,c+d"
    (a name wins over a number, so a file's own numbering of its columns is kept)."""
    if spec is None:
        return [np.array([i]) for i in range(n_cols)]
    by_name = {n: i for i, n in enumerate(names or [])}
    named = " or column names like 'a+b,c+d'" if names else ""
    bad = ConfigError("--views", f"'auto:V' (2 ≤ V ≤ {n_cols}) or disjoint column ranges like '0-3,4-7' "
                      f"(columns 0..{n_cols - 1}, at least two views){named}", spec)
    spec = spec.strip()
    if spec.startswith("auto:"):
        if not re.fullmatch(r"auto:\d+", spec) or not 2 <= int(spec[5:]) <= n_cols:
            raise bad
        return [np.asarray(b) for b in np.array_split(np.arange(n_cols), int(spec[5:]))]
    views, seen = [], set()
    for part in spec.split(","):
        cols = []
        for piece in part.split("+"):
            if piece.strip() in by_name:
                cols.append(by_name[piece.strip()])
                continue
            m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", piece)
            if not m:
                raise bad
            lo, hi = int(m[1]), int(m[2] if m[2] is not None else m[1])
            if not lo <= hi < n_cols:
                raise bad
            cols.extend(range(lo, hi + 1))
        if seen & set(cols) or len(set(cols)) != len(cols):
            raise bad
        seen |= set(cols)
        views.append(np.array(cols))
    if len(views) < 2:
        raise bad
    return views
