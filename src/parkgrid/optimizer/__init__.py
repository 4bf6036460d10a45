"""Day-ahead dispatch optimizer: a Pyomo MILP of one horizon, solved with HiGHS.

``plan_day(inputs, state)`` returns a :class:`parkgrid.model.schedule.Schedule`;
``DayAheadOptimizer(park)`` keeps the built models for repeated planning (the simulator);
``pareto_front(inputs, state, n_points)`` traces cost against CO2.
"""

from parkgrid.optimizer.horizon import PlanOptions
from parkgrid.optimizer.pareto import pareto_front
from parkgrid.optimizer.planner import DayAheadOptimizer, optimizer_for, plan_day

__all__ = ["DayAheadOptimizer", "PlanOptions", "optimizer_for", "pareto_front", "plan_day"]
