"""Hand-made parks and inputs for the optimizer, balance and export tests."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.config import Park, parse_park
from parkgrid.inputs import EV_COLUMNS, Inputs

BASE: dict[str, Any] = {
    "name": "test park",
    "site": {"latitude_deg": 30.5, "longitude_deg": 120.9},
    "weather": {"source": "synthetic", "climate": "climate.yaml"},
    "loads": [{"name": "plant", "synthetic": {"shape": "industrial", "annual_kwh": 1e6}}],
    "grid": {"import_limit_kw": 10_000, "export_limit_kw": 0},
    "tariff": {"calendar": "zhejiang_2024", "demand": {"kind": "none"}},
    "emissions": {"grid_factor_t_per_mwh": 0.5},
}

IDEAL_BATTERY: dict[str, Any] = {
    "name": "bat", "power_kw": 100, "energy_kwh": 400, "charge_efficiency": 1.0,
    "discharge_efficiency": 1.0, "soc_min": 0.0, "soc_max": 1.0, "soc_initial": 0.0,
    "self_discharge_pct_per_h": 0.0, "degradation_cost_yuan_per_kwh": 0.0,
}


def make_park(**sections: Any) -> Park:
    """The base park with top-level sections replaced (``tariff=...``, ``batteries=[...]``)."""
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(sections))
    return parse_park(data)


def make_inputs(park: Park, n: int = 96, start: str = "2025-07-01",
                sessions: list[dict] | None = None, **columns: Any) -> Inputs:
    """Inputs of ``n`` steps from local midnight of ``start``; every column defaults to 0
    (prices 0.5 yuan/kWh, CO2 0.5 kg/kWh, TOU 'flat', workday) unless given."""
    index = pd.date_range(pd.Timestamp(start), periods=n, freq=f"{park.time_step_minutes}min",
                          tz=park.site.timezone)
    series: dict[str, Any] = {f"pv_kw_{a.name}": 0.0 for a in park.pv}
    series |= {f"wind_kw_{w.name}": 0.0 for w in park.wind}
    series |= {f"load_kw_{load.name}": 0.0 for load in park.loads}
    series |= {"cooling_load_kw_th": 0.0, "price_import_yuan_per_kwh": 0.5,
               "price_export_yuan_per_kwh": 0.0, "tou_period": "flat",
               "co2_kg_per_kwh": 0.5, "is_holiday": False}
    series |= columns
    frame = pd.DataFrame({k: np.broadcast_to(v, n).copy() if not isinstance(v, str) else v
                          for k, v in series.items()}, index=index)
    weather = pd.DataFrame({"temp_air": 25.0}, index=index)
    ev = pd.DataFrame(sessions or [], columns=EV_COLUMNS)
    if len(ev):  # naive local times in the test cases
        for col in ("arrival", "departure"):
            ev[col] = pd.to_datetime(ev[col]).dt.tz_localize(park.site.timezone)
    return Inputs(park, frame, weather, ev)


def hours(park: Park, n: int = 96) -> np.ndarray:
    """Hour of day (float) of each step."""
    return np.arange(n) * park.step_h % 24
