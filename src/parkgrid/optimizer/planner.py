"""The day-ahead planner: models built once per horizon length, re-solved per horizon."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

from parkgrid.config import Park
from parkgrid.errors import InputDataError, SolverError
from parkgrid.inputs import Inputs
from parkgrid.model.schedule import SCHEMA_VERSION, ParkState, Schedule
from parkgrid.optimizer.demand_response import Window, event_windows
from parkgrid.optimizer.frame import objective_parts, publish, state_out
from parkgrid.optimizer.highs import SolveResult
from parkgrid.optimizer.horizon import Horizon, PlanOptions
from parkgrid.optimizer.model import ParkModel
from parkgrid.optimizer.netting import net_flows


class DayAheadOptimizer:
    """MILP planner of one park: ``plan(inputs, state) -> Schedule`` (a ``Planner``).

    The model of each horizon length is built on first use and kept; later horizons of that
    length only push new data into it.
    """

    def __init__(self, park: Park, threads: int | None = None,
                 options: PlanOptions | None = None) -> None:
        self.park = park
        self.threads = threads
        self.options = options or PlanOptions()
        self._models: dict[tuple[int, bool, tuple[Window, ...]], ParkModel] = {}

    def model(self, n_steps: int, co2_rows: bool = False,
              dr_windows: tuple[Window, ...] = ()) -> tuple[ParkModel, float]:
        """The model of ``n_steps`` (with the emissions rows or not, with the windows of the
        horizon's demand-response events) and the seconds spent building it now (0 if
        cached)."""
        key = (n_steps, co2_rows, dr_windows)
        if key not in self._models:
            self._models[key] = ParkModel(self.park, n_steps, self.threads, co2_rows,
                                          dr_windows)
            return self._models[key], self._models[key].build_time_s
        return self._models[key], 0.0

    def __call__(self, inputs: Inputs, state: ParkState) -> Schedule:
        return self.plan(inputs, state)

    def plan(self, inputs: Inputs, state: ParkState | None = None,
             options: PlanOptions | None = None) -> Schedule:
        """The least-cost schedule of the horizon ``inputs`` covers, from ``state``."""
        started = time.perf_counter()
        options = options or self.options
        if len(inputs.series) == 0:
            raise InputDataError("inputs", "the horizon has no steps")
        state = (state or ParkState.initial(self.park)).for_month(inputs.index[0].month)
        h = Horizon(self.park, inputs, state, options)
        model, build_s = self.model(h.n, options.with_co2_rows,
                                    event_windows(inputs.dr_events, inputs.index))
        objective = self.park.objective
        result = model.solve(h, options.time_limit_s or objective.time_limit_s,
                             objective.mip_gap if options.mip_gap is None else options.mip_gap)
        if not result.has_solution:
            raise SolverError(
                f"{self.park.name}: HiGHS found no schedule for the {h.n} steps from "
                f"{h.index[0]:%Y-%m-%d %H:%M} (status {result.status}, "
                f"{result.solve_time_s:.2f} s); raise objective.time_limit_s or plan by rules")
        return self._schedule(model, h, result, build_s, time.perf_counter() - started)

    def _schedule(self, model: ParkModel, h: Horizon, result: SolveResult,
                  build_s: float, wall_s: float) -> Schedule:
        assert result.values is not None
        out = model.compiled.read(result.values)
        cols = model.columns(out, h)
        residual_kwh = net_flows(cols, self.park, h.step_h)
        flexible = model.blocks.get("flexible")
        unmet = flexible.unmet_kwh(out) if flexible else {"ev": 0.0, "deferrable": 0.0}
        parts = objective_parts(cols, h, unmet)
        if residual_kwh > 1e-3:
            h.warnings.append(f"netting left {residual_kwh:.4f} kWh without a sink")
        stored_value = sum(block.stored_value_yuan(out, h) for block in model.blocks.values())
        metadata = solve_metadata(self.park, h, result, build_s, wall_s) | parts | {
            "stored_value_yuan": stored_value, "netting_residual_kwh": residual_kwh,
            "warnings": list(h.warnings)}
        dr = model.blocks.get("demand_response")
        if dr is not None:
            metadata["demand_response"] = dr.summary(out, h)
        return Schedule(publish(cols, self.park, h.index), metadata, state_out(cols, h))


def solve_metadata(park: Park, h: Horizon, result: SolveResult, build_s: float,
                   wall_s: float) -> dict[str, Any]:
    """Schema, horizon and solver facts of one schedule."""
    return {
        "schema_version": SCHEMA_VERSION,
        "park": park.name,
        "timezone": park.site.timezone,
        "horizon_start": h.index[0].isoformat(),
        "horizon_steps": h.n,
        "step_minutes": park.time_step_minutes,
        "status": "optimal" if result.status == "optimal" else "feasible",
        "termination": result.status,
        "time_limit_hit": result.status == "time_limit",
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "mip": result.is_mip,
        "nodes": result.nodes,
        "solve_time_s": result.solve_time_s,
        "build_time_s": build_s,
        "wall_time_s": wall_s,
        "relax_integers": h.options.relax_integers,
        "initial_state": h.options.initial_state,
        "carbon_in_objective": h.carbon_in_objective,
        "tie_break": h.options.tie_break,
        "minimize": h.options.minimize,
        "co2_cap_kg": h.options.co2_cap_kg,
    }


_CACHE: OrderedDict[str, DayAheadOptimizer] = OrderedDict()
_CACHE_SIZE = 8


def optimizer_for(park: Park) -> DayAheadOptimizer:
    """A cached optimizer per park configuration (the same config reuses its models)."""
    key = hashlib.sha1(park.model_dump_json().encode()).hexdigest()
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    _CACHE[key] = DayAheadOptimizer(park)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return _CACHE[key]


def plan_day(inputs: Inputs, state: ParkState | None = None, park: Park | None = None,
             **options: Any) -> Schedule:
    """Plan the horizon ``inputs`` covers (e.g. ``inputs.day('2025-07-15')``) from ``state``
    (default: the park's initial state). ``options``: see :class:`PlanOptions`. ``park``
    overrides ``inputs.park`` for the asset sizes. Models are cached per park config."""
    return optimizer_for(park or inputs.park).plan(inputs, state, PlanOptions(**options))
