"""One module per claim of docs/CLAIMS.md; each reads like its row: conditions, statistic, verdict rule, figure.

``REGISTRY`` maps claim ids to modules exposing ``ID``, ``SUMMARY``, ``conditions(ctx) -> {key: RunSpec}``
(every run the claim needs, built without training anything: the CLI validates and counts them
up front), a pure ``analyse(runs) -> (rows, verdict)`` and ``figures(runs, folder)`` (the claim
contract, run by ``context.run_claim``). A claim that trains with an optional package names it in
``EXTRAS`` ({package: extra}); ``check_extras`` is the CLI's check before anything trains. A1 is no
claim of the essays but the published real-data results the instruments must reproduce first; it is
reported like one.

The registry is built on first use, not when this package is imported: a claim module importing a
shared module of this package (``claims.common``, ``presets``) then never re-enters a half-imported
package, so the import graph has no cycle (tests/test_layout.py).
"""

import importlib
import importlib.util

from greedlab.errors import ConfigError

MODULES = {"G1": "g1_proxy_first", "G2": "g2_gradual_world_model", "G3": "g3_gradient_starvation",
           "G4": "g4_path_dependence", "G5": "g5_gps_pointed_at_heuristics", "G6": "g6_capability_over_objective",
           "G7": "g7_objective_switch", "G8": "g8_clean_genie", "G9": "g9_speed_regularizer",
           "G10": "g10_oversight_gating", "H1": "h1_regime_map", "H2": "h2_diminishing_returns",
           "H3": "h3_simplicity", "H4": "h4_speed_bias", "H5": "h5_small_models", "H6": "h6_long_path",
           "H7": "h7_pointer_sooner", "X1": "x1_cone_descent", "X2": "x2_easy_feature_wins", "R": "remedies",
           "A1": "a1_anchors"}
"""Claim id → its module in this package, in report order."""


def __getattr__(name: str):
    if name == "REGISTRY":
        registry = {cid: importlib.import_module(f"{__name__}.{mod}") for cid, mod in MODULES.items()}
        globals()["REGISTRY"] = registry
        return registry
    raise AttributeError(name)


def check_extras(claim: str) -> None:
    """One clear error if a package the claim trains with (its ``EXTRAS``) is not installed."""
    module = importlib.import_module(f"{__name__}.{MODULES[claim]}")
    for package, extra in getattr(module, "EXTRAS", {}).items():
        if importlib.util.find_spec(package) is None:
            raise ConfigError("claim", f"{claim} after `pip install 'greedlab[{extra}]'` ({package} is not installed); "
                              "the other claims run without it (--claim)", claim)
