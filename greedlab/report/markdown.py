"""Results as Markdown, generated from a store (``greedlab report --markdown docs/RESULTS.md``).

The README states no result typed by hand: every number a reader sees comes from a store through
this function, stamped with the commit and scale it was computed at, so a stale figure shows up as a
stale stamp rather than as a silent lie.
"""

from __future__ import annotations

import hashlib
import math
import re
import subprocess
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from greedlab.store import Store

OVERALL = "overall"


def commit_of(folder: Path | None = None) -> str:
    """The checkout's commit (short hash, "+dirty" if it has uncommitted changes), or "unknown"."""
    try:
        cwd = folder or Path(__file__).resolve().parent
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=cwd, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (head + ("+dirty" if dirty else "")) if head else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def code_version(version: str, commit: str) -> str:
    """A verdict row's ``version``: the package version with the code's commit as its local label
    ("0.1.0+ecbfa7c32f1b", "+….dirty" for uncommitted changes), so a stored verdict says which code
    computed it; the bare version where the commit is unknown."""
    return version if commit == "unknown" else f"{version}+{commit.replace('+', '.')}"


def commit_in(version: str | None) -> str | None:
    """The commit ``code_version`` put in a verdict row's version, or None (verdicts stored before)."""
    if not version or "+" not in version:
        return None
    return version.split("+", 1)[1].replace(".dirty", "+dirty")


