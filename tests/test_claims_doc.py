"""docs/CLAIMS.md and the registry list the same claims, and the doc states both controls for each."""

import re
from pathlib import Path

from greedlab.claims import MODULES

DOC = Path(__file__).resolve().parents[1] / "docs" / "CLAIMS.md"


def test_the_doc_and_the_registry_list_the_same_ids_with_two_controls_each():
    rows = [line for line in DOC.read_text().splitlines() if re.match(r"^\| [A-Z]\d*\d? \|", line)]
    ids = [r.split("|")[1].strip() for r in rows]
    assert sorted(ids) == sorted(MODULES) and len(ids) == len(set(ids))
    for r in rows:
        cells = [c.strip() for c in r.strip("|").split("|")]
        assert len(cells) == 5 and all(cells), r  # claim, statistic, negative and positive control
