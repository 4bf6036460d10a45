"""What a Dask worker runs for one variant: its rollout, reduced to one row of KPIs.

A task never raises: a failing variant returns a row with ``status='failed'`` and the error,
so the sweep goes on. Rows are plain dicts of scalars (JSON- and Parquet-friendly).
"""

from __future__ import annotations

import fnmatch
import math
import os
import socket
import time
import traceback
from collections.abc import Mapping
from typing import Any

from parkgrid.config import Park
from parkgrid.inputs import Inputs
from parkgrid.sweeps.spec import Rollout
from parkgrid.sweeps.variants import Variant

META_COLUMNS = ["variant_id", "variant", "park", "status", "error", "run_time_s",
                "inputs_built_in_task", "worker", "started_unix_s", "finished_unix_s"]


def build_shared_inputs(park: Park, rollout: Rollout) -> Inputs:
    """The calendar year of inputs that covers the rollout (expand() checked that one does)."""
    from parkgrid.inputs import build_inputs

    start, _ = rollout.period(park.year)
    return build_inputs(park, start.year)


def rollout_kpis(park: Park, rollout: Rollout, inputs: Inputs | None) -> dict[str, Any]:
    """Run the variant's rollout (``parkgrid run``'s engine) and return its KPIs: the
    strategy's period KPIs at the top level, then ``comparison``, ``solver``, ``baselines``,
    ``perfect_foresight`` and ``economics`` sections (units in key names, as in kpis.json).
    The park's economics baseline is run besides the rollout's baselines."""
    from parkgrid.simulate import run

    start, end = rollout.period(park.year)
    baselines = tuple(rollout.baselines)
    if park.economics is not None and park.economics.baseline not in baselines:
        baselines += (park.economics.baseline,)  # the NPV the sweep ranks by needs it
    result = run(park, start.isoformat(), (end - start).days, rollout.forecast, rollout.planner,
                 rollout.seed, inputs=inputs, baselines=baselines,
                 perfect_foresight=rollout.perfect_foresight, keep_schedules=False)
    doc = result.kpis
    solver = {k: v for k, v in doc["solver"].items() if k not in ("per_day", "fallback_days")}
    solver["fallback_days"] = len(doc["solver"].get("fallback_days", []))
    economics = {k: v for k, v in (doc.get("economics") or {}).items() if k != "cashflow"}
    return {**doc["strategy"], "comparison": doc["comparison"], "solver": solver,
            "baselines": doc["baselines"], "perfect_foresight": doc["perfect_foresight"] or {},
            "economics": economics}


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


DEFAULT_KPIS = ("comparison.*", "solver.*", "zero_carbon.*.pass", "perfect_foresight.*",
                "economics.*")
"""Collected besides the strategy's top-level KPIs when the sweep file lists none."""


def select(flat: dict[str, Any], patterns: list[str] | None, always: tuple[str, ...]) -> dict:
    """The KPIs matching any glob pattern (default: the top-level ones and DEFAULT_KPIS),
    plus ``always``."""
    if patterns is None:
        chosen = {k: v for k, v in flat.items()
                  if "." not in k or any(fnmatch.fnmatchcase(k, p) for p in DEFAULT_KPIS)}
    else:
        chosen = {k: v for k, v in flat.items()
                  if any(fnmatch.fnmatchcase(k, p) for p in patterns)}
    chosen.update({k: flat[k] for k in always if k in flat})
    return chosen


def run_variant(variant: Variant, rollout: Rollout, kpis: list[str] | None,
                always: tuple[str, ...], shared: Inputs | None) -> dict[str, Any]:
    """One variant's row: identifiers, swept values, KPIs, status, error and run time."""
    started_unix, started = time.time(), time.perf_counter()
    row: dict[str, Any] = variant.row_head()
    built = shared is None
    try:
        park = variant.park()
        inputs = build_shared_inputs(park, rollout) if shared is None else shared
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
