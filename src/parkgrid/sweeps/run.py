"""Scenario sweeps and park portfolios: every variant's rollout as a task on Dask distributed.

``run_sweep`` expands a sweep file into variants, skips those already on disk (resume),
builds the inputs that several variants share once and broadcasts them to the workers,
runs one task per variant on a local cluster of processes or an existing scheduler, writes
each finished row at once, and consolidates the rows into ``sweep.parquet``.
``sweep_command`` is the ``parkgrid sweep`` command: the same, with the summary and plots.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from parkgrid.errors import ParkgridError
from parkgrid.sweeps import store as store
from parkgrid.sweeps.report import SUMMARY_KPIS, plot_all, summary_table
from parkgrid.sweeps.spec import Sweep, load_sweep
from parkgrid.sweeps.task import build_shared_inputs, run_variant
from parkgrid.sweeps.variants import Variant, expand, input_axes

CONNECT_TIMEOUT_S = 20
WORKERS_TIMEOUT_S = 60


@dataclass
class SweepOutcome:
    """What a sweep did: the table, counts, and where the time went (seconds)."""

    table: pd.DataFrame
    out: Path
    n_variants: int
    n_run: int
    n_reused: int
    n_failed: int
    n_workers: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    plots: list[Path] = field(default_factory=list)


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Client of an existing scheduler (``scheduler`` address) or of a new local cluster of
    ``workers`` single-threaded worker processes (default: one per CPU)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise ParkgridError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") \
                from None
        with client:
            _wait_for_workers(client, scheduler)
            yield client
        return
    # Shared inputs are broadcast once; keep the memory manager from dropping the replicas.
    with dask.config.set({"distributed.scheduler.active-memory-manager.start": False}):
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=":0",
                               silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:
        yield client


def _wait_for_workers(client: Any, scheduler: str) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except TimeoutError:
        raise ParkgridError(f"the Dask scheduler at {scheduler} has no workers "
                            f"(waited {WORKERS_TIMEOUT_S} s)") from None


def share_inputs(client: Any, sweep: Sweep, todo: list[Variant]) -> dict[str, Any]:
    """Build once the inputs that several variants share and broadcast them to every worker.

    Returns a future per shared ``inputs_key``; variants with inputs of their own (a swept
    field changes them, or a portfolio park) are absent and build theirs in the task.
    """
    counts = Counter(v.inputs_key for v in todo)
    shared: dict[str, Any] = {}
    for key, n in counts.items():
        if n < 2:
            continue
        first = next(v for v in todo if v.inputs_key == key)
        try:
            inputs = build_shared_inputs(first.park(), sweep.rollout)
        except Exception:  # the tasks rebuild and record the error, variant by variant
            continue
        shared[key] = client.scatter(inputs, broadcast=True, hash=False)
    return shared


def _failed_row(variant: Variant, exc: BaseException) -> dict[str, Any]:
    """The row of a task that died outside run_variant (worker lost, cancelled)."""
    return {**variant.row_head(), "status": "failed",
            "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}


def run_tasks(client: Any, sweep: Sweep, todo: list[Variant], out: Path,
              console: Console) -> tuple[int, dict[str, float]]:
    """Run every variant in ``todo`` on the cluster, writing each row as it finishes.

    Returns the number of failed variants and timings: ``inputs_s`` (shared inputs built and
    broadcast), ``tasks_wall_s`` (first submit to last row written).
    """
    from distributed import as_completed

    started = time.perf_counter()
    shared = share_inputs(client, sweep, todo)
    submitted = time.perf_counter()
    token = uuid.uuid4().hex[:8]
    futures = {
        client.submit(run_variant, v, sweep.rollout, sweep.kpis, SUMMARY_KPIS,
                      shared.get(v.inputs_key), key=f"variant-{v.index}-{v.id}-{token}",
                      pure=False): v
        for v in todo
    }
    failed = 0
    with _progress(console) as progress:
        bar = progress.add_task(f"{sweep.name}", total=len(todo))
        for future in as_completed(futures):
            variant = futures[future]
            try:
                row = future.result()
            except Exception as exc:  # the worker died or the task was lost
                row = _failed_row(variant, exc)
            store.write_row(out, row)
            future.release()
            failed += row["status"] != "ok"
            note = f" [red]{failed} failed[/]" if failed else ""
            progress.update(bar, advance=1, description=f"{sweep.name}{note}")
    done = time.perf_counter()
    return failed, {"inputs_s": submitted - started, "tasks_wall_s": done - submitted}


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                    console=console, transient=False)


def run_sweep(sweep: Sweep, out: Path, workers: int | None = None, scheduler: str | None = None,
              resume: bool = False, console: Console | None = None) -> SweepOutcome:
    """Run the variants of ``sweep`` not yet in ``out`` and consolidate the results table."""
    console = console or Console(stderr=True)
    started = time.perf_counter()
    variants = expand(sweep)
    store.prepare(out, resume)
    store.write_manifest(out, sweep.name, variants, sweep.rollout.model_dump(mode="json"))
    on_disk = store.read_rows(out) if resume else {}
    todo = [v for v in variants if on_disk.get(v.id, {}).get("status") != "ok"]
    failed, n_workers, timings = 0, 0, {}
    if todo:
        cluster_started = time.perf_counter()
        with dask_client(workers, scheduler) as client:
            n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
            timings["cluster_start_s"] = time.perf_counter() - cluster_started
            console.print(_plan_line(sweep, variants, todo, n_workers, scheduler))
            try:
                failed, task_timings = run_tasks(client, sweep, todo, out, console)
            except KeyboardInterrupt:
                done = len(store.read_rows(out))
                raise ParkgridError(f"interrupted; {done} variant rows are in {out}: rerun with "
                                    "--resume to run the others") from None
            timings.update(task_timings)
    table = store.consolidate(out, variants, sweep.axis_paths)
    timings["total_s"] = time.perf_counter() - started
    return SweepOutcome(table, out, len(variants), len(todo), len(variants) - len(todo),
                        failed, n_workers, timings)


def _plan_line(sweep: Sweep, variants: list[Variant], todo: list[Variant], n_workers: int,
               scheduler: str | None) -> str:
    where = f"scheduler {scheduler}" if scheduler else "a local cluster"
    rebuilt = input_axes(sweep)
    note = (f"; inputs rebuilt per variant for {', '.join(rebuilt)}" if rebuilt else "")
    reused = len(variants) - len(todo)
    return (f"{sweep.name}: {len(todo)} of {len(variants)} variants to run"
            f"{f' ({reused} already done)' if reused else ''} on {where} with {n_workers} "
            f"worker{'s' if n_workers != 1 else ''}{note}")


def default_out(sweep_path: Path) -> Path:
    """``results/sweeps/<sweep file stem>``."""
    return Path("results") / "sweeps" / sweep_path.stem


def sweep_command(sweep_path: Path, workers: int | None = None, scheduler: str | None = None,
                  out: Path | None = None, resume: bool = False,
                  console: Console | None = None) -> SweepOutcome:
    """``parkgrid sweep``: run the sweep, then print the summary and write the plots."""
    console = console or Console()
    if workers is not None and workers < 1:
        raise ParkgridError(f"--workers: got {workers}; expected 1 or more")
    sweep = load_sweep(sweep_path)
    out = Path(out) if out is not None else default_out(Path(sweep_path))
    outcome = run_sweep(sweep, out, workers, scheduler, resume, console)
    outcome.plots = plot_all(outcome.table, sweep.axis_groups, out)
    console.print(summary_table(outcome.table, sweep.axis_paths, f"{sweep.name}: best variants"))
    console.print(_closing_line(outcome))
    return outcome


def _closing_line(outcome: SweepOutcome) -> str:
    table = outcome.table
    ok = int((table["status"] == "ok").sum())
    failed = table[table["status"] == "failed"]
    lines = [f"{ok} of {outcome.n_variants} variants ok ({outcome.n_run} run, "
             f"{outcome.n_reused} reused) in {outcome.timings['total_s']:.1f} s; "
             f"wrote {outcome.out / store.TABLE}"
             + (f" and {len(outcome.plots)} plots" if outcome.plots else "")]
    for _, row in failed.head(5).iterrows():
        lines.append(f"[red]failed[/] variant {row['variant']}: {row['error']}")
    if len(failed) > 5:
        lines.append(f"... and {len(failed) - 5} more failures (see the 'error' column)")
    return "\n".join(lines)
