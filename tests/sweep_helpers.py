"""Shared by the sweep tests: a tiny grid and an exact snapshot of a store's tables."""

import duckdb

GRID = """
[sweep]
seeds = 4
chunk = 2

[model]
width = 16

[train]
steps = 30
n_evals = 4

[grid]
"world.rho" = [0.9, 0.97, 0.99]
"""
N_CHUNKS = 6


def write_grid(folder, text=GRID, name="grid.toml"):
    path = folder / name
    path.write_text(text)
    return path


def snapshot(path):
    """Every stored value that a sweep determines (timestamps left out), bit for bit: floats are
    compared as Python floats, NULL (a stored NaN) as None."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "runs": con.execute("select run_id, config_json, init_seeds, data_seeds, status, version from runs "
                                "order by run_id").fetchall(),
            "metrics": con.execute("select * from metrics order by all").fetchall(),
            "chunks": con.execute("select run_id, lo, hi, status, predictions from chunks order by all").fetchall(),
        }
    finally:
        con.close()
