"""The report: one self-contained folder (index.html + figures/) that opens offline in a browser.

No CDN, no fonts or scripts from the network: plain HTML, inline CSS, PNG figures beside it.
A tiny inline script marks on <body> how many figures loaded, so a headless browser test can
check the page as a person would see it.
"""

from __future__ import annotations

import html
import inspect
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from greedlab import __version__
from greedlab.claims.common import ClaimResult
from greedlab.report.sets import ResultSet

COLORS = {"supported": "#1a7f37", "refuted": "#cf222e", "inconclusive": "#9a6700", "not run": "#6e7781",
          "control ok": "#1a7f37", "control FAILED": "#cf222e", "measurement": "#57606a", "GPS learned": "#1a7f37",
          "GPS NOT learned": "#cf222e", "flagged": "#8250df"}
GREY = "#8c959f"

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1180px;
padding:24px;color:#1f2328;line-height:1.45}
h1{margin-bottom:4px} .sub{color:#57606a;margin-top:0}
table{border-collapse:collapse;width:100%;margin:12px 0;font-size:14px}
th,td{border-bottom:1px solid #d0d7de;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa} td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;white-space:nowrap;padding:1px 8px;border-radius:10px;color:#fff;font-size:13px;font-weight:600}
section{border-top:3px solid #d0d7de;margin-top:36px;padding-top:8px}
blockquote{border-left:4px solid #d0d7de;margin:8px 0;padding:4px 12px;color:#57606a;font-style:italic}
pre{background:#f6f8fa;padding:8px 12px;overflow-x:auto;font-size:13px;white-space:pre-wrap}
img{max-width:100%;border:1px solid #d0d7de;margin:8px 0}
.small{font-size:12px;color:#57606a}
.smoke{background:#f6f8fa;border-left:4px solid #8c959f;padding:6px 12px;color:#57606a}
section.notrun{border-top:1px solid #d0d7de;margin-top:8px;padding-top:4px}
summary{cursor:pointer}
"""

SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img'), ok = 0;
  imgs.forEach(function (i) { if (i.complete && i.naturalWidth > 0) ok++; });
  document.body.setAttribute('data-figures-loaded', ok + '/' + imgs.length);
});
"""


def _e(x) -> str:
    return html.escape(str(x))


def _text(x) -> str:
    """Escaped text with `code` and ``code`` (as docstrings and summaries write it) in <code>."""
    return re.sub(r"``(.+?)``|`([^`\n]+)`", lambda m: f"<code>{m[1] or m[2]}</code>", _e(x))


def _badge(verdict: str, smoke: bool = False, overall: bool = True) -> str:
    if smoke and overall:
        # a smoke run checks that the pipeline runs; what its verdict says is no evidence either way
        return f'<span class="badge" style="background:{GREY}">smoke: not evidence</span> ' \
               f'<span class=small>pipeline: {_e(verdict)}</span>'
    color = GREY if smoke else COLORS.get(verdict, "#57606a")
    return f'<span class="badge" style="background:{color}">{_e(verdict)}</span>'


def _num(x: float) -> str:
    return "—" if x != x else f"{x:.3g}"


def _ci(r) -> str:
    """'[low, high]', or a dash where the row has no interval."""
    if r.ci_low != r.ci_low or r.ci_high != r.ci_high:
        return "—"
    return f"[{_num(r.ci_low)}, {_num(r.ci_high)}]"


def _value(r) -> str:
    """'value [low, high]', or the value alone where a row has no interval."""
    ci = _ci(r)
    return _num(r.value) if ci == "—" else f"{_num(r.value)} {ci}"


def _controls(res: ClaimResult, smoke: bool) -> str:
    ctrl = [r for r in res.rows if r.verdict.startswith("control")]
    if not ctrl:
        return "—"
    return _badge("control ok" if all(r.verdict == "control ok" for r in ctrl) else "control FAILED", smoke,
                  overall=False)


def _anchor(rs: ResultSet, cid: str, first: bool) -> str:
    # the newest set keeps the bare claim ids, so #G1 links keep working
    return cid if first else f"{rs.slug}-{cid}"


def build(out_dir: Path, sets: list[ResultSet], store: Path) -> Path:
    """Write ``out_dir/index.html`` for the verdict sets, newest first; in each, (claim module,
    result or None if its runs are not stored)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>greedlab report</title>"
             f"<style>{CSS}</style><script>{SCRIPT}</script></head><body>",
             "<h1>greedlab report</h1>",
             f'<p class="sub">greedlab {__version__} · {_e(now)} · store <code>{_e(store)}</code></p>',
             "<p>Each claim of the essays is turned into an experiment on real gradient descent: a statistic with a "
             "95% bootstrap interval across seeds, a verdict computed from that interval by a rule fixed in code, "
             "and a control in which the effect must vanish. Results are kept apart by scale and by the user's "
             "overrides; a smoke-scale run only checks that the pipeline runs.</p>"]
    if len(sets) > 1:
        parts.append("<h2>In this store</h2><ul>" + "".join(
            f'<li><a href="#set-{rs.slug}">{_e(rs.describe())}</a> · {len(rs.stored)} of {len(rs.claims)} claims'
            f"{f' · {rs.created_at:%Y-%m-%d %H:%M} UTC' if rs.created_at else ''}</li>" for rs in sets) + "</ul>")
    for i, rs in enumerate(sets):
        parts.append(_set(out_dir, rs, first=i == 0))
    parts.append(_classes())
    parts.append("</body></html>")
    path = out_dir / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _set(out_dir: Path, rs: ResultSet, first: bool) -> str:
    parts = [f'<h2 id="set-{rs.slug}">{"Summary" if first else "Results"}: {_e(rs.describe())}</h2>',
             f"<p class=small>reproduce all: <code>{_e(rs.command())}</code>"
             + ("" if rs.rebuilt else " · shown as stored (made before greedlab recorded each result's scale, or "
                "no longer rebuildable): no figures; rerun to rebuild") + "</p>"]
    if rs.smoke:
        parts.append('<p class="smoke">Smoke scale: a few seeds and steps to check that every claim runs end to '
                     "end. Its verdicts are not evidence for or against any claim; run <code>--scale quick</code> or "
                     "<code>full</code> for those.</p>")
    ran = [(m, r) for m, r in rs.claims if r is not None]
    missing = [m for m, r in rs.claims if r is None]
    if ran:
        parts.append("<table><tr><th>claim</th><th>one-line claim</th><th>verdict</th>"
                     "<th>headline statistic</th><th>value [95% CI]</th><th>controls</th></tr>")
        for mod, res in ran:
            head = res.rows[res.headline] if res.rows else None
            stat = f"{_text(head.condition)}: {_text(head.statistic)}" if head else "—"
            parts.append(f'<tr><td><a href="#{_anchor(rs, mod.ID, first)}">{mod.ID}</a></td><td>{_text(res.summary)}'
                         f"</td><td>{_badge(res.verdict, rs.smoke)}</td><td>{stat}</td>"
                         f"<td class=num>{_value(head) if head else '—'}</td><td>{_controls(res, rs.smoke)}</td></tr>")
        parts.append("</table>")
    if missing:
        # the newest set keeps a collapsed line per claim not run (so every #claim link lands); the
        # older sets leave them out: the list says it all
        names = [f'<a href="#{m.ID}">{m.ID}</a>' if first else m.ID for m in missing]
        parts.append(f"<p class=small>Not run at this setting ({len(missing)}): {', '.join(names)}</p>")
    for mod, res in rs.claims:
        if res is not None or first:
            parts.append(_section(out_dir, rs, mod, res, first))
    return "\n".join(parts)


def _classes() -> str:
    """The model-class rules and their thresholds, as the classifier applies them."""
    from greedlab.instruments import model_class

    th = "".join(f"<tr><td><code>{_e(k)}</code></td><td class=num>{v}</td></tr>"
                 for k, v in model_class.ClassThresholds().as_dict().items())
    return ("<h2>Model classes</h2><p>Claims G5, G10 and H7 sort trained models into the essays' classes by their "
            "measured behaviour. The rules, tried in order:</p>"
            f"<pre>{_text(inspect.getdoc(model_class).split(chr(10) + chr(10), 1)[1])}</pre>"
            f"<table style='width:auto'><tr><th>threshold</th><th>value</th></tr>{th}</table>")


def _section(out_dir: Path, rs: ResultSet, mod, res: ClaimResult | None, first: bool) -> str:
    cid = mod.ID
    anchor = _anchor(rs, cid, first)
    reproduce = f"<p>Reproduce: <code>{_e(rs.command([cid]))}</code></p>"
    if res is None:
        # one line, opened on demand: a claim not run has nothing but its text to show
        return (f'<section id="{anchor}" class=notrun><details><summary>{cid} — {_text(mod.SUMMARY)} '
                f"{_badge('not run')}</summary>{reproduce}</details></section>")
    doc = inspect.getdoc(mod) or ""
    s = [f'<section id="{anchor}"><h2>{cid} — {_text(mod.SUMMARY)} {_badge(res.verdict, rs.smoke)}</h2>',
         f"<p class=small>{_e(rs.describe())}</p>",
         f"<blockquote>“{_text(mod.QUOTE)}”</blockquote><p class=small>{_e(mod.SOURCE)}</p>",
         f"<h3>Operationalization</h3><pre>{_text(doc)}</pre>", reproduce,
         "<table><tr><th>condition</th><th>statistic</th><th>value</th><th>95% CI</th><th>verdict</th>"
         "<th>config hashes</th></tr>"]
    for r in res.rows:
        s.append(f"<tr><td>{_text(r.condition)}</td><td>{_text(r.statistic)}</td><td class=num>{_num(r.value)}</td>"
                 f"<td class=num>{_ci(r)}</td><td>{_badge(r.verdict, rs.smoke, overall=False)}</td>"
                 f"<td class=small>{_e(', '.join(r.run_ids))}</td></tr>")
    s.append(f"</table><p class=small>Every row made by greedlab {__version__}; a config hash is the key of its "
             "run in the store's <code>runs</code> table.</p>")
    for fig in res.figures:
        rel = os.path.relpath(fig, out_dir)
        s.append(f'<img src="{_e(rel)}" alt="{_e(Path(fig).stem)}">')
    s.append("</section>")
    return "\n".join(s)
