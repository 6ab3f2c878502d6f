"""The ``greedlab`` command: run claims, export results, benchmark.

Every bad input ends in one line naming the field and the accepted values, exit code 2, and
nothing stored is touched: arguments, paths and every run's config are checked before the store
opens and before anything trains. The cheap checks come first, before torch loads (seconds).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from greedlab import timing
from rich.table import Table

from greedlab import __version__
from greedlab.claim_ids import CLAIM_IDS, SCALE_NAMES
from greedlab.errors import ConfigError, StoreError
from greedlab.store import check_path

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="greedlab: test the claims that gradient descent is greedy, on real gradient descent.")
# outside a terminal (logs, CI) rich would wrap tables at 80 columns; give them room instead
console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)

STORE_HELP = "Results store (DuckDB file)."
VERDICT_STYLE = {"supported": "green", "refuted": "red", "inconclusive": "yellow", "control ok": "green",
                 "control FAILED": "red", "flagged": "magenta"}
SMOKE_STYLE = "grey50"
NOT_EVIDENCE = "smoke: not evidence"


@contextmanager
def _clean_errors() -> Iterator[None]:
    try:
        yield
    except (ConfigError, StoreError) as e:
        # escaped: a message may hold brackets (`pip install 'greedlab[ray]'`) that rich would eat as markup
        err_console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM (a scheduler's or `kill`'s stop) takes Ctrl-C's path


@contextmanager
def _on_interrupt(message: str) -> Iterator[None]:
    """Ctrl-C, or SIGTERM, ends in one line and exit code 130, not a traceback or a silent exit; on
    the way out the worker processes are stopped and every finished run stays stored."""
    main = threading.current_thread() is threading.main_thread()  # only there can a handler be set
    previous = signal.signal(signal.SIGTERM, _terminated) if main else None
    try:
        yield
    except KeyboardInterrupt:
        err_console.print(message, highlight=False)
        raise typer.Exit(130)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _loading(quiet: bool, what: str):
    """A spinner for the seconds in which nothing else moves (torch loading, plans being built)."""
    return nullcontext(None) if quiet else err_console.status(what, spinner="dots")


def _check_device(device: str) -> str:
    import torch

    if device == "auto":  # a GPU when there is one: the ensemble's batched matmuls are what it is for
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if device.startswith("cuda") and torch.cuda.is_available():
        return device
    raise ConfigError("device", "auto, cpu, or cuda[:N] when a CUDA GPU is available", device)


def _check_folder(path: Path, field: str, inside: tuple[str, ...] = ()) -> None:
    """A folder that will be written (made if missing), refused now rather than after the training
    that fills it. ``inside``: names in it that will be replaced, and so must be writable too."""
    if path.exists() and not path.is_dir():
        raise ConfigError(field, "a folder (new or existing), not a file", str(path))
    there = path if path.exists() else next((a for a in path.parents if a.exists()), Path("."))
    if not there.is_dir():
        raise ConfigError(field, "a folder path", f"{path} ({there} is a file)")
    writable = f"a folder this user can write to ({field} DIR puts it elsewhere)"
    if not os.access(there, os.W_OK | os.X_OK):
        raise ConfigError(field, writable, f"{path} ({there} is not writable)")
    for name in inside:
        p = path / name
        if p.exists() and not os.access(p, os.W_OK | (os.X_OK if p.is_dir() else 0)):
            raise ConfigError(field, writable, f"{path} ({p} is not writable)")


def _claim_ids(claim: list[str] | None) -> list[str]:
    for c in claim or []:
        if c not in CLAIM_IDS:
            raise ConfigError("claim", ", ".join(CLAIM_IDS), c)
    return list(dict.fromkeys(claim)) if claim else list(CLAIM_IDS)


def _check_counts(counts: dict) -> None:
    for k, v in counts.items():
        if v is not None and v < 1:
            raise ConfigError(f"--{k}", "an integer ≥ 1", v)


def _progress(quiet: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                    console=err_console, disable=quiet, transient=False)


def _execute(claim, store: Path, scale: str | None, device: str, report: Path | None, config, set_, quiet: bool,
             counts: dict, train: bool, workers: int | None = None, markdown: Path | None = None,
             timings: Path | None = None) -> None:
    """Shared by ``run`` (trains what is missing) and ``report`` (reads the store only)."""
    ids = _claim_ids(claim)
    if scale is not None and scale not in SCALE_NAMES:
        raise ConfigError("scale", ", ".join(SCALE_NAMES), scale)
    _check_counts(counts)
    check_path(store, read_only=not train)
    report_dir = report or store.parent / "greedlab-report"
    _check_folder(report_dir, "--report", ("index.html", "figures"))
    if workers is not None and workers < 1:
        raise ConfigError("--workers", "an integer ≥ 1", workers)
    if markdown is not None:
        _check_folder(markdown.parent if str(markdown.parent) else Path("."), "--markdown", ())
        if markdown.is_dir():
            raise ConfigError("--markdown", "a file path (e.g. docs/RESULTS.md), not a folder", str(markdown))
    with _loading(quiet, "loading torch and building the plan…"):
        from greedlab import config as user_config
        from greedlab.claims.overrides import check
        from greedlab.report.sets import ResultSet, build_scale, scale_changes, set_overrides

        overrides = user_config.load(config, set_)
        # report: --set, --config or a count flag name one set exactly; --scale alone, every set at that
        # scale; none of them, every set the store holds
        exact = bool(overrides) or any(v is not None for v in counts.values())
        chosen = exact or scale is not None
        scale = scale or "quick"
        changes = scale_changes(scale, counts)
        sc = build_scale(scale, changes)
        check(ids, overrides, sc)  # a --set key a claim sets or varies itself would silently rewrite it
        current = ResultSet(scale, set_overrides(overrides, changes))
        if train:
            plan = _plan(ids, sc, overrides, report_dir / "figures" / current.slug)
            dev = _check_device(device)
    if train:
        from greedlab.parallel import default_workers
        _train(ids, store, sc, overrides, current, plan, dev, report_dir, quiet,
               workers if workers is not None else default_workers(dev), timings=timings)
    else:
        _report(ids, store, current, exact, chosen, report_dir, quiet, markdown)


def _plan(ids, sc, overrides, fig_dir) -> dict:
    """Every run's config, built before the store opens: a bad value fails here, naming its field."""
    from greedlab.claims import REGISTRY, check_extras
    from greedlab.claims.context import Context

    plan = {c: REGISTRY[c].conditions(Context(sc, fig_dir, None, overrides)) for c in ids}
    for c in ids:  # training a claim needs its optional packages
        check_extras(c)
    return plan


