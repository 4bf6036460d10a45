"""Load test of ``parkgrid serve`` on loopback: N concurrent clients for D seconds.

Starts the service (a subprocess, 127.0.0.1, a free port, a temporary data folder) on
models/haiyan.yaml and models/dameisha.yaml; each client posts 24 h plan requests (the park's
own year as the forecast, cycling over DAYS days so that no solve repeats the previous one),
alternating parks (or one park with --parks), until D seconds have passed or the request cap
is reached; then the service is stopped. Prints throughput, latency percentiles per park,
errors, the service's RSS (after warm-up and at the end) and the load average.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_serve.py [--clients 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from parkgrid.config import load_park
from parkgrid.serve import example_request

ROOT = Path(__file__).resolve().parents[1]
PARKS = {"haiyan": ROOT / "models/haiyan.yaml", "dameisha": ROOT / "models/dameisha.yaml"}
MAX_REQUESTS = 20_000
"""Hard cap on requests per run (the run also stops after --seconds)."""
DAYS = 8
"""Distinct plan requests per park: 24 h from midnight of 2025-07-01 … 07-08."""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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

    await asyncio.gather(sample(), *(client(k) for k in range(clients)))
    return {"latencies": latencies, "errors": errors, "rss": rss,
            "elapsed_s": time.monotonic() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--parks", nargs="+", choices=list(PARKS), default=list(PARKS),
                        help="parks the clients call (the service serves both)")
    parser.add_argument("--warmup-s", type=float, default=10.0,
                        help="RSS growth is measured from this moment on")
    args = parser.parse_args()
    if not (1 <= args.clients <= 200 and 0 < args.seconds <= 600):
        raise SystemExit("--clients in 1..200, --seconds in (0, 600]")
    bodies = {name: [example_request(load_park(PARKS[name]), f"2025-07-{day:02d}T00:00")
                     for day in range(1, DAYS + 1)] for name in args.parks}
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
            result = asyncio.run(load(url, bodies, args.clients, args.seconds, process.pid))
        finally:
            process.terminate()
            process.wait()
    report(result, args)


def report(result: dict, args: argparse.Namespace) -> None:
    every = [x for values in result["latencies"].values() for x in values]
    print(f"{args.clients} clients × {args.seconds:g} s, parks {'+'.join(args.parks)}, "
          f"24 h plans over {DAYS} days; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (shared machine)")
    print(f"requests ok {len(every)}, errors {len(result['errors'])} "
          f"{sorted(set(result['errors']))[:5]}, "
          f"throughput {len(every) / result['elapsed_s']:.2f} plans/s")
    for name, values in [*result["latencies"].items(), ("all", every)]:
        if values:
            p50, p95, p99 = np.percentile(values, [50, 95, 99])
            print(f"  {name:9s} n={len(values):5d}  p50 {p50:.3f} s  p95 {p95:.3f} s  "
                  f"p99 {p99:.3f} s  max {max(values):.3f} s")
    rss = result["rss"]
    after = [mb for t, mb in rss if t >= args.warmup_s] or [mb for _, mb in rss]
    if after:
        print(f"service RSS: {rss[0][1]:.0f} MB at start, {after[0]:.0f} MB after "
              f"{args.warmup_s:g} s warm-up, {after[-1]:.0f} MB at the end, max {max(after):.0f} "
              f"MB (growth after warm-up {after[-1] - after[0]:+.1f} MB)")


if __name__ == "__main__":
    main()
