"""From solution columns to the published schedule: column names, costs and the state out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.model import costs
from parkgrid.model.registry import AssetKind
from parkgrid.model.schedule import (
    GRID_EXPORT,
    GRID_IMPORT,
    PER_ASSET_COLUMNS,
    SCHEDULE_COLUMNS,
    ParkState,
    asset_column,
    asset_names,
)
from parkgrid.optimizer.grid import demand_charge_yuan, demand_peaks_kw
from parkgrid.optimizer.horizon import Horizon


def publish(cols: dict[str, np.ndarray], park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    """The schedule frame: ``SCHEDULE_COLUMNS`` in order, per-asset columns suffixed only
    when the park has several assets of the kind, zeros for kinds the park lacks."""
    names = asset_names(park)
    kind_of = {base: kind for kind, bases in PER_ASSET_COLUMNS.items() for base in bases}
    bases = SCHEDULE_COLUMNS + [b for b in kind_of if b not in SCHEDULE_COLUMNS]
    frame: dict[str, object] = {}
    for base in bases:
        if base not in kind_of:
            frame[base] = cols.get(base, np.zeros(len(index)))
            continue
        assets = names[kind_of[base]]
        if not assets:
            frame[base] = np.zeros(len(index))
        for name in assets:
            frame[asset_column(base, name, assets)] = cols[f"{base}_{name}"]
    out = pd.DataFrame(frame, index=index)
    out.index.name = "timestamp"
    return out


def _sum(cols: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    parts = [v for k, v in cols.items() if k == prefix or k.startswith(prefix + "_")]
    return np.sum(parts, axis=0) if parts else np.zeros(len(cols[GRID_IMPORT]))


def objective_parts(cols: dict[str, np.ndarray], h: Horizon,
                    unmet_kwh: dict[str, float]) -> dict[str, float]:
    """The schedule's cost and CO2 breakdown (:mod:`parkgrid.model.costs`, the KPIs' names)
    and its grid energies, from its final columns."""
    park, dt = h.park, h.step_h
    imp = cols[GRID_IMPORT]
    flows = costs.Flows(
        column=lambda base: _sum(cols, base),
        asset=lambda kind, base, name: cols[f"{base}_{name}"],
        price_import=h.column("price_import_yuan_per_kwh"),
        price_export=h.column("price_export_yuan_per_kwh"),
        co2_kg_per_kwh=h.column("co2_kg_per_kwh"),
        unmet_kwh=unmet_kwh, step_h=dt)
    lines = costs.complete(costs.energy_lines(flows, park),
                           demand_charge_yuan(park, imp, h.index, h.state.month_peak_kw),
                           park, h.carbon_in_objective)
    return lines | {"imported_kwh": float(imp.sum() * dt),
                    "exported_kwh": float(cols[GRID_EXPORT].sum() * dt)}


def state_out(cols: dict[str, np.ndarray], h: Horizon) -> ParkState:
    """The state at the end of the horizon (the month-to-date peak includes its imports)."""
    park = h.park
    this, following = demand_peaks_kw(cols[GRID_IMPORT], h.index, park.time_step_minutes)
    if following is None:
        month, peak = h.index[0].month, max(h.state.month_peak_kw, this)
    else:
        month, peak = h.index[-1].month, following
    chillers = park.cooling.chillers if park.cooling else []
    state = ParkState({}, 0.0, {c.name: bool(cols[f"chiller_on_{c.name}"][-1]) for c in chillers},
                      peak, month)

    def level(kind: AssetKind, name: str, column: str) -> float:
        assert kind.state is not None  # internal columns: per-asset ones always suffixed
        return cols[f"{kind.state.column}_{name}" if kind.per_asset else kind.state.column][-1]

    return state.set_levels_from(park, level)
