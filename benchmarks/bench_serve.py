"""Load test of ``parkgrid serve`` on loopback: N concurrent clients for D seconds.

Starts the service (a subprocess, 127.0.0.1, a free port, a temporary data folder) on
models/haiyan.yaml and models/dameisha.yaml; each client posts 24 h plan requests (the park's
own year as the forecast, cycling over DAYS days so that no solve repeats the previous one),
alternating parks (or one park with --parks), until D seconds have passed or the request cap
is reached; then the service is stopped. Per run it prints throughput, latency percentiles
per park, errors, the service's RSS (its process and its planner processes together) every
10 s, the CPU seconds the service used and the load average; with --runs N, the medians of
the N runs last.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_serve.py [--clients 20] [--seconds 60]
        [--parks haiyan] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from parkgrid.config import load_park
from parkgrid.serve_worker import example_request

ROOT = Path(__file__).resolve().parents[1]
PARKS = {"haiyan": ROOT / "models/haiyan.yaml", "dameisha": ROOT / "models/dameisha.yaml"}
MAX_REQUESTS = 20_000
"""Hard cap on requests per run (the run also stops after --seconds)."""
DAYS = 8
"""Distinct plan requests per park: 24 h from midnight of 2025-07-01 … 07-08."""


def tree(pid: int) -> list[psutil.Process]:
    """The service's process and its planner processes."""
    main = psutil.Process(pid)
    return [main, *main.children(recursive=True)]


def rss_mb(pid: int) -> float:
    """Resident memory of the service's processes together, MB."""
    total = 0
    for process in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / 2**20


