"""Sweeps on a real Dask scheduler with two workers on loopback, reached through its address
(as `parkgrid sweep --scheduler`), a resumed sweep after a hard kill, and the local cluster."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from rich.console import Console

from parkgrid.sweeps.run import dask_client, share_inputs, sweep_command
from parkgrid.sweeps.spec import load_sweep
from parkgrid.sweeps.variants import expand

ROOT = Path(__file__).resolve().parents[2]
HAIYAN = ROOT / "models" / "haiyan.yaml"
NO_HTTP = ("--no-dashboard", "--dashboard-address", ":0")  # no fixed port to collide on


def _wait_for(condition, what: str, *procs: subprocess.Popen) -> None:
    """Poll until ``condition()`` holds; fail at once if one of ``procs`` has exited (no
    wall-clock limit: a slow machine only waits longer)."""
    while not condition():
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"waiting for {what}: a process exited ({dead[0].returncode})")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def scheduler_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `dask scheduler` on 127.0.0.1 (random port) and two single-threaded `dask worker`s."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", *NO_HTTP, "--scheduler-file", str(info)],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[subprocess.Popen] = []
    try:
        _wait_for(info.exists, "the scheduler file", scheduler)
        _wait_for(lambda: info.stat().st_size > 0, "the scheduler address", scheduler)
        address = yaml.safe_load(info.read_text())["address"]
        workers = [subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--host",
             "127.0.0.1", "--nthreads", "1", "--no-nanny", *NO_HTTP, "--name", f"w{i}"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(2)]
        with Client(address) as client:
            _wait_for(lambda: len(client.scheduler_info()["workers"]) >= 2, "two workers",
                      scheduler, *workers)
        yield address
        with Client(address) as client:
            client.shutdown()  # scheduler and workers exit cleanly
    finally:
        for proc in [*workers, scheduler]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def write_sweep(folder: Path, days: int = 2, planner: str = "rules", **axes: object) -> Path:
    doc = {"name": "test", "park": str(HAIYAN), **axes,
           "rollout": {"start": "2025-07-01", "days": days, "forecast": "noisy",
                       "planner": planner}}
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


def test_sweep_runs_through_a_scheduler_address(scheduler_address: str, tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path, grid={"batteries.0.energy_kwh": [500, 2000],
                                        "cooling.tank.capacity_kwh_th": [5000, 20000]})
    outcome = sweep_command(sweep, scheduler=scheduler_address, out=tmp_path / "out",
                            console=quiet())
    table = pd.read_parquet(tmp_path / "out" / "sweep.parquet")
    assert len(table) == 4 and set(table["status"]) == {"ok"}, table["error"].tolist()
    assert outcome.n_workers == 2
    assert not table["inputs_built_in_task"].any()  # built once, shipped to the workers
    assert table["cost_yuan"].notna().all()
    assert {"kpi_vs_batteries_0_energy_kwh.png", "pareto_cost_co2.png"} <= {
        p.name for p in outcome.plots}


def test_milp_sweep_runs_on_the_workers(scheduler_address: str, tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path, days=1, planner="milp",
                        grid={"batteries.0.energy_kwh": [500, 2000]})
    outcome = sweep_command(sweep, scheduler=scheduler_address, out=tmp_path / "out",
                            console=quiet())
    table = outcome.table
    assert set(table["status"]) == {"ok"}, table["error"].tolist()
    assert (table["solver.status_counts.optimal"] == 1).all()  # the MILP planned the day


def test_shared_inputs_are_built_once_and_held_by_every_worker(scheduler_address: str,
                                                               tmp_path: Path) -> None:
    from distributed import Client

    sweep = load_sweep(write_sweep(tmp_path, grid={"batteries.0.energy_kwh": [500, 1000, 2000]}))
    with Client(scheduler_address) as client:
        shared = share_inputs(client, sweep, expand(sweep))
        assert len(shared) == 1
        (future,) = shared.values()
        holders = client.who_has(future)[future.key]
        assert len(holders) == 2


def test_failing_variant_is_recorded_and_the_sweep_goes_on(scheduler_address: str,
                                                           tmp_path: Path) -> None:
    climate = str(ROOT / "profiles" / "climate_hangzhou.yaml")
    sweep = write_sweep(tmp_path, grid={"weather.climate": [climate, "no_such_climate.yaml"]})
    outcome = sweep_command(sweep, scheduler=scheduler_address, out=tmp_path / "out",
                            console=quiet())
    table = outcome.table.set_index("weather.climate")
    assert table.loc[climate, "status"] == "ok"
    assert table.loc["no_such_climate.yaml", "status"] == "failed"
    assert "no_such_climate.yaml" in table.loc["no_such_climate.yaml", "error"]
    assert table["inputs_built_in_task"].all()  # a swept input field: inputs built per task


RUN_SWEEP = """
import sys
from pathlib import Path
from parkgrid.sweeps.run import sweep_command
sweep_command(Path(sys.argv[1]), scheduler=sys.argv[2], out=Path(sys.argv[3]))
"""


def test_killed_sweep_resumes_with_only_the_missing_variants(scheduler_address: str,
                                                             tmp_path: Path) -> None:
    n = 6
    sweep = write_sweep(tmp_path, days=12,
                        grid={"batteries.0.energy_kwh": [500 + 250 * i for i in range(n)]})
    out = tmp_path / "out"
    rows = out / "variants"
    proc = subprocess.Popen([sys.executable, "-c", RUN_SWEEP, str(sweep), scheduler_address,
                             str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _wait_for(lambda: len(list(rows.glob("*.json"))) >= 2 or proc.poll() is not None,
                  "two finished variants")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = {p.name: (p.stat().st_mtime_ns, p.read_text()) for p in rows.glob("*.json")}
    assert 2 <= len(before) < n, proc.stderr.read().decode()[-2000:]

    outcome = sweep_command(sweep, scheduler=scheduler_address, out=out, resume=True,
                            console=quiet())
    assert outcome.n_reused == len(before)
    assert outcome.n_run == n - len(before)
    after = {p.name: (p.stat().st_mtime_ns, p.read_text()) for p in rows.glob("*.json")}
    assert all(after[name] == kept for name, kept in before.items())  # not recomputed
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == n and set(table["status"]) == {"ok"}
    assert sorted(table["batteries.0.energy_kwh"]) == [500 + 250 * i for i in range(n)]


def test_resume_of_a_finished_sweep_runs_nothing(scheduler_address: str, tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path, grid={"batteries.0.energy_kwh": [500, 1000]})
    sweep_command(sweep, scheduler=scheduler_address, out=tmp_path / "out", console=quiet())
    again = sweep_command(sweep, scheduler=scheduler_address, out=tmp_path / "out", resume=True,
                          console=quiet())
    assert (again.n_run, again.n_reused) == (0, 2)


def test_local_cluster_of_processes_is_the_default(tmp_path: Path) -> None:
    with dask_client(workers=2) as client:
        info = client.scheduler_info(n_workers=-1)["workers"]
        assert len(info) == 2
        assert all(w["nthreads"] == 1 for w in info.values())
        assert len({w["id"] for w in info.values()}) == 2
    sweep = write_sweep(tmp_path, grid={"batteries.0.energy_kwh": [500, 1000]})
    outcome = sweep_command(sweep, workers=1, out=tmp_path / "out", console=quiet())
    assert outcome.n_workers == 1
    assert set(outcome.table["status"]) == {"ok"}
