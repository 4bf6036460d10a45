"""Fault injection: a process writing a results folder is killed (SIGKILL) at random moments;
the previous results survive or the new ones are complete, and the next write or
``parkgrid report`` (``results.recover``) leaves exactly one readable folder and no leftovers."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parkgrid.io import results

ROOT = Path(__file__).resolve().parents[1]
WRITER = """
import json, sys
import pandas as pd
from parkgrid.io.results import write_results
out, seed = sys.argv[1], int(sys.argv[2])
ledger = pd.DataFrame({"grid_import_kw": range(20000)},
                      index=pd.date_range("2025-01-01", periods=20000, freq="15min"))
kpis = {"park": "p", "period": {"start": "2025-01-01", "days": 1}, "run": {"seed": seed}}
print("ready", flush=True)
write_results(out, kpis, ledger, {}, [f"run {seed}"] * 50000, force=True)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _write(out: Path, seed: int) -> None:
    subprocess.run([sys.executable, "-c", WRITER, str(out), str(seed)], check=True, env=_env(),
                   capture_output=True)


def _kill_while_writing(out: Path, seed: int, delay_s: float) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(out), str(seed)], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()  # imports done: the write starts now
    time.sleep(delay_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _assert_one_complete_folder(out: Path, seeds: set[int]) -> None:
    results.recover(out)
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert not leftovers, leftovers
    marker = json.loads((out / results.MARKER_FILE).read_text())
    assert marker["run"]["seed"] in seeds
    events = (out / results.EVENTS_FILE).read_text().splitlines()
    assert events == [f"run {marker['run']['seed']}"] * 50000  # complete, never torn
    json.loads((out / results.KPIS_FILE).read_text())


def _kills(n: int, tmp_path: Path) -> None:
    out = tmp_path / "results"
    _write(out, 0)
    started = time.perf_counter()
    _write(out, 1)
    write_s = time.perf_counter() - started  # includes the imports: delays span the write
    rng = random.Random(13)
    for i in range(n):
        _kill_while_writing(out, 2 + i, rng.uniform(0.0, write_s))
        _assert_one_complete_folder(out, set(range(2 + i + 1)))


def test_killed_writes_leave_the_previous_or_the_new_results(tmp_path: Path) -> None:
    _kills(3, tmp_path)


@pytest.mark.slow
def test_many_killed_writes_leave_the_previous_or_the_new_results(tmp_path: Path) -> None:
    _kills(25, tmp_path)


@pytest.mark.slow
def test_killed_parkgrid_run_keeps_the_previous_results(tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "parkgrid.cli", "run", str(ROOT / "models" / "dameisha.yaml"),
               "--planner", "rules", "--days", "1", "--no-report", "--out", str(out)]
    started = time.perf_counter()
    subprocess.run(command, check=True, env=_env(), capture_output=True)
    run_s = time.perf_counter() - started
    rng = random.Random(17)
    for seed in range(1, 6):
        proc = subprocess.Popen([*command, "--seed", str(seed), "--force"], env=_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5 * run_s, 1.1 * run_s))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        results.recover(out)
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run.")]
        marker = json.loads((out / results.MARKER_FILE).read_text())
        assert marker["run"]["seed"] in range(seed + 1)
        assert json.loads((out / results.KPIS_FILE).read_text())["strategy"]
