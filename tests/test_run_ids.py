"""The runs G3, G4 and H1 already had keep their ids when conditions are added beside them: a stored
result stays the result of its condition, and nothing trained before is trained again. Each digest
is of the sorted (label, run id) pairs of the conditions of the keys these claims had before the
training-set size axis reached H1 and G4 (G3's own axis included), taken from the code before. The
smoke digests moved once since, with the smoke scale itself (512 evaluation samples, 4 evaluations per
stage: every smoke run id changed); the quick ones never."""

import hashlib
from pathlib import Path

import pytest

from greedlab.claims import g3_gradient_starvation as g3, g4_path_dependence as g4, h1_regime_map as h1
from greedlab.claims.common import SCALES
from greedlab.claims.context import Context

OLD_KEYS = {g3: (g3.Key, g3.Regime), g4: (g4.Key,), h1: (h1.Cell,)}
DIGESTS = {("smoke", "G3"): "3f7f7e9dce060a6d", ("smoke", "G4"): "4eb9fb1c31eb20d4",
           ("smoke", "H1"): "10f2ca3ebde33262", ("quick", "G3"): "ade92d4ad87d2367",
           ("quick", "G4"): "7945319e9ccd814c", ("quick", "H1"): "86b5682daec33a62"}


@pytest.mark.parametrize("scale", ["smoke", "quick"])
@pytest.mark.parametrize("module", [g3, g4, h1], ids=lambda m: m.ID)
def test_existing_conditions_keep_their_run_ids(scale, module):
    specs = module.conditions(Context(SCALES[scale], Path("."), None))
    old = {k: s for k, s in specs.items() if type(k) in OLD_KEYS[module]}
    text = " ".join(sorted(f"{k.label()}={s.run_id}" for k, s in old.items()))
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == DIGESTS[scale, module.ID]


def test_a_training_field_added_later_leaves_every_anchor_run_id_alone():
    """Anchors key their TrainConfig in full: a field added to it since (``effects_weight``) must stay
    out of their keys at its default, or A1's stored runs (and its results section) are orphaned.
    The digest is of A1's quick run ids before the field existed."""
    from greedlab.claims import a1_anchors as a1

    ids = sorted(s.run_id for s in a1.conditions(Context(SCALES["quick"], Path("."), None)).values())
    assert hashlib.sha256(" ".join(ids).encode()).hexdigest()[:16] == "53ce8c5471b09bdb"
