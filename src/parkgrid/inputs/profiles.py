"""Annual totals of a year of inputs, the park summary, and their export (`parkgrid profiles`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.inputs import Inputs, tariff
from parkgrid.inputs.wind import farm_capacity_kw
from parkgrid.io.atomic import atomic_write
from parkgrid.model import registry
from parkgrid.model.physics import chiller_electric_kw
from parkgrid.model.system import asset_sizes, tariff_text, weather_text


def ev_immediate_kw(inputs: Inputs) -> pd.Series:
    """EV charging at full power from arrival until each session's energy is delivered, kW."""
    index = inputs.index
    step_h = inputs.park.step_h
    power = np.zeros(len(index))
    for session in inputs.ev_sessions.itertuples():
        first = index.searchsorted(session.arrival)
        last = index.searchsorted(session.departure)
        full_steps, rest_kwh = divmod(session.energy_kwh, session.max_kw * step_h)
        stop = min(first + int(full_steps), last)
        power[first:stop] += session.max_kw
        if stop < last and rest_kwh > 0:
            power[stop] += rest_kwh / step_h
    return pd.Series(power, index=index)


def grid_only_import_kw(inputs: Inputs) -> pd.Series:
    """Import with no assets: loads, EV at once, cooling from chillers at full-load COP, kW."""
    park = inputs.park
    load_kw = inputs.series[inputs.columns("load_kw_")].sum(axis=1)
    if park.cooling is not None:
        kw_per_kw_th = np.mean([chiller_electric_kw(c, c.capacity_kw_th) / c.capacity_kw_th
                                for c in park.cooling.chillers])
        load_kw = load_kw + inputs.series["cooling_load_kw_th"] * float(kw_per_kw_th)
    return load_kw + ev_immediate_kw(inputs)


def annual_totals(inputs: Inputs) -> dict[str, Any]:
    """Energy of each input over the period and the energy cost of the load with no assets."""
    park, s, step_h = inputs.park, inputs.series, inputs.park.step_h
    totals: dict[str, Any] = {"year": int(inputs.index[0].year), "steps": len(s)}
    totals.update({f"calibration.{key}": value for key, value in inputs.calibration.items()})
    pv_kwh = 0.0
    for array in park.pv:
        kwh = float(s[f"pv_kw_{array.name}"].sum() * step_h)
        totals[f"pv_kwh_{array.name}"] = kwh
        pv_kwh += kwh
    if park.pv:
        totals["pv_kwh"] = pv_kwh
        totals["pv_kwh_per_kwp"] = pv_kwh / sum(a.capacity_kwp for a in park.pv)
    if park.wind:
        wind_kwh = float(s[inputs.columns("wind_kw_")].sum().sum() * step_h)
        rated_kw = sum(farm_capacity_kw(f, park) for f in park.wind)
        totals["wind_kwh"] = wind_kwh
        totals["wind_capacity_factor"] = wind_kwh / (rated_kw * len(s) * step_h)
    for load in park.loads:
        totals[f"load_kwh_{load.name}"] = float(s[f"load_kw_{load.name}"].sum() * step_h)
    if park.cooling is not None:
        totals["cooling_kwh_th"] = float(s["cooling_load_kw_th"].sum() * step_h)
        totals["cooling_peak_kw_th"] = float(s["cooling_load_kw_th"].max())
    for section in registry.hooks("report"):  # the plants' own demand (heating)
        if section.totals is not None:
            totals.update(registry.load(section.totals)(inputs))
    if park.ev is not None:
        totals["ev_kwh"] = float(inputs.ev_sessions["energy_kwh"].sum())
        totals["ev_sessions"] = len(inputs.ev_sessions)
    imports_kw = grid_only_import_kw(inputs)
    totals["consumption_kwh_no_assets"] = float(imports_kw.sum() * step_h)
    energy_yuan = float((imports_kw * s["price_import_yuan_per_kwh"]).sum() * step_h)
    peaks_kw = tariff.monthly_peaks_kw(imports_kw)
    totals["grid_only_energy_cost_yuan"] = energy_yuan
    totals["grid_only_demand_cost_yuan"] = float(tariff.demand_charge_yuan(peaks_kw, park.tariff))
    totals["grid_only_peak_kw"] = float(peaks_kw.max())
    totals["co2_t_no_assets"] = float((imports_kw * s["co2_kg_per_kwh"]).sum() * step_h / 1000)
    return totals


