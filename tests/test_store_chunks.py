"""The store's side of sweeps: chunked runs, their atomic checkpoints, and the schema upgrade."""

import duckdb
import numpy as np
import pytest

from greedlab import store as store_mod
from greedlab.errors import StoreError
from greedlab.store import Store


def _metrics(lo, hi, value=1.0, steps=3):
    seeds = np.repeat(np.arange(lo, hi), steps)
    n = len(seeds)
    return {"seed": seeds, "step": np.tile(np.arange(steps), hi - lo),
            "instrument": np.full(n, "train_acc", dtype=object), "feature": np.full(n, "", dtype=object),
            "value": np.full(n, value)}


def _rows(st, table):
    return st.con.execute(f"select * from {table} order by all").fetchall()


def test_a_chunked_run_is_stored_chunk_by_chunk(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        b = st.begin_chunked_run("r", {"a": 1}, [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], "v", [(0, 2), (2, 4), (4, 5)])
        assert b == [(0, 2), (2, 4), (4, 5)] and st.run_status("r") == "running"
        assert [c["status"] for c in st.chunks("r")] == ["pending"] * 3
        assert st.finish_chunk("r", 2, 4, _metrics(2, 4), b"p2")
        # a restart asking for another chunk size keeps the stored boundaries and the finished chunk
        assert st.begin_chunked_run("r", {"a": 1}, [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], "v", [(0, 5)]) == b
        assert [c["status"] for c in st.chunks("r")] == ["pending", "done", "pending"]
        # the same result delivered twice (a retried task) is stored once
        assert not st.finish_chunk("r", 2, 4, _metrics(2, 4, value=7.0), b"again")
        assert st.con.execute("select count(*), max(value) from metrics").fetchone() == (6, 1.0)
        with pytest.raises(ValueError, match="chunks not done"):
            st.finish_chunked_run("r", _metrics(0, 5))
        with pytest.raises(ValueError, match="no such chunk"):
            st.finish_chunk("r", 0, 3, _metrics(0, 3), b"")
        with pytest.raises(ValueError, match="outside the chunk"):
            st.finish_chunk("r", 0, 2, _metrics(0, 3), b"")
        st.finish_chunk("r", 4, 5, _metrics(4, 5), b"p4")
        st.finish_chunk("r", 0, 2, _metrics(0, 2), b"p0")
        assert st.chunk_predictions("r") == [b"p0", b"p2", b"p4"]
        wide = _metrics(0, 5, value=0.5)
        wide["instrument"][:] = "disagreement"
        st.finish_chunked_run("r", wide)
        assert st.run_status("r") == "done" and st.chunk_predictions("r") == [None] * 3
        got = st.load_metrics("r")
        assert len(got["seed"]) == 30 and sorted(set(got["seed"].tolist())) == [0, 1, 2, 3, 4]
        dup = st.con.execute("select count(*) from (select run_id, seed, step, instrument, feature, count(*) c "
                             "from metrics group by all having c > 1)").fetchone()[0]
        assert dup == 0


def test_bad_chunk_bounds_are_refused(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        for bad in ([(0, 2)], [(0, 2), (3, 5)], [(0, 3), (2, 5)], [], [(1, 5)]):
            with pytest.raises(ValueError, match="tile"):
                st.begin_chunked_run("r", {}, [0] * 5, [1] * 5, "v", bad)
        assert st.run_status("r") is None


def test_a_failed_chunk_write_leaves_nothing(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_chunked_run("r", {}, [0, 1], [2, 3], "v", [(0, 1), (1, 2)])
        st.finish_chunk("r", 0, 1, _metrics(0, 1), b"p")
        before = (_rows(st, "metrics"), _rows(st, "chunks"))
        bad = _metrics(1, 2)
        bad["step"][-1] = 2 ** 40  # does not fit INTEGER: fails inside the transaction
        with pytest.raises(StoreError, match="rolled back"):
            st.finish_chunk("r", 1, 2, bad, b"q")
        assert (_rows(st, "metrics"), _rows(st, "chunks")) == before


def test_an_unchunked_restart_replaces_a_chunked_attempt(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_chunked_run("r", {}, [0, 1], [2, 3], "v", [(0, 1), (1, 2)])
        st.finish_chunk("r", 0, 1, _metrics(0, 1), b"p")
        st.begin_run("r", {}, [0, 1], [2, 3], "v")
        assert st.chunks("r") == [] and st.load_metrics("r")["seed"].size == 0


def _schema1_store(path):
    con = duckdb.connect(str(path))
    con.execute(store_mod._SCHEMA)
    for col in ("scale", "overrides_hash", "overrides"):  # schema 1 had no verdict sets
        con.execute(f"alter table verdicts drop column {col}")
    con.execute("alter table runs drop column timings")  # nor the runs' timings (schema 4)
    con.execute("insert into greedlab_meta values ('schema', '1')")
    con.execute("insert into runs values ('old', '{}', '[0]', '[1]', 'done', now(), now(), '0.1.0')")
    con.execute("insert into metrics values ('old', 0, 0, 'train_acc', '', 0.75)")
    con.close()


def test_a_schema_1_store_is_read_as_it_is_and_upgraded_when_written(tmp_path):
    path = tmp_path / "old.duckdb"
    _schema1_store(path)
    before = path.read_bytes()
    with Store(path, read_only=True) as st:
        assert st.run_status("old") == "done" and st.chunks("old") == []
        assert st.load_metrics("old")["value"].tolist() == [0.75]
    assert path.read_bytes() == before
    with Store(path) as st:
        assert st.schema == store_mod.SCHEMA_VERSION
        assert st.load_metrics("old")["value"].tolist() == [0.75]
        st.begin_chunked_run("new", {}, [0], [1], "v", [(0, 1)])
        assert st.run_timings() == {}  # the old run kept no timings; a new one does
        st.begin_run("timed", {}, [0], [1], "v")
        st.finish_run("timed", {"seed": np.array([0]), "step": np.array([0]), "instrument": np.array(["a"]),
                                "feature": np.array([""]), "value": np.array([1.0])}, timings={"training": 2.5})
        assert st.run_timings() == {"timed": {"training": 2.5}}
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("select value from greedlab_meta where key = 'schema'").fetchone() == (store_mod.SCHEMA_VERSION,)
    assert con.execute("select count(*) from chunks").fetchone() == (1,)
    con.close()
