"""Write a rollout's results folder atomically: it is either complete or absent.

Layout of ``DIR``:
- ``kpis.json`` — every KPI, machine-readable; key names end in their unit (``_kwh``,
  ``_kw``, ``_yuan``, ``_t``, ``_tce``, ``_s``); shares are fractions (0–1), ``_pct`` percent.
- ``timeseries.parquet`` — the ledger: one row per step (index ``timestamp``, local time,
  the interval's start), the schedule's column names and units, plus the unmet-energy and
  CO2-factor columns.
- ``schedules/`` — each day's plan (``YYYY-MM-DD.parquet``, written by
  :mod:`parkgrid.io.export` with its metadata).
- ``cashflow.csv`` — the year-by-year cash flow of ``kpis["economics"]`` (when the park has
  an ``economics`` section; docs/economics.md).
- ``baselines.parquet`` — each baseline's grid import and export (``<baseline>.grid_import_kw``,
  ``<baseline>.grid_export_kw``, kW, the ledger's index), for the report's load-duration
  curve and monthly bill without the system; absent when the run had no baselines.
- ``events.log`` — fallbacks to the rule-based planner, unserved energy, warnings.
- ``parkgrid-results.json`` — the marker: this folder was written by parkgrid, and which run
  it holds (park, start, days, forecast, planner, seed, horizon, re-plan interval).

Never losing data: parkgrid writes ``DIR`` only if it is absent, an empty folder, or a results
folder of its own (the marker, or — from versions without it — nothing but results files).
One holding *another* run is replaced only with ``force`` (``parkgrid run --force``); a rerun
of the same run replaces it. A regular file or a folder of other files is never touched.

The folder is written under a temporary name beside ``DIR`` (``.DIR.*.tmp``) and swapped in:
``DIR`` → ``.DIR.*.old``, the new folder → ``DIR``, the old one deleted. A kill at any
instant leaves either the old or the new results under ``DIR``, or the old ones under
``.DIR.*.old``: the next write or ``parkgrid report DIR`` (:func:`recover`) puts them back
and removes leftovers.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from parkgrid.design.economics import cashflow_frame
from parkgrid.errors import ParkgridError
from parkgrid.io.atomic import UMASK
from parkgrid.io.export import jsonable, write_schedule
from parkgrid.model.schedule import Schedule

KPIS_FILE = "kpis.json"
TIMESERIES_FILE = "timeseries.parquet"
SCHEDULES_DIR = "schedules"
EVENTS_FILE = "events.log"
CASHFLOW_FILE = "cashflow.csv"
BASELINES_FILE = "baselines.parquet"
GRID_FLOWS = ("grid_import_kw", "grid_export_kw")
MARKER_FILE = "parkgrid-results.json"
REPORT_FILE = "report.html"
_RESULT_NAMES = {KPIS_FILE, TIMESERIES_FILE, SCHEDULES_DIR, EVENTS_FILE, REPORT_FILE,
                 CASHFLOW_FILE, BASELINES_FILE}
_RUN_KEYS = ("forecast", "planner", "seed", "horizon_h")
_OPTIONAL_RUN_KEYS = ("replan_every_min",)
"""Run options in the identity only when set (a folder written before them stays the same
run)."""


class ResultsFolderError(ParkgridError):
    """A results folder cannot be written without losing something that is there."""


def run_identity(kpis: Mapping[str, Any]) -> dict[str, Any]:
    """Which run a KPI document describes: park, period and run options (not timings)."""
    period = kpis.get("period") if isinstance(kpis.get("period"), Mapping) else {}
    run = kpis.get("run") if isinstance(kpis.get("run"), Mapping) else {}
    return jsonable({"park": kpis.get("park"), "start": period.get("start"),
                     "days": period.get("days"), **{k: run.get(k) for k in _RUN_KEYS},
                     **{k: run[k] for k in _OPTIONAL_RUN_KEYS if run.get(k) is not None}})


def check_target(out: Path | str, identity: Mapping[str, Any], force: bool = False) -> None:
    """Refuse to write the results of run ``identity`` to ``out`` when that would lose
    something (see the module docstring); first :func:`recover` an interrupted swap."""
    out = Path(out)
    recover(out)
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir():
        raise ResultsFolderError(f"{out}: exists and is not a folder; parkgrid writes a results "
                                 "folder only where there is none, or its own: choose another "
                                 "--out")
    names = {p.name for p in out.iterdir()}
    if not names:
        return
    if MARKER_FILE not in names and not (KPIS_FILE in names and names <= _RESULT_NAMES):
        raise ResultsFolderError(f"{out}: not a parkgrid results folder (no {MARKER_FILE}); "
                                 "parkgrid never replaces files it did not write: choose "
                                 "another --out")
    held = _read_marker(out / MARKER_FILE)
    if held != dict(identity) and not force:
        raise ResultsFolderError(f"{out}: holds another run ({_describe(held)}); rerun with "
                                 "--force to replace it, or choose another --out")


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        held = json.loads(path.read_text(encoding="utf-8")).get("run")
    except (OSError, ValueError, AttributeError):
        return None
    return held if isinstance(held, dict) else None


def _describe(identity: Mapping[str, Any] | None) -> str:
    if not identity:
        return "a run of unknown settings"
    return ", ".join(f"{k} {v}" for k, v in identity.items() if v is not None)


def recover(out: Path | str) -> list[str]:
    """Finish or undo an interrupted write of the results folder ``out``: a leftover
    ``.out.*.old`` holding parkgrid results is restored if ``out`` is missing, else deleted;
    leftover ``.out.*.tmp`` folders of parkgrid are deleted. Returns what was done."""
    out = Path(out)
    done: list[str] = []
    if not out.parent.is_dir():
        return done
    for leftover in sorted(out.parent.glob(f".{glob.escape(out.name)}.*")):
        if not leftover.is_dir() or leftover.suffix not in (".old", ".tmp"):
            continue
        ours = (any((leftover / name).is_file() for name in (MARKER_FILE, KPIS_FILE))
                or not any(leftover.iterdir()))
        if not ours:
            continue
        if leftover.suffix == ".old" and not out.exists() and any(leftover.iterdir()):
            os.replace(leftover, out)
            done.append(f"restored {out} from {leftover.name}")
        else:
            shutil.rmtree(leftover, ignore_errors=True)
            done.append(f"removed {leftover}")
    return done


def write_results(out: Path | str, kpis: Mapping[str, Any], ledger: pd.DataFrame,
                  schedules: Mapping[str, Schedule], events: list[str],
                  baselines: Mapping[str, pd.DataFrame] | None = None,
                  force: bool = False) -> Path:
    """Write the results folder ``out`` (see the module docstring); returns its path.
    ``baselines``: each baseline's ledger (only its grid flows are kept); ``force``:
    replace a results folder that holds another run."""
    out = Path(out)
    identity = run_identity(kpis)
    check_target(out, identity, force)
    with staged_folder(out) as tmp:
        marker = {"written_by": "parkgrid run", "run": identity}
        (tmp / MARKER_FILE).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
        (tmp / KPIS_FILE).write_text(dumps(kpis) + "\n", encoding="utf-8")
        frame = ledger.copy()
        frame.index.name = "timestamp"
        if "tou_period" in frame:
            frame["tou_period"] = frame["tou_period"].astype(str)
        frame.to_parquet(tmp / TIMESERIES_FILE)
        (tmp / SCHEDULES_DIR).mkdir()
        for date, schedule in schedules.items():
            write_schedule(schedule, tmp / SCHEDULES_DIR / f"{date}.parquet")
        if "cashflow" in (kpis.get("economics") or {}):
            cashflow_frame(kpis["economics"]).to_csv(tmp / CASHFLOW_FILE, index=False)
        if baselines:
            baseline_flows(baselines).to_parquet(tmp / BASELINES_FILE)
        (tmp / EVENTS_FILE).write_text("".join(f"{e}\n" for e in events), encoding="utf-8")
    return out


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A temporary folder beside ``out`` (readable as the umask allows) that replaces ``out``
    in one swap when the block ends without an error, and is removed otherwise."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        os.chmod(tmp, 0o777 & ~UMASK)  # mkdtemp makes 0700: colleagues may read results
        yield tmp
        _replace_dir(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def baseline_flows(ledgers: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The grid import and export of each baseline's ledger, one column each (kW, float32)."""
    frame = pd.DataFrame({f"{name}.{col}": ledger[col].astype("float32")
                          for name, ledger in ledgers.items() for col in GRID_FLOWS})
    frame.index.name = "timestamp"
    return frame


def _replace_dir(new: Path, out: Path) -> None:
    """Move ``new`` to ``out``, replacing an existing ``out`` only after the move."""
    if not out.exists():
        os.replace(new, out)
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old"))
    old.rmdir()  # a kill here leaves nothing to recover; one after the rename, `old`
    os.replace(out, old)
    try:
        os.replace(new, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def dumps(document: Mapping[str, Any]) -> str:
    """JSON text of a KPI document: numpy and pandas values converted, NaN → null."""
    return json.dumps(jsonable(document), indent=2, ensure_ascii=False)
