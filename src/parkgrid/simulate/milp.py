"""The MILP planner for the rollout: the day-ahead optimizer behind the planner contract."""

from __future__ import annotations

from typing import Any

from parkgrid.config import Park
from parkgrid.inputs import Inputs
from parkgrid.model.schedule import ParkState, Schedule


def milp_planner(park: Park, **options: Any) -> Any:
    """``plan(inputs, state) -> Schedule`` solving the optimizer's model of the horizon
    (options: :class:`parkgrid.optimizer.PlanOptions` fields). Raises SolverError when the
    solve ends without a schedule; the rollout then falls back to the rules."""
    from parkgrid.optimizer import DayAheadOptimizer, PlanOptions

    optimizer = DayAheadOptimizer(park, options=PlanOptions(**options))

    def milp(inputs: Inputs, state: ParkState) -> Schedule:
        schedule = optimizer.plan(inputs, state)
        schedule.metadata.setdefault("planner", "milp")
        return schedule

    milp.name = "milp"  # type: ignore[attr-defined]
    return milp
