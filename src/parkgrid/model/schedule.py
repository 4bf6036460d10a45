"""The planner contract: the state carried between horizons and the schedule a planner returns.

Every planner (MILP, rule-based, none) is a callable ``plan(inputs, state) -> Schedule``.
The schedule frame has one row per step and the documented columns (``SCHEDULE_COLUMNS``;
per-asset columns are suffixed with ``_<asset>`` when a park has several of that kind, see
``PER_ASSET_COLUMNS`` and :func:`asset_column`; then there is no unsuffixed total column).
The full schema is in docs/schedule.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from parkgrid.config import Park

SCHEMA_VERSION = "1.1"

SCHEDULE_COLUMNS = [
    "grid_import_kw", "grid_export_kw",
    "pv_kw", "pv_curtailed_kw", "wind_kw", "wind_curtailed_kw",
    "battery_charge_kw", "battery_discharge_kw", "battery_soc_kwh",
    "chiller_electric_kw", "chiller_cooling_kw_th",
    "tes_charge_kw_th", "tes_discharge_kw_th", "tes_level_kwh_th",
    "ev_charge_kw", "deferrable_kw", "load_kw", "cooling_load_kw_th",
    "converter_ac_to_dc_kw", "converter_dc_to_ac_kw",
    "unserved_kw", "cooling_unserved_kw_th",
    "price_import", "price_export", "tou_period", "co2_kg_per_kwh",
]

PER_ASSET_COLUMNS: dict[str, tuple[str, ...]] = {
    "pv": ("pv_kw", "pv_curtailed_kw"),
    "wind": ("wind_kw", "wind_curtailed_kw"),
    "batteries": ("battery_charge_kw", "battery_discharge_kw", "battery_soc_kwh"),
    "chillers": ("chiller_electric_kw", "chiller_cooling_kw_th", "chiller_on"),
    "deferrable": ("deferrable_kw",),
    "chargers": ("ev_charge_kw",),
    "buses": ("unserved_kw",),
}
"""Columns kept per asset of a kind (the kind's asset names from :func:`asset_names`)."""


def asset_names(park: Park) -> dict[str, list[str]]:
    """The asset names of each kind in ``PER_ASSET_COLUMNS`` ('buses': 'ac', and 'dc' if any)."""
    return {
        "pv": [a.name for a in park.pv],
        "wind": [w.name for w in park.wind],
        "batteries": [b.name for b in park.batteries],
        "chillers": [c.name for c in park.cooling.chillers] if park.cooling else [],
        "deferrable": [d.name for d in park.deferrable],
        "chargers": [c.name for c in park.ev.chargers] if park.ev else [],
        "buses": ["ac", "dc"] if park.buses.dc is not None else ["ac"],
    }


def asset_column(base: str, name: str, names: list[str]) -> str:
    """The column of ``base`` for asset ``name`` among ``names`` of its kind."""
    return f"{base}_{name}" if len(names) > 1 else base


@dataclass
class ParkState:
    """What one horizon hands to the next."""

    battery_soc_kwh: dict[str, float]
    tank_level_kwh_th: float
    chillers_on: dict[str, bool]
    month_peak_kw: float
    month: int | None = None
    hot_tank_level_kwh_th: float = 0.0

    @classmethod
    def initial(cls, park: Park) -> ParkState:
        """The state at the start of a run, from the config's initial values."""
        tank = park.cooling.tank if park.cooling is not None else None
        return cls(
            battery_soc_kwh={b.name: b.soc_initial * b.energy_kwh for b in park.batteries},
            tank_level_kwh_th=tank.level_initial * tank.capacity_kwh_th if tank else 0.0,
            chillers_on={c.name: False for c in park.cooling.chillers} if park.cooling else {},
            month_peak_kw=0.0,
            hot_tank_level_kwh_th=(park.heating.tank.level_initial
                                   * park.heating.tank.capacity_kwh_th
                                   if park.heating and park.heating.tank else 0.0),
        )

    def for_month(self, month: int) -> ParkState:
        """The same state, with the month-to-date peak reset when the month changes (a state
        without a month is taken to be of ``month``)."""
        if self.month == month:
            return self
        return ParkState(dict(self.battery_soc_kwh), self.tank_level_kwh_th,
                         dict(self.chillers_on),
                         self.month_peak_kw if self.month is None else 0.0, month,
                         self.hot_tank_level_kwh_th)


@dataclass
class Schedule:
    """A plan: one row per step, solver facts, and the state at the end of the horizon."""

    frame: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)
    state_out: ParkState | None = None


def meta_float(value: object) -> float | None:
    """A number from a schedule's metadata as float, None when absent or not a number."""
    try:
        return None if value is None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class Planner(Protocol):
    def __call__(self, inputs: Any, state: ParkState) -> Schedule: ...
