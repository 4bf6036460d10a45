"""Benchmark: what a summer of demand-response events earns a park, and what its battery and
its chilled-water tank each contribute.

Runs the park (default ``models/dameisha_dr.yaml``) over the period with its events and the
same run without them (``parkgrid run`` does both), then again with the tank removed and
with the batteries removed, and prints per variant: events in band, response, DR revenue,
the cost of delivering it (the event days' cost difference, and the whole period's,
demand charge included), the net benefit, and self-sufficiency and cost with and without
events; with the wall and CPU time of each variant (the machine is shared).

    .venv/bin/python benchmarks/bench_demand_response.py [--park models/dameisha_dr.yaml]
        [--start 2025-06-01] [--days 122] [--forecast noisy] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd

from parkgrid.config import Park, load_park
from parkgrid.inputs import build_inputs
from parkgrid.simulate.run import run


def variants(park: Park) -> dict[str, Park]:
    """The park, without its tank, without its batteries."""
    out = {"park": park}
    if park.cooling is not None and park.cooling.tank is not None:
        cooling = park.cooling.model_copy(update={"tank": None})
        out["no tank"] = park.model_copy(update={"cooling": cooling})
    if park.batteries:
        out["no battery"] = park.model_copy(update={"batteries": []})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--park", default="models/dameisha_dr.yaml")
    parser.add_argument("--start", default="2025-06-01")
    parser.add_argument("--days", type=int, default=122)
    parser.add_argument("--forecast", default="noisy")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    park = load_park(args.park)
    inputs = build_inputs(park, pd.Timestamp(args.start).year)
    rows = {}
    for name, variant in variants(park).items():
        wall, cpu = time.perf_counter(), time.process_time()
        result = run(variant, args.start, args.days, args.forecast, "milp", args.seed,
                     inputs=inputs, baselines=(), perfect_foresight=False, parallel=False,
                     keep_schedules=False)
        period = result.kpis["demand_response"]["period"]
        rows[name] = period | {"wall_s": time.perf_counter() - wall,
                               "cpu_s": time.process_time() - cpu}
    keys = [("events_in_band", "{:.0f}"), ("response_kwh", "{:,.0f}"),
            ("paid_kwh", "{:,.0f}"), ("penalty_yuan", "{:,.0f}"), ("revenue_yuan", "{:,.0f}"),
            ("delivery_cost_event_days_yuan", "{:,.0f}"), ("delivery_cost_yuan", "{:,.0f}"),
            ("net_benefit_yuan", "{:,.0f}"), ("total_cost_yuan_with_events", "{:,.0f}"),
            ("total_cost_yuan_without_events", "{:,.0f}"),
            ("self_sufficiency_with_events", "{:.4f}"),
            ("self_sufficiency_without_events", "{:.4f}"), ("wall_s", "{:.0f}"),
            ("cpu_s", "{:.0f}")]
    print(f"{park.name}: {args.days} days from {args.start}, {args.forecast} forecasts, "
          f"seed {args.seed}, {rows['park']['events']} events")
    print(f"{'':34}" + "".join(f"{n:>14}" for n in rows))
    for key, fmt in keys:
        print(f"{key:34}" + "".join(f"{fmt.format(r[key]):>14}" for r in rows.values()))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
