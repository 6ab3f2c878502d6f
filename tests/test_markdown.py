"""Results Markdown is generated from a store, never typed: the numbers in it are the store's."""

from greedlab.report.markdown import results_markdown
from greedlab.store import Store


def _rows(v):
    return [dict(condition="rho=0.9", statistic="lead", value=v, ci_low=v - 0.1, ci_high=v + 0.1, verdict="supported",
                 run_ids=["a"], version="x"),
            dict(condition="control", statistic="peak", value=0.01, ci_low=0.0, ci_high=0.02, verdict="control ok",
                 run_ids=["b"], version="x"),
            dict(condition="overall", statistic="G1 text", value=float("nan"), ci_low=float("nan"),
                 ci_high=float("nan"), verdict="supported", run_ids=[], version="x")]


def test_the_document_holds_the_stored_numbers_of_the_newest_default_set(tmp_path):
    with Store(tmp_path / "g.duckdb") as st:
        st.replace_verdicts("G1", _rows(1.234), scale="quick")
        st.replace_verdicts("G1", _rows(9.876), scale="smoke")
        st.replace_verdicts("G1", _rows(5.555), scale="quick", overrides={"world": {"noise": 0.6}})
        quick = results_markdown(st, {"G1": "proxies first"}, scale="quick", commit="abc")
        smoke = results_markdown(st, {"G1": "proxies first"}, scale="smoke", commit="abc")
    assert "| rho=0.9 | lead | 1.23 | [1.13, 1.33] | supported |" in quick
    assert "5.55" not in quick and "9.88" not in quick  # one verdict set: the defaults' at that scale
    assert "| G1 | proxies first | 1 ok | **supported** |" in quick and "`abc`" in quick
    assert "not evidence" in smoke and "not evidence" not in quick


def test_a_verdict_that_read_runs_its_claim_no_longer_trains_is_listed_as_superseded(tmp_path):
    with Store(tmp_path / "g.duckdb") as st:
        st.replace_verdicts("G1", _rows(1.234), scale="quick")
        st.replace_verdicts("H3", [dict(r, run_ids=["old"] if r["run_ids"] else []) for r in _rows(7.0)], scale="quick")
        text = results_markdown(st, {"G1": "proxies first", "H3": "simplicity"}, scale="quick", commit="abc",
                                plans={"G1": {"a", "b"}, "H3": {"new"}})
        unchecked = results_markdown(st, {"G1": "proxies first", "H3": "simplicity"}, scale="quick", commit="abc")
    assert "Superseded" in text and "H3" in text.split("Superseded")[1].splitlines()[0]
    assert "7.00" not in text and "| H3 |" not in text  # the old design's numbers are not shown as results
    assert "| rho=0.9 | lead | 1.23 |" in text
    assert "| H3 | simplicity |" in unchecked  # without the plans nothing can be checked