def _plan_ids(scale: str, overrides: dict) -> dict[str, set[str]]:
    """Claim id → the run ids its current design trains at this scale and overrides (a stored verdict
    that read other runs came from an earlier design)."""
    from greedlab.claims import REGISTRY
    from greedlab.claims.context import Context
    from greedlab.report.sets import build_scale

    config = {k: v for k, v in overrides.items() if k != "scale"}
    sc = build_scale(scale, overrides.get("scale", {}))
    out = {}
    for c, mod in REGISTRY.items():
        try:
            out[c] = {spec.run_id for spec in mod.conditions(Context(sc, Path("."), None, config)).values()}
        except ConfigError:  # not buildable under these overrides: nothing to compare
            continue
    return out


def _train(ids, store: Path, sc, overrides, current, plan, dev, report_dir: Path, quiet: bool,
           workers: int = 1, timings: Path | None = None) -> None:
    from greedlab.claims import REGISTRY
    from greedlab.claims.context import Context, run_claim
    from greedlab.experiment import run as run_spec
    from greedlab.report import html
    from greedlab.report.markdown import code_version, commit_of
    from greedlab.report.sets import rebuild, stored_sets
    from greedlab.store import Store

    fig_dir = report_dir / "figures" / current.slug
    run_ids = list(dict.fromkeys(spec.run_id for specs in plan.values() for spec in specs.values()))
    results = {}
    started, before = time.perf_counter(), timing.snapshot()
    with Store(store) as st:
        try:
            work = {spec.run_id: spec.total_steps * spec.n_models for specs in plan.values()
                    for spec in specs.values() if st.run_status(spec.run_id) != "done"}
            trained_now = list(work)
            with _progress(quiet) as prog:
                # one bar over everything left to train, in model-steps: the overall ETA (none when
                # everything is stored: no bar for training that will not happen)
                overall = prog.add_task(f"training {len(work)} of {len(run_ids)} runs (the rest are stored)",
                                        total=sum(work.values())) if work else None
                claims_task = prog.add_task("claims", total=len(ids))
                trained: dict[str, int] = {}
                if work and workers > 1:
                    # independent runs in worker processes of one thread each, longest first; every run
                    # is stored as it finishes, so the claims below only read the store
                    from greedlab.parallel import train_missing
                    sizes = {spec.run_id: spec.n_models for specs in plan.values() for spec in specs.values()}

                    def advance(run_id, done, total):
                        trained[run_id] = done * sizes.get(run_id, 1)
                        prog.update(overall, completed=sum(trained.values()))
                    prog.update(claims_task, description=f"training in {workers} processes")
                    train_missing([sp for specs in plan.values() for sp in specs.values()], st, workers, dev,
                                  progress=advance)
                    work = {}

                def runner(spec, label):
                    if spec.run_id not in work:
                        return run_spec(spec, st, device=dev)  # stored: read back, nothing to show
                    task = prog.add_task(f"  {label} ({spec.n_models} seeds)", total=spec.total_steps)

                    def progress(done, total):
                        prog.update(task, completed=done)
                        trained[spec.run_id] = done * spec.n_models
                        if overall is not None:
                            prog.update(overall, completed=sum(trained.values()))
                    res = run_spec(spec, st, device=dev, progress=progress)
                    prog.update(task, completed=spec.total_steps, visible=False)
                    return res

                version = code_version(__version__, commit_of())  # which code computed the verdicts
                for i, c in enumerate(ids):
                    prog.update(claims_task, description=f"claim {c} ({i + 1} of {len(ids)})")
                    res = run_claim(REGISTRY[c], Context(sc, fig_dir, runner, overrides))
                    st.replace_verdicts(c, [dict(r.as_dict(), version=version) for r in res.rows]
                                        + [dict(condition="overall", statistic="verdict", value=float("nan"),
                                                ci_low=float("nan"), ci_high=float("nan"), verdict=res.verdict,
                                                run_ids=sorted({i for r in res.rows for i in r.run_ids}),
                                                version=version)],
                                        scale=sc.name, overrides=current.overrides)
                    results[c] = res
                    prog.advance(claims_task)
            # the report shows everything the store holds: this set first, then every other, newest first
            with _loading(quiet, "building the report…"), timing.phase("report"):
                sets = [rebuild(list(CLAIM_IDS), current.scale, current.overrides, st, fig_dir, done=results)]
                sets += stored_sets(list(CLAIM_IDS), st, report_dir / "figures", skip={(current.scale, current.key)})
                page = html.build(report_dir, sets, store)
            spent = timing.breakdown(st.run_timings(trained_now), timing.since(before))
        except KeyboardInterrupt:
            _interrupted(st, run_ids)
    wall = time.perf_counter() - started
    _print_results([results[c] for c in ids], current.smoke, current.describe())
    if timings is not None:
        _write_timings(timings, spent, wall, workers, len(trained_now), len(run_ids))
    console.print(f"time: {wall:.0f} s, {len(trained_now)} of {len(run_ids)} runs trained; {timing.describe(spent)}",
                  highlight=False)
    console.print(f"store: {store}   report: {page}")


