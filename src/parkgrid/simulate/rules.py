"""Planners without an optimizer: the rule-based planner and 'none' (no storage use).

Both follow the planner contract ``plan(inputs, state) -> Schedule``: they decide the
storage set-points from the (forecast) inputs, then play them through the controller on
those same inputs, so the schedule has every column and balances like any other.

Rules (per step, in order):
- tank: charge in valley / deep-valley hours (within the chillers' spare capacity),
  discharge in peak / sharp hours to cover the cooling demand; a plant with a ``rules``
  hook in the registry sets its own set-points alike (the heating's hot-water tank:
  :func:`parkgrid.simulate.heating.rules`) and says what electricity they draw;
- battery: charge from surplus renewables; charge in valley hours as long as the import
  stays under the peak level; discharge in peak / sharp hours to cover the net load;
  otherwise discharge to hold import at the peak level (the month-to-date peak, or the
  day's forecast peak net load less the battery power, whichever is higher);
- EV sessions and deferrable loads: charged as soon as they can be.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from parkgrid.config import Park, Tank
from parkgrid.inputs import Inputs
from parkgrid.model import physics, registry
from parkgrid.model.physics import Storage
from parkgrid.model.schedule import (
    BATTERY_CHARGE,
    BATTERY_DISCHARGE,
    COOLING_LOAD,
    SCHEDULE_COLUMNS,
    TANK_CHARGE,
    TANK_DISCHARGE,
    ParkState,
    Schedule,
)
from parkgrid.simulate.controller import Controller

CHEAP = ("valley", "deep_valley")
DEAR = ("peak", "sharp")


def plan_none(inputs: Inputs, state: ParkState) -> Schedule:
    """No storage use: batteries and tank idle, EV and deferrable loads as soon as possible."""
    started = time.perf_counter()
    frame = pd.DataFrame(index=inputs.index)
    meta = {"planner": "none", "storage": "none", "ev": "asap", "deferrable": "asap"}
    return _play(inputs, state, frame, meta, started)


def plan_idle(inputs: Inputs, state: ParkState) -> Schedule:
    """The set-points of :func:`plan_none` only, without the rest of the schedule: what the
    controller needs, for baseline rollouts whose plans nobody reads (much faster)."""
    meta = {"planner": "none", "storage": "none", "ev": "asap", "deferrable": "asap",
            "status": "ok", "termination": "rules", "solve_s": 0.0}
    return Schedule(pd.DataFrame(index=inputs.index), meta)


def plan_before(inputs: Inputs, state: ParkState) -> Schedule:
    """:func:`plan_idle` for the park before its projects (metadata ``before_projects``): a
    plant step plays its counterfactual (the heating: the diesel boiler alone)."""
    schedule = plan_idle(inputs, state)
    schedule.metadata["before_projects"] = True
    return schedule


def plan_rules(inputs: Inputs, state: ParkState) -> Schedule:
    """The rule-based schedule of the day (see the module docstring)."""
    started = time.perf_counter()
    park = inputs.park
    frame = pd.DataFrame(index=inputs.index)
    tank_in, chiller_kw = _tank_rule(park, inputs, state)
    frame[TANK_CHARGE] = np.maximum(tank_in, 0.0)
    frame[TANK_DISCHARGE] = np.maximum(-tank_in, 0.0)
    for plant_rules in registry.hooks("rules"):  # the plants' set-points and electricity
        chiller_kw = chiller_kw + plant_rules(park, inputs, state, frame)
    for name, net in _battery_rule(park, inputs, state, chiller_kw).items():
        frame[physics.asset_column(park, "batteries", BATTERY_CHARGE, name)] = \
            np.maximum(-net, 0.0)
        frame[physics.asset_column(park, "batteries", BATTERY_DISCHARGE, name)] = \
            np.maximum(net, 0.0)
    meta = {"planner": "rules", "ev": "asap", "deferrable": "asap"}
    return _play(inputs, state, frame, meta, started)


def _play(inputs: Inputs, state: ParkState, setpoints: pd.DataFrame, meta: dict,
          started: float) -> Schedule:
    """Play set-points through a fresh controller on ``inputs``: the full schedule."""
    result = Controller(inputs.park).run_day(Schedule(setpoints, meta), inputs, state)
    columns = [c for c in result.ledger.columns
               if any(c == b or c.startswith(b + "_") for b in SCHEDULE_COLUMNS)]
    meta = dict(meta, status="ok", termination="rules", objective=None, bound=None, gap=None,
                solve_s=time.perf_counter() - started)
    return Schedule(result.ledger[columns], meta, result.state)


def tou(inputs: Inputs) -> np.ndarray:
    """The TOU period of each step ('valley', 'peak', …)."""
    return inputs.series["tou_period"].astype(str).to_numpy()


def _tank_rule(park: Park, inputs: Inputs, state: ParkState) -> tuple[np.ndarray, np.ndarray]:
    """Tank net charge (kW_th) and the chillers' resulting electricity (kW) per step."""
    n = len(inputs.index)
    if park.cooling is None:
        return np.zeros(n), np.zeros(n)
    demand = inputs.series[COOLING_LOAD].to_numpy(float)
    chillers = park.cooling.chillers
    curves = [physics.chiller_curve(c) for c in chillers]
    cap = sum(c.capacity_kw_th for c in chillers)
    tank = park.cooling.tank
    tank_in = (store_rule(tank, park, demand, cap - demand, tou(inputs),
                           state.tank_level_kwh_th) if tank is not None else np.zeros(n))
    need = demand + tank_in
    electric = np.array([sum(float(np.interp(q, *curves[i])) for i, q in
                             enumerate(physics.split_cooling(chillers, x, curves) or [x]))
                         if x > 0 else 0.0 for x in need])
    return tank_in, electric


