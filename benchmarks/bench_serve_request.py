"""Where one plan request of ``parkgrid serve`` spends its time, in the planner process.

In-process (no HTTP), on one park's planner as the service builds it: 24 h plan requests
for DAYS July days in a shuffled order, ROUNDS times. Per stage, the median and mean wall
and CPU milliseconds: request validation (pydantic, the service's process), the plan
(request → inputs → HiGHS → schedule; its HiGHS solve apart), the plan document as JSON
text, and the atomic write of ``latest.json`` (done after the answer). Then the same plans
with HiGHS's kept basis cleared before each request (``clearSolver``): what the hot start
from the previous request's solution is worth.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_serve_request.py [--park haiyan]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from parkgrid.commands.schedule import horizon_steps
from parkgrid.config import load_park
from parkgrid.io.atomic import atomic_write
from parkgrid.optimizer.planner import DayAheadOptimizer
from parkgrid.serve import PlanRequest
from parkgrid.serve_worker import (
    DEFAULT_HORIZON_H,
    SOLVER_THREADS,
    Planner,
    example_request,
    plan_request,
    publish,
)

ROOT = Path(__file__).resolve().parents[1]
DAYS = 8
ROUNDS = 4


def stage(times: dict[str, list[tuple[float, float]]], name: str, work, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work(*args)
    times.setdefault(name, []).append((time.perf_counter() - wall, time.process_time() - cpu))
    return result


def text_writer(text: bytes):
    return lambda tmp: tmp.write_bytes(text)


def run(planner: Planner, bodies: list[bytes], order: list[int], cold: bool,
        latest: Path) -> dict[str, list[tuple[float, float]]]:
    times: dict[str, list[tuple[float, float]]] = {}
    model = planner.optimizer.model(horizon_steps(DEFAULT_HORIZON_H, planner.park))[0]
    for k in order:
        if cold:
            model.compiled.highs.clearSolver()
        request = stage(times, "validate (pydantic)", PlanRequest.model_validate_json, bodies[k])
        schedule = stage(times, "plan (inputs+solve+schedule)", plan_request, planner, request)
        solve_s = schedule.metadata["solve_time_s"]
        times.setdefault("  of which HiGHS solve", []).append((solve_s, float("nan")))
        text = stage(times, "document + JSON text", publish, schedule).body
        stage(times, "write latest.json (after)", atomic_write, latest, text_writer(text))
    return times


def show(title: str, times: dict[str, list[tuple[float, float]]]) -> None:
    print(title)
    for name, values in times.items():
        wall, cpu = np.array(values).T * 1000
        cpu_text = f"CPU median {np.median(cpu):6.1f}" if np.isfinite(cpu).all() else " " * 17
        print(f"  {name:30s} wall median {np.median(wall):6.1f} mean {wall.mean():6.1f}   "
              f"{cpu_text} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--park", default="haiyan", choices=["haiyan", "dameisha"])
    args = parser.parse_args()
    park = load_park(ROOT / f"models/{args.park}.yaml")
    optimizer = DayAheadOptimizer(park, threads=SOLVER_THREADS)
    with tempfile.TemporaryDirectory() as data:
        planner = Planner(park, optimizer, Path(data))
        bodies = [json.dumps(example_request(park, f"2025-07-{d:02d}T00:00")).encode()
                  for d in range(1, DAYS + 1)]
        order = [k for _ in range(ROUNDS) for k in random.Random(1).sample(range(DAYS), DAYS)]
        run(planner, bodies, list(range(DAYS)), False, Path(data, "latest.json"))  # warm-up
        print(f"{args.park}: {len(order)} 24 h plan requests over {DAYS} July days; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
              f"{os.cpu_count()} CPUs (shared machine)")
        show("hot start (as served: HiGHS keeps the last basis)",
             run(planner, bodies, order, False, Path(data, "latest.json")))
        show("cold (HiGHS's solver state cleared before each request)",
             run(planner, bodies, order, True, Path(data, "latest.json")))


if __name__ == "__main__":
    main()
