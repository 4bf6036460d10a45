"""Heating physics shared by the inputs, the optimizer's data, the controller, the balance
checker and the KPIs: the heat pump's COP, the diesel boiler's fuel, cost, CO2 and energy
(tce), and one step of the heating plant (:class:`HeatPlant`).

The heat bus at every step: heat pump + waste heat + boiler + tank discharge + unserved heat
= heating load + tank charge (kW_th). The heat pump draws heat / COP (kW) from its bus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from parkgrid.config import Boiler, Heating, HeatPump, Park
from parkgrid.model.physics import Storage
from parkgrid.model.registry import Report

if TYPE_CHECKING:
    from parkgrid.inputs import Inputs
    from parkgrid.model.costs import Flows

DIESEL_CO2_T_PER_T = 3.16
"""t CO2 per t of diesel burnt (IPCC default 74.1 t/TJ × 43.0 GJ/t): reference/economics.md,
'diesel'."""
DIESEL_TCE_PER_T = 1.4571
"""tce per t of diesel (GB/T 2589): reference/economics.md, 'diesel'."""
KWH_PER_TCE = 29_307.6 / 3.6
"""kWh of heat in 1 tce (29.3076 GJ, GB/T 2589): 8,141 kWh."""
DIESEL_KWH_PER_T = DIESEL_TCE_PER_T * KWH_PER_TCE
"""Heat of 1 t of diesel (1.4571 tce = 42.70 GJ = 11,862 kWh)."""
KELVIN = 273.15

STEP_COLUMNS = {
    "heat_pump_electric_kw": "heat_pump_kw", "heat_pump_heat_kw_th": "heat_pump_kw_th",
    "waste_heat_kw_th": "waste_kw_th", "boiler_heat_kw_th": "boiler_kw_th",
    "hot_tank_charge_kw_th": "charge_kw_th", "hot_tank_discharge_kw_th": "discharge_kw_th",
    "hot_tank_level_kwh_th": "level_kwh_th", "heating_unserved_kw_th": "unserved_kw_th",
}
"""Schedule column (the registry's heating kinds, docs/schedule.md) → :class:`HeatStep`
field: thermal flows kW_th ≥ 0, the heat pump's electricity kW (drawn from its bus), the
tank's level kWh_th at the end of the step."""
SUPPLY_COLUMNS = ("heat_pump_heat_kw_th", "waste_heat_kw_th", "boiler_heat_kw_th",
                  "hot_tank_discharge_kw_th", "heating_unserved_kw_th")
"""The heat bus's supply side; the demand side is the load and the tank's charge."""


def ground_temp_c(heat_pump: HeatPump, weather: pd.DataFrame | None) -> float:
    """The source temperature: the configured ground temperature, else the weather year's
    mean air temperature (the undisturbed ground at borehole depth is close to the annual
    mean); ``ValueError`` when neither is known (a plan from forecast files has no weather)."""
    if heat_pump.ground_temp_c is not None:
        return heat_pump.ground_temp_c
    if weather is None or "temp_air" not in weather or weather.empty:
        raise ValueError("no weather to take the ground temperature from: set ground_temp_c")
    return float(weather["temp_air"].mean())


def cop(heat_pump: HeatPump, ground_c: float) -> float:
    """The heat pump's COP: the constant, or ``carnot_fraction × T_supply / (T_supply −
    T_ground)`` (kelvin); ``ValueError`` when the ground is not colder than the supply or
    the COP is below 1."""
    if heat_pump.cop is not None:
        return heat_pump.cop
    assert heat_pump.carnot_fraction is not None
    lift = heat_pump.supply_temp_c - ground_c
    if lift <= 0:
        raise ValueError(f"ground temperature {ground_c:.1f} °C is not below supply_temp_c "
                         f"{heat_pump.supply_temp_c:g} °C")
    value = heat_pump.carnot_fraction * (heat_pump.supply_temp_c + KELVIN) / lift
    if value < 1.0:
        raise ValueError(f"COP {value:.2f} below 1 (carnot_fraction "
                         f"{heat_pump.carnot_fraction:g}, lift {lift:.1f} K)")
    return value


def parameters(park: Park, weather: pd.DataFrame | None,
               given: pd.DataFrame | None = None) -> dict[str, float | np.ndarray]:
    """The plant's per-step parameters beside the inputs' series: the heat pump's COP
    (``heat_pump_cop``), from ``given`` (a forecast file) when it has the column (each value
    from 1 to 30), else from the config (the ground temperature from ``weather``); none
    without a heat pump. ``ValueError`` saying what is wrong and where."""
    hp = park.heating.heat_pump if park.heating is not None else None
    if hp is None:
        return {}
    if given is not None and "heat_pump_cop" in given:
        values = given["heat_pump_cop"].to_numpy(dtype=float)
        bad = ~((values >= 1.0) & (values <= 30.0))
        if bad.any():
            raise ValueError(f"column 'heat_pump_cop' at {given.index[bad.argmax()].isoformat()}"
                             f": got {values[bad.argmax()]:g}, expected a COP from 1 to 30")
        return {"heat_pump_cop": values}
    try:
        return {"heat_pump_cop": cop(hp, ground_temp_c(hp, weather))}
    except ValueError as exc:
        missing = "no 'heat_pump_cop' column, and " if given is not None else ""
        raise ValueError(f"{missing}heating.heat_pump: {exc}") from None


def diesel_t(boiler: Boiler, heat_kwh_th: float | np.ndarray) -> float | np.ndarray:
    """Diesel the boiler burns for ``heat_kwh_th``, t."""
    return heat_kwh_th / (boiler.efficiency * DIESEL_KWH_PER_T)


def boiler_yuan_per_kwh_th(boiler: Boiler) -> float:
    """The boiler's fuel cost per kWh of heat, yuan."""
    return float(diesel_t(boiler, 1.0)) * boiler.diesel_price_yuan_per_t


def boiler_co2_kg_per_kwh_th(boiler: Boiler) -> float:
    """The boiler's CO2 per kWh of heat, kg."""
    return float(diesel_t(boiler, 1.0)) * DIESEL_CO2_T_PER_T * 1000.0


@dataclass
class HeatStep:
    """One step of the heating plant (kW_th; ``heat_pump_kw`` electric; level kWh_th at the
    step's end)."""

    heat_pump_kw_th: float = 0.0
    heat_pump_kw: float = 0.0
    waste_kw_th: float = 0.0
    boiler_kw_th: float = 0.0
    charge_kw_th: float = 0.0
    discharge_kw_th: float = 0.0
    unserved_kw_th: float = 0.0
    level_kwh_th: float = 0.0


class HeatPlant:
    """The heating plant of a park, one step at a time (the controller's physics).

    Each step, in order: the tank follows its set-point within its limits (never discharging
    more than the load); waste heat covers what it can (it is free); the heat pump and the
    boiler give their planned outputs; what is left comes from both in cost order at this
    step's import price, each within its capacity, and (when storage may be used) from more
    tank discharge after the heat pump and before the boiler (stored heat before diesel);
    the rest is unserved. When storage may be used, the tank also stores what the heat pump
    was planned to make beyond the load. The
    'counterfactual' step burns diesel for the whole load (the park before its heating
    project)."""

    def __init__(self, heating: Heating, step_h: float) -> None:
        self.heating, self.dt = heating, step_h
        self.tank = heating.tank
        self.store = Storage.tank(self.tank, step_h) if self.tank else None
        self.hp_cap = heating.heat_pump.capacity_kw_th if heating.heat_pump else 0.0
        self.boiler_cap = heating.boiler.capacity_kw_th
        self.boiler_yuan = boiler_yuan_per_kwh_th(heating.boiler)

    def initial_level_kwh_th(self) -> float:
        tank = self.tank
        return tank.level_initial * tank.capacity_kwh_th if tank else 0.0

    def step(self, level: float, load: float, cop: float, waste_kw_th: float,
             price: float, plan: tuple[float, float, float], absorb: bool) -> HeatStep:
        """One step from tank ``level`` for heating ``load``; ``waste_kw_th`` recoverable;
        ``plan`` = (tank net charge, heat pump heat, boiler heat) set-points, kW_th."""
        tank, store = self.tank, self.store
        if tank is not None and store is not None:
            kept = level * store.keep
            max_in = store.max_charge(kept, tank.max_charge_kw_th)
            max_out = max(0.0, store.max_discharge(kept, tank.max_discharge_kw_th))
        else:
            max_in = max_out = 0.0
        tank_sp, hp_sp, boiler_sp = plan
        q_in = max(min(max(tank_sp, -max_out), max_in), -load)
        rest = load + q_in
        waste = min(waste_kw_th, rest)
        rest -= waste
        hp = min(max(hp_sp, 0.0), self.hp_cap, rest)
        boiler = min(max(boiler_sp, 0.0), self.boiler_cap, rest - hp)
        rest -= hp + boiler
        hp_first = price / cop <= self.boiler_yuan
        for source in ("hp", "tank", "boiler") if hp_first else ("boiler", "hp", "tank"):
            if source == "hp":
                more = min(self.hp_cap - hp, rest)
                hp += more
            elif source == "boiler":
                more = min(self.boiler_cap - boiler, rest)
                boiler += more
            else:  # the tank discharges more: after the heat pump, before diesel
                more = min(rest, q_in + max_out) if absorb else 0.0
                q_in -= more
            rest -= more
        if absorb and hp_sp > hp and rest <= 0.0:  # keep the heat pump as planned: store it
            more = max(0.0, min(hp_sp - hp, self.hp_cap - hp, max_in - q_in))
            hp += more
            q_in += more
        charge, discharge = max(q_in, 0.0), max(-q_in, 0.0)
        new_level = max(0.0, store.step(level, charge, discharge)) if store is not None else 0.0
        return HeatStep(hp, hp / cop if hp > 0.0 else 0.0, waste, boiler, charge, discharge,
                        max(rest, 0.0), new_level)

    @staticmethod
    def counterfactual(load: float) -> HeatStep:
        """The park before its heating project: the diesel boiler meets the whole load."""
        return HeatStep(boiler_kw_th=load)


def boiler_costs(f: Flows, park: Park) -> dict[str, float]:
    """The heating plant's lines of the cost breakdown (:mod:`parkgrid.model.costs`): the
    boiler's diesel (``boiler_fuel_yuan``), its CO2 (added to ``co2_t``) and unserved heat
    at the unserved-load penalty (added to ``penalty_yuan``)."""
    heating = park.heating
    if heating is None:
        return {}
    burnt = float(diesel_t(heating.boiler, float(np.sum(f.column("boiler_heat_kw_th")))
                           * f.step_h))
    unserved = float(np.sum(f.column("heating_unserved_kw_th"))) * f.step_h
    return {"boiler_fuel_yuan": burnt * heating.boiler.diesel_price_yuan_per_t,
            "co2_t": burnt * DIESEL_CO2_T_PER_T,
            "penalty_yuan": unserved * park.objective.unserved_penalty_yuan_per_kwh,
            "heating_unserved_kwh_th": unserved}


def heating_kpis(ledger: pd.DataFrame, park: Park) -> dict[str, float]:
    """The heat bus's KPIs of a ledger (kWh_th, kWh, t, tce); none without heating.

    The counterfactual is the diesel boiler: ``diesel_counterfactual_t`` is what it would
    have burnt for the heat served, ``diesel_avoided_t`` that less what it burnt;
    ``heating_co2_avoided_t`` the avoided diesel's CO2 less the grid CO2 of the heat pump's
    electricity (as if all of it were imported); ``boiler_fuel_tce`` the diesel burnt in tce
    (GB/T 2589), part of the energy use."""
    heating = park.heating
    if heating is None:
        return {}
    step_h = park.step_h
    kwh = lambda col: float(ledger[col].sum()) * step_h  # noqa: E731
    boiler = heating.boiler
    served = kwh("heating_load_kw_th") - kwh("heating_unserved_kw_th")
    burnt = float(diesel_t(boiler, kwh("boiler_heat_kw_th")))
    without = float(diesel_t(boiler, served))
    hp_kw = ledger["heat_pump_electric_kw"].to_numpy(float)
    hp_co2_t = float((hp_kw * ledger["co2_kg_per_kwh"].to_numpy(float)).sum()) * step_h / 1000
    return {
        "heating_load_kwh_th": kwh("heating_load_kw_th"),
        "heat_served_kwh_th": served,
        "heat_pump_heat_kwh_th": kwh("heat_pump_heat_kw_th"),
        "waste_heat_kwh_th": kwh("waste_heat_kw_th"),
        "boiler_heat_kwh_th": kwh("boiler_heat_kw_th"),
        "boiler_diesel_t": burnt,
        "diesel_counterfactual_t": without,
        "diesel_avoided_t": without - burnt,
        "boiler_fuel_tce": burnt * DIESEL_TCE_PER_T,
        "diesel_co2_t": burnt * DIESEL_CO2_T_PER_T,
        "heating_co2_avoided_t": (without - burnt) * DIESEL_CO2_T_PER_T - hp_co2_t,
    }


def sizes(park: Park) -> dict[str, str]:
    """The heating plant's lines of the system summary (:func:`parkgrid.model.system.
    asset_sizes`); none without heating."""
    heating = park.heating
    if heating is None:
        return {}
    out = {}
    if heating.heat_pump is not None:
        hp = heating.heat_pump
        cop_text = (f"COP {hp.cop:g}" if hp.cop is not None else
                    f"{hp.carnot_fraction:g} of Carnot to {hp.supply_temp_c:g} °C")
        out["heat pump"] = f"{hp.capacity_kw_th:,.0f} kW_th, {cop_text}"
    if heating.waste_heat is not None:
        out["waste heat"] = f"≤ {heating.waste_heat.max_kw_th:,.0f} kW_th"
    if heating.tank is not None:
        out["hot-water tank"] = f"{heating.tank.capacity_kwh_th:,.0f} kWh_th"
    boiler = heating.boiler
    out["diesel boiler"] = (f"{boiler.capacity_kw_th:,.0f} kW_th backup"
                            if boiler.capacity_kw_th else "counterfactual only") + \
        f", {boiler.efficiency:.0%}"
    return out


def check(c: Any) -> None:
    """The heating plant in the balance checker (``c``: its checker,
    :mod:`parkgrid.model.balance`): every flow within its limit, the heat pump's electricity
    = heat / COP, waste heat within its share of the chillers' rejected heat, the hot-water
    tank's level chain, and the heat bus exactly balanced (supply = load + tank charge)."""
    heating = c.park.heating
    if heating is None:
        return
    flows = {k: c.col(k) for k in STEP_COLUMNS}
    for name, values in flows.items():
        c.within(values, 0.0, np.inf, f"negative {name}")
    hp = heating.heat_pump
    c.within(flows["heat_pump_heat_kw_th"], 0.0, hp.capacity_kw_th if hp else 0.0,
             "heat pump: output outside [0, capacity_kw_th]")
    if hp is not None:
        hp_cop = c.inputs.series["heat_pump_cop"].to_numpy(dtype=float)
        c.close(flows["heat_pump_electric_kw"] * hp_cop, flows["heat_pump_heat_kw_th"],
                "heat pump: electricity × COP ≠ heat")
    waste = heating.waste_heat
    limit = np.full(len(c.frame), waste.max_kw_th if waste else 0.0)
    if waste is not None and waste.chiller_fraction is not None:
        chillers = c.park.cooling.chillers if c.park.cooling else []
        rejected = sum((c.col(f"chiller_{x}", "chillers", ch.name) for ch in chillers
                        for x in ("cooling_kw_th", "electric_kw")), np.zeros(len(c.frame)))
        limit = np.minimum(limit, waste.chiller_fraction * rejected)
    c.within(flows["waste_heat_kw_th"], 0.0, limit, "waste heat above what can be recovered")
    c.within(flows["boiler_heat_kw_th"], 0.0, heating.boiler.capacity_kw_th,
             "boiler: output outside [0, capacity_kw_th]")
    tank = heating.tank
    charge, discharge = flows["hot_tank_charge_kw_th"], flows["hot_tank_discharge_kw_th"]
    if tank is not None:
        c.within(charge, 0.0, tank.max_charge_kw_th,
                 "hot-water tank charge outside [0, max_charge_kw_th]")
        c.within(discharge, 0.0, tank.max_discharge_kw_th,
                 "hot-water tank discharge outside [0, max_discharge_kw_th]")
        c.storage("hot-water tank", Storage.tank(tank, c.dt),
                  flows["hot_tank_level_kwh_th"], charge, discharge)
    else:
        c.within(charge + discharge, 0.0, 0.0, "hot-water tank flows without a tank")
    supply = sum(flows[k] for k in SUPPLY_COLUMNS)
    c.close(supply, c.col("heating_load_kw_th") + charge, "heat bus balance off")


def summary(k: dict[str, Any]) -> str:
    """The heating line of ``parkgrid run``'s summary, from a period's KPIs."""
    return (f"heating: {k['heat_served_kwh_th'] / 1000:,.1f} MWh_th served (heat pump "
            f"{k['heat_pump_heat_kwh_th'] / 1000:,.1f} on {k['heat_pump_kwh'] / 1000:,.1f}"
            f" MWh, waste heat {k['waste_heat_kwh_th'] / 1000:,.1f}, boiler "
            f"{k['boiler_heat_kwh_th'] / 1000:,.1f}); diesel avoided "
            f"{k['diesel_avoided_t']:,.2f} t, heating CO2 avoided "
            f"{k['heating_co2_avoided_t']:,.1f} t")


def totals(inputs: Inputs) -> dict[str, float]:
    """The heating demand of the inputs: energy, peak and the diesel the boiler alone would
    burn for it; none without heating."""
    heating = inputs.park.heating
    if heating is None:
        return {}
    load = inputs.series["heating_load_kw_th"]
    heat_kwh_th = float(load.sum() * inputs.park.step_h)
    return {"heating_kwh_th": heat_kwh_th, "heating_peak_kw_th": float(load.max()),
            "heating_diesel_t": float(diesel_t(heating.boiler, heat_kwh_th))}


def energies(t: dict[str, Any]) -> dict[str, str]:
    """The heat demand beside the boiler's size on the ``validate`` screen."""
    if "heating_kwh_th" not in t:
        return {}
    return {"diesel boiler": f"{t['heating_kwh_th'] / 1000:,.0f} MWh_th heat demand "
                             f"({t['heating_diesel_t']:,.1f} t diesel alone)"}


REPORT = Report(
    "heating", "Heating", "heat_served_kwh_th", (
        ("heating demand", "heating_load_kwh_th", "MWh_th", 1e-3, "{:,.1f}"),
        ("heat served", "heat_served_kwh_th", "MWh_th", 1e-3, "{:,.1f}"),
        ("  by the heat pump", "heat_pump_heat_kwh_th", "MWh_th", 1e-3, "{:,.1f}"),
        ("  by waste heat", "waste_heat_kwh_th", "MWh_th", 1e-3, "{:,.1f}"),
        ("  by the diesel boiler", "boiler_heat_kwh_th", "MWh_th", 1e-3, "{:,.1f}"),
        ("heat unserved", "heating_unserved_kwh_th", "MWh_th", 1e-3, "{:,.2f}"),
        ("heat pump electricity", "heat_pump_kwh", "MWh", 1e-3, "{:,.1f}"),
        ("diesel burnt", "boiler_diesel_t", "t", 1.0, "{:,.2f}"),
        ("diesel avoided (vs the boiler alone)", "diesel_avoided_t", "t", 1.0, "{:,.2f}"),
        ("diesel cost", "boiler_fuel_yuan", "yuan", 1.0, "{:,.0f}"),
        ("CO2 of the diesel", "diesel_co2_t", "t", 1.0, "{:,.2f}"),
        ("heating CO2 avoided (net of the heat pump's grid CO2)", "heating_co2_avoided_t",
         "t", 1.0, "{:,.2f}"),
        ("CO2, grid + diesel", "co2_t", "t", 1.0, "{:,.1f}"),
        ("energy use, electricity + diesel", "energy_use_tce", "tce", 1.0, "{:,.1f}"),
    ),
    note=("Diesel: 3.16 t CO2 and 1.4571 tce per t (reference/economics.md; GB/T 2589). "
          "The grid-only baseline is the park before its projects: grid electricity and "
          "the diesel boiler's heat."),
    cards=(("strategy.diesel_avoided_t", "diesel avoided", "diesel_avoided_t",
            "heat the diesel boiler did not make"),),
    summary="parkgrid.model.heating:summary", before="any heat from the diesel boiler",
    totals="parkgrid.model.heating:totals", energies="parkgrid.model.heating:energies",
    labels=(("heating_kwh_th", "heating demand"), ("heating_peak_kw_th", "heating peak"),
            ("heating_diesel_t", "diesel the boiler alone would burn")))
"""The heating plant's report section, card and run-summary line (the grid-only baseline
is the park before its projects: heat from the diesel boiler alone)."""
