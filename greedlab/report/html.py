"""The report: one self-contained folder (index.html + figures/) that opens offline in a browser.

No CDN, no fonts or scripts from the network: plain HTML, inline CSS, PNG figures beside it.
A tiny inline script marks on <body> how many figures loaded, so a headless browser test can
check the page as a person would see it.
"""

from __future__ import annotations

import html
import inspect
import os
from datetime import datetime, timezone
from pathlib import Path

from greedlab import __version__
from greedlab.claims.common import ClaimResult

COLORS = {"supported": "#1a7f37", "refuted": "#cf222e", "inconclusive": "#9a6700", "not run": "#6e7781",
          "control ok": "#1a7f37", "control FAILED": "#cf222e", "measurement": "#57606a", "GPS learned": "#1a7f37",
          "GPS NOT learned": "#cf222e", "flagged": "#8250df"}

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


def _badge(verdict: str) -> str:
    return f'<span class="badge" style="background:{COLORS.get(verdict, "#57606a")}">{_e(verdict)}</span>'


def _num(x: float) -> str:
    return "" if x != x else f"{x:.3g}"


def _value(r) -> str:
    """'value [low, high]', or the value alone where a row has no interval."""
    if r.ci_low != r.ci_low:
        return _num(r.value)
    return f"{_num(r.value)} [{_num(r.ci_low)}, {_num(r.ci_high)}]"


def _controls(res: ClaimResult) -> str:
    ctrl = [r for r in res.rows if r.verdict.startswith("control")]
    if not ctrl:
        return "—"
    return _badge("control ok" if all(r.verdict == "control ok" for r in ctrl) else "control FAILED")


def build(out_dir: Path, claims: list[tuple[object, ClaimResult | None]], command: str, store: Path) -> Path:
    """Write ``out_dir/index.html`` for (claim module, result or None if its runs are not stored)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>greedlab report</title>"
             f"<style>{CSS}</style><script>{SCRIPT}</script></head><body>",
             "<h1>greedlab report</h1>",
             f'<p class="sub">greedlab {__version__} · {_e(now)} · store <code>{_e(store)}</code> · '
             f"reproduce all: <code>{_e(command)}</code></p>",
             "<p>Each claim of the essays is turned into an experiment on real gradient descent: a statistic with a "
             "95% bootstrap interval across seeds, a verdict computed from that interval by a rule fixed in code, "
             "and a control in which the effect must vanish.</p>",
             "<h2>Summary</h2><table><tr><th>claim</th><th>one-line claim</th><th>verdict</th>"
             "<th>headline statistic</th><th>value [95% CI]</th><th>controls</th></tr>"]
    for mod, res in claims:
        cid = mod.ID
        if res is None:
            parts.append(f'<tr><td><a href="#{cid}">{cid}</a></td><td>{_e(mod.SUMMARY)}</td><td>{_badge("not run")}'
                         "</td><td colspan=3>no stored runs at this scale</td></tr>")
            continue
        head = res.rows[res.headline]
        parts.append(f'<tr><td><a href="#{cid}">{cid}</a></td><td>{_e(res.summary)}</td><td>{_badge(res.verdict)}'
                     f"</td><td>{_e(head.condition)}: {_e(head.statistic)}</td><td class=num>{_value(head)}</td>"
                     f"<td>{_controls(res)}</td></tr>")
    parts.append("</table>")
    parts.append(_classes())
    for mod, res in claims:
        parts.append(_section(out_dir, mod, res, command))
    parts.append("</body></html>")
    path = out_dir / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _classes() -> str:
    """The model-class rules and their thresholds, as the classifier applies them."""
    from greedlab.instruments import model_class

    th = "".join(f"<tr><td><code>{_e(k)}</code></td><td class=num>{v}</td></tr>"
                 for k, v in model_class.ClassThresholds().as_dict().items())
    return ("<h2>Model classes</h2><p>Claims G5, G10 and H7 sort trained models into the essays' classes by their "
            "measured behaviour. The rules, tried in order:</p>"
            f"<pre>{_e(inspect.getdoc(model_class).split(chr(10) + chr(10), 1)[1])}</pre>"
            f"<table style='width:auto'><tr><th>threshold</th><th>value</th></tr>{th}</table>")


def _section(out_dir: Path, mod, res: ClaimResult | None, command: str) -> str:
    cid = mod.ID
    doc = inspect.getdoc(mod) or ""
    s = [f'<section id="{cid}"><h2>{cid} — {_e(mod.SUMMARY)} {_badge(res.verdict if res else "not run")}</h2>',
         f"<blockquote>“{_e(mod.QUOTE)}”</blockquote><p class=small>{_e(mod.SOURCE)}</p>",
         f"<h3>Operationalization</h3><pre>{_e(doc)}</pre>",
         f"<p>Reproduce: <code>{_e(command.replace('greedlab run', f'greedlab run --claim {cid}', 1))}</code></p>"]
    if res is None:
        s.append("<p>No stored runs for this claim at this scale: run the command above.</p></section>")
        return "\n".join(s)
    s.append("<table><tr><th>condition</th><th>statistic</th><th>value</th><th>95% CI</th><th>verdict</th>"
             "<th>config hashes</th></tr>")
    for r in res.rows:
        ci = "" if r.ci_low != r.ci_low else f"[{_num(r.ci_low)}, {_num(r.ci_high)}]"
        s.append(f"<tr><td>{_e(r.condition)}</td><td>{_e(r.statistic)}</td><td class=num>{_num(r.value)}</td>"
                 f"<td class=num>{ci}</td><td>{_badge(r.verdict)}</td>"
                 f"<td class=small>{_e(', '.join(r.run_ids))}</td></tr>")
    s.append(f"</table><p class=small>Every row made by greedlab {__version__}; a config hash is the key of its "
             "run in the store's <code>runs</code> table.</p>")
    for fig in res.figures:
        rel = os.path.relpath(fig, out_dir)
        s.append(f'<img src="{_e(rel)}" alt="{_e(Path(fig).stem)}">')
    s.append("</section>")
    return "\n".join(s)
