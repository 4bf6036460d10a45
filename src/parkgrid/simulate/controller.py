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

The per-step loop is plain Python over one day (storage makes steps sequential); all
per-day preparation is vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.inputs import Inputs
from parkgrid.model import physics
from parkgrid.model.heating import STEP_COLUMNS, HeatPlant, HeatStep
from parkgrid.model.schedule import SCHEDULE_COLUMNS, ParkState, Schedule

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
    eta_c: float
    eta_d: float
    lo_kwh: float
    hi_kwh: float
    keep: float  # fraction of the energy kept over one step (self-discharge)


class Controller:
    """Applies plans to actuals for one park; remembers EV energy delivered across days."""

    def __init__(self, park: Park) -> None:
        self.park = park
        self.dt = park.step_h
        dt = self.dt
        self.batteries = [
            _Battery(b.name, b.bus == "dc", b.power_kw, b.charge_efficiency,
                     b.discharge_efficiency, b.soc_min * b.energy_kwh, b.soc_max * b.energy_kwh,
                     1.0 - b.self_discharge_pct_per_h / 100.0 * dt)
            for b in park.batteries
        ]
        dc = park.buses.dc
        self.conv_kw = dc.converter_kw if dc else 0.0
        self.eta_conv = dc.converter_efficiency if dc else 1.0
        self.chillers = list(park.cooling.chillers) if park.cooling else []
        self.curves = [physics.chiller_curve(c) for c in self.chillers]
        self.chiller_cap = sum(c.capacity_kw_th for c in self.chillers)
        self.tank = park.cooling.tank if park.cooling else None
        self.heat = HeatPlant(park.heating, dt) if park.heating else None
        self.ev_delivered_kwh: dict[tuple, float] = {}
        self.absent_columns: list[str] | None = None  # set by the first day's ledger

    # ------------------------------------------------------------------ per day
    def run_day(self, plan: Schedule, actual: Inputs, state: ParkState) -> DayResult:
        """Apply ``plan`` (a schedule of the day's steps) to ``actual``; returns the day's
        ledger (schedule columns + :data:`EXTRA_COLUMNS`) and the state at its end.

        Plan metadata read here: ``storage: "none"`` forbids using storage for deviations;
        ``ev: "asap"`` / ``deferrable: "asap"`` charge as soon as possible, whatever the
        planned power."""
        n = len(actual.index)
        if len(plan.frame) != n:
            raise ValueError(f"plan has {len(plan.frame)} steps, the day has {n}")
        day = _DayData.build(self, plan, actual)
        run = _StepRunner(self, day, state, plan.metadata.get("storage") != "none")
        for t in range(n):
            run.step(t)
        ledger = run.ledger(actual)
        return DayResult(ledger, run.state_out(), run.events)


