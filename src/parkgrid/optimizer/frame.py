"""From solution columns to the published schedule: column names, costs and the state out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.model.heating import HEAT_COLUMNS, boiler_co2_kg_per_kwh_th, boiler_yuan_per_kwh_th
from parkgrid.model.schedule import (
    PER_ASSET_COLUMNS,
    SCHEDULE_COLUMNS,
    ParkState,
    asset_column,
    asset_names,
)
from parkgrid.optimizer.grid import demand_charge_yuan, demand_peaks_kw
from parkgrid.optimizer.horizon import Horizon


def publish(cols: dict[str, np.ndarray], park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    """The schedule frame: ``SCHEDULE_COLUMNS`` in order, per-asset columns suffixed only
    when the park has several assets of the kind, zeros for kinds the park lacks."""
    names = asset_names(park)
    kind_of = {base: kind for kind, bases in PER_ASSET_COLUMNS.items() for base in bases}
    bases = SCHEDULE_COLUMNS + [b for b in kind_of if b not in SCHEDULE_COLUMNS] + (
        HEAT_COLUMNS if park.heating is not None else [])
    frame: dict[str, object] = {}
    for base in bases:
        if base not in kind_of:
            frame[base] = cols.get(base, np.zeros(len(index)))
            continue
        assets = names[kind_of[base]]
        if not assets:
            frame[base] = np.zeros(len(index))
        for name in assets:
            frame[asset_column(base, name, assets)] = cols[f"{base}_{name}"]
    out = pd.DataFrame(frame, index=index)
    out.index.name = "timestamp"
    return out


def _sum(cols: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    parts = [v for k, v in cols.items() if k == prefix or k.startswith(prefix + "_")]
    return np.sum(parts, axis=0) if parts else np.zeros(len(cols["grid_import_kw"]))


def objective_parts(cols: dict[str, np.ndarray], h: Horizon,
                    unmet_kwh: dict[str, float]) -> dict[str, float]:
    """The schedule's cost terms (yuan) and energy figures, from its final columns."""
    park, dt = h.park, h.step_h
    imp, exp = cols["grid_import_kw"], cols["grid_export_kw"]
    co2_kg = float((imp * h.column("co2_kg_per_kwh")).sum() * dt)
    unserved_kwh = float(_sum(cols, "unserved_kw").sum() * dt)
    cooling_kwh_th = float(cols["cooling_unserved_kw_th"].sum() * dt)
    fuel_yuan = heating_kwh_th = 0.0
    if park.heating is not None:  # the boiler's diesel and CO2; unserved heat
        boiler_kwh_th = float(cols["boiler_heat_kw_th"].sum() * dt)
        fuel_yuan = boiler_kwh_th * boiler_yuan_per_kwh_th(park.heating.boiler)
        co2_kg += boiler_kwh_th * boiler_co2_kg_per_kwh_th(park.heating.boiler)
        heating_kwh_th = float(cols["heating_unserved_kw_th"].sum() * dt)
    objective = park.objective
    parts = {
        "energy_yuan": float((imp * h.column("price_import_yuan_per_kwh")).sum() * dt),
        "demand_yuan": demand_charge_yuan(park, imp, h.index, h.state.month_peak_kw),
        "export_revenue_yuan": float((exp * h.column("price_export_yuan_per_kwh")).sum() * dt),
        "degradation_yuan": float(sum(
            b.degradation_cost_yuan_per_kwh * cols[f"battery_discharge_kw_{b.name}"].sum() * dt
            for b in park.batteries)),
        "carbon_yuan": (park.emissions.carbon_price_yuan_per_t * co2_kg / 1000.0
                        if h.carbon_in_objective else 0.0),
        "penalties_yuan": (
            objective.unserved_penalty_yuan_per_kwh
            * (unserved_kwh + cooling_kwh_th + heating_kwh_th + unmet_kwh["deferrable"])
            + objective.ev_unmet_penalty_yuan_per_kwh * unmet_kwh["ev"]),
    }
    if park.heating is not None:
        parts["fuel_yuan"] = fuel_yuan
    cost = (parts["energy_yuan"] + parts["demand_yuan"] - parts["export_revenue_yuan"]
            + fuel_yuan
            + parts["degradation_yuan"] + parts["carbon_yuan"] + parts["penalties_yuan"])
    return {**parts, "cost_yuan": cost, "co2_kg": co2_kg, "unserved_kwh": unserved_kwh,
            "cooling_unserved_kwh_th": cooling_kwh_th, "ev_unmet_kwh": unmet_kwh["ev"],
            "deferrable_unmet_kwh": unmet_kwh["deferrable"],
            "import_kwh": float(imp.sum() * dt), "export_kwh": float(exp.sum() * dt)}


def state_out(cols: dict[str, np.ndarray], h: Horizon) -> ParkState:
    """The state at the end of the horizon (the month-to-date peak includes its imports)."""
    park = h.park
    this, following = demand_peaks_kw(cols["grid_import_kw"], h.index, park.time_step_minutes)
    if following is None:
        month, peak = h.index[0].month, max(h.state.month_peak_kw, this)
    else:
        month, peak = h.index[-1].month, following
    chillers = park.cooling.chillers if park.cooling else []
    return ParkState(
        battery_soc_kwh={b.name: float(cols[f"battery_soc_kwh_{b.name}"][-1])
                         for b in park.batteries},
        tank_level_kwh_th=float(cols["tes_level_kwh_th"][-1]),
        chillers_on={c.name: bool(cols[f"chiller_on_{c.name}"][-1]) for c in chillers},
        month_peak_kw=peak,
        month=month,
        hot_tank_level_kwh_th=(float(cols["hot_tank_level_kwh_th"][-1])
                               if park.heating is not None else 0.0),
    )
