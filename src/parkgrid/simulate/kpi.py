"""KPIs of a ledger, exactly as defined in DESIGN.md, for the period and per month.

Definitions (energies in kWh over the period; the ledger's power columns are step means):
- consumption ``E_load`` = inflexible load served + chillers + EV charging + deferrable
  loads + losses (AC/DC converter losses and battery losses = charge − discharge − change
  of stored energy). With it, ``E_imp + (E_re − E_curt − E_exp) = E_load + ΔE_stored``.
- ``E_re`` = PV + wind available (used + curtailed); ``E_curt`` curtailed; ``E_exp`` exported.
- self-sufficiency, time-matched (``self_sufficiency``) = (E_re − E_curt − E_exp) / E_load:
  the share of consumption met by RE at the time it was generated (自给率 / 绿电占比);
  annual balance (``self_sufficiency_annual``) = E_re / E_load: RE generated over the
  period ÷ consumption over the period, the figure park reports and zero-carbon balances
  publish (can exceed 1); self-consumption = (E_re − E_curt − E_exp) / E_re.
- cost = energy + demand charge − export revenue; degradation and penalties reported apart;
  ``total_cost_yuan`` = cost + degradation + penalties (+ carbon cost when the objective
  prices carbon) — the quantity the optimizer minimises and regret is measured on.
- demand charge: the tariff's rule on each calendar month's maximum 15-min import (a month
  only partly simulated is billed on its simulated part, at the full monthly rate).
- CO2 = Σ import × grid factor; CO2 avoided = CO2 of the grid-only baseline − CO2.
- zero-carbon park indicators (reference/parks.md) with pass/fail.
- kinds that burn fuel (the heating's diesel boiler, :mod:`parkgrid.model.heating`): its
  cost is in ``cost_yuan`` (``*_fuel_yuan``), its CO2 in ``co2_t``, its tce
  (``*_fuel_tce``) in the energy use; the clean energy share is then RE used on site over
  the energy use, in tce; the heat pump's electricity is consumption.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.inputs.emissions import tce_per_kwh
from parkgrid.inputs.tariff import demand_charge_yuan, monthly_peaks_kw
from parkgrid.model import costs, physics, registry
from parkgrid.model.physics import Storage
from parkgrid.model.schedule import (
    A2D,
    BATTERY_CHARGE,
    BATTERY_DISCHARGE,
    BATTERY_SOC,
    D2A,
    GRID_EXPORT,
    GRID_IMPORT,
    LOAD,
    UNSERVED,
    asset_names,
)
from parkgrid.model.schedule import asset_column as schedule_column

CONSUMERS = [c for c in registry.columns_with("sink", "electricity") if c.kpi]
"""Electricity sinks counted in consumption beside the inflexible load (chillers, EV
charging, deferrable loads, …), each with its KPI key."""

THRESHOLDS = {
    # name: (rule, threshold, source)
    "self_used_re_share_of_generation": (">=", 0.60, "direct green-power supply, 2025"),
    "self_used_re_share_of_consumption": (">=", 0.30, "direct green-power supply, 2025"),
    "self_used_re_share_of_consumption_2030": (">=", 0.35, "direct green-power supply, 2030"),
    "export_share_of_generation": ("<=", 0.20, "direct green-power supply, 2025"),
    "clean_energy_share": (">=", 0.90, "national zero-carbon parks (guidance); grid "
                                        "electricity counted as not clean"),
}
CO2_PER_TCE_LIMITS = ((1e6, 0.2), (float("inf"), 0.3))
"""CO2 per unit of energy, tCO2/tce: ≤ 0.2 up to 1 Mtce/yr (the rule's 0.2–1 Mtce band,
applied to smaller parks too), ≤ 0.3 above."""


def energy_kpis(ledger: pd.DataFrame, park: Park, stored_start_kwh: float) -> dict[str, float]:
    """Energy, cost and CO2 KPIs of a ledger slice (no demand charge: see :func:`kpis`).

    ``stored_start_kwh``: energy in the batteries before the slice's first step.
    """
    dt = park.step_h
    kwh = lambda a: float(np.sum(a) * dt)  # noqa: E731
    total = lambda base: physics.total(ledger, base)  # noqa: E731
    imp, exp = ledger[GRID_IMPORT].to_numpy(float), ledger[GRID_EXPORT].to_numpy(float)
    pv, pv_c = total("pv_kw"), total("pv_curtailed_kw")
    wind, wind_c = total("wind_kw"), total("wind_curtailed_kw")
    charge, discharge = total(BATTERY_CHARGE), total(BATTERY_DISCHARGE)
    stored = total(BATTERY_SOC)
    delta_stored = float(stored[-1] - stored_start_kwh) if len(stored) else 0.0
    eta = park.buses.dc.converter_efficiency if park.buses.dc else 1.0
    conv = total(A2D) + total(D2A)
    unserved = total(UNSERVED)
    out: dict[str, float] = {"load_served_kwh": kwh(total(LOAD) - unserved)}
    out.update({c.kpi: kwh(total(c.base)) for c in CONSUMERS if c.kpi})
    out["converter_losses_kwh"] = kwh(conv * (1.0 - eta))
    out["battery_losses_kwh"] = kwh(charge - discharge) - delta_stored
    out["consumption_kwh"] = sum(out.values())
    out.update({
        "pv_generation_kwh": kwh(pv + pv_c), "wind_generation_kwh": kwh(wind + wind_c),
        "curtailed_kwh": kwh(pv_c + wind_c), "exported_kwh": kwh(exp), "imported_kwh": kwh(imp),
        "battery_stored_change_kwh": delta_stored,
        "battery_throughput_kwh": kwh(charge + discharge),
        "peak_import_kw": float(imp.max()) if len(imp) else 0.0,
    })
    re = out["pv_generation_kwh"] + out["wind_generation_kwh"]
    used = re - out["curtailed_kwh"] - out["exported_kwh"]
    out["re_generation_kwh"] = re
    out["re_self_used_kwh"] = used
    out["self_sufficiency"] = ratio(used, out["consumption_kwh"])
    out["self_sufficiency_annual"] = ratio(re, out["consumption_kwh"])
    out["self_consumption"] = ratio(used, re)
    out["re_utilisation"] = 1.0 - ratio(out["curtailed_kwh"], re) if re > 0 else 0.0
    out["export_share_of_generation"] = ratio(out["exported_kwh"], re)
    out.update(costs.energy_lines(ledger_flows(ledger, park), park))
    for kind in registry.kinds_with("kpis"):
        out.update(registry.load(kind.kpis)(ledger, park))
    fuel_tce = sum(v for k, v in out.items() if k.endswith("_fuel_tce"))  # every plant's
    out["energy_use_tce"] = out["consumption_kwh"] * tce_per_kwh(park.emissions) + fuel_tce
    if fuel_tce:  # fuel burnt on site: clean energy is a share of it all
        out["clean_energy_share"] = ratio(used * tce_per_kwh(park.emissions),
                                          out["energy_use_tce"])
    out["co2_per_energy_t_per_tce"] = ratio(out["co2_t"], out["energy_use_tce"])
    return out


def _sum(ledger: pd.DataFrame, col: str) -> float:
    return float(ledger[col].sum()) if col in ledger else 0.0


def ratio(a: float, b: float) -> float:
    """a ÷ b, 0 when b is not positive."""
    return float(a / b) if b > 0 else 0.0


def ledger_flows(ledger: pd.DataFrame, park: Park) -> costs.Flows:
    """What the cost breakdown reads from a ledger."""
    names = asset_names(park)
    return costs.Flows(
        column=lambda base: physics.total(ledger, base),
        asset=lambda kind, base, name: ledger[schedule_column(base, name, names[kind])]
        .to_numpy(float),
        price_import=ledger["price_import"].to_numpy(float),
        price_export=ledger["price_export"].to_numpy(float),
        co2_kg_per_kwh=ledger["co2_kg_per_kwh"].to_numpy(float),
        unmet_kwh={"ev": _sum(ledger, "ev_unmet_kwh"),
                   "deferrable": _sum(ledger, "deferrable_unmet_kwh")},
        step_h=park.step_h)


def stored_before_kwh(ledger: pd.DataFrame, park: Park) -> float:
    """Energy in the batteries before the ledger's first step (undoing that step), kWh."""
    if ledger.empty or not park.batteries:
        return 0.0
    first = ledger.iloc[0]
    names = asset_names(park)["batteries"]
    total = 0.0
    for b in park.batteries:
        ch, dis, soc = (first[schedule_column(base, b.name, names)] for base in
                        (BATTERY_CHARGE, BATTERY_DISCHARGE, BATTERY_SOC))
        total += Storage.battery(b, park.step_h).before(float(soc), ch, dis)
    return total


