"""The rollout simulator: forecasts, planners, the real-time controller, baselines and KPIs.

Python API::

    from parkgrid.simulate import simulate, run, kpis
    result = simulate(park, "2025-07-01", "2025-07-15", "noisy", "milp", seed=1)
    kpis(result.ledger, park)["self_sufficiency"]
"""

from parkgrid.simulate.forecast import Noisy, Perfect, Persistence, make_forecaster
from parkgrid.simulate.kpi import kpis
from parkgrid.simulate.rollout import RolloutResult, make_planner, simulate
from parkgrid.simulate.rules import plan_none, plan_rules
from parkgrid.simulate.run import BASELINES, RunResult, run

__all__ = [
    "BASELINES", "Noisy", "Perfect", "Persistence", "RolloutResult", "RunResult", "kpis",
    "make_forecaster", "make_planner", "plan_none", "plan_rules", "run", "simulate",
]
