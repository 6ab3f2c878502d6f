"""The ``greedlab`` command: run claims, export results, benchmark.

Every bad input ends in one line naming the field and the accepted values, exit code 2, and
nothing stored is touched (the store is opened only after all arguments are validated).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from greedlab import __version__
from greedlab.errors import ConfigError, StoreError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="greedlab: test the claims that gradient descent is greedy, on real gradient descent.")
# outside a terminal (logs, CI) rich would wrap tables at 80 columns; give them room instead
console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)

STORE_HELP = "Results store (DuckDB file)."
VERDICT_STYLE = {"supported": "green", "refuted": "red", "inconclusive": "yellow", "control ok": "green",
                 "control FAILED": "red", "flagged": "magenta"}


@contextmanager
def _clean_errors() -> Iterator[None]:
    try:
        yield
    except (ConfigError, StoreError) as e:
        # escaped: a message may hold brackets (`pip install 'greedlab[ray]'`) that rich would eat as markup
        err_console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)


def _check_device(device: str) -> str:
    import torch

    if device == "cpu":
        return device
    if device.startswith("cuda") and torch.cuda.is_available():
        return device
    raise ConfigError("device", "cpu, or cuda[:N] when a CUDA GPU is available", device)


def _progress(quiet: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err_console, disable=quiet, transient=False)


def _command(ids, scale, config, set_, claim_given) -> str:
    parts = ["greedlab run"] + ([f"--claim {c}" for c in ids] if claim_given else []) + [f"--scale {scale}"]
    if config is not None:
        parts.append(f"--config {config}")
    parts += [f"--set {s}" for s in set_ or []]
    return " ".join(parts)


def _execute(claim, store, scale, device, report, config, set_, quiet, train: bool) -> None:
    """Shared by ``run`` (trains what is missing) and ``report`` (loads only)."""
    from greedlab import config as user_config
    from greedlab.claims import REGISTRY, check_extras
    from greedlab.claims.common import get_scale
    from greedlab.claims.context import Context, run_claim
    from greedlab.experiment import MissingRun, load
    from greedlab.experiment import run as run_spec
    from greedlab.report import html
    from greedlab.store import Store

    ids = claim or list(REGISTRY)
    for c in ids:
        if c not in REGISTRY:
            raise ConfigError("claim", ", ".join(REGISTRY), c)
    sc = get_scale(scale)
    dev = _check_device(device)
    overrides = user_config.load(config, set_)
    report_dir = report or store.parent / "greedlab-report"
    fig_dir = report_dir / "figures"

    def context(runner) -> Context:
        return Context(sc, fig_dir, runner, overrides)

    # build every run's config before touching the store: a bad value fails here, naming its field
    plan = {c: REGISTRY[c].conditions(context(None)) for c in ids}
    if train:  # a report only reads the store; training a claim needs its optional packages
        for c in ids:
            check_extras(c)
    if not train and not store.exists():
        raise StoreError(f"store {store}: no such file; `greedlab run` makes it")
    results = []
    with Store(store, read_only=not train) as st, _progress(quiet) as prog:
        claims_task = prog.add_task("claims", total=len(ids))
        n_runs = len({spec.run_id for specs in plan.values() for spec in specs.values()})
        runs_task = prog.add_task(f"runs ({n_runs} distinct)", total=n_runs)
        seen: set[str] = set()

        def runner(spec, label):
            if not train:
                return load(spec, st)
            task = prog.add_task(f"  {label} ({spec.n_models} seeds)", total=spec.total_steps)
            res = run_spec(spec, st, device=dev, progress=lambda done, total: prog.update(task, completed=done))
            prog.update(task, completed=spec.total_steps, visible=False)
            if spec.run_id not in seen:
                seen.add(spec.run_id)
                prog.advance(runs_task)
            return res

        for c in ids:
            prog.update(claims_task, description=f"claim {c}")
            try:
                res = run_claim(REGISTRY[c], context(runner))
            except MissingRun:
                results.append((REGISTRY[c], None))
                prog.advance(claims_task)
                continue
            if train:
                st.replace_verdicts(c, [dict(r.as_dict(), version=__version__) for r in res.rows]
                                    + [dict(condition="overall", statistic="verdict", value=float("nan"),
                                            ci_low=float("nan"), ci_high=float("nan"), verdict=res.verdict,
                                            run_ids=sorted({i for r in res.rows for i in r.run_ids}),
                                            version=__version__)])
            results.append((REGISTRY[c], res))
            prog.advance(claims_task)
        # the report shows every claim the store holds at this scale, not only the ones just run
        others = []
        for c in REGISTRY:
            if c in ids:
                continue
            try:
                others.append((REGISTRY[c], run_claim(REGISTRY[c], context(lambda spec, label: load(spec, st)))))
            except (MissingRun, ConfigError):  # not stored, or not buildable under these overrides
                others.append((REGISTRY[c], None))
    order = list(REGISTRY)
    everything = sorted(results + others, key=lambda mr: order.index(mr[0].ID))
    page = html.build(report_dir, everything, _command(order, scale, config, set_, False), store)
    _print_results([r for _, r in results if r is not None])
    missing = [m.ID for m, r in results if r is None]
    if missing:
        console.print(f"not in the store at this scale (run them first): {', '.join(missing)}")
    console.print(f"store: {store}   report: {page}")


REPORT_HELP = "Report folder (index.html + figures/); default: greedlab-report next to the store."
CONFIG_HELP = "TOML file of [world] [model] [train] overrides."
SET_HELP = "Override one field: model.width=128 (repeatable)."


@app.command()
def run(claim: Optional[list[str]] = typer.Option(None, "--claim", help="Claim id (repeatable); default: all."),
        store: Path = typer.Option(Path("greedlab.duckdb"), "--store", help=STORE_HELP),
        scale: str = typer.Option("quick", "--scale", help="smoke, quick (minutes on a laptop) or full."),
        device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
        report: Optional[Path] = typer.Option(None, "--report", help=REPORT_HELP),
        config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
        set_: Optional[list[str]] = typer.Option(None, "--set", help=SET_HELP),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bars.")) -> None:
    """Run claims (all by default): train what the store lacks, compute verdicts, write the report."""
    with _clean_errors():
        _execute(claim, store, scale, device, report, config, set_, quiet, train=True)


@app.command("report")
def report_cmd(claim: Optional[list[str]] = typer.Option(None, "--claim", help="Claim id (repeatable); default: all."),
               store: Path = typer.Option(Path("greedlab.duckdb"), "--store", help=STORE_HELP),
               scale: str = typer.Option("quick", "--scale", help="The scale the runs were made at."),
               report: Optional[Path] = typer.Option(None, "--report", help=REPORT_HELP),
               config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
               set_: Optional[list[str]] = typer.Option(None, "--set", help=SET_HELP),
               quiet: bool = typer.Option(False, "--quiet", help="No progress bars.")) -> None:
    """Rebuild the report from the store without training anything."""
    with _clean_errors():
        _execute(claim, store, scale, "cpu", report, config, set_, quiet, train=False)


def _fmt(x: float) -> str:
    return "" if x != x else f"{x:.3g}"


def _print_results(results) -> None:
    table = Table(title="greedlab verdicts", show_lines=False)
    for col in ("claim", "condition", "statistic", "value", "95% CI", "verdict"):
        table.add_column(col, overflow="fold")
    for res in results:
        for r in res.rows:
            ci = f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]"
            style = VERDICT_STYLE.get(r.verdict, "")
            table.add_row(res.claim, r.condition, r.statistic, _fmt(r.value), ci,
                          f"[{style}]{r.verdict}[/]" if style else r.verdict)
        style = VERDICT_STYLE[res.verdict]
        table.add_row(f"[bold]{res.claim}[/]", "overall", res.summary, "", "", f"[bold {style}]{res.verdict}[/]",
                      end_section=True)
    console.print(table)
    summary = Table(title="summary")
    for col in ("claim", "claim text", "controls", "verdict"):
        summary.add_column(col)
    for res in results:
        controls = [r.verdict for r in res.rows if r.verdict.startswith("control")]
        ctrl = "ok" if controls and all(c == "control ok" for c in controls) else ("FAILED" if controls else "—")
        summary.add_row(res.claim, res.summary, ctrl, f"[bold {VERDICT_STYLE[res.verdict]}]{res.verdict}[/]")
    console.print(summary)


@app.command()
def export(store: Path = typer.Option(Path("greedlab.duckdb"), "--store", help=STORE_HELP),
           out: Path = typer.Option(..., "--out", help="Folder for runs, metrics and verdicts tables."),
           fmt: str = typer.Option("csv", "--format", help="csv or parquet.")) -> None:
    """Write the runs, metrics and verdicts tables as CSV or Parquet files."""
    with _clean_errors():
        from greedlab.store import Store

        if fmt not in ("csv", "parquet"):
            raise ConfigError("format", "csv, parquet", fmt)
        if not store.exists():
            raise StoreError(f"{store}: no such results store")
        with Store(store, read_only=True) as st:
            for p in st.export(out, fmt):
                console.print(str(p))


@app.command()
def sweep(grid: Path = typer.Argument(..., help="Grid file (.toml; .yaml with PyYAML): [sweep], [grid] axes, "
                                                "fixed [world] [model] [train] values."),
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
        from greedlab.engines import ENGINES, ChunkFailed, check_address, require_ray
        from greedlab.grid import load_grid
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
                                     "(1…1024 models), ensemble vs loop at 256, peak memory, quick-suite wall time."),
          claims: bool = typer.Option(True, "--claims/--no-claims", help="With --suite: time the quick claims "
                                      "suite too (minutes)."),
          figure: Optional[Path] = typer.Option(None, "--figure", help="With --suite: write the throughput curve "
                                                "(PNG) here."),
          compile_: bool = typer.Option(False, "--compile", help="Also time torch.compile'd training, with its "
                                        "error against float32."),
          precision: Optional[list[str]] = typer.Option(None, "--precision", help="tf32 or bf16 (repeatable): "
                                                        "speed and error against float32.")) -> None:
    """Ensemble vs per-model loop throughput, and achieved vs the machine's matmul FLOP/s."""
    with _clean_errors():
        import json

        from greedlab.bench_suite import PRECISIONS, figure as draw, precision_error, print_suite
        from greedlab.bench_suite import suite as run_suite

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
            result = run_suite(dev, claims=claims, precisions=modes, use_compile=compile_, log=log)
            if figure is not None:
                result["figure"] = str(draw(result, figure))
            if as_json:
                sys.stdout.write(json.dumps(result) + "\n")
            else:
                print_suite(result, console)
                if figure is not None:
                    console.print(f"figure: {figure}")
            return
        from greedlab.bench import bench as run_bench
        from greedlab.bench import print_bench

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
                                                    "'0-1+8-9,2-3+10-11' or 'auto:V'. Default: every column a view."),
                out: Path = typer.Option(..., "--out", help="Folder for features.csv, scores.json, pragmascope.png."),
                method: str = typer.Option("linear", "--method", help="linear (multi-view CCA) or nonlinear "
                                           "(contrastive per-view encoders).")) -> None:
    """Find the natural abstractions in a dataset (see greedlab.pragmascope)."""
    with _clean_errors():
        from greedlab import pragmascope as ps

        if method not in ("linear", "nonlinear"):
            raise ConfigError("--method", "linear, nonlinear", method)
        x, names = ps.load(data)
        groups = ps.parse_views(views, x.shape[1])
        result = ps.find(x, groups) if method == "linear" else ps.find_nonlinear(x, groups)
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