def add_costs(k: dict[str, float], demand_yuan: float, park: Park) -> dict[str, float]:
    """Complete the cost KPIs of ``k`` with the demand charge."""
    return costs.complete(k, demand_yuan, park, park.objective.carbon_price_in_objective)


def kpis(ledger: pd.DataFrame, park: Park) -> dict[str, Any]:
    """Period KPIs, monthly KPIs (key ``monthly``: 'YYYY-MM' → KPIs) and the zero-carbon
    indicators (key ``zero_carbon``) of a whole ledger."""
    peaks = monthly_peaks_kw(ledger[GRID_IMPORT])
    stored = physics.total(ledger, BATTERY_SOC)
    start = stored_before_kwh(ledger, park)
    monthly: dict[str, dict[str, float]] = {}
    month_key = ledger.index.strftime("%Y-%m")
    positions = np.flatnonzero(np.r_[True, month_key[1:] != month_key[:-1]])
    for i, pos in enumerate(positions):
        stop = positions[i + 1] if i + 1 < len(positions) else len(ledger)
        before = start if pos == 0 else float(stored[pos - 1])
        k = energy_kpis(ledger.iloc[pos:stop], park, before)
        peak = float(peaks.iloc[i])
        k["peak_import_kw"] = peak
        monthly[month_key[pos]] = add_costs(k, demand_charge_yuan(peak, park.tariff), park)
    period = energy_kpis(ledger, park, start)
    add_costs(period, sum(m["demand_charge_yuan"] for m in monthly.values()), park)
    period["monthly_peak_import_kw"] = {m: v["peak_import_kw"] for m, v in monthly.items()}
    period["days"] = len(ledger) / park.steps_per_day
    period["zero_carbon"] = zero_carbon(period)
    period["monthly"] = monthly
    return period


