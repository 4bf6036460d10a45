"""How the day-ahead solve grows with the park's assets and the plan's steps.

A generated "large park" — 10 batteries, 8 chillers (two groups of four identical units) and
a chilled-water tank, 3 PV arrays, 2 wind farms, 100 EV piles, 3 deferrable loads — next to
Haiyan itself, each at 15- and 5-min steps, with 24- and 48-h horizons. For every cell the
park's model is built once (as in a rollout) and re-solved for ``--days`` days spread over
the year from the park's initial state at the day-ahead MIP gap (``objective.mip_gap``) with
a per-solve limit of ``--time-limit`` s (counted, as HiGHS does, in wall-clock time):
printed is a table of steps × assets → median / p95 / max HiGHS solve time, the warm call
(data push + solve + schedule) in wall-clock and in CPU seconds (the machine's load
does not stretch those), the build and the largest MIP gap. Target (issue 14): the
large park's 24-h, 15-min day-ahead median ≤ 1 s.

The large park is Haiyan's YAML with its asset lists multiplied (every size "(est.)", scaled
from Haiyan's so that the loads, the grid limit and the cooling plant grow together), written
to a temporary file and read back through the schema like any park (``--write PATH`` keeps a
copy). The schema has one cooling plant with one tank, so the large park has one tank of
twice Haiyan's size where the issue asks for two.

    .venv/bin/python benchmarks/bench_scale.py [--days 7] [--parks haiyan,large]
        [--steps 15,5] [--horizons 24,48] [--write large_park.yaml]
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from parkgrid.config import Park, load_park, read_yaml
from parkgrid.inputs import build_inputs
from parkgrid.model.schedule import ParkState
from parkgrid.optimizer import DayAheadOptimizer, PlanOptions

ROOT = Path(__file__).resolve().parents[1]
HAIYAN = ROOT / "models" / "haiyan.yaml"
TARGET_MEDIAN_S = 1.0


def large_park_doc(base: dict) -> dict:
    """Haiyan's document with the large park's assets (sizes (est.), scaled from Haiyan's)."""
    doc = copy.deepcopy(base)
    doc["name"] = "Large generated park"
    doc["description"] = ("Generated for bench_scale.py: Haiyan's assets multiplied — "
                          "10 batteries, 8 chillers, 3 PV, 2 wind farms, 100 EV piles, "
                          "3 deferrable loads")
    pv = base["pv"]
    doc["pv"] = [pv[0] | {"name": "roof_a"}, pv[0] | {"name": "roof_b", "azimuth_deg": 135},
                 pv[1] | {"name": "roof_dc"}]
    doc["wind"] = [base["wind"][0] | {"name": "north"}, base["wind"][0] | {"name": "south"}]
    battery = base["batteries"][0]
    doc["batteries"] = [battery | {"name": f"bat_{i}", "bus": "dc" if i < 5 else "ac",
                                   "power_kw": 250 * (1 + i % 3),
                                   "energy_kwh": 1000 * (1 + i % 3)} for i in range(10)]
    maglev = base["cooling"]["chillers"][0]
    screw = {"capacity_kw_th": 1200, "cop": 5.5, "min_part_load": 0.25, "bus": "ac"}
    doc["cooling"]["chillers"] = ([maglev | {"name": f"maglev_{i}"} for i in range(4)]
                                  + [screw | {"name": f"screw_{i}"} for i in range(4)])
    doc["cooling"]["load"]["peak_kw_th"] = 3000 * 3
    tank = doc["cooling"]["tank"]
    for key in ("capacity_kwh_th", "max_charge_kw_th", "max_discharge_kw_th"):
        tank[key] *= 2
    doc["buses"]["dc"]["converter_kw"] = 4000
    for load in doc["loads"]:
        load["synthetic"]["annual_kwh"] *= 3
    fast, slow = doc["ev"]["chargers"]
    doc["ev"]["chargers"] = [fast | {"count": 20}, slow | {"count": 80}]
    doc["deferrable"] = [
        {"name": "wash", "energy_kwh_per_day": 400, "max_kw": 100, "window_start_h": 0,
         "window_end_h": 8},
        {"name": "kiln", "energy_kwh_per_day": 2000, "max_kw": 500, "window_start_h": 20,
         "window_end_h": 24, "workdays_only": True},
        {"name": "pumps", "energy_kwh_per_day": 1200, "max_kw": 150, "bus": "dc"},
    ]
    doc["grid"]["import_limit_kw"] *= 3
    doc["grid"]["export_limit_kw"] *= 2
    return doc


def park_at(name: str, step_minutes: int, folder: Path) -> Park:
    """Haiyan or the large park at ``step_minutes``, validated through a YAML file."""
    base = read_yaml(HAIYAN)
    assert isinstance(base, dict)
    doc = large_park_doc(base) if name == "large" else copy.deepcopy(base)
    doc["time_step_minutes"] = step_minutes
    doc["weather"]["climate"] = str((HAIYAN.parent / base["weather"]["climate"]).resolve())
    path = folder / f"{name}_{step_minutes}min.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_park(path)


def assets(park: Park) -> int:
    ev = sum(c.count for c in park.ev.chargers) if park.ev else 0
    chillers = len(park.cooling.chillers) if park.cooling else 0
    tanks = int(park.cooling is not None and park.cooling.tank is not None)
    return (len(park.batteries) + chillers + tanks + len(park.pv) + len(park.wind) + ev
            + len(park.deferrable))


def measure(park: Park, horizons_h: list[int], n_days: int, time_limit_s: float
            ) -> list[dict]:
    inputs = build_inputs(park)
    year = inputs.index[0].year
    days = pd.date_range(f"{year}-01-05", f"{year}-12-20", periods=n_days).normalize()
    optimizer = DayAheadOptimizer(park, options=PlanOptions(time_limit_s=time_limit_s))
    rows = []
    for horizon_h in horizons_h:
        n = horizon_h * park.steps_per_day // 24
        _, build_s = optimizer.model(n)
        solve, call, cpu, gap, limit = [], [], [], [], 0
        for day in days:
            start = pd.Timestamp(day.date()).tz_localize(park.site.timezone)
            window = inputs.window(start, n)
            started, cpu_s = time.perf_counter(), time.process_time()
            plan = optimizer.plan(window, ParkState.initial(park))
            call.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_s)
            solve.append(plan.metadata["solve_time_s"])
            gap.append(plan.metadata["gap"] or 0.0)
            limit += bool(plan.metadata["time_limit_hit"])
        rows.append({"park": park.name.split()[0].lower(), "assets": assets(park),
                     "step_min": park.time_step_minutes, "horizon_h": horizon_h, "steps": n,
                     "build_s": build_s, "solve_median_s": float(np.median(solve)),
                     "solve_p95_s": float(np.percentile(solve, 95)),
                     "solve_max_s": float(np.max(solve)),
                     "call_median_s": float(np.median(call)),
                     "call_cpu_median_s": float(np.median(cpu)),
                     "call_cpu_p95_s": float(np.percentile(cpu, 95)),
                     "gap_max": float(np.max(gap)), "time_limit_days": limit})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--parks", default="haiyan,large")
    parser.add_argument("--steps", default="15,5")
    parser.add_argument("--horizons", default="24,48")
    parser.add_argument("--time-limit", type=float, default=60.0,
                        help="per-solve limit, s (HiGHS counts wall-clock time: on a loaded "
                             "machine the park's 10 s cut the large park's solves short)")
    parser.add_argument("--write", type=Path, default=None,
                        help="also write the large park's YAML (15-min steps) here")
    args = parser.parse_args()
    if args.days < 3:
        parser.error("--days must be at least 3 (medians of ≥ 3 solves)")
    horizons = [int(h) for h in args.horizons.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.write:
            park_at("large", 15, folder)
            args.write.write_bytes((folder / "large_15min.yaml").read_bytes())
        for name in args.parks.split(","):
            for step in (int(s) for s in args.steps.split(",")):
                rows += measure(park_at(name, step, folder), horizons, args.days,
                                args.time_limit)
                print(pd.DataFrame(rows[-len(horizons):]).to_string(
                    index=False, header=len(rows) == len(horizons),
                    float_format=lambda v: f"{v:.3f}"), flush=True)
    frame = pd.DataFrame(rows)
    print(f"\n{args.days} days per cell, load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores (HiGHS one thread)")
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    cell = frame[(frame["park"] == "large") & (frame["step_min"] == 15)
                 & (frame["horizon_h"] == 24)]
    if len(cell):
        median = float(cell["solve_median_s"].iloc[0])
        ok = median <= TARGET_MEDIAN_S
        print(f"large park, 24 h at 15 min: median solve {median:.3f} s (target ≤ "
              f"{TARGET_MEDIAN_S:.0f} s) {'ok' if ok else 'MISSED'}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
