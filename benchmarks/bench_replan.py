"""Benchmark: regret against the perfect-foresight bound, day-ahead only vs intraday
re-planning (MPC), for one park over one or more periods.

For each forecast and each planning mode (``day-ahead``: one plan a day; ``--every``:
re-planned at that interval) it runs the MILP strategy over every period on the same
actuals (no baselines), from the park's initial state at each period's start, and prints
its total cost, its regret against the perfect-foresight bound (monthly LP relaxation,
computed once per period) and its rollout time, wall and CPU (``time.process_time``: the
machine is shared). Over several periods the regret is Σ cost / Σ bound − 1; the periods
must lie in different calendar months (each period's demand charge is billed on its own).
``--repeat N`` repeats the rollouts and prints medians; ``--json FILE`` also writes the
rows, and with one repeat after every period too (figures so far, ``periods_done``), so a long run
interrupted still leaves what it measured. ``--chain``: each period starts from the state
(SOC, tank, chillers, month-to-date peak) the previous one ended in, so contiguous periods
(``--periods 2025-01-01:31,2025-02-01:28,…``) make one run (but for an EV session plugged
in across a period's start, which is owed its energy afresh).

    .venv/bin/python benchmarks/bench_replan.py [--park models/haiyan.yaml]
        [--periods 2025-07-01:14[,START:DAYS...]] [--every 1h] [--forecasts noisy,model]
        [--modes day-ahead,replan] [--seed 0] [--repeat 1] [--json FILE]

A full year: ``--periods 2025-01-01:365`` (or ``--year 2025 --chain``: its months chained).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import pandas as pd

from parkgrid.config import load_park
from parkgrid.inputs import build_inputs
from parkgrid.io.atomic import atomic_write
from parkgrid.simulate import kpi
from parkgrid.simulate.bound import perfect_foresight_bound
from parkgrid.simulate.forecast import make_forecaster
from parkgrid.simulate.rollout import (
    day_starts,
    make_planner,
    replan_steps,
    rollout_options,
    simulate,
)


def periods(text: str, park) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """'START:DAYS,…' as local [start, end) pairs."""
    out = []
    for part in text.split(","):
        start, days = part.split(":")
        dates = day_starts(park, start, pd.Timestamp(start) + pd.Timedelta(days=int(days)))
        out.append((dates[0], dates[-1] + pd.Timedelta(days=1)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--park", default="models/haiyan.yaml")
    parser.add_argument("--periods", default="2025-07-01:14")
    parser.add_argument("--every", default="1h")
    parser.add_argument("--forecasts", default="noisy")
    parser.add_argument("--modes", default="day-ahead,replan")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", default=None)
    parser.add_argument("--chain", action="store_true")
    parser.add_argument("--year", type=int, default=None)
    args = parser.parse_args()
    park = load_park(args.park)
    if args.year:
        args.periods = ",".join(f"{m.date()}:{m.days_in_month}" for m in pd.date_range(
            f"{args.year}-01-01", periods=12, freq="MS"))
    spans = periods(args.periods, park)
    inputs = build_inputs(park, spans[0][0].year)
    started = time.process_time()
    bounds = [perfect_foresight_bound(park, inputs, a, b).total_cost_yuan for a, b in spans]
    bound = sum(bounds)
    bound_cpu = time.process_time() - started
    every = replan_steps(args.every, park)
    modes = {"day-ahead": None, "replan": every}
    rows = []
    for forecast in args.forecasts.split(","):
        for mode in args.modes.split(","):
            runs = []
            for _ in range(args.repeat):
                cost = wall = cpu = 0.0
                replans = 0
                state = None
                fc = make_forecaster(forecast, args.seed)
                plan = make_planner("milp", park, **rollout_options(park, None))
                for i, (a, b) in enumerate(spans):
                    wall0, cpu0 = time.perf_counter(), time.process_time()
                    result = simulate(park, a, b, fc, plan, inputs=inputs, seed=args.seed,
                                      replan_every=modes[mode], keep_schedules=True,
                                      state=state if args.chain else None)
                    state = result.state
                    wall += time.perf_counter() - wall0
                    cpu += time.process_time() - cpu0
                    cost += kpi.kpis(result.ledger, park)["total_cost_yuan"]
                    replans += sum(int(s.metadata.get("replans", 0))
                                   for s in result.schedules.values())
                    if args.json and args.repeat == 1:
                        so_far = sum(bounds[:i + 1])
                        _write(args.json, [*rows, _row(
                            park, args, forecast, mode, spans[:i + 1], cost, so_far, wall, cpu,
                            replans) | {"periods_done": i + 1}])
                runs.append((cost, wall, cpu, replans))
            cost, wall, cpu, replans = (statistics.median(v) for v in zip(*runs, strict=True))
            rows.append(_row(park, args, forecast, mode, spans, cost, bound, wall, cpu,
                             replans))
    print(f"{park.name}: {args.periods} ({rows[0]['days']} days), seed {args.seed}, medians "
          f"of {args.repeat}; bound {bound:,.0f} yuan ({bound_cpu:.0f} s CPU); shared machine")
    print(f"{'forecast':<9} {'planning':<10} {'cost (yuan)':>14} {'regret %':>9} "
          f"{'wall s':>8} {'CPU s':>8} {'re-plans':>9}")
    for r in rows:
        print(f"{r['forecast']:<9} {r['planning']:<10} {r['total_cost_yuan']:>14,.0f} "
              f"{r['regret_pct']:>9.2f} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
              f"{r['replans']:>9}")
    if args.json:
        _write(args.json, rows)


def _row(park, args, forecast: str, mode: str, spans: list, cost: float, bound: float,
         wall: float, cpu: float, replans: int) -> dict:
    return {"park": park.name, "periods": args.periods, "chain": args.chain,
            "days": sum((b - a).days for a, b in spans), "forecast": forecast,
            "seed": args.seed, "planning": "day-ahead" if mode == "day-ahead" else args.every,
            "total_cost_yuan": cost, "bound_yuan": bound,
            "regret_pct": 100.0 * (cost - bound) / abs(bound), "wall_s": wall, "cpu_s": cpu,
            "replans": replans, "repeat": args.repeat}


def _write(path: str, rows: list[dict]) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(rows, indent=1)))


if __name__ == "__main__":
    main()
