"""`parkgrid size` on Haiyan (targets: battery,tank ≤ 120 s and ≤ 4 GB on 2 cores), the
reduction's error, and brute force on the year.

Usage: python benchmarks/bench_size.py [--repeat N] [--error-months 1,4,7,10] [--brute N]

- wall: ``parkgrid size models/haiyan.yaml --assets battery,tank --no-check`` in a fresh
  process, median of ``--repeat`` runs; peak memory = the children's max RSS. Then once with
  ``battery,tank,pv,wind``. The check rollout (a year of MILP days) is not timed: it is a
  ``parkgrid run`` of the sized park.
- reduction error: per month of ``--error-months``, the operating cost of the configured park
  by the sizing LP at 60 min (sizes fixed, no cyclic rule) against the bound's LP at the
  park's 15 min (the same LP, :mod:`parkgrid.simulate.bound`); and the sizes of a July week
  at 60 vs 15 min.
- brute force (``--brute N``): the year LP at 60 min on an N × N battery × tank grid, each
  point with its sizes fixed, against the sized optimum.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from parkgrid.config import load_park
from parkgrid.design.sizing import SizingModel, parse_bounds, reduced_inputs
from parkgrid.inputs import build_inputs
from parkgrid.simulate.bound import perfect_foresight_bound

ROOT = Path(__file__).resolve().parents[1]
HAIYAN = ROOT / "models" / "haiyan.yaml"
PARKGRID = Path(sys.executable).with_name("parkgrid")


def cli_run(assets: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([str(PARKGRID), "size", str(HAIYAN), "--assets", assets, "--no-check",
                        "--out", f"{tmp}/out"], check=True, capture_output=True)
        return time.perf_counter() - started


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # kB → GB


def reduction_error(months: list[int]) -> None:
    park = load_park(HAIYAN)
    fine = build_inputs(park)
    sizes = {"battery": 1000.0, "tank": 10000.0}
    rows = []
    for month in months:
        start = pd.Timestamp(park.year, month, 1, tz=park.site.timezone)
        end = start + pd.offsets.MonthBegin(1)
        bound = perfect_foresight_bound(park, fine, start, end).total_cost_yuan
        days = (end - start).days
        coarse, inputs = reduced_inputs(park, 60, str(start.date()), days)
        model = SizingModel(coarse, inputs, {a: (s, s) for a, s in sizes.items()},
                            cyclic=False)
        cost = model.solve().operating_yuan
        rows.append({"month": month, "cost_15min_yuan": bound, "cost_60min_yuan": cost,
                     "error_pct": 100 * (cost - bound) / abs(bound)})
        print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    total = 100 * (frame.cost_60min_yuan.sum() - frame.cost_15min_yuan.sum()) / abs(
        frame.cost_15min_yuan.sum())
    print(f"reduction error, months {months}: total {total:+.2f} %, worst month "
          f"{frame.error_pct.abs().max():.2f} %")
    for step in (60, 15):
        coarse, inputs = reduced_inputs(park, step, f"{park.year}-07-14", 7)
        model = SizingModel(coarse, inputs, parse_bounds(coarse, ["battery", "tank"], []))
        r = model.solve()
        print(f"July week sizes at {step} min: battery {r.sizes['battery']:,.0f} kWh, "
              f"tank {r.sizes['tank']:,.0f} kWh_th, objective {r.objective_yuan:,.0f} yuan")


def brute(n: int) -> None:
    park = load_park(HAIYAN)
    coarse, inputs = reduced_inputs(park, 60)
    bounds = parse_bounds(coarse, ["battery", "tank"], [])
    model = SizingModel(coarse, inputs, bounds)
    best = model.solve()
    grid = {a: np.linspace(lo, hi, n) for a, (lo, hi) in bounds.items()}
    costs = {(e, c): model.solve({"battery": e, "tank": c}).objective_yuan
             for e, c in itertools.product(grid["battery"], grid["tank"])}
    e, c = min(costs, key=costs.__getitem__)
    print(f"year optimum: battery {best.sizes['battery']:,.0f} kWh, tank "
          f"{best.sizes['tank']:,.0f} kWh_th, objective {best.objective_yuan:,.0f} yuan")
    print(f"best of the {n}x{n} grid: battery {e:,.0f}, tank {c:,.0f}, objective "
          f"{costs[(e, c)]:,.0f} yuan (≥ optimum: {costs[(e, c)] >= best.objective_yuan - 1e-6})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--error-months", default="")
    parser.add_argument("--brute", type=int, default=0)
    parser.add_argument("--skip-wall", action="store_true")
    args = parser.parse_args()
    print("machine shared with other engineers (2 cores): medians of repeats", flush=True)
    if not args.skip_wall:
        walls = [cli_run("battery,tank") for _ in range(args.repeat)]
        print(f"size battery,tank: median {statistics.median(walls):.1f} s "
              f"({', '.join(f'{w:.1f}' for w in walls)}), peak {peak_gb():.2f} GB", flush=True)
        wall = cli_run("battery,tank,pv,wind")
        print(f"size battery,tank,pv,wind: {wall:.1f} s, peak so far {peak_gb():.2f} GB",
              flush=True)
    if args.error_months:
        reduction_error([int(m) for m in args.error_months.split(",")])
    if args.brute:
        brute(args.brute)


if __name__ == "__main__":
    main()
