import shutil
import subprocess
import sys
import time

import duckdb
import numpy as np
import pytest

from greedlab.errors import ConfigError, StoreError
from greedlab.store import SCHEMA_VERSION, Store, overrides_key

COLS = ["seed", "step", "instrument", "feature", "value"]


def _metrics(n=6, value=1.0):
    return {"seed": np.arange(n) % 2, "step": np.arange(n), "instrument": np.array(["reliance"] * n, dtype=object),
            "feature": np.array(["target"] * n, dtype=object), "value": np.full(n, value)}


def _verdict(**kw):
    return dict(dict(condition="c", statistic="s", value=0.5, ci_low=0.1, ci_high=0.9, verdict="supported",
                     run_ids=["r1"], version="v"), **kw)


def _count(st, table, run_id=None):
    where = "" if run_id is None else f" where run_id = '{run_id}'"
    return st.con.execute(f"select count(*) from {table}{where}").fetchone()[0]


def _snapshot(st):
    """Everything stored, for before/after comparisons."""
    return {t: st.con.execute(f"select * from {t} order by all").fetchall() for t in ("runs", "metrics", "verdicts")}


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    n = 40
    m = {"seed": rng.integers(0, 4, n), "step": rng.integers(0, 1000, n),
         "instrument": rng.choice(np.array(["reliance", "decodability"], dtype=object), n),
         "feature": rng.choice(np.array(["proxy", "target", "weird 'quote"], dtype=object), n),
         "value": rng.normal(size=n)}
    m["value"][[3, 7]] = [np.nan, np.inf]
    with Store(tmp_path / "s.duckdb") as st:
        assert st.run_status("r1") is None
        st.begin_run("r1", {"a": 1, "b": {"c": [1, 2]}}, [0, 1], [10, 11], "0.1.0")
        assert st.run_status("r1") == "running"
        st.finish_run("r1", m)
        assert st.run_status("r1") == "done"
        st.replace_verdicts("G1", [_verdict(run_ids=["r1", "r2"], ci_high=float("nan"))])
    with Store(tmp_path / "s.duckdb", read_only=True) as st:  # reopened: it was committed to the file
        got = st.load_metrics("r1")
        assert list(got) == COLS
        order = np.lexsort((m["step"], m["seed"], m["feature"].astype(str), m["instrument"].astype(str)))
        for c in COLS:
            want = m[c][order]
            if c == "value":
                np.testing.assert_array_equal(got[c], want)  # NaN and inf come back as stored
                assert got[c].dtype == np.float64 and not np.ma.isMaskedArray(got[c])
            else:
                assert got[c].tolist() == want.tolist(), c
        assert st.load_metrics("nope")["value"].shape == (0,)
        (r,) = st.runs()
        assert r["config"] == {"a": 1, "b": {"c": [1, 2]}} and r["init_seeds"] == [0, 1]
        assert r["data_seeds"] == [10, 11] and r["version"] == "0.1.0" and r["status"] == "done"
        assert r["started_at"] <= r["finished_at"]
        (v,) = st.verdicts("G1")
        assert v["run_ids"] == ["r1", "r2"] and v["value"] == 0.5 and v["ci_high"] is None
        assert v["verdict"] == "supported" and v["created_at"] is not None


