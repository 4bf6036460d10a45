"""The body of ``parkgrid schedule PARK.yaml --date D | --start T``: plan a horizon and write it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from parkgrid.atomic import atomic_write
from parkgrid.config import Park, load_park
from parkgrid.errors import ConfigError
from parkgrid.export import write_schedule
from parkgrid.forecast_inputs import read_forecast_inputs, read_prices
from parkgrid.inputs import EV_COLUMNS, Inputs, build_inputs
from parkgrid.optimizer.horizon import PlanOptions
from parkgrid.optimizer.pareto import pareto_front
from parkgrid.optimizer.planner import DayAheadOptimizer, optimizer_for
from parkgrid.plan_document import issue_metadata
from parkgrid.schedule import ParkState, Schedule
from parkgrid.state_file import read_state

TANK = "tank"
"""The ``--soc`` name of the chilled-water tank."""


@dataclass
class ScheduleResult:
    schedule: Schedule
    front: pd.DataFrame | None = None
    written: list[Path] = field(default_factory=list)


def schedule_command(park_path: Path | str, date: str | None = None,
                     horizon_hours: float = 24.0,
                     soc_overrides: Mapping[str, float] | Iterable[str] | None = None,
                     out: Path | str | None = None, month_peak_kw: float = 0.0,
                     pareto_points: int = 0, time_limit_s: float | None = None,
                     mip_gap: float | None = None, start: str | None = None,
                     forecast: Path | str | None = None, state_file: Path | str | None = None,
                     prices: Path | str | None = None) -> ScheduleResult:
    """Plan ``horizon_hours`` from local midnight of ``date`` (YYYY-MM-DD), or from the step
    boundary ``start`` (ISO 8601; naive = park local time), for the park.

    ``soc_overrides``: starting storage as fractions of capacity, per battery name or
    ``tank`` (a mapping, or ``NAME=FRACTION`` strings as the CLI passes them); default the
    config's initial values. ``month_peak_kw``: the month-to-date peak import.
    ``state_file``: the measured state instead (JSON, :mod:`parkgrid.state_file`).
    ``forecast``: loads, PV, wind (and prices) for the horizon instead of the park's own
    year (:mod:`parkgrid.forecast_inputs`); ``prices``: a price / CO2 series file. ``out``:
    .csv / .json / .parquet (metadata beside, inside or in the file). ``pareto_points`` ≥ 2
    also traces the cost/CO2 front and writes it to ``<out>.pareto.csv``.
    """
    park = load_park(park_path)
    begin = _begin(date, start, park)
    n_steps = horizon_steps(horizon_hours, park)
    if state_file is not None:
        if soc_overrides or month_peak_kw:
            raise ConfigError("--state", ["give either --state or --soc/--month-peak-kw"])
        given = read_state(state_file, park, begin)
        state, plugged, warnings = given.state, given.ev_sessions, given.warnings
    else:
        state = initial_state(park, soc_overrides, month_peak_kw, begin.month)
        plugged, warnings = pd.DataFrame(columns=EV_COLUMNS), []
    if forecast is not None:
        inputs = read_forecast_inputs(park, begin, n_steps, forecast, plugged, prices)
    else:
        inputs = _with_sessions(_inputs(park, begin, n_steps, prices), plugged)
    options = {k: v for k, v in (("time_limit_s", time_limit_s), ("mip_gap", mip_gap))
               if v is not None}
    plan = issue_plan(optimizer_for(park), inputs, state, warnings,
                      _source(forecast, "park model (perfect forecast)"),
                      _source(prices or forecast, "tariff calendar"), **options)
    result = ScheduleResult(plan)
    if pareto_points:
        result.front = pareto_front(inputs, state, pareto_points, park, **options)
    if out is not None:
        result.written.append(write_schedule(result.schedule, out))
        if result.front is not None:
            front_path = Path(out).with_name(Path(out).name + ".pareto.csv")
            front = result.front
            result.written.append(atomic_write(front_path, lambda t: front.to_csv(t, index=False)))
    return result


def issue_plan(optimizer: DayAheadOptimizer, inputs: Inputs, state: ParkState,
               warnings: list[str], forecast_source: str, price_source: str,
               **options: float) -> Schedule:
    """Solve ``inputs`` from ``state`` on ``optimizer`` (its models re-solved) and stamp the
    plan with its issue metadata; ``warnings`` (from reading the state) lead its own."""
    park = optimizer.park
    plan = optimizer.plan(inputs, state, PlanOptions(**options))
    plan.metadata = issue_metadata(park, forecast_source, price_source) | plan.metadata
    plan.metadata["warnings"] = warnings + plan.metadata.get("warnings", [])
    return plan


def initial_state(park: Park, overrides: Mapping[str, float] | Iterable[str] | None,
                  month_peak_kw: float = 0.0, month: int | None = None) -> ParkState:
    """The config's initial state with storage levels overridden (fractions of capacity)."""
    state = ParkState.initial(park)
    state.month_peak_kw, state.month = month_peak_kw, month
    batteries = {b.name: b for b in park.batteries}
    tank = park.cooling.tank if park.cooling else None
    problems = []
    for name, fraction in _pairs(overrides).items():
        if not 0.0 <= fraction <= 1.0:
            problems.append(f"{name}={fraction:g}: expected a fraction of capacity in [0, 1]")
        elif name in batteries:
            state.battery_soc_kwh[name] = fraction * batteries[name].energy_kwh
        elif name == TANK and tank is not None:
            state.tank_level_kwh_th = fraction * tank.capacity_kwh_th
        else:
            known = ", ".join([*batteries, *([TANK] if tank else [])]) or "none"
            problems.append(f"{name}: no such battery or tank (known: {known})")
    if problems:
        raise ConfigError("--soc", problems)
    return state


