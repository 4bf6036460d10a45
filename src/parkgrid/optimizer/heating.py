"""Heating plant block: heat pump, waste heat, diesel boiler and hot-water tank meet the
heating demand.

Heat balance per step (kW_th): heat pump + waste heat + boiler + tank discharge + unserved
heat = demand + tank charge. The heat pump draws ``heat / COP`` from its bus (the COP is the
inputs' ``heat_pump_cop`` column, written into the model each horizon); waste heat is free up
to ``max_kw_th`` (and, with ``chiller_fraction``, that share of the chillers' rejected heat
``q + e``); the boiler's heat costs its diesel (and, when the objective prices carbon, its
CO2). Tank level update and end rule as the chilled-water tank's (:mod:`.cooling`); under
the 'value' rule heat left at the end is worth its refill cost through the heat pump, and
nothing in a horizon without heating demand (else free waste heat would fill the tank all
summer).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyomo.environ as pyo

from parkgrid.config import EndSoc, Park
from parkgrid.model import heating as physics
from parkgrid.model import registry
from parkgrid.model.physics import Storage
from parkgrid.optimizer.cooling import tank_rows
from parkgrid.optimizer.core import AssetBlock, Build
from parkgrid.optimizer.horizon import Horizon, Store


def blocks(park: Park) -> dict[str, AssetBlock]:
    """The heating plant's block (the registry's heating kinds)."""
    return {"heating": HeatingBlock(park)} if park.heating is not None else {}


def co2(park: Park) -> dict[str, float]:
    """What the plant emits beside the grid, kg CO2 per kWh_th of each output: the boiler's
    diesel (CO2 minimisation and the cost/CO2 front's cap read it)."""
    heating = park.heating
    return ({"heating.boiler": physics.boiler_co2_kg_per_kwh_th(heating.boiler)}
            if heating is not None else {})


class HeatingBlock(AssetBlock):
    def __init__(self, park: Park) -> None:
        heating = park.heating
        assert heating is not None
        self.park, self.heating, self.tank = park, heating, heating.tank
        self.penalty = park.objective.unserved_penalty_yuan_per_kwh
        self.fuel_yuan = physics.boiler_yuan_per_kwh_th(heating.boiler)
        self.fuel_co2_kg = physics.boiler_co2_kg_per_kwh_th(heating.boiler)
        tank = self.tank
        self.storage = Storage.tank(tank, park.step_h) if tank else None
        # the end value's grid-to-store factor is set per horizon (:meth:`_store`); 1 without
        # a heat pump
        self.store = Store(
            "hot-water tank level", "kWh_th", 0.0, tank.capacity_kwh_th, tank.capacity_kwh_th,
            tank.level_initial * tank.capacity_kwh_th, tank.end_level,
            tank.max_charge_kw_th * park.step_h, self.storage.keep, 1.0) \
            if tank and self.storage else None

    def build(self, b: pyo.Block, ctx: Build) -> None:
        heating, dt = self.heating, ctx.step_h
        supply = [0.0 for _ in ctx.steps]
        hp = heating.heat_pump
        if hp is not None:
            b.hp_q = ctx.var(b, "hp_q", bounds=(0.0, hp.capacity_kw_th))
            b.hp_e = ctx.var(b, "hp_e")
            q, e = [b.hp_q[t] for t in ctx.steps], [b.hp_e[t] for t in ctx.steps]
            rows = ctx.rows(b, "cop", [x - 1.0 * y == 0 for x, y in zip(q, e, strict=True)])
            ctx.slot("heating.cop", "coef", list(zip(rows, e, strict=True)))
            ctx.inject(hp.bus, [-y for y in e])
            ctx.output("heating.hp_q", q)
            ctx.output("heating.hp_e", e)
            supply = [s + x for s, x in zip(supply, q, strict=True)]
        if heating.waste_heat is not None:
            supply = [s + w for s, w in zip(supply, self._waste(b, ctx), strict=True)]
        if heating.boiler.capacity_kw_th > 0:
            b.boiler = ctx.var(b, "boiler", bounds=(0.0, heating.boiler.capacity_kw_th))
            boiler = [b.boiler[t] for t in ctx.steps]
            ctx.slot("heating.boiler_cost", "cost", boiler)
            ctx.output("heating.boiler", boiler)
            supply = [s + x for s, x in zip(supply, boiler, strict=True)]
        if self.tank is not None:
            supply = [s + d - c for s, (c, d) in zip(supply, self._tank(b, ctx), strict=True)]
        b.unserved = ctx.var(b, "unserved")
        unserved = [b.unserved[t] for t in ctx.steps]
        ctx.output("heating.unserved", unserved)
        ctx.cost(self.penalty * dt * sum(unserved))
        rows = ctx.rows(b, "balance", [s + u == 0 for s, u in zip(supply, unserved, strict=True)])
        ctx.slot("heating.demand", "row_fix", rows)

    def _waste(self, b: pyo.Block, ctx: Build) -> list:
        waste = self.heating.waste_heat
        assert waste is not None
        b.waste = ctx.var(b, "waste", bounds=(0.0, waste.max_kw_th))
        w = [b.waste[t] for t in ctx.steps]
        ctx.output("heating.waste", w)
        if waste.chiller_fraction is not None:
            chillers = self.park.cooling.chillers if self.park.cooling else []
            rejected = [sum(ctx.outputs[f"chiller.{c.name}.{x}"][t] for c in chillers
                            for x in ("q", "e")) for t in ctx.steps]
            ctx.rows(b, "waste_share", [x - waste.chiller_fraction * r <= 0
                                        for x, r in zip(w, rejected, strict=True)])
        return w

    def _tank(self, b: pyo.Block, ctx: Build) -> list[tuple]:
        assert self.tank is not None and self.storage is not None
        return tank_rows(b, ctx, "hot_tank", self.tank, self.storage)

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        data = {"heating.demand": np.maximum(h.column("heating_load_kw_th"), 0.0)}
        if self.heating.heat_pump is not None:
            data["heating.cop"] = -h.column("heat_pump_cop")
        if self.heating.boiler.capacity_kw_th > 0:
            yuan = self.fuel_yuan
            if h.carbon_in_objective:
                yuan += self.park.emissions.carbon_price_yuan_per_t * self.fuel_co2_kg / 1000.0
            data["heating.boiler_cost"] = np.full(h.n, yuan * h.step_h)
        if self.store is not None:
            level = h.state.levels(registry.KINDS[registry.HOT_TANK]).get(
                registry.HOT_TANK, self.store.initial)
            data.update(self._store(h).data("hot_tank", level, h))
        return data

    def _store(self, h: Horizon) -> Store:
        """The tank's store for ``h``: heat left at the end is worth its refill cost through
        the heat pump (the horizon's mean COP), and nothing when the horizon has no heating
        demand (out of season, heat kept displaces nothing)."""
        store = self.store
        assert store is not None
        rule = store.rule
        if rule.rule == "value" and rule.value_yuan_per_kwh is None and \
                float(h.column("heating_load_kw_th").max()) <= 0.0:
            return replace(store, rule=EndSoc(rule="value", value_yuan_per_kwh=0.0))
        if self.heating.heat_pump is None:
            return store
        return replace(store, grid_to_store=float(h.column("heat_pump_cop").mean()))

    def stored_value_yuan(self, out: dict[str, np.ndarray], h: Horizon) -> float:
        if self.store is None:
            return 0.0
        return self._store(h).end_value(h) * float(out["hot_tank.level"][-1])

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        zeros = np.zeros(h.n)
        return {
            "heating_load_kw_th": h.column("heating_load_kw_th"),
            "heat_pump_electric_kw": out.get("heating.hp_e", zeros),
            "heat_pump_heat_kw_th": out.get("heating.hp_q", zeros),
            "waste_heat_kw_th": out.get("heating.waste", zeros),
            "boiler_heat_kw_th": out.get("heating.boiler", zeros),
            "hot_tank_charge_kw_th": out.get("hot_tank.charge", zeros),
            "hot_tank_discharge_kw_th": out.get("hot_tank.discharge", zeros),
            "hot_tank_level_kwh_th": out.get("hot_tank.level", zeros),
            "heating_unserved_kw_th": out["heating.unserved"],
        }