def test_restarting_a_killed_run_leaves_no_duplicates(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("other", {}, [0], [1], "v")
        st.finish_run("other", _metrics(4))
        st.begin_run("r1", {"x": 1}, [0], [1], "v")
        st.finish_run("r1", _metrics())
        # a killed second attempt: begun again, partial rows written, never finished
        st.begin_run("r1", {"x": 1}, [0], [1], "v")
        st.con.execute("insert into metrics values ('r1', 0, 0, 'x', 'y', 1.0), ('r1', 1, 0, 'x', 'y', 1.0)")
    with Store(tmp_path / "s.duckdb") as st:
        assert st.run_status("r1") == "running"
        st.begin_run("r1", {"x": 2}, [0], [1], "v2")
        assert _count(st, "metrics", "r1") == 0 and _count(st, "runs") == 2
        (r,) = [r for r in st.runs() if r["run_id"] == "r1"]
        assert r["status"] == "running" and r["finished_at"] is None and r["config"] == {"x": 2}
        assert r["version"] == "v2"
        st.finish_run("r1", _metrics())
        assert _count(st, "metrics", "r1") == 6 and _count(st, "metrics", "other") == 4


def test_finish_run_is_atomic(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {}, [0], [1], "v")
        st.finish_run("r1", _metrics(value=2.0))
        before = _snapshot(st)
        bad = _metrics()
        bad["value"] = bad["value"][:3]
        with pytest.raises(ValueError, match="length"):
            st.finish_run("r1", bad)
        assert _snapshot(st) == before
        # a failure inside the transaction, after the old rows were deleted: a step that does not fit INTEGER
        bad = _metrics()
        bad["step"][-1] = 2**40
        with pytest.raises(StoreError, match="rolled back"):
            st.finish_run("r1", bad)
        assert _snapshot(st) == before
        st.begin_run("r2", {}, [0], [1], "v")
        with pytest.raises(StoreError):
            st.finish_run("r2", bad)
        assert st.run_status("r2") == "running" and _count(st, "metrics", "r2") == 0
        with pytest.raises(ValueError, match="begin_run"):
            st.finish_run("never-begun", _metrics())
        st.finish_run("r1", _metrics(value=3.0))  # the connection is usable after the rollback
        assert st.load_metrics("r1")["value"].tolist() == [3.0] * 6


def test_interrupted_write_rolls_back(tmp_path):
    """Ctrl-C (or any Python error) between a write's statements leaves the old state."""
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {}, [0], [1], "v")
        st.finish_run("r1", _metrics())
        before = _snapshot(st)

        def half_a_write():
            st.con.execute("DELETE FROM metrics")
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            st._write(half_a_write)
        assert _snapshot(st) == before


def test_finish_run_after_a_pending_result(tmp_path):
    """duckdb 2.0 refuses register() while a result of execute() is unread; the store copes."""
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {}, [0], [1], "v")
        st.con.execute("select * from runs")  # left unread, as a caller poking at st.con might
        st.finish_run("r1", _metrics())
        assert st.run_status("r1") == "done"
        st.begin_run("r2", {}, [0], [1], "v")
        assert st.run_status("r2") == "running"  # a read of our own, straight before the bulk insert
        st.finish_run("r2", _metrics())
        assert _count(st, "metrics") == 12


def test_writes_to_a_read_only_store_fail_cleanly(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {}, [0], [1], "v")
        st.finish_run("r1", _metrics())
        before = _snapshot(st)
    with Store(tmp_path / "s.duckdb", read_only=True) as st:
        with pytest.raises(StoreError, match="s.duckdb"):
            st.begin_run("r1", {}, [0], [1], "v")
        with pytest.raises(StoreError):
            st.replace_verdicts("G1", [_verdict()])
        assert _snapshot(st) == before


def test_bulk_insert_is_fast(tmp_path):
    n = 200_000  # a row-by-row insert takes minutes here; the bulk scan well under a second
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {}, [0], [1], "v")
        t = time.perf_counter()
        st.finish_run("r1", _metrics(n))
        assert time.perf_counter() - t < 3.0
        assert _count(st, "metrics") == n


def test_corrupt_file_is_refused_and_untouched(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(np.random.default_rng(0).bytes(5000))
    before = _files(tmp_path)
    for read_only in (False, True):
        with pytest.raises(StoreError, match="not a greedlab results store") as e:
            Store(bad, read_only=read_only)
        assert str(bad) in str(e.value)
        assert _files(tmp_path) == before  # same bytes, and no .wal or other file left beside it
    (tmp_path / "empty.duckdb").touch()
    with pytest.raises(StoreError, match="not a greedlab results store"):
        Store(tmp_path / "empty.duckdb")
    assert (tmp_path / "empty.duckdb").read_bytes() == b""


def test_foreign_duckdb_file_is_refused_and_untouched(tmp_path):
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("create table foo(x int)")
    con.close()
    # and a second one whose last write is still in its .wal: a read-write open would fold it into the file
    pending = tmp_path / "pending.duckdb"
    con = duckdb.connect(str(pending))
    con.execute("create table foo(x int)")
    con.execute("set checkpoint_threshold = '1TB'")
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("insert into foo values (1)")
    con.close()
    assert (tmp_path / "pending.duckdb.wal").exists()
    before = _files(tmp_path)
    for path in (foreign, pending):
        for read_only in (False, True):
            with pytest.raises(StoreError, match="not a greedlab results store") as e:
                Store(path, read_only=read_only)
            assert str(path) in str(e.value)
    assert _files(tmp_path) == before


def test_newer_schema_is_refused(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        st.con.execute("update greedlab_meta set value = '99' where key = 'schema'")
    before = _files(tmp_path)
    with pytest.raises(StoreError, match="schema 99"):
        Store(tmp_path / "s.duckdb")
    assert _files(tmp_path) == before


def test_empty_duckdb_file_becomes_a_store(tmp_path):
    """An empty DuckDB database (e.g. a creation killed before its schema committed) is not foreign."""
    duckdb.connect(str(tmp_path / "s.duckdb")).close()
    with pytest.raises(StoreError, match="empty DuckDB"):
        Store(tmp_path / "s.duckdb", read_only=True)
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {}, [0], [1], "v")
    with Store(tmp_path / "s.duckdb", read_only=True) as st:
        assert st.run_status("r1") == "running"


def test_bad_paths(tmp_path):
    with pytest.raises(StoreError, match="does not exist") as e:
        Store(tmp_path / "nope" / "s.duckdb")
    assert str(tmp_path / "nope") in str(e.value)
    assert not (tmp_path / "nope").exists()
    with pytest.raises(StoreError, match="no such file"):
        Store(tmp_path / "s.duckdb", read_only=True)
    assert not (tmp_path / "s.duckdb").exists()
    (tmp_path / "d").mkdir()
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path / "d")


