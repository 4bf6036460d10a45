"""Benchmark: regret against the perfect-foresight bound, day-ahead only vs intraday
re-planning (MPC), for one park and period.

For each forecast (noisy, by default) it runs the MILP strategy day-ahead only and with
``--replan-every`` (default 1 h) on the same actuals, with the perfect-foresight bound
(monthly LP relaxation unless ``--milp-bound``) and no baselines, and prints each run's
total cost, its regret (% of the bound) and its wall time. ``--repeat N`` repeats the
runs and prints medians.

    .venv/bin/python benchmarks/bench_replan.py [--park models/haiyan.yaml]
        [--start 2025-07-01] [--days 14] [--every 1h] [--forecast noisy] [--seed 0]
        [--repeat 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from parkgrid.config import load_park
from parkgrid.inputs import build_inputs
from parkgrid.simulate.rollout import replan_steps
from parkgrid.simulate.run import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--park", default="models/haiyan.yaml")
    parser.add_argument("--start", default="2025-07-01")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--every", default="1h")
    parser.add_argument("--forecast", default="noisy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    park = load_park(args.park)
    inputs = build_inputs(park, pd.Timestamp(args.start).year)
    every = replan_steps(args.every, park)
    rows: dict[str, list[tuple[float, float, float]]] = {"day-ahead": [], args.every: []}
    for _ in range(args.repeat):
        for label, steps in (("day-ahead", None), (args.every, every)):
            started = time.perf_counter()
            result = run(park, args.start, args.days, args.forecast, "milp", args.seed,
                         inputs=inputs, baselines=(), keep_schedules=False, parallel=False,
                         replan_every=steps)
            wall = time.perf_counter() - started
            comparison = result.kpis["comparison"]
            rows[label].append((result.kpis["strategy"]["total_cost_yuan"],
                                comparison["regret_pct"], wall))
    print(f"{park.name}: {args.days} days from {args.start}, {args.forecast} forecasts, "
          f"seed {args.seed}, medians of {args.repeat} (shared 2-core machine)")
    print(f"{'planning':<12} {'cost (yuan)':>14} {'regret %':>9} {'wall s':>8}")
    for label, runs in rows.items():
        cost, regret, wall = (statistics.median(v) for v in zip(*runs, strict=True))
        print(f"{label:<12} {cost:>14,.0f} {regret:>9.2f} {wall:>8.1f}")


if __name__ == "__main__":
    main()
