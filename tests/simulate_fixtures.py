"""Small hand-made parks and inputs for the simulator tests (no weather models involved)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkgrid.config import Park, parse_park
from parkgrid.inputs import EV_COLUMNS, Inputs

TOU_HOURS = ["valley"] * 8 + ["peak"] * 3 + ["valley"] * 2 + ["peak"] * 4 + ["flat"] * 7
PRICES = {"valley": 0.33, "flat": 0.65, "peak": 1.10, "sharp": 1.32, "deep_valley": 0.2}


def park_config(**overrides: object) -> dict:
    """A small park with every kind of asset (DC bus, battery, tank, chillers, EV)."""
    config: dict = {
        "name": "test park",
        "site": {"latitude_deg": 30.5, "longitude_deg": 120.9},
        "year": 2025,
        "weather": {"source": "synthetic", "climate": "climate.yaml"},
        "pv": [{"name": "roof", "capacity_kwp": 400, "bus": "ac"},
               {"name": "carport", "capacity_kwp": 100, "bus": "dc"}],
        "wind": [{"name": "wt", "hub_height_m": 80,
                  "turbine": {"rated_kw": 300, "rotor_diameter_m": 40,
                              "power_curve": {"cut_in_m_s": 3, "rated_m_s": 11,
                                              "cut_out_m_s": 25}}}],
        "batteries": [{"name": "bat", "bus": "dc", "power_kw": 100, "energy_kwh": 400}],
        "cooling": {
            "load": {"peak_kw_th": 600},
            "chillers": [{"name": "ch1", "capacity_kw_th": 400, "min_part_load": 0.2,
                          "cop_curve": {"load_fraction": [0.2, 0.6, 1.0],
                                        "cop": [7.0, 9.4, 5.6]}},
                         {"name": "ch2", "capacity_kw_th": 400, "cop": 5.0}],
            "tank": {"capacity_kwh_th": 2000, "max_charge_kw_th": 500,
                     "max_discharge_kw_th": 500, "level_initial": 0.2},
        },
        "buses": {"dc": {"converter_kw": 200, "converter_efficiency": 0.97}},
        "loads": [{"name": "plant", "bus": "ac",
                   "synthetic": {"shape": "industrial", "annual_kwh": 4e6}},
                  {"name": "drives", "bus": "dc",
                   "synthetic": {"shape": "industrial", "annual_kwh": 2e5}}],
        "ev": {"chargers": [{"name": "fast", "kind": "fast_dc", "count": 2, "power_kw": 60,
                             "bus": "dc"},
                            {"name": "slow", "kind": "slow_ac", "count": 2, "power_kw": 7,
                             "bus": "ac"}],
               "generator": {"seed": 1}},
        "grid": {"import_limit_kw": 2000, "export_limit_kw": 100},
        "tariff": {"calendar": "zhejiang_2024", "export_price_yuan_per_kwh": 0.4,
                   "demand": {"kind": "max_demand", "rate_yuan_per_kw_month": 40}},
        "emissions": {"grid_factor_t_per_mwh": 0.5},
    }
    config.update(overrides)
    return config


HEATING = {
    "load": {"peak_kw_th": 300},
    "heat_pump": {"capacity_kw_th": 250, "carnot_fraction": 0.45, "ground_temp_c": 15},
    "waste_heat": {"max_kw_th": 100, "chiller_fraction": 0.3},
    "tank": {"capacity_kwh_th": 800, "max_charge_kw_th": 300, "max_discharge_kw_th": 300,
             "standing_loss_pct_per_h": 0.5, "level_initial": 0.4},
    "boiler": {"efficiency": 0.85, "diesel_price_yuan_per_t": 7500, "capacity_kw_th": 100},
}
"""A heating plant for :func:`make_park` (``make_park(heating=HEATING)``): heat pump, waste
heat from the chillers, hot-water tank and diesel boiler."""


def make_park(**overrides: object) -> Park:
    return parse_park(park_config(**overrides))


def make_inputs(park: Park, start: str = "2025-07-01", days: int = 14, seed: int = 0,
                re_scale: float = 1.0) -> Inputs:
    """Seeded synthetic inputs of ``days`` days for ``park`` (15-min steps)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days * park.steps_per_day,
                          freq=f"{park.time_step_minutes}min", tz=park.site.timezone)
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60.0
    n = len(index)
    sun = np.clip(np.sin((hour - 6.0) / 12.0 * np.pi), 0.0, None)
    clouds = np.repeat(rng.uniform(0.3, 1.0, days), park.steps_per_day)
    cols: dict[str, np.ndarray] = {}
    for a in park.pv:
        cols[f"pv_kw_{a.name}"] = re_scale * 0.8 * a.capacity_kwp * sun * clouds
    wind_noise = np.convolve(rng.standard_normal(n + 31), np.ones(32) / 8.0, "valid")[:n]
    for w in park.wind:
        rated = (w.turbine.rated_kw or 1000.0) * w.count
        cols[f"wind_kw_{w.name}"] = re_scale * rated * np.clip(0.3 + 0.25 * wind_noise, 0, 1)
    shift = ((hour >= 7) & (hour < 23)).astype(float)
    weekday = (index.weekday < 5).astype(float)
    for ld in park.loads:
        annual = ld.synthetic.target_annual_kwh if ld.synthetic else 1e6
        base = annual / 8760.0
        cols[f"load_kw_{ld.name}"] = base * (0.5 + 0.8 * shift * (0.6 + 0.4 * weekday)) * (
            1.0 + 0.05 * rng.standard_normal(n))
    cooling_peak = park.cooling.load.peak_kw_th if park.cooling and park.cooling.load else 0.0
    cols["cooling_load_kw_th"] = cooling_peak * (0.2 + 0.6 * sun) * clouds
    series = pd.DataFrame(cols, index=index)
    tou = np.array([TOU_HOURS[h] for h in index.hour])
    series["price_import_yuan_per_kwh"] = [PRICES[p] for p in tou]
    series["price_export_yuan_per_kwh"] = park.tariff.export_price_yuan_per_kwh
    series["tou_period"] = tou
    series["co2_kg_per_kwh"] = park.emissions.grid_factor_t_per_mwh or 0.5
    series["is_holiday"] = False
    if park.heating is not None:  # a daily swing around 150 kW_th, a constant COP
        series["heating_load_kw_th"] = 150.0 + 120.0 * np.cos(hour / 24 * 2 * np.pi)
        series["heat_pump_cop"] = 4.2
    weather = pd.DataFrame({"ghi": 900 * sun, "dni": 700 * sun, "dhi": 200 * sun,
                            "temp_air": 28 + 5 * sun, "wind_speed": 5 + wind_noise},
                           index=index)
    return Inputs(park, series, weather, _sessions(park, index, rng))


def _sessions(park: Park, index: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    if park.ev is None:
        return pd.DataFrame(columns=EV_COLUMNS)
    rows = []
    step = pd.Timedelta(minutes=park.time_step_minutes)
    days = index.normalize().unique()
    for day in days:
        for charger in park.ev.chargers:
            for pile in range(charger.count):
                arrival = day + pd.Timedelta(hours=int(rng.integers(7, 20)))
                hours = int(rng.integers(1, 10))
                departure = arrival + pd.Timedelta(hours=hours)
                max_kw = charger.power_kw / charger.efficiency
                energy = min(float(rng.uniform(5, 40)), 0.8 * max_kw * hours)
                if departure > index[-1] + step:
                    continue
                rows.append((charger.name, pile, charger.bus, arrival, departure, energy,
                             max_kw))
    return pd.DataFrame(rows, columns=EV_COLUMNS)
