"""Demand-response KPIs: per event and for the period, from the run with the events and the
same run without them (what delivering cost: energy, demand charge, wear, comfort)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from parkgrid.config import Park
from parkgrid.simulate import kpi

TOTALS = ("offered_kwh", "response_kwh", "paid_kwh", "payment_yuan", "capacity_yuan",
          "penalty_yuan", "net_yuan")


def day_cost_yuan(ledger: pd.DataFrame, park: Park, date: str) -> tuple[float, float]:
    """One day's cost without the demand charge (energy − export + wear + penalties, yuan)
    and its unmet cooling (kWh_th)."""
    day = ledger[ledger.index.strftime("%Y-%m-%d") == date]
    k = kpi.energy_kpis(day, park, kpi.stored_before_kwh(day, park))
    cost = k["energy_cost_yuan"] - k["export_revenue_yuan"] + k["degradation_yuan"] \
        + k["penalty_yuan"]
    return cost, k["cooling_unserved_kwh_th"]


def dr_kpis(park: Park, events: list[dict[str, Any]], ledger: pd.DataFrame,
            plain: pd.DataFrame | None) -> dict[str, Any]:
    """``kpis.json``'s ``demand_response``: each event (settlement, and the cost of its day
    against ``plain``, the run without events) and the period's totals. The period's
    ``delivery_cost_yuan`` is the whole difference of total cost (demand charge included);
    ``delivery_cost_event_days_yuan`` sums the event days' (after an event the two runs start
    from different states, so later days differ by up to the planner's MIP gap too)."""
    rows = []
    for event in events:
        row = dict(event)
        if plain is not None:
            cost, cool = day_cost_yuan(ledger, park, row["date"])
            base_cost, base_cool = day_cost_yuan(plain, park, row["date"])
            row["day_cost_yuan"], row["day_cost_without_event_yuan"] = cost, base_cost
            row["delivery_cost_yuan"] = cost - base_cost
            row["cooling_unserved_extra_kwh_th"] = cool - base_cool
        rows.append(row)
    settled = [r for r in rows if r.get("status") != "no_baseline"]
    totals: dict[str, Any] = {k: float(sum(r.get(k, 0.0) for r in settled)) for k in TOTALS}
    totals["events"] = len(rows)
    totals["events_settled"] = len(settled)
    totals["events_in_band"] = sum(r["status"] in ("in_band", "above_cap") for r in settled)
    totals["revenue_yuan"] = totals.pop("net_yuan")
    if plain is not None:
        with_k, without_k = kpi.kpis(ledger, park), kpi.kpis(plain, park)
        totals["delivery_cost_yuan"] = with_k["total_cost_yuan"] - without_k["total_cost_yuan"]
        totals["net_benefit_yuan"] = totals["revenue_yuan"] - totals["delivery_cost_yuan"]
        totals["delivery_cost_event_days_yuan"] = float(sum(r["delivery_cost_yuan"]
                                                            for r in rows))
        for key in ("total_cost_yuan", "cost_yuan", "demand_charge_yuan", "self_sufficiency",
                    "imported_kwh",
                    "cooling_unserved_kwh_th"):
            totals[f"{key}_with_events"] = with_k[key]
            totals[f"{key}_without_events"] = without_k[key]
    return {"period": totals, "events": rows}