def _write_timings(path: Path, spent: dict, wall: float, workers: int, trained: int, runs: int) -> None:
    """Where a command's time went, as JSON (``greedlab bench --suite`` reads it)."""
    import json

    path.write_text(json.dumps({"wall_seconds": wall, "workers": workers, "runs_trained": trained, "runs": runs,
                                "phases": spent}, indent=2))


def _interrupted(st, run_ids: list[str]) -> None:
    """Ctrl-C: every finished run is stored (each in one transaction), so a rerun resumes."""
    try:
        done = sum(st.run_status(r) == "done" for r in run_ids)
        err_console.print(f"interrupted: {done} of {len(run_ids)} runs stored; rerun to resume", highlight=False)
    except Exception:  # the store's connection may itself have been interrupted
        err_console.print("interrupted: every finished run is stored; rerun to resume", highlight=False)
    raise typer.Exit(130)


def _report(ids, store: Path, current, exact: bool, chosen: bool, report_dir: Path, quiet: bool,
            markdown: Path | None = None) -> None:
    from greedlab.report import html
    from greedlab.report.sets import rebuild, stored_sets
    from greedlab.store import Store

    with Store(store, read_only=True) as st, _loading(quiet, "reading the store…") as status:
        def on_claim(c):
            if status is not None:
                status.update(f"reading the store: {c}")
        if exact:  # --set, --config or a count flag: that one set, rebuilt from its runs
            sets = [rebuild(ids, current.scale, current.overrides, st, report_dir / "figures" / current.slug,
                            on_claim)]
        else:
            sets = stored_sets(ids, st, report_dir / "figures", scale=current.scale if chosen else None,
                               on_claim=on_claim)
            if not sets and chosen:  # no verdicts at this scale: still read whatever runs it has
                sets = [rebuild(ids, current.scale, {}, st, report_dir / "figures" / current.scale, on_claim)]
        if not sets:
            raise StoreError(f"store {store}: holds no claim verdicts yet; `greedlab run` computes them "
                             "(--scale rebuilds a scale from its stored runs)")
        page = html.build(report_dir, sets, store)
        if markdown is not None:  # the results document, generated from this store's verdicts
            from greedlab.claim_ids import describe
            from greedlab.report.markdown import write_results
            summaries = {d["id"]: d["summary"] or "" for d in describe()}
            try:
                write_results(markdown, st, summaries, scale=current.scale if chosen else None, plans=_plan_ids)
            except LookupError as e:
                raise StoreError(f"store {store}: {e}; `greedlab run` computes them") from None
    for rs in sets:
        _print_summary([r for _, r in rs.claims if r is not None], rs.smoke, rs.describe())
        missing = [m.ID for m, r in rs.claims if r is None]
        if missing:
            console.print(f"not in the store at this setting (run them first): {', '.join(missing)}", highlight=False)
    console.print(f"store: {store}   report: {page}" + (f"   results: {markdown}" if markdown else ""))