@dataclass
class _DayData:
    """Everything the step loop reads, as Python lists for speed."""

    pv_avail: list[list[float]]
    pv_dc: list[bool]
    wind_avail: list[list[float]]
    load_ac: list[float]
    load_dc: list[float]
    cooling: list[float]
    batt_sp: list[list[float]]
    tes_sp: list[float]
    chiller_sp: list[float] | None  # planned total chiller output, kW_th (None: not planned)
    ev_sp: list[list[float]]  # per charger (park.ev.chargers order)
    def_sp: list[list[float]]
    def_windows: list[tuple[int, int, float, float, bool]]  # start, end, kwh, max_kw, dc
    sessions: list[list]  # [key, first, dep_step, remaining_kwh, max_kw, dc, charger]
    plan_peak_kw: float
    heating: list[list[float]] | None = None  # load, COP, tank / heat pump / boiler set-points
    counterfactual: bool = False  # heat from the diesel boiler alone (the park before)

    @classmethod
    def build(cls, ctl: Controller, schedule: Schedule, actual: Inputs) -> _DayData:
        park, s, n = ctl.park, actual.series, len(actual.index)
        plan, meta = schedule.frame, schedule.metadata
        chargers = park.ev.chargers if park.ev else []

        def setpoint(kind: str, base: str, name: str) -> np.ndarray:
            col = physics.asset_column(park, kind, base, name)
            return plan[col].to_numpy(float) if col in plan else np.zeros(n)

        def plan_col(col: str) -> np.ndarray:
            return plan[col].to_numpy(float) if col in plan else np.zeros(n)

        batt_sp = [(setpoint("batteries", "battery_discharge_kw", b.name)
                    - setpoint("batteries", "battery_charge_kw", b.name)).tolist()
                   for b in park.batteries]
        def_sp = [setpoint("deferrable", "deferrable_kw", d.name).tolist()
                  for d in park.deferrable]
        imports = plan_col("grid_import_kw")
        heating = None
        if park.heating is not None:
            cop = (s["heat_pump_cop"].to_numpy(float) if "heat_pump_cop" in s else np.ones(n))
            heating = [s["heating_load_kw_th"].to_numpy(float).tolist(), cop.tolist(),
                       (plan_col("hot_tank_charge_kw_th")
                        - plan_col("hot_tank_discharge_kw_th")).tolist(),
                       plan_col("heat_pump_heat_kw_th").tolist(),
                       plan_col("boiler_heat_kw_th").tolist(),
                       s["price_import_yuan_per_kwh"].to_numpy(float).tolist()]
        return cls(
            pv_avail=[s[f"pv_kw_{a.name}"].to_numpy(float).tolist() for a in park.pv],
            pv_dc=[a.bus == "dc" for a in park.pv],
            wind_avail=[s[f"wind_kw_{w.name}"].to_numpy(float).tolist() for w in park.wind],
            load_ac=actual.bus_total_kw("load_kw_", park.loads, "ac").to_numpy(float).tolist(),
            load_dc=actual.bus_total_kw("load_kw_", park.loads, "dc").to_numpy(float).tolist(),
            cooling=(s["cooling_load_kw_th"].to_numpy(float).tolist()
                     if park.cooling else [0.0] * n),
            batt_sp=batt_sp,
            tes_sp=(plan_col("tes_charge_kw_th") - plan_col("tes_discharge_kw_th")).tolist(),
            chiller_sp=(physics.total(plan, "chiller_cooling_kw_th").tolist()
                        if physics.columns_like(plan, "chiller_cooling_kw_th") else None),
            ev_sp=[[ASAP] * n if meta.get("ev") == "asap" else
                   setpoint("chargers", "ev_charge_kw", c.name).tolist() for c in chargers],
            def_sp=([[ASAP] * n for _ in def_sp] if meta.get("deferrable") == "asap"
                    else def_sp),
            def_windows=_deferrable_windows(park, actual),
            sessions=_sessions(ctl, actual, [c.name for c in chargers]),
            plan_peak_kw=float(imports.max()) if n else 0.0,
            heating=heating,
            counterfactual=meta.get("heating") == "boiler",
        )


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
    """The day's EV sessions, earliest departure first, with the energy still to deliver."""
    ev = actual.ev_sessions
    if ev.empty:
        return []
    day_start = actual.index[0]
    step_s = ctl.dt * 3600.0
    first = np.ceil((ev["arrival"] - day_start).dt.total_seconds().to_numpy() / step_s - 1e-9)
    dep = np.ceil((ev["departure"] - day_start).dt.total_seconds().to_numpy() / step_s - 1e-9)
    sessions = []
    for i, row in enumerate(ev.itertuples(index=False)):
        key = (row.charger, row.pile, row.arrival)
        remaining = float(row.energy_kwh) - ctl.ev_delivered_kwh.get(key, 0.0)
        if dep[i] <= 0 or remaining <= EPS:
            continue
        sessions.append([key, max(int(first[i]), 0), int(dep[i]), remaining,
                         float(row.max_kw), row.bus == "dc", chargers.index(row.charger)])
    sessions.sort(key=lambda x: x[2])
    return sessions


