"""Write a rollout's results folder atomically: it is either complete or absent.

Layout of ``DIR``:
- ``kpis.json`` — every KPI, machine-readable; key names end in their unit (``_kwh``,
  ``_kw``, ``_yuan``, ``_t``, ``_tce``, ``_s``); shares are fractions (0–1), ``_pct`` percent.
- ``timeseries.parquet`` — the ledger: one row per step (index ``timestamp``, local time,
  the interval's start), the schedule's column names and units, plus the unmet-energy and
  CO2-factor columns.
- ``schedules/`` — each day's plan (``YYYY-MM-DD.parquet``, written by
  :mod:`parkgrid.export` with its metadata).
- ``cashflow.csv`` — the year-by-year cash flow of ``kpis["economics"]`` (when the park has
  an ``economics`` section; docs/economics.md).
- ``baselines.parquet`` — each baseline's grid import and export (``<baseline>.grid_import_kw``,
  ``<baseline>.grid_export_kw``, kW, the ledger's index), for the report's load-duration
  curve and monthly bill without the system; absent when the run had no baselines.
- ``events.log`` — fallbacks to the rule-based planner, unserved energy, warnings.

The folder is written under a temporary name beside ``DIR`` and renamed into place; an
existing ``DIR`` is replaced only once the new one is complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from parkgrid.economics import cashflow_frame
from parkgrid.export import jsonable, write_schedule
from parkgrid.schedule import Schedule

KPIS_FILE = "kpis.json"
TIMESERIES_FILE = "timeseries.parquet"
SCHEDULES_DIR = "schedules"
EVENTS_FILE = "events.log"
CASHFLOW_FILE = "cashflow.csv"
BASELINES_FILE = "baselines.parquet"
GRID_FLOWS = ("grid_import_kw", "grid_export_kw")


def write_results(out: Path | str, kpis: Mapping[str, Any], ledger: pd.DataFrame,
                  schedules: Mapping[str, Schedule], events: list[str],
                  baselines: Mapping[str, pd.DataFrame] | None = None) -> Path:
    """Write the results folder ``out`` (see the module docstring); returns its path.
    ``baselines``: each baseline's ledger (only its grid flows are kept)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
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
        _replace_dir(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


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
    old.rmdir()
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