def zero_carbon(k: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The zero-carbon park indicators of a period's KPIs, each with its threshold and pass."""
    values = {
        "self_used_re_share_of_generation": k["self_consumption"],
        "self_used_re_share_of_consumption": k["self_sufficiency"],
        "self_used_re_share_of_consumption_2030": k["self_sufficiency"],
        "export_share_of_generation": k["export_share_of_generation"],
        "clean_energy_share": k.get("clean_energy_share", k["self_sufficiency"]),
    }
    out = {name: _indicator(values[name], *THRESHOLDS[name]) for name in THRESHOLDS}
    annual_tce = k["energy_use_tce"] * 365.0 / max(k.get("days", 365.0), 1e-9)
    limit = next(lim for size, lim in CO2_PER_TCE_LIMITS if annual_tce <= size)
    out["co2_per_energy_t_per_tce"] = _indicator(
        k["co2_per_energy_t_per_tce"], "<=", limit,
        f"national zero-carbon parks, 2025 ({annual_tce:,.0f} tce/yr)")
    return out


def _indicator(value: float, rule: str, threshold: float, source: str) -> dict[str, Any]:
    ok = value >= threshold if rule == ">=" else value <= threshold
    return {"value": value, "rule": rule, "threshold": threshold, "pass": bool(ok),
            "source": source}


def compare(strategy: dict[str, Any], baselines: dict[str, dict[str, Any]],
            bound_total_cost_yuan: float | None) -> dict[str, Any]:
    """Savings of ``strategy`` vs each baseline, CO2 avoided vs grid-only, and regret."""
    out: dict[str, Any] = {"savings_yuan": {}, "savings_total_cost_yuan": {}, "savings_pct": {}}
    for name, base in baselines.items():
        out["savings_yuan"][name] = base["cost_yuan"] - strategy["cost_yuan"]
        out["savings_total_cost_yuan"][name] = base["total_cost_yuan"] - strategy[
            "total_cost_yuan"]
        out["savings_pct"][name] = 100.0 * ratio(out["savings_yuan"][name], base["cost_yuan"])
    if "grid_only" in baselines:
        out["co2_avoided_t"] = baselines["grid_only"]["co2_t"] - strategy["co2_t"]
    if bound_total_cost_yuan is not None:
        out["regret_yuan"] = strategy["total_cost_yuan"] - bound_total_cost_yuan
        out["regret_pct"] = 100.0 * ratio(out["regret_yuan"], abs(bound_total_cost_yuan))
    return out


def solver_stats(days: pd.DataFrame) -> dict[str, Any]:
    """Per-day planner statistics: status counts, solve times (of the day-ahead plans), gaps,
    fallback days, and the intraday re-plans when there were any."""
    if days.empty:
        return {"days": 0}
    solve = days["solve_s"].to_numpy(float)
    gaps = pd.to_numeric(days["gap"], errors="coerce").dropna().to_numpy(float)
    fallback = days[days["fallback"]]
    return {
        "days": len(days),
        "status_counts": {str(k): int(v) for k, v in days["status"].value_counts().items()},
        "solve_s_total": float(solve.sum()),
        "solve_s_median": float(np.median(solve)),
        "solve_s_p95": float(np.percentile(solve, 95)),
        "solve_s_max": float(solve.max()),
        "gap_median": float(np.median(gaps)) if len(gaps) else None,
        "gap_max": float(gaps.max()) if len(gaps) else None,
        "fallback_days": [{"date": r.date, "reason": r.reason} for r in fallback.itertuples()],
        "per_day": days.to_dict(orient="records"),
    } | _replan_stats(days)


def _replan_stats(days: pd.DataFrame) -> dict[str, Any]:
    """Intraday re-plans of the period (none without re-planning): made, failed (the
    previous plan kept), solve time."""
    if "replans" not in days or not (days["replans"].any() or days["replans_failed"].any()):
        return {}
    return {"replans": int(days["replans"].sum()),
            "replans_failed": int(days["replans_failed"].sum()),
            "replan_solve_s_total": float(days["replan_solve_s"].sum())}