def store_rule(tank: Tank, park: Park, demand: np.ndarray, spare: np.ndarray,
                tou: np.ndarray, level: float) -> np.ndarray:
    """A water tank's net charge per step (kW_th): in cheap hours the plant's ``spare``
    output, in dear hours what covers ``demand``, within the tank's limits."""
    store = Storage.tank(tank, park.step_h)
    tank_in = np.zeros(len(demand))
    for t in range(len(demand)):
        kept = level * store.keep
        if tou[t] in CHEAP:
            tank_in[t] = store.max_charge(kept, min(tank.max_charge_kw_th, spare[t]))
        elif tou[t] in DEAR:
            tank_in[t] = -store.max_discharge(kept, min(demand[t], tank.max_discharge_kw_th))
        level = store.step(level, max(tank_in[t], 0.0), max(-tank_in[t], 0.0))
    return tank_in


def _battery_rule(park: Park, inputs: Inputs, state: ParkState,
                  chiller_kw: np.ndarray) -> dict[str, np.ndarray]:
    """Battery net output per battery (kW, + discharge), split in proportion to power; each
    battery's level follows its own store (:class:`physics.Storage`: its charge and
    discharge efficiencies, its standing loss), and the park's output stays within what
    every battery's share can take or give."""
    n = len(inputs.index)
    if not park.batteries:
        return {}
    s = inputs.series
    re = sum((s[c] for c in inputs.columns("pv_kw_") + inputs.columns("wind_kw_")),
             start=pd.Series(0.0, index=s.index)).to_numpy(float)
    load = s[inputs.columns("load_kw_")].sum(axis=1).to_numpy(float) + chiller_kw
    net = load - re
    power = sum(b.power_kw for b in park.batteries)
    shares = [b.power_kw / power for b in park.batteries]
    stores = [Storage.battery(b, park.step_h) for b in park.batteries]
    soc = [state.battery_soc_kwh.get(b.name, b.soc_initial * b.energy_kwh)
           for b in park.batteries]
    shave = max(state.month_peak_kw, float(net.max()) - power)
    period = tou(inputs)
    out = np.zeros(n)
    for t in range(n):
        kept = [level * store.keep for level, store in zip(soc, stores, strict=True)]
        room_in = min(store.max_charge(k, np.inf) / f
                      for store, k, f in zip(stores, kept, shares, strict=True))
        room_out = max(0.0, min(store.max_discharge(k, np.inf) / f
                                for store, k, f in zip(stores, kept, shares, strict=True)))
        if net[t] < 0.0:
            out[t] = -min(-net[t], power, room_in)
        elif period[t] in CHEAP:
            out[t] = -min(power, room_in, max(0.0, shave - net[t]))
        elif period[t] in DEAR:
            out[t] = min(power, room_out, net[t])
        elif net[t] > shave:
            out[t] = min(power, room_out, net[t] - shave)
        charge, discharge = max(-out[t], 0.0), max(out[t], 0.0)
        soc = [store.step(level, f * charge, f * discharge)
               for store, level, f in zip(stores, soc, shares, strict=True)]
    return {b.name: out * f for b, f in zip(park.batteries, shares, strict=True)}