def test_store_in_use_by_another_process(tmp_path):
    path = tmp_path / "s.duckdb"
    Store(path).close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); sys.stdin.read()", str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match="in use by another process"):
            Store(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=20)


def test_verdicts_are_replaced_per_claim(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        st.replace_verdicts("G1", [_verdict(condition="a"), _verdict(condition="b")])
        st.replace_verdicts("G2", [_verdict(), _verdict(condition="z")])
        st.replace_verdicts("G1", [_verdict(verdict="refuted")])
        v = st.verdicts()
        assert [(r["claim"], r["condition"], r["verdict"]) for r in v] == [
            ("G1", "c", "refuted"), ("G2", "c", "supported"), ("G2", "z", "supported")]
        assert [r["condition"] for r in st.verdicts("G2")] == ["c", "z"]
        assert st.verdicts("G3") == []
        st.replace_verdicts("G2", [])
        assert [r["claim"] for r in st.verdicts()] == ["G1"]
        with pytest.raises(KeyError):  # a malformed row: nothing of the claim's old rows is lost
            st.replace_verdicts("G1", [{"condition": "x"}])
        assert [r["verdict"] for r in st.verdicts("G1")] == ["refuted"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_tables(tmp_path, fmt):
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {"a": "b"}, [0], [1], "v")
        st.finish_run("r1", _metrics())
        st.begin_run("r2", {}, [0], [1], "v")
        st.replace_verdicts("G1", [_verdict(), _verdict()])
        st.export(tmp_path / "out", fmt)
        with pytest.raises(ConfigError, match="--force"):  # the first export's files are the user's now
            st.export(tmp_path / "out", fmt)
        paths = st.export(tmp_path / "out", fmt, force=True)
    assert [p.name for p in paths] == [f"runs.{fmt}", f"metrics.{fmt}", f"verdicts.{fmt}"]
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    con = duckdb.connect()
    want = {"runs": (["run_id", "config_json", "init_seeds", "data_seeds", "status", "started_at", "finished_at",
                      "version", "timings"], 2),
            "metrics": (["run_id", "seed", "step", "instrument", "feature", "value"], 6),
            "verdicts": (["claim", "scale", "overrides_hash", "overrides", "condition", "statistic", "value",
                          "ci_low", "ci_high", "verdict", "run_ids", "version", "created_at"], 2)}
    for p in paths:
        rel = con.execute(f"select * from {reader}('{p}')")
        assert [d[0] for d in rel.description] == want[p.stem][0]
        assert len(rel.fetchall()) == want[p.stem][1]
    metrics_file = tmp_path / "out" / f"metrics.{fmt}"
    assert con.execute(f"select sum(value) from {reader}('{metrics_file}')").fetchone() == (6.0,)


def test_export_errors(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        with pytest.raises(ConfigError, match="format") as e:
            st.export(tmp_path / "out", "xlsx")
        assert e.value.field == "format" and e.value.got == "xlsx"
        assert not (tmp_path / "out").exists()
        (tmp_path / "file").write_text("x")
        with pytest.raises(ConfigError, match="file"):
            st.export(tmp_path / "file", "csv")
        (tmp_path / "mine").mkdir()
        (tmp_path / "mine" / "metrics.csv").write_text("a user's own file")
        with pytest.raises(ConfigError, match="metrics.csv"):
            st.export(tmp_path / "mine", "csv")
        # checked before anything is written: not even the runs table, which comes first
        assert _files(tmp_path / "mine") == {"metrics.csv": b"a user's own file"}


def test_verdict_sets_are_kept_apart(tmp_path):
    """A smoke run's verdicts never replace a quick run's, nor a --set run's the defaults'."""
    with Store(tmp_path / "s.duckdb") as st:
        st.replace_verdicts("G1", [_verdict(verdict="refuted")], scale="quick")
        st.replace_verdicts("G1", [_verdict(), _verdict(condition="d")], scale="smoke")
        wide = {"model": {"width": 128}}
        st.replace_verdicts("G1", [_verdict(verdict="inconclusive")], scale="quick", overrides=wide)
        st.replace_verdicts("G1", [_verdict(condition="again")], scale="smoke")  # same set: replaced
        assert [r["verdict"] for r in st.verdicts("G1", scale="quick")] == ["refuted", "inconclusive"]
        assert [r["condition"] for r in st.verdicts("G1", scale="smoke")] == ["again"]
        (w,) = st.verdicts(overrides_hash=overrides_key(wide))
        assert w["overrides"] == wide and w["scale"] == "quick" and w["verdict"] == "inconclusive"
        sets = st.verdict_sets()
        assert [(s["scale"], s["overrides"]) for s in sets] == [("smoke", {}), ("quick", wide), ("quick", {})]
        assert sets[0]["claims"] == ["G1"] and sets[0]["created_at"] >= sets[1]["created_at"]
    assert overrides_key({"a": 1, "b": 2}) == overrides_key({"b": 2, "a": 1}) != overrides_key({})


def _schema_2_store(path):
    """A store as greedlab wrote it before verdicts had a scale (schema 2), with one verdict."""
    con = duckdb.connect(str(path))
    con.execute("""
        CREATE TABLE greedlab_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
        CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, config_json VARCHAR, init_seeds VARCHAR, data_seeds VARCHAR,
                           status VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, version VARCHAR);
        CREATE TABLE metrics (run_id VARCHAR, seed INTEGER, step INTEGER, instrument VARCHAR, feature VARCHAR,
                              value DOUBLE);
        CREATE TABLE verdicts (claim VARCHAR, condition VARCHAR, statistic VARCHAR, value DOUBLE, ci_low DOUBLE,
                               ci_high DOUBLE, verdict VARCHAR, run_ids VARCHAR, version VARCHAR, created_at TIMESTAMP);
        CREATE TABLE chunks (run_id VARCHAR, lo INTEGER, hi INTEGER, status VARCHAR, finished_at TIMESTAMP,
                             predictions BLOB, PRIMARY KEY (run_id, lo));
        INSERT INTO greedlab_meta VALUES ('schema', '2');
        INSERT INTO verdicts VALUES ('G1', 'overall', 'verdict', NULL, NULL, NULL, 'supported', '["r1"]', '0.1.0',
                                     TIMESTAMP '2024-01-01 00:00:00');
    """)
    con.close()


def test_old_verdicts_survive_the_upgrade_as_scale_unknown(tmp_path):
    path = tmp_path / "old.duckdb"
    _schema_2_store(path)
    before = _files(tmp_path)
    with Store(path, read_only=True) as st:  # read as it is: the file is not upgraded
        (v,) = st.verdicts()
        assert v["scale"] == "unknown" and v["overrides"] == {} and v["verdict"] == "supported"
        assert [s["scale"] for s in st.verdict_sets()] == ["unknown"]
        st.export(tmp_path / "x", "csv")
        assert "scale,overrides_hash,overrides" in (tmp_path / "x" / "verdicts.csv").read_text()
    shutil.rmtree(tmp_path / "x")
    assert _files(tmp_path) == before
    with Store(path) as st:  # opened for writing: upgraded in place, the old row kept
        assert st.schema == SCHEMA_VERSION
        st.replace_verdicts("G1", [_verdict()], scale="quick")
        assert [(r["scale"], r["overrides_hash"], r["verdict"]) for r in st.verdicts("G1")] == [
            ("quick", overrides_key({}), "supported"), ("unknown", overrides_key({}), "supported")]
    with Store(path, read_only=True) as st:
        assert st.con.execute("select value from greedlab_meta where key = 'schema'").fetchone() == (SCHEMA_VERSION,)
        assert len(st.verdicts(scale="unknown")) == 1
