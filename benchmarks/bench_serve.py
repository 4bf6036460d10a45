"""Load test of ``parkgrid serve`` on loopback: N concurrent clients for D seconds.

Starts the service (a subprocess, 127.0.0.1, a free port, a temporary data folder) on the
parks of --parks (models/haiyan.yaml and models/dameisha.yaml by default), with
--planners-per-park planners (default: the service's own); each client posts 24 h plan
requests (the park's own year as the forecast, cycling over DAYS days so that no solve
repeats the previous one), alternating parks, until D seconds have passed or the request cap
is reached; then the service is stopped. Per run it prints throughput, latency percentiles
per park, errors, the service's memory (all its processes: the HTTP process and the
planners) every 10 s as RSS and as PSS (shared pages split between the processes that share
them, what the processes really cost), the CPU per plan of the HTTP process and of the
planners, and the machine's load average (/proc/loadavg) over the run; with --runs N, the
medians of the N runs last.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_serve.py [--clients 20] [--seconds 60]
        [--parks haiyan] [--planners-per-park N] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
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
PSS_EVERY = 10
"""PSS is read every PSS_EVERY memory samples (one a second), RSS at each."""
MAX_REQUESTS = 20_000
"""Hard cap on requests per run (the run also stops after --seconds)."""
DAYS = 8
"""Distinct plan requests per park: 24 h from midnight of 2025-07-01 … 07-08."""


def tree(pid: int) -> list[psutil.Process]:
    """The service's process and its planner processes."""
    main = psutil.Process(pid)
    return [main, *main.children(recursive=True)]


def memory_mb(pid: int, pss: bool) -> tuple[float, float]:
    """RSS and (if ``pss``; else NaN) PSS of the service's processes together, MB (PSS
    counts a page shared by k processes as 1/k in each; reading it parses
    /proc/PID/smaps, tens of ms of CPU per process, so it is sampled less often)."""
    rss = shared = 0
    for process in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if pss:
                info = process.memory_full_info()
                rss, shared = rss + info.rss, shared + info.pss
            else:
                rss += process.memory_info().rss
    return rss / 2**20, shared / 2**20 if pss else float("nan")


def process_kind(k: int, process: psutil.Process, pid: int) -> str:
    """What the ``k``-th process of the service's tree (:func:`tree` of ``pid``) is: the
    planners are forked from the fork server, so only the server is the service's child."""
    command = " ".join(process.cmdline())
    return ("HTTP process" if k == 0 else "resource tracker" if "resource_tracker" in command
            else "fork server" if process.ppid() == pid and "forkserver" in command
            else "planner")


def memory_by_process(pid: int) -> list[str]:
    """Each of the service's processes: what it is, its RSS and PSS (MB)."""
    rows = []
    for k, process in enumerate(tree(pid)):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            info = process.memory_full_info()
            rows.append(f"{process_kind(k, process, pid)} "
                        f"{info.rss / 2**20:.0f}/{info.pss / 2**20:.0f}")
    return rows


