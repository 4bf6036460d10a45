"""Benchmark: Haiyan with and without its heating plant (#11's proof) — the day-ahead solve
and a year of ``parkgrid run`` (noisy forecasts, MILP planner, the baselines and the bound),
with the heating figures of the year.

    .venv/bin/python benchmarks/bench_heating.py [--park models/haiyan.yaml] [--plan-days 28]
        [--days 365] [--repeat 1] [--skip-year]

Day-ahead: the park's model built once, then ``--plan-days`` days spread over the year
planned (month-to-date peak 0); medians and p95 of the warm call's wall and CPU seconds.
Year: wall and CPU seconds (this process + the bound's child), medians over ``--repeat``
runs; heat served, diesel burnt and avoided, the heat pump's electricity, CO2 (grid +
diesel) and CO2 avoided vs grid only (the park before its projects), cost and regret.
CPU times are printed beside wall times: the machine is shared.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from parkgrid.config import Park, load_park
from parkgrid.inputs import build_inputs
from parkgrid.model.schedule import ParkState
from parkgrid.optimizer import DayAheadOptimizer
from parkgrid.simulate.run import run

ROOT = Path(__file__).resolve().parents[1]
YEAR_KEYS = ("heat_served_kwh_th", "heat_pump_heat_kwh_th", "waste_heat_kwh_th",
             "boiler_heat_kwh_th", "heat_pump_kwh", "boiler_diesel_t", "diesel_avoided_t",
             "heating_co2_avoided_t", "consumption_kwh", "imported_kwh", "co2_t", "cost_yuan",
             "total_cost_yuan")


def cpu_s() -> float:
    """CPU seconds of this process and its finished children."""
    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                  resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def day_ahead(park: Park, n_days: int) -> dict[str, float]:
    """Median and p95 of the warm day-ahead call (wall, CPU) over ``n_days`` days."""
    inputs = build_inputs(park)
    year = inputs.index[0].year
    days = pd.date_range(f"{year}-01-05", f"{year}-12-25", periods=n_days).normalize()
    planner = DayAheadOptimizer(park)
    planner.model(park.steps_per_day)
    wall, cpu = [], []
    for day in days:
        horizon = inputs.day(day.strftime("%Y-%m-%d"))
        state = ParkState.initial(park)
        started, cpu0 = time.perf_counter(), time.process_time()
        planner.plan(horizon, state)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu0)
    return {"day_wall_median_s": float(np.median(wall)),
            "day_wall_p95_s": float(np.percentile(wall, 95)),
            "day_cpu_median_s": float(np.median(cpu)),
            "day_cpu_p95_s": float(np.percentile(cpu, 95))}


def year(park: Park, days: int | None, repeat: int) -> dict[str, float]:
    """The year's wall and CPU seconds (medians) and its heating and cost figures."""
    inputs = build_inputs(park)
    walls, cpus, kpis = [], [], {}
    for _ in range(repeat):
        started, cpu0 = time.perf_counter(), cpu_s()
        result = run(park, None, days, "noisy", "milp", 0, inputs=inputs)
        walls.append(time.perf_counter() - started)
        cpus.append(cpu_s() - cpu0)
        kpis = result.kpis
    strategy, comparison = kpis["strategy"], kpis["comparison"]
    out = {"year_wall_median_s": float(np.median(walls)),
           "year_cpu_median_s": float(np.median(cpus))}
    out |= {k: strategy[k] for k in YEAR_KEYS if k in strategy}
    out["co2_avoided_t"] = comparison.get("co2_avoided_t", float("nan"))
    out["regret_pct"] = comparison.get("regret_pct", float("nan"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--park", default=str(ROOT / "models" / "haiyan.yaml"))
    parser.add_argument("--plan-days", type=int, default=28)
    parser.add_argument("--days", type=int, default=None, help="default: the whole year")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-year", action="store_true")
    args = parser.parse_args()
    with_heating = load_park(args.park)
    if with_heating.heating is None:
        parser.error(f"{args.park} has no heating plant")
    variants = {"without heating": with_heating.model_copy(update={"heating": None}),
                "with heating": with_heating}
    rows = {}
    for name, park in variants.items():
        row = day_ahead(park, args.plan_days)
        if not args.skip_year:
            row |= year(park, args.days, args.repeat)
        rows[name] = row
        print(f"{name}: " + ", ".join(f"{k} {v:,.4g}" for k, v in row.items()), flush=True)
    base, heat = rows["without heating"], rows["with heating"]
    for key in ("day_wall_median_s", "day_cpu_median_s", "year_wall_median_s",
                "year_cpu_median_s", "consumption_kwh", "co2_t", "cost_yuan"):
        if key in base and key in heat:
            print(f"{key}: {base[key]:,.4g} -> {heat[key]:,.4g} "
                  f"({100.0 * (heat[key] / base[key] - 1.0):+.2f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
