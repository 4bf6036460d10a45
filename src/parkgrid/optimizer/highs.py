"""The Pyomo model compiled once into a persistent HiGHS instance (highspy), re-solved per horizon.

Pyomo's ``LinearStandardFormCompiler`` turns the model into a sparse matrix once; the blocks'
data slots are resolved to column and row indices, so a new horizon is a handful of
vectorised ``changeColsBounds`` / ``changeRowsBounds`` / ``changeColsCost`` calls and a run.

Why not Pyomo's persistent HiGHS interface (``pyomo.contrib.solver`` 'highs')? Measured on
the Haiyan model (LP relaxation, 10 days) its per-day update + solve took 0.028 s against
0.031 s here including netting and the schedule frame — speed is not the reason. The
reasons: relax-and-round (below) switches integrality and fixes columns between runs and
hands HiGHS a starting solution; the direction big-Ms are matrix coefficients that change
per day; and HiGHS checks an LP's time limit against its run-time clock, which accumulates
over the life of the ``Highs`` object, but a MIP's per run — Pyomo sets the limit as given,
so once a year's re-solves have used it up every LP stops at once. Here the limit is set per
run kind, and solve times are differences of ``getRunTime()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from parkgrid.optimizer.core import ROW_SENSE, TIE_BREAK_YUAN_PER_KWH, Build

INF = highspy.kHighsInf
ROUND_UP_FROM = (1e-6, 0.5)
"""Relax-and-round tries: round a binary (or a count of units) up from these fractions, in
turn until one is within :data:`UP_ENOUGH_SHARE` of ``mip_gap``."""
UP_ENOUGH_SHARE = 0.1
"""An up-rounding this close to the relaxation (share of ``mip_gap``) is not followed by the
next. Measured on Haiyan's perfect-forecast year (`benchmarks/bench_perfect.py --park
models/haiyan.yaml`): rollout CPU 26.7 → 22.7 s, cost 7,218,925.0 → 7,218,971.6 yuan
(+0.0006 %; at a share of 0.5: 20.7 s, 7,220,663.7 yuan); 365 of its noisy-forecast rollout
horizons replayed: 1,189 → 1,103 LPs."""
SPREAD_SCALES = (1.0, 1.25, 1.5, 2.0, 3.0)
"""Tank-aware tries for units with a minimum part load (see :func:`spread_count`), in turn
until one is within the gap: the relaxed count of units on is scaled by these factors before
it is spread into whole units (1: units at full output, 4: at a 25 % minimum part load).
Measured on the 21 slowest Dameisha horizons of January–February 2025 (`benchmarks/
bench_hard_days.py`): the up-rounding tries lay 0.7–60 % above the LP bound on every one;
the best of these within 0.5 % on 12 of them. With :data:`REPAIRS` (measured on the 126
Dameisha horizons of 2025 slower than 0.1 s): within 0.5 % on 51 of them (19 without the
repairs); 1.25 added, 4 dropped (it was never within the gap)."""
REPAIRS = 3
"""A spread rounding that leaves a shortfall (e.g. cooling unserved while the units are off
and the tank is empty) is repaired up to this many times: one unit more at each step short,
and the LP solved again."""
ACCEPT_GAP_SHARE = 0.5
"""Relax-and-round ends the solve with a rounding within this share of ``mip_gap``; one
within the gap but not this close starts branch and bound as its incumbent (up-roundings
were accepted at the full gap until the grid's direction rows tightened the relaxation:
then Haiyan's 60 slowest rollout horizons of 2025, replayed, cost Σ −147,564.9 yuan
against −148,159.1 before, and −148,099.3 with this share). Measured (on spread and
up-roundings alike) on 122 Dameisha horizons of 2025 (replayed): the same CPU as
accepting at the full gap (48.8 vs 48.9 s, branch and bound from such a start is short)
and Σ objective 141,673.5 against 141,723.3 yuan: accepting at the full gap cost
+0.04 % on a perfect-forecast year."""
FRESH_FIXED_SHARE = 0.5
"""A horizon whose data fix this share of the model's columns (lower = upper: e.g. EV piles
without a car) solves its LP relaxation afresh, presolved, instead of from the last basis.
Measured (`benchmarks/bench_scale.py`'s large park, 100 piles, 54–66 % fixed): 0.21 s CPU
afresh against 0.45 s from the basis of the day before; Haiyan (30–45 % fixed): 0.027 s
afresh against 0.015 s from the basis."""
CYCLE_LATE = (0.0, 0.5, 1.0)
"""Cycling tries for units with a minimum part load and known outputs (see
:func:`cycle_count`), all made after the spreads: a unit starts once this share of its
minimum output is owed. Measured on the 30 slowest Dameisha horizons of 2025 (replayed,
`benchmarks/bench_hard_days.py --top 30`): each of the three is the best on some; their best
lay within 0.5 % of the relaxation on 15 of the 30, where the spreads had sent all 30 to
branch and bound. All three are tried even after a spread within the gap (up to three
roundings more on such days): Dameisha's perfect-forecast year 1.384 % above the bound,
against 1.407 % when they were tried only until one was within :data:`ACCEPT_GAP_SHARE`
(`bench_perfect.py`)."""
SHORTFALL_KW = 1e-3
"""A shortfall slack above this is a step to repair."""
MIP_OPTIONS = {"mip_heuristic_run_root_reduced_cost": False}
"""HiGHS options for branch and bound. The root reduced-cost heuristic is off: it never found
the incumbent on the hard chiller days, where the start comes from relax-and-round. Measured
on all 365 horizons of Dameisha's 2025 rollout (replayed): CPU 48.0 → 41.1 s, Σ objective
561,611.7 → 561,606.7 yuan; on Haiyan's 365 the same Σ objective."""
_NO_LIMIT = 2**31 - 1  # HiGHS's default (no) node limit
_INTEGER = highspy.HighsVarType.kInteger
_CONTINUOUS = highspy.HighsVarType.kContinuous


@dataclass
class SolveResult:
    status: str  # 'optimal' | 'time_limit' | other HiGHS model status names
    has_solution: bool
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    solve_time_s: float  # HiGHS run time of this solve
    is_mip: bool
    nodes: int


class CompiledModel:
    """One model in HiGHS; ``push`` per-horizon data, then ``solve``."""

    def __init__(self, model: pyo.ConcreteModel, ctx: Build, threads: int | None = None) -> None:
        form = LinearStandardFormCompiler().write(model, mixed_form=True)
        columns = list(form.columns)  # not kept: they would hold the whole Pyomo model
        self.n_cols = len(columns)
        col_of = {id(v): i for i, v in enumerate(columns)}
        row_of = {id(r.constraint): i for i, r in enumerate(form.rows)}
        senses = np.array([r.bound_type for r in form.rows], dtype=int)
        rhs = np.asarray(form.rhs, dtype=float)
        self.row_lower = np.where(senses == 1, -INF, rhs)
        self.row_upper = np.where(senses == -1, INF, rhs)
        self.col_lower = np.array([-INF if v.lb is None else v.lb for v in columns], float)
        self.col_upper = np.array([INF if v.ub is None else v.ub for v in columns], float)
        self.cost = np.asarray(form.c.toarray()[0], dtype=float) if form.c.shape[0] else \
            np.zeros(self.n_cols)
        self.base_cost = self.cost.copy()
        self.active_cost = self.cost
        self.tie_cost = np.zeros(self.n_cols)
        for v in ctx.tie_breaks:
            self.tie_cost[col_of[id(v)]] += TIE_BREAK_YUAN_PER_KWH * ctx.step_h
        self.base_integer = np.array([v.is_integer() for v in columns], dtype=bool)
        self.matrix = form.A.tocsc()
        self.slots = {key: (s.kind, self._resolve(key, s.kind, s.items, col_of, row_of, senses))
                      for key, s in ctx.slots.items()}
        self.outputs = {key: np.array([col_of[id(v)] for v in items], dtype=np.int64)
                        for key, items in ctx.outputs.items()}
        self.by_sign = [tuple(np.array([col_of[id(v)] for v in group], dtype=np.int64)
                              for group in groups) for groups in ctx.sign_rounded]
        self.by_count = [
            _CountGroup(np.array([[col_of[id(v)] for v in unit] for unit in units], np.int64),
                        np.array([col_of[id(v)] for v in shortfall], np.int64),
                        np.array([[col_of[id(v)] for v in unit] for unit in outputs],
                                 np.int64).reshape(len(outputs), -1), *output_kw)
            for units, shortfall, outputs, output_kw in ctx.count_rounded]
        self.step_h = ctx.step_h
        self.covers = [_Cover(np.array([[col_of[id(v)] for v in u] for u in units], np.int64),
                              capacity_kw, np.array([row_of[id(r)] for r in rows], np.int64),
                              np.array([[col_of[id(v)] for v in f] for f in free], np.int64),
                              -1 if start is None else col_of[id(start)])
                       for units, capacity_kw, rows, free, start in ctx.covers]
        self.integer = self.base_integer.copy()
        self.candidates = np.flatnonzero(self.base_integer | self._slot_mask("integer"))
        self.last: np.ndarray | None = None  # the values of the last solution returned
        self.highs = self._load(threads)

    def _resolve(self, key: str, kind: str, items: list, col_of: dict, row_of: dict,
                 senses: np.ndarray) -> np.ndarray:
        if kind == "coef":  # (row, column, position in the CSC data)
            pairs = [(row_of[id(c)], col_of[id(v)]) for c, v in items]
            return np.array([(r, c, self._position(r, c)) for r, c in pairs], dtype=np.int64)
        if kind in ROW_SENSE:
            idx = np.array([row_of[id(c)] for c in items], dtype=np.int64)
            if np.any(senses[idx] != ROW_SENSE[kind]):
                raise ValueError(f"data slot {key!r}: rows are not all of kind {kind}")
            return idx
        return np.array([col_of[id(v)] for v in items], dtype=np.int64)

    def _position(self, row: int, col: int) -> int:
        """Where the coefficient (row, col) sits in the kept CSC matrix's data."""
        start, end = self.matrix.indptr[col], self.matrix.indptr[col + 1]
        hits = np.flatnonzero(self.matrix.indices[start:end] == row)
        if not hits.size:
            raise ValueError(f"no coefficient at row {row}, column {col} to update")
        return int(start + hits[0])

    def _slot_mask(self, kind: str) -> np.ndarray:
        mask = np.zeros(self.n_cols, dtype=bool)
        for k, idx in self.slots.values():
            if k == kind:
                mask[idx] = True
        return mask

    def _load(self, threads: int | None) -> highspy.Highs:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        if threads is not None:
            h.setOptionValue("threads", threads)
        for option, value in MIP_OPTIONS.items():
            h.setOptionValue(option, value)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, len(self.row_lower)
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = self.cost, self.col_lower, self.col_upper
        lp.row_lower_, lp.row_upper_ = self.row_lower, self.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = self.matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = self.matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = self.matrix.data.astype(float)
        h.passModel(lp)
        self._apply_integrality(h, self.base_integer)
        return h

    def _apply_integrality(self, h: highspy.Highs, integer: np.ndarray) -> None:
        self.active_mip = bool(integer.any())
        idx = self.candidates
        if idx.size:
            kinds = np.where(integer[idx], _INTEGER, _CONTINUOUS)
            h.changeColsIntegrality(idx.size, idx.astype(np.int32), kinds)

    def push(self, data: dict[str, np.ndarray], relax_integers: bool = False,
             tie_break: bool = True) -> None:
        """Write one horizon's data (every slot's values) into the HiGHS model."""
        missing = sorted(set(self.slots) - set(data))
        if missing:
            raise KeyError(f"no data for slots {missing}")
        self._check_shapes(data)  # before anything is written: the arrays mirror HiGHS
        before = (self.col_lower.copy(), self.col_upper.copy(), self.row_lower.copy(),
                  self.row_upper.copy(), self.active_cost.copy())
        self.cost[:] = self.base_cost if tie_break else self.base_cost - self.tie_cost
        integer = self.base_integer.copy()
        for key, (kind, idx) in self.slots.items():
            values = np.asarray(data[key], dtype=float)
            target = {"col_lower": self.col_lower, "col_upper": self.col_upper,
                      "cost": self.cost, "integer": None}.get(kind)
            if kind == "coef":
                changed = np.flatnonzero(self.matrix.data[idx[:, 2]] != values)
                for (row, col, _), value in zip(idx[changed].tolist(),
                                                values[changed].tolist(), strict=True):
                    self.highs.changeCoeff(row, col, value)
                self.matrix.data[idx[:, 2]] = values
                continue
            if kind == "integer":
                integer[idx] = values > 0.5
            elif target is not None:
                target[idx] = values
            elif kind == "row_lower":
                self.row_lower[idx] = values
            elif kind == "row_upper":
                self.row_upper[idx] = values
            else:  # row_fix
                self.row_lower[idx] = self.row_upper[idx] = values
        if relax_integers:
            integer[:] = False
        self._write_changes(*before)
        self.active_cost = self.cost
        if not np.array_equal(integer, self.integer):
            self._apply_integrality(self.highs, integer)
            self.integer = integer

    def _check_shapes(self, data: dict[str, np.ndarray]) -> None:
        """Raise ValueError naming the first slot whose values do not fit its items."""
        for key, (kind, idx) in self.slots.items():
            shape = np.shape(data[key])
            expected = idx.shape[:1] if kind == "coef" else idx.shape
            if shape != expected:
                raise ValueError(f"data slot {key!r}: {shape} values for {expected} items")

    def _write_changes(self, col_lower: np.ndarray, col_upper: np.ndarray,
                       row_lower: np.ndarray, row_upper: np.ndarray, cost: np.ndarray) -> None:
        """Write into HiGHS the bounds and costs that differ from the ones it has (given):
        HiGHS's update calls cost time per entry (a large park's full-length calls took
        more than the rest of ``push``)."""
        h = self.highs
        cols = np.flatnonzero((self.col_lower != col_lower) | (self.col_upper != col_upper))
        if cols.size:
            h.changeColsBounds(cols.size, cols.astype(np.int32), self.col_lower[cols],
                               self.col_upper[cols])
        rows = np.flatnonzero((self.row_lower != row_lower) | (self.row_upper != row_upper))
        if rows.size:
            h.changeRowsBounds(rows.size, rows.astype(np.int32), self.row_lower[rows],
                               self.row_upper[rows])
        cols = np.flatnonzero(self.cost != cost)
        if cols.size:
            h.changeColsCost(cols.size, cols.astype(np.int32), self.cost[cols])

    def set_costs(self, cost: np.ndarray) -> None:
        """Replace the whole objective (used by the Pareto front); ``push`` restores it."""
        n = self.n_cols
        self.active_cost = np.asarray(cost, float)
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), self.active_cost)

    def solve(self, time_limit_s: float, mip_gap: float,
              max_nodes: int | None = None) -> SolveResult:
        """Solve the pushed data: an LP directly; a MIP through relax-and-round first.

        The LP relaxation gives a bound. Its binaries rounded (up from a threshold: a
        chiller on wherever the relaxation runs it; for interchangeable chillers, their
        count; the grid direction by the sign of the relaxed net import) and the LP
        re-solved with them fixed give schedules — always feasible thanks to over-cooling,
        curtailment and the slacks. When none is within ``mip_gap`` of the bound and the
        park has units with a minimum part load, their relaxed counts are spread into whole
        units run ahead of the need (:data:`SPREAD_SCALES`, until one is close enough),
        then their relaxed outputs cycled into whole units at or above their minimum
        (:data:`CYCLE_LATE`): the relaxation runs such units at fractions of their minimum,
        which rounding up turns into units at their minimum all day long and rounding down
        into unmet cooling. The best is returned as proven when it lies within
        :data:`ACCEPT_GAP_SHARE` of ``mip_gap`` of the bound, else it
        starts the branch and bound as its incumbent, which also gets the cover
        inequalities the relaxation violates (:meth:`cover_rows`).
        (Measured on the Haiyan park: a MIP without this start spends most of its time in
        sub-MIP heuristics looking for what the rounding finds in two LP solves.)

        The gap is relative to the larger of |objective| and the horizon's gross cost
        (Σ |cost × value| of the relaxed solution): a day whose export revenue offsets its
        purchases has a net objective near 0, where a gap relative to it alone would send a
        day solved to a few yuan to the time limit. ``max_nodes``: branch and bound's node
        limit (the park's ``objective.mip_max_nodes``; None: none).
        """
        clock = self.highs.getRunTime()
        deadline = clock + time_limit_s
        if not self.integer.any():
            run = self._run(deadline)
            return self._result(run, run.status, run.objective, 0.0, clock, False)
        relaxed = self._relaxed_run(deadline)
        if relaxed.status != "optimal":  # stopped short: its objective bounds nothing
            relaxed = _Run(relaxed.status, False, None, None, 0)
        best: _Run | None = None
        gross = 0.0
        if relaxed.has_solution:
            gross = float(np.abs(self.active_cost * relaxed.values).sum())
            best = self._relax_and_round(relaxed, deadline, mip_gap, gross)
            if best is not None and _within(best, relaxed, gross, mip_gap * ACCEPT_GAP_SHARE):
                gap = _gap(best.objective, relaxed.objective, gross)
                return self._result(best, "optimal", relaxed.objective, gap, clock, True)
        # HiGHS stops at either gap: together, mip_gap × max(|objective|, gross)
        self.highs.setOptionValue("mip_rel_gap", mip_gap)
        self.highs.setOptionValue("mip_abs_gap", max(mip_gap * gross, 1e-6))
        self.highs.setOptionValue("mip_max_nodes", _NO_LIMIT if max_nodes is None else max_nodes)
        added = self._add_cover_rows(relaxed.values)  # first: it drops a start set
        try:
            if best is not None:
                self._set_start(best)
            run = self._run(deadline)
            bound: float | None = self.highs.getInfo().mip_dual_bound
        finally:  # the cuts hold for this horizon's data only
            if added:
                first = len(self.row_lower)
                self.highs.deleteRows(added, np.arange(first, first + added, dtype=np.int32))
        if relaxed.objective is not None:
            bound = max(bound, relaxed.objective) if np.isfinite(bound) else relaxed.objective
        elif not np.isfinite(bound):
            bound = None
        status = run.status
        if not run.has_solution and best is not None:
            run = best  # stopped (time or node limit) before the start was taken in
        return self._result(run, status, bound, _gap(run.objective, bound, gross), clock, True)

    def _relax_and_round(self, relaxed: _Run, deadline: float, mip_gap: float,
                         gross: float) -> _Run | None:
        """The best rounding of the ``relaxed`` solution (or the last solution, if it fits):
        the up-roundings (:data:`ROUND_UP_FROM`), then, unless one is within
        :data:`ACCEPT_GAP_SHARE` of ``mip_gap``, the spreads and cycles."""
        seen: dict[bytes, _Run | None] = {}  # the LP of a rounding is solved once
        best = self._previous()
        for up_from in ROUND_UP_FROM:  # in turn, until one is close enough
            if _within(best, relaxed, gross, mip_gap * UP_ENOUGH_SHARE):
                break
            best = _best([best, self._rounded_run(relaxed, deadline, up_from, seen=seen)])
        goal = mip_gap * ACCEPT_GAP_SHARE
        if _within(best, relaxed, gross, goal):
            return best
        best = self._spread_tries(relaxed, deadline, seen, best, gross, goal)
        return self._cycle_tries(relaxed, deadline, seen, best)

    def cover_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The cover inequalities of the pushed horizon (CSR: lower bounds, row starts,
        columns, values), one per step whose demand so far exceeds the store's start level.

        Up to step t the units, the free supply and the store meet the demand so far,
        ``Σ_{s≤t} d_s·Δt``; the store gives at most its start level (losses only take), so
        ``N_t + F_t ≥ b_t`` with N_t the unit-steps on so far (an integer), F_t the free
        supply so far over a unit's capacity and ``b_t = (Σ d·Δt − start) / (capacity·Δt)``.
        Its mixed-integer rounding ``f·N_t + F_t ≥ f·⌈b_t⌉`` (f = b_t − ⌈b_t⌉ + 1) cuts off
        the relaxation's fractions of a unit where a whole one must run: e.g. with an empty
        tank at midnight a chiller must be on in the first step, at least at its minimum
        part load, whatever the demand charge."""
        lower, starts, index, value = [], [0], [], []
        for c in self.covers:
            demand_kwh = np.cumsum(self.row_lower[c.rows]) * self.step_h
            stored_kwh = self.col_upper[c.start] if c.start >= 0 else 0.0
            need_unit_steps = (demand_kwh - stored_kwh) / (c.capacity_kw * self.step_h)
            for t in np.flatnonzero(need_unit_steps > 1e-6).tolist():
                whole = math.ceil(need_unit_steps[t] - 1e-9)
                share = need_unit_steps[t] - whole + 1.0
                units, free = c.units[:, :t + 1].ravel(), c.free[:t + 1].ravel()
                lower.append(share * whole)
                index += [units, free]
                value += [np.full(units.size, share), np.full(free.size, 1.0 / c.capacity_kw)]
                starts.append(starts[-1] + units.size + free.size)
        if not lower:
            return np.zeros(0), np.zeros(1, np.int32), np.zeros(0, np.int32), np.zeros(0)
        return (np.array(lower), np.array(starts, np.int32),
                np.concatenate(index).astype(np.int32), np.concatenate(value))

    def _add_cover_rows(self, relaxed: np.ndarray | None) -> int:
        """Add those :meth:`cover_rows` that cut off the ``relaxed`` solution to the HiGHS
        model (for one branch and bound; the others would only slow its LPs); returns how
        many."""
        lower, starts, index, value = self.cover_rows()
        if relaxed is not None and lower.size:
            activity = np.add.reduceat(value * relaxed[index], starts[:-1])
            cut = activity < lower - 1e-6
            lengths = np.diff(starts)[cut]
            keep = np.repeat(cut, np.diff(starts))
            lower, index, value = lower[cut], index[keep], value[keep]
            starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        else:
            lower = np.zeros(0)
        if lower.size:
            self.highs.addRows(lower.size, lower, np.full(lower.size, INF), index.size,
                               starts[:-1], index, value)
        return int(lower.size)

    def _spread_tries(self, relaxed: _Run, deadline: float, seen: dict[bytes, _Run | None],
                      best: _Run | None, gross: float, goal: float) -> _Run | None:
        """The best of ``best`` and the spread roundings (:data:`SPREAD_SCALES` in turn,
        until one is within ``goal`` of the relaxation or they get worse)."""
        previous: float | None = None  # the last spread's objective
        for scale in SPREAD_SCALES if self.by_count else ():
            if _within(best, relaxed, gross, goal):
                break
            spread = self._rounded_run(relaxed, deadline, 1e-6, scale, seen)
            objective = spread.objective if spread else None
            if objective is not None and previous is not None and objective > previous:
                break  # past the best scale: the next are further off
            previous = objective if objective is not None else previous
            best = _best([best, spread])
        return best

    def _cycle_tries(self, relaxed: _Run, deadline: float, seen: dict[bytes, _Run | None],
                     best: _Run | None) -> _Run | None:
        """The best of ``best`` and the cycled roundings (every one of :data:`CYCLE_LATE`),
        for units whose outputs are known."""
        for late_share in CYCLE_LATE if any(g.outputs.size for g in self.by_count) else ():
            best = _best([best, self._rounded_run(relaxed, deadline, 1e-6, seen=seen,
                                                  cycle=late_share)])
        return best

    def _previous(self) -> _Run | None:
        """The last solution, if it is feasible for the data pushed now (as in a Pareto
        front run from the lowest CO2 cap up, where each solution fits the next cap)."""
        x = self.last
        if x is None:
            return None
        tol = 1e-6 * (1.0 + np.abs(x))
        rows = self.matrix @ x
        row_tol = 1e-6 * (1.0 + np.abs(rows))
        cols = np.flatnonzero(self.integer)
        outside = (np.any(x < self.col_lower - tol) or np.any(x > self.col_upper + tol)
                   or np.any(rows < self.row_lower - row_tol)
                   or np.any(rows > self.row_upper + row_tol))
        if outside or np.any(np.abs(x[cols] - np.round(x[cols])) > 1e-6):
            return None
        objective = float(np.dot(self.active_cost, x))
        return _Run("optimal", True, x, objective, 0)

    def _set_start(self, run: _Run) -> None:
        start = highspy.HighsSolution()
        start.col_value = run.values
        start.value_valid = True
        self.highs.setSolution(start)

    def _run(self, deadline: float) -> _Run:
        """One HiGHS run that stops at ``deadline`` on the run-time clock."""
        h = self.highs
        left = max(deadline - h.getRunTime(), 1e-6)
        h.setOptionValue("time_limit", left if self.active_mip else h.getRunTime() + left)
        h.run()
        info = h.getInfo()
        has = info.primal_solution_status == 2
        return _Run(_status_name(h.getModelStatus()), has,
                    np.asarray(h.getSolution().col_value, dtype=float) if has else None,
                    info.objective_function_value if has else None,
                    max(int(info.mip_node_count), 0))

    def _relaxed_run(self, deadline: float) -> _Run:
        """The LP relaxation, from the last run's basis — or afresh (HiGHS presolves it) when
        the horizon's data fix at least :data:`FRESH_FIXED_SHARE` of the columns."""
        self._apply_integrality(self.highs, np.zeros_like(self.integer))
        if np.mean(self.col_lower == self.col_upper) >= FRESH_FIXED_SHARE:
            self.highs.clearSolver()
        try:
            return self._run(deadline)
        finally:
            self._apply_integrality(self.highs, self.integer)

    def _rounded_run(self, relaxed: _Run, deadline: float, up_from: float,
                     spread: float | None = None,
                     seen: dict[bytes, _Run | None] | None = None,
                     cycle: float | None = None) -> _Run | None:
        """The LP with every integer column fixed to its relaxed value rounded up from
        ``up_from`` (binaries and counts of interchangeable units), or by the sign rule a
        block registered; with ``spread``, the counts of units are spread instead
        (:func:`spread_count` with that scale) and repaired where they fall short
        (:data:`REPAIRS`; the best run is returned); with ``cycle``, the relaxed outputs of
        the units are cycled instead (:func:`cycle_count` with that lateness), and repaired
        alike. ``seen``: the runs of the roundings
        tried before, by their fixed values (a rounding met again is not solved again)."""
        values = relaxed.values
        assert values is not None
        counts = []  # units × steps
        for g in self.by_count:
            relaxed_count = values[g.units].sum(axis=0)
            if cycle is not None and g.outputs.size:
                counts.append(cycle_count(values[g.outputs].sum(axis=0), len(g.units),
                                          (g.min_kw, g.capacity_kw), cycle))
            elif spread is not None:
                counts.append(spread_count(relaxed_count, len(g.units), spread))
            else:
                counts.append(np.floor(relaxed_count + 1.0 - up_from))
        run = self._fixed_run(relaxed, deadline, up_from, counts, seen)
        best = run
        for _ in range(REPAIRS if spread is not None or cycle is not None else 0):
            if run is None or not _add_units(counts, self.by_count, run.values):
                break
            run = self._fixed_run(relaxed, deadline, up_from, counts, seen)
            best = _best([best, run])
        return best

    def _fixed_run(self, relaxed: _Run, deadline: float, up_from: float,
                   counts: list[np.ndarray], seen: dict[bytes, _Run | None] | None
                   ) -> _Run | None:
        """The LP with the integer columns fixed: binaries rounded up from ``up_from`` or by
        the sign rule, units switched on by ``counts`` (one per :attr:`by_count` group)."""
        values = relaxed.values
        assert values is not None
        rounded = np.floor(values + 1.0 - up_from)
        for binaries, positive, negative in self.by_sign:
            rounded[binaries] = values[positive] >= values[negative]
        for g, count in zip(self.by_count, counts, strict=True):
            rounded[g.units] = np.arange(len(g.units))[:, None] < count[None, :]
        idx = np.flatnonzero(self.integer)
        fixed = rounded[idx].clip(self.col_lower[idx], self.col_upper[idx])
        key = fixed.tobytes()
        if seen is not None and key in seen:
            return seen[key]
        if self.highs.getRunTime() >= deadline:
            return None  # out of time: no more roundings
        h, cols = self.highs, idx.astype(np.int32)
        self._apply_integrality(h, np.zeros_like(self.integer))
        h.changeColsBounds(idx.size, cols, fixed, fixed)
        try:
            run = self._run(deadline)
        finally:
            h.changeColsBounds(idx.size, cols, self.col_lower[idx], self.col_upper[idx])
            self._apply_integrality(h, self.integer)
        found = run if run.has_solution and run.status == "optimal" else None
        if seen is not None:
            seen[key] = found
        return found

    def _result(self, run: _Run, status: str, bound: float | None, gap: float | None,
                clock: float, is_mip: bool) -> SolveResult:
        self.last = run.values
        return SolveResult(
            status=status, has_solution=run.has_solution, values=run.values,
            objective=run.objective, bound=bound, gap=gap if run.has_solution else None,
            solve_time_s=self.highs.getRunTime() - clock,
            is_mip=is_mip, nodes=run.nodes,
        )

    def read(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """Every declared output's solution values (solver noise below 1e-9 set to 0)."""
        clean = np.where(np.abs(values) < 1e-9, 0.0, values)
        return {key: clean[idx] for key, idx in self.outputs.items()}


@dataclass
class _CountGroup:
    """A :meth:`.core.Build.round_as_count` resolved: the units' binaries and outputs (units ×
    steps; outputs 0 × 0 when not given), the shortfall columns, a unit's minimum output and
    capacity when on (kW, or kW_th for chillers)."""

    units: np.ndarray
    shortfall: np.ndarray
    outputs: np.ndarray
    min_kw: float
    capacity_kw: float


@dataclass
class _Cover:
    """A :meth:`.core.Build.cover` resolved: unit binaries (units × steps), a unit's
    capacity (kW, or kW_th for chillers), the demand rows, the free supply columns
    (steps × k), the store's start column (-1: none)."""

    units: np.ndarray
    capacity_kw: float
    rows: np.ndarray
    free: np.ndarray
    start: int


@dataclass
class _Run:
    status: str
    has_solution: bool
    values: np.ndarray | None
    objective: float | None
    nodes: int


def spread_count(relaxed: np.ndarray, units: int, scale: float) -> np.ndarray:
    """Whole numbers of units on per step that run ``scale`` × the relaxed count over time,
    early rather than late: each step switches on as many units (at most ``units``) as the
    count owed so far rounds up to, and what runs ahead is owed less later.

    A relaxation runs units with a minimum part load at fractions of it (e.g. 0.1 of a
    chiller for hours); whole units switched on for a few steps at that rate, ahead of the
    need, store the surplus (the chilled-water tank) for the steps they are off."""
    count = np.zeros(len(relaxed))
    owed = 0.0
    for t, value in enumerate(relaxed.tolist()):
        owed += scale * value
        count[t] = min(units, max(0, math.ceil(owed - 1e-6)))
        owed -= count[t]
    return count


def cycle_count(output_kw: np.ndarray, units: int, unit_range_kw: tuple[float, float],
                late_share: float) -> np.ndarray:
    """Whole numbers of units on per step that produce the relaxed ``output_kw`` over time,
    each unit on between its minimum and its capacity (``unit_range_kw``): each step switches on
    as many units (at most ``units``) as the output owed so far needs at capacity, and what
    they make above it (at least their minimum) is owed less later. A unit starts once
    ``late_share`` × its minimum is owed (0: at once; 1: a whole minimum's worth, drawn from
    storage meanwhile).

    A relaxation serves a need below a unit's minimum with a fraction of a unit; the whole
    units cycled on and off at or above their minimum store the surplus (the chilled-water
    tank) for the steps they are off."""
    lo_kw, hi_kw = unit_range_kw
    count = np.zeros(len(output_kw))
    owed = 0.0
    for t, value in enumerate(output_kw.tolist()):
        owed += value
        if owed <= 1e-6 or owed < late_share * lo_kw - 1e-6:
            continue
        count[t] = min(units, math.ceil(owed / hi_kw - 1e-9))
        owed -= min(max(owed, count[t] * lo_kw), count[t] * hi_kw)
    return count


def _add_units(counts: list[np.ndarray], groups: list[_CountGroup],
               values: np.ndarray | None) -> bool:
    """One unit more (in the first group with one left) at every step whose shortfall in
    ``values`` is positive; whether any was added."""
    if values is None:
        return False
    added, values = False, values.copy()
    for count, g in zip(counts, groups, strict=True):
        short = (values[g.shortfall] > SHORTFALL_KW) & (count < len(g.units))
        count[short] += 1
        values[g.shortfall[short]] = 0.0  # served now: not again by a later group
        added |= bool(short.any())
    return added


def _best(runs: list[_Run | None]) -> _Run | None:
    found = [r for r in runs if r is not None]
    return min(found, key=lambda r: r.objective) if found else None


def _within(run: _Run | None, relaxed: _Run, gross: float, goal: float) -> bool:
    """Whether ``run`` is within the relative gap ``goal`` of the ``relaxed`` bound."""
    gap = _gap(run.objective if run else None, relaxed.objective, gross)
    return gap is not None and gap <= goal


def _gap(objective: float | None, bound: float | None, gross: float = 0.0) -> float | None:
    """Relative MIP gap: |objective − bound| / max(|objective|, ``gross``) (HiGHS's relative
    gap when ``gross`` is 0)."""
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), gross, 1e-9)


def _status_name(status: highspy.HighsModelStatus) -> str:
    names = {highspy.HighsModelStatus.kOptimal: "optimal",
             highspy.HighsModelStatus.kTimeLimit: "time_limit",
             highspy.HighsModelStatus.kSolutionLimit: "node_limit",  # objective.mip_max_nodes
             highspy.HighsModelStatus.kInfeasible: "infeasible"}
    return names.get(status, str(status).rsplit(".", 1)[-1].removeprefix("k").lower())