def cpu_s(pid: int) -> np.ndarray:
    """CPU seconds (user + system) the service's process and its planner processes have
    used."""
    total = np.zeros(2)
    for k, process in enumerate(tree(pid)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total[min(k, 1)] += times.user + times.system
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_ready(url: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"service exited with {process.returncode}")
            try:
                if (await client.get(f"{url}/v1/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("service did not start in time")


async def load(url: str, bodies: dict[str, list[dict]], clients: int, seconds: float,
               pid: int) -> dict:
    latencies: dict[str, list[float]] = {name: [] for name in bodies}
    errors: list[str] = []
    rss: list[tuple[float, float]] = []
    started = time.monotonic()
    stop = started + seconds
    sent = [0]

    async def client(index: int) -> None:
        names = list(bodies)
        async with httpx.AsyncClient(timeout=None) as http:
            i = index
            while time.monotonic() < stop and sent[0] < MAX_REQUESTS:
                sent[0] += 1
                name = names[i % len(names)]
                body = bodies[name][(i // len(names)) % len(bodies[name])]
                i += 1
                t0 = time.perf_counter()
                try:
                    answer = await http.post(f"{url}/v1/parks/{name}/plan", json=body)
                    if answer.status_code != 200:
                        errors.append(f"{name}: {answer.status_code}")
                        continue
                except httpx.HTTPError as exc:
                    errors.append(f"{name}: {type(exc).__name__}")
                    continue
                latencies[name].append(time.perf_counter() - t0)

    async def sample() -> None:
        while time.monotonic() < stop:
            rss.append((time.monotonic() - started, rss_mb(pid)))
            await asyncio.sleep(1.0)

    cpu_before = cpu_s(pid)
    await asyncio.gather(sample(), *(client(k) for k in range(clients)))
    return {"latencies": latencies, "errors": errors, "rss": rss,
            "elapsed_s": time.monotonic() - started, "cpu_s": cpu_s(pid) - cpu_before,
            "load": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--parks", nargs="+", choices=list(PARKS), default=list(PARKS),
                        help="parks the clients call (the service serves both)")
    parser.add_argument("--warmup-s", type=float, default=10.0,
                        help="RSS growth is measured from this moment on")
    parser.add_argument("--runs", type=int, default=1, help="runs; medians printed last")
    args = parser.parse_args()
    if not (1 <= args.clients <= 200 and 0 < args.seconds <= 600 and 1 <= args.runs <= 5):
        raise SystemExit("--clients in 1..200, --seconds in (0, 600], --runs in 1..5")
    bodies = {name: [example_request(load_park(PARKS[name]), f"2025-07-{day:02d}T00:00")
                     for day in range(1, DAYS + 1)] for name in args.parks}
    figures = []
    for run in range(1, args.runs + 1):
        result = run_once(bodies, args)
        print(f"--- run {run} of {args.runs}")
        figures.append(report(result, args))
    if args.runs > 1:
        print(f"--- medians of {args.runs} runs")
        for key in figures[0]:
            print(f"  {key:24s} {np.median([f[key] for f in figures]):10.3f}   "
                  f"(runs: {', '.join(f'{f[key]:.3f}' for f in figures)})")


def run_once(bodies: dict[str, list[dict]], args: argparse.Namespace) -> dict:
    """One run against a freshly started service."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
        process = subprocess.Popen(
            [sys.executable, "-m", "parkgrid.cli", "serve", *map(str, PARKS.values()),
             "--host", "127.0.0.1", "--port", str(port), "--data-dir", data],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            asyncio.run(wait_ready(url, process))
            return asyncio.run(load(url, bodies, args.clients, args.seconds, process.pid))
        finally:
            process.terminate()
            process.wait()


def report(result: dict, args: argparse.Namespace) -> dict[str, float]:
    """Print one run's figures; return the ones to take medians of."""
    every = [x for values in result["latencies"].values() for x in values]
    figures: dict[str, float] = {}
    print(f"{args.clients} clients × {args.seconds:g} s, parks {'+'.join(args.parks)}, "
          f"24 h plans over {DAYS} days; "
          f"load average {' '.join(f'{x:.2f}' for x in result['load'])} "
          f"on {os.cpu_count()} CPUs (shared machine)")
    figures["plans_per_s"] = len(every) / result["elapsed_s"]
    figures["errors"] = len(result["errors"])
    http_s, planners_s = result["cpu_s"]
    figures["planner_cpu_ms_per_plan"] = 1000 * planners_s / max(len(every), 1)
    figures["http_cpu_ms_per_plan"] = 1000 * http_s / max(len(every), 1)
    print(f"requests ok {len(every)}, errors {len(result['errors'])} "
          f"{sorted(set(result['errors']))[:5]}, "
          f"throughput {figures['plans_per_s']:.2f} plans/s in {result['elapsed_s']:.1f} s; "
          f"CPU of the service process {http_s:.1f} s, of the planners {planners_s:.1f} s "
          f"({figures['http_cpu_ms_per_plan']:.1f} + {figures['planner_cpu_ms_per_plan']:.1f} "
          "ms per plan)")
    for name, values in [*result["latencies"].items(), ("all", every)]:
        if values:
            p50, p95, p99 = np.percentile(values, [50, 95, 99])
            figures |= {f"{name}_n": len(values), f"{name}_p50_s": p50, f"{name}_p95_s": p95,
                        f"{name}_p99_s": p99}
            print(f"  {name:9s} n={len(values):5d}  p50 {p50:.3f} s  p95 {p95:.3f} s  "
                  f"p99 {p99:.3f} s  max {max(values):.3f} s")
    rss = result["rss"]
    after = [mb for t, mb in rss if t >= args.warmup_s] or [mb for _, mb in rss]
    if after:
        every_10 = [f"{t:.0f} s {mb:.0f}" for t, mb in rss[::10]]
        figures |= {"rss_end_mb": after[-1], "rss_growth_mb": after[-1] - after[0]}
        print(f"service RSS (all its processes), MB: {', '.join(every_10)}; "
              f"{after[0]:.0f} after {args.warmup_s:g} s warm-up, {after[-1]:.0f} at the end, "
              f"max {max(after):.0f} (growth after warm-up {after[-1] - after[0]:+.1f} MB)")
    return figures


if __name__ == "__main__":
    main()
