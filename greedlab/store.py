"""The results store: one embedded DuckDB file.

Tables (users export these columns): ``runs``, ``metrics`` (long format: one row per model, step,
instrument and feature), ``verdicts``; ``chunks``, the bookkeeping of runs trained in pieces by a sweep
(which models are stored, and their deployment predictions until the run is complete); and
``greedlab_meta``, whose ``('schema', N)`` row marks a file as a greedlab store. A claim's verdicts
are kept per *verdict set*: its scale and the full set of user overrides (stored as JSON, keyed by
their hash), so a smoke run never replaces a quick run's verdicts, nor a ``--set`` run the defaults'. A store of an older
schema is upgraded in place, in one transaction, the first time it is opened for writing; opened
read-only it is read as it is.

Two promises, because a results file can hold days of compute:

* A file that is not ours (garbage bytes, someone else's DuckDB database, a newer schema) is refused
  with one clear error and is never written to: it is inspected through a read-only connection
  before any read-write one is opened.
* Every write is one transaction: a killed or failing process leaves either the old state or the new
  one, never half of a run's metrics.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np

from greedlab.errors import ConfigError, StoreError

SCHEMA_VERSION = "4"
# schema 1 lacks ``chunks``, schema 2 the verdicts' scale and overrides, schema 3 the runs' timings:
# _MIGRATIONS adds them
READABLE_SCHEMAS = ("1", "2", "3", "4")
METRIC_COLUMNS = ("seed", "step", "instrument", "feature", "value")
TABLES = ("runs", "metrics", "verdicts")
_SCHEMA = """
CREATE TABLE greedlab_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, config_json VARCHAR, init_seeds VARCHAR, data_seeds VARCHAR,
                   status VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, version VARCHAR, timings VARCHAR);
CREATE TABLE metrics (run_id VARCHAR, seed INTEGER, step INTEGER, instrument VARCHAR, feature VARCHAR,
                      value DOUBLE);
CREATE TABLE verdicts (claim VARCHAR, condition VARCHAR, statistic VARCHAR, value DOUBLE, ci_low DOUBLE,
                       ci_high DOUBLE, verdict VARCHAR, run_ids VARCHAR, version VARCHAR, created_at TIMESTAMP,
                       scale VARCHAR, overrides_hash VARCHAR, overrides VARCHAR);
"""
_CHUNKS = """
CREATE TABLE chunks (run_id VARCHAR, lo INTEGER, hi INTEGER, status VARCHAR, finished_at TIMESTAMP,
                     predictions BLOB, PRIMARY KEY (run_id, lo));
"""
UNKNOWN_SCALE = "unknown"  # verdicts stored before the store recorded their scale


def overrides_key(overrides: dict | None) -> str:
    """A verdict set's key: the first 16 hex digits of the sha256 of its overrides as sorted JSON."""
    return hashlib.sha256(_overrides_json(overrides).encode()).hexdigest()[:16]


def _overrides_json(overrides: dict | None) -> str:
    return json.dumps(overrides or {}, sort_keys=True, default=str)


# verdicts of schema 2 were made under some scale and overrides nobody recorded: they are kept,
# marked unknown, with the empty override set
_VERDICT_SETS = f"""
ALTER TABLE verdicts ADD COLUMN scale VARCHAR;
ALTER TABLE verdicts ADD COLUMN overrides_hash VARCHAR;
ALTER TABLE verdicts ADD COLUMN overrides VARCHAR;
UPDATE verdicts SET scale = '{UNKNOWN_SCALE}', overrides_hash = '{overrides_key({})}', overrides = '{{}}';
"""
# seconds per phase of a run (greedlab.timing), JSON; NULL for runs stored before it was kept
_TIMINGS = "ALTER TABLE runs ADD COLUMN timings VARCHAR;"
_MIGRATIONS = {"1": _CHUNKS, "2": _VERDICT_SETS, "3": _TIMINGS}  # the statements that take schema N to N + 1
VERDICT_COLUMNS = ("claim", "scale", "overrides_hash", "overrides", "condition", "statistic", "value", "ci_low",
                   "ci_high", "verdict", "run_ids", "version", "created_at")