REPORT_HELP = "Report folder (index.html + figures/); default: greedlab-report next to the store."
CONFIG_HELP = escape("TOML file of [world] [model] [train] overrides.")
SET_HELP = "Override one field: model.width=128 (repeatable); not the scale's seeds or steps (--seeds, --steps)."
SEEDS_HELP = "Models per condition, in all (default: the scale's)."
WORLDS_HELP = "Independent world draws the seeds are spread over; --seeds must be a multiple (default: the scale's)."
STEPS_HELP = "Training steps (default: the scale's)."


@app.command()
def run(claim: Optional[list[str]] = typer.Option(None, "--claim", help="Claim id (repeatable); default: all."),
        store: Path = typer.Option(Path("greedlab.duckdb"), "--store", help=STORE_HELP),
        scale: str = typer.Option("quick", "--scale", help="smoke (a pipeline check, not evidence), quick "
                                  "(evidence: 16 seeds in 8 worlds) or full (64 in 16); `greedlab bench --suite` "
                                  "times them."),
        device: str = typer.Option("auto", "--device", help="auto (a CUDA GPU if there is one), cpu or cuda."),
        workers: Optional[int] = typer.Option(None, "--workers", help="Processes training independent runs, one "
                                              "thread each (default: 2 on CPU, 1 on a GPU)."),
        report: Optional[Path] = typer.Option(None, "--report", help=REPORT_HELP),
        config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
        set_: Optional[list[str]] = typer.Option(None, "--set", help=SET_HELP),
        seeds: Optional[int] = typer.Option(None, "--seeds", help=SEEDS_HELP),
        worlds: Optional[int] = typer.Option(None, "--worlds", help=WORLDS_HELP),
        steps: Optional[int] = typer.Option(None, "--steps", help=STEPS_HELP),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
        timings: Optional[Path] = typer.Option(None, "--timings", help="Also write where the time went "
                                               "(seconds per phase, JSON) to this file.")) -> None:
    """Run claims (all by default): train what the store lacks, compute verdicts, write the report."""
    with _clean_errors(), _on_interrupt("interrupted: every finished run is stored; rerun to resume"):
        if timings is not None:
            _check_folder(timings.parent if str(timings.parent) else Path("."), "--timings", ())
        _execute(claim, store, scale, device, report, config, set_, quiet,
                 dict(seeds=seeds, worlds=worlds, steps=steps), train=True, workers=workers, timings=timings)