def park_summary(inputs: Inputs) -> dict[str, Any]:
    """Rows (asset, size, annual energy) for the `validate` screen."""
    park: Park = inputs.park
    totals = annual_totals(inputs)
    sizes = asset_sizes(park)
    mwh = lambda kwh: f"{kwh / 1000:,.0f} MWh"  # noqa: E731
    energies = {f"PV {a.name} ({a.bus})": mwh(totals[f"pv_kwh_{a.name}"]) for a in park.pv}
    energies |= {f"wind {f.name} ({f.count}×)": mwh(float(
        inputs.series[f"wind_kw_{f.name}"].sum() * park.step_h)) for f in park.wind}
    if park.cooling is not None:
        energies["chillers"] = f"{totals['cooling_kwh_th'] / 1000:,.0f} MWh_th cooling"
    for section in registry.hooks("report"):
        if section.energies is not None:
            energies |= registry.load(section.energies)(totals)
    if park.ev is not None:
        energies["EV chargers"] = f"{mwh(totals['ev_kwh'])} ({totals['ev_sessions']} sessions)"
    energies["grid"] = mwh(totals["consumption_kwh_no_assets"]) + " with no assets"
    rows = [(name, size, energies.get(name, "")) for name, size in sizes.items()]
    rows[-1:-1] = [(f"load {load.name} ({load.bus})", "", mwh(totals[f"load_kwh_{load.name}"]))
                   for load in park.loads]
    cost_yuan = totals["grid_only_energy_cost_yuan"] + totals["grid_only_demand_cost_yuan"]
    for key, value in inputs.calibration.items():
        rows.append(_calibration_row(park, key, value))
    notes = [f"tariff: {tariff_text(park)}; {cost_yuan:,.0f} yuan a year with no assets",
             f"weather: {weather_text(park)}"]
    return {"title": f"{park.name} ({park.site.latitude_deg:.2f} N, "
                     f"{park.site.longitude_deg:.2f} E, {park.time_step_minutes} min)",
            "rows": rows, "notes": notes}


def _calibration_row(park: Park, key: str, scale: float) -> tuple[str, str, str]:
    """(what was calibrated, the scale found, its target) for a key of
    ``Inputs.calibration``."""
    group, name, quantity = key.split(".")
    what = quantity.removesuffix("_scale").replace("_", " ")
    if group == "weather":
        spec = park.weather
        height_m = spec.target_height_m or spec.wind_reference_height_m
        return ("weather calibrated", f"{what} ×{scale:.4f}",
                f"mean {spec.target_mean_wind_speed_m_s:g} m/s at {height_m:g} m")
    asset = next(a for a in (park.pv if group == "pv" else park.wind) if a.name == name)
    return (f"{group} {name} calibrated", f"{what} ×{scale:.4f}",
            f"{asset.annual_energy_kwh / 1000:,.0f} MWh/yr target")


def write_inputs(inputs: Inputs, totals: dict[str, Any], out: Path) -> list[Path]:
    """Write the inputs (Parquet), EV sessions (Parquet) and the totals (CSV + JSON)."""
    out = Path(out)
    paths = [out / "inputs.parquet", out / "weather.parquet", out / "ev_sessions.parquet",
             out / "summary.csv", out / "summary.json"]
    atomic_write(paths[0], lambda p: inputs.series.to_parquet(p))
    atomic_write(paths[1], lambda p: inputs.weather.to_parquet(p))
    atomic_write(paths[2], lambda p: inputs.ev_sessions.to_parquet(p))
    frame = pd.DataFrame({"quantity": list(totals), "value": list(totals.values())})
    atomic_write(paths[3], lambda p: frame.to_csv(p, index=False))
    atomic_write(paths[4], lambda p: p.write_text(json.dumps(totals, indent=2)))
    return paths
