"""The planner contract: the state carried between horizons and the schedule a planner returns.

Every planner (MILP, rule-based, none) is a callable ``plan(inputs, state) -> Schedule``.
The schedule frame has one row per step and the documented columns (``SCHEDULE_COLUMNS``;
per-asset columns are suffixed with ``_<asset>`` when a park has several of that kind, see
``PER_ASSET_COLUMNS`` and :func:`asset_column`; then there is no unsuffixed total column).
The full schema is in docs/schedule.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import pandas as pd

from parkgrid.config import Park
from parkgrid.model import registry
from parkgrid.model.registry import AssetKind

SCHEMA_VERSION = "1.1"

SCHEDULE_COLUMNS = registry.schedule_columns()
"""The published columns in order, from :data:`parkgrid.model.registry.KINDS`."""

GRID_IMPORT, GRID_EXPORT = "grid_import_kw", "grid_export_kw"
BATTERY_CHARGE, BATTERY_DISCHARGE, BATTERY_SOC = (
    "battery_charge_kw", "battery_discharge_kw", "battery_soc_kwh")
TANK_CHARGE, TANK_DISCHARGE, TANK_LEVEL = (
    "tes_charge_kw_th", "tes_discharge_kw_th", "tes_level_kwh_th")
CHILLER_ELECTRIC, CHILLER_COOLING = "chiller_electric_kw", "chiller_cooling_kw_th"
LOAD, COOLING_LOAD = "load_kw", "cooling_load_kw_th"
UNSERVED, COOLING_UNSERVED = "unserved_kw", "cooling_unserved_kw_th"
A2D, D2A = "converter_ac_to_dc_kw", "converter_dc_to_ac_kw"
"""The schedule columns most modules read, by name (the registry declares them all)."""
assert {GRID_IMPORT, GRID_EXPORT, BATTERY_CHARGE, BATTERY_DISCHARGE, BATTERY_SOC, TANK_CHARGE,
        TANK_DISCHARGE, TANK_LEVEL, CHILLER_ELECTRIC, CHILLER_COOLING, LOAD, COOLING_LOAD,
        UNSERVED, COOLING_UNSERVED, A2D, D2A} <= set(SCHEDULE_COLUMNS)

PER_ASSET_COLUMNS: dict[str, tuple[str, ...]] = registry.per_asset_columns()
"""Columns kept per asset of a kind (the kind's asset names from :func:`asset_names`)."""


def asset_names(park: Park) -> dict[str, list[str]]:
    """The asset names of each kind in ``PER_ASSET_COLUMNS`` ('buses': 'ac', and 'dc' if any)."""
    return {name: registry.KINDS[name].names(park) for name in PER_ASSET_COLUMNS}


def asset_column(base: str, name: str, names: list[str]) -> str:
    """The column of ``base`` for asset ``name`` among ``names`` of its kind."""
    return f"{base}_{name}" if len(names) > 1 else base


def level_column(kind: AssetKind, name: str, names: list[str]) -> str:
    """The published column holding the level of store ``name`` of ``kind``."""
    assert kind.state is not None
    return asset_column(kind.state.column, name, names) if kind.per_asset else kind.state.column


@dataclass
class ParkState:
    """What one horizon hands to the next: every store's level (by the key of its kind's
    :class:`~parkgrid.model.registry.State`: the batteries' and the tank's keep their
    fields, other kinds' levels are in ``stored``), the chillers' commitment and the
    month-to-date peak."""

    battery_soc_kwh: dict[str, float]
    tank_level_kwh_th: float
    chillers_on: dict[str, bool]
    month_peak_kw: float
    month: int | None = None
    stored: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def initial(cls, park: Park) -> ParkState:
        """The state at the start of a run, from the config's initial values."""
        state = cls({}, 0.0, {c.name: False for c in park.cooling.chillers}
                    if park.cooling else {}, 0.0)
        for kind in registry.kinds_with("state"):
            spec = kind.state
            assert spec is not None
            for a in kind.assets(park):
                state.set_level(kind, kind.name_of(a), spec.initial(a) * spec.capacity(a))
        return state

    def levels(self, kind: AssetKind) -> dict[str, float]:
        """Stored energy of ``kind``'s assets by name (a copy for a single-asset field)."""
        key = kind.state.key if kind.state else kind.name
        value = getattr(self, key, None)
        if isinstance(value, dict):
            return value
        if isinstance(value, int | float):
            return {kind.name_of(None): value}
        return self.stored.setdefault(key, {})

    def set_level(self, kind: AssetKind, name: str, level: float) -> None:
        """Set the stored energy of asset ``name`` of ``kind``."""
        key = kind.state.key if kind.state else kind.name
        value = getattr(self, key, None)
        if isinstance(value, int | float):
            setattr(self, key, level)
        else:
            self.levels(kind)[name] = level

    def set_levels_from(self, park: Park, level_of: Any) -> ParkState:
        """Set every store's level from ``level_of(kind, name, column)`` (``column``: the
        published level column); returns ``self``."""
        for kind in registry.kinds_with("state"):
            names = kind.names(park)
            for name in names:
                self.set_level(kind, name, float(level_of(kind, name,
                                                          level_column(kind, name, names))))
        return self

    def for_month(self, month: int) -> ParkState:
        """The same state, with the month-to-date peak reset when the month changes (a state
        without a month is taken to be of ``month``)."""
        if self.month == month:
            return self
        return ParkState(dict(self.battery_soc_kwh), self.tank_level_kwh_th,
                         dict(self.chillers_on),
                         self.month_peak_kw if self.month is None else 0.0, month,
                         {k: dict(v) for k, v in self.stored.items()})

    def to_dict(self) -> dict[str, Any]:
        """As plain types (``state_out`` of a plan's metadata; ``stored`` only when used)."""
        out = asdict(self)
        if not out["stored"]:
            del out["stored"]
        return out


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
