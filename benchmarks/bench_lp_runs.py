"""Where a day-ahead solve's HiGHS time goes, per run kind: the LP relaxation (from the last
basis or afresh, presolved), the LPs of the roundings (integer columns fixed, from the last
basis) and branch and bound — runs per day, simplex iterations and CPU seconds per run.

The park's model is built once and re-solved for ``--days`` days spread over the year from
the park's initial state (as ``bench_scale.py`` does), at its day-ahead MIP gap.

    .venv/bin/python benchmarks/bench_lp_runs.py [--park large|haiyan] [--days 7]
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_scale import park_at

import parkgrid.optimizer.highs as highs
from parkgrid.inputs import build_inputs
from parkgrid.model.schedule import ParkState
from parkgrid.optimizer import DayAheadOptimizer, PlanOptions


def profile(name: str, n_days: int) -> None:
    kind = ["?"]
    runs: dict[str, list[tuple[int, float]]] = collections.defaultdict(list)
    run, relaxed_run, fixed_run = (highs.CompiledModel._run, highs.CompiledModel._relaxed_run,
                                   highs.CompiledModel._fixed_run)

    def timed_run(self: highs.CompiledModel, deadline: float) -> highs._Run:
        warm = self.highs.getBasis().valid
        started = time.process_time()
        result = run(self, deadline)
        label = "branch and bound" if self.active_mip else kind[0]
        if label == "relaxed":
            label += " (from the last basis)" if warm else " (afresh)"
        iterations = max(int(self.highs.getInfo().simplex_iteration_count), 0)
        runs[label].append((iterations, time.process_time() - started))
        return result

    def labelled(method, label: str):
        def wrapper(self, *args, **kwargs):
            kind[0] = label
            try:
                return method(self, *args, **kwargs)
            finally:
                kind[0] = "?"
        return wrapper

    highs.CompiledModel._run = timed_run
    highs.CompiledModel._relaxed_run = labelled(relaxed_run, "relaxed")
    highs.CompiledModel._fixed_run = labelled(fixed_run, "rounding (fixed)")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            park = park_at(name, 15, Path(tmp))
        inputs = build_inputs(park)
        year = inputs.index[0].year
        days = pd.date_range(f"{year}-01-05", f"{year}-12-20", periods=n_days).normalize()
        optimizer = DayAheadOptimizer(park, options=PlanOptions(time_limit_s=60.0))
        n = park.steps_per_day
        model, _ = optimizer.model(n)
        compiled = model.compiled
        cpu, objective = [], 0.0
        for day in days:
            window = inputs.window(pd.Timestamp(day.date()).tz_localize(park.site.timezone), n)
            started = time.process_time()
            plan = optimizer.plan(window, ParkState.initial(park))
            cpu.append(time.process_time() - started)
            objective += plan.metadata["objective"]
    finally:
        highs.CompiledModel._run = run
        highs.CompiledModel._relaxed_run = relaxed_run
        highs.CompiledModel._fixed_run = fixed_run
    print(f"{name}: {compiled.n_cols} columns, {len(compiled.row_lower)} rows, "
          f"{int(compiled.base_integer.sum())} integer; {len(days)} days")
    print(f"call CPU median {np.median(cpu):.3f} s, p95 {np.percentile(cpu, 95):.3f} s; "
          f"Σ objective {objective:,.2f} yuan")
    for label, items in runs.items():
        iterations, seconds = np.array(items).T
        print(f"  {label:32s} {len(items) / len(days):5.2f} runs/day   "
              f"{np.median(iterations):7.0f} iterations   {np.median(seconds):.4f} s CPU "
              f"(medians per run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--park", default="large", choices=["large", "haiyan"])
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    if args.days < 3:
        parser.error("--days must be at least 3 (medians of ≥ 3 solves)")
    profile(args.park, args.days)


if __name__ == "__main__":
    main()
