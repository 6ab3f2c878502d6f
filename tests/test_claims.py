"""Every claim reads like its row of docs/CLAIMS.md (each claim's statistics: tests/test_claims_*.py)."""

from greedlab.claims import REGISTRY


def test_every_claim_reads_like_its_row():
    for cid, mod in REGISTRY.items():
        assert mod.ID == cid and mod.SUMMARY and mod.QUOTE and mod.SOURCE and mod.__doc__
        assert callable(mod.conditions) and callable(mod.analyse) and callable(mod.figures)
