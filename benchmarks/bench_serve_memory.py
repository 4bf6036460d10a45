"""Memory of ``parkgrid serve`` at rest: each of its processes after a few plans per park.

Starts the service (a subprocess, 127.0.0.1, a free port, a temporary data folder) on
models/haiyan.yaml and models/dameisha.yaml with --planners-per-park (default: the
service's own), posts --plans 24 h plans to each park, then prints how long it took to be
ready and RSS / PSS / USS (MB) of every process of the service and their totals. PSS counts
a page shared by k processes as 1/k in each (what the service really costs; RSS counts
shared pages in every process); USS is what a process alone holds.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_serve_memory.py [--planners-per-park N]
        [--plans 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time

import httpx
from bench_serve import PARKS, ROOT, free_port, process_kind, tree, wait_ready

from parkgrid.config import load_park
from parkgrid.serve_worker import example_request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planners-per-park", type=int, default=None)
    parser.add_argument("--plans", type=int, default=4, help="plans posted to each park")
    args = parser.parse_args()
    bodies = {name: example_request(load_park(path), "2025-07-15T00:00")
              for name, path in PARKS.items()}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    planners = ([] if args.planners_per_park is None
                else ["--planners-per-park", str(args.planners_per_park)])
    with tempfile.TemporaryDirectory() as data:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "parkgrid.cli", "serve", *map(str, PARKS.values()),
             "--port", str(port), "--data-dir", data, *planners],
            env=os.environ | {"PYTHONPATH": str(ROOT / "src")},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            asyncio.run(wait_ready(url, process))
            ready_s = time.monotonic() - started
            for name, body in bodies.items():
                for _ in range(args.plans):
                    answer = httpx.post(f"{url}/v1/parks/{name}/plan", json=body, timeout=None)
                    answer.raise_for_status()
            report(process.pid, ready_s, args)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait()


def report(pid: int, ready_s: float, args: argparse.Namespace) -> None:
    totals = [0.0, 0.0, 0.0]
    print(f"both parks, planners per park {args.planners_per_park or 'default'}, "
          f"{args.plans} plans per park; ready in {ready_s:.1f} s "
          f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)")
    for k, process in enumerate(tree(pid)):
        info, kind = process.memory_full_info(), process_kind(k, process, pid)
        values = [info.rss / 2**20, info.pss / 2**20, info.uss / 2**20]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        print(f"  {kind:17s} RSS {values[0]:6.0f}  PSS {values[1]:6.0f}  USS {values[2]:6.0f} MB")
    print(f"  {'total':17s} RSS {totals[0]:6.0f}  PSS {totals[1]:6.0f}  USS {totals[2]:6.0f} MB")


if __name__ == "__main__":
    main()
