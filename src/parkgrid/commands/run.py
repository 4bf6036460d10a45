"""`parkgrid run`: a rollout with its baselines and bound, a progress bar, a KPI table and
the results folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from parkgrid.commands.arguments import iso_date, number
from parkgrid.commands.schedule import check_plan_options
from parkgrid.config import ROLLOUT_HORIZON_H, SEED_MAX, Park, load_park
from parkgrid.errors import ArgumentError
from parkgrid.inputs import build_inputs
from parkgrid.io.results import check_target, run_identity, write_results
from parkgrid.model import registry
from parkgrid.reporting.html import (
    BASELINE_TITLES,
    KPI_ROWS,
    SELF_SUFFICIENCY_NOTE,
    indicator_verdict,
    run_bound,
)
from parkgrid.simulate.forecast import FORECASTERS
from parkgrid.simulate.rollout import PLANNERS, replan_steps
from parkgrid.simulate.run import BASELINES, RunResult, run


def run_command(park_path: Path | str, start: str | None = None, days: int | None = None,
                forecast: str = "noisy", planner: str = "milp", seed: int = 0,
                out: Path | str | None = None, console: Console | None = None,
                planner_options: dict[str, Any] | None = None,
                horizon_h: int | None = None, replan_every: str | None = None,
                wide: bool = False, force: bool = False) -> RunResult:
    """Load the park, run the strategy, baselines and bound with a progress bar, print the
    KPI table and write the results folder (default ``results/<park file stem>``).
    ``planner_options``: :class:`parkgrid.optimizer.PlanOptions` fields for the MILP planner
    (e.g. ``time_limit_s``); the bound keeps the park's settings. ``horizon_h``: hours each
    daily plan covers (default: the park's ``objective.rollout_horizon_h``). ``replan_every``:
    intraday re-planning interval ('1h', '15min', '4h'; default: day-ahead only). ``wide``:
    the full KPI table (unit and bound columns) instead of the 80-column one. ``force``:
    replace a results folder holding another run (refused before the rollout otherwise)."""
    console = console or Console()
    _check_options(start, days, forecast, planner, horizon_h, seed, planner_options or {})
    park = load_park(park_path)
    every = replan_steps(replan_every, park) if replan_every is not None else None
    out = Path(out) if out is not None else Path("results") / Path(park_path).stem
    check_target(out, _identity(park, start, days, forecast, planner, seed, horizon_h, every),
                 force)
    with console.status(f"building the inputs of {park.name}"):
        year = int(str(start)[:4]) if start else park.year
        inputs = build_inputs(park, year)
    with _progress(console) as bar:
        tasks: dict[str, Any] = {}

        def report(task: str, done: int, total: int, cost: float | None) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total, cost="")
            shown = f"{cost:,.0f} yuan" if cost is not None else ""
            bar.update(tasks[task], completed=done, total=total, cost=shown)

        result = run(park, start, days, forecast, planner, seed, inputs=inputs,
                     report=report, planner_options=planner_options, horizon_h=horizon_h,
                     replan_every=every)
    r = result.strategy
    write_results(out, result.kpis, r.ledger, r.schedules, r.events,
                  {name: b.ledger for name, b in result.baselines.items()}, force=force)
    console.print(kpi_table(result.kpis, wide))
    console.print(summary_lines(result.kpis, out))
    return result


def _identity(park: Park, start: str | None, days: int | None, forecast: str, planner: str,
              seed: int, horizon_h: int | None, replan_every: int | None) -> dict[str, Any]:
    """The run a results folder will hold (as :func:`parkgrid.io.results.run_identity`;
    ``replan_every`` in steps)."""
    first = pd.Timestamp(start or f"{park.year}-01-01")
    end = first + pd.Timedelta(days=days) if days else pd.Timestamp(f"{first.year + 1}-01-01")
    return run_identity({
        "park": park.name, "period": {"start": str(first.date()), "days": (end - first).days},
        "run": {"forecast": forecast, "planner": planner, "seed": seed,
                "horizon_h": park.objective.rollout_horizon_h if horizon_h is None
                else horizon_h,
                "replan_every_min": replan_every * park.time_step_minutes if replan_every
                else None}})


def _check_options(start: str | None, days: int | None, forecast: str, planner: str,
                   horizon_h: int | None, seed: int, planner_options: dict[str, Any]) -> None:
    """Reject bad command-line values with a message naming the option (no traceback)."""
    number("--horizon-h", horizon_h, *ROLLOUT_HORIZON_H)
    if forecast not in FORECASTERS:
        raise ArgumentError("--forecast", forecast, f"one of {', '.join(FORECASTERS)}")
    if planner not in PLANNERS:
        raise ArgumentError("--planner", planner, f"one of {', '.join(PLANNERS)}")
    number("--days", days, 1, 366)
    number("--seed", seed, 0, SEED_MAX)
    check_plan_options(*(planner_options.get(k) for k in ("time_limit_s", "mip_gap")))
    if start is not None:
        first = pd.Timestamp(iso_date("--start", start))
        if days is not None and (first + pd.Timedelta(days=days - 1)).year != first.year:
            raise ArgumentError("--days", days, f"days that end in {first.year} (inputs are "
                                "built per calendar year)")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[cost]:>18}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console, transient=False,
    )




def kpi_table(doc: dict[str, Any], wide: bool = False) -> Table:
    """The strategy next to every baseline. Compact by default (fits 80 columns: the unit in
    the label, money in yuan without decimals, rows that are zero everywhere left out, the
    perfect-foresight bound as a line of :func:`summary_lines`); ``wide``: every row, a unit
    column and the bound's column."""
    run_info = doc["run"]
    last = (pd.Timestamp(doc["period"]["end"]) - pd.Timedelta(days=1)).date()
    table = Table(title=f"{doc['park']} · {doc['period']['start']} to {last}",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("KPI", overflow="fold", ratio=1)
    if wide:
        table.add_column("unit")
    table.add_column(f"{run_info['planner']} ({run_info['forecast']})", justify="right",
                     style="bold", no_wrap=True)
    names = [n for n in BASELINES if n in doc["baselines"]]
    for name in names:
        table.add_column(BASELINE_TITLES[name], justify="right", no_wrap=True)
    bound = run_bound(doc) if wide else None
    if bound:
        table.add_column("perfect foresight", justify="right", no_wrap=True)
    columns = [doc["strategy"], *(doc["baselines"][n] for n in names)]
    comp = doc.get("comparison") or {}
    hidden: list[str] = []
    for group, (label, key, unit, scale, fmt) in zip(KPI_GROUPS, KPI_ROWS, strict=True):
        raw = [k.get(key) for k in columns]
        if not wide and all(not v for v in raw):
            hidden.append(label.strip())
            continue
        cells = [_cell(v, scale, fmt) for v in raw]
        if bound:
            cells.append(fmt.format(bound["total_cost_yuan"]) if key == "total_cost_yuan"
                         else "")
        short = re.sub(r" \(.*\)", "", label)
        head = [label, unit] if wide else [f"{short}, {unit}" if label[0] != " " else short]
        table.add_row(*head, *cells, end_section=group)
    savings = comp.get("savings_yuan") or {}
    table.add_row("saving, yuan" if not wide else "saving vs baseline",
                  *(["yuan"] if wide else []), "",
                  *[_cell(savings.get(n), 1.0, "{:,.0f}") for n in names],
                  *([""] if bound else []))
    table.caption = SELF_SUFFICIENCY_NOTE + (
        f"\nzero in every column: {', '.join(hidden)} (--wide shows all)" if hidden else "")
    table.caption_justify = "left"
    return table


KPI_GROUPS = [key in ("total_cost_yuan", "self_consumption", "battery_throughput_kwh",
                      "ev_unmet_kwh") for _, key, *_ in KPI_ROWS]
"""Where the table draws a line: after the costs, the energies, the shares and the peak."""


def _cell(value: float | None, scale: float, fmt: str) -> str:
    return "" if value is None else fmt.format(value * scale)


def summary_lines(doc: dict[str, Any], out: Path) -> str:
    """Regret, solver statistics, zero-carbon indicators and where the results are."""
    lines = []
    comp, solver = doc["comparison"], doc["solver"]
    bound = run_bound(doc)
    if bound and "regret_yuan" in comp:
        lines.append(f"perfect-foresight bound (the lowest total cost had the whole period been "
                     f"known in advance): {bound['total_cost_yuan']:,.0f} yuan; the plan costs "
                     f"{comp['regret_yuan']:,.0f} yuan ({comp['regret_pct']:.2f} %) more")
    elif (doc.get("perfect_foresight") or {}).get("error"):
        lines.append(f"perfect-foresight bound failed: {doc['perfect_foresight']['error']}")
    if solver.get("days"):
        fallback = len(solver["fallback_days"])
        lines.append(f"planner: {solver['days']} days, solve median "
                     f"{solver['solve_s_median']:.3f} s, p95 {solver['solve_s_p95']:.3f} s, "
                     f"{fallback} fallback day(s)")
    if "replans" in solver:
        lines.append(replan_line(doc))
    eco = doc.get("economics")
    if eco:
        lines.append(economics_line(eco))
    k = doc["strategy"]
    for section in registry.hooks("report"):  # a plant's line, when its KPIs are there
        if section.summary is not None and section.present in k:
            lines.append(registry.load(section.summary)(k))
    zc = doc["strategy"]["zero_carbon"]
    passed = sum(bool(v["pass"]) for v in zc.values())
    lines.append(f"zero-carbon indicators: {passed} of {len(zc)} pass")
    lines += [f"  [red]FAIL[/] {indicator_verdict(name, v, doc['strategy'])}"
              for name, v in zc.items() if not v["pass"]]
    lines.append(f"results: {out}")
    return "\n".join(lines)


def replan_line(doc: dict[str, Any]) -> str:
    """How the run re-planned intraday: interval, re-plans made and failed, solve time."""
    solver, every = doc["solver"], (doc.get("run") or {}).get("replan_every_min")
    when = f"every {every:g} min" if every else "at demand-response notices"
    return (f"re-planned intraday {when}: {solver['replans']:,} re-plans, "
            f"{solver['replans_failed']} failed (previous plan kept), solve "
            f"{solver['replan_solve_s_total']:.1f} s in all")


def economics_line(eco: dict[str, Any]) -> str:
    """One line: what the investment pays against its baseline (or why it is not known)."""
    if "error" in eco:
        return f"economics: {eco['error']}"
    payback = eco["simple_payback_years"]
    paid = f"payback {payback:.1f} yr" if payback is not None else "no payback"
    days = eco.get("period_days", 365.0)
    scaled = f" (a year scaled from {days:g} days)" if days < 365 else ""
    return (f"economics vs {eco['baseline']}: NPV {eco['npv_yuan']:,.0f} yuan over "
            f"{eco['analysis_years']} yr, capex {eco['capex_yuan']:,.0f} yuan, {paid}{scaled}")