def _num(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    a = abs(v)
    return f"{v:.3g}" if a >= 0.001 or a == 0 else f"{v:.2e}"


def _ci(lo, hi) -> str:
    if lo is None or hi is None or (isinstance(lo, float) and not math.isfinite(lo)):
        return "—"
    return f"[{_num(lo)}, {_num(hi)}]"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def plan_hash(run_ids) -> str:
    """A short fingerprint of the run ids a claim's design trains: a section computed under another
    design carries another fingerprint."""
    return hashlib.sha256("\n".join(sorted(run_ids)).encode()).hexdigest()[:12]


NOT_RECORDED = "not recorded"
_STAMP = re.compile(r"^_computed (?P<when>.+?) · commit `(?P<commit>[^`]+)` · plan (?:`(?P<plan>[0-9a-f]+)`|not recorded)_$")
_SCALE = re.compile(r"scale \*\*(?P<scale>\w+)\*\*")
_LEGACY = re.compile(r"computed (?P<when>[^,]+), code at commit `(?P<commit>[^`]+)`")  # one stamp per document


class Section(NamedTuple):
    """One claim's part of a results document: its summary-table cells and its section text."""

    controls: str
    verdict: str
    when: str
    commit: str
    plan: str  # a plan_hash, or NOT_RECORDED
    body: list[str]  # the section's lines after its stamp (the claim text and the table)


def parse_previous(text: str) -> tuple[str | None, dict[str, Section]]:
    """The scale and the per-claim sections of a results document this module wrote earlier. A
    section without its own stamp (documents written before sections had one) takes the document's
    header stamp, with its plan not recorded."""
    m = _SCALE.search(text)
    scale, head = (m["scale"] if m else None), _LEGACY.search(text)
    cells = {}
    for line in text.splitlines():
        m = re.match(r"^\| (?P<id>[A-Z]+\d*) \| .* \| (?P<controls>[^|]+) \| \*\*(?P<verdict>[^*]+)\*\* \|"
                     r"(?: [^|]* \|)?$", line)
        if m:
            cells[m["id"]] = (m["controls"].strip(), m["verdict"].strip())
    out = {}
    for chunk in re.split(r"(?m)^## ", text)[1:]:
        lines = chunk.rstrip("\n").split("\n")
        cid = lines[0].strip()
        if cid not in cells:
            continue
        body = lines[1:]
        stamp = next(filter(None, map(_STAMP.match, body)), None)
        if stamp is not None:
            body = [x for x in body if not _STAMP.match(x)]
            when, commit, plan = stamp["when"], stamp["commit"], stamp["plan"] or NOT_RECORDED
        elif head is not None:
            when, commit, plan = head["when"], head["commit"], NOT_RECORDED
        else:
            continue
        while body and not body[0].strip():
            body = body[1:]
        out[cid] = Section(*cells[cid], when, commit, plan, body)
    return scale, out


def _stamp(s: Section) -> str:
    plan = f"`{s.plan}`" if s.plan != NOT_RECORDED else NOT_RECORDED
    return f"_computed {s.when} · commit `{s.commit}` · plan {plan}_"


def _when(ts) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC") if isinstance(ts, datetime) else str(ts)


def results_markdown(store: Store, summaries: dict[str, str], scale: str | None = None,
                     commit: str | None = None, plans=None, previous: str | None = None) -> str:
    """The Markdown document of one verdict set: ``scale`` (default: the newest set without
    overrides), every claim in ``summaries`` order (id → claim text) that the set holds.

    ``plans`` (claim → the run ids its current design trains at that scale, or a function of
    (scale, overrides) giving that dict): a stored verdict that read a run outside its claim's plan
    was computed by an earlier design (a redesigned arm, a fixed estimator); it is listed as
    superseded, not shown as a result. Each section is stamped with when and at which commit it
    was computed, and with its plan's fingerprint (``plan_hash``).

    ``previous``: the document this one replaces. A store holds what its machine trained; a claim
    this store lacks (or holds only from an earlier design) keeps its section from ``previous``
    with that section's own stamp, provided the scale is the same and its plan fingerprint is the
    current design's; a carried section whose fingerprint differs, or was not recorded while the
    current one is known, is listed as superseded instead. So a document can be refreshed claim by
    claim, and never shows a number its claim's current design did not produce without saying so."""
    sets = [s for s in store.verdict_sets() if not s["overrides"]] or store.verdict_sets()
    if scale is not None:
        sets = [s for s in sets if s["scale"] == scale]
    if not sets:
        raise LookupError(f"no verdicts{' at scale ' + scale if scale else ''} in the store")
    vs = sets[0]
    if callable(plans):
        plans = plans(vs["scale"], vs["overrides"])
    rows = store.verdicts(scale=vs["scale"], overrides_hash=vs["overrides_hash"])
    by_claim: dict[str, list[dict]] = {}
    for r in rows:
        by_claim.setdefault(r["claim"], []).append(r)
    commit = commit or commit_of()

    def fingerprint(c: str) -> str:
        return plan_hash(plans[c]) if plans is not None and c in plans else NOT_RECORDED

    stale = {c for c, rs in by_claim.items() if plans is not None and c in plans
             and any(set(r["run_ids"]) - plans[c] for r in rs)}
    sections: dict[str, Section] = {}
    for c, rs in by_claim.items():
        if c in stale:
            continue
        overall = next((r for r in rs if r["condition"] == OVERALL), None)
        ctrl = [r["verdict"] for r in rs if str(r["verdict"]).startswith("control")]
        failed = sum("FAILED" in v for v in ctrl)
        controls = "none" if not ctrl else (f"{failed} of {len(ctrl)} FAILED" if failed else f"{len(ctrl)} ok")
        body = [_cell(summaries.get(c, "")), "", "| condition | statistic | value | 95% CI | verdict |",
                "|---|---|---|---|---|"]
        body += [f"| {_cell(r['condition'])} | {_cell(r['statistic'])} | {_num(r['value'])} | "
                 f"{_ci(r['ci_low'], r['ci_high'])} | {_cell(r['verdict'])} |" for r in rs if r["condition"] != OVERALL]
        # the commit that computed these rows, as stored with them; the checkout's for rows stored before
        # verdicts recorded it (a section is stamped with the code that made it, not the one that printed it)
        made_by = commit_in(rs[-1].get("version")) or commit
        sections[c] = Section(controls, overall["verdict"] if overall else "—",
                              _when(max(r["created_at"] for r in rs)), made_by, fingerprint(c), body)
    old_scale, old = parse_previous(previous) if previous and not vs["overrides"] else (None, {})
    if old_scale == vs["scale"]:
        for c, s in old.items():
            if c in sections:
                continue
            if s.plan == fingerprint(c):
                sections[c] = s
            else:
                stale.add(c)
    return render(vs["scale"], vs["overrides"], sections, summaries, sorted(stale - sections.keys()))


def render(scale: str, overrides: dict, sections: dict[str, Section], summaries: dict[str, str],
           stale: list[str] = ()) -> str:
    """The document of these sections, in ``summaries`` order: header, superseded and missing
    claims, the summary table, then one stamped section per claim."""
    claims = [c for c in summaries if c in sections] + sorted(c for c in sections if c not in summaries)
    missing = [c for c in summaries if c not in sections and c not in stale]
    out = [
        "# Results",
        "",
        f"Generated by `greedlab report --markdown` from results stores: scale **{scale}**"
        f"{'' if not overrides else ', overrides ' + str(overrides)}. Do not edit by hand: "
        "rerun the command. Every verdict is computed by the rule in its claim module "
        "(`greedlab/claims/`), from 95% intervals that resample worlds (the data draw), seeds nested inside. "
        "Each claim's section is stamped with when and at which commit it was computed, and with the "
        "fingerprint of the runs its design trains (`plan`); a claim the latest store did not hold keeps its "
        "earlier section only while that fingerprint is still the current design's.",
        "",
    ]
    if stale:
        out += [f"Superseded (computed by an earlier design of the claim; rerun `greedlab run --claim …` at "
                f"this scale): {', '.join(stale)}.", ""]
    if missing:
        out += [f"Not in this store at this scale (not yet run): {', '.join(missing)}.", ""]
    if scale == "smoke":
        out += ["> **smoke scale: a pipeline check, not evidence.** Its verdicts mean nothing.", ""]
    out += ["| claim | claim text | controls | verdict | computed |", "|---|---|---|---|---|"]
    for c in claims:
        s = sections[c]
        out.append(f"| {c} | {_cell(summaries.get(c, ''))} | {s.controls} | **{s.verdict}** | "
                   f"{s.when[:10]}, `{s.commit[:7]}` |")
    for c in claims:
        out += ["", f"## {c}", "", _stamp(sections[c]), "", *sections[c].body]
    return "\n".join(out) + "\n"


def write_results(path: Path, store: Store, summaries: dict[str, str], scale: str | None = None,
                  plans=None) -> Path:
    """Write ``results_markdown`` of ``store`` to ``path``. The document already there keeps the
    sections of claims this store lacks (each with its own stamp and plan fingerprint): a store holds
    one machine's runs, the document all of them."""
    path = Path(path)
    previous = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    text = results_markdown(store, summaries, scale, plans=plans, previous=previous)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


__all__ = ["results_markdown", "write_results", "commit_of", "code_version", "commit_in", "plan_hash",
           "parse_previous", "render"]
