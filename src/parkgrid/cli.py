"""The `parkgrid` command line: init, validate, profiles, schedule, forecast, run, report,
sweep, serve."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperOption

from parkgrid.errors import ParkgridError
from parkgrid.reporting import display

app = typer.Typer(
    help="Plan and simulate the energy system of near-zero-carbon industrial parks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _flag_type(option: TyperOption, ctx: typer.Context) -> str | None:
    """A flag takes no value: its help row shows no type (typer would print ``<bool>``)."""
    return None if option.is_flag else _TYPER_TYPE(option, ctx)


_TYPER_TYPE = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]

ParkPath = Annotated[Path, typer.Argument(help="park config (YAML)", show_default=False)]


DEBUG = {"traceback": False}
"""Set by ``parkgrid --debug``: show the traceback of an unexpected error."""


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option(
        "--debug", help="show the traceback of an unexpected error")] = False,
) -> None:
    """Plan and simulate the energy system of near-zero-carbon industrial parks."""
    DEBUG["traceback"] = debug


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Exit status 2 with a message for bad input (a ParkgridError, or a file that cannot be
    written: the path is named); 1 with a message for anything unexpected. A traceback only
    with ``--debug``."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ParkgridError as exc:
            _error(exc, 2, f"{exc}")
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _error(exc, 2, f"{where}{exc.strerror or exc}")
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            _error(exc, 1, f"unexpected {type(exc).__name__}: {exc} (rerun with "
                           "`parkgrid --debug ...` for the traceback)")

    return wrapper


def _error(exc: BaseException, status: int, message: str) -> None:
    if DEBUG["traceback"]:
        err_console.print_exception()
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(status) from None


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
    from parkgrid.inputs.profiles import park_summary

    config = load_park(park)
    inputs = build_inputs(config)
    summary = park_summary(inputs)
    console.print(_park_table(summary))
    for note in summary["notes"]:
        console.print(note, highlight=False)
    if config.demand_response is not None:
        from parkgrid.dr.events import read_calendar

        console.print(f"demand response: {len(read_calendar(config))} events of "
                      f"{len(config.demand_response.programmes)} programme(s)")
    console.print(f"[green]{park}: valid[/]")


@app.command()
@reports_errors
def profiles(
    park: ParkPath,
    year: Annotated[int | None, typer.Option(help="calendar year (default: the config's)")] = None,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("profiles-out"),
) -> None:
    """Build a year of inputs, write them (Parquet + CSV summary) and print annual totals."""
    from parkgrid.commands.arguments import YEARS, number
    from parkgrid.config import load_park
    from parkgrid.inputs import build_inputs
    from parkgrid.inputs.profiles import annual_totals, write_inputs

    number("--year", year, *YEARS)
    config = load_park(park)
    inputs = build_inputs(config, year)
    totals = annual_totals(inputs)
    written = write_inputs(inputs, totals, out)
    table = Table(title=f"{config.name}: inputs for {inputs.index[0].year}", title_justify="left")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, raw in totals.items():
        if key != "year":
            table.add_row(display.label(key), display.value(key, raw))
    console.print(table)
    console.print(f"built in {inputs.build_seconds:.2f} s; wrote {', '.join(map(str, written))}")


@app.command()
@reports_errors
def schedule(
    park: ParkPath,
    date: Annotated[str | None, typer.Option(
        help="first local day of the horizon, YYYY-MM-DD (or --start)")] = None,
    start: Annotated[str | None, typer.Option(
        help="first step of the horizon, ISO 8601 (naive = park local time), e.g. "
             "2025-07-15T13:00")] = None,
    horizon_hours: Annotated[float, typer.Option(help="horizon length from the start")] = 24.0,
    forecast: Annotated[Path | None, typer.Option(
        help="forecast file (CSV/Parquet) covering the horizon: pv_kw_*, wind_kw_*, load_kw_*, "
             "cooling_load_kw_th, optional prices / CO2 (default: the park's own inputs)")] = None,
    state: Annotated[Path | None, typer.Option(
        help="state file (JSON, docs/state.schema.json): SOC, tank, chillers, peak, EVs")] = None,
    prices: Annotated[Path | None, typer.Option(
        help="price / CO2 series file: price_import_yuan_per_kwh, price_export_yuan_per_kwh, "
             "co2_kg_per_kwh (default: the tariff calendar)")] = None,
    ev_sessions: Annotated[Path | None, typer.Option(
        help="expected EV sessions (CSV: arrival, departure, energy_kwh, charger), e.g. "
             "forecast's <out stem>.ev_sessions.csv: planned beside the state's EVs")] = None,
    soc: Annotated[list[str] | None, typer.Option(
        help="starting storage NAME=FRACTION (battery name or 'tank'); repeatable")] = None,
    month_peak_kw: Annotated[float, typer.Option(help="month-to-date peak import, kW")] = 0.0,
    out: Annotated[Path | None, typer.Option(help="schedule file: .csv, .json or .parquet")] = None,
    pareto: Annotated[int, typer.Option(help="also trace a cost/CO2 front of N points")] = 0,
    time_limit: Annotated[float | None, typer.Option(help="solver time limit, s")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="relative MIP gap")] = None,
) -> None:
    """Plan a day-ahead schedule (Pyomo MILP + HiGHS) and write it for the EMS."""
    from parkgrid.commands.schedule import schedule_command, summary

    result = schedule_command(park, date, horizon_hours, soc or [], out, month_peak_kw,
                              pareto, time_limit, mip_gap, start, forecast, state, prices,
                              ev_sessions)
    for warning in result.schedule.metadata.get("warnings", []):
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    table = Table(title=f"schedule from {result.schedule.metadata['horizon_start']}",
                  title_justify="left")
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
def forecast(
    park: ParkPath,
    history: Annotated[Path, typer.Option(
        help="metered history (CSV/Parquet): load_kw_*, cooling_load_kw_th, pv_kw_*, wind_kw_*, "
             "optional ghi, temp_air, wind_speed")],
    weather_forecast: Annotated[Path, typer.Option(
        help="weather forecast (CSV/Parquet): ghi, temp_air, wind_speed (dni, dhi optional)")],
    issue: Annotated[str | None, typer.Option(
        help="issue time, ISO 8601 on a step boundary (naive = park local time)")] = None,
    horizon_h: Annotated[float, typer.Option(help="forecast horizon, h")] = 24.0,
    out: Annotated[Path | None, typer.Option(
        help="forecast file (.csv/.parquet, readable by schedule --forecast); with --backtest "
             "the skill table (.csv/.parquet) and its plot (<out>.png)")] = None,
    backtest: Annotated[str | None, typer.Option(
        help="START:END (dates): score forecasts issued at each midnight against history")] = None,
    ev_history: Annotated[Path | None, typer.Option(
        help="EV session history (CSV: arrival, departure, energy_kwh, charger): forecast the "
             "horizon's arrivals to <out stem>.ev_sessions.csv")] = None,
) -> None:
    """Forecast loads, PV and wind from the park's history and a weather forecast."""
    from parkgrid.commands.forecast import forecast_command

    result = forecast_command(park, history, weather_forecast, issue, horizon_h, out, backtest,
                              ev_history)
    if result.forecast is not None:
        table = Table(title=f"forecast from {issue} ({horizon_h:g} h)", title_justify="left")
        for column in ("quantity", "method", "mean", "max"):
            table.add_column(column, justify="left" if column in ("quantity", "method")
                             else "right")
        frame = result.forecast.frame
        for name, method in result.forecast.methods.items():
            table.add_row(name, method, f"{frame[name].mean():,.1f}", f"{frame[name].max():,.1f}")
        console.print(table)
        for note in result.forecast.notes:
            err_console.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
    if result.ev_sessions is not None:
        console.print(f"forecast {len(result.ev_sessions)} EV session(s) arriving in the "
                      "horizon (the last history day of each day type, moved)")
    if result.skill is not None:
        table = Table(title=f"backtest {backtest}", title_justify="left")
        for column in result.skill.columns:
            table.add_column(column, justify="left" if column in ("quantity", "lead") else "right")
        for row in result.skill.itertuples(index=False):
            table.add_row(*(f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row))
        console.print(table)
    for path in result.written:
        console.print(f"wrote {path}")