@app.command("report")
def report_cmd(claim: Optional[list[str]] = typer.Option(None, "--claim", help="Claim id (repeatable); default: all."),
               store: Path = typer.Option(Path("greedlab.duckdb"), "--store", help=STORE_HELP),
               scale: Optional[str] = typer.Option(None, "--scale", help="Only this scale's results; default: every "
                                                   "scale and override set in the store, newest first."),
               report: Optional[Path] = typer.Option(None, "--report", help=REPORT_HELP),
               markdown: Optional[Path] = typer.Option(None, "--markdown", help="Also write the results as "
                                                       "Markdown, e.g. docs/RESULTS.md."),
               config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
               set_: Optional[list[str]] = typer.Option(None, "--set", help=SET_HELP),
               seeds: Optional[int] = typer.Option(None, "--seeds", help=SEEDS_HELP),
               worlds: Optional[int] = typer.Option(None, "--worlds", help=WORLDS_HELP),
               steps: Optional[int] = typer.Option(None, "--steps", help=STEPS_HELP),
               quiet: bool = typer.Option(False, "--quiet", help="No progress display.")) -> None:
    """Rebuild the report from the store without training anything."""
    with _clean_errors(), _on_interrupt("interrupted: nothing stored was changed"):
        _execute(claim, store, scale, "cpu", report, config, set_, quiet,
                 dict(seeds=seeds, worlds=worlds, steps=steps), train=False, markdown=markdown)


def _fmt(x: float) -> str:
    return "—" if x != x else f"{x:.3g}"


def _ci(lo: float, hi: float) -> str:
    return "—" if lo != lo or hi != hi else f"[{_fmt(lo)}, {_fmt(hi)}]"


def _verdict(verdict: str, smoke: bool, bold: bool = False, overall: bool = False) -> str:
    b = "bold " if bold else ""
    if smoke:  # a pipeline check: printed grey, and the overall verdict says it is no evidence
        text = f"{NOT_EVIDENCE} (pipeline: {verdict})" if overall else verdict
        return f"[{b}{SMOKE_STYLE}]{escape(text)}[/]"
    style = VERDICT_STYLE.get(verdict, "")
    return f"[{b}{style}]{escape(verdict)}[/]" if style or b else escape(verdict)


def _print_results(results, smoke: bool = False, setting: str = "") -> None:
    table = Table(title=f"greedlab verdicts: {setting}" if setting else "greedlab verdicts", show_lines=False)
    for col in ("claim", "condition", "statistic", "value", "95% CI", "verdict"):
        table.add_column(col, overflow="fold")
    for res in results:
        for r in res.rows:
            table.add_row(res.claim, escape(r.condition), escape(r.statistic), _fmt(r.value), _ci(r.ci_low, r.ci_high),
                          _verdict(r.verdict, smoke))
        table.add_row(f"[bold]{res.claim}[/]", "overall", escape(res.summary), "", "",
                      _verdict(res.verdict, smoke, bold=True, overall=True), end_section=True)
    console.print(table)
    _print_summary(results, smoke, setting)


def _print_summary(results, smoke: bool = False, setting: str = "") -> None:
    summary = Table(title=f"summary: {setting}" if setting else "summary")
    for col in ("claim", "claim text", "controls", "verdict"):
        summary.add_column(col)
    for res in results:
        controls = [r.verdict for r in res.rows if r.verdict.startswith("control")]
        ctrl = "ok" if controls and all(c == "control ok" for c in controls) else ("FAILED" if controls else "—")
        summary.add_row(res.claim, escape(res.summary), ctrl, _verdict(res.verdict, smoke, bold=True, overall=True))
    console.print(summary)


