"""One module per claim of CLAIMS.md; each reads like its row: conditions, statistic, verdict rule, figure.

``REGISTRY`` maps claim ids to modules exposing ``ID``, ``SUMMARY``, ``conditions(ctx) -> {name: RunSpec}``
(every run the claim needs, built without training anything: the CLI validates and counts them
up front) and ``run(ctx) -> ClaimResult``. A claim that trains with an optional package names it in
``EXTRAS`` ({package: extra}); ``check_extras`` is the CLI's check before anything trains. A1 is no
claim of the essays but the published real-data results the instruments must reproduce first; it is
reported like one.
"""

import importlib.util

from greedlab.claims import (a1_anchors, g1_proxy_first, g2_gradual_world_model, g3_gradient_starvation,
                             g4_path_dependence, g5_gps_pointed_at_heuristics, g6_capability_over_objective,
                             g7_objective_switch, g8_clean_genie, g9_speed_regularizer, g10_oversight_gating,
                             h1_regime_map, h2_diminishing_returns, h3_simplicity, h4_speed_bias, h5_small_models, h6_long_path,
                             h7_pointer_sooner, remedies, x1_cone_descent, x2_easy_feature_wins)
from greedlab.errors import ConfigError

REGISTRY = {m.ID: m for m in (g1_proxy_first, g2_gradual_world_model, g3_gradient_starvation, g4_path_dependence,
                              g5_gps_pointed_at_heuristics, g6_capability_over_objective, g7_objective_switch,
                              g8_clean_genie, g9_speed_regularizer, g10_oversight_gating, h1_regime_map,
                              h2_diminishing_returns,
                              h3_simplicity, h4_speed_bias, h5_small_models, h6_long_path, h7_pointer_sooner,
                              x1_cone_descent, x2_easy_feature_wins, remedies, a1_anchors)}


def check_extras(claim: str) -> None:
    """One clear error if a package the claim trains with (its ``EXTRAS``) is not installed."""
    for package, extra in getattr(REGISTRY[claim], "EXTRAS", {}).items():
        if importlib.util.find_spec(package) is None:
            raise ConfigError("claim", f"{claim} after `pip install 'greedlab[{extra}]'` ({package} is not installed); "
                              "the other claims run without it (--claim)", claim)
