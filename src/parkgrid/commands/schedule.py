"""The body of ``parkgrid schedule PARK.yaml --date D | --start T``: plan a horizon and write it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from parkgrid.commands.arguments import local_midnight, number, soc_pairs
from parkgrid.config import MAX_KW, MIP_GAP, TIME_LIMIT_S, YEARS, Park, load_park
from parkgrid.errors import ArgumentError
from parkgrid.forecasting.inputs import (
    horizon_index,
    price_source,
    read_forecast_inputs,
    read_prices,
)
from parkgrid.inputs import EV_COLUMNS, Inputs, build_inputs
from parkgrid.inputs.loads import planned_sessions, session_table
from parkgrid.io.atomic import atomic_write
from parkgrid.io.export import check_plan_target, write_schedule
from parkgrid.io.plan_document import issue_metadata
from parkgrid.io.state_file import read_state
from parkgrid.io.targets import check_target, has_columns
from parkgrid.model import registry
from parkgrid.model.schedule import ParkState, Schedule
from parkgrid.optimizer.horizon import PlanOptions
from parkgrid.optimizer.pareto import FRONT_COLUMNS, pareto_front
from parkgrid.optimizer.planner import DayAheadOptimizer, optimizer_for
from parkgrid.reporting.display import label, value

ISO_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$")
"""``--start``: ISO 8601 date (local midnight) or date and time, optionally with a UTC offset."""
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


def schedule_command(park_path: Path | str, date: str | None = None,
                     horizon_hours: float = 24.0,
                     soc_overrides: Mapping[str, float] | Iterable[str] | None = None,
                     out: Path | str | None = None, month_peak_kw: float = 0.0,
                     pareto_points: int = 0, time_limit_s: float | None = None,
                     mip_gap: float | None = None, start: str | None = None,
                     forecast: Path | str | None = None, state_file: Path | str | None = None,
                     prices: Path | str | None = None,
                     ev_sessions: Path | str | None = None) -> ScheduleResult:
    """Plan ``horizon_hours`` from local midnight of ``date`` (YYYY-MM-DD), or from the step
    boundary ``start`` (ISO 8601; naive = park local time), for the park.

    ``soc_overrides``: starting storage as fractions of capacity, per battery name or
    ``tank`` (a mapping, or ``NAME=FRACTION`` strings as the CLI passes them); default the
    config's initial values. ``month_peak_kw``: the month-to-date peak import.
    ``state_file``: the measured state instead (JSON, :mod:`parkgrid.io.state_file`).
    ``forecast``: loads, PV, wind (and prices) for the horizon instead of the park's own
    year (:mod:`parkgrid.forecasting.inputs`); ``prices``: a price / CO2 series file. ``out``:
    .csv / .json / .parquet (metadata beside, inside or in the file). ``pareto_points`` ≥ 2
    also traces the cost/CO2 front and writes it to ``<out>.pareto.csv``.
    ``ev_sessions``: a session CSV (``parkgrid forecast --ev-history``'s
    ``*.ev_sessions.csv``, or the user's own) whose arrivals in the horizon are planned beside
    the EVs plugged in, instead of the park's own sessions (:func:`expected_sessions`).
    """
    check_plan_options(time_limit_s, mip_gap)
    number("--month-peak-kw", month_peak_kw, 0.0, MAX_KW)
    if pareto_points != 0:
        number("--pareto", pareto_points, 2, MAX_PARETO_POINTS)
    if out is not None:
        reads = {"park": park_path, "--forecast": forecast, "--state": state_file,
                 "--prices": prices, "--ev-sessions": ev_sessions}
        check_plan_target(out, reads)
        if pareto_points:
            check_target(_pareto_path(out), "--out", (".csv",), reads,
                         has_columns(lambda names: names == FRONT_COLUMNS), "Pareto table")
    park = load_park(park_path)
    begin = _begin(date, start, park)
    n_steps = horizon_steps(horizon_hours, park)
    if state_file is not None:
        if soc_overrides or month_peak_kw:
            raise ArgumentError("--state", "--state with --soc/--month-peak-kw",
                                "either a state file or --soc/--month-peak-kw")
        given = read_state(state_file, park, begin)
        state, plugged, warnings = given.state, given.ev_sessions, given.warnings
    else:
        state = initial_state(park, soc_overrides, month_peak_kw, begin.month)
        plugged, warnings = pd.DataFrame(columns=EV_COLUMNS), []
    if ev_sessions is not None:
        expected, more = expected_sessions(ev_sessions, park,
                                           horizon_index(park, begin, n_steps), plugged)
        plugged, warnings = pd.concat([plugged, expected], ignore_index=True), warnings + more
    if forecast is not None:
        inputs, prices_from = read_forecast_inputs(park, begin, n_steps, forecast, plugged,
                                                   prices)
    else:
        inputs, prices_from = _with_prices(_inputs(park, begin, n_steps), prices)
        inputs = (_with_sessions(inputs, plugged) if ev_sessions is None  # the park's own,
                  else dataclasses.replace(inputs, ev_sessions=plugged))  # or the file's
    options = {k: v for k, v in (("time_limit_s", time_limit_s), ("mip_gap", mip_gap))
               if v is not None}
    plan = issue_plan(optimizer_for(park), inputs, state, warnings,
                      _source(forecast, "park model (perfect forecast)"), prices_from,
                      **options)
    if ev_sessions is not None:
        plan.metadata["ev_sessions_source"] = str(ev_sessions)
    result = ScheduleResult(plan)
    if pareto_points:
        result.front = pareto_front(inputs, state, pareto_points, park, **options)
    if out is not None:
        result.written.append(write_schedule(result.schedule, out))
        if result.front is not None:
            front = result.front
            result.written.append(atomic_write(_pareto_path(out),
                                               lambda t: front.to_csv(t, index=False)))
    return result


def _pareto_path(out: Path | str) -> Path:
    """Where ``--pareto``'s table goes beside the plan at ``out``."""
    return Path(out).with_name(Path(out).name + ".pareto.csv")


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
    stores = registry.stores(park)
    for name, fraction in soc_pairs(overrides).items():
        if name not in stores:
            known = ", ".join(stores) or "none"
            raise ArgumentError("--soc", name, f"a battery or tank name (known: {known})")
        kind, asset = stores[name]
        assert kind.state is not None
        low, high = kind.state.window(asset)
        if not low <= fraction <= high:
            raise ArgumentError("--soc", f"{name}={fraction:g}",
                                f"a fraction inside {name}'s SOC window [{low:g}, {high:g}]")
        state.set_level(kind, name, fraction * kind.state.capacity(asset))
    return state


def _begin(date: str | None, start: str | None, park: Park) -> pd.Timestamp:
    """The horizon's first step: local midnight of ``date`` or the timestamp ``start``."""
    if (date is None) == (start is None):
        raise ArgumentError("--date/--start", f"--date {date} --start {start}",
                            "exactly one of --date and --start")
    if date is not None:
        return local_midnight("--date", date, park.site.timezone)
    return step_start(start, park, "--start")


def step_start(text: str, park: Park, option: str) -> pd.Timestamp:
    """The timestamp ``text`` (naive = park local time) in the park's zone, on a step boundary."""
    expected = "an ISO 8601 timestamp, e.g. 2025-07-15T13:00 or 2025-07-15T13:00+08:00"
    if not ISO_TIMESTAMP.match(str(text)):
        raise ArgumentError(option, text, expected)
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise ArgumentError(option, text, expected) from None
    if not YEARS[0] <= stamp.year <= YEARS[1]:
        raise ArgumentError(option, text, f"{expected}, in {YEARS[0]}-{YEARS[1]}")
    tz = park.site.timezone
    try:
        stamp = stamp.tz_localize(tz) if stamp.tzinfo is None else stamp.tz_convert(tz)
    except ValueError:  # a local time skipped or repeated by daylight saving
        raise ArgumentError(option, text, f"a local time that exists once in {tz} (daylight "
                            "saving skips or repeats it); give a UTC offset") from None
    midnight = stamp.normalize()
    if (stamp - midnight) % pd.Timedelta(minutes=park.time_step_minutes):
        raise ArgumentError(option, text, f"a time on the park's {park.time_step_minutes}-min "
                            "steps (local time)")
    return stamp


def _with_sessions(inputs: Inputs, plugged: pd.DataFrame) -> Inputs:
    """``inputs`` with the EVs plugged in at the start added to its sessions."""
    if plugged.empty:
        return inputs
    sessions = pd.concat([inputs.ev_sessions, plugged], ignore_index=True)
    return dataclasses.replace(inputs, ev_sessions=sessions)


def expected_sessions(path: Path | str, park: Park, index: pd.DatetimeIndex,
                      plugged: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The sessions of the session CSV at ``path`` arriving within ``index`` (``EV_COLUMNS``),
    on the piles the EVs ``plugged`` in leave free, and warnings. Sessions arriving before the
    start are left out with a warning: an EV already there is the state file's to describe
    (with the energy it still needs), and a forecast file issued earlier still holds them."""
    if park.ev is None:
        raise ArgumentError("--ev-sessions", str(path), "a park with EV chargers")
    table = session_table(Path(path), park.ev.chargers, park.site.timezone)
    early = pd.DatetimeIndex(table["arrival"]) < index[0]
    warnings = []
    if early.any():
        rows = table["row"][early].tolist()
        listed = ", ".join(map(str, rows[:10])) + (", …" if len(rows) > 10 else "")
        warnings.append(f"{path}: {len(rows)} EV session(s) arriving before the start "
                        f"{index[0].isoformat()} left out (rows {listed}); EVs already plugged "
                        "in come from --state")
    return planned_sessions(table[~early], park.ev.chargers, Path(path), index, plugged), warnings


def _source(path: Path | str | None, default: str) -> str:
    return str(path) if path is not None else default


def horizon_steps(horizon_hours: float, park: Park, option: str = "--horizon-hours") -> int:
    """The number of park steps in ``horizon_hours`` (a positive multiple of the step)."""
    number(option, horizon_hours, 0.0, MAX_HORIZON_H, low_open=True)
    steps = horizon_hours / park.step_h
    if abs(steps - round(steps)) > 1e-9:
        raise ArgumentError(option, horizon_hours, "a positive multiple of the "
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


def _with_prices(inputs: Inputs, prices: Path | str | None) -> tuple[Inputs, str]:
    """``inputs`` with the prices and CO2 factors of the ``prices`` file where given, and
    where the prices came from."""
    if prices is None:
        return inputs, price_source({})
    series = inputs.series.copy()
    given = read_prices(prices, inputs.park, inputs.index)
    series[list(given.columns)] = given
    return (dataclasses.replace(inputs, series=series),
            price_source({str(prices): list(given.columns)}))


def summary(schedule: Schedule) -> dict[str, str]:
    """Printable key figures of a schedule (for the CLI's table): the cost and its parts,
    the peak import and CO2 first, then what the solver minimised and how it went."""
    m = schedule.metadata
    rows = {
        "horizon": f"{pd.Timestamp(m['horizon_start']):%Y-%m-%d %H:%M %Z}, "
                   f"{m['horizon_steps'] * m['step_minutes'] / 60:g} h in {m['step_minutes']}-min "
                   "steps",
        "status": m["status"] + (" (time limit)" if m["time_limit_hit"] else ""),
        label("cost_yuan"): value("cost_yuan", m["cost_yuan"]),
    }
    for key in ("energy_cost_yuan", "demand_charge_yuan", "export_revenue_yuan"):
        rows[f"  {label(key)}"] = value(key, m[key])
    rows[label("peak_import_kw")] = value("peak_import_kw",
                                          float(schedule.frame["grid_import_kw"].max()))
    rows[label("co2_t")] = value("co2_t", m["co2_t"])
    for key in ("degradation_yuan", "carbon_cost_yuan", "penalty_yuan", "unserved_kwh",
                "ev_unmet_kwh"):
        if m[key]:
            rows[label(key)] = value(key, m[key])
    rows["objective (what the planner minimised)"] = value("objective_yuan", m["objective"])
    rows["MIP gap"] = f"{100 * m['gap']:.2f} %" if m["gap"] is not None else "–"
    rows["solve / build time"] = f"{m['solve_time_s']:.3f} s / {m['build_time_s']:.3f} s"
    return rows
