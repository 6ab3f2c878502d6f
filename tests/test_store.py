import duckdb
import numpy as np
import pytest

from greedlab.errors import ConfigError, StoreError
from greedlab.store import Store


def _metrics(n=6, value=1.0):
    return {"seed": np.arange(n) % 2, "step": np.arange(n), "instrument": np.array(["reliance"] * n, dtype=object),
            "feature": np.array(["target"] * n, dtype=object), "value": np.full(n, value)}


def _count(st, table):
    return st.con.execute(f"select count(*) from {table}").fetchone()[0]


def test_round_trip(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {"a": 1}, [0, 1], [10, 11], "0.1.0")
        assert st.run_status("r1") == "running"
        st.finish_run("r1", _metrics())
        assert st.run_status("r1") == "done"
    with Store(tmp_path / "s.duckdb", read_only=True) as st:
        m = st.load_metrics("r1")
        assert len(m["value"]) == 6 and set(m) == {"seed", "step", "instrument", "feature", "value"}
        assert st.runs()[0]["config"] == {"a": 1}


def test_restarting_a_killed_run_leaves_no_duplicates(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {}, [0], [1], "v")
        st.con.execute("insert into metrics values ('r1', 0, 0, 'x', 'y', 1.0)")  # partial rows of a killed run
        st.begin_run("r1", {}, [0], [1], "v")
        assert _count(st, "metrics") == 0 and _count(st, "runs") == 1
        st.finish_run("r1", _metrics())
        assert _count(st, "metrics") == 6


def test_finish_run_is_atomic(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {}, [0], [1], "v")
        st.finish_run("r1", _metrics(value=2.0))
        bad = _metrics()
        bad["value"] = bad["value"][:3]
        with pytest.raises(ValueError):
            st.finish_run("r1", bad)
        assert _count(st, "metrics") == 6 and st.run_status("r1") == "done"
        assert st.load_metrics("r1")["value"].tolist() == [2.0] * 6


def test_corrupt_and_foreign_files_are_refused_and_untouched(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(np.random.default_rng(0).bytes(5000))
    before = bad.read_bytes()
    with pytest.raises(StoreError, match="not a greedlab results store"):
        Store(bad)
    assert bad.read_bytes() == before
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("create table foo(x int)")
    con.close()
    before = foreign.read_bytes()
    with pytest.raises(StoreError, match="not a greedlab results store"):
        Store(foreign)
    assert foreign.read_bytes() == before


def test_missing_folder_and_missing_read_only_file(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "nope" / "s.duckdb")
    with pytest.raises(StoreError, match="no such file"):
        Store(tmp_path / "s.duckdb", read_only=True)
    assert not (tmp_path / "s.duckdb").exists()


def test_verdicts_are_replaced_per_claim(tmp_path):
    row = dict(condition="c", statistic="s", value=0.5, ci_low=0.1, ci_high=float("nan"), verdict="supported",
               run_ids=["r1"], version="v")
    with Store(tmp_path / "s.duckdb") as st:
        st.replace_verdicts("G1", [row, row])
        st.replace_verdicts("G2", [row])
        st.replace_verdicts("G1", [dict(row, verdict="refuted")])
        v = st.verdicts()
        assert [(r["claim"], r["verdict"]) for r in v] == [("G1", "refuted"), ("G2", "supported")]
        assert v[0]["ci_high"] is None


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_tables(tmp_path, fmt):
    with Store(tmp_path / "s.duckdb") as st:
        st.begin_run("r1", {}, [0], [1], "v")
        st.finish_run("r1", _metrics())
        paths = st.export(tmp_path / "out", fmt)
        assert [p.name for p in paths] == [f"runs.{fmt}", f"metrics.{fmt}", f"verdicts.{fmt}"]
        with pytest.raises(ConfigError, match="format"):
            st.export(tmp_path / "out", "xlsx")
    con = duckdb.connect()
    reader = "read_parquet" if fmt == "parquet" else "read_csv_auto"
    cols = [d[0] for d in con.execute(f"select * from {reader}('{tmp_path / 'out' / ('metrics.' + fmt)}')").description]
    assert cols == ["run_id", "seed", "step", "instrument", "feature", "value"]
    assert con.execute(f"select count(*) from {reader}('{tmp_path / 'out' / ('metrics.' + fmt)}')").fetchone()[0] == 6