@app.command()
@reports_errors
def run(
    park: ParkPath,
    start: Annotated[str | None, typer.Option(help="first day YYYY-MM-DD (default 1 Jan)")] = None,
    days: Annotated[int | None, typer.Option(
        help="number of days (default: to the end of the start's calendar year)")] = None,
    forecast: Annotated[str, typer.Option(help="perfect | persistence | noisy | model")] = "noisy",
    planner: Annotated[str, typer.Option(help="milp | rules | none")] = "milp",
    seed: Annotated[int, typer.Option(help="seed of the noisy forecasts")] = 0,
    out: Annotated[Path | None, typer.Option(
        help="results folder (default results/<park file stem>)")] = None,
    report: Annotated[bool, typer.Option(help="write report.html into the results")] = True,
    wide: Annotated[bool, typer.Option(
        "--wide", help="the full KPI table (unit and perfect-foresight columns)")] = False,
    time_limit: Annotated[float | None, typer.Option(
        help="per-day MILP time limit, s (default: the park's objective.time_limit_s)")] = None,
    mip_gap: Annotated[float | None, typer.Option(
        help="per-day relative MIP gap (default: the park's objective.rollout_mip_gap)")] = None,
    horizon_h: Annotated[int | None, typer.Option(
        help="hours each daily plan covers, 24–168; the first 24 are applied (default: the "
             "park's objective.rollout_horizon_h)")] = None,
    replan_every: Annotated[str | None, typer.Option(
        help="re-plan intraday (MPC) every 15min, 1h, 4h, …: from the state reached, on "
             "refreshed forecasts (default: day-ahead only)")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="replace a results folder that holds another run")] = False,
) -> None:
    """Roll a period out day by day against actuals, with baselines, bound and KPIs."""
    from parkgrid.commands.run import run_command

    out = out if out is not None else Path("results") / park.stem
    options = {key: value for key, value in (("time_limit_s", time_limit), ("mip_gap", mip_gap))
               if value is not None}
    result = run_command(park, start, days, forecast, planner, seed, out, console=console,
                         planner_options=options, horizon_h=horizon_h, wide=wide,
                         replan_every=replan_every, force=force)
    if report:
        from parkgrid.reporting.html import write_report

        console.print(f"report: {write_report(out, park=result.strategy.park)}")


