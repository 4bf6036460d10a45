"""One cost and CO2 breakdown of a schedule or a ledger: the optimizer's report of a plan
(its metadata) and the KPIs (``kpis.json``) both come from here, under one set of names.

Lines (yuan over the steps): ``energy_cost_yuan`` (import × import price),
``demand_charge_yuan`` (the tariff's rule on the month's peak; the caller knows the peak),
``export_revenue_yuan``, ``degradation_yuan`` (each battery's wear cost per kWh discharged),
``penalty_yuan`` (unserved load, unmet deferrable energy and unserved cooling at the
unserved-load penalty, unmet EV energy at the EV penalty), ``carbon_cost_yuan`` (CO2 × the
carbon price), and the lines of kinds that burn fuel (a kind's ``costs`` hook in the
registry). ``cost_yuan`` = energy + demand − export (+ fuel lines); ``total_cost_yuan`` =
cost + degradation + penalties (+ carbon when the objective prices carbon): what the
optimizer minimises. ``co2_t``: import × the grid's CO2 factor (+ the kinds' own CO2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from parkgrid.config import Park
from parkgrid.model import registry
from parkgrid.model.schedule import (
    BATTERY_DISCHARGE,
    COOLING_UNSERVED,
    GRID_EXPORT,
    GRID_IMPORT,
    UNSERVED,
)

LINES = ("energy_cost_yuan", "demand_charge_yuan", "export_revenue_yuan", "degradation_yuan",
         "penalty_yuan", "carbon_cost_yuan")
"""The cost lines every breakdown has, in the order reports list them."""


@dataclass(frozen=True)
class Flows:
    """What a breakdown reads: step arrays of a schedule or ledger and the unmet energies.

    ``column(base)``: the sum over assets of a (per-asset) column as floats;
    ``asset(kind, base, name)``: one asset's column."""

    column: Callable[[str], np.ndarray]
    asset: Callable[[str, str, str], np.ndarray]
    price_import: np.ndarray
    price_export: np.ndarray
    co2_kg_per_kwh: np.ndarray
    unmet_kwh: dict[str, float]  # 'ev', 'deferrable': energy still missing at departure/close
    step_h: float


def energy_lines(f: Flows, park: Park) -> dict[str, float]:
    """Every line but the demand charge, and ``co2_t``, plus the energies they price:
    ``unserved_kwh``, ``cooling_unserved_kwh_th``, ``ev_unmet_kwh``,
    ``deferrable_unmet_kwh``."""
    dt = f.step_h
    imp, exp = f.column(GRID_IMPORT), f.column(GRID_EXPORT)
    unserved = float(np.sum(f.column(UNSERVED)) * dt)
    cooling = float(np.sum(f.column(COOLING_UNSERVED)) * dt)
    obj = park.objective
    out = {
        "energy_cost_yuan": float(np.sum(imp * f.price_import) * dt),
        "export_revenue_yuan": float(np.sum(exp * f.price_export) * dt),
        "degradation_yuan": sum(
            float(f.asset("batteries", BATTERY_DISCHARGE, b.name).sum()) * dt
            * b.degradation_cost_yuan_per_kwh for b in park.batteries),
        "penalty_yuan": ((unserved + f.unmet_kwh["deferrable"] + cooling)
                         * obj.unserved_penalty_yuan_per_kwh
                         + f.unmet_kwh["ev"] * obj.ev_unmet_penalty_yuan_per_kwh),
        "co2_t": float(np.sum(imp * f.co2_kg_per_kwh) * dt) / 1000.0,
        "unserved_kwh": unserved, "cooling_unserved_kwh_th": cooling,
        "ev_unmet_kwh": f.unmet_kwh["ev"], "deferrable_unmet_kwh": f.unmet_kwh["deferrable"],
    }
    for kind in registry.kinds_with("costs"):
        for key, value in registry.load(kind.costs)(f, park).items():
            out[key] = out.get(key, 0.0) + value
    out["carbon_cost_yuan"] = out["co2_t"] * park.emissions.carbon_price_yuan_per_t
    return out


def fuel_lines(lines: dict[str, float]) -> float:
    """Sum of the lines the kinds' hooks added to the operating cost (keys ending in
    ``_fuel_yuan``)."""
    return sum(v for k, v in lines.items() if k.endswith("_fuel_yuan"))


def complete(lines: dict[str, float], demand_yuan: float, park: Park,
             carbon_in_objective: bool) -> dict[str, float]:
    """``lines`` with the demand charge, ``cost_yuan`` and ``total_cost_yuan`` added."""
    lines["demand_charge_yuan"] = demand_yuan
    lines["cost_yuan"] = (lines["energy_cost_yuan"] + demand_yuan - lines["export_revenue_yuan"]
                          + fuel_lines(lines))
    carbon = lines["carbon_cost_yuan"] if carbon_in_objective else 0.0
    lines["total_cost_yuan"] = (lines["cost_yuan"] + lines["degradation_yuan"]
                                + lines["penalty_yuan"] + carbon)
    return lines
