"""The results store: one embedded DuckDB file.

Tables (the columns users export): ``runs``, ``metrics`` (long format), ``verdicts``, and
``greedlab_meta``, whose presence marks a file as a greedlab store. A file that fails to open,
or that is a DuckDB database of something else, is refused with one clear error and never
written to. Every write is one transaction: a killed process leaves either the old state or the
new one, never half of a run's metrics.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np

from greedlab.errors import ConfigError, StoreError

SCHEMA_VERSION = "1"
METRIC_COLUMNS = ("seed", "step", "instrument", "feature", "value")
_SCHEMA = """
CREATE TABLE greedlab_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, config_json VARCHAR, init_seeds VARCHAR, data_seeds VARCHAR,
                   status VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, version VARCHAR);
CREATE TABLE metrics (run_id VARCHAR, seed INTEGER, step INTEGER, instrument VARCHAR, feature VARCHAR,
                      value DOUBLE);
CREATE TABLE verdicts (claim VARCHAR, condition VARCHAR, statistic VARCHAR, value DOUBLE, ci_low DOUBLE,
                       ci_high DOUBLE, verdict VARCHAR, run_ids VARCHAR, version VARCHAR, created_at TIMESTAMP);
"""
NOT_OURS = "not a greedlab results store (corrupt or foreign file); it was left untouched"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Store:
    """Open (or create) the store at ``path``. Raises StoreError naming the path on any problem."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False):
        self.path = Path(path)
        p = self.path
        if p.is_dir():
            raise StoreError(f"store {p}: is a directory; give a file path")
        if not p.exists():
            if read_only:
                raise StoreError(f"store {p}: no such file")
            if not p.parent.is_dir():
                raise StoreError(f"store {p}: folder {p.parent} does not exist")
            if not os.access(p.parent, os.W_OK):
                raise StoreError(f"store {p}: folder {p.parent} is not writable")
        elif not read_only and not os.access(p, os.W_OK):
            raise StoreError(f"store {p}: file is not writable")
        fresh = not p.exists()
        try:
            self.con = duckdb.connect(str(p), read_only=read_only)
        except duckdb.Error as e:
            raise StoreError(f"store {p}: {NOT_OURS} ({type(e).__name__})") from None
        try:
            tables = {t for (t,) in self.con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
            if "greedlab_meta" not in tables:
                if tables or not fresh:
                    raise StoreError(f"store {p}: {NOT_OURS}")
                self._write(lambda: (self.con.execute(_SCHEMA),
                                     self.con.execute("INSERT INTO greedlab_meta VALUES ('schema', ?)",
                                                      [SCHEMA_VERSION])))
        except BaseException:
            self.con.close()
            if fresh and p.exists():
                p.unlink()  # we created it a moment ago; nothing of the user's is lost
            raise

    # -- plumbing ----------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, fn) -> None:
        """Run ``fn`` in one transaction; on any failure roll back and raise StoreError."""
        try:
            self.con.execute("BEGIN TRANSACTION")
            fn()
            self.con.execute("COMMIT")
        except duckdb.Error as e:
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise StoreError(f"store {self.path}: write failed, nothing was changed ({e})") from None
        except BaseException:
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise

    # -- runs and metrics ----------------------------------------------------------------------
    def run_status(self, run_id: str) -> str | None:
        row = self.con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return row[0] if row else None

    def begin_run(self, run_id: str, config: dict, init_seeds: list[int], data_seeds: list[int],
                  version: str) -> None:
        """Mark a run as started; any partial rows of an earlier, killed attempt are removed."""
        def fn():
            self.con.execute("DELETE FROM metrics WHERE run_id = ?", [run_id])
            self.con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
            self.con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, 'running', ?, NULL, ?)",
                             [run_id, json.dumps(config, sort_keys=True, default=str), json.dumps(list(init_seeds)),
                              json.dumps(list(data_seeds)), _now(), version])
        self._write(fn)

    def finish_run(self, run_id: str, metrics: dict[str, np.ndarray]) -> None:
        """Store all of a run's metrics and mark it done, atomically."""
        lengths = {len(metrics[c]) for c in METRIC_COLUMNS}
        if len(lengths) != 1:
            raise ValueError(f"metrics columns differ in length: {lengths}")
        n = lengths.pop()
        batch = {"run_id": np.full(n, run_id, dtype=object),
                 "seed": np.asarray(metrics["seed"], dtype=np.int32),
                 "step": np.asarray(metrics["step"], dtype=np.int32),
                 "instrument": np.asarray(metrics["instrument"], dtype=object),
                 "feature": np.asarray(metrics["feature"], dtype=object),
                 "value": np.asarray(metrics["value"], dtype=np.float64)}

        def fn():
            self.con.execute("DELETE FROM metrics WHERE run_id = ?", [run_id])
            self.con.register("_new_metrics", batch)  # bulk insert from numpy, no row loop
            try:
                self.con.execute("INSERT INTO metrics SELECT run_id, seed, step, instrument, feature, value "
                                 "FROM _new_metrics")
            finally:
                self.con.unregister("_new_metrics")
            self.con.execute("UPDATE runs SET status = 'done', finished_at = ? WHERE run_id = ?", [_now(), run_id])
        self._write(fn)

    def load_metrics(self, run_id: str) -> dict[str, np.ndarray]:
        rel = self.con.execute("SELECT seed, step, instrument, feature, value FROM metrics WHERE run_id = ? "
                               "ORDER BY instrument, feature, seed, step", [run_id])
        cols = rel.fetchnumpy()
        return {c: np.asarray(cols[c]) for c in METRIC_COLUMNS}

    def runs(self) -> list[dict]:
        rel = self.con.execute("SELECT * FROM runs ORDER BY started_at")
        names = [d[0] for d in rel.description]
        out = []
        for row in rel.fetchall():
            r = dict(zip(names, row))
            r["config"] = json.loads(r["config_json"])
            out.append(r)
        return out

    # -- verdicts ------------------------------------------------------------------------------
    def replace_verdicts(self, claim: str, rows: list[dict]) -> None:
        """Replace one claim's verdict rows (a re-run supersedes the last one), atomically."""
        now = _now()

        def fn():
            self.con.execute("DELETE FROM verdicts WHERE claim = ?", [claim])
            for r in rows:
                self.con.execute("INSERT INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 [claim, r["condition"], r["statistic"], _num(r["value"]), _num(r["ci_low"]),
                                  _num(r["ci_high"]), r["verdict"], json.dumps(list(r["run_ids"])), r["version"],
                                  now])
        self._write(fn)

    def verdicts(self, claim: str | None = None) -> list[dict]:
        q = "SELECT * FROM verdicts" + (" WHERE claim = ?" if claim else "") + " ORDER BY claim, rowid"
        rel = self.con.execute(q, [claim] if claim else [])
        names = [d[0] for d in rel.description]
        return [dict(zip(names, row)) for row in rel.fetchall()]

    # -- export --------------------------------------------------------------------------------
    def export(self, out_dir: str | os.PathLike, fmt: str = "csv") -> list[Path]:
        """Write runs, metrics and verdicts as ``out_dir/<table>.<fmt>`` (DuckDB's own writers)."""
        if fmt not in ("csv", "parquet"):
            raise ConfigError("format", "csv, parquet", fmt)
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"export folder {out}: {e.strerror}") from None
        paths = []
        for table in ("runs", "metrics", "verdicts"):
            p = out / f"{table}.{fmt}"
            opts = "(FORMAT parquet)" if fmt == "parquet" else "(HEADER, DELIMITER ',')"
            try:
                self.con.execute(f"COPY (SELECT * FROM {table}) TO '{_sql_path(p)}' {opts}")
            except duckdb.Error as e:
                raise StoreError(f"export {p}: {e}") from None
            paths.append(p)
        return paths


def _num(x) -> float | None:
    x = float(x)
    return None if x != x else x  # NaN → NULL: "no value", as in the overall verdict rows


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")
