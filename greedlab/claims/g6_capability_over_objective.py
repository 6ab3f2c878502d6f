"""G6 — Once proxies fit, improving capability lowers the loss more than correcting the objective
("Greed Is the Root of This Evil", §2: the SGD can "tweak the mess of mesa-objectives ... or it can
just increase the power of the GPS").

Operationalization, per architecture (MLP, tiny transformer), on the ``setups`` world (target
χ_{01}, proxy a_4 at ρ = 0.9): at every step the first-order loss decrease ``−g·Δθ`` is split
between the "trunk" (every layer but the last: the world model) and the "head" (the readout: the
objective). Per seed, the head's share of the decrease before the proxy fits (steps up to the
proxy-reliance onset, ≥ 0.5) and after it. Statistic: share after − share before, per seed; the
interval resamples worlds. Seeds whose proxy never fits are left out, with a count.
Margin: MARGIN = 0.005, half a percentage point of the loss decrease — the smallest shift of the
head's share that counts (the MLP's share is ~9% of the decrease, the transformer's ~2%).
Rule, per architecture (``verdict_below`` at 0 with MARGIN): supported if the interval lies below
−MARGIN (the objective's share falls once the proxy fits, by at least the margin), refuted if it
lies above 0 (no fall, or a rise), inconclusive (underpowered) if it straddles while wider than
2·MARGIN. The claim must hold for every architecture (``all_agree``: every part must hold, so there
is no multiplicity to adjust).
Attribution and noise floor (``train.Attribution``, ``setups.noise_floor``): ∇L in −∇L·Δθ is the
gradient of an independent batch (drawn from the model's own world's training set in an order of its
own), not of the batch that made the step, whose −g·Δθ holds a positive noise term (η·tr Σ/B for SGD)
that no loss decrease pays for and that dominates near zero loss: the estimate is unbiased. Its noise
is measured per step (successive differences); a window's floor is FLOOR_Z = 2 standard errors of its
estimated decrease, and a window whose mean estimated decrease (signal) is not above its mean floor
gives no verdict (the row says so), nor passes a control. Rule changed after H2's quick results and a
referee's objection (the same-batch estimate is biased upward near zero loss): until now the floor
was the same-batch decrease the loss did not realise. The rows report each window's signal, its
floor, and what the step's own batch read over the same steps. The quick run with it: every main-arm
window above its floor (MLP after-fit 0.33 against 0.036; the same batch read 0.63); the head's
share moves +0.011 [−0.008, 0.022] (MLP) and +0.007 [−0.091, 0.023] (transformer), underpowered; the
transformer's negative control fails (interval below −MARGIN, and a window under its floor).

Controls (runs shared with H2, ``setups.attribution_conditions``), per architecture:
- negative, "rho 0.5, no proxy": a_4 independent of the label, split at the main arm's median
  proxy-fit step. No proxy fits, yet a head that simply learns first (any readout does) would make
  the share fall at that step all the same: the change must stay above −MARGIN (interval);
- positive, "head frozen early": the head trains only for the first steps/25, then the trunk
  alone; the objective's returns are stopped by hand, so the share must fall by more than MARGIN
  (interval below −MARGIN) — the attribution, the onset and the windows could see the effect.
The controls train half the seeds (``setups.control_seeds``), two to a world as every arm of 8.
A failed control makes the verdict inconclusive: a failed negative one means effects are reported where
there are none, a failed positive one that the pipeline missed an effect planted by hand (so the
effect's absence refutes nothing, and its presence is read by an instrument in doubt).
"""

from __future__ import annotations

import numpy as np

from greedlab.claims import setups
from greedlab.claims.common import INCONCLUSIVE, Row, all_agree, bootstrap_ci, combine, control_row, verdict_below
from greedlab.claims.context import Context
from greedlab.claims.setups import HEAD_FROZEN, MAIN, NO_PROXY, Attribution
from greedlab.experiment import RunResult, RunSpec
from greedlab.report.figures import curves_figure

ID = "G6"
SUMMARY = "Once proxies fit, improving capability lowers the loss more than correcting the objective."
SOURCE = "greed-is-the-root-of-this-evil.txt, §2 “How does that lead to inner misalignment?”"
QUOTE = ("it can spend its \"budget\" to tweak the mess of mesa-objectives to more closely resemble the actual base "
         "objective, or it can just increase the power of the GPS")
MARGIN = 0.005


def conditions(ctx: Context) -> dict[Attribution, RunSpec]:
    return setups.attribution_conditions(ctx)


