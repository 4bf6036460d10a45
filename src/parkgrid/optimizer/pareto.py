"""Cost/CO2 Pareto front of one horizon by the ε-constraint method.

1. least cost → the high-CO2 end (ε_max = its CO2) and its penalties P;
2. least CO2 with penalties ≤ P (no load shed to save CO2) → the low end ε_min;
3. least cost subject to CO2 ≤ ε for ``n_points`` values of ε from ε_max down to ε_min.
Costs exclude the carbon price (the front shows what any carbon price would trade off).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.inputs import Inputs
from parkgrid.model.schedule import ParkState, Schedule
from parkgrid.optimizer.horizon import PlanOptions
from parkgrid.optimizer.planner import optimizer_for

PENALTY_SLACK_YUAN = 1e-3
"""Allowance on the penalties of the least-cost end (solver tolerance)."""
CAP_SLACK = 1e-7
"""Relative allowance on each CO2 cap (so that the least-CO2 schedule meets the lowest)."""

FRONT_COLUMNS = ["point", "epsilon_co2_kg", "total_cost_yuan", "co2_t", "cost_yuan",
                 "energy_cost_yuan", "demand_charge_yuan", "export_revenue_yuan",
                 "degradation_yuan", "penalty_yuan", "imported_kwh", "exported_kwh", "status",
                 "gap", "solve_time_s"]
"""The front's columns: the cap (kg, as the planner's ``co2_cap_kg``), then the plan's cost
and CO2 breakdown under the KPIs' names (:mod:`parkgrid.model.costs`)."""


def pareto_front(inputs: Inputs, state: ParkState | None = None, n_points: int = 5,
                 park: Park | None = None, **options: Any) -> pd.DataFrame:
    """The front as a frame, one row per ε (columns ``FRONT_COLUMNS``), cheapest first."""
    if n_points < 2:
        raise ValueError("a front needs n_points ≥ 2")
    optimizer = optimizer_for(park or inputs.park)
    base = dict(options, carbon_in_objective=False)

    def plan(**extra: Any) -> Schedule:
        return optimizer.plan(inputs, state, PlanOptions(**(base | extra)))

    cheapest = plan(co2_cap_kg=None, penalty_cap_yuan=np.inf)
    budget = cheapest.metadata["penalty_yuan"] + PENALTY_SLACK_YUAN
    cleanest = plan(minimize="co2", penalty_cap_yuan=budget)
    high, low = (1000.0 * s.metadata["co2_t"] for s in (cheapest, cleanest))
    epsilons = np.linspace(high, low, n_points)
    rows = {0: _row(0, high, cheapest)}
    # from the lowest cap up: each solution is a feasible start for the next, looser cap
    for i in range(n_points - 1, 0, -1):
        rows[i] = _row(i, epsilons[i], plan(co2_cap_kg=float(epsilons[i]) * (1 + CAP_SLACK),
                                            penalty_cap_yuan=budget))
    return pd.DataFrame([rows[i] for i in range(n_points)], columns=FRONT_COLUMNS)


def _row(point: int, epsilon: float, schedule: Schedule) -> dict[str, Any]:
    m = schedule.metadata
    return {"point": point, "epsilon_co2_kg": epsilon} | {
        c: m[c] for c in FRONT_COLUMNS if c in m}
