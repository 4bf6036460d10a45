"""Benchmark: the perfect-forecast distance to the bound — a year's MILP rollout with
perfect forecasts (no baselines) against the perfect-foresight bound (monthly LPs) of the
same period. The planner's quality, free of forecast error: what the day-by-day plans give
away to the bound (horizon cut, the MIP gap, relax-and-round).

    .venv/bin/python benchmarks/bench_perfect.py [--park models/dameisha.yaml]
        [--start 2025-01-01] [--days N] [--time-limit S] [--mip-gap G]

Prints the rollout's cost, the bound, the distance (%) and the CPU and wall of the rollout.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from bench_rollout import distance_pct, ended_by, perfect_run  # a sibling script (on the path)

from parkgrid.config import load_park
from parkgrid.inputs import build_inputs
from parkgrid.simulate.bound import perfect_foresight_bound

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--park", default=str(ROOT / "models" / "dameisha.yaml"))
    parser.add_argument("--start", default=None, help="first day (default: 1 January)")
    parser.add_argument("--days", type=int, default=None, help="default: the whole year")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="MILP time limit per day, s (default: the park's objective)")
    parser.add_argument("--mip-gap", type=float, default=None,
                        help="relative MIP gap per day (default: the park's objective)")
    args = parser.parse_args()

    park = load_park(args.park)
    options = {key: value for key, value in (("time_limit_s", args.time_limit),
                                              ("mip_gap", args.mip_gap)) if value is not None}
    inputs = build_inputs(park, int(args.start[:4]) if args.start else park.year)
    wall, cpu = time.perf_counter(), time.process_time()
    result = perfect_run(park, inputs, args.start, args.days, options, None)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ledger = result.strategy.ledger
    end = ledger.index[-1] + pd.Timedelta(minutes=park.time_step_minutes)
    bound = perfect_foresight_bound(park, inputs, ledger.index[0], end)
    cost = result.kpis["strategy"]["total_cost_yuan"]
    days = result.strategy.days_frame()
    solve = days["solve_s"].sum()
    print(f"park {park.name}: {ledger.index[0].date()} → {end.date()} "
          f"({len(ledger) // park.steps_per_day} days), perfect forecasts, MILP")
    print(f"rollout CPU {cpu:.1f} s, wall {wall:.1f} s (Σ solve {solve:.1f} s); days by how "
          f"the solve ended: {ended_by(days)}")
    print(f"PERFECT FORECASTS cost {cost:,.1f} yuan; bound ({bound.method}) "
          f"{bound.total_cost_yuan:,.1f} yuan; distance "
          f"{distance_pct(cost, bound.total_cost_yuan):.3f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
