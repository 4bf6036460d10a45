"""The slowest daily MILPs of a rollout: root LP gap, relax-and-round, solve time, cost.

A strategy rollout (noisy forecasts, MILP, the park's rollout horizon and MIP gap) over
``--days`` days from ``--start`` records every horizon whose solve took longer than
``--slower-than`` seconds (the forecast inputs and the state it started from). Each is then
solved again by a fresh planner; printed per horizon: the solve time, the objective, the root
LP (relaxation) objective and its gap to the objective, the reported MIP gap and the branch
and bound nodes; at the end the sums and medians. ``--save PATH`` keeps the captured
horizons (pickle) and ``--load PATH`` re-solves them, so that two versions of the optimizer
are compared on the same horizons:

    PYTHONPATH=<old>/src python benchmarks/bench_hard_days.py --save /tmp/hard.pkl
    PYTHONPATH=<new>/src python benchmarks/bench_hard_days.py --load /tmp/hard.pkl

``--top N`` re-solves only the N horizons slowest when captured (e.g. the 30 hardest days of
a whole year's capture); ``--time-limit S`` replaces the park's limit per plan, so that a
shared, busy machine does not cut the slow ones short (a plan then depends on its speed).

    .venv/bin/python benchmarks/bench_hard_days.py [--park models/dameisha.yaml]
        [--start 2025-01-01] [--days 60] [--slower-than 0.15] [--save P | --load P]
        [--top N] [--time-limit S]
"""

from __future__ import annotations

import argparse
import pickle
import time
from pathlib import Path

import numpy as np
import pandas as pd

from parkgrid.config import load_park
from parkgrid.inputs import build_inputs
from parkgrid.optimizer import DayAheadOptimizer, PlanOptions
from parkgrid.simulate.milp import milp_planner
from parkgrid.simulate.rollout import rollout_options, simulate

ROOT = Path(__file__).resolve().parents[1]


def capture(park_path: str, start: str, days: int, slower_than_s: float) -> list[tuple]:
    """(forecast inputs, state, solve s) of every horizon slower than ``slower_than_s``."""
    park = load_park(park_path)
    inner = milp_planner(park, **rollout_options(park, None))
    hard = []

    def plan(forecast, state):
        schedule = inner(forecast, state)
        if schedule.metadata["solve_time_s"] > slower_than_s:
            hard.append((forecast, state, schedule.metadata["solve_time_s"]))
        return schedule

    plan.name = "milp"  # type: ignore[attr-defined]
    first = pd.Timestamp(start)
    simulate(park, first, first + pd.Timedelta(days=days), "noisy", plan,
             inputs=build_inputs(park, first.year))
    return hard


def resolve(park_path: str, hard: list[tuple], time_limit_s: float | None = None
            ) -> pd.DataFrame:
    park = load_park(park_path)
    gap = park.objective.rollout_mip_gap
    optimizer = DayAheadOptimizer(park, options=PlanOptions(mip_gap=gap,
                                                            time_limit_s=time_limit_s))
    rows = []
    for forecast, state, first_s in hard:
        lp = optimizer.plan(forecast, state, PlanOptions(relax_integers=True))
        started = time.process_time()
        plan = optimizer.plan(forecast, state)
        m = plan.metadata
        rows.append({"start": str(forecast.index[0].date()), "captured_s": first_s,
                     "solve_s": m["solve_time_s"], "cpu_s": time.process_time() - started,
                     "objective": m["objective"], "root_lp": lp.metadata["objective"],
                     "lp_gap_pct": 100 * (m["objective"] - lp.metadata["objective"])
                     / max(abs(m["objective"]), 1e-9),
                     "gap_pct": 100 * (m["gap"] or 0.0), "nodes": m["nodes"],
                     "cost_yuan": m["cost_yuan"]})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--park", default=str(ROOT / "models" / "dameisha.yaml"))
    parser.add_argument("--start", default="2025-01-01")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--slower-than", type=float, default=0.15)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--save", type=Path)
    group.add_argument("--load", type=Path)
    parser.add_argument("--top", type=int, default=None,
                        help="only the N horizons slowest when captured")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="solver time limit per plan, s (default: the park's)")
    args = parser.parse_args()
    if args.load:
        hard = pickle.loads(args.load.read_bytes())
    else:
        hard = capture(args.park, args.start, args.days, args.slower_than)
        if args.save:
            args.save.write_bytes(pickle.dumps(hard))
    if args.top is not None:
        hard = sorted(hard, key=lambda h: -h[2])[:args.top]
    frame = resolve(args.park, hard, args.time_limit)
    at_limit = frame["gap_pct"] > 100 * load_park(args.park).objective.rollout_mip_gap + 1e-9
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n{len(frame)} horizons: solve sum {frame['solve_s'].sum():.2f} s, median "
          f"{frame['solve_s'].median():.3f} s; CPU sum {frame['cpu_s'].sum():.2f} s; "
          f"objective sum {frame['objective'].sum():,.1f}; root LP gap median "
          f"{frame['lp_gap_pct'].median():.2f} %; without branch and bound "
          f"{int((frame['nodes'] == 0).sum())}; at the time limit "
          f"{int(at_limit.sum())}")
    print(f"mean cost per horizon {np.mean(frame['cost_yuan']):,.1f} yuan")


if __name__ == "__main__":
    main()
