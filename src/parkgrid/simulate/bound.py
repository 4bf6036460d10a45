"""The perfect-foresight bound: a lower bound on the cost any causal strategy can reach.

Method (``monthly_lp``, default; ``monthly_milp`` optional): the period is cut into its
calendar months; each month is solved by the optimizer on the actual inputs with its
initial storage state free (battery SOC and tank level are decisions within their limits),
its end-of-horizon rules dropped, the month-to-date peak at 0 and, for ``monthly_lp``, the
integer variables relaxed. The bound is the sum of the months' dual bounds (for an LP, its
optimum), plus the fixed monthly demand charges (capacity / declared kinds). The months are
solved without the optimizer's tie-break terms, so the objective is exactly the cost.

Why it is a valid lower bound: the whole-period problem P minimises Σ_m cost_m(x_m) over
each month's operation x_m, subject to each month's physics and the coupling "the state at
the start of month m+1 is the state at the end of month m" (and the given state at the
start). Its objective separates by month, because the demand charge is billed per calendar
month. Dropping the coupling equalities and the end rules only enlarges the feasible set:
the restriction to month m of any feasible point of P is feasible for the relaxed month
problem R_m, so Σ_m min R_m ≤ min P; relaxing integrality enlarges it again; and a dual
bound is ≤ the optimum. The rollout's realised operation (same physics, actual inputs)
is a feasible point of P, so its cost is ≥ min P ≥ this bound. One approximation: an EV
session that crosses a month boundary owes each month its pro-rata share (the optimizer's
rule for horizon boundaries) — at most one session per pile per boundary.

Solving months separately (not the year at once) keeps each model small (≤ 2,976 steps at
15 min) and the optimizer reuses one model per month length (at most four).
"""

from __future__ import annotations

import gc
import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd

from parkgrid.config import Park
from parkgrid.errors import SolverError
from parkgrid.inputs import Inputs
from parkgrid.inputs.tariff import demand_charge_yuan
from parkgrid.model import costs
from parkgrid.model.schedule import ParkState, Schedule, meta_float
from parkgrid.simulate import kpi

METHODS = {
    "monthly_lp": "months solved separately, initial storage state free, end rules dropped, "
                  "LP relaxation of the integers; sum of the months' optima",
    "monthly_milp": "months solved separately, initial storage state free, end rules dropped, "
                    "MILP; sum of the months' dual bounds",
}

ENERGY_KEYS = ("consumption_kwh", "re_generation_kwh", "re_self_used_kwh")
"""Energies of each month's bound dispatch kept beside its cost (they give the bound's
self-sufficiency both ways, :func:`self_sufficiency`)."""

PARTS = costs.LINES
"""Cost lines of each month's solution (:mod:`parkgrid.model.costs`)."""

Solve = Callable[[Inputs, ParkState, bool], Schedule]
"""``solve(inputs, state, relax_integers) -> Schedule`` with metadata 'bound' (dual bound of
the objective, yuan, without tie-break terms), 'status' and 'solve_s'."""


@dataclass
class BoundResult:
    """The bound (``total_cost_yuan``), how it was computed, and its months."""

    method: str
    total_cost_yuan: float
    months: list[dict[str, Any]]
    variants: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(self_sufficiency(self.months))
        out["description"] = METHODS[self.method]
        out["variants_total_cost_yuan"] = out.pop("variants")
        if len(self.variants) == 2:
            lp, milp = self.variants["monthly_lp"], self.variants["monthly_milp"]
            out["gap_between_variants_yuan"] = milp - lp
            out["gap_between_variants_pct"] = 100.0 * (milp - lp) / abs(milp) if milp else 0.0
        return out


def self_sufficiency(months: list[dict[str, Any]]) -> dict[str, float]:
    """The energies (:data:`ENERGY_KEYS`) summed over the months and the self-sufficiency
    both ways (time-matched, annual balance; see :mod:`parkgrid.simulate.kpi`) of the
    bound's dispatch; empty when the months carry no dispatch."""
    if not months or any(key not in m for m in months for key in ENERGY_KEYS):
        return {}
    out = {key: sum(m[key] for m in months) for key in ENERGY_KEYS}
    out["self_sufficiency"] = kpi.ratio(out["re_self_used_kwh"], out["consumption_kwh"])
    out["self_sufficiency_annual"] = kpi.ratio(out["re_generation_kwh"], out["consumption_kwh"])
    return out


