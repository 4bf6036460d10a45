"""Lifecycle economics of a run: a year-by-year cash flow against a baseline and its metrics.

The simulated period stands for every year of the analysis (scaled to 365 days when it is
shorter): year ``t`` (1…N) repeats it with prices escalated by ``(1 + e)^(t−1)`` and the
RE-driven part of the savings reduced by the PV/wind degradation ``(1 − d)^(t−1)``. The money
lines come from the KPIs' cost breakdown (energy, demand charge, export revenue, CO2) of the
strategy and of the baseline run; nothing is re-priced here. docs/economics.md defines every
column and metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy_financial as npf
import pandas as pd

from parkgrid.config import BASELINE_WITHOUT, Cost, Park

LINES = ("energy", "demand", "export")
"""Savings lines, each from a KPI of the cost breakdown (export: revenue, so negated)."""
LINE_KPI = {"energy": ("energy_cost_yuan", 1.0), "demand": ("demand_charge_yuan", 1.0),
            "export": ("export_revenue_yuan", -1.0)}
COLUMNS = ("year", "capex_yuan", "replacement_yuan", "om_yuan", "energy_savings_yuan",
           "demand_savings_yuan", "export_savings_yuan", "carbon_value_yuan",
           "residual_value_yuan", "net_yuan", "discount_factor", "discounted_yuan",
           "cumulative_yuan", "cumulative_discounted_yuan")
"""Columns of ``cashflow.csv`` (costs negative, savings and values positive)."""


def asset_size(kind: str, asset: Any, park: Park) -> tuple[float, float]:
    """(size in the asset's cost unit, power in kW for ``capex_yuan_per_kw``)."""
    if kind == "pv":
        return asset.capacity_kwp, 0.0
    if kind == "wind":
        from parkgrid.inputs.wind import farm_capacity_kw

        return farm_capacity_kw(asset, park), 0.0
    if kind == "batteries":
        return asset.energy_kwh, asset.power_kw
    if kind == "chillers":
        return asset.capacity_kw_th, 0.0
    if kind == "tank":
        return asset.capacity_kwh_th, asset.max_charge_kw_th
    if kind == "converter":
        return asset.converter_kw, 0.0
    return asset.count * asset.power_kw, 0.0  # chargers


def asset_cash(cost: Cost, size: float, power_kw: float, years: int,
               om_escalation: float, sunk: bool = True) -> dict[str, np.ndarray]:
    """An asset's cost lines over years 0…N (positive = money spent, residual = value);
    ``sunk``: an existing asset's capex is not counted."""
    n = years + 1
    full = cost.capex_yuan_per_unit * size + cost.capex_yuan_per_kw * power_kw + \
        cost.capex_fixed_yuan
    capex, replacement, om, residual = (np.zeros(n) for _ in range(4))
    capex[0] = 0.0 if cost.existing and sunk else full
    life = cost.lifetime_years
    installed_year, installed_cost = 0, full
    for year in range(life, years, life):
        replacement[year] = cost.replacement_cost_fraction * full
        installed_year, installed_cost = year, replacement[year]
    remaining = life - (years - installed_year)
    residual[years] = installed_cost * max(remaining, 0) / life
    om[1:] = cost.om_yuan_per_unit_year * size * (1.0 + om_escalation) ** np.arange(years)
    return {"capex": capex, "replacement": replacement, "om": om, "residual": residual}


def _annual(k: Mapping[str, Any], key: str) -> float:
    """A period KPI scaled to a year: ×365/days; the demand charge (billed per calendar
    month) ×12/months billed."""
    if key == "demand_charge_yuan" and k.get("monthly"):
        return float(k[key]) * 12.0 / len(k["monthly"])
    return float(k.get(key, 0.0)) * 365.0 / max(float(k.get("days", 365.0)), 1e-9)


def _re_degradation_pct(park: Park, k: Mapping[str, Any]) -> float:
    """Generation-weighted PV/wind degradation of the park's RE, %/yr."""
    pv = sum((a.cost.degradation_pct_per_year if a.cost else 0.0) * a.capacity_kwp
             for a in park.pv) / max(sum(a.capacity_kwp for a in park.pv), 1e-9)
    kw = {a.name: asset_size("wind", a, park)[0] for a in park.wind}
    wind = sum((a.cost.degradation_pct_per_year if a.cost else 0.0) * kw[a.name]
               for a in park.wind) / max(sum(kw.values()), 1e-9)
    e_pv, e_wind = float(k.get("pv_generation_kwh", 0)), float(k.get("wind_generation_kwh", 0))
    return (pv * e_pv + wind * e_wind) / (e_pv + e_wind) if e_pv + e_wind > 0 else 0.0


def _costs(park: Park, kinds: tuple[str, ...] | None, years: int,
           om_escalation: float, sunk: bool = True) -> dict[str, np.ndarray]:
    """Summed cost lines of the costed assets of ``kinds`` (None: every kind); ``sunk``:
    existing assets' capex left out (as for the NPV; not for a levelised cost)."""
    total = {line: np.zeros(years + 1) for line in ("capex", "replacement", "om", "residual")}
    for kind, _name, asset in park.costed_assets():
        if asset.cost is None or (kinds is not None and kind not in kinds):
            continue
        size, power = asset_size(kind, asset, park)
        for line, values in asset_cash(asset.cost, size, power, years, om_escalation,
                                       sunk).items():
            total[line] += values
    return total


def spent(c: Mapping[str, np.ndarray]) -> np.ndarray:
    """Money spent each year on an asset's cost lines: capex + replacement + O&M − residual."""
    return c["capex"] + c["replacement"] + c["om"] - c["residual"]


def evaluate(park: Park, strategy: Mapping[str, Any],
             baselines: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The ``economics`` section of kpis.json (with the year-by-year ``cashflow``) of the
    strategy's KPIs against the configured baseline's; an ``error`` key when it cannot be
    computed."""
    eco = park.economics
    assert eco is not None
    if eco.baseline not in baselines:
        return {"baseline": eco.baseline,
                "error": f"baseline {eco.baseline!r} was not run: no economics"}
    base = baselines[eco.baseline]
    n = eco.analysis_years
    years = np.arange(n + 1)
    grow = np.r_[0.0, (1.0 + eco.electricity_escalation) ** np.arange(n)]
    re_keep = np.r_[0.0, (1.0 - _re_degradation_pct(park, strategy) / 100.0) ** np.arange(n)]
    re_source = _re_source(park, strategy, baselines, eco.baseline)

    def yearly(b: float, s: float, re_part: float) -> np.ndarray:
        """Savings b − s per year: escalated, the RE-driven part degraded."""
        return grow * ((b - s) - re_part * (1.0 - re_keep))

    lines = {}
    for line in LINES:
        key, sign = LINE_KPI[line]
        b, s = sign * _annual(base, key), sign * _annual(strategy, key)
        re_part = sign * (_annual(base, key) - _annual(re_source, key)) if re_source else 0.0
        lines[line] = yearly(b, s, re_part)
    price = eco.carbon_price_yuan_per_t
    price = park.emissions.carbon_price_yuan_per_t if price is None else price
    co2_re = (_annual(base, "co2_t") - _annual(re_source, "co2_t")) if re_source else 0.0
    avoided_t = (_annual(base, "co2_t") - _annual(strategy, "co2_t")
                 - co2_re * (1.0 - re_keep)) * (years > 0)
    invest = _costs(park, BASELINE_WITHOUT[eco.baseline], n, eco.om_escalation)
    flow = pd.DataFrame({"year": years, "capex_yuan": 0.0 - invest["capex"],
                         "replacement_yuan": 0.0 - invest["replacement"],
                         "om_yuan": 0.0 - invest["om"],
                         **{f"{line}_savings_yuan": lines[line] for line in LINES},
                         "carbon_value_yuan": avoided_t * price,
                         "residual_value_yuan": invest["residual"]})
    flow["net_yuan"] = flow.drop(columns="year").sum(axis=1)
    discount = (1.0 + eco.discount_rate) ** -years
    flow["discount_factor"] = discount
    flow["discounted_yuan"] = flow["net_yuan"] * discount
    flow["cumulative_yuan"] = flow["net_yuan"].cumsum()
    flow["cumulative_discounted_yuan"] = flow["discounted_yuan"].cumsum()
    return _metrics(park, flow, strategy, base, invest, discount, grow, re_keep, avoided_t,
                    price)


def _re_source(park: Park, strategy: Mapping[str, Any],
               baselines: Mapping[str, Mapping[str, Any]], baseline: str,
               ) -> Mapping[str, Any] | None:
    """The run whose difference to the baseline is the RE-driven part of the savings:
    're_no_storage' against 'grid_only'; the strategy when the park has no storage or
    're_no_storage' was not run (all savings degrade); none against 're_no_storage'."""
    if baseline != "grid_only":
        return None
    return baselines.get("re_no_storage", strategy)


def _metrics(park: Park, flow: pd.DataFrame, strategy: Mapping[str, Any],
             base: Mapping[str, Any], invest: Mapping[str, np.ndarray], discount: np.ndarray,
             grow: np.ndarray, re_keep: np.ndarray, avoided_t: np.ndarray,
             price: float) -> dict[str, Any]:
    eco = park.economics
    assert eco is not None
    net = flow["net_yuan"].to_numpy()
    npv = float(flow["discounted_yuan"].sum())
    carbon_pv = float((flow["carbon_value_yuan"] * discount).sum())
    savings = flow[[f"{line}_savings_yuan" for line in LINES]].sum(axis=1).to_numpy()
    bill = _annual(base, "cost_yuan") * grow - savings  # the park's own bills, per year
    lcc = float((spent(_costs(park, None, eco.analysis_years, eco.om_escalation))
                 + bill) @ discount)
    re_kwh = _annual(strategy, "re_generation_kwh") * re_keep
    re_costed = all(a.cost is not None for a in [*park.pv, *park.wind])
    re_cost = spent(_costs(park, ("pv", "wind"), eco.analysis_years, eco.om_escalation,
                            sunk=False))
    dis_kwh = (_annual(strategy, "battery_throughput_kwh") - _annual(
        strategy, "battery_losses_kwh") - _annual(strategy, "battery_stored_change_kwh")) / 2.0
    bat_cost = spent(_costs(park, ("batteries",), eco.analysis_years, eco.om_escalation,
                             sunk=False))
    avoided_pv = float(avoided_t @ discount)
    return {
        "baseline": eco.baseline,
        "analysis_years": eco.analysis_years,
        "period_days": float(strategy.get("days", 365.0)),
        "discount_rate": eco.discount_rate,
        "npv_yuan": npv,
        "irr": _irr(net),
        "simple_payback_years": payback_years(net),
        "discounted_payback_years": payback_years(flow["discounted_yuan"].to_numpy()),
        "lifecycle_cost_yuan": lcc,
        "baseline_lifecycle_cost_yuan": lcc + npv - carbon_pv,
        "capex_yuan": float(invest["capex"][0]),
        "first_year_savings_yuan": float(savings[1] if len(savings) > 1 else 0.0),
        "lcoe_yuan_per_kwh": _levelised(re_cost, re_kwh, discount) if re_costed else None,
        "lcos_yuan_per_kwh": _levelised(bat_cost, np.r_[0.0, np.full(eco.analysis_years,
                                                                   dis_kwh)], discount),
        "co2_avoided_t_per_year": float(avoided_t[1]) if len(avoided_t) > 1 else 0.0,
        "carbon_price_yuan_per_t": price,
        "co2_abatement_cost_yuan_per_t": (-(npv - carbon_pv) / avoided_pv
                                          if avoided_pv > 0 else None),
        "cashflow": flow.to_dict(orient="records"),
    }


def _levelised(cost: np.ndarray, energy: np.ndarray, discount: np.ndarray) -> float | None:
    """Discounted cost over discounted energy, or None without either."""
    e = float(energy @ discount)
    c = float(cost @ discount)
    return c / e if e > 0 and np.any(cost) else None


def _irr(net: np.ndarray) -> float | None:
    """The IRR of the net cash flow, or None when it has no sign change / no root."""
    if not (np.any(net < 0) and np.any(net > 0)):
        return None
    value = float(npf.irr(net))
    return value if math.isfinite(value) else None


def payback_years(net: np.ndarray) -> float | None:
    """Years until the cumulative of ``net`` (year 0 first) is back at zero, linear within
    the year it crosses; 0 when it never goes negative, None when it never recovers."""
    cumulative = np.cumsum(net)
    if cumulative[0] >= 0 and np.all(cumulative >= 0):
        return 0.0
    negative = np.flatnonzero(cumulative < 0)
    last = int(negative[-1])
    if last == len(net) - 1:
        return None
    return last + float(-cumulative[last] / net[last + 1])


def cashflow_frame(section: Mapping[str, Any]) -> pd.DataFrame:
    """The ``cashflow`` of an economics section as a frame (columns :data:`COLUMNS`)."""
    return pd.DataFrame(section.get("cashflow", []), columns=list(COLUMNS))