@app.command("list")
def list_cmd(store: Path = typer.Option(Path("greedlab.duckdb"), "--store", help=STORE_HELP + " Its scales are "
                                        "shown when it exists.")) -> None:
    """The claims: id, one-line claim, optional packages, and the scales the store has verdicts at."""
    with _clean_errors():
        import importlib.util

        from greedlab.claim_ids import describe

        stored: dict[str, list[str]] = {}
        if store.exists():
            from greedlab.store import Store

            with Store(store, read_only=True) as st:
                for s in st.verdict_sets():
                    for c in s["claims"]:
                        stored.setdefault(c, []).append(s["scale"] + ("" if not s["overrides"] else "*"))
        table = Table(title="greedlab claims" + (f" (stored in {store}; * = with overrides)" if store.exists() else ""))
        for col in ("claim", "one-line claim", "extras", "stored") if store.exists() else ("claim", "one-line claim",
                                                                                           "extras"):
            table.add_column(col, overflow="fold")
        for d in describe():
            extras = ", ".join(f"{extra} ({pkg}{'' if importlib.util.find_spec(pkg) else ': not installed'})"
                               for pkg, extra in d["extras"].items()) or "—"
            cells = [d["id"], escape(d["summary"]), escape(extras)]
            if store.exists():
                cells.append(", ".join(dict.fromkeys(stored.get(d["id"], []))) or "—")
            table.add_row(*cells)
        console.print(table)
        console.print(f"scales: {', '.join(SCALE_NAMES)} (every claim runs at each; smoke is a pipeline check, "
                      "not evidence)", highlight=False)


@app.command()
def export(store: Path = typer.Option(Path("greedlab.duckdb"), "--store", help=STORE_HELP),
           out: Path = typer.Option(..., "--out", help="Folder for runs, metrics and verdicts tables."),
           fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
           force: bool = typer.Option(False, "--force", help="Replace runs/metrics/verdicts files already in --out.")
           ) -> None:
    """Write the runs, metrics and verdicts tables (verdicts with their scale and overrides) as CSV or Parquet."""
    with _clean_errors():
        from greedlab.store import Store, check_export

        if fmt not in ("csv", "parquet"):
            raise ConfigError("format", "csv, parquet", fmt)
        check_export(out, fmt, force)
        if not store.exists():
            raise StoreError(f"{store}: no such results store")
        with Store(store, read_only=True) as st:
            for p in st.export(out, fmt, force=force):
                console.print(str(p))


@app.command()
def sweep(grid: Path = typer.Argument(..., help=escape("Grid file (.toml; .yaml with PyYAML): [sweep], [grid] axes, "
                                                       "fixed [world] [model] [train] values.")),
          store: Path = typer.Option(Path("greedlab.duckdb"), "--store", help=STORE_HELP),
          engine: str = typer.Option("local", "--engine", help="local (this machine) or ray."),
          address: Optional[str] = typer.Option(None, "--address", help="ray: auto or HOST:PORT of a running "
                                                "cluster; default: a local Ray instance for this sweep."),
          workers: int = typer.Option(1, "--workers", help="local: processes training chunks side by side."),
          chunk: Optional[int] = typer.Option(None, "--chunk", help="Models per chunk (default: the grid's; else "
                                            "16 on CPU, 1,024 on a GPU)."),
          retries: int = typer.Option(3, "--retries", help="ray: times a chunk is retried when its worker dies."),
          device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
          set_: Optional[list[str]] = typer.Option(None, "--set", help=SET_HELP),
          quiet: bool = typer.Option(False, "--quiet", help="No progress lines.")) -> None:
    """Train every run of a grid the store lacks, chunk by chunk; a killed sweep resumes where it stopped."""
    with _clean_errors():
        from greedlab.sweep.engines import ENGINES, ChunkFailed, check_address, require_ray
        from greedlab.sweep.grid import load_grid
        from greedlab.sweep import run_sweep

        plan = load_grid(grid, set_).with_chunk(chunk)  # every run built and checked before the store opens
        if engine not in ENGINES:
            raise ConfigError("engine", ", ".join(ENGINES), engine)
        if engine == "ray":
            require_ray()
            check_address(address)
        elif address is not None:
            raise ConfigError("address", "only with --engine ray", address)
        if workers < 1:
            raise ConfigError("workers", "an integer ≥ 1", workers)
        if retries < 0:
            raise ConfigError("retries", "an integer ≥ 0", retries)
        dev = _check_device(device)
        log = None if quiet else (lambda msg: console.print(msg, highlight=False, soft_wrap=True))
        try:
            summary = run_sweep(plan, store, engine=engine, address=address, workers=workers, device=dev,
                                max_retries=retries, log=log)
        except ChunkFailed as e:
            err_console.print(f"[bold red]error:[/] a chunk failed: {escape(str(e))}; every chunk stored so far "
                              "is kept, and running the sweep again trains only what is missing", highlight=False,
                              soft_wrap=True)
            raise typer.Exit(1)
        _print_sweep(summary)
        console.print(f"store: {store}   chunks trained now: {summary.trained}, already stored: {summary.skipped}")


