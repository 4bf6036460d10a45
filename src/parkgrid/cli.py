"""The `parkgrid` command line: validate, profiles, schedule, run, report."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from parkgrid.errors import ParkgridError

app = typer.Typer(
    help="Plan and simulate the energy system of near-zero-carbon industrial parks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

ParkPath = Annotated[Path, typer.Argument(help="park config (YAML)", show_default=False)]


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ParkgridError into a message on stderr and exit status 2, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ParkgridError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def _park_table(summary: dict[str, Any]) -> Table:
    table = Table(title=summary["title"], show_header=True, title_justify="left")
    table.add_column("asset / input")
    table.add_column("size", justify="right")
    table.add_column("annual energy", justify="right")
    for row in summary["rows"]:
        table.add_row(*row)
    return table


@app.command()
@reports_errors
def validate(park: ParkPath) -> None:
    """Check a park config and print a one-screen summary of its assets and inputs."""
    from parkgrid.config import load_park
    from parkgrid.inputs import build_inputs
    from parkgrid.profiles import park_summary

    config = load_park(park)
    inputs = build_inputs(config)
    console.print(_park_table(park_summary(inputs)))
    console.print(f"[green]{park}: valid[/]")


@app.command()
@reports_errors
def profiles(
    park: ParkPath,
    year: Annotated[int | None, typer.Option(help="calendar year (default: the config's)")] = None,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("profiles-out"),
) -> None:
    """Build a year of inputs, write them (Parquet + CSV summary) and print annual totals."""
    from parkgrid.config import load_park
    from parkgrid.inputs import build_inputs
    from parkgrid.profiles import annual_totals, write_inputs

    config = load_park(park)
    inputs = build_inputs(config, year)
    totals = annual_totals(inputs)
    written = write_inputs(inputs, totals, out)
    table = Table(title=f"{config.name}: inputs for {inputs.index[0].year}", title_justify="left")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in totals.items():
        table.add_row(key, f"{value:,.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print(f"built in {inputs.build_seconds:.2f} s; wrote {', '.join(map(str, written))}")


@app.command()
@reports_errors
def schedule(
    park: ParkPath,
    date: Annotated[str, typer.Option(help="first local day of the horizon, YYYY-MM-DD")],
    horizon_hours: Annotated[float, typer.Option(help="horizon length from midnight")] = 24.0,
    soc: Annotated[list[str] | None, typer.Option(
        help="starting storage NAME=FRACTION (battery name or 'tank'); repeatable")] = None,
    month_peak_kw: Annotated[float, typer.Option(help="month-to-date peak import, kW")] = 0.0,
    out: Annotated[Path | None, typer.Option(help="schedule file: .csv, .json or .parquet")] = None,
    pareto: Annotated[int, typer.Option(help="also trace a cost/CO2 front of N points")] = 0,
    time_limit: Annotated[float | None, typer.Option(help="solver time limit, s")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="relative MIP gap")] = None,
) -> None:
    """Plan a day-ahead schedule (Pyomo MILP + HiGHS) and write it for the EMS."""
    from parkgrid.optimizer.command import schedule_command, summary

    result = schedule_command(park, date, horizon_hours, soc or [], out, month_peak_kw,
                              pareto, time_limit, mip_gap)
    table = Table(title=f"schedule from {date}", title_justify="left")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in summary(result.schedule).items():
        table.add_row(key, value)
    console.print(table)
    if result.front is not None:
        console.print(result.front.to_string(index=False))
    for path in result.written:
        console.print(f"wrote {path}")


@app.command()
@reports_errors
def run(
    park: ParkPath,
    start: Annotated[str | None, typer.Option(help="first day YYYY-MM-DD (default 1 Jan)")] = None,
    days: Annotated[int | None, typer.Option(
        help="number of days (default: to the end of the start's calendar year)")] = None,
    forecast: Annotated[str, typer.Option(help="perfect | persistence | noisy")] = "noisy",
    planner: Annotated[str, typer.Option(help="milp | rules | none")] = "milp",
    seed: Annotated[int, typer.Option(help="seed of the noisy forecasts")] = 0,
    out: Annotated[Path | None, typer.Option(
        help="results folder (default results/<park file stem>)")] = None,
    report: Annotated[bool, typer.Option(help="write report.html into the results")] = True,
    time_limit: Annotated[float | None, typer.Option(
        help="per-day MILP time limit, s (default: the park's objective.time_limit_s)")] = None,
    mip_gap: Annotated[float | None, typer.Option(
        help="per-day relative MIP gap (default: the park's objective.rollout_mip_gap)")] = None,
    horizon_h: Annotated[int | None, typer.Option(
        help="hours each daily plan covers, 24–168; the first 24 are applied (default: the "
             "park's objective.rollout_horizon_h)")] = None,
) -> None:
    """Roll a period out day by day against actuals, with baselines, bound and KPIs."""
    from parkgrid.simulate.command import run_command

    out = out if out is not None else Path("results") / park.stem
    options = {key: value for key, value in (("time_limit_s", time_limit), ("mip_gap", mip_gap))
               if value is not None}
    result = run_command(park, start, days, forecast, planner, seed, out, console=console,
                         planner_options=options, horizon_h=horizon_h)
    if report:
        from parkgrid.report import write_report

        console.print(f"report: {write_report(out, park=result.strategy.park)}")


@app.command(name="report")
@reports_errors
def report_command(
    results: Annotated[Path, typer.Argument(help="results folder of `parkgrid run`")],
    out: Annotated[Path | None, typer.Option(
        help="HTML file (default RESULTS/report.html)")] = None,
) -> None:
    """Turn a results folder into one self-contained HTML report."""
    from parkgrid.report import write_report

    console.print(f"wrote {write_report(results, out)}")


@app.command()
@reports_errors
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="sweep file (YAML)", show_default=False)],
    workers: Annotated[int | None, typer.Option(
        help="local worker processes (default: one per CPU)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="existing Dask scheduler, e.g. tcp://host:8786")] = None,
    out: Annotated[Path | None, typer.Option(
        help="results folder (default results/sweeps/<file stem>)")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="run only the variants not yet in OUT")] = False,
) -> None:
    """Run a sweep of park variants (or a portfolio of parks) on Dask."""
    from parkgrid.sweep import sweep_command

    sweep_command(sweep_file, workers, scheduler, out, resume, console=console)


@app.command()
@reports_errors
def size(
    park: ParkPath,
    assets: Annotated[str, typer.Option(
        help="assets to size, comma-separated: battery,tank,pv,wind")] = "battery,tank",
    bounds: Annotated[list[str] | None, typer.Option(
        help="ASSET=LO:HI size bounds (kWh, kWh_th, kWp, kW); repeatable; "
             "default 0 to 4 × the configured size")] = None,
    out: Annotated[Path | None, typer.Option(
        help="results folder (default results/<park file stem>_size)")] = None,
    step_minutes: Annotated[int, typer.Option(
        help="time step of the sizing LP (the reduction; 15, 30 or 60)")] = 60,
    start: Annotated[str | None, typer.Option(
        help="first day of the check rollout, and of the sizing period with --days "
             "(default 1 Jan)")] = None,
    days: Annotated[int | None, typer.Option(
        help="days of the sizing period (default: the whole year)")] = None,
    check_days: Annotated[int | None, typer.Option(
        help="days of the check rollout (default: to the end of the year)")] = None,
    check: Annotated[bool, typer.Option(help="run the check rollout")] = True,
) -> None:
    """Size assets by a perfect-foresight LP with annualised capex; check the sized park."""
    from parkgrid.size_command import size_command

    if step_minutes not in (15, 30, 60):
        raise typer.BadParameter(f"got {step_minutes}, expected 15, 30 or 60",
                                 param_hint="--step-minutes")
    if days is not None and days < 1:
        raise typer.BadParameter(f"got {days}, expected ≥ 1", param_hint="--days")
    size_command(park, assets, bounds or [], out, step_minutes, start, days, check_days,
                 check, console=console)


@app.command()
def schema() -> None:
    """Print the park config schema as Markdown (the source of docs/config.md)."""
    from parkgrid.config import schema_markdown

    typer.echo(schema_markdown())


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
