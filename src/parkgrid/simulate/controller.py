"""The real-time controller: applies a day's plan step by step to the actual inputs.

Set-points are kept where physics allows: battery and tank flows, EV and deferrable
charging. Each step, in order:

1. cooling — the chillers keep their planned output and the tank takes the difference to
   the actual demand, within its limits; where it cannot (or storage may not be used), the
   tank follows its set-point and the chillers cover the actual demand plus tank charging
   (cheapest split that respects minimum part load); when the chillers cannot, the tank
   discharges more; what is left is unserved cooling. A demand below the minimum part
   load goes to the tank when storage may be used, else the chiller runs at its minimum
   and over-cools (as the optimizer allows).
2. EV sessions and deferrable loads — the planned aggregate power goes to the plugged-in
   sessions earliest-departure first, raised where a session (or a window) would otherwise
   miss its energy.
3. electricity — batteries at their set-points (clipped to power and SOC limits); the DC
   bus exchanges its surplus or deficit with the AC bus through the converter; the AC bus
   exports up to the limit, curtails renewables beyond it and imports the rest up to the
   import limit; load beyond that is unserved.
4. deviations — unless the plan forbids storage use (the 'none' planner), the batteries
   absorb what would otherwise set a new monthly peak (above the month-to-date peak and
   the plan's own peak), be curtailed, or be unserved, within their limits.

Steps 1 and 2 are *plant steps*: each kind of the registry with a ``step``
(:data:`parkgrid.model.registry.KINDS`) names a class following :class:`PlantStep`, built
once per controller; each step it returns the electricity its assets draw, and at the end
of the day the ledger columns and state of its kinds. Step 3 is the electrical settlement
of every bus; a new kind on its own carrier (heat) is one more plant step.

A day may be driven piecewise (intraday re-planning, :meth:`Controller.begin_day`): the
steps run so far give the state reached, and a new plan's set-points are followed from a
given step on while every running state (levels, EV energy delivered, deferrable windows,
the month-to-date peak) carries on; a day run in pieces is the day run at once.

The per-step loop is plain Python over one day (storage makes steps sequential); all
per-day preparation is vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.inputs import Inputs, utc_values
from parkgrid.model import physics, registry
from parkgrid.model.physics import Storage
from parkgrid.model.schedule import (
    A2D,
    BATTERY_CHARGE,
    BATTERY_DISCHARGE,
    BATTERY_SOC,
    CHILLER_COOLING,
    CHILLER_ELECTRIC,
    COOLING_LOAD,
    COOLING_UNSERVED,
    D2A,
    GRID_EXPORT,
    GRID_IMPORT,
    LOAD,
    SCHEDULE_COLUMNS,
    TANK_CHARGE,
    TANK_DISCHARGE,
    TANK_LEVEL,
    UNSERVED,
    ParkState,
    Schedule,
)

EPS = 1e-9
ASAP = float("inf")  # a set-point that charges as fast as the sessions allow

EXTRA_COLUMNS = ["ev_unmet_kwh", "deferrable_unmet_kwh"]
"""Ledger columns beyond the schedule's: energy still missing when an EV session departs or
a deferrable window closes, booked at that step (kWh)."""


@dataclass
class DayResult:
    """The ledger of one day, the state at its end and what went wrong."""

    ledger: pd.DataFrame
    state: ParkState
    events: list[str] = field(default_factory=list)


@dataclass
class _Battery:
    name: str
    dc: bool
    power_kw: float
    store: Storage


class PlantStep(Protocol):
    """A kind's part of the controller (see the module docstring): ``__init__(ctl)`` once
    per controller, then per day :meth:`begin`, :meth:`step` for every step (with
    :meth:`follow` between steps when the day is re-planned), :meth:`columns` and
    :meth:`end` (also mid-day: the state reached so far)."""

    events: list[str]

    def begin(self, plan: Schedule, actual: Inputs, state: ParkState, absorb: bool) -> None:
        """Start a day: the plan's set-points, the actual inputs, the state at the start,
        and whether storage may absorb deviations."""

    def follow(self, plan: Schedule) -> None:
        """Take ``plan``'s set-points (a schedule of the whole day; the steps still to run
        read them) and keep every running state: levels, energy delivered so far."""

    def step(self, t: int) -> tuple[float, float]:
        """Run step ``t``; returns the electricity drawn on the AC and the DC bus, kW."""

    def columns(self, put: Any) -> None:
        """Book the day's ledger columns with ``put(kind, base, name, values)`` (per-asset
        columns) or ``put(None, column, None, values)``."""

    def end(self, state: ParkState) -> None:
        """Write the state at the end of the day into ``state``."""


class Controller:
    """Applies plans to actuals for one park; remembers EV energy delivered across days."""

    def __init__(self, park: Park) -> None:
        self.park = park
        self.dt = park.step_h
        dt = self.dt
        self.batteries = [_Battery(b.name, b.bus == "dc", b.power_kw, Storage.battery(b, dt))
                          for b in park.batteries]
        self.ac_batteries = [i for i, b in enumerate(self.batteries) if not b.dc]
        self.dc_batteries = [i for i, b in enumerate(self.batteries) if b.dc]
        dc = park.buses.dc
        self.conv_kw = dc.converter_kw if dc else 0.0
        self.eta_conv = dc.converter_efficiency if dc else 1.0
        self.ev_delivered_kwh: dict[tuple, float] = {}
        self.absent_columns: list[str] | None = None  # set by the first day's ledger
        self.plants: list[PlantStep] = [registry.load(k.step)(self)
                                        for k in registry.kinds_with("step") if k.assets(park)]

    # ------------------------------------------------------------------ per day
    def run_day(self, plan: Schedule, actual: Inputs, state: ParkState) -> DayResult:
        """Apply ``plan`` (a schedule of the day's steps) to ``actual``; returns the day's
        ledger (schedule columns + :data:`EXTRA_COLUMNS`) and the state at its end.

        Plan metadata read here: ``storage: "none"`` forbids using storage for deviations;
        ``ev: "asap"`` / ``deferrable: "asap"`` charge as soon as possible, whatever the
        planned power."""
        return self.begin_day(plan, actual, state).finish(actual)

    def begin_day(self, plan: Schedule, actual: Inputs, state: ParkState) -> _StepRunner:
        """A day's step loop to drive piecewise (intraday re-planning): ``advance(t)`` runs
        the steps up to ``t``, ``state_out()`` is the state reached, ``follow(plan, t)``
        swaps in a new plan from step ``t``, ``finish(actual)`` runs the rest and gives the
        day's result (:meth:`run_day`)."""
        n = len(actual.index)
        if len(plan.frame) != n:
            raise ValueError(f"plan has {len(plan.frame)} steps, the day has {n}")
        absorb = plan.metadata.get("storage") != "none"
        for plant in self.plants:
            plant.begin(plan, actual, state, absorb)
        return _StepRunner(self, _DayData.build(self, plan, actual), state, absorb)


@dataclass
class _DayData:
    """What the electrical settlement reads, as Python lists for speed."""

    pv_avail: list[list[float]]
    pv_dc: list[bool]
    wind_avail: list[list[float]]
    pv_ac_kw: list[float]  # per step, summed as the settlement reads them
    pv_dc_kw: list[float]
    wind_kw: list[float]
    load_ac: list[float]
    load_dc: list[float]
    batt_sp: list[list[float]]
    plan_peak_kw: float

    @classmethod
    def build(cls, ctl: Controller, schedule: Schedule, actual: Inputs) -> _DayData:
        park, s, n = ctl.park, actual.series, len(actual.index)
        pv = [s[f"pv_kw_{a.name}"].to_numpy(float).tolist() for a in park.pv]
        wind = [s[f"wind_kw_{w.name}"].to_numpy(float).tolist() for w in park.wind]

        def per_step(columns: list[list[float]]) -> list[float]:
            return [sum(values) for values in zip(*columns, strict=True)] if columns else \
                [0.0] * n

        return cls(
            pv_avail=pv,
            pv_dc=[a.bus == "dc" for a in park.pv],
            wind_avail=wind,
            pv_ac_kw=per_step([v for v, a in zip(pv, park.pv, strict=True) if a.bus != "dc"]),
            pv_dc_kw=per_step([v for v, a in zip(pv, park.pv, strict=True) if a.bus == "dc"]),
            wind_kw=per_step(wind),
            load_ac=actual.bus_total_kw("load_kw_", park.loads, "ac").to_numpy(float).tolist(),
            load_dc=actual.bus_total_kw("load_kw_", park.loads, "dc").to_numpy(float).tolist(),
            **cls.setpoints(ctl, schedule, n),
        )

    @staticmethod
    def setpoints(ctl: Controller, schedule: Schedule, n: int) -> dict[str, Any]:
        """The fields read from the plan: the batteries' set-points and its peak import."""
        park, plan = ctl.park, schedule.frame
        batt_sp = [(setpoint(park, plan, n, "batteries", BATTERY_DISCHARGE, b.name)
                    - setpoint(park, plan, n, "batteries", BATTERY_CHARGE, b.name)).tolist()
                   for b in park.batteries]
        imports = plan_column(plan, n, GRID_IMPORT)
        return {"batt_sp": batt_sp, "plan_peak_kw": float(imports.max()) if n else 0.0}


def plan_column(plan: pd.DataFrame, n: int, column: str) -> np.ndarray:
    """A plan's column as floats (zeros when the plan lacks it)."""
    return plan[column].to_numpy(float) if column in plan else np.zeros(n)


def setpoint(park: Park, plan: pd.DataFrame, n: int, kind: str, base: str,
             name: str) -> np.ndarray:
    """The planned ``base`` of asset ``name`` of ``kind`` (zeros when the plan lacks it)."""
    return plan_column(plan, n, physics.asset_column(park, kind, base, name))


class CoolingStep:
    """Kinds 'chillers' and 'tank': step 1 of the module docstring."""

    def __init__(self, ctl: Controller) -> None:
        park = ctl.park
        assert park.cooling is not None
        self.ctl, self.dt = ctl, ctl.dt
        self.chillers = list(park.cooling.chillers)
        self.curves = [tuple(np.asarray(v, float) for v in physics.chiller_curve(c))
                       for c in self.chillers]  # arrays: np.interp converts lists per call
        self.cap = sum(c.capacity_kw_th for c in self.chillers)
        self.tank = park.cooling.tank
        self.store = Storage.tank(self.tank, self.dt) if self.tank else None
        self.events: list[str] = []

    def begin(self, plan: Schedule, actual: Inputs, state: ParkState, absorb: bool) -> None:
        n = self.n = len(actual.index)
        self.absorb = absorb
        self.demand = actual.series[COOLING_LOAD].to_numpy(float).tolist()
        self.level = state.tank_level_kwh_th
        self.on = [state.chillers_on.get(c.name, False) for c in self.chillers]
        self.rec = {k: [0.0] * n for k in (TANK_CHARGE, TANK_DISCHARGE,
                                           TANK_LEVEL, COOLING_UNSERVED)}
        self.q = [[0.0] * n for _ in self.chillers]
        self.e = [[0.0] * n for _ in self.chillers]
        self.events = []
        self.follow(plan)

    def follow(self, plan: Schedule) -> None:
        frame, n = plan.frame, self.n
        self.tes_sp = (plan_column(frame, n, TANK_CHARGE)
                       - plan_column(frame, n, TANK_DISCHARGE)).tolist()
        self.planned = (physics.total(frame, CHILLER_COOLING).tolist()
                        if physics.columns_like(frame, CHILLER_COOLING) else None)

    def step(self, t: int) -> tuple[float, float]:
        """Tank and chillers for step ``t``; returns chiller electricity on (AC, DC), kW."""
        demand, tank, store = self.demand[t], self.tank, self.store
        q_in = 0.0
        if tank is not None and store is not None:
            kept = self.level * store.keep
            max_in = store.max_charge(kept, tank.max_charge_kw_th)
            max_out = max(0.0, store.max_discharge(kept, tank.max_discharge_kw_th))
            q_in = min(max(self.tes_sp[t], -max_out), max_in)
        else:
            kept, max_in, max_out = 0.0, 0.0, 0.0
        planned = self.planned[t] if self.planned is not None else None
        if self.absorb and planned is not None and tank is not None and self.runnable(
                planned) and -max_out - EPS <= planned - demand <= max_in + EPS:
            q_in = min(max(planned - demand, -max_out), max_in)  # chillers as planned
        q_in = max(q_in, -demand)
        need = demand + q_in
        if need > self.cap:
            q_in = max(q_in - (need - self.cap), -max_out)
            need = demand + q_in
        unmet = max(0.0, need - self.cap)
        need -= unmet
        outputs = physics.split_cooling(self.chillers, need, self.curves) if need > EPS else []
        if need > EPS and not outputs:  # below every minimum part load
            first = self.chillers[0].min_part_load * self.chillers[0].capacity_kw_th
            if self.absorb and q_in + (first - need) <= max_in + EPS:
                q_in += first - need  # the tank stores the surplus
            elif self.absorb and q_in - need >= -max_out - EPS:
                q_in -= need  # the tank covers it, the chillers stay off
                first = 0.0
            need = first  # otherwise over-cool at the minimum part load
            outputs = physics.split_cooling(self.chillers, need, self.curves) if need else []
        if not outputs:
            outputs = [0.0] * len(self.chillers)
        e_ac = e_dc = 0.0
        for i, (c, q) in enumerate(zip(self.chillers, outputs, strict=True)):
            e = float(np.interp(q, *self.curves[i])) if q > 0.0 else 0.0
            self.q[i][t], self.e[i][t] = q, e
            self.on[i] = q > 0.0
            if c.bus == "dc":
                e_dc += e
            else:
                e_ac += e
        rec = self.rec
        charge, discharge = max(q_in, 0.0), max(-q_in, 0.0)
        rec[TANK_CHARGE][t] = charge
        rec[TANK_DISCHARGE][t] = discharge
        rec[COOLING_UNSERVED][t] = unmet
        if store is not None:
            self.level = max(0.0, store.step(self.level, charge, discharge))
        rec[TANK_LEVEL][t] = self.level
        return e_ac, e_dc

    def runnable(self, output_kw_th: float) -> bool:
        """Whether the chillers can produce exactly ``output_kw_th`` (0 always can)."""
        return output_kw_th <= EPS or bool(physics.split_cooling(self.chillers, output_kw_th,
                                                                 self.curves))

    def columns(self, put: Any) -> None:
        for i, c in enumerate(self.chillers):
            put("chillers", CHILLER_ELECTRIC, c.name, self.e[i])
            put("chillers", CHILLER_COOLING, c.name, self.q[i])
        for column, values in self.rec.items():
            put(None, column, None, values)

    def end(self, state: ParkState) -> None:
        state.tank_level_kwh_th = self.level
        state.chillers_on = {c.name: self.on[i] for i, c in enumerate(self.chillers)}


class EVStep:
    """Kind 'chargers': EV charging (step 2 of the module docstring), what departures require,
    then each charger's planned power to its plugged-in sessions, earliest departure first.
    Energy delivered is remembered across days (``ctl.ev_delivered_kwh``)."""

    def __init__(self, ctl: Controller) -> None:
        assert ctl.park.ev is not None
        self.ctl, self.dt = ctl, ctl.dt
        self.chargers = list(ctl.park.ev.chargers)
        self.events: list[str] = []

    def begin(self, plan: Schedule, actual: Inputs, state: ParkState, absorb: bool) -> None:
        n = self.n = len(actual.index)
        self.sessions = _sessions(self.ctl, actual, [c.name for c in self.chargers])
        self.kw = [[0.0] * n for _ in self.chargers]
        self.unmet = [0.0] * n
        self.events = []
        self.follow(plan)

    def follow(self, plan: Schedule) -> None:
        """The chargers' planned power; the sessions keep what they have received."""
        park, n = self.ctl.park, self.n
        self.sp = [[ASAP] * n if plan.metadata.get("ev") == "asap" else
                   setpoint(park, plan.frame, n, "chargers", "ev_charge_kw", c.name).tolist()
                   for c in self.chargers]

    def step(self, t: int) -> tuple[float, float]:
        dt = self.dt
        active = [s for s in self.sessions if s[1] <= t < s[2] and s[3] > EPS]
        if not active:
            return 0.0, 0.0
        power = []
        for s in active:
            must = max(0.0, s[3] - s[4] * dt * (s[2] - t - 1)) / dt
            power.append(min(must, s[4], s[3] / dt))
        budget = [sp[t] for sp in self.sp]
        for i, s in enumerate(active):
            budget[s[6]] -= power[i]
        for i, s in enumerate(active):
            if budget[s[6]] > EPS:
                extra = min(budget[s[6]], min(s[4], s[3] / dt) - power[i])
                power[i] += extra
                budget[s[6]] -= extra
        ev_ac = ev_dc = 0.0
        delivered = self.ctl.ev_delivered_kwh
        for s, p in zip(active, power, strict=True):
            s[3] -= p * dt
            delivered[s[0]] = delivered.get(s[0], 0.0) + p * dt
            self.kw[s[6]][t] += p
            if s[5]:
                ev_dc += p
            else:
                ev_ac += p
            if t == s[2] - 1 and s[3] > 1e-6:
                self.unmet[t] += s[3]
                self.events.append(f"step {t}: EV session {s[0][0]}/{s[0][1]} left "
                                   f"{s[3]:.1f} kWh short")
        return ev_ac, ev_dc

    def columns(self, put: Any) -> None:
        for i, c in enumerate(self.chargers):
            put("chargers", "ev_charge_kw", c.name, self.kw[i])
        put(None, "ev_unmet_kwh", None, self.unmet)

    def end(self, state: ParkState) -> None:
        """Nothing: the energy delivered so far lives on the controller."""


class DeferrableStep:
    """Kind 'deferrable': deferrable loads (step 2 of the module docstring), plan first, then
    what the window requires."""

    def __init__(self, ctl: Controller) -> None:
        self.ctl, self.dt = ctl, ctl.dt
        self.loads = list(ctl.park.deferrable)
        self.events: list[str] = []

    def begin(self, plan: Schedule, actual: Inputs, state: ParkState, absorb: bool) -> None:
        n = self.n = len(actual.index)
        self.windows = _deferrable_windows(self.ctl.park, actual)
        self.done = [0.0] * len(self.windows)
        self.kw = [[0.0] * n for _ in self.windows]
        self.unmet = [0.0] * n
        self.follow(plan)

    def follow(self, plan: Schedule) -> None:
        """The loads' planned power; the windows keep the energy done so far."""
        park, n = self.ctl.park, self.n
        sp = [setpoint(park, plan.frame, n, "deferrable", "deferrable_kw", d.name).tolist()
              for d in self.loads]
        self.sp = [[ASAP] * n for _ in sp] if plan.metadata.get("deferrable") == "asap" else sp

    def step(self, t: int) -> tuple[float, float]:
        dt = self.dt
        on_ac = on_dc = 0.0
        for i, (start, end, energy, max_kw, dc) in enumerate(self.windows):
            if not start <= t < end:
                continue
            rest = energy - self.done[i]
            must = max(0.0, rest - max_kw * dt * (end - t - 1)) / dt
            p = max(0.0, min(max(self.sp[i][t], must), max_kw, rest / dt))
            self.done[i] += p * dt
            self.kw[i][t] = p
            if t == end - 1 and energy - self.done[i] > 1e-6:
                self.unmet[t] += energy - self.done[i]
            if dc:
                on_dc += p
            else:
                on_ac += p
        return on_ac, on_dc

    def columns(self, put: Any) -> None:
        for i, d in enumerate(self.loads):
            put("deferrable", "deferrable_kw", d.name, self.kw[i])
        put(None, "deferrable_unmet_kwh", None, self.unmet)

    def end(self, state: ParkState) -> None:
        """Nothing: a window closes within its day."""


def _deferrable_windows(park: Park, actual: Inputs) -> list[tuple[int, int, float, float, bool]]:
    """Per deferrable load: the day's window as steps [start, end), energy, max kW, on DC."""
    day = actual.index[0]
    workday = day.weekday() < 5 and not bool(actual.series["is_holiday"].iloc[0]) \
        if "is_holiday" in actual.series else day.weekday() < 5
    windows = []
    for d in park.deferrable:
        start = round(d.window_start_h / park.step_h)
        end = min(round(d.window_end_h / park.step_h), len(actual.index))
        energy = d.energy_kwh_per_day if (workday or not d.workdays_only) else 0.0
        windows.append((start, end, energy, d.max_kw, d.bus == "dc"))
    return windows


def _sessions(ctl: Controller, actual: Inputs, chargers: list[str]) -> list[list]:
    """The day's EV sessions, earliest departure first, with the energy still to deliver:
    [key, first step, departure step, remaining kWh, max kW, on DC, charger index]."""
    ev = actual.ev_sessions
    if ev.empty:
        return []
    day_start = actual.index[0]
    step_s = ctl.dt * 3600.0
    second = np.timedelta64(1, "s")
    first = np.ceil((utc_values(ev["arrival"]) - day_start.asm8) / second / step_s - 1e-9)
    dep = np.ceil((utc_values(ev["departure"]) - day_start.asm8) / second / step_s - 1e-9)
    sessions = []
    rows = zip(ev["charger"].tolist(), ev["pile"].tolist(), ev["arrival"],
               ev["energy_kwh"].tolist(), ev["max_kw"].tolist(), ev["bus"].tolist(),
               first.tolist(), dep.tolist(), strict=True)
    for charger, pile, arrival, energy_kwh, max_kw, bus, first_t, dep_t in rows:
        key = (charger, pile, arrival)
        remaining = float(energy_kwh) - ctl.ev_delivered_kwh.get(key, 0.0)
        if dep_t <= 0 or remaining <= EPS:
            continue
        sessions.append([key, max(int(first_t), 0), int(dep_t), remaining, float(max_kw),
                         bus == "dc", chargers.index(charger)])
    sessions.sort(key=lambda x: x[2])
    return sessions


class _StepRunner:
    """The state and the records of one day's step loop."""

    def __init__(self, ctl: Controller, day: _DayData, state: ParkState, absorb: bool) -> None:
        self.ctl, self.day, self.absorb = ctl, day, absorb
        n = len(day.load_ac)
        self.start = state
        self.soc = [state.battery_soc_kwh.get(b.name, 0.5 * (b.store.lo + b.store.hi))
                    for b in ctl.batteries]
        self.peak = state.month_peak_kw
        self.threshold = max(state.month_peak_kw, day.plan_peak_kw)
        self.t = 0  # the steps run so far
        self.events: list[str] = []
        nb = len(ctl.batteries)
        zeros = lambda k: [[0.0] * n for _ in range(k)]  # noqa: E731
        self.rec = {k: [0.0] * n for k in (GRID_IMPORT, GRID_EXPORT, A2D, D2A, "unserved_ac",
                                           "unserved_dc")}
        self.b_ch, self.b_dis, self.b_soc = zeros(nb), zeros(nb), zeros(nb)
        self.pv_curt = zeros(len(day.pv_avail))
        self.wind_curt = zeros(len(day.wind_avail))

    # -------------------------------------------------------------- piecewise
    def advance(self, to: int) -> None:
        """Run the steps from the last one run up to (not including) ``to``."""
        for t in range(self.t, to):
            self.step(t)
        self.t = max(self.t, to)

    def follow(self, plan: Schedule, start: int) -> None:
        """Follow ``plan`` (a schedule of the whole day) from step ``start`` on: its
        set-points replace the old plan's in the settlement and in every plant step, which
        keep their running state; the peak threshold becomes the new plan's own peak from
        ``start`` on (or the month-to-date peak if higher)."""
        n = len(self.day.load_ac)
        if len(plan.frame) != n:
            raise ValueError(f"plan has {len(plan.frame)} steps, the day has {n}")
        self.day = replace(self.day, **_DayData.setpoints(self.ctl, plan, n))
        for plant in self.ctl.plants:
            plant.follow(plan)
        imports = plan_column(plan.frame, n, GRID_IMPORT)[start:]
        self.threshold = max(self.peak, float(imports.max()) if imports.size else 0.0)

    def finish(self, actual: Inputs) -> DayResult:
        """Run the rest of the day; its ledger, the state at its end and its events."""
        self.advance(len(self.day.load_ac))
        events = self.events + [e for plant in self.ctl.plants for e in plant.events]
        return DayResult(self.ledger(actual), self.state_out(), events)

    # -------------------------------------------------------------- one step
    def step(self, t: int) -> None:
        d = self.day
        cons_ac, cons_dc = d.load_ac[t], d.load_dc[t]
        for plant in self.ctl.plants:
            on_ac, on_dc = plant.step(t)
            cons_ac += on_ac
            cons_dc += on_dc
        pv_ac, pv_dc, wind = d.pv_ac_kw[t], d.pv_dc_kw[t], d.wind_kw[t]
        nets, lims = self._battery_setpoints(t)
        flows = self._settle(pv_ac + wind, pv_dc, cons_ac, cons_dc, nets)
        for _ in range(3):
            if not self._adjust(nets, lims, flows):
                break
            flows = self._settle(pv_ac + wind, pv_dc, cons_ac, cons_dc, nets)
        self._record(t, flows, nets, pv_ac, wind)

    def _battery_setpoints(self, t: int) -> tuple[list[float], list[tuple[float, float]]]:
        """Set-points clipped to limits (net output, kW) and the limits (max out, max in)."""
        nets, lims = [], []
        for i, b in enumerate(self.ctl.batteries):
            kept = self.soc[i] * b.store.keep
            max_out = b.store.max_discharge(kept, b.power_kw)
            max_in = b.store.max_charge(kept, b.power_kw)
            nets.append(min(max(self.day.batt_sp[i][t], -max_in), max_out))
            lims.append((max_out, max_in))
        return nets, lims
    def _settle(self, re_ac: float, pv_dc: float, cons_ac: float, cons_dc: float,
                nets: list[float]) -> list[float]:
        """Grid, converter and curtailment for given battery outputs.

        Returns [import, export, ac_to_dc, dc_to_ac, curt_ac, curt_dc, short_ac, short_dc,
        excess_ac, excess_dc]; excess is battery output no bus can take."""
        ctl = self.ctl
        b_ac = sum(x for x, b in zip(nets, ctl.batteries, strict=True) if not b.dc)
        b_dc = sum(x for x, b in zip(nets, ctl.batteries, strict=True) if b.dc)
        eta, grid = ctl.eta_conv, ctl.park.grid
        a2d = d2a = curt_dc = xs_dc = short_dc = 0.0
        dc = pv_dc + b_dc - cons_dc
        if dc >= 0.0:
            d2a = min(dc, ctl.conv_kw)
            curt_dc = min(dc - d2a, pv_dc)
            xs_dc = max(0.0, dc - d2a - curt_dc)
        else:
            a2d = min(-dc / eta, ctl.conv_kw)
            short_dc = max(0.0, -dc - a2d * eta)
        ac = re_ac + b_ac + d2a * eta - a2d - cons_ac
        imp = exp = curt_ac = xs_ac = short_ac = 0.0
        if ac >= 0.0:
            exp = min(ac, grid.export_limit_kw)
            curt_ac = min(ac - exp, re_ac)
            xs_ac = max(0.0, ac - exp - curt_ac)
            if xs_ac > EPS and d2a > 0.0:  # the DC bus must keep what the AC bus cannot take
                back = min(d2a, xs_ac / eta)
                d2a -= back
                xs_ac -= back * eta
                more = min(back, pv_dc - curt_dc)
                curt_dc += more
                xs_dc += back - more
        else:
            imp = min(-ac, grid.import_limit_kw)
            short_ac = max(0.0, -ac - imp)
        return [imp, exp, a2d, d2a, curt_ac, curt_dc, short_ac, short_dc, xs_ac, xs_dc]

    def _adjust(self, nets: list[float], lims: list[tuple[float, float]],
                flows: list[float]) -> bool:
        """Move battery outputs to remove excess and, when allowed, to absorb deviations.
        Returns True when anything moved (the caller settles again)."""
        imp, _, a2d, _, curt_ac, curt_dc, short_ac, short_dc, xs_ac, xs_dc = flows
        ac_idx, dc_idx = self.ctl.ac_batteries, self.ctl.dc_batteries
        eta = self.ctl.eta_conv
        via = eta if a2d > 0.0 else 1.0 / eta  # DC-side kW per AC-side kW
        before = list(nets)
        if xs_dc > EPS:
            _move(nets, lims, dc_idx, -xs_dc)
        if xs_ac > EPS:
            _move(nets, lims, ac_idx, -xs_ac)
        if self.absorb:
            if short_dc > EPS:
                _move(nets, lims, dc_idx, short_dc)
            up = short_ac + max(0.0, imp - self.threshold)
            if up > EPS:
                rest = _move(nets, lims, ac_idx, up)
                _move(nets, lims, dc_idx, rest * via)
            if curt_dc > EPS:
                _move(nets, lims, dc_idx, -curt_dc)
            if curt_ac > EPS:
                rest = _move(nets, lims, ac_idx, -curt_ac)
                _move(nets, lims, dc_idx, rest * via)
        return any(abs(a - b) > 1e-7 for a, b in zip(nets, before, strict=True))

    def _record(self, t: int, flows: list[float], nets: list[float], pv_ac: float,
                 wind: float) -> None:
        imp, exp, a2d, d2a, curt_ac, curt_dc, short_ac, short_dc, _, _ = flows
        rec = self.rec
        rec[GRID_IMPORT][t] = imp
        rec[GRID_EXPORT][t] = exp
        rec[A2D][t] = a2d
        rec[D2A][t] = d2a
        rec["unserved_ac"][t] = short_ac if short_ac > 1e-9 else 0.0
        rec["unserved_dc"][t] = short_dc if short_dc > 1e-9 else 0.0
        if imp > self.peak:
            self.peak = imp
            self.threshold = max(self.threshold, imp)
        for i, b in enumerate(self.ctl.batteries):
            ch, dis = max(-nets[i], 0.0) + 0.0, max(nets[i], 0.0) + 0.0
            self.soc[i] = b.store.step(self.soc[i], ch, dis)
            self.b_ch[i][t], self.b_dis[i][t], self.b_soc[i][t] = ch, dis, self.soc[i]
        d = self.day
        re_ac = pv_ac + wind
        share_ac = curt_ac / re_ac if re_ac > EPS else 0.0
        pv_dc = d.pv_dc_kw[t]
        share_dc = curt_dc / pv_dc if pv_dc > EPS else 0.0
        for i, (a, dc) in enumerate(zip(d.pv_avail, d.pv_dc, strict=True)):
            self.pv_curt[i][t] = a[t] * (share_dc if dc else share_ac)
        for i, w in enumerate(d.wind_avail):
            self.wind_curt[i][t] = w[t] * share_ac

    # -------------------------------------------------------------- results
    def ledger(self, actual: Inputs) -> pd.DataFrame:
        """The day's ledger: the schedule's columns (realised) plus the extra columns."""
        park, d, s, rec = self.ctl.park, self.day, actual.series, self.rec
        cols: dict[str, object] = {k: rec[k] for k in (GRID_IMPORT, GRID_EXPORT, A2D, D2A)}

        def put(kind: str | None, base: str, name: str | None, values: object) -> None:
            column = base if kind is None else physics.asset_column(park, kind, base, name or "")
            cols[column] = values

        for i, a in enumerate(park.pv):
            avail = np.asarray(d.pv_avail[i])
            put("pv", "pv_kw", a.name, avail - np.asarray(self.pv_curt[i]))
            put("pv", "pv_curtailed_kw", a.name, self.pv_curt[i])
        for i, w in enumerate(park.wind):
            avail = np.asarray(d.wind_avail[i])
            put("wind", "wind_kw", w.name, avail - np.asarray(self.wind_curt[i]))
            put("wind", "wind_curtailed_kw", w.name, self.wind_curt[i])
        for i, b in enumerate(park.batteries):
            put("batteries", BATTERY_CHARGE, b.name, self.b_ch[i])
            put("batteries", BATTERY_DISCHARGE, b.name, self.b_dis[i])
            put("batteries", BATTERY_SOC, b.name, self.b_soc[i])
        for plant in self.ctl.plants:
            plant.columns(put)
        put("buses", UNSERVED, "ac", np.asarray(rec["unserved_ac"])
            + (0.0 if park.buses.dc else np.asarray(rec["unserved_dc"])))
        if park.buses.dc:
            put("buses", UNSERVED, "dc", rec["unserved_dc"])
        cols[LOAD] = np.asarray(d.load_ac) + np.asarray(d.load_dc)
        cols[COOLING_LOAD] = (s[COOLING_LOAD].to_numpy(float)
                                      if park.cooling else np.zeros(len(actual.index)))
        cols["price_import"] = s["price_import_yuan_per_kwh"].to_numpy()
        cols["price_export"] = s["price_export_yuan_per_kwh"].to_numpy()
        cols["tou_period"] = s["tou_period"].to_numpy()
        cols["co2_kg_per_kwh"] = s["co2_kg_per_kwh"].to_numpy()
        ctl = self.ctl
        absent = ctl.absent_columns
        for c in absent or ():  # all zeros, in the frame as it is built
            cols[c] = np.zeros(len(actual.index))
        arrays = {c: np.array(v, dtype=float) if isinstance(v, list) else v  # faster than
                  for c, v in cols.items()}  # pandas' inference on lists (all floats)
        frame = pd.DataFrame(arrays, index=actual.index)
        if absent is None:  # the kinds of asset the park lacks: the same every day
            ctl.absent_columns = [c for c in SCHEDULE_COLUMNS + EXTRA_COLUMNS
                                  if not physics.columns_like(frame, c)]
            for c in ctl.absent_columns:
                frame[c] = 0.0
        return frame

    def state_out(self) -> ParkState:
        """The state after the steps run so far (the day's end once it is finished)."""
        ctl = self.ctl
        state = ParkState({b.name: self.soc[i] for i, b in enumerate(ctl.batteries)},
                          self.start.tank_level_kwh_th, dict(self.start.chillers_on),
                          self.peak, self.start.month,
                          {k: dict(v) for k, v in self.start.stored.items()})
        for plant in ctl.plants:
            plant.end(state)
        return state


def _move(nets: list[float], lims: list[tuple[float, float]], idx: list[int],
          amount: float) -> float:
    """Raise (amount > 0) or lower the outputs of batteries ``idx`` by up to ``amount``
    within their limits; returns what could not be moved."""
    for i in idx:
        if abs(amount) <= EPS:
            break
        if amount > 0.0:
            delta = min(amount, lims[i][0] - nets[i])
        else:
            delta = -min(-amount, nets[i] + lims[i][1])
        delta = max(delta, 0.0) if amount > 0.0 else min(delta, 0.0)
        nets[i] += delta
        amount -= delta
    return amount
