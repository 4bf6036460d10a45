"""The heating plant's part of the real-time controller (a plant step of
:mod:`parkgrid.simulate.controller`): :class:`parkgrid.model.heating.HeatPlant` each step,
after the cooling plant (waste heat may be a share of the chillers' rejected heat)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.inputs import Inputs
from parkgrid.model import registry
from parkgrid.model.heating import STEP_COLUMNS, HeatPlant, HeatStep
from parkgrid.model.schedule import ParkState, Schedule
from parkgrid.simulate.controller import plan_column
from parkgrid.simulate.rules import store_rule, tou

if TYPE_CHECKING:
    from parkgrid.simulate.controller import Controller

HOT_TANK = registry.HOT_TANK


class HeatingStep:
    """Kinds 'heat_pump', 'waste_heat', 'hot_tank', 'boiler': the tank follows its set-point,
    waste heat first, the heat pump and the boiler as planned, then the cheaper at the step's
    price; storage absorbs deviations when allowed (:class:`HeatPlant`). A plan with metadata
    ``before_projects`` (the grid-only baseline) burns diesel for the whole load."""

    def __init__(self, ctl: Controller) -> None:
        heating = ctl.park.heating
        assert heating is not None
        self.ctl, self.heating = ctl, heating
        self.plant = HeatPlant(heating, ctl.dt)
        self.on_dc = heating.heat_pump is not None and heating.heat_pump.bus == "dc"
        self.events: list[str] = []

    def begin(self, plan: Schedule, actual: Inputs, state: ParkState, absorb: bool) -> None:
        s, n = actual.series, len(actual.index)
        self.n, self.absorb = n, absorb
        self.counterfactual = bool(plan.metadata.get("before_projects"))
        self.load = s["heating_load_kw_th"].to_numpy(float).tolist()
        self.cop = (s["heat_pump_cop"].to_numpy(float).tolist() if "heat_pump_cop" in s
                    else [1.0] * n)
        self.price = s["price_import_yuan_per_kwh"].to_numpy(float).tolist()
        self.follow(plan)
        self.level = state.levels(registry.KINDS[HOT_TANK]).get(
            HOT_TANK, self.plant.initial_level_kwh_th())
        waste = self.heating.waste_heat
        self.cooling = None
        if waste is not None and waste.chiller_fraction is not None:
            self.cooling = next(p for p in self.ctl.plants if hasattr(p, "chillers"))
        self.steps: list[HeatStep] = []
        self.events = []

    def follow(self, plan: Schedule) -> None:
        """The plan's set-points of the tank, the heat pump and the boiler; the tank keeps
        its level."""
        frame, n = plan.frame, self.n
        self.tank_sp = (plan_column(frame, n, "hot_tank_charge_kw_th")
                        - plan_column(frame, n, "hot_tank_discharge_kw_th")).tolist()
        self.hp_sp = plan_column(frame, n, "heat_pump_heat_kw_th").tolist()
        self.boiler_sp = plan_column(frame, n, "boiler_heat_kw_th").tolist()

    def waste_kw_th(self, t: int) -> float:
        """Waste heat recoverable at step ``t``: the limit, and the share of the chillers'
        rejected heat (cooling + electricity) this step."""
        waste = self.heating.waste_heat
        if waste is None:
            return 0.0
        if self.cooling is None or waste.chiller_fraction is None:
            return waste.max_kw_th
        rejected = sum(q[t] + e[t] for q, e in zip(self.cooling.q, self.cooling.e, strict=True))
        return min(waste.max_kw_th, waste.chiller_fraction * rejected)

    def step(self, t: int) -> tuple[float, float]:
        if self.counterfactual:
            step = self.plant.counterfactual(self.load[t])
            step.level_kwh_th = self.level
        else:
            step = self.plant.step(self.level, self.load[t], self.cop[t], self.waste_kw_th(t),
                                   self.price[t], (self.tank_sp[t], self.hp_sp[t],
                                                   self.boiler_sp[t]), self.absorb)
            self.level = step.level_kwh_th
        self.steps.append(step)
        kw = step.heat_pump_kw
        return (0.0, kw) if self.on_dc else (kw, 0.0)

    def columns(self, put: Any) -> None:
        put(None, "heating_load_kw_th", None, self.load)
        for column, name in STEP_COLUMNS.items():
            put(None, column, None, [getattr(s, name) for s in self.steps])

    def end(self, state: ParkState) -> None:
        if self.heating.tank is not None:
            state.set_level(registry.KINDS[HOT_TANK], HOT_TANK, self.level)


def rules(park: Park, inputs: Inputs, state: ParkState, frame: pd.DataFrame) -> np.ndarray:
    """The rule-based planner's heating (:mod:`parkgrid.simulate.rules`): the hot-water
    tank's set-points into ``frame`` (charging from the heat pump's spare output in cheap
    hours, covering the demand left after waste heat in dear ones) and the heat pump's
    electricity they imply, kW per step (zeros without heating)."""
    heating, n = park.heating, len(inputs.index)
    if heating is None:
        return np.zeros(n)
    s = inputs.series
    waste = heating.waste_heat.max_kw_th if heating.waste_heat else 0.0
    demand = np.maximum(s["heating_load_kw_th"].to_numpy(float) - waste, 0.0)
    hp = heating.heat_pump
    cap = hp.capacity_kw_th if hp else 0.0
    tank_in = (store_rule(heating.tank, park, demand, cap - demand, tou(inputs),
                          state.levels(registry.KINDS[HOT_TANK]).get(HOT_TANK, 0.0))
               if heating.tank is not None else np.zeros(n))
    frame["hot_tank_charge_kw_th"] = np.maximum(tank_in, 0.0)
    frame["hot_tank_discharge_kw_th"] = np.maximum(-tank_in, 0.0)
    if hp is None:
        return np.zeros(n)
    heat = np.clip(demand + tank_in, 0.0, cap)
    return heat / s["heat_pump_cop"].to_numpy(float)