class _StepRunner:
    """The state and the records of one day's step loop."""

    def __init__(self, ctl: Controller, day: _DayData, state: ParkState, absorb: bool) -> None:
        self.ctl, self.day, self.absorb = ctl, day, absorb
        n = len(day.load_ac)
        self.soc = [state.battery_soc_kwh.get(b.name, 0.5 * (b.lo_kwh + b.hi_kwh))
                    for b in ctl.batteries]
        self.level = state.tank_level_kwh_th
        self.hot_level = state.hot_tank_level_kwh_th
        self.heat: list[HeatStep] = []
        self.peak = state.month_peak_kw
        self.month = state.month
        self.threshold = max(state.month_peak_kw, day.plan_peak_kw)
        self.def_done = [0.0] * len(day.def_windows)
        self.events: list[str] = []
        nb, nc = len(ctl.batteries), len(ctl.chillers)
        zeros = lambda k: [[0.0] * n for _ in range(k)]  # noqa: E731
        self.rec = {k: [0.0] * n for k in (
            "grid_import_kw", "grid_export_kw", "tes_charge_kw_th", "tes_discharge_kw_th",
            "tes_level_kwh_th", "converter_ac_to_dc_kw",
            "converter_dc_to_ac_kw", "unserved_ac", "unserved_dc", "ev_unmet_kwh",
            "deferrable_unmet_kwh",
            "cooling_unserved_kw_th")}
        self.b_ch, self.b_dis, self.b_soc = zeros(nb), zeros(nb), zeros(nb)
        self.c_q, self.c_e = zeros(nc), zeros(nc)
        self.pv_curt = zeros(len(day.pv_avail))
        self.wind_curt = zeros(len(day.wind_avail))
        self.def_kw = zeros(len(day.def_windows))
        self.ev_kw = zeros(len(day.ev_sp))

    # -------------------------------------------------------------- one step
    def step(self, t: int) -> None:
        chill_ac, chill_dc = self._cooling(t)
        if self.day.heating is not None:
            hp_kw = self._heating(t)
            if self.ctl.park.heating.heat_pump.bus == "dc":  # type: ignore[union-attr]
                chill_dc += hp_kw
            else:
                chill_ac += hp_kw
        ev_ac, ev_dc = self._ev(t)
        def_ac, def_dc = self._deferrable(t)
        d = self.day
        pv_ac = sum(a[t] for a, dc in zip(d.pv_avail, d.pv_dc, strict=True) if not dc)
        pv_dc = sum(a[t] for a, dc in zip(d.pv_avail, d.pv_dc, strict=True) if dc)
        wind = sum(w[t] for w in d.wind_avail)
        cons_ac = d.load_ac[t] + chill_ac + ev_ac + def_ac
        cons_dc = d.load_dc[t] + chill_dc + ev_dc + def_dc
        nets, lims = self._battery_setpoints(t)
        flows = self._settle(pv_ac + wind, pv_dc, cons_ac, cons_dc, nets)
        for _ in range(3):
            if not self._adjust(nets, lims, flows):
                break
            flows = self._settle(pv_ac + wind, pv_dc, cons_ac, cons_dc, nets)
        self._record(t, flows, nets, pv_ac, wind)

    def _battery_setpoints(self, t: int) -> tuple[list[float], list[tuple[float, float]]]:
        """Set-points clipped to limits (net output, kW) and the limits (max out, max in)."""
        dt = self.ctl.dt
        nets, lims = [], []
        for i, b in enumerate(self.ctl.batteries):
            kept = self.soc[i] * b.keep
            if kept >= b.lo_kwh:
                max_out = min(b.power_kw, (kept - b.lo_kwh) * b.eta_d / dt)
            else:  # self-discharge took it below the window: charge back to the minimum
                max_out = -min(b.power_kw, (b.lo_kwh - kept) / (b.eta_c * dt))
            max_in = max(0.0, min(b.power_kw, (b.hi_kwh - kept) / (b.eta_c * dt)))
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
        bats = self.ctl.batteries
        ac_idx = [i for i, b in enumerate(bats) if not b.dc]
        dc_idx = [i for i, b in enumerate(bats) if b.dc]
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

    def _cooling(self, t: int) -> tuple[float, float]:
        """Tank and chillers for step ``t``; returns chiller electricity on (AC, DC), kW."""
        ctl, dt = self.ctl, self.ctl.dt
        demand = self.day.cooling[t]
        if not ctl.chillers:
            return 0.0, 0.0
        tank = ctl.tank
        q_in = 0.0
        if tank is not None:
            kept = self.level * (1.0 - tank.standing_loss_pct_per_h / 100.0 * dt)
            max_in = max(0.0, min(tank.max_charge_kw_th, (tank.capacity_kwh_th - kept) / dt))
            max_out = max(0.0, min(tank.max_discharge_kw_th, kept / dt))
            q_in = min(max(self.day.tes_sp[t], -max_out), max_in)
        else:
            kept, max_in, max_out = 0.0, 0.0, 0.0
        planned = self.day.chiller_sp[t] if self.day.chiller_sp is not None else None
        if self.absorb and planned is not None and tank is not None and _runnable(
                ctl, planned) and -max_out - EPS <= planned - demand <= max_in + EPS:
            q_in = min(max(planned - demand, -max_out), max_in)  # chillers as planned
        q_in = max(q_in, -demand)
        need = demand + q_in
        if need > ctl.chiller_cap:
            q_in = max(q_in - (need - ctl.chiller_cap), -max_out)
            need = demand + q_in
        unmet = max(0.0, need - ctl.chiller_cap)
        need -= unmet
        outputs = physics.split_cooling(ctl.chillers, need, ctl.curves) if need > EPS else []
        if need > EPS and not outputs:  # below every minimum part load
            first = ctl.chillers[0].min_part_load * ctl.chillers[0].capacity_kw_th
            if self.absorb and q_in + (first - need) <= max_in + EPS:
                q_in += first - need  # the tank stores the surplus
            elif self.absorb and q_in - need >= -max_out - EPS:
                q_in -= need  # the tank covers it, the chillers stay off
                first = 0.0
            need = first  # otherwise over-cool at the minimum part load
            outputs = physics.split_cooling(ctl.chillers, need, ctl.curves) if need else []
        if not outputs:
            outputs = [0.0] * len(ctl.chillers)
        e_ac = e_dc = 0.0
        for i, (c, q) in enumerate(zip(ctl.chillers, outputs, strict=True)):
            e = float(np.interp(q, *ctl.curves[i])) if q > 0.0 else 0.0
            self.c_q[i][t], self.c_e[i][t] = q, e
            if c.bus == "dc":
                e_dc += e
            else:
                e_ac += e
        rec = self.rec
        rec["tes_charge_kw_th"][t] = max(q_in, 0.0)
        rec["tes_discharge_kw_th"][t] = max(-q_in, 0.0)
        rec["cooling_unserved_kw_th"][t] = unmet
        if tank is not None:
            self.level = max(0.0, kept + q_in * dt)
        rec["tes_level_kwh_th"][t] = self.level
        return e_ac, e_dc

    def _heating(self, t: int) -> float:
        """The heating plant at step ``t`` (:class:`HeatPlant`); returns the heat pump's
        electricity, kW."""
        plant, (load, cop, tank_sp, hp_sp, boiler_sp, price) = self.ctl.heat, self.day.heating
        assert plant is not None
        if self.day.counterfactual:
            step = plant.counterfactual(load[t])
        else:
            waste_cfg = plant.heating.waste_heat
            waste = 0.0
            if waste_cfg is not None:
                waste = waste_cfg.max_kw_th
                if waste_cfg.chiller_fraction is not None:
                    rejected = sum(q[t] + e[t] for q, e in zip(self.c_q, self.c_e, strict=True))
                    waste = min(waste, waste_cfg.chiller_fraction * rejected)
            step = plant.step(self.hot_level, load[t], cop[t], waste, price[t],
                              (tank_sp[t], hp_sp[t], boiler_sp[t]), self.absorb)
            self.hot_level = step.level_kwh_th
        step.level_kwh_th = self.hot_level
        self.heat.append(step)
        return step.heat_pump_kw

    def _ev(self, t: int) -> tuple[float, float]:
        """EV charging at step ``t``: what departures require, then each charger's planned
        power to its plugged-in sessions, earliest departure first."""
        dt = self.ctl.dt
        active = [s for s in self.day.sessions if s[1] <= t < s[2] and s[3] > EPS]
        if not active:
            return 0.0, 0.0
        power = []
        for s in active:
            must = max(0.0, s[3] - s[4] * dt * (s[2] - t - 1)) / dt
            power.append(min(must, s[4], s[3] / dt))
        budget = [sp[t] for sp in self.day.ev_sp]
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
            self.ev_kw[s[6]][t] += p
            if s[5]:
                ev_dc += p
            else:
                ev_ac += p
            if t == s[2] - 1 and s[3] > 1e-6:
                self.rec["ev_unmet_kwh"][t] += s[3]
                self.events.append(f"step {t}: EV session {s[0][0]}/{s[0][1]} left "
                                   f"{s[3]:.1f} kWh short")
        return ev_ac, ev_dc

    def _deferrable(self, t: int) -> tuple[float, float]:
        """Deferrable loads at step ``t`` (plan first, then what the window requires)."""
        dt = self.ctl.dt
        on_ac = on_dc = 0.0
        for i, (start, end, energy, max_kw, dc) in enumerate(self.day.def_windows):
            if not start <= t < end:
                continue
            rest = energy - self.def_done[i]
            must = max(0.0, rest - max_kw * dt * (end - t - 1)) / dt
            p = max(0.0, min(max(self.day.def_sp[i][t], must), max_kw, rest / dt))
            self.def_done[i] += p * dt
            self.def_kw[i][t] = p
            if t == end - 1 and energy - self.def_done[i] > 1e-6:
                self.rec["deferrable_unmet_kwh"][t] += energy - self.def_done[i]
            if dc:
                on_dc += p
            else:
                on_ac += p
        return on_ac, on_dc

    def _record(self, t: int, flows: list[float], nets: list[float], pv_ac: float,
                wind: float) -> None:
        imp, exp, a2d, d2a, curt_ac, curt_dc, short_ac, short_dc, _, _ = flows
        rec, dt = self.rec, self.ctl.dt
        rec["grid_import_kw"][t] = imp
        rec["grid_export_kw"][t] = exp
        rec["converter_ac_to_dc_kw"][t] = a2d
        rec["converter_dc_to_ac_kw"][t] = d2a
        rec["unserved_ac"][t] = short_ac if short_ac > 1e-9 else 0.0
        rec["unserved_dc"][t] = short_dc if short_dc > 1e-9 else 0.0
        if imp > self.peak:
            self.peak = imp
            self.threshold = max(self.threshold, imp)
        for i, b in enumerate(self.ctl.batteries):
            ch, dis = max(-nets[i], 0.0) + 0.0, max(nets[i], 0.0) + 0.0
            self.soc[i] = self.soc[i] * b.keep + (b.eta_c * ch - dis / b.eta_d) * dt
            self.b_ch[i][t], self.b_dis[i][t], self.b_soc[i][t] = ch, dis, self.soc[i]
        d = self.day
        re_ac = pv_ac + wind
        share_ac = curt_ac / re_ac if re_ac > EPS else 0.0
        pv_dc = sum(a[t] for a, dc in zip(d.pv_avail, d.pv_dc, strict=True) if dc)
        share_dc = curt_dc / pv_dc if pv_dc > EPS else 0.0
        for i, (a, dc) in enumerate(zip(d.pv_avail, d.pv_dc, strict=True)):
            self.pv_curt[i][t] = a[t] * (share_dc if dc else share_ac)
        for i, w in enumerate(d.wind_avail):
            self.wind_curt[i][t] = w[t] * share_ac

    # -------------------------------------------------------------- results
    def ledger(self, actual: Inputs) -> pd.DataFrame:
        """The day's ledger: the schedule's columns (realised) plus the extra columns."""
        park, d, s = self.ctl.park, self.day, actual.series
        rec = self.rec
        cols: dict[str, object] = {k: v for k, v in rec.items() if not k.startswith("unserved")}

        def put(kind: str, base: str, name: str, values: object) -> None:
            cols[physics.asset_column(park, kind, base, name)] = values

        for i, a in enumerate(park.pv):
            avail = np.asarray(d.pv_avail[i])
            put("pv", "pv_kw", a.name, avail - np.asarray(self.pv_curt[i]))
            put("pv", "pv_curtailed_kw", a.name, self.pv_curt[i])
        for i, w in enumerate(park.wind):
            avail = np.asarray(d.wind_avail[i])
            put("wind", "wind_kw", w.name, avail - np.asarray(self.wind_curt[i]))
            put("wind", "wind_curtailed_kw", w.name, self.wind_curt[i])
        for i, b in enumerate(park.batteries):
            put("batteries", "battery_charge_kw", b.name, self.b_ch[i])
            put("batteries", "battery_discharge_kw", b.name, self.b_dis[i])
            put("batteries", "battery_soc_kwh", b.name, self.b_soc[i])
        for i, c in enumerate(self.ctl.chillers):
            put("chillers", "chiller_electric_kw", c.name, self.c_e[i])
            put("chillers", "chiller_cooling_kw_th", c.name, self.c_q[i])
        for i, dl in enumerate(park.deferrable):
            put("deferrable", "deferrable_kw", dl.name, self.def_kw[i])
        for i, ch in enumerate(park.ev.chargers if park.ev else []):
            put("chargers", "ev_charge_kw", ch.name, self.ev_kw[i])
        put("buses", "unserved_kw", "ac", np.asarray(rec["unserved_ac"])
            + (0.0 if park.buses.dc else np.asarray(rec["unserved_dc"])))
        if park.buses.dc:
            put("buses", "unserved_kw", "dc", rec["unserved_dc"])
        cols["load_kw"] = np.asarray(d.load_ac) + np.asarray(d.load_dc)
        cols["cooling_load_kw_th"] = d.cooling
        if d.heating is not None:
            cols.update(_heat_columns(self.heat, d.heating[0]))
        cols["price_import"] = s["price_import_yuan_per_kwh"].to_numpy()
        cols["price_export"] = s["price_export_yuan_per_kwh"].to_numpy()
        cols["tou_period"] = s["tou_period"].to_numpy()
        cols["co2_kg_per_kwh"] = s["co2_kg_per_kwh"].to_numpy()
        frame = pd.DataFrame(cols, index=actual.index)
        ctl = self.ctl
        if ctl.absent_columns is None:  # the kinds of asset the park lacks: the same every day
            ctl.absent_columns = [c for c in SCHEDULE_COLUMNS
                                  if not physics.columns_like(frame, c)]
        for c in ctl.absent_columns:  # all zeros
            frame[c] = 0.0
        return frame

    def state_out(self) -> ParkState:
        ctl = self.ctl
        on = {c.name: self.c_q[i][-1] > 0.0 for i, c in enumerate(ctl.chillers)}
        return ParkState(
            battery_soc_kwh={b.name: self.soc[i] for i, b in enumerate(ctl.batteries)},
            tank_level_kwh_th=self.level, chillers_on=on, month_peak_kw=self.peak,
            month=self.month, hot_tank_level_kwh_th=self.hot_level,
        )


def _heat_columns(steps: list[HeatStep], load: list[float]) -> dict[str, list[float]]:
    """The heating columns (:data:`parkgrid.model.heating.HEAT_COLUMNS`) of a day's steps."""
    return {"heating_load_kw_th": list(load)} | {
        col: [getattr(s, name) for s in steps] for col, name in STEP_COLUMNS.items()}


def _runnable(ctl: Controller, output_kw_th: float) -> bool:
    """Whether the chillers can produce exactly ``output_kw_th`` (0 always can)."""
    return output_kw_th <= EPS or bool(physics.split_cooling(ctl.chillers, output_kw_th,
                                                             ctl.curves))


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