def load_average() -> float:
    """The machine's 1-minute load average (/proc/loadavg)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


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
    rss: list[tuple[float, float, float, float]] = []  # time, RSS, PSS, load average
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
        for k in itertools.count():
            if time.monotonic() >= stop:
                return
            rss.append((time.monotonic() - started, *memory_mb(pid, k % PSS_EVERY == 0),
                        load_average()))
            await asyncio.sleep(1.0)

    processes = memory_by_process(pid)
    cpu_before, clients_before = cpu_s(pid), time.process_time()
    await asyncio.gather(sample(), *(client(k) for k in range(clients)))
    return {"clients_cpu_s": time.process_time() - clients_before,
            "latencies": latencies, "errors": errors, "rss": rss,
            "elapsed_s": time.monotonic() - started, "cpu_s": cpu_s(pid) - cpu_before,
            "processes": processes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--parks", nargs="+", choices=list(PARKS), default=list(PARKS),
                        help="parks served and called")
    parser.add_argument("--planners-per-park", type=int, default=None,
                        help="planner processes per park (default: the service's)")
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
        planners = ([] if args.planners_per_park is None
                    else ["--planners-per-park", str(args.planners_per_park)])
        process = subprocess.Popen(
            [sys.executable, "-m", "parkgrid.cli", "serve", *(str(PARKS[p]) for p in bodies),
             "--host", "127.0.0.1", "--port", str(port), "--data-dir", data, *planners],
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
    loads = [load for *_, load in result["rss"]]
    figures["load_average"] = float(np.median(loads)) if loads else float("nan")
    print(f"{args.clients} clients × {args.seconds:g} s, parks {'+'.join(args.parks)}, "
          f"planners per park {args.planners_per_park or 'default'} "
          f"({len(result['processes'])} service processes), 24 h plans over {DAYS} days; "
          f"1-min load average over the run: median {figures['load_average']:.2f}, "
          f"min {min(loads, default=0):.2f}, max {max(loads, default=0):.2f}, "
          f"on {os.cpu_count()} CPUs (shared machine)")
    figures["plans_per_s"] = len(every) / result["elapsed_s"]
    figures["errors"] = len(result["errors"])
    http_s, planners_s = result["cpu_s"]
    figures["planner_cpu_ms_per_plan"] = 1000 * planners_s / max(len(every), 1)
    figures["http_cpu_ms_per_plan"] = 1000 * http_s / max(len(every), 1)
    figures["clients_cpu_ms_per_plan"] = 1000 * result["clients_cpu_s"] / max(len(every), 1)
    print(f"requests ok {len(every)}, errors {len(result['errors'])} "
          f"{sorted(set(result['errors']))[:5]}, "
          f"throughput {figures['plans_per_s']:.2f} plans/s in {result['elapsed_s']:.1f} s; "
          f"CPU of the service process {http_s:.1f} s, of the planners {planners_s:.1f} s "
          f"({figures['http_cpu_ms_per_plan']:.1f} + {figures['planner_cpu_ms_per_plan']:.1f} "
          "ms per plan; the clients, this process: "
          f"{figures['clients_cpu_ms_per_plan']:.1f} ms per plan)")
    for name, values in [*result["latencies"].items(), ("all", every)]:
        if values:
            p50, p95, p99 = np.percentile(values, [50, 95, 99])
            figures |= {f"{name}_n": len(values), f"{name}_p50_s": p50, f"{name}_p95_s": p95,
                        f"{name}_p99_s": p99}
            print(f"  {name:9s} n={len(values):5d}  p50 {p50:.3f} s  p95 {p95:.3f} s  "
                  f"p99 {p99:.3f} s  max {max(values):.3f} s")
    samples = result["rss"]
    for k, kind in ((1, "rss"), (2, "pss")):
        after = ([s[k] for s in samples if s[0] >= args.warmup_s and not math.isnan(s[k])]
                 or [s[k] for s in samples if not math.isnan(s[k])])
        if after:
            every_10 = [f"{s[0]:.0f} s {s[k]:.0f}" for s in samples[::10]]
            figures |= {f"{kind}_end_mb": after[-1], f"{kind}_growth_mb": after[-1] - after[0]}
            print(f"service {kind.upper()} (all its processes), MB: {', '.join(every_10)}; "
                  f"{after[0]:.0f} after {args.warmup_s:g} s warm-up, {after[-1]:.0f} at the "
                  f"end, max {max(after):.0f} (growth after warm-up "
                  f"{after[-1] - after[0]:+.1f} MB)")
    print(f"at the start, RSS/PSS MB by process: {', '.join(result['processes'])}")
    print("load average every 10 s: " + ", ".join(f"{s[0]:.0f} s {s[3]:.2f}"
                                                 for s in samples[::10]))
    return figures


if __name__ == "__main__":
    main()
