"""The body of ``parkgrid schedule PARK.yaml --date D``: plan a day-ahead horizon and write it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from parkgrid.arguments import local_midnight, number, soc_pairs
from parkgrid.atomic import atomic_write
from parkgrid.config import MAX_KW, MIP_GAP, TIME_LIMIT_S, Park, load_park
from parkgrid.errors import ArgumentError
from parkgrid.export import write_schedule
from parkgrid.inputs import Inputs, build_inputs
from parkgrid.optimizer.pareto import pareto_front
from parkgrid.optimizer.planner import plan_day
from parkgrid.schedule import ParkState, Schedule

TANK = "tank"
"""The ``--soc`` name of the chilled-water tank."""
MAX_PARETO_POINTS = 50
"""Most points of a cost/CO2 front (each is a MILP solve)."""
MAX_HORIZON_H = 31 * 24
"""Longest horizon of ``parkgrid schedule``, hours (a month)."""


def check_plan_options(time_limit_s: float | None, mip_gap: float | None) -> None:
    """Refuse a solver time limit or MIP gap outside the config's ranges."""
    number("--time-limit", time_limit_s, *TIME_LIMIT_S, low_open=True)
    number("--mip-gap", mip_gap, *MIP_GAP, high_open=True)


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
    check_plan_options(time_limit_s, mip_gap)
    number("--month-peak-kw", month_peak_kw, 0.0, MAX_KW)
    if pareto_points != 0:
        number("--pareto", pareto_points, 2, MAX_PARETO_POINTS)
    park = load_park(park_path)
    start = local_midnight("--date", date, park.site.timezone)
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
    for name, fraction in soc_pairs(overrides).items():
        if name in batteries:
            low, high = batteries[name].soc_min, batteries[name].soc_max
            if not low <= fraction <= high:
                raise ArgumentError("--soc", f"{name}={fraction:g}",
                                    f"a fraction inside {name}'s SOC window [{low:g}, {high:g}]")
            state.battery_soc_kwh[name] = fraction * batteries[name].energy_kwh
        elif name == TANK and tank is not None:
            state.tank_level_kwh_th = fraction * tank.capacity_kwh_th
        else:
            known = ", ".join([*batteries, *([TANK] if tank else [])]) or "none"
            raise ArgumentError("--soc", name, f"a battery or tank name (known: {known})")
    return state


def _steps(horizon_hours: float, park: Park) -> int:
    number("--horizon-hours", horizon_hours, 0.0, MAX_HORIZON_H, low_open=True)
    steps = horizon_hours / park.step_h
    if abs(steps - round(steps)) > 1e-9:
        raise ArgumentError("--horizon-hours", horizon_hours, "a positive multiple of the "
                            f"park's {park.time_step_minutes}-min step")
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
