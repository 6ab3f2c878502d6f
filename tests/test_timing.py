import time

from greedlab import timing


def test_nested_phases_are_exclusive():
    before = timing.snapshot()
    with timing.phase("training"):
        time.sleep(0.05)
        with timing.phase("evaluation"):
            time.sleep(0.1)
            with timing.phase("probes"):
                time.sleep(0.05)
    got = timing.since(before)
    assert 0.045 < got["training"] < 0.09
    assert 0.095 < got["evaluation"] < 0.14
    assert 0.045 < got["probes"] < 0.09
    assert timing.since(timing.snapshot()) == {}


def test_add_sums_breakdowns():
    assert timing.add({"training": 1.0}, {"training": 2.0, "llc": 3.0}) == {"training": 3.0, "llc": 3.0}
