"""The pragmascope: which natural abstractions does a dataset contain?

After Wentworth & Lorell's natural latents: a latent Λ over variables X_1..X_V is natural when
- *redundancy*: Λ can be recovered with any one variable (here: view) left out, and
- *mediation*: the variables are (nearly) independent given Λ.

Linear method, multi-view CCA in its MAXVAR form: whiten each view, concatenate, and take the top
singular directions of the result. A direction every view carries gets a large singular value;
what only one view carries gets ~1. Candidates are fitted on one half of the rows and scored on the
other, so that noise, which CCA fits too, scores as noise:
- redundancy of a feature: worst over views v of the held-out R² of predicting it from all views but v;
- agreement: the share of the feature's held-out variance that comes from covariance between the
  views' own parts of it, 1 − Σ_v var(f_v)/var(f): about 0 for noise, 1 − 1/V for V equal copies;
- mediation after k features: the strongest cross-view shared direction left once the first k
  features are regressed out of every view, minus the same with the views' rows shuffled apart
  (the value dependence-free views of this size reach by chance); 0 = the views are independent
  given the features. Features estimated from noisy views carry each view's noise, so conditioning
  on them leaves some dependence that the true latents would not (measured: 0.70 → 0.26 on the
  default hierarchy world with 4 views, while its true latents give < 0.05; ``mediation_given``).
Only features whose redundancy exceeds ``REDUNDANCY_MIN`` and whose agreement exceeds ``SHARED_MIN``
are reported. Columns are variables; a
view is a group of columns (``--views``); without grouping every column is its own view, and the
method becomes PCA of the correlation matrix scored by leave-one-column-out R².
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from greedlab.errors import ConfigError

REDUNDANCY_MIN = 0.5  # a reported feature keeps at least half its variance with any one view left out
# ... and is shared: a linear feature spread thinly over many independent views is recoverable with
# any one of them left out too (each adds little), so redundancy alone would report pure noise.
# What noise lacks is covariance *between* the views' parts of the feature.
SHARED_MIN = 0.2
RIDGE = 1e-3  # whitening ridge, relative to standardized columns: keeps near-collinear views stable
MAX_CANDIDATES = 64
SPLIT_SEED = 0


NA_POLICIES = ("refuse", "drop")


@dataclass
class Table:
    """A data file as the pragmascope sees it: the numeric columns, and what was left out of them."""

    x: np.ndarray
    names: list[str]
    dropped_columns: list[str]
    """Columns that are not numeric (text, dates, booleans): not variables, so not in ``x``."""
    dropped_rows: int = 0
    """Rows with a missing or non-finite value, left out under ``na="drop"``."""


def load(data: str | Path | np.ndarray, na: str = "refuse") -> tuple[np.ndarray, list[str]]:
    """(rows × columns float array, column names) from an array or a CSV/Parquet file."""
    t = load_table(data, na)
    return t.x, t.names


def load_table(data: str | Path | np.ndarray, na: str = "refuse") -> Table:
    """The numeric columns of an array or a CSV/Parquet file. A missing or non-finite value is
    refused (``na="refuse"``): a blank cell would otherwise be read as 0.0 and an inf breaks the
    whitening, both silently; ``na="drop"`` leaves such rows out instead."""
    if na not in NA_POLICIES:
        raise ConfigError("--na", ", ".join(NA_POLICIES), na)
    if isinstance(data, np.ndarray):
        x = np.asarray(data, dtype=float)
        if x.ndim != 2:
            raise ConfigError("data", "a 2-D array (rows × columns)", x.shape)
        return _finite(Table(x, [f"x{i}" for i in range(x.shape[1])], []), np.isfinite(x), na, "data")
    path = Path(data)
    kind = path.suffix.lower()
    if path.is_dir():
        raise ConfigError("data", "a .csv or .parquet file, not a folder", str(path))
    if kind not in (".csv", ".parquet"):
        raise ConfigError("data", "a .csv or .parquet file", str(path))
    if not path.exists():
        raise ConfigError("data", "an existing .csv or .parquet file", str(path))
    names, cols = _read(path, kind)
    numeric = [n for n in names if np.issubdtype(np.asarray(cols[n]).dtype, np.number)]
    dropped = [n for n in names if n not in numeric]
    if len(numeric) < 2:
        raise ConfigError("data", "a file with at least two numeric columns",
                          f"{path} (numeric: {numeric or 'none'}; non-numeric: {dropped or 'none'})")
    # NULL (a blank cell) comes back masked over a 0.0: read the mask, never the fill
    x = np.column_stack([np.ma.getdata(cols[n]).astype(float) for n in numeric])
    ok = np.column_stack([~np.ma.getmaskarray(cols[n]) for n in numeric]) & np.isfinite(x)
    return _finite(Table(x, numeric, dropped), ok, na, str(path))


def _read(path: Path, kind: str) -> tuple[list[str], dict]:
    import duckdb  # already the store's engine: reads CSV and Parquet without another dependency

    reader = "read_csv_auto" if kind == ".csv" else "read_parquet"
    try:
        with duckdb.connect() as con:
            rel = con.execute(f"select * from {reader}(?)", [str(path)])
            return [d[0] for d in rel.description], rel.fetchnumpy()
    except duckdb.Error as e:
        what = "a UTF-8 CSV file with a header row" if kind == ".csv" else "a Parquet file"
        raise ConfigError("data", what, f"{path} ({_first_line(e)})") from None


def _first_line(e: Exception) -> str:
    lines = [ln.strip().removeprefix("Invalid Input Error: ") for ln in str(e).splitlines() if ln.strip()]
    # DuckDB's CSV errors put the cause on a later line ("CSV Error on Line: 2" first)
    cause = next((ln for ln in lines if "not utf-8" in ln.lower() or "too small" in ln.lower()), None)
    return cause or (lines[0] if lines else type(e).__name__)


def _finite(t: Table, ok: np.ndarray, na: str, where: str) -> Table:
    if ok.all():
        return t
    if na == "drop":
        keep = ok.all(axis=1)
        return Table(t.x[keep], t.names, t.dropped_columns, int((~keep).sum()))
    col = int(np.flatnonzero(~ok.all(axis=0))[0])
    row = int(np.flatnonzero(~ok[:, col])[0])
    bad_rows = int((~ok.all(axis=1)).sum())
    raise ConfigError("data", "numbers in every cell, or --na drop to leave out rows with a missing or "
                      "non-finite value", f"{where}: column {t.names[col]!r} has a missing or non-finite value in "
                      f"data row {row + 1}; {bad_rows} of {len(ok)} rows have one")


def parse_views(spec: str | None, n_cols: int, names: list[str] | None = None) -> list[np.ndarray]:
    """Column indices of each view. ``None``: every column its own view. "auto:V": V contiguous,
    near-equal blocks. Otherwise views separated by ",", each a "+"-joined list of columns or
    inclusive ranges: "0-3,4-7" or "0-1+8-9,2-3+10-11". A column may also be named: "a+b,c+d"
    (a name wins over a number, so a file's own numbering of its columns is kept)."""
    if spec is None:
        return [np.array([i]) for i in range(n_cols)]
    by_name = {n: i for i, n in enumerate(names or [])}
    named = " or column names like 'a+b,c+d'" if names else ""
    bad = ConfigError("--views", f"'auto:V' (2 ≤ V ≤ {n_cols}) or disjoint column ranges like '0-3,4-7' "
                      f"(columns 0..{n_cols - 1}, at least two views){named}", spec)
    spec = spec.strip()
    if spec.startswith("auto:"):
        if not re.fullmatch(r"auto:\d+", spec) or not 2 <= int(spec[5:]) <= n_cols:
            raise bad
        return [np.asarray(b) for b in np.array_split(np.arange(n_cols), int(spec[5:]))]
    views, seen = [], set()
    for part in spec.split(","):
        cols = []
        for piece in part.split("+"):
            if piece.strip() in by_name:
                cols.append(by_name[piece.strip()])
                continue
            m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", piece)
            if not m:
                raise bad
            lo, hi = int(m[1]), int(m[2] if m[2] is not None else m[1])
            if not lo <= hi < n_cols:
                raise bad
            cols.extend(range(lo, hi + 1))
        if seen & set(cols) or len(set(cols)) != len(cols):
            raise bad
        seen |= set(cols)
        views.append(np.array(cols))
    if len(views) < 2:
        raise bad
    return views


@dataclass
class Abstractions:
    """What the pragmascope found. ``features`` (rows × k) for the input rows, ranked; per feature its
    ``redundancy`` and ``agreement``; ``mediation`` (k + 1,) after 0..k features; every candidate's
    redundancy and agreement (reported or not) for the figure."""

    features: np.ndarray
    redundancy: np.ndarray
    agreement: np.ndarray
    mediation: np.ndarray
    candidate_redundancy: np.ndarray
    candidate_agreement: np.ndarray
    views: list[np.ndarray]
    mean: np.ndarray
    std: np.ndarray
    whiten: list[np.ndarray]
    loadings: np.ndarray
    encode: Callable[[np.ndarray], np.ndarray] | None = None
    """The nonlinear method's per-view encoders (raw rows → concatenated embeddings)."""
    data_views: list[np.ndarray] | None = None
    """The data's views when ``views`` are the encoders' embedding blocks."""

    def transform(self, x: np.ndarray) -> np.ndarray:
        """The reported features of new rows with the same columns."""
        if self.encode is not None:
            x = self.encode(x)
        return _whitened(x, self) @ self.loadings


def _whitened(x: np.ndarray, fit) -> np.ndarray:
    z = (x - fit.mean) / fit.std
    return np.concatenate([z[:, v] @ w for v, w in zip(fit.views, fit.whiten)], axis=1)


def _whitening(z: np.ndarray) -> np.ndarray:
    """Columns → unit-variance, uncorrelated directions (rank-revealing: null directions dropped)."""
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    var = s ** 2 / len(z)
    keep = var > 1e-10 * max(var.max(), 1e-300)
    return vt[keep].T / np.sqrt(var[keep] + RIDGE)


def _blocks(views: list[np.ndarray], whiten: list[np.ndarray]) -> list[slice]:
    out, pos = [], 0
    for w in whiten:
        out.append(slice(pos, pos + w.shape[1]))
        pos += w.shape[1]
    return out


def _r2(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 1 - ((y - pred) ** 2).sum(0) / np.maximum(((y - y.mean(0)) ** 2).sum(0), 1e-300)


def _top_shared(blocks: list[np.ndarray]) -> float:
    """(σ₁² − 1)/(V − 1) of the MAXVAR matrix of ``blocks``: 0 when no direction is shared, 1 when one
    direction is identical in every view."""
    ws = [b @ _whitening(b) for b in blocks]
    ws = [w for w in ws if w.shape[1]]
    if len(ws) < 2:
        return 0.0
    s = np.linalg.svd(np.concatenate(ws, axis=1) / np.sqrt(len(ws[0])), compute_uv=False)
    return float((s[0] ** 2 - 1) / (len(ws) - 1))


def _mediation(hold: np.ndarray, blocks: list[slice], feats: np.ndarray, rng: np.random.Generator) -> float:
    if feats.shape[1]:  # one least-squares solve for every column at once: the same residuals
        f = np.column_stack([feats, np.ones(len(feats))])
        hold = hold - f @ np.linalg.lstsq(f, hold, rcond=None)[0]
    views = [hold[:, b] for b in blocks]
    shuffled = [v[rng.permutation(len(v))] for v in views]
    return max(0.0, _top_shared(views) - _top_shared(shuffled))


def mediation_given(data: str | Path | np.ndarray, views: str | list | None, latents: np.ndarray) -> float:
    """The mediation score of given latents (rows × k), e.g. a world's true ones: the views'
    remaining dependence once the latents are regressed out (0 = independent given them)."""
    x, _ = load(data)
    groups = (parse_views(views, x.shape[1]) if views is None or isinstance(views, str)
              else [np.asarray(v) for v in views])
    z = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    return _mediation(z, [g for g in groups], np.asarray(latents, float), np.random.default_rng(SPLIT_SEED + 1))


def _groups(x: np.ndarray, views: str | list | None) -> list[np.ndarray]:
    groups = (parse_views(views, x.shape[1]) if views is None or isinstance(views, str)
              else [np.asarray(v) for v in views])
    if len(groups) < 2:
        raise ConfigError("--views", "at least two views", len(groups))
    if len(x) < 20:
        raise ConfigError("data", "at least 20 rows", len(x))
    return groups


def _split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, held-out rows): fixed, so the nonlinear method's encoders never see the rows the
    linear stage scores on."""
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    return order[:n // 2], order[n // 2:]


def find(data: str | Path | np.ndarray, views: str | list | None = None) -> Abstractions:
    """The natural abstractions of ``data`` (rows are samples). ``views``: a spec string (see
    ``parse_views``), a list of column-index lists, or None (every column its own view)."""
    x, _ = load(data)
    groups = _groups(x, views)
    fit_rows, hold_rows = _split(len(x))
    mean, std = x[fit_rows].mean(0), x[fit_rows].std(0)
    std = np.where(std > 0, std, 1.0)
    z = (x[fit_rows] - mean) / std
    whiten = [_whitening(z[:, v]) for v in groups]
    probe = Abstractions(np.empty(0), np.empty(0), np.empty(0), np.empty(0), np.empty(0), np.empty(0), groups, mean,
                         std, whiten, np.empty(0))
    zf, zh = _whitened(x[fit_rows], probe), _whitened(x[hold_rows], probe)
    blocks = _blocks(groups, whiten)
    _, s, vt = np.linalg.svd(zf / np.sqrt(len(zf)), full_matrices=False)
    m = min(MAX_CANDIDATES, len(s))
    load_ = vt[:m].T / s[:m]  # unit-variance features on the fit half
    ff, fh = zf @ load_, zh @ load_
    red = np.full(m, np.inf)
    for b in blocks:  # leave view b out: fit on one half, score on the other
        rest = np.ones(zf.shape[1], bool)
        rest[b] = False
        coef = np.linalg.lstsq(zf[:, rest], ff, rcond=None)[0]
        red = np.minimum(red, _r2(zh[:, rest] @ coef, fh))
    parts = np.stack([zh[:, b] @ load_[b] for b in blocks])  # (V, rows, m): each view's part of each feature
    agree = 1 - parts.var(1).sum(0) / np.maximum(fh.var(0), 1e-300)
    keep = np.flatnonzero((red > REDUNDANCY_MIN) & (agree > SHARED_MIN))
    med = np.array([_mediation(zh, blocks, fh[:, keep[:k]], np.random.default_rng(SPLIT_SEED + 1))
                    for k in range(len(keep) + 1)])
    out = Abstractions(np.empty(0), red[keep], agree[keep], med, red, agree, groups, mean, std, whiten, load_[:, keep])
    out.features = out.transform(x)
    return out


def find_nonlinear(data: str | Path | np.ndarray, views: str | list | None = None, dim: int = 8, width: int = 64,
                   steps: int = 600, temperature: float = 0.2, seed: int = 0) -> Abstractions:
    """The nonlinear method: one small MLP encoder per view, trained on the fit half so that each
    view's embedding picks its own row out of a batch given the *other* views' mean embedding
    (InfoNCE against the leave-one-view-out consensus: redundancy as a training signal). The
    linear method then runs on the embeddings, one view per encoder, and scores them on the
    held-out half the encoders never saw, so its scores and thresholds mean the same thing.

    ``dim`` caps how many abstractions it can report: measured on the default hierarchy world
    (16 latents, 4 views), dim = 8 reported 8 features, dim = 32 reported 29 (functions of the
    latents among them) with every latent at linear R² ≥ 0.68, where the linear method reaches
    ≥ 0.79 with exactly 16. Use it where the views share structure no linear map shows."""
    import torch
    import torch.nn.functional as F

    x, _ = load(data)
    groups = _groups(x, views)
    fit_rows, _ = _split(len(x))
    mean, std = x[fit_rows].mean(0), np.where(x[fit_rows].std(0) > 0, x[fit_rows].std(0), 1.0)
    gen = torch.Generator().manual_seed(seed)

    def layer(i, o):
        return [torch.randn(i, o, generator=gen) / np.sqrt(i), torch.zeros(o)]

    encs = [layer(len(g), width) + layer(width, dim) for g in groups]
    for p in (p for e in encs for p in e):
        p.requires_grad_(True)

    def embed(z: torch.Tensor) -> list[torch.Tensor]:
        return [torch.relu(z[:, g] @ w1 + b1) @ w2 + b2 for g, (w1, b1, w2, b2) in zip(groups, encs)]

    zt = torch.as_tensor((x - mean) / std, dtype=torch.float32)
    fit = torch.as_tensor(fit_rows)
    opt = torch.optim.Adam([p for e in encs for p in e], lr=3e-3)
    batch = min(256, len(fit))
    for _ in range(steps):
        idx = fit[torch.randperm(len(fit), generator=gen)[:batch]]
        hs = torch.stack([F.normalize(h, dim=1) for h in embed(zt[idx])])  # (V, B, dim)
        others = F.normalize(hs.sum(0, keepdim=True) - hs, dim=2)  # each view's leave-one-out consensus
        logits = hs @ others.transpose(1, 2) / temperature  # (V, B, B)
        target = torch.arange(batch).expand(len(groups), -1)
        loss = F.cross_entropy(logits.flatten(0, 1), target.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()

    def encode(raw: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            z = torch.as_tensor((raw - mean) / std, dtype=torch.float32)
            return torch.cat(embed(z), dim=1).double().numpy()

    emb = encode(x)
    res = find(emb, [list(range(v * dim, (v + 1) * dim)) for v in range(len(groups))])
    res.encode = encode
    res.data_views = groups
    return res


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


def recovery(features: np.ndarray, truths: np.ndarray) -> np.ndarray:
    """R² of each truth column (rows × T) from an affine read-out of ``features``, fitted on one half
    of the rows and scored on the other (a read-out fitted and scored on the same rows flatters)."""
    fit, hold = _split(len(features))
    f = np.column_stack([features, np.ones(len(features))])
    coef = np.linalg.lstsq(f[fit], truths[fit], rcond=None)[0]
    return _r2(f[hold] @ coef, truths[hold])


def world_scorecard(config, rows: int = 4000, noise_columns: int = 16, seed: int = 0) -> dict:
    """The pragmascope against a hierarchy world's ground truth: it sees the world's pixels, its
    effect pixels and ``noise_columns`` columns of pure noise (every column its own variable), and is
    scored on how well its features recover every latent and every effect abstraction χ_S.
    Returns the R² per latent and per effect, the number of features and what an ideal finder would
    report (one per latent with signal, one per effect), and ``noise_r2``, the best R² of any noise
    column from the features (≈ 0: nothing was taken from pure noise)."""
    import torch

    from greedlab.worlds import HierarchyWorld, chi

    world = HierarchyWorld(config)
    b = world.sample("deploy", 0, rows)
    n = config.n_latents * config.pixels_per_latent
    parts = [b.x[:, :n]] + ([b.e] if b.e is not None else [])
    noise = np.random.default_rng(seed).normal(size=(rows, noise_columns))
    x = np.column_stack([torch.cat(parts, 1).double().numpy(), noise])
    found = find(x, None)
    a = b.a.double().numpy()
    effects = np.column_stack([chi(b.a, S).double().numpy() for S in config.effects]) if config.effects else \
        np.empty((rows, 0))
    shown = [i for i in range(config.n_latents) if i not in config.hidden]
    return {"latent_r2": recovery(found.features, a[:, shown]), "effect_r2": recovery(found.features, effects),
            "n_features": found.features.shape[1], "n_true": len(shown) + len(config.effects),
            "noise_r2": float(recovery(found.features, noise).max()) if noise_columns else 0.0}
