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
                 "control FAILED": "red"}


@contextmanager
def _clean_errors() -> Iterator[None]:
    try:
        yield
    except (ConfigError, StoreError) as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False)
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


@app.command()
def run(claim: Optional[list[str]] = typer.Option(None, "--claim", help="Claim id (repeatable); default: all."),
        store: Path = typer.Option(Path("greedlab.duckdb"), "--store", help=STORE_HELP),
        scale: str = typer.Option("quick", "--scale", help="quick (minutes on a laptop) or full."),
        device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
        figures: Optional[Path] = typer.Option(None, "--figures",
                                               help="Figure folder; default: greedlab-figures next to the store."),
        config: Optional[Path] = typer.Option(None, "--config", help="TOML file of [world] [model] [train] overrides."),
        set_: Optional[list[str]] = typer.Option(None, "--set", help="Override one field: model.width=128 (repeatable)."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bars.")) -> None:
    """Run claims (all by default): train, measure, compute verdicts, store them, draw figures."""
    with _clean_errors():
        from greedlab import config as user_config
        from greedlab.claims import REGISTRY
        from greedlab.claims.common import get_scale
        from greedlab.claims.context import Context
        from greedlab.experiment import run as run_spec
        from greedlab.store import Store

        ids = claim or list(REGISTRY)
        for c in ids:
            if c not in REGISTRY:
                raise ConfigError("claim", ", ".join(REGISTRY), c)
        sc = get_scale(scale)
        dev = _check_device(device)
        overrides = user_config.load(config, set_)
        fig_dir = figures or store.parent / "greedlab-figures"
        results = []

        def context(runner) -> Context:
            return Context(sc, fig_dir, runner, overrides)

        # build every run's config before touching the store: a bad value fails here, naming its field
        plan = {c: REGISTRY[c].conditions(context(None)) for c in ids}
        with Store(store) as st, _progress(quiet) as prog:
            claims_task = prog.add_task("claims", total=len(ids))
            n_runs = len({spec.run_id for specs in plan.values() for spec in specs.values()})
            runs_task = prog.add_task(f"runs ({n_runs} distinct)", total=n_runs)
            seen: set[str] = set()

            def runner(spec, label):
                task = prog.add_task(f"  {label} ({spec.n_models} seeds)", total=spec.train.steps)
                res = run_spec(spec, st, device=dev, progress=lambda done, total: prog.update(task, completed=done))
                prog.update(task, completed=spec.train.steps, visible=False)
                if spec.run_id not in seen:
                    seen.add(spec.run_id)
                    prog.advance(runs_task)
                return res

            for c in ids:
                prog.update(claims_task, description=f"claim {c}")
                res = REGISTRY[c].run(context(runner))
                st.replace_verdicts(c, [dict(r.as_dict(), version=__version__) for r in res.rows]
                                    + [dict(condition="overall", statistic="verdict", value=float("nan"),
                                            ci_low=float("nan"), ci_high=float("nan"), verdict=res.verdict,
                                            run_ids=sorted({i for r in res.rows for i in r.run_ids}),
                                            version=__version__)])
                results.append(res)
                prog.advance(claims_task)
        _print_results(results)
        console.print(f"store: {store}   figures: {fig_dir}")


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
def bench(models: int = typer.Option(64, "--models", help="Ensemble size."),
          steps: int = typer.Option(200, "--steps", help="Training steps timed."),
          device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
          as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Ensemble vs per-model loop throughput, and achieved vs the machine's matmul FLOP/s."""
    with _clean_errors():
        import json

        if models < 1:
            raise ConfigError("models", "an integer ≥ 1", models)
        if steps < 1:
            raise ConfigError("steps", "an integer ≥ 1", steps)
        from greedlab.bench import bench as run_bench
        from greedlab.bench import print_bench

        result = run_bench(n_models=models, steps=steps, device=_check_device(device))
        if as_json:
            sys.stdout.write(json.dumps(result) + "\n")
        else:
            print_bench(result, console)


@app.callback(invoke_without_command=True)
def main(version: bool = typer.Option(False, "--version", help="Print the version.")) -> None:
    if version:
        console.print(__version__)
        raise typer.Exit()


if __name__ == "__main__":
    app()
