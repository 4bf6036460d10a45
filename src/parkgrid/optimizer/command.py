"""The body of ``parkgrid schedule PARK.yaml --date D``: plan a day-ahead horizon and write it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from parkgrid.atomic import atomic_write
from parkgrid.config import Park, load_park
from parkgrid.display import label, value
from parkgrid.errors import ArgumentError
from parkgrid.export import write_schedule
from parkgrid.inputs import Inputs, build_inputs
from parkgrid.optimizer.pareto import pareto_front
from parkgrid.optimizer.planner import plan_day
from parkgrid.schedule import ParkState, Schedule

TANK = "tank"
"""The ``--soc`` name of the chilled-water tank."""


@dataclass
class ScheduleResult:
    schedule: Schedule
    front: pd.DataFrame | None = None
    written: list[Path] = field(default_factory=list)


def schedule_command(park_path: Path | str, date: str, horizon_hours: float = 24.0,
                     soc_overrides: Mapping[str, float] | Iterable[str] | None = None,
                     out: Path | str | None = None, month_peak_kw: float = 0.0,
                     pareto_points: int = 0, time_limit_s: float | None = None,
                     mip_gap: float | None = None) -> ScheduleResult:
    """Plan ``horizon_hours`` from local midnight of ``date`` (YYYY-MM-DD) for the park.

    ``soc_overrides``: starting storage as fractions of capacity, per battery name or
    ``tank`` (a mapping, or ``NAME=FRACTION`` strings as the CLI passes them); default the
    config's initial values. ``month_peak_kw``: the month-to-date peak import. ``out``:
    .csv / .json / .parquet (metadata beside, inside or in the file). ``pareto_points`` ≥ 2
    also traces the cost/CO2 front and writes it to ``<out>.pareto.csv``.
    """
    park = load_park(park_path)
    start = _start(date, park)
    n_steps = _steps(horizon_hours, park)
    inputs = _inputs(park, start, n_steps)
    state = initial_state(park, soc_overrides, month_peak_kw, start.month)
    options = {k: v for k, v in (("time_limit_s", time_limit_s), ("mip_gap", mip_gap))
               if v is not None}
    result = ScheduleResult(plan_day(inputs, state, park, **options))
    if pareto_points:
        result.front = pareto_front(inputs, state, pareto_points, park, **options)
    if out is not None:
        result.written.append(write_schedule(result.schedule, out))
        if result.front is not None:
            front_path = Path(out).with_name(Path(out).name + ".pareto.csv")
            front = result.front
            result.written.append(atomic_write(front_path, lambda t: front.to_csv(t, index=False)))
    return result


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
        raise ArgumentError("--soc", problems)
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
        raise ArgumentError("--soc", problems)
    return pairs


def _start(date: str, park: Park) -> pd.Timestamp:
    try:
        day = pd.Timestamp(date)
    except ValueError:
        raise ArgumentError("--date", [f"{date!r}: expected a date YYYY-MM-DD"]) from None
    if day != day.normalize() or day.tzinfo is not None:
        raise ArgumentError("--date", [f"{date!r}: expected a date YYYY-MM-DD (no time)"])
    return day.tz_localize(park.site.timezone)


def _steps(horizon_hours: float, park: Park) -> int:
    steps = horizon_hours / park.step_h
    if horizon_hours <= 0 or abs(steps - round(steps)) > 1e-9:
        raise ArgumentError("--horizon-hours", [
            f"{horizon_hours:g}: expected a positive multiple of the park's "
            f"{park.time_step_minutes}-min step"])
    return round(steps)


def _inputs(park: Park, start: pd.Timestamp, n_steps: int) -> Inputs:
    """The inputs of the horizon, building every calendar year it touches."""
    end = start + pd.Timedelta(hours=n_steps * park.step_h)
    years = [build_inputs(park, y) for y in range(start.year, (end - pd.Timedelta(1)).year + 1)]
    whole = years[0] if len(years) == 1 else Inputs(
        park, pd.concat([y.series for y in years]), pd.concat([y.weather for y in years]),
        pd.concat([y.ev_sessions for y in years], ignore_index=True))
    return whole.window(start, n_steps)


def summary(schedule: Schedule) -> dict[str, str]:
    """Printable key figures of a schedule (for the CLI's table): the cost and its parts,
    the peak import and CO2 first, then what the solver minimised and how it went."""
    m = schedule.metadata
    cost_yuan = m["energy_yuan"] + m["demand_yuan"] - m["export_revenue_yuan"]
    rows = {
        "horizon": f"{pd.Timestamp(m['horizon_start']):%Y-%m-%d %H:%M %Z}, "
                   f"{m['horizon_steps'] * m['step_minutes'] / 60:g} h in {m['step_minutes']}-min "
                   "steps",
        "status": m["status"] + (" (time limit)" if m["time_limit_hit"] else ""),
        label("cost_yuan"): value("cost_yuan", cost_yuan),
    }
    for key in ("energy_yuan", "demand_yuan", "export_revenue_yuan"):
        rows[f"  {label(key)}"] = value(key, m[key])
    rows[label("peak_import_kw")] = value("peak_import_kw",
                                          float(schedule.frame["grid_import_kw"].max()))
    rows[label("co2_t")] = value("co2_t", m["co2_kg"] / 1000.0)
    for key in ("degradation_yuan", "carbon_yuan", "penalties_yuan", "unserved_kwh",
                "ev_unmet_kwh"):
        if m[key]:
            rows[label(key)] = value(key, m[key])
    rows["objective (what the planner minimised)"] = value("objective_yuan", m["objective"])
    rows["MIP gap"] = f"{100 * m['gap']:.2f} %" if m["gap"] is not None else "–"
    rows["solve / build time"] = f"{m['solve_time_s']:.3f} s / {m['build_time_s']:.3f} s"
    return rows
