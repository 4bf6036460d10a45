"""A whole run: the strategy's rollout, the baselines and the perfect-foresight bound, and the
KPI document that compares them (``kpis.json``).

Baselines (same period, same actuals):
- ``grid_only`` — no renewables, no storage: every load from the grid and the heat from the
  diesel boiler alone (the park before its projects: the CO2 baseline);
- ``re_no_storage`` — the park's renewables, storage idle ('none' planner);
- ``rules`` — the rule-based planner with the strategy's forecasts;
- the perfect-foresight bound (:mod:`parkgrid.simulate.bound`): no causal strategy can
  cost less.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from parkgrid.config import Park
from parkgrid.design import economics
from parkgrid.dr.events import read_calendar
from parkgrid.dr.kpis import dr_kpis
from parkgrid.inputs import Inputs, build_inputs
from parkgrid.model.schedule import SCHEMA_VERSION
from parkgrid.model.system import system_summary
from parkgrid.simulate import kpi
from parkgrid.simulate.bound import BoundResult, perfect_foresight_bound
from parkgrid.simulate.forecast import Perfect, make_forecaster
from parkgrid.simulate.rollout import (
    RolloutResult,
    day_starts,
    make_planner,
    rollout_options,
    simulate,
)
from parkgrid.simulate.rules import plan_before, plan_idle, plan_rules
from parkgrid.simulate.worker import Background

BASELINES = ("grid_only", "re_no_storage", "rules")
BOUND_TASK = "perfect-foresight bound"
PERIOD_KEYS = ("total_cost_yuan", "cost_yuan", "co2_t", "self_sufficiency")
"""Stable period-level keys of ``kpis["strategy"]`` (and of each baseline)."""

Report = Callable[[str, int, int, float | None], None]
"""``report(task, done, total, running_cost_yuan)`` — progress of each part of a run."""


@dataclass
class RunResult:
    """Every rollout of a run, the bound, and the KPI document."""

    strategy: RolloutResult
    baselines: dict[str, RolloutResult]
    bound: BoundResult | None
    kpis: dict[str, Any] = field(default_factory=dict)
    without_events: RolloutResult | None = None
    """The strategy without its demand-response events (parks with events only)."""


def run(
    park: Park,
    start: object | None = None,
    days: int | None = None,
    forecast: str = "noisy",
    planner: str = "milp",
    seed: int = 0,
    *,
    inputs: Inputs | None = None,
    baselines: tuple[str, ...] = BASELINES,
    perfect_foresight: bool = True,
    keep_schedules: bool = True,
    bound_variants: tuple[str, ...] = ("monthly_lp",),
    parallel: bool | None = None,
    planner_options: dict[str, Any] | None = None,
    horizon_h: int | None = None,
    report: Report | None = None,
    replan_every: int | None = None,
) -> RunResult:
    """Run the strategy (``forecast`` × ``planner``), the baselines and the bound over
    ``days`` days from ``start`` (default: the park's year; without ``days``: to the end of
    the start's year).

    ``parallel``: run the baselines and the bound in a second process while the strategy
    runs here (the machine's second core); default: for periods of four weeks or more
    (starting the process costs a few seconds). ``planner_options``: for the 'milp' planner,
    :class:`parkgrid.optimizer.PlanOptions` fields (e.g. ``time_limit_s``). ``horizon_h``:
    hours each daily plan of the strategy covers (default: the park's
    ``objective.rollout_horizon_h``; the baselines plan 24 h). ``replan_every``: steps
    between the strategy's intraday re-plans (None: day-ahead only; baselines never re-plan).
    """
    started = time.perf_counter()
    horizon_h = park.objective.rollout_horizon_h if horizon_h is None else horizon_h
    first = pd.Timestamp(f"{park.year}-01-01") if start is None else pd.Timestamp(start)
    end = pd.Timestamp(f"{first.year + 1}-01-01") if days is None else \
        first + pd.Timedelta(days=days)
    dates = day_starts(park, first, end)
    first, end = dates[0], dates[-1] + pd.Timedelta(days=1)
    if inputs is None:
        inputs = build_inputs(park, first.year)
    n = len(dates)
    dr_events = [e for e in read_calendar(park) if first <= e.start < end]

    background: Background | None = None

    def poll() -> None:
        if background is not None:
            background.poll()

    def progress(task: str) -> Callable[[Any, float], None]:
        return day_counter(report, task, n, poll)

    label = f"{planner} · {forecast}"
    parallel = n >= 28 if parallel is None else parallel
    refs = (park, inputs, first, end, forecast, seed, baselines, perfect_foresight,
            bound_variants)
    if parallel and (baselines or perfect_foresight):
        background = Background(refs, report)

    def roll(events: list[Any] | None, task: str, name: str, keep: bool) -> Any:
        """The strategy's rollout (with ``events``: the demand-response events)."""
        return simulate(park, first, end, make_forecaster(forecast, seed),
                        make_planner(planner, park, **rollout_options(park, planner_options)),
                        inputs=inputs, seed=seed, keep_schedules=keep, progress=progress(task),
                        name=name, horizon_h=horizon_h, replan_every=replan_every,
                        dr_events=events)

    try:
        strategy = roll(dr_events or None, label, planner, keep_schedules)
        plain = (roll(None, f"{label} · no DR events", f"{planner} without events", False)
                 if dr_events else None)
    except BaseException:
        if background is not None:
            background.cancel()
        raise
    if background is not None:
        base, bound, bound_error = background.result()
    else:
        base, bound, bound_error = reference_runs(*refs, report=report)
    if bound_error:
        strategy.events.append(f"perfect-foresight bound failed: {bound_error}")
    result = RunResult(strategy, base, bound, without_events=plain)
    result.kpis = kpi_document(park, result, first, end, forecast, planner, seed,
                               time.perf_counter() - started, horizon_h)
    if strategy.demand_response is not None:
        result.kpis["demand_response"] = dr_kpis(park, strategy.demand_response,
                                                 strategy.ledger, plain.ledger if plain else None)
    if bound_error:
        result.kpis["perfect_foresight"] = {"error": bound_error}
    if replan_every:
        minutes = replan_every * park.time_step_minutes
        result.kpis["replan_every_min"] = result.kpis["run"]["replan_every_min"] = minutes
    return result


def reference_runs(park: Park, inputs: Inputs, start: pd.Timestamp, end: pd.Timestamp,
                   forecast: str, seed: int, baselines: tuple[str, ...],
                   perfect_foresight: bool, bound_variants: tuple[str, ...],
                   report: Report | None = None,
                   ) -> tuple[dict[str, RolloutResult], BoundResult | None, str | None]:
    """The baselines and the bound: (baseline rollouts, bound or None, bound error or None)."""
    n = len(day_starts(park, start, end))

    def progress(task: str) -> Callable[[Any, float], None]:
        return day_counter(report, task, n)

    base = run_baselines(park, start, end, inputs, forecast, seed, baselines, progress)
    bound, error = None, None
    if perfect_foresight:
        try:
            bound = perfect_foresight_bound(
                park, inputs, start, end, bound_variants,
                report=(lambda done, total: report(BOUND_TASK, done, total, None))
                if report else None)
        except Exception as exc:  # a reference figure: report it, keep the run
            error = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return base, bound, error


def day_counter(report: Report | None, task: str, n_days: int,
                on_day: Callable[[], None] | None = None) -> Callable[[Any, float], None]:
    """A rollout's per-day callback: counts the days and hands (task, done, total, running
    cost) to ``report``; then calls ``on_day``."""
    done = 0

    def call(_record: Any, cost: float) -> None:
        nonlocal done
        done += 1
        if report is not None:
            report(task, done, n_days, cost)
        if on_day is not None:
            on_day()

    return call


def run_baselines(park: Park, start: pd.Timestamp, end: pd.Timestamp, inputs: Inputs,
                  forecast: str, seed: int, which: tuple[str, ...],
                  progress: Callable[[str], Callable[[Any, float], None]] | None = None,
                  ) -> dict[str, RolloutResult]:
    """The baseline rollouts named in ``which`` (see the module docstring)."""
    unknown = set(which) - set(BASELINES)
    if unknown:
        raise ValueError(f"unknown baselines {sorted(unknown)}; expected {BASELINES}")
    out = {}
    for name in which:
        actuals, fc, plan = inputs, Perfect(), plan_idle
        if name == "grid_only":
            actuals, plan = without_renewables(inputs), plan_before
        elif name == "rules":
            fc, plan = make_forecaster(forecast, seed), plan_rules
        out[name] = simulate(park, start, end, fc, plan, inputs=actuals, seed=seed,
                             progress=progress(name) if progress else None, name=name,
                             horizon_h=24)
    return out


def without_renewables(inputs: Inputs) -> Inputs:
    """A copy of ``inputs`` with every PV and wind column at zero (the frames are not
    modified)."""
    series = inputs.series.copy()
    for col in inputs.columns("pv_kw_") + inputs.columns("wind_kw_"):
        series[col] = 0.0
    return Inputs(inputs.park, series, inputs.weather, inputs.ev_sessions, inputs.build_seconds)


def kpi_document(park: Park, result: RunResult, start: pd.Timestamp, end: pd.Timestamp,
                 forecast: str, planner: str, seed: int, wall_s: float,
                 horizon_h: int) -> dict[str, Any]:
    """Everything ``kpis.json`` holds (units in key names; shares are fractions)."""
    strategy = kpi.kpis(result.strategy.ledger, park)
    baselines = {name: kpi.kpis(r.ledger, park) for name, r in result.baselines.items()}
    bound = result.bound
    comparison = kpi.compare(strategy, baselines, bound.total_cost_yuan if bound else None)
    if "grid_only" in baselines:
        for k in baselines.values():
            k["co2_avoided_t"] = baselines["grid_only"]["co2_t"] - k["co2_t"]
    if "co2_avoided_t" in comparison:
        strategy["co2_avoided_t"] = comparison["co2_avoided_t"]
    document = {
        "schema_version": SCHEMA_VERSION,
        "park": park.name,
        "system": system_summary(park),
        "period": {"start": str(start.date()), "end": str(end.date()),
                   "days": (end - start).days, "time_step_minutes": park.time_step_minutes},
        "run": {"forecast": forecast, "planner": planner, "seed": seed, "horizon_h": horizon_h,
                "wall_s": wall_s,
                "rollout_wall_s": {"strategy": result.strategy.wall_s,
                                   **{n: r.wall_s for n, r in result.baselines.items()}}},
        "units": "key names end in their unit (_kwh, _kwh_th, _kw, _yuan, _t, _tce, _s); "
                 "shares (self_sufficiency, self_consumption, …) are fractions 0–1; _pct is "
                 "percent. cost_yuan = energy + demand − export revenue; total_cost_yuan adds "
                 "degradation and penalties (the optimizer's objective, used for regret).",
        "strategy": strategy,
        "baselines": baselines,
        "perfect_foresight": bound.to_dict() if bound else None,
        "comparison": comparison,
        "solver": kpi.solver_stats(result.strategy.days_frame()),
        "events": len(result.strategy.events),
    }
    if park.economics is not None:
        document["economics"] = economics.evaluate(park, strategy, baselines)
    return document
