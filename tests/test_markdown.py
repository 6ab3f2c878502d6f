"""Results Markdown is generated from a store, never typed: the numbers in it are the store's."""

from greedlab.report.markdown import code_version, commit_in, parse_previous, plan_hash, results_markdown
from pathlib import Path

from greedlab.store import Store

ROOT = Path(__file__).resolve().parents[1]


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


def test_a_section_is_stamped_with_the_commit_that_computed_it_not_the_one_that_prints_it(tmp_path):
    assert code_version("0.1.0", "ecbfa7c32f1b") == "0.1.0+ecbfa7c32f1b" and code_version("0.1.0", "unknown") == "0.1.0"
    assert commit_in(code_version("0.1.0", "abc+dirty")) == "abc+dirty" and commit_in("0.1.0") is None
    with Store(tmp_path / "g.duckdb") as st:
        st.replace_verdicts("G1", [dict(r, version="0.1.0+made1234") for r in _rows(1.0)], scale="quick")
        st.replace_verdicts("H3", _rows(2.0), scale="quick")  # stored before verdicts kept their commit
        text = results_markdown(st, {"G1": "proxies first", "H3": "simplicity"}, scale="quick", commit="head999")
    g1, h3 = text.split("## G1")[1].split("## H3")
    assert "commit `made1234`" in g1 and "head999" not in g1
    assert "commit `head999`" in h3  # no commit stored: the checkout's, as before


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


PLANS = {"G1": {"a", "b"}, "H3": {"h"}}


def test_a_claim_the_store_lacks_keeps_its_earlier_section_and_stamp_while_its_plan_is_current(tmp_path):
    with Store(tmp_path / "old.duckdb") as st:
        st.replace_verdicts("G1", _rows(1.234), scale="quick")
        st.replace_verdicts("H3", [dict(r, run_ids=["h"] if r["run_ids"] else []) for r in _rows(7.0)], scale="quick")
        first = results_markdown(st, {"G1": "proxies first", "H3": "simplicity"}, scale="quick", commit="old1",
                                 plans=PLANS)
    with Store(tmp_path / "new.duckdb") as st:  # another machine's store: only G1, rerun
        st.replace_verdicts("G1", _rows(2.5), scale="quick")
        second = results_markdown(st, {"G1": "proxies first", "H3": "simplicity"}, scale="quick", commit="new2",
                                  plans=lambda scale, overrides: PLANS, previous=first)
        moved = results_markdown(st, {"G1": "proxies first", "H3": "simplicity"}, scale="quick", commit="new2",
                                 plans={"G1": {"a", "b"}, "H3": {"redesigned"}}, previous=first)
        smoke_prev = first.replace("scale **quick**", "scale **smoke**")
        other_scale = results_markdown(st, {"G1": "proxies first", "H3": "simplicity"}, scale="quick", commit="new2",
                                       plans=PLANS, previous=smoke_prev)
    assert "| rho=0.9 | lead | 2.5 |" in second and "1.23" not in second  # G1: the new store's numbers
    assert "| rho=0.9 | lead | 7 |" in second  # H3: carried, with its own stamp
    h3 = second.split("## H3")[1]
    assert "commit `old1`" in h3 and f"plan `{plan_hash({'h'})}`" in h3
    assert "commit `new2`" in second.split("## G1")[1].split("## H3")[0]
    assert "| H3 | simplicity | 1 ok | **supported** |" in second
    # the claim's design changed since: its old numbers are not shown, it is listed superseded
    assert "## H3" not in moved and "7.00" not in moved and "H3" in moved.split("Superseded")[1].splitlines()[0]
    # a document of another scale carries nothing
    assert "## H3" not in other_scale and "H3" in other_scale.split("not yet run")[1]
    # the document parses back into the sections it was written from
    scale, secs = parse_previous(second)
    assert scale == "quick" and set(secs) == {"G1", "H3"} and secs["H3"].commit == "old1"
    assert secs["G1"].verdict == "supported" and secs["G1"].controls == "1 ok"


def test_a_document_written_before_sections_had_stamps_is_carried_only_without_known_plans(tmp_path):
    legacy = ("# Results\n\nGenerated by `greedlab report --markdown` from a results store: scale **quick**, "
              "computed 2026-12-02 07:46 UTC, code at commit `96d27f4f0973`. Do not edit by hand.\n\n"
              "| claim | claim text | controls | verdict |\n|---|---|---|---|\n"
              "| H3 | simplicity \\| volume | 2 ok | **refuted** |\n\n## H3\n\nsimplicity\n\n"
              "| condition | statistic | value | 95% CI | verdict |\n|---|---|---|---|---|\n"
              "| a | b | 0.5 | [0.4, 0.6] | refuted |\n")
    scale, secs = parse_previous(legacy)
    assert scale == "quick" and secs["H3"].commit == "96d27f4f0973" and secs["H3"].plan == "not recorded"
    assert secs["H3"].verdict == "refuted" and secs["H3"].controls == "2 ok"
    with Store(tmp_path / "g.duckdb") as st:
        st.replace_verdicts("G1", _rows(2.5), scale="quick")
        unknown = results_markdown(st, {"G1": "proxies first", "H3": "simplicity"}, scale="quick", commit="c",
                                   previous=legacy)
        known = results_markdown(st, {"G1": "proxies first", "H3": "simplicity"}, scale="quick", commit="c",
                                 plans=PLANS, previous=legacy)
    assert "| a | b | 0.5 | [0.4, 0.6] | refuted |" in unknown and "plan not recorded" in unknown
    assert "## H3" not in known and "H3" in known.split("Superseded")[1].splitlines()[0]


def test_report_markdown_refreshes_the_claims_its_store_holds_and_carries_the_others(tmp_path):
    from typer.testing import CliRunner

    from greedlab.cli import _plan_ids, app

    g1 = sorted(_plan_ids("quick", {})["G1"])
    with Store(tmp_path / "g.duckdb") as st:
        st.replace_verdicts("G1", [dict(r, run_ids=g1[:1] if r["run_ids"] else []) for r in _rows(3.25)],
                            scale="quick")
    doc = tmp_path / "RESULTS.md"
    doc.write_text((ROOT / "docs" / "RESULTS.md").read_text(encoding="utf-8"), encoding="utf-8")
    before = parse_previous(doc.read_text(encoding="utf-8"))[1]
    res = CliRunner().invoke(app, ["report", "--store", str(tmp_path / "g.duckdb"), "--scale", "quick",
                                   "--report", str(tmp_path / "rep"), "--markdown", str(doc)])
    assert res.exit_code == 0, res.output
    after = parse_previous(doc.read_text(encoding="utf-8"))[1]
    assert "| rho=0.9 | lead | 3.25 |" in "\n".join(after["G1"].body)  # G1: this store's numbers
    plans = _plan_ids("quick", {})
    current = {c for c, s in before.items() if s.plan == plan_hash(plans[c])}
    # every other claim whose design is unchanged keeps its section and stamp; the others are listed superseded
    assert set(after) == current | {"G1"} and all(after[c] == before[c] for c in current if c != "G1")
    stale = sorted(set(before) - current - {"G1"})
    assert all(c in doc.read_text(encoding="utf-8").split("Superseded")[1].splitlines()[0] for c in stale)
