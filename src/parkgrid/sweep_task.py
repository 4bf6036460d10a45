"""What a Dask worker runs for one variant: its rollout, reduced to one row of KPIs.

A task never raises: a failing variant returns a row with ``status='failed'`` and the error,
so the sweep goes on. Rows are plain dicts of scalars (JSON- and Parquet-friendly).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import math
import os
import socket
import time
import traceback
import warnings
from collections.abc import Mapping
from typing import Any

from parkgrid.config import Park
from parkgrid.inputs import Inputs
from parkgrid.sweep_spec import Rollout
from parkgrid.sweep_variants import Variant

META_COLUMNS = ["variant_id", "variant", "park", "status", "error", "run_time_s",
                "inputs_built_in_task", "worker", "started_unix_s", "finished_unix_s"]


def build_shared_inputs(park: Park, rollout: Rollout) -> Inputs | None:
    """The calendar year of inputs that covers the rollout (None if it spans two years)."""
    from parkgrid.inputs import build_inputs

    start, end = rollout.period(park.year)
    if start.year != (end - dt.timedelta(days=1)).year:
        return None
    with warnings.catch_warnings():
        _quiet_third_party_warnings()
        return build_inputs(park, start.year)


def _quiet_third_party_warnings() -> None:
    import pandas.errors

    warnings.filterwarnings("ignore", category=pandas.errors.Pandas4Warning)


def rollout_kpis(park: Park, rollout: Rollout, inputs: Inputs | None) -> Mapping[str, Any]:
    """Run the variant's rollout and return its KPI dict (units in key names)."""
    from parkgrid.simulate.rollout import simulate

    start, end = rollout.period(park.year)
    result = simulate(park, start.isoformat(), end.isoformat(), rollout.forecast,
                      rollout.planner, inputs=inputs, seed=rollout.seed)
    return _interim_kpis(result)


def _interim_kpis(result: Any) -> dict[str, float]:
    # INTERIM until parkgrid.kpi exists: the three summary KPIs from the ledger.
    ledger, step_h = result.ledger, result.park.step_h
    imp, exp = ledger["grid_import_kw"], ledger["grid_export_kw"]
    re = sum(ledger[c] for c in ledger.columns if c.startswith(("pv_kw", "wind_kw")))
    curt = sum(ledger[c] for c in ledger.columns if c.startswith(("pv_curtailed_kw",
                                                                   "wind_curtailed_kw")))
    used = float((re - curt - exp).sum() * step_h)
    load = float(used + imp.sum() * step_h)
    return {"cost_yuan": float(((imp * ledger["price_import"] - exp * ledger["price_export"])
                                * step_h).sum()),
            "co2_t": float((imp * ledger["co2_kg_per_kwh"]).sum() * step_h / 1000.0),
            "self_sufficiency": used / load if load > 0 else 0.0}


def flatten(kpis: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested KPI dicts as one level of dotted keys; scalars only (series and lists dropped)."""
    flat: dict[str, Any] = {}
    for key, value in kpis.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, bool | int | float | str) or value is None:
            flat[name] = value
        elif hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
            flat[name] = value.item()  # numpy scalar
    return flat


def select(flat: dict[str, Any], patterns: list[str] | None, always: tuple[str, ...]) -> dict:
    """The KPIs matching any glob pattern (default: the top-level ones), plus ``always``."""
    if patterns is None:
        chosen = {k: v for k, v in flat.items() if "." not in k}
    else:
        chosen = {k: v for k, v in flat.items()
                  if any(fnmatch.fnmatchcase(k, p) for p in patterns)}
    chosen.update({k: flat[k] for k in always if k in flat})
    return chosen


def run_variant(variant: Variant, rollout: Rollout, kpis: list[str] | None,
                always: tuple[str, ...], shared: Inputs | None) -> dict[str, Any]:
    """One variant's row: identifiers, swept values, KPIs, status, error and run time."""
    started_unix, started = time.time(), time.perf_counter()
    row: dict[str, Any] = {"variant_id": variant.id, "variant": variant.index,
                           "park": variant.park_label, **variant.values}
    built = shared is None
    try:
        park = variant.park()
        if shared is None:
            inputs = build_shared_inputs(park, rollout)
        else:
            inputs = dataclasses.replace(shared, park=park)
        with warnings.catch_warnings():
            _quiet_third_party_warnings()
            row.update(select(flatten(rollout_kpis(park, rollout, inputs)), kpis, always))
        row.update(status="ok", error="")
    except Exception as exc:  # a failing variant is recorded, the sweep goes on
        row.update(status="failed", error=_one_line(exc))
    row.update(run_time_s=time.perf_counter() - started, inputs_built_in_task=built,
               worker=f"{socket.gethostname()}:{os.getpid()}", started_unix_s=started_unix,
               finished_unix_s=time.time())
    return {k: _plain(v) for k, v in row.items()}


def _one_line(exc: BaseException) -> str:
    """The error and the innermost parkgrid line it passed through, on one line."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    ours = [f for f in frames if f"{os.sep}parkgrid{os.sep}" in f.filename] or frames
    where = f" (at {_module_path(ours[-1].filename)}:{ours[-1].lineno})" if ours else ""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}{where}"


def _module_path(filename: str) -> str:
    """``parkgrid/simulate/rollout.py`` rather than the full path of the file."""
    parts = filename.split(os.sep)
    return "/".join(parts[parts.index("parkgrid"):]) if "parkgrid" in parts else parts[-1]


def _plain(value: Any) -> Any:
    """A JSON-safe scalar (NaN and inf become None)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)