def _print_sweep(summary) -> None:
    table = Table(title="greedlab sweep (medians of final values over seeds that did not diverge)")
    keys = [k for k in summary.rows[0] if k not in ("run_id", "seeds", "diverged")] if summary.rows else []
    for col in ["run", *keys, "seeds", "diverged"]:
        table.add_column(col, overflow="fold")
    for r in summary.rows:
        vals = [f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for k in keys]
        bad = f"[magenta]{len(r['diverged'])}: {r['diverged']}[/]" if r["diverged"] else "0"
        table.add_row(r["run_id"], *vals, str(r["seeds"]), bad)
    console.print(table)


@app.command()
def bench(models: int = typer.Option(64, "--models", help="Ensemble size."),
          steps: int = typer.Option(200, "--steps", help="Training steps timed."),
          device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
          as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
          suite: bool = typer.Option(False, "--suite", help="Every figure: throughput against ensemble size "
                                     "(1…1024 models) with its spread, ensemble vs loop at 256, peak memory, the claims "
                                     "suite's plan, wall time and where it goes."),
          claims: bool = typer.Option(True, "--claims/--no-claims", help="With --suite: time the claims suite "
                                      "too, with where its time goes (quick: hours on 2 CPU cores)."),
          scale: str = typer.Option("quick", "--scale", help="With --suite: the claims suite's scale (smoke, quick, "
                                    "full); its plan (runs, model-steps per claim) is printed either way."),
          workers: Optional[int] = typer.Option(None, "--workers", help="With --suite: processes for the claims "
                                                "suite (default: as greedlab run)."),
          figure: Optional[Path] = typer.Option(None, "--figure", help="With --suite: write the throughput curve "
                                                "(PNG) here."),
          compile_: bool = typer.Option(False, "--compile", help="Also time torch.compile'd training, with its "
                                        "error against float32."),
          precision: Optional[list[str]] = typer.Option(None, "--precision", help="tf32 or bf16 (repeatable): "
                                                        "speed and error against float32.")) -> None:
    """Ensemble vs per-model loop throughput, and achieved vs the machine's matmul FLOP/s."""
    with _clean_errors():
        import json

        from greedlab.bench.suite import PRECISIONS, figure as draw, precision_error, print_suite
        from greedlab.bench.suite import suite as run_suite

        if models < 1:
            raise ConfigError("models", "an integer ≥ 1", models)
        if steps < 1:
            raise ConfigError("steps", "an integer ≥ 1", steps)
        for p in precision or []:
            if p not in PRECISIONS[1:]:
                raise ConfigError("precision", ", ".join(PRECISIONS[1:]), p)
        dev = _check_device(device)
        modes = tuple(precision or ())
        if suite:
            log = None if as_json else (lambda msg: err_console.print(msg, highlight=False))
            if scale not in SCALE_NAMES:
                raise ConfigError("scale", ", ".join(SCALE_NAMES), scale)
            if workers is not None and workers < 1:
                raise ConfigError("--workers", "an integer ≥ 1", workers)
            result = run_suite(dev, claims=claims, scale=scale, precisions=modes, use_compile=compile_, log=log,
                               workers=workers)
            if figure is not None:
                result["figure"] = str(draw(result, figure))
            if as_json:
                sys.stdout.write(json.dumps(result) + "\n")
            else:
                print_suite(result, console)
                if figure is not None:
                    console.print(f"figure: {figure}")
            return
        from greedlab.bench.throughput import bench as run_bench
        from greedlab.bench.throughput import print_bench

        result = run_bench(n_models=models, steps=steps, device=dev)
        variants = [(m, False) for m in modes] + ([("float32", True)] if compile_ else [])
        if variants:
            result["precision"] = [precision_error(m, c, dev, steps=steps) for m, c in variants]
        if as_json:
            sys.stdout.write(json.dumps(result) + "\n")
        else:
            print_bench(result, console)
            for e in result.get("precision", []):
                console.print(f"{e['precision']}{' + compile' if e['compile'] else ''}: {e['speedup']:.2f}× float32's "
                              f"speed; |Δ final reliance| median {e['median_abs_reliance_error']:.2e}, "
                              f"max {e['max_abs_reliance_error']:.2e}; "
                              f"{100 * e['prediction_flip_rate']:.3f}% of deployment predictions flipped")


