"""A 24-variant Haiyan storage sweep on 1 and on 2 Dask workers: wall time, speed-up and the
per-variant overhead of the distribution (targets: speed-up ≥ 1.7× on 2 cores, overhead ≤ 5 %
of a variant's run time).

Usage: python benchmarks/bench_sweep.py [SWEEP.yaml] [--days N] [--planner P] [--workers 1,2]

Default: models/sweeps/haiyan_storage.yaml (battery × tank, 4 × 6 variants, MILP planner,
noisy forecasts) over its first 7 days (1–7 July) so that both runs take about half an hour
on this machine; `--days 31` runs the sweep file's whole month, `--days 2` is a quick check.

Definitions (each run on a fresh local cluster, results in a temporary folder):
- wall: the whole sweep, end to end (variant expansion, cluster start, shared inputs built
  and broadcast, every task, every row written, the Parquet table).
- task phase: first task submitted → last row written.
- run time of a variant: measured inside its task (park validation, rollout, KPIs).
- overhead per variant = (task phase × workers − Σ run times) / variants: the time a worker
  is not running a variant during the task phase (dispatch, argument and result transfer,
  row writing, and the idle tail while the last tasks finish), shared out per variant and
  compared with the mean run time. "Gaps only" leaves out each worker's idle tail after its
  last task (load imbalance rather than cost of the distribution).
- speed-up = wall on 1 worker / wall on N workers (also given for the task phase).
- contention = mean run time on N workers / on 1 worker: > 1 when the N workers do not get N
  free cores (other processes on the machine, memory bandwidth). The speed-up the
  distribution would give on free cores is estimated as speed-up × contention.
The load average before each run is printed: on a shared machine the figures vary.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

import pandas as pd
from rich.console import Console

from parkgrid.sweeps.run import SweepOutcome, run_sweep
from parkgrid.sweeps.spec import load_sweep

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "models" / "sweeps" / "haiyan_storage.yaml"
DEFAULT_DAYS = 7


def overhead(outcome: SweepOutcome) -> dict[str, float]:
    """Per-variant overhead of the distribution, seconds and % of the mean run time."""
    rows = outcome.table[outcome.table["status"] == "ok"]
    n, workers = len(rows), outcome.n_workers
    busy = float(rows["run_time_s"].sum())
    phase = outcome.timings["tasks_wall_s"]
    mean = busy / n
    per_variant = (phase * workers - busy) / n
    # gaps only: from the first task's start to each worker's last finish, minus its busy time
    first = float(rows["started_unix_s"].min())
    span = rows.groupby("worker")["finished_unix_s"].max() - first
    gaps = float(span.sum() - busy) / n
    return {"mean_run_s": mean, "sum_run_s": busy, "overhead_s": per_variant,
            "overhead_pct": 100 * per_variant / mean, "gaps_s": gaps,
            "gaps_pct": 100 * gaps / mean}


def warm_up(sweep_path: Path) -> None:
    """Import and build once in this process so that no run pays the first-import cost."""
    import distributed  # noqa: F401

    import parkgrid.simulate  # noqa: F401
    from parkgrid.sweeps.task import build_shared_inputs
    from parkgrid.sweeps.variants import expand

    sweep = load_sweep(sweep_path)
    build_shared_inputs(expand(sweep)[0].park(), sweep.rollout)


def run_once(sweep_path: Path, workers: int, days: int | None, planner: str | None,
             folder: Path) -> SweepOutcome:
    sweep = load_sweep(sweep_path)
    if days:
        sweep.rollout = sweep.rollout.model_copy(update={"days": days})
    if planner is not None:
        sweep.rollout = sweep.rollout.model_copy(update={"planner": planner})
    console = Console(stderr=True)
    return run_sweep(sweep, folder / f"workers_{workers}", workers=workers, console=console)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", nargs="?", default=SWEEP, type=Path)
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS,
                        help=f"rollout days per variant (default {DEFAULT_DAYS}; 0: the sweep "
                        "file's period)")
    parser.add_argument("--planner", choices=["milp", "rules", "none"], default=None,
                        help="planner (default: the sweep file's)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    counts = [int(w) for w in args.workers.split(",")]
    warm_up(args.sweep)
    results: dict[int, SweepOutcome] = {}
    loads: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        for workers in counts:
            loads[workers] = os.getloadavg()[0]
            results[workers] = run_once(args.sweep, workers, args.days, args.planner, Path(tmp))
    report(args, results, loads)


def report(args: argparse.Namespace, results: dict[int, SweepOutcome],
           loads: dict[int, float]) -> None:
    sweep = load_sweep(args.sweep)
    any_outcome = next(iter(results.values()))
    first, end = sweep.rollout.period(2025)
    days = args.days or (end - first).days
    print(f"sweep: {sweep.name}, {any_outcome.n_variants} variants, {days} days each, "
          f"planner {args.planner or sweep.rollout.planner}, forecast {sweep.rollout.forecast}")
    base = min(results)
    for workers, outcome in results.items():
        t, o = outcome.timings, overhead(outcome)
        ok = int((outcome.table["status"] == "ok").sum())
        print(f"\n{workers} worker{'s' if workers > 1 else ''}: {ok}/{outcome.n_variants} ok "
              f"(1-min load average before the run: {loads[workers]:.2f} on "
              f"{os.cpu_count()} CPUs)")
        rest = t["total_s"] - t["cluster_start_s"] - t["inputs_s"] - t["tasks_wall_s"]
        print(f"  wall {t['total_s']:.1f} s = cluster start {t['cluster_start_s']:.1f} s + "
              f"shared inputs {t['inputs_s']:.1f} s + task phase {t['tasks_wall_s']:.1f} s "
              f"+ rest {rest:.1f} s")
        print(f"  variant run time: mean {o['mean_run_s']:.2f} s, sum {o['sum_run_s']:.1f} s")
        print(f"  overhead per variant: {o['overhead_s']:.3f} s = {o['overhead_pct']:.1f} % of "
              f"a variant's run time (target ≤ 5 %); gaps only {o['gaps_s']:.3f} s = "
              f"{o['gaps_pct']:.1f} %")
        if workers != base:
            ref = results[base].timings
            speed_up = ref["total_s"] / t["total_s"]
            contention = o["mean_run_s"] / overhead(results[base])["mean_run_s"]
            print(f"  speed-up vs {base} worker: wall {speed_up:.2f}× (target ≥ 1.7× on 2 cores), "
                  f"task phase {ref['tasks_wall_s'] / t['tasks_wall_s']:.2f}×")
            print(f"  contention: a variant ran {contention:.2f}× as long as on {base} worker; "
                  f"on free cores the speed-up would be ≈ {speed_up * contention:.2f}×")
    tables = [o.table.set_index("variant_id")["cost_yuan"] for o in results.values()]
    spread = max(float((t - tables[0]).abs().max()) for t in tables)
    limited = {w: _time_limited_days(o.table) for w, o in results.items()}
    print(f"\nKPIs on every worker count: max cost difference {spread:.3g} yuan; MILP days that "
          f"hit the time limit: {', '.join(f'{n} on {w} worker(s)' for w, n in limited.items())}"
          " (a time-limited solve depends on CPU speed, so its day can end elsewhere)")


def _time_limited_days(table: pd.DataFrame) -> int:
    column = "solver.status_counts.time_limit"
    return int(table[column].fillna(0).sum()) if column in table else 0


if __name__ == "__main__":
    main()