def head_shares(r: RunResult, split: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(before, after) head share of the loss decrease per seed, split at each seed's proxy fit (or at
    ``split``, per seed); NaN where there is no split (the proxy never fits)."""
    t = setups.proxy_fit(r) if split is None else np.asarray(split, float)
    fit = np.isfinite(t)
    t = np.where(fit, t, 0)
    end = np.full_like(t, r.steps[-1])
    before = setups.windows(r, np.zeros_like(t), t)
    after = setups.windows(r, t, end)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = before["head"] / (before["head"] + before["trunk"])
        a = after["head"] / (after["head"] + after["trunk"])
    return np.where(fit, b, np.nan), np.where(fit, a, np.nan)


def share_change(r: RunResult, split: np.ndarray | None = None) -> dict:
    """The statistic on one run: ``ci`` of after − before over the seeds with a split (``used``),
    the two windows' per-seed (signal, floor), and the per-seed shares."""
    t = setups.proxy_fit(r) if split is None else np.asarray(split, float)
    b, af = head_shares(r, t)
    used = np.isfinite(b) & np.isfinite(af)
    ci = bootstrap_ci((af - b)[used], np.mean, clusters=r.worlds[used])
    t = np.where(used, t, 0)
    bounds = ((np.zeros_like(t), t), (t, np.full_like(t, r.steps[-1])))
    floors = [tuple(x[used] for x in setups.noise_floor(r, lo, hi)) for lo, hi in bounds] if used.any() else []
    return dict(ci=ci, used=used, floors=floors, bounds=bounds, before=b, after=af)


def analyse(runs: dict[Attribution, RunResult]) -> tuple[list[Row], str]:
    rows, parts = [], []
    for a in dict.fromkeys(k.arch for k in runs):
        main, neg, pos = (runs[Attribution(a, arm)] for arm in (MAIN, NO_PROXY, HEAD_FROZEN))
        cond = Attribution(a, MAIN).label()
        m = share_change(main)
        ci, used = m["ci"], m["used"]
        readable = setups.above_floor(m["floors"])
        verdict = verdict_below(ci[1], ci[2], 0.0, margin=MARGIN) if readable else INCONCLUSIVE
        rows.append(Row.of(cond, f"head share after proxy fit − before ({used.sum()}/{len(used)} seeds fit the "
                           f"proxy; supported below −{MARGIN}, refuted above 0){setups.floor_note(m['floors'])}", ci,
                           verdict, [main.run_id], "verdict"))
        for name in ("before", "after"):
            rows.append(Row.of(cond, f"head share {name} proxy fit",
                               bootstrap_ci(m[name][used], np.mean, clusters=main.worlds[used]), "measurement",
                               [main.run_id], "measurement"))
        rows += setups.floor_rows(cond, ("before-fit", "after-fit"), m["floors"], main, m["bounds"], used)

        fit = setups.proxy_fit(main)
        split = float(np.median(fit[np.isfinite(fit)])) if np.isfinite(fit).any() else float("nan")
        n = share_change(neg, np.full(len(neg.curve("train_loss")), split))
        neg_ok = bool(n["ci"][1] > -MARGIN) and setups.above_floor(n["floors"])
        rows.append(control_row(Attribution(a, NO_PROXY).label(),
                                f"head share after step {split:g} (the main arm's median proxy fit) − before; no "
                                f"proxy: must not fall by the margin, interval above −{MARGIN}"
                                f"{setups.floor_note(n['floors'])}",
                                n["ci"], neg_ok, [neg.run_id, main.run_id], positive=False))
        p = share_change(pos)
        pos_ok = bool(p["ci"][2] < -MARGIN) and setups.above_floor(p["floors"])
        rows.append(control_row(Attribution(a, HEAD_FROZEN).label(),
                                f"head share after proxy fit − before ({p['used'].sum()}/{len(p['used'])} seeds "
                                f"fit); head frozen by hand: must fall by the margin, interval below −{MARGIN}"
                                f"{setups.floor_note(p['floors'])}", p["ci"], pos_ok, [pos.run_id], positive=True))
        parts.append(combine([verdict], neg_ok, pos_ok))
    return rows, all_agree(parts)


def figures(runs: dict[Attribution, RunResult], folder) -> list[str]:
    curves = {f"{k.label()}: {g}": r.curve("loss_decrease", g) for k, r in runs.items() if k.arm == MAIN
              for g in ("head", "trunk")}
    steps = next(r for k, r in runs.items() if k.arm == MAIN).steps
    return [curves_figure(folder / "G6_attribution.png", "G6/H2: loss decrease per step, by parameter group",
                          steps, curves, "first-order loss decrease per step", logy=True)]