@app.command()
def pragmascope(data: Path = typer.Argument(..., help="CSV or Parquet file: rows are samples, numeric columns variables."),
                views: Optional[str] = typer.Option(None, "--views", help="Column groups: '0-3,4-7', "
                                                    "'0-1+8-9,2-3+10-11', 'auto:V', or by column name: 'a+b,c+d'. "
                                                    "Indices count the numeric columns only. Default: every column "
                                                    "a view."),
                out: Path = typer.Option(..., "--out", help="Folder for features.csv, scores.json, pragmascope.png."),
                method: str = typer.Option("linear", "--method", help="linear (multi-view CCA) or nonlinear "
                                           "(contrastive per-view encoders)."),
                na: str = typer.Option("refuse", "--na", help="Rows with a blank or non-finite cell: refuse (the "
                                       "default: one error naming the column) or drop them.")) -> None:
    """Find the natural abstractions in a dataset (see greedlab.pragmascope)."""
    with _clean_errors():
        from greedlab import pragmascope as ps

        if method not in ("linear", "nonlinear"):
            raise ConfigError("--method", "linear, nonlinear", method)
        if na not in ps.NA_POLICIES:
            raise ConfigError("--na", ", ".join(ps.NA_POLICIES), na)
        _check_folder(out, "--out", ("features.csv", "scores.json", "pragmascope.png"))
        table = ps.load_table(data, na)
        names = table.names
        if table.dropped_columns:
            # said out loud: they shift every column index after them
            numbering = ", ".join(f"{i}={n}" for i, n in enumerate(names[:12])) + (", …" if len(names) > 12 else "")
            err_console.print(f"note: non-numeric columns left out: {', '.join(table.dropped_columns)}; --views "
                              f"indices count the numeric ones: {numbering}", highlight=False, soft_wrap=True,
                              markup=False)
        if table.dropped_rows:
            err_console.print(f"note: --na drop left out {table.dropped_rows} of {table.dropped_rows + len(table.x)} "
                              "rows (a blank or non-finite cell)", highlight=False, markup=False)
        groups = ps.parse_views(views, table.x.shape[1], names)
        result = ps.find(table.x, groups) if method == "linear" else ps.find_nonlinear(table.x, groups)
        for p in ps.write(result, out, names):
            console.print(str(p))
        console.print(f"{result.features.shape[1]} natural abstractions (redundancy > {ps.REDUNDANCY_MIN}, "
                      f"agreement > {ps.SHARED_MIN})")


@app.callback(invoke_without_command=True)
def main(version: bool = typer.Option(False, "--version", help="Print the version.")) -> None:
    if version:
        console.print(__version__)
        raise typer.Exit()


if __name__ == "__main__":
    app()