@app.command(name="report")
@reports_errors
def report_command(
    results: Annotated[Path, typer.Argument(help="results folder of `parkgrid run`")],
    out: Annotated[Path | None, typer.Option(
        help="HTML file (default RESULTS/report.html)")] = None,
) -> None:
    """Turn a results folder into one self-contained HTML report."""
    from parkgrid.io.results import recover
    from parkgrid.reporting.html import write_report

    for line in recover(results):  # an interrupted `run` left its swap unfinished
        console.print(line)
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
    from parkgrid.sweeps.run import sweep_command

    sweep_command(sweep_file, workers, scheduler, out, resume, console=console)


@app.command()
@reports_errors
def vpp(
    portfolio: Annotated[Path, typer.Argument(help="portfolio file (YAML)", show_default=False)],
    event: Annotated[Path, typer.Option(help="the aggregator's events (calendar CSV)",
                                        show_default=False)],
    out: Annotated[Path | None, typer.Option(
        help="results folder (default results/vpp/<file stem>)")] = None,
    forecast: Annotated[str, typer.Option(help="forecasts of the parks' rollouts")] = "noisy",
    seed: Annotated[int, typer.Option(help="forecast seed")] = 0,
    workers: Annotated[int | None, typer.Option(
        help="local Dask worker processes (large portfolios; default: one per CPU)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="existing Dask scheduler, e.g. tcp://host:8786")] = None,
) -> None:
    """Split an aggregator's demand-response request across a portfolio's parks at least total
    cost, deliver and settle each park's share (docs/demand_response.md)."""
    from parkgrid.commands.vpp import vpp_command

    vpp_command(portfolio, event, out, forecast, seed, workers, scheduler, console=console)


@app.command()
@reports_errors
def init(
    name: Annotated[str, typer.Argument(help="the park's name", show_default=False)],
    out: Annotated[Path | None, typer.Option(
        help="folder to write into (default: NAME as a folder name)")] = None,
) -> None:
    """Write a commented starter park (park.yaml + its climate file) that validates."""
    from parkgrid.commands.init import write_starter

    park, *others = write_starter(name, out)
    console.print(f"wrote {park} and {', '.join(map(str, others))}", highlight=False)
    console.print(f"next: parkgrid validate {park}; parkgrid run {park} --days 7",
                  highlight=False)


@app.command()
@reports_errors
def serve(
    parks: Annotated[list[Path], typer.Argument(help="park configs (YAML), served under their "
                                                     "file names", show_default=False)],
    host: Annotated[str, typer.Option(help="address to listen on; beyond loopback needs "
                                           "--token-file")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8080,
    token_file: Annotated[Path | None, typer.Option(
        help="file holding the bearer token clients must send (chmod 600)")] = None,
    data_dir: Annotated[Path, typer.Option(
        help="folder of the latest plans (kept across restarts)")] = Path("parkgrid-serve"),
    planners_per_park: Annotated[int | None, typer.Option(
        min=1, max=64, help="planner processes per park, each with its own model (requests "
                            "of a park solved in parallel); default: the usable cores, at "
                            "most 4", show_default=False)] = None,
) -> None:
    """Serve plans over HTTP for the parks' EMS (docs/serve.md; OpenAPI docs at /docs)."""
    from parkgrid.serve import serve as run_service

    run_service(parks, host, port, token_file, data_dir, planners_per_park)


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
    from parkgrid.commands.size import size_command

    size_command(park, assets, bounds or [], out, step_minutes, start, days, check_days,
                 check, console=console)


@app.command()
def schema() -> None:
    """Print the park config schema as Markdown (the source of docs/config.md)."""
    from parkgrid.config import schema_markdown

    typer.echo(schema_markdown())


@app.command(name="json-schema")
@reports_errors
def json_schema(
    document: Annotated[str, typer.Argument(help="plan | state")],
) -> None:
    """Print the JSON Schema of a plan document or a state file (docs/*.schema.json)."""
    from parkgrid.io.plan_document import json_schema_text

    typer.echo(json_schema_text(document))


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
