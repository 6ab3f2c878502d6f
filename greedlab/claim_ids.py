"""The claim ids and scale names, and what ``greedlab list`` shows, without importing a claim.

Importing ``greedlab.claims`` loads torch (seconds on a laptop); a mistyped ``--claim`` or ``--scale``
should be refused before that. The tests check these against ``REGISTRY`` and ``SCALES``.
"""

import ast
from pathlib import Path

CLAIM_IDS = ("G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9", "G10", "H1", "H2", "H3", "H4", "H5", "H6", "H7",
             "X1", "X2", "R", "A1")
SCALE_NAMES = ("smoke", "quick", "full")


def describe() -> list[dict]:
    """id, summary and extras ({package: extra}) of every claim, in CLAIM_IDS order, read from the
    claim modules' source (literal ``ID``, ``SUMMARY``, ``EXTRAS``); by importing them only if a
    module spells one of those some other way."""
    found = {}
    for path in sorted((Path(__file__).parent / "claims").glob("*.py")):
        consts = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and node.targets[0].id in ("ID", "SUMMARY", "EXTRAS"):
                try:
                    consts[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    consts[node.targets[0].id] = None
        if consts.get("ID") in CLAIM_IDS:
            found[consts["ID"]] = dict(id=consts["ID"], summary=consts.get("SUMMARY"), extras=consts.get("EXTRAS", {}))
    if set(found) != set(CLAIM_IDS) or any(d["summary"] is None or d["extras"] is None for d in found.values()):
        from greedlab.claims import REGISTRY

        return [dict(id=c, summary=m.SUMMARY, extras=getattr(m, "EXTRAS", {})) for c, m in REGISTRY.items()]
    return [found[c] for c in CLAIM_IDS]