# export order: deterministic files, so two exports of the same store diff cleanly
_EXPORT_ORDER = {"runs": "run_id", "metrics": "run_id, instrument, feature, seed, step",
                 "verdicts": "claim, scale, overrides_hash, rowid"}
NOT_OURS = "not a greedlab results store (corrupt or foreign file); it was left untouched"


def check_path(p: Path, read_only: bool) -> None:
    """Refuse paths DuckDB would fail on with a vaguer message (or, for writes, only later). Cheap:
    the CLI calls it before anything slow, and the store again when it opens."""
    if p.is_dir():
        raise StoreError(f"store {p}: is a directory; give a file path")
    if not p.exists():
        if read_only:
            raise StoreError(f"store {p}: no such file")
        if not p.parent.is_dir():
            raise StoreError(f"store {p}: folder {p.parent} does not exist")
    if not read_only:
        # the folder must be writable even for an existing file: DuckDB writes its .wal beside it
        if not os.access(p.parent, os.W_OK | os.X_OK):
            raise StoreError(f"store {p}: folder {p.parent} is not writable")
        if p.exists() and not os.access(p, os.R_OK | os.W_OK):
            raise StoreError(f"store {p}: file is not writable")


def _now() -> datetime:
    # TIMESTAMP has no time zone: store UTC so runs started on different machines compare correctly
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Store:
    """Open (or create) the store at ``path``. Raises StoreError naming the path on any problem."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._check_path()
        existed = self.path.exists()
        self.schema = SCHEMA_VERSION
        if existed:
            # read-only look first: a foreign file is never opened for writing
            empty, self.schema = self._inspect()
            if read_only and empty:
                raise StoreError(f"store {self.path}: empty DuckDB database, not yet a greedlab results store")
        else:
            empty = True
        self.con = self._connect(read_only)
        if not empty and not read_only and self.schema != SCHEMA_VERSION:
            try:
                self._write(self._migrate)
            except BaseException:
                self.con.close()
                raise
        if empty:
            # a new file, or an empty DuckDB file (e.g. a creation killed before the schema committed)
            try:
                self._write(self._create_schema)
            except BaseException:
                self.con.close()
                if not existed:  # we made these files a moment ago; nothing of the user's is lost
                    for f in (self.path, self.path.with_name(self.path.name + ".wal")):
                        f.unlink(missing_ok=True)
                raise

    # -- opening -------------------------------------------------------------------------------
    def _check_path(self) -> None:
        check_path(self.path, self.read_only)

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as e:
            raise StoreError(self._open_error(e)) from None

    def _open_error(self, e: duckdb.Error) -> str:
        msg, p = str(e), self.path
        if "not a valid DuckDB database" in msg:
            return f"store {p}: {NOT_OURS}"
        if "Could not set lock" in msg:
            pid = re.search(r"PID \d+", msg)
            return f"store {p}: in use by another process{f' ({pid.group()})' if pid else ''}; wait for it or " \
                   "use another store file"
        if "different configuration" in msg:
            return f"store {p}: already open in this process in {'read-write' if self.read_only else 'read-only'} " \
                   "mode; close it first"
        return f"store {p}: cannot open ({msg.splitlines()[0]})"

    def _inspect(self) -> tuple[bool, str]:
        """Check an existing file through a read-only connection (which never checkpoints or writes,
        unlike a read-write one that folds a pending .wal into the file on close). Returns (is it an
        empty DuckDB database, its schema); raises StoreError unless it is empty or a greedlab store
        we can read."""
        con = self._connect(read_only=True)
        try:
            tables = {t for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()"
            ).fetchall()}
            if not tables:
                return True, SCHEMA_VERSION
            if "greedlab_meta" not in tables:
                raise StoreError(f"store {self.path}: {NOT_OURS}")
            row = con.execute("SELECT value FROM greedlab_meta WHERE key = 'schema'").fetchone()
        except duckdb.Error as e:  # e.g. a damaged block found only when read
            raise StoreError(f"store {self.path}: {NOT_OURS} ({str(e).splitlines()[0]})") from None
        finally:
            con.close()
        if row is None or row[0] not in READABLE_SCHEMAS:
            raise StoreError(f"store {self.path}: greedlab store schema {row[0] if row else '?'}; this greedlab "
                             f"reads schemas {', '.join(READABLE_SCHEMAS)} (upgrade greedlab); it was left untouched")
        return False, row[0]

    def _create_schema(self) -> None:
        self.con.execute(_SCHEMA + _CHUNKS)
        self.con.execute("INSERT INTO greedlab_meta VALUES ('schema', ?)", [SCHEMA_VERSION])

    def _migrate(self) -> None:
        schema = self.schema
        while schema != SCHEMA_VERSION:
            self.con.execute(_MIGRATIONS[schema])
            schema = str(int(schema) + 1)
        self.con.execute("UPDATE greedlab_meta SET value = ? WHERE key = 'schema'", [SCHEMA_VERSION])
        self.schema = SCHEMA_VERSION  # only reached when every statement succeeded (the commit may still fail)

    # -- plumbing ------------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, fn) -> None:
        """Run ``fn`` in one transaction. A DuckDB failure (disk full, read-only store, a value that
        does not fit its column) rolls back and raises StoreError; any other exception rolls back and
        propagates unchanged."""
        try:
            self.con.execute("BEGIN TRANSACTION")
            fn()
            self.con.execute("COMMIT")
        except BaseException as e:
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass  # DuckDB already ended the transaction (a failed COMMIT does)
            if isinstance(e, duckdb.Error):
                msg = str(e).splitlines()[0]
                hint = "; the disk is full or a file-size limit was reached" if any(
                    s in msg for s in ("No space left", "File too large", "Disk quota")) else ""
                raise StoreError(f"store {self.path}: write failed and was rolled back ({msg}){hint}") from None
            raise

    # -- runs and metrics ----------------------------------------------------------------------
    def run_status(self, run_id: str) -> str | None:
        """'running', 'done', or None if the store has never seen ``run_id``."""
        # fetchall, not fetchone: duckdb 2.0 keeps a partly read result pending on the connection
        # and then refuses register() (see finish_run)
        rows = self.con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchall()
        return rows[0][0] if rows else None

    def begin_run(self, run_id: str, config: dict, init_seeds: list[int], data_seeds: list[int],
                  version: str) -> None:
        """Mark a run as started. Rows left by an earlier attempt that was killed are removed, so a
        restart never duplicates metrics."""
        def fn():
            self.con.execute("DELETE FROM metrics WHERE run_id = ?", [run_id])
            self.con.execute("DELETE FROM chunks WHERE run_id = ?", [run_id])  # pieces of a sweep that began it
            self._upsert_run(run_id, config, init_seeds, data_seeds, version)
        self._write(fn)

    def _upsert_run(self, run_id: str, config: dict, init_seeds: list[int], data_seeds: list[int],
                    version: str) -> None:
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, 'running', ?, NULL, ?, NULL) ON CONFLICT (run_id) DO UPDATE SET "
            "config_json = excluded.config_json, init_seeds = excluded.init_seeds, "
            "data_seeds = excluded.data_seeds, status = 'running', started_at = excluded.started_at, "
            "finished_at = NULL, version = excluded.version, timings = NULL",
            [run_id, json.dumps(config, sort_keys=True, default=str), json.dumps([int(s) for s in init_seeds]),
             json.dumps([int(s) for s in data_seeds]), _now(), version])

    def finish_run(self, run_id: str, metrics: dict[str, np.ndarray], timings: dict[str, float] | None = None) -> None:
        """Store all of a run's metrics (replacing any) and mark it done, in one transaction; with
        ``timings``, the seconds per phase it took (``greedlab.timing``).

        ``metrics`` has equal-length columns seed, step (ints), instrument, feature (str), value
        (float). NaN values are stored as NULL (DuckDB's numpy scan reads NaN as missing) and come
        back from ``load_metrics`` as NaN."""
        if self.run_status(run_id) is None:
            raise ValueError(f"finish_run({run_id!r}) without begin_run")
        batch = _metric_batch(run_id, metrics)

        def fn():
            self.con.execute("DELETE FROM metrics WHERE run_id = ?", [run_id])
            self._insert_new_metrics()
            self.con.execute("UPDATE runs SET status = 'done', finished_at = ?, timings = ? WHERE run_id = ?",
                             [_now(), json.dumps(timings) if timings else None, run_id])
        self._write_with(batch, fn)

    def run_timings(self, run_ids: list[str] | None = None) -> dict[str, dict[str, float]]:
        """Seconds per phase of each finished run that recorded them (runs stored before, none)."""
        if self.schema != SCHEMA_VERSION:  # an older store opened read-only: it kept no timings
            return {}
        rows = self.con.execute("SELECT run_id, timings FROM runs WHERE status = 'done' AND timings IS NOT NULL"
                                ).fetchall()
        wanted = None if run_ids is None else set(run_ids)
        return {r: json.loads(j) for r, j in rows if wanted is None or r in wanted}

    def _insert_new_metrics(self) -> None:
        self.con.execute("INSERT INTO metrics SELECT run_id, seed, step, instrument, feature, value FROM _new_metrics")

    def _write_with(self, batch: dict[str, np.ndarray], fn) -> None:
        """``_write(fn)`` with ``batch`` readable as the table ``_new_metrics``."""
        # one bulk scan of the arrays, no per-row inserts. Registered outside the transaction: in an
        # aborted one, unregister itself fails and would hide the real error (e.g. disk full)
        self.con.complete()  # finish any result a caller left pending, or duckdb 2.0 refuses register()
        self.con.register("_new_metrics", batch)
        try:
            self._write(fn)
        finally:
            try:
                self.con.unregister("_new_metrics")
            except duckdb.Error:
                pass  # never let the cleanup hide the write's own error

    def load_metrics(self, run_id: str) -> dict[str, np.ndarray]:
        """A run's metrics as columns (see ``finish_run``), ordered by instrument, feature, seed, step."""
        cols = self.con.execute("SELECT seed, step, instrument, feature, value FROM metrics WHERE run_id = ? "
                                "ORDER BY instrument, feature, seed, step", [run_id]).fetchnumpy()
        out = {c: np.asarray(cols[c]) for c in METRIC_COLUMNS}
        # NULL comes back as a masked entry whose data is 0.0: restore the NaN that was stored
        out["value"] = np.ma.filled(np.ma.asarray(cols["value"], dtype=np.float64), np.nan)
        return out

    # -- runs trained in chunks (sweeps) --------------------------------------------------------
    # A sweep trains a run's models in chunks, possibly on other machines, and only its driver
    # writes here: each chunk's metrics land with its 'done' mark in one transaction, so a driver
    # killed at any moment leaves whole chunks or none, and a restart trains only what is missing.

    def begin_chunked_run(self, run_id: str, config: dict, init_seeds: list[int], data_seeds: list[int],
                          version: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Register a run to be trained in chunks of models ``[lo, hi)`` and return the chunks in
        force: the stored ones if the run was begun in chunks before (a restart keeps every finished
        chunk, whatever chunk size it asks for now), else ``bounds``."""
        stored = self.chunks(run_id)
        if stored:
            return [(c["lo"], c["hi"]) for c in stored]
        n = len(init_seeds)
        if sorted(bounds) != bounds or not bounds or bounds[0][0] != 0 or bounds[-1][1] != n or any(
                lo >= hi or hi != nxt for (lo, hi), (nxt, _) in zip(bounds, bounds[1:] + [(n, n)])):
            raise ValueError(f"chunks {bounds} do not tile the run's {n} models")

        def fn():
            # an unchunked attempt killed mid-way (experiment.run) may have left partial metrics
            self.con.execute("DELETE FROM metrics WHERE run_id = ?", [run_id])
            self._upsert_run(run_id, config, init_seeds, data_seeds, version)
            for lo, hi in bounds:
                self.con.execute("INSERT INTO chunks VALUES (?, ?, ?, 'pending', NULL, NULL)", [run_id, lo, hi])
        self._write(fn)
        return list(bounds)

    def chunks(self, run_id: str) -> list[dict]:
        """A chunked run's chunks in order: dicts of lo, hi, status ('pending' or 'done'), finished_at."""
        if self.schema == "1":
            return []  # an old store opened read-only: it has never held a chunked run
        rows = self.con.execute("SELECT lo, hi, status, finished_at FROM chunks WHERE run_id = ? ORDER BY lo",
                                [run_id]).fetchall()
        return [dict(zip(("lo", "hi", "status", "finished_at"), r)) for r in rows]

    def finish_chunk(self, run_id: str, lo: int, hi: int, metrics: dict[str, np.ndarray],
                     predictions: bytes) -> bool:
        """Store the metrics of models ``[lo, hi)`` of a chunked run (their ``seed`` column holds each
        model's index in the run) and its predictions, and mark the chunk done, in one transaction.
        Returns False, storing nothing, if that chunk is already done: a result delivered twice is
        stored once."""
        rows = self.con.execute("SELECT hi, status FROM chunks WHERE run_id = ? AND lo = ?", [run_id, lo]).fetchall()
        if not rows or rows[0][0] != hi:
            raise ValueError(f"finish_chunk({run_id!r}, {lo}, {hi}): no such chunk was begun")
        if rows[0][1] == "done":
            return False
        batch = _metric_batch(run_id, metrics)
        seeds = batch["seed"]
        if len(seeds) and (seeds.min() < lo or seeds.max() >= hi):
            raise ValueError(f"finish_chunk({run_id!r}, {lo}, {hi}): seeds outside the chunk")

        def fn():
            self.con.execute("DELETE FROM metrics WHERE run_id = ? AND seed >= ? AND seed < ?", [run_id, lo, hi])
            self._insert_new_metrics()
            self.con.execute("UPDATE chunks SET status = 'done', finished_at = ?, predictions = ? "
                             "WHERE run_id = ? AND lo = ?", [_now(), predictions, run_id, lo])
        self._write_with(batch, fn)
        return True

    def chunk_predictions(self, run_id: str) -> list[bytes]:
        """The predictions of a chunked run's chunks, in order of their models."""
        rows = self.con.execute("SELECT predictions FROM chunks WHERE run_id = ? ORDER BY lo", [run_id]).fetchall()
        return [bytes(r[0]) if r[0] is not None else None for r in rows]

    def finish_chunked_run(self, run_id: str, metrics: dict[str, np.ndarray]) -> None:
        """Once every chunk is done: add the run-wide metrics (those that compare models of different
        chunks), mark the run done and drop the chunks' predictions, in one transaction."""
        pending = [c for c in self.chunks(run_id) if c["status"] != "done"]
        if pending or not self.chunks(run_id):
            raise ValueError(f"finish_chunked_run({run_id!r}): chunks not done: {pending or 'none begun'}")
        batch = _metric_batch(run_id, metrics)
        instruments = sorted(set(batch["instrument"].tolist()))

        def fn():
            for inst in instruments:  # a finalization killed after its commit is never redone, but be exact
                self.con.execute("DELETE FROM metrics WHERE run_id = ? AND instrument = ?", [run_id, inst])
            self._insert_new_metrics()
            self.con.execute("UPDATE chunks SET predictions = NULL WHERE run_id = ?", [run_id])
            self.con.execute("UPDATE runs SET status = 'done', finished_at = ? WHERE run_id = ?", [_now(), run_id])
        self._write_with(batch, fn)

    def runs(self) -> list[dict]:
        """Every runs row as a dict of its columns, with ``config`` (the parsed config_json) added and
        init_seeds / data_seeds parsed back to lists."""
        rel = self.con.execute("SELECT * FROM runs ORDER BY started_at, run_id")
        names = [d[0] for d in rel.description]
        out = []
        for row in rel.fetchall():
            r = dict(zip(names, row))
            r["config"] = json.loads(r["config_json"])
            r["init_seeds"], r["data_seeds"] = json.loads(r["init_seeds"]), json.loads(r["data_seeds"])
            out.append(r)
        return out

    # -- verdicts ------------------------------------------------------------------------------
    def replace_verdicts(self, claim: str, rows: list[dict], scale: str = UNKNOWN_SCALE,
                         overrides: dict | None = None) -> None:
        """Replace one claim's verdict rows *of one verdict set* (its scale and overrides: a re-run
        supersedes the last one made the same way, and leaves every other scale's and override set's),
        in one transaction. NaN statistics are stored as NULL: "no value", as in a claim's
        overall-verdict row."""
        now, key, text = _now(), overrides_key(overrides), _overrides_json(overrides)
        values = [[claim, r["condition"], r["statistic"], _num(r["value"]), _num(r["ci_low"]), _num(r["ci_high"]),
                   r["verdict"], json.dumps(list(r["run_ids"])), r["version"], now, scale, key, text] for r in rows]

        def fn():
            self.con.execute("DELETE FROM verdicts WHERE claim = ? AND scale = ? AND overrides_hash = ?",
                             [claim, scale, key])
            for v in values:  # a claim has a handful of rows; metrics are the bulk path
                self.con.execute("INSERT INTO verdicts (claim, condition, statistic, value, ci_low, ci_high, verdict, "
                                 "run_ids, version, created_at, scale, overrides_hash, overrides) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", v)
        self._write(fn)

    def _verdicts_table(self) -> str:
        """The verdicts table as SQL, with its set columns even in a store of an older schema opened
        read-only (which is read as it is, never upgraded)."""
        if self.schema in ("1", "2"):
            return (f"(SELECT *, rowid, '{UNKNOWN_SCALE}' AS scale, '{overrides_key({})}' AS overrides_hash, "
                    "'{}' AS overrides FROM verdicts)")
        return "verdicts"

    def verdicts(self, claim: str | None = None, scale: str | None = None,
                 overrides_hash: str | None = None) -> list[dict]:
        """Verdict rows (all, or those of one claim, scale or override set), in insertion order within
        each claim and set; run_ids and overrides parsed back, NULL statistics as None."""
        where = {k: v for k, v in (("claim", claim), ("scale", scale), ("overrides_hash", overrides_hash))
                 if v is not None}
        cond = (" WHERE " + " AND ".join(f"{k} = ?" for k in where)) if where else ""
        rel = self.con.execute(f"SELECT {', '.join(VERDICT_COLUMNS)} FROM {self._verdicts_table()}{cond} "
                               f"ORDER BY {_EXPORT_ORDER['verdicts']}", list(where.values()))
        out = [dict(zip(VERDICT_COLUMNS, row)) for row in rel.fetchall()]
        for r in out:
            r["run_ids"] = json.loads(r["run_ids"])
            r["overrides"] = json.loads(r["overrides"])
        return out

    def verdict_sets(self) -> list[dict]:
        """Every verdict set the store holds, newest first: dicts of scale, overrides_hash, overrides
        (parsed), claims (sorted ids) and created_at (its newest row's)."""
        rows = self.con.execute(
            f"SELECT scale, overrides_hash, any_value(overrides), list(DISTINCT claim ORDER BY claim), "
            f"max(created_at) FROM {self._verdicts_table()} GROUP BY scale, overrides_hash "
            "ORDER BY max(created_at) DESC, scale, overrides_hash").fetchall()
        return [dict(scale=s, overrides_hash=h, overrides=json.loads(o), claims=list(c), created_at=t)
                for s, h, o, c, t in rows]

    # -- export --------------------------------------------------------------------------------
    def export(self, out_dir: str | os.PathLike, fmt: str = "csv", force: bool = False) -> list[Path]:
        """Write runs, metrics and verdicts as ``out_dir/<table>.<fmt>`` with DuckDB's own CSV and
        Parquet writers (no pandas or pyarrow). Files of those names already there are the user's:
        refused, all checked before any is written, unless ``force``."""
        if fmt not in ("csv", "parquet"):
            raise ConfigError("format", "csv, parquet", fmt)
        out = Path(out_dir)
        check_export(out, fmt, force)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"export folder {out}: {e.strerror or e}") from None
        opts = "(FORMAT parquet)" if fmt == "parquet" else "(FORMAT csv, HEADER)"
        paths = []
        for table in TABLES:
            p = out / f"{table}.{fmt}"
            try:
                source = f"SELECT * FROM {table}" if table != "verdicts" else \
                    f"SELECT {', '.join(VERDICT_COLUMNS)} FROM {self._verdicts_table()}"
                self.con.execute(f"COPY ({source} ORDER BY {_EXPORT_ORDER[table]}) TO '{_sql_str(p)}' {opts}")
            except duckdb.Error as e:
                raise StoreError(f"export {p}: {str(e).splitlines()[0]}") from None
            paths.append(p)
        return paths


def export_paths(out: Path, fmt: str) -> list[Path]:
    return [out / f"{table}.{fmt}" for table in TABLES]


def check_export(out: Path, fmt: str, force: bool = False) -> None:
    """Refuse an export folder that cannot take the files, or that holds files of their names
    (unless ``force``): before anything is written, so a refused export changes nothing."""
    if out.exists() and not out.is_dir():
        raise ConfigError("--out", "a folder (new or existing)", f"{out} (a file)")
    if not force:
        there = [p.name for p in export_paths(out, fmt) if p.exists()]
        if there:
            raise ConfigError("--out", "a folder without runs/metrics/verdicts files, or --force to replace them",
                              f"{out} (holds {', '.join(there)})")
    parent = out if out.exists() else next((a for a in out.parents if a.exists()), Path("."))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError("--out", "a folder this user can write to", f"{out} ({parent} is not writable)")


def _metric_batch(run_id: str, metrics: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Checked columns (see ``Store.finish_run``), ready for DuckDB's bulk scan."""
    missing = [c for c in METRIC_COLUMNS if c not in metrics]
    if missing:
        raise ValueError(f"metrics lacks columns {missing}")
    lengths = {c: len(metrics[c]) for c in METRIC_COLUMNS}
    if len(set(lengths.values())) != 1:
        # checked here: DuckDB's error for unequal columns talks about "replacement scans"
        raise ValueError(f"metrics columns differ in length: {lengths}")
    n = lengths["seed"]
    # ints stay int64 so DuckDB's cast to INTEGER rejects overflow instead of numpy wrapping it;
    # strings go in as object arrays (numpy '<U' arrays are scanned as ENUMs, twice as slow)
    return {"run_id": np.full(n, run_id, dtype=object),
            "seed": np.asarray(metrics["seed"], dtype=np.int64),
            "step": np.asarray(metrics["step"], dtype=np.int64),
            "instrument": np.asarray(metrics["instrument"], dtype=object),
            "feature": np.asarray(metrics["feature"], dtype=object),
            "value": np.asarray(metrics["value"], dtype=np.float64)}


def _num(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if x != x else x


def _sql_str(p: Path) -> str:
    # COPY ... TO takes no bound parameter for the file name, so quote it as an SQL string literal
    return str(p).replace("'", "''")
