"""Writing a pragmascope's result: features.csv, scores.json and a figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from greedlab.pragmascope.linear import REDUNDANCY_MIN, SHARED_MIN, Abstractions


def write(result: Abstractions, out: Path, names: list[str]) -> list[Path]:
    """features.csv, scores.json and pragmascope.png under ``out``."""
    import json

    from greedlab.report.figures import pragmascope_figure

    out.mkdir(parents=True, exist_ok=True)
    k = result.features.shape[1]
    np.savetxt(out / "features.csv", result.features, delimiter=",", comments="",
               header=",".join(f"feature_{i}" for i in range(k)))
    scores = {
        "method": ("nonlinear (contrastive per-view encoders, then multi-view CCA)" if result.encode is not None
                   else "linear (multi-view CCA, MAXVAR)"),
        "redundancy_threshold": REDUNDANCY_MIN,
        "agreement_threshold": SHARED_MIN,
        "views": [[names[c] for c in v] for v in (result.data_views or result.views)],
        "features": [{"name": f"feature_{i}", "rank": i, "redundancy": float(result.redundancy[i]),
                      "agreement": float(result.agreement[i])} for i in range(k)],
        "mediation_after_k_features": [float(v) for v in result.mediation],
        "candidate_redundancy": [float(v) for v in result.candidate_redundancy],
        "candidate_agreement": [float(v) for v in result.candidate_agreement],
    }
    (out / "scores.json").write_text(json.dumps(scores, indent=2))
    reported = (result.candidate_redundancy > REDUNDANCY_MIN) & (result.candidate_agreement > SHARED_MIN)
    fig = pragmascope_figure(out / "pragmascope.png", result.candidate_redundancy, reported, REDUNDANCY_MIN,
                             result.mediation)
    return [out / "features.csv", out / "scores.json", Path(fig)]
