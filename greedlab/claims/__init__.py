"""One module per claim of CLAIMS.md; each reads like its row: conditions, statistic, verdict rule, figure.

``REGISTRY`` maps claim ids to modules exposing ``ID``, ``SUMMARY`` and ``run(ctx) -> ClaimResult``.
"""

from greedlab.claims import g1_proxy_first, g2_gradual_world_model, g3_gradient_starvation

REGISTRY = {m.ID: m for m in (g1_proxy_first, g2_gradual_world_model, g3_gradient_starvation)}