def _pairs(overrides: Mapping[str, float] | Iterable[str] | None) -> dict[str, float]:
    if overrides is None:
        return {}
    if isinstance(overrides, Mapping):
        return {str(k): float(v) for k, v in overrides.items()}
    pairs, problems = {}, []
    for item in overrides:
        name, _, value = item.partition("=")
        try:
            pairs[name.strip()] = float(value)
        except ValueError:
            problems.append(f"{item!r}: expected NAME=FRACTION, e.g. lfp=0.6")
    if problems:
        raise ConfigError("--soc", problems)
    return pairs


def _begin(date: str | None, start: str | None, park: Park) -> pd.Timestamp:
    """The horizon's first step: local midnight of ``date`` or the timestamp ``start``."""
    if (date is None) == (start is None):
        raise ConfigError("--date/--start", ["give exactly one of --date and --start"])
    return _start(date, park) if date is not None else step_start(start, park, "--start")


def step_start(text: str, park: Park, option: str) -> pd.Timestamp:
    """The timestamp ``text`` (naive = park local time) in the park's zone, on a step boundary."""
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise ConfigError(option, [f"{text!r}: expected an ISO 8601 timestamp, e.g. "
                                   "2025-07-15T13:00"]) from None
    tz = park.site.timezone
    stamp = stamp.tz_localize(tz) if stamp.tzinfo is None else stamp.tz_convert(tz)
    midnight = stamp.normalize()
    if (stamp - midnight) % pd.Timedelta(minutes=park.time_step_minutes):
        raise ConfigError(option, [f"{text!r}: not on the park's {park.time_step_minutes}-min "
                                   "steps (local time)"])
    return stamp


def _with_sessions(inputs: Inputs, plugged: pd.DataFrame) -> Inputs:
    """``inputs`` with the EVs plugged in at the start added to its sessions."""
    if plugged.empty:
        return inputs
    sessions = pd.concat([inputs.ev_sessions, plugged], ignore_index=True)
    return dataclasses.replace(inputs, ev_sessions=sessions)


def _source(path: Path | str | None, default: str) -> str:
    return str(path) if path is not None else default


def _start(date: str, park: Park) -> pd.Timestamp:
    try:
        day = pd.Timestamp(date)
    except ValueError:
        raise ConfigError("--date", [f"{date!r}: expected a date YYYY-MM-DD"]) from None
    if day != day.normalize() or day.tzinfo is not None:
        raise ConfigError("--date", [f"{date!r}: expected a date YYYY-MM-DD (no time)"])
    return day.tz_localize(park.site.timezone)


def horizon_steps(horizon_hours: float, park: Park, option: str = "--horizon-hours") -> int:
    """The number of park steps in ``horizon_hours`` (a positive multiple of the step)."""
    steps = horizon_hours / park.step_h
    if horizon_hours <= 0 or abs(steps - round(steps)) > 1e-9:
        raise ConfigError(option, [
            f"{horizon_hours:g}: expected a positive multiple of the park's "
            f"{park.time_step_minutes}-min step"])
    return round(steps)


def _inputs(park: Park, start: pd.Timestamp, n_steps: int,
            prices: Path | str | None = None) -> Inputs:
    """The inputs of the horizon, building every calendar year it touches; prices and CO2
    factors from the ``prices`` file where given."""
    end = start + pd.Timedelta(hours=n_steps * park.step_h)
    years = [build_inputs(park, y) for y in range(start.year, (end - pd.Timedelta(1)).year + 1)]
    whole = years[0] if len(years) == 1 else Inputs(
        park, pd.concat([y.series for y in years]), pd.concat([y.weather for y in years]),
        pd.concat([y.ev_sessions for y in years], ignore_index=True))
    window = whole.window(start, n_steps)
    if prices is None:
        return window
    series = window.series.copy()
    given = read_prices(prices, park, window.index)
    series[list(given.columns)] = given
    return dataclasses.replace(window, series=series)


def summary(schedule: Schedule) -> dict[str, str]:
    """Printable key figures of a schedule (for the CLI's table)."""
    m = schedule.metadata
    rows = {
        "horizon": f"{m['horizon_start']} + {m['horizon_steps']} × {m['step_minutes']} min",
        "status": m["status"] + (" (time limit)" if m["time_limit_hit"] else ""),
        "objective (yuan)": f"{m['objective']:,.2f}",
        "gap": f"{m['gap']:.4%}" if m["gap"] is not None else "-",
        "solve / build (s)": f"{m['solve_time_s']:.3f} / {m['build_time_s']:.3f}",
    }
    for key in ("energy_yuan", "demand_yuan", "export_revenue_yuan", "degradation_yuan",
                "carbon_yuan", "penalties_yuan", "co2_kg", "unserved_kwh", "ev_unmet_kwh"):
        rows[key] = f"{m[key]:,.2f}"
    return rows
