"""How a KPI or total is shown to a person: its label and its value with a unit, the same in
every command and in the report (``self_sufficiency`` 0.708 is ``70.8 %`` everywhere).

Keys follow the project's naming: the suffix is the unit (``_kwh``, ``_kwh_th``, ``_kw``,
``_yuan``, ``_t``, ``_kg``, ``_s``, ``_pct``); the shares listed in :data:`FRACTIONS` are
fractions 0–1 and are shown in percent.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from parkgrid.model import registry

FRACTIONS = ("self_sufficiency", "self_sufficiency_annual", "self_consumption",
             "re_utilisation", "export_share_of_generation", "wind_capacity_factor", "irr",
             "clean_energy_share", "gap")
LABELS = {
    "cost_yuan": "cost (energy + demand − export)",
    "total_cost_yuan": "total cost (incl. wear, penalties)",
    "energy_cost_yuan": "energy cost",
    "demand_charge_yuan": "demand charge",
    "export_revenue_yuan": "export revenue",
    "degradation_yuan": "battery wear",
    "penalty_yuan": "penalties (unserved, unmet)",
    "carbon_cost_yuan": "carbon cost",
    "consumption_kwh": "consumption",
    "re_generation_kwh": "RE generation (available)",
    "re_self_used_kwh": "RE used on site",
    "imported_kwh": "grid import",
    "self_sufficiency": "self-sufficiency (time-matched)",
    "self_sufficiency_annual": "self-sufficiency (annual balance)",
    "self_consumption": "self-consumption",
    "peak_import_kw": "peak import",
    "battery_throughput_kwh": "battery throughput",
    "unserved_kwh": "unserved load",
    "ev_unmet_kwh": "EV energy unmet",
    "co2_t": "CO2",
    "co2_avoided_t": "CO2 avoided (vs grid only)",
    "pv_kwh": "PV generation",
    "pv_kwh_per_kwp": "PV specific yield",
    "wind_kwh": "wind generation",
    "wind_capacity_factor": "wind capacity factor",
    "cooling_kwh_th": "cooling demand",
    "cooling_peak_kw_th": "cooling peak",
    "ev_kwh": "EV charging demand",
    "ev_sessions": "EV sessions",
    "consumption_kwh_no_assets": "consumption with no assets",
    "grid_only_energy_cost_yuan": "energy cost with no assets",
    "grid_only_demand_cost_yuan": "demand charge with no assets",
    "grid_only_peak_kw": "peak import with no assets",
    "co2_t_no_assets": "CO2 with no assets",
    "steps": "time steps",
    "npv_yuan": "net present value",
    "simple_payback_years": "simple payback",
    "discounted_payback_years": "discounted payback",
}
_PER_ASSET = (("pv_kwh_", "PV generation, {}"), ("load_kwh_", "load, {}"),
              ("wind_kwh_", "wind generation, {}"))
_WORDS = {"pv": "PV", "re": "RE", "co2": "CO2", "ev": "EV", "tou": "TOU", "soc": "SoC"}
_UNITS = ("_yuan_per_kwh", "_kwh_per_kwp", "_kwh_th", "_kw_th", "_kwh", "_kw", "_yuan", "_t",
          "_kg", "_s", "_pct", "_years", "_tce")


@functools.cache
def _plant_labels() -> dict[str, str]:
    """The labels the registry's plant reports give their own keys."""
    return {k: v for section in registry.hooks("report") for k, v in section.labels}


def label(key: str) -> str:
    """A person's name for a KPI key: ``self_consumption`` → "self-consumption"."""
    if key in LABELS:
        return LABELS[key]
    if key in _plant_labels():
        return _plant_labels()[key]
    if key.startswith("calibration."):  # calibration.<group>.<name>.<quantity>_scale
        _, group, name, quantity = key.split(".", 3)
        return f"{group} {name} calibrated: {quantity.replace('_', ' ')}"
    for prefix, text in _PER_ASSET:
        if key.startswith(prefix):
            return text.format(key[len(prefix):])
    stem = key
    for suffix in _UNITS:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    words = [_WORDS.get(w, w) for w in stem.split("_") if w]
    return " ".join(words) or key


def unit_of(key: str) -> str:
    """The unit a key's value is *shown* in (energies in MWh, fractions in %)."""
    base = next((prefix[:-1] for prefix, _ in _PER_ASSET
                 if key.startswith(prefix) and key != "pv_kwh_per_kwp"), key)
    base = base.removesuffix("_no_assets")
    if base in FRACTIONS or base.endswith("_pct") or base.endswith("_share"):
        return "%"
    for suffix, unit in (("_yuan_per_kwh", "yuan/kWh"), ("_kwh_per_kwp", "kWh/kWp"),
                         ("_kwh_th", "MWh_th"), ("_kw_th", "kW_th"), ("_kwh", "MWh"),
                         ("_kw", "kW"), ("_yuan", "yuan"), ("_t", "t"), ("_kg", "kg"),
                         ("_s", "s"), ("_years", "years"), ("_tce", "tce")):
        if base.endswith(suffix):
            return unit
    return ""


def number(key: str, value: object) -> str:
    """A value in the unit of :func:`unit_of`, without the unit: every digit, thousands
    separated, decimals only where they carry information."""
    if value is None or isinstance(value, str):
        return "–" if value is None else value
    if isinstance(value, bool):
        return "yes" if value else "no"
    v = float(value)  # type: ignore[arg-type]
    if math.isnan(v):
        return "–"
    unit = unit_of(key)
    if isinstance(value, int | np.integer) and not unit:
        return f"{int(value):,}"
    if unit == "%":
        return f"{v * (1 if key.endswith('_pct') else 100):.1f}"
    if unit in ("MWh", "MWh_th"):
        return f"{v / 1000:,.1f}"
    if unit in ("yuan", "kW", "kW_th", "kg", "kWh/kWp", "tce"):
        return f"{v:,.0f}"
    if unit == "yuan/kWh":
        return f"{v:.3f}"
    if unit in ("t", "years", "s"):
        return f"{v:,.1f}" if abs(v) >= 10 or unit != "s" else f"{v:.2f}"
    return f"{v:,.0f}" if abs(v) >= 1000 or v.is_integer() else f"{v:.3g}"


def value(key: str, raw: object) -> str:
    """A value with its unit: ``value("self_sufficiency", 0.708)`` → "70.8 %"."""
    text, unit = number(key, raw), unit_of(key)
    return f"{text} {unit}" if unit and text != "–" else text