def month_segments(start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[pd.Timestamp,
                                                                         pd.Timestamp]]:
    """[start, end) cut at local month starts."""
    cuts = pd.date_range(start.normalize() + pd.offsets.MonthBegin(0), end, freq="MS",
                         tz=start.tz)
    edges = sorted({start, end, *[c for c in cuts if start < c < end]})
    return list(itertools.pairwise(edges))


def perfect_foresight_bound(
    park: Park, inputs: Inputs, start: pd.Timestamp, end: pd.Timestamp,
    variants: tuple[str, ...] = ("monthly_lp",), solve: Solve | None = None,
    report: Callable[[int, int], None] | None = None,
) -> BoundResult:
    """The bound over [start, end) by each method in ``variants``; the highest (all are
    valid lower bounds) is the headline (``method``, ``total_cost_yuan``, ``months``)."""
    started = time.perf_counter()
    solve = solve or optimizer_solve(park)
    segments = month_segments(start, end)
    totals: dict[str, float] = {}
    months: dict[str, list[dict[str, Any]]] = {}
    done, total = 0, len(segments) * len(variants)
    for method in variants:
        if method not in METHODS:
            raise ValueError(f"unknown bound method {method!r}; expected one of {list(METHODS)}")
        rows: dict[pd.Timestamp, dict[str, Any]] = {}
        # months of the same length one after another: one model of each length at a time
        for seg_start, seg_end in sorted(segments, key=lambda seg: (seg[1] - seg[0], seg[0])):
            rows[seg_start] = _month(park, inputs, seg_start, seg_end, method, solve)
            done += 1
            if report is not None:
                report(done, total)
        months[method] = [rows[start] for start, _ in segments]
        rows_list = months[method]
        totals[method] = sum(r["bound_yuan"] + r["fixed_demand_yuan"] for r in rows_list)
    head = max(variants, key=lambda m: totals[m])  # every variant is a valid lower bound
    return BoundResult(head, totals[head], months[head], totals,
                       time.perf_counter() - started)


def _month(park: Park, inputs: Inputs, start: pd.Timestamp, end: pd.Timestamp, method: str,
           solve: Solve) -> dict[str, Any]:
    n = round((end - start) / pd.Timedelta(minutes=park.time_step_minutes))
    window = replace(inputs.window(start, n), park=park)
    state = ParkState.initial(park).for_month(start.month)
    schedule = solve(window, state, method == "monthly_lp")
    meta = schedule.metadata
    status = str(meta.get("termination") or meta.get("status"))
    if method == "monthly_lp" and status != "optimal":
        raise SolverError(f"the LP of {start:%Y-%m} ended '{status}' before its optimum, which "
                          "is then no bound; raise objective.bound_time_limit_s")
    return {
        **_dispatch_energies(schedule.frame, park),
        "month": start.strftime("%Y-%m"), "start": str(start.date()), "steps": n,
        "status": status,
        "bound_yuan": float(meta["bound"]), "objective_yuan": meta_float(meta.get("objective")),
        "fixed_demand_yuan": demand_charge_yuan(0.0, park.tariff),
        "parts_yuan": {k: meta_float(meta.get(k)) for k in PARTS if k in meta},
        "solve_s": meta_float(meta.get("solve_time_s")),
        "build_s": meta_float(meta.get("build_time_s")),
    }


def _dispatch_energies(frame: pd.DataFrame, park: Park) -> dict[str, float]:
    """:data:`ENERGY_KEYS` and the month's self-sufficiency both ways, of the dispatch the
    month's solve found (empty when the solve returned no dispatch)."""
    if "grid_import_kw" not in frame:
        return {}
    k = kpi.energy_kpis(frame, park, kpi.stored_before_kwh(frame, park))
    return {key: k[key] for key in (*ENERGY_KEYS, "self_sufficiency",
                                    "self_sufficiency_annual")}


def optimizer_solve(park: Park) -> Solve:
    """The bound's solve through the optimizer: free initial state, end rules dropped, no
    tie-break terms, ``objective.bound_time_limit_s`` per month. Keeps the model of one
    horizon length at a time (a month's model holds about 0.5 GB)."""
    from parkgrid.optimizer import DayAheadOptimizer, PlanOptions

    held: dict[int, DayAheadOptimizer] = {}

    def solve(inputs: Inputs, state: ParkState, relax: bool) -> Schedule:
        n = len(inputs.index)
        if n not in held:
            held.clear()
            gc.collect()  # the Pyomo model of the previous length holds reference cycles
            held[n] = DayAheadOptimizer(park)
        options = PlanOptions(relax_integers=relax, initial_state="free", tie_break=False,
                              time_limit_s=park.objective.bound_time_limit_s, node_limit=False)
        return held[n].plan(inputs, state, options)

    return solve
