"""Time to build a year of inputs for a park (target: ≤ 3 s for Haiyan at 15 min).

Usage: python benchmarks/bench_inputs.py [PARK.yaml] [--repeat N]
Prints each run and the median, excluding interpreter start and the first run (imports,
data files and any calibration's root find, which later builds reuse), printed apart.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from parkgrid.config import load_park
from parkgrid.inputs import build_inputs

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("park", nargs="?", default=ROOT / "models" / "haiyan.yaml", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    park = load_park(args.park)
    started = time.perf_counter()
    first = build_inputs(park)  # warm-up: imports, pvlib/windpowerlib data files, calibration
    first_s = time.perf_counter() - started
    seconds = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        inputs = build_inputs(park)
        seconds.append(time.perf_counter() - started)
    print(f"park: {park.name}, {len(inputs.series):,} steps of {park.time_step_minutes} min")
    print("runs (s): " + ", ".join(f"{s:.3f}" for s in seconds))
    scales = ", ".join(f"{k} ×{v:.4f}" for k, v in first.calibration.items()) or "none"
    print(f"first build: {first_s:.3f} s (imports, data files; calibration: {scales})")
    print(f"median build time: {statistics.median(seconds):.3f} s (target ≤ 3 s)")


if __name__ == "__main__":
    main()
