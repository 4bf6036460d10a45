"""The rollout: day after day, forecast → plan → apply to actuals, with a ledger of every flow.

``simulate(park, start, end, forecaster, planner)`` runs any period of whole local days
(default: the park's calendar year). Each day is planned over ``horizon_h`` hours from its
midnight (default: the park's ``objective.rollout_horizon_h``; beyond 24 h a look-ahead
into the next day, cut at the end of the inputs) and the plan's first 24 h are applied.
With ``replan_every`` (steps) the day is re-planned intraday (MPC): at every multiple of it
after midnight the state the controller has reached (SOC, tank, chillers, month-to-date
peak, the energy EV sessions under way still need) is the start of a new plan to the end of
the day's horizon, on forecasts refreshed at that moment, and the controller continues the
day on the newest plan (no step is run twice). A failed re-plan keeps the previous one
(recorded as an event).
A planner that raises (a solver failure, a time-out without an incumbent, any bug) or
returns an unusable schedule is replaced for that day by the rule-based planner and the day
is recorded as a fallback; the run never aborts on a bad day. Everything is seeded: the
same arguments give the same numbers.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.config import ROLLOUT_HORIZON_H, Park
from parkgrid.dr.events import Event
from parkgrid.dr.session import DRSession
from parkgrid.errors import ArgumentError, SolverError
from parkgrid.inputs import Inputs, build_inputs, utc_values
from parkgrid.model import physics, registry
from parkgrid.model.schedule import (
    GRID_EXPORT,
    GRID_IMPORT,
    UNSERVED,
    ParkState,
    Schedule,
    meta_float,
)
from parkgrid.simulate.controller import Controller, DayResult
from parkgrid.simulate.forecast import make_forecaster
from parkgrid.simulate.rules import plan_none, plan_rules

Forecaster = Callable[..., Inputs]
"""``forecast(actuals, day_start, n_steps, issue=None) -> Inputs`` of the ``n_steps`` from
``day_start`` as known at ``issue`` (default: the day-ahead issue time)."""
PlannerFn = Callable[[Inputs, ParkState], Schedule]
Progress = Callable[["DayRecord", float], None]

PLANNERS = ("milp", "rules", "none")
SETPOINT_COLUMNS = tuple(c.base for c in registry.columns_with(setpoint=True))


@dataclass
class DayRecord:
    """What happened on one day: who planned it and how the solve went."""

    date: str
    planner: str
    status: str
    solve_s: float
    gap: float | None = None
    objective: float | None = None
    fallback: bool = False
    reason: str = ""
    unserved_kwh: float = 0.0
    ev_unmet_kwh: float = 0.0
    replans: int = 0
    """Intraday re-plans followed that day; ``replans_failed``: those that failed (the
    previous plan kept); ``replan_solve_s``: their solve time."""
    replans_failed: int = 0
    replan_solve_s: float = 0.0


@dataclass
class RolloutResult:
    """The ledger (one row per step), the plans, the per-day records and the events."""

    park: Park
    name: str
    ledger: pd.DataFrame
    days: list[DayRecord]
    events: list[str]
    state: ParkState
    schedules: dict[str, Schedule] = field(default_factory=dict)
    wall_s: float = 0.0
    demand_response: list[dict[str, Any]] | None = None
    """Each demand-response event of the period settled (None: no events passed)."""

    def days_frame(self) -> pd.DataFrame:
        return pd.DataFrame([vars(d) for d in self.days])


def make_planner(name: str, park: Park | None = None, **options: Any) -> PlannerFn:
    """A planner by name: 'milp' (the optimizer; needs ``park``; ``options`` are
    :class:`parkgrid.optimizer.PlanOptions` fields), 'rules' or 'none'."""
    if name == "rules":
        return plan_rules
    if name == "none":
        return plan_none
    if name == "milp":
        if park is None:
            raise ValueError("the 'milp' planner needs the park")
        from parkgrid.simulate.milp import milp_planner

        return milp_planner(park, **options)
    raise ValueError(f"unknown planner {name!r}; expected one of {', '.join(PLANNERS)}")


def rollout_options(park: Park, planner_options: dict[str, Any] | None) -> dict[str, Any]:
    """The MILP planner's options in a rollout: the park's ``objective.rollout_mip_gap``
    unless ``planner_options`` sets ``mip_gap``."""
    return {"mip_gap": park.objective.rollout_mip_gap, **(planner_options or {})}


def day_starts(park: Park, start: object, end: object | None) -> pd.DatetimeIndex:
    """Local midnights from ``start`` (inclusive) to ``end`` (exclusive; default: a year)."""
    tz = park.site.timezone
    first = _local_midnight(start, tz)
    last = _local_midnight(end, tz) if end is not None else first + pd.DateOffset(years=1)
    if last <= first:
        raise ValueError(f"the period is empty: end {last.date()} is not after {first.date()}")
    return pd.date_range(first, last, freq="D", inclusive="left")


def _local_midnight(value: object, tz: str) -> pd.Timestamp:
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    stamp = stamp.tz_convert(tz) if stamp.tzinfo else stamp.tz_localize(tz)
    return stamp.normalize()


def simulate(
    park: Park,
    start: object | None = None,
    end: object | None = None,
    forecaster: Forecaster | str = "perfect",
    planner: PlannerFn | str = "milp",
    *,
    inputs: Inputs | None = None,
    seed: int = 0,
    state: ParkState | None = None,
    fallback: PlannerFn = plan_rules,
    keep_schedules: bool = False,
    progress: Progress | None = None,
    name: str | None = None,
    horizon_h: int | None = None,
    replan_every: int | None = None,
    dr_events: list[Event] | None = None,
) -> RolloutResult:
    """Roll day-ahead planning over [start, end) against the actual inputs.

    ``inputs``: a prebuilt period of actuals covering [start, end) (not modified; ``park``,
    not ``inputs.park``, gives the asset sizes); built with ``build_inputs`` when absent.
    ``forecaster`` / ``planner``: callables or names ('perfect' | 'persistence' | 'noisy';
    'milp' | 'rules' | 'none'). ``progress(day_record, running_cost_yuan)`` is called after
    every day. ``horizon_h``: hours each plan covers (24–168, the first 24 are applied;
    default: the park's ``objective.rollout_horizon_h``). ``replan_every``: steps between
    intraday re-plans (None: day-ahead only). ``dr_events``: demand-response events, known
    to the plans from their notice, settled on the ledger (:mod:`parkgrid.dr.session`).
    Returns the ledger and the per-day records.
    """
    started = time.perf_counter()
    horizon_h = park.objective.rollout_horizon_h if horizon_h is None else horizon_h
    shortest, longest = ROLLOUT_HORIZON_H
    if not shortest <= horizon_h <= longest:
        raise ValueError(f"horizon_h must lie within {shortest}–{longest} h, got {horizon_h}")
    first = pd.Timestamp(f"{park.year}-01-01") if start is None else start
    days = day_starts(park, first, end)
    actuals = _actuals(park, inputs, days)
    horizon_steps = horizon_h * park.steps_per_day // 24
    fc = make_forecaster(forecaster, seed) if isinstance(forecaster, str) else forecaster
    plan = (make_planner(planner, park, **rollout_options(park, None))
            if isinstance(planner, str) else planner)
    label = name or (planner if isinstance(planner, str) else getattr(plan, "name", "custom"))
    session = DRSession(park, dr_events) if dr_events else None
    if session is not None:
        plan = session.wrap(plan)
    controller = Controller(park)
    state = state or ParkState.initial(park)
    ledgers, records, events, schedules = [], [], [], {}
    cost = _RunningCost(park)
    for day in days:
        state = state.for_month(day.month)
        n = min(horizon_steps, len(actuals.index) - actuals.index.get_loc(day))
        schedule, record = _plan_day(plan, fallback, fc, actuals, day, n, state, events)
        notices = session.replan_steps(day) if session is not None else []
        if (replan_every or notices) and not record.fallback:
            schedule, result = _replan_day(plan, fc, actuals, controller, schedule, day, n,
                                           state, replan_every, events, notices)
            meta = schedule.metadata
            record.replans, record.replans_failed, record.replan_solve_s = (
                meta["replans"], meta["replans_failed"], meta["replan_solve_s"])
        else:
            result = controller.run_day(schedule, actuals.window(day, park.steps_per_day),
                                        state)
        state = result.state
        _book_day(record, result.ledger, result.events, events, park)
        if session is not None:
            session.observe(result.ledger)
        ledgers.append(result.ledger)
        records.append(record)
        if keep_schedules:
            schedules[record.date] = schedule
        if progress is not None:
            progress(record, cost.add(result.ledger))
    ledger = pd.concat(ledgers)
    ledger.index.freq = pd.tseries.frequencies.to_offset(f"{park.time_step_minutes}min")
    return RolloutResult(park, label, ledger, records, events, state, schedules,
                         time.perf_counter() - started,
                         session.settle(ledger) if session is not None else None)


def _actuals(park: Park, inputs: Inputs | None, days: pd.DatetimeIndex) -> Inputs:
    """The actual inputs for the period, with ``park`` as their park (frames shared)."""
    if inputs is None:
        years = sorted({d.year for d in days})
        if len(years) > 1:
            raise ValueError("a period built from the park's models must lie in one calendar "
                             f"year; got {days[0].date()} to {days[-1].date()}")
        inputs = build_inputs(park, years[0])
    end = days[-1] + pd.Timedelta(days=1)
    if days[0] < inputs.index[0] or end - pd.Timedelta(minutes=park.time_step_minutes) > \
            inputs.index[-1]:
        raise ValueError(f"the inputs ({inputs.index[0].date()} to {inputs.index[-1].date()}) "
                         f"do not cover the period {days[0].date()} to {end.date()}")
    return replace(inputs, park=park)


def _plan_day(plan: PlannerFn, fallback: PlannerFn, forecaster: Forecaster, actuals: Inputs,
              day: pd.Timestamp, n_steps: int, state: ParkState,
              events: list[str]) -> tuple[Schedule, DayRecord]:
    """The day's part of the schedule ``plan`` makes over ``n_steps`` from ``day``, or of
    ``fallback``'s when ``plan`` fails."""
    date = str(day.date())
    forecast = forecaster(actuals, day, n_steps)
    started = time.perf_counter()
    try:
        schedule = plan(forecast, state)
        problem = _unusable(schedule, len(forecast.index))
        if problem:
            raise SolverError(f"unusable schedule: {problem}")
    except Exception as exc:  # the run must never abort on one bad day
        kind = "solver" if isinstance(exc, SolverError) else type(exc).__name__
        where = "" if isinstance(exc, SolverError) else " at " + _origin(exc)
        reason = f"{kind}: {exc}{where}".replace("\n", " ")
        events.append(f"{date} FALLBACK to rules: {reason}")
        schedule = _first_day(fallback(forecast, state), actuals.park)
        meta = schedule.metadata
        return schedule, DayRecord(date, "rules", "fallback", time.perf_counter() - started,
                                   None, meta.get("objective"), True, reason)
    schedule = _first_day(schedule, actuals.park)
    meta = schedule.metadata
    status = str(meta.get("termination") or meta.get("status") or "ok")
    if status not in ("ok", "optimal", "rules"):
        events.append(f"{date} solver status {status} (gap {meta.get('gap')})")
    return schedule, DayRecord(
        date, str(meta.get("planner", getattr(plan, "name", "custom"))), status,
        float(meta.get("solve_time_s", meta.get("solve_s", time.perf_counter() - started))),
        meta_float(meta.get("gap")), meta_float(meta.get("objective")))


def replan_steps(every: str, park: Park) -> int:
    """Steps between intraday re-plans from a duration ('1h', '15min', '4h'): a multiple of
    the park's step, shorter than a day."""
    try:
        length = pd.Timedelta(every)
    except ValueError:
        length = pd.NaT
    step = pd.Timedelta(minutes=park.time_step_minutes)
    if pd.isna(length) or length <= pd.Timedelta(0) or length % step or length >= \
            pd.Timedelta(days=1):
        raise ArgumentError("--replan-every", every, f"a duration such as "
                            f"{_intervals(park.time_step_minutes)}: a multiple of the park's "
                            f"{park.time_step_minutes}-min step, shorter than a day")
    return int(length // step)


def _intervals(step_min: int) -> str:
    """Re-plan intervals a park with ``step_min``-minute steps takes, as examples."""
    minutes = sorted({m for m in (15, 60, 240) if m % step_min == 0} | {step_min})
    words = [f"{m // 60}h" if m % 60 == 0 else f"{m}min" for m in minutes]
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]


def _replan_day(plan: PlannerFn, forecaster: Forecaster, actuals: Inputs,
                controller: Controller, schedule: Schedule, day: pd.Timestamp, n_steps: int,
                state: ParkState, every: int | None, events: list[str],
                extra: list[int] | tuple[int, ...] = ()) -> tuple[Schedule, DayResult]:
    """Run the day re-planned (MPC) every ``every`` steps and at the ``extra`` steps (a
    demand-response event's notice): the controller runs to each re-plan time, the state it
    has reached there starts a plan to the end of the day's horizon (``n_steps`` from
    ``day``) on forecasts issued then, and the controller continues on that plan. The tail
    of the day's problem, so with perfect forecasts a re-plan can only confirm the plan
    (within the MIP gap). Returns the plan followed (the day-ahead plan's steps before the
    first re-plan, each re-plan's after it) and the controller's result of the day. The
    optimizer keeps one model per tail length, built on first use and re-solved on later
    days."""
    park = actuals.park
    per_day = park.steps_per_day
    actual_day = actuals.window(day, per_day)
    followed = schedule.frame
    run = controller.begin_day(schedule, actual_day, state)
    solve_s, replans, failed = 0.0, 0, 0
    for r in sorted(set(range(every, per_day, every) if every else ()) | set(extra)):
        run.advance(r)
        at = day + pd.Timedelta(minutes=r * park.time_step_minutes)
        n = n_steps - r
        try:
            forecast = _under_way(forecaster(actuals, at, n, issue=at), at,
                                  controller.ev_delivered_kwh)
            new = plan(forecast, run.state_out())
            problem = _unusable(new, n)
            if problem:
                raise SolverError(f"unusable schedule: {problem}")
        except Exception as exc:  # keep following the previous plan
            events.append(f"{at:%Y-%m-%d %H:%M} re-plan failed, previous plan kept: "
                          f"{type(exc).__name__}: {exc}".replace("\n", " "))
            failed += 1
            continue
        followed = _spliced(followed, new.frame, r)
        run.follow(Schedule(followed, schedule.metadata), r)
        solve_s += float(meta_float(new.metadata.get("solve_time_s")) or 0.0)
        replans += 1
    return (Schedule(followed, schedule.metadata | {"replans": replans, "replans_failed": failed,
                                                    "replan_solve_s": solve_s}, None),
            run.finish(actual_day))


def _spliced(followed: pd.DataFrame, new: pd.DataFrame, r: int) -> pd.DataFrame:
    """``followed``'s steps before ``r``, then ``new``'s first steps to the end of the day
    (``followed``'s columns; those ``new`` lacks keep ``followed``'s values). Frame-wise: a
    column-by-column splice costs several times more, at every re-plan."""
    tail = new.iloc[:len(followed) - r].set_axis(followed.index[r:])
    if not tail.columns.equals(followed.columns):
        tail = tail.reindex(columns=followed.columns)
        for column in followed.columns.difference(new.columns):
            tail[column] = followed[column].iloc[r:].to_numpy()
    return pd.concat([followed.iloc[:r], tail])


def _under_way(forecast: Inputs, at: pd.Timestamp,
               delivered_kwh: dict[tuple, float]) -> Inputs:
    """``forecast`` with the EV sessions plugged in before ``at`` owing what the controller
    has not yet delivered to them, from ``at`` (a plan from ``at`` would otherwise ask them
    for the pro-rata share of their energy, as at any horizon's start); sessions already
    served are dropped."""
    ev = forecast.ev_sessions
    plugged = utc_values(ev["arrival"]) < at.asm8
    if not plugged.any():
        return forecast
    rows = np.flatnonzero(plugged)
    keys = zip(ev["charger"].take(rows), ev["pile"].take(rows), ev["arrival"].take(rows),
               strict=True)
    done = np.fromiter((delivered_kwh.get(key, 0.0) for key in keys), float, len(rows))
    energy = ev["energy_kwh"].to_numpy(dtype=float, copy=True)
    energy[plugged] = np.maximum(energy[plugged] - done, 0.0)
    ev = ev.assign(energy_kwh=energy, arrival=ev["arrival"].where(~plugged, at))
    return replace(forecast, ev_sessions=ev[~plugged | (energy > 1e-9)].reset_index(drop=True))


def _first_day(schedule: Schedule, park: Park) -> Schedule:
    """The part of a plan that is applied: its first local day (the state at its end is
    the controller's, so none is kept)."""
    if len(schedule.frame) == park.steps_per_day:
        return schedule
    return Schedule(schedule.frame.iloc[:park.steps_per_day], schedule.metadata, None)


def _unusable(schedule: object, n_steps: int) -> str:
    """Why a planner's result cannot be applied ('' when it can)."""
    if not isinstance(schedule, Schedule):
        return f"expected a Schedule, got {type(schedule).__name__}"
    frame = schedule.frame
    if len(frame) != n_steps:
        return f"{len(frame)} steps instead of {n_steps}"
    if not all(np.isfinite(frame[c].to_numpy(dtype=float)).all()
               for c in frame.columns.tolist() if c.startswith(SETPOINT_COLUMNS)):
        return "non-finite set-points"
    return ""


def _origin(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


def _book_day(record: DayRecord, ledger: pd.DataFrame, day_events: list[str],
              events: list[str], park: Park) -> None:
    """Unserved and unmet energy of the day into its record and the event log."""
    record.unserved_kwh = float(physics.total(ledger, UNSERVED).sum() * park.step_h)
    record.ev_unmet_kwh = float(ledger["ev_unmet_kwh"].sum())
    if record.unserved_kwh > 1e-6:
        events.append(f"{record.date} unserved load {record.unserved_kwh:.1f} kWh")
    for line in day_events[:5]:
        events.append(f"{record.date} {line}")
    if len(day_events) > 5:
        events.append(f"{record.date} … and {len(day_events) - 5} more controller events")


class _RunningCost:
    """Cost so far (energy − export revenue + demand charge on month-to-date peaks), yuan."""

    def __init__(self, park: Park) -> None:
        self.park = park
        self.energy = 0.0
        self.peaks: dict[tuple[int, int], float] = {}

    def add(self, ledger: pd.DataFrame) -> float:
        dt = self.park.step_h
        imp = ledger[GRID_IMPORT].to_numpy(float)
        self.energy += float((imp * ledger["price_import"].to_numpy(float)).sum() * dt)
        self.energy -= float((ledger[GRID_EXPORT].to_numpy(float)
                              * ledger["price_export"].to_numpy(float)).sum() * dt)
        month = (ledger.index[0].year, ledger.index[0].month)
        self.peaks[month] = max(self.peaks.get(month, 0.0), float(imp.max()))
        from parkgrid.inputs.tariff import demand_charge_yuan

        demand = demand_charge_yuan(np.array(list(self.peaks.values())), self.park.tariff)
        return self.energy + demand
