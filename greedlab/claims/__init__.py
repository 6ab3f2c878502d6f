"""One module per claim of CLAIMS.md; each reads like its row: conditions, statistic, verdict rule, figure.

``REGISTRY`` maps claim ids to modules exposing ``ID``, ``SUMMARY``, ``conditions(ctx) -> {name: RunSpec}``
(every run the claim needs, built without training anything: the CLI validates and counts them
up front) and ``run(ctx) -> ClaimResult``. A1 is no claim of the essays but the published real-data
results the instruments must reproduce first; it is reported like one.
"""

from greedlab.claims import (a1_anchors, g1_proxy_first, g2_gradual_world_model, g3_gradient_starvation,
                             g4_path_dependence, g5_gps_pointed_at_heuristics, g6_capability_over_objective,
                             g7_objective_switch, g8_clean_genie, g9_speed_regularizer, g10_oversight_gating,
                             h1_regime_map, h2_diminishing_returns, h4_speed_bias, h5_small_models, h6_long_path,
                             h7_pointer_sooner, remedies, x1_cone_descent, x2_easy_feature_wins)

REGISTRY = {m.ID: m for m in (g1_proxy_first, g2_gradual_world_model, g3_gradient_starvation, g4_path_dependence,
                              g5_gps_pointed_at_heuristics, g6_capability_over_objective, g7_objective_switch,
                              g8_clean_genie, g9_speed_regularizer, g10_oversight_gating, h1_regime_map,
                              h2_diminishing_returns, h4_speed_bias, h5_small_models, h6_long_path, h7_pointer_sooner,
                              x1_cone_descent, x2_easy_feature_wins, remedies, a1_anchors)}
