"""The park's measured state at the start of a plan: the JSON state file and its schema.

A state document (``StateDocument``; JSON Schema in docs/state.schema.json, printed by
``parkgrid json-schema state``)
holds what an EMS reads off the plant: battery SOC, tank level, chiller status, the month's
peak import so far and the EVs plugged in. Every part is optional: what is missing falls
back to the config's initial state, with a warning. Values that contradict the park (an
unknown battery, a SOC outside its window, a departure before the start) are errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parkgrid.config import MAX_KW, Park
from parkgrid.errors import InputDataError, not_utf8
from parkgrid.model import registry
from parkgrid.model.schedule import ParkState

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    """No unknown keys, no coercion (``"0.5"`` is not a number, ``1`` not a boolean), no
    NaN or infinity; timestamps are ISO 8601 strings (:data:`Stamp`)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


Stamp = Annotated[datetime, Field(strict=False)]
"""A timestamp: JSON has none, so an ISO 8601 string (naive = park local time)."""
STALE_H = 1.0
"""A state read longer than this before the plan start is warned about, hours (est.: an EMS
reads the state for a plan minutes before it; an hour-old SOC may be off by the battery's
full power for an hour)."""


class BatteryState(_Strict):
    """One battery."""

    soc: Fraction = Field(description="stored energy as a fraction of energy_kwh")


class TankState(_Strict):
    """The chilled-water tank."""

    level: Fraction = Field(description="stored cooling as a fraction of capacity_kwh_th")


class StoreState(_Strict):
    """Any other store of the park (a kind of the asset registry with a carried state)."""

    level: Fraction = Field(description="stored energy as a fraction of the store's capacity")


class ChillerState(_Strict):
    """One chiller: checked, but no change to the plan (the model has no minimum run time or
    start cost; the end state's status is the plan's last step)."""

    on: bool
    run_time_h: float = Field(0.0, ge=0.0, description="hours since it last started")


class EvState(_Strict):
    """An EV plugged in now."""

    charger: str = Field(description="charger group name from the config")
    pile: int | None = Field(None, ge=0, description="pile of the group (default: next free)")
    energy_due_kwh: float = Field(ge=0.0, description="energy still owed to the car, kWh")
    departure: Stamp = Field(description="ISO 8601; naive = park local time")


class StateDocument(_Strict):
    """The park's state at the start of a plan (all parts optional)."""

    timestamp: Stamp | None = Field(None, description="when the state was read")
    batteries: dict[str, BatteryState] | None = None
    tank: TankState | None = None
    stores: dict[str, StoreState] | None = Field(
        None, description="other stores by name (the asset registry's kinds with a level)")
    chillers: dict[str, ChillerState] | None = None
    month_peak_kw: float | None = Field(None, ge=0.0, le=MAX_KW,
                                        description="highest 15-min import of the month so far")
    evs: list[EvState] | None = Field(None, description="EVs plugged in at the start")


@dataclass
class StartState:
    """A state document resolved against a park at a start time."""

    state: ParkState
    ev_sessions: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def read_state(path: Path | str, park: Park, start: pd.Timestamp) -> StartState:
    """The state file at ``path`` for ``park`` planned from ``start``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputDataError(path, f"state file: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is no error
    except UnicodeDecodeError:
        raise InputDataError(path, f"state file: {not_utf8(raw, 'state file')}") from None
    try:
        document = StateDocument.model_validate_json(text)
    except ValidationError as exc:
        raise InputDataError(path, "state file: " + _problems(exc)) from None
    return resolve_state(document, park, start, str(path))


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(document)'}: {e['msg']}"
                     f" (got {json.dumps(e.get('input'), default=str)[:60]})"
                     for e in exc.errors())


def resolve_state(document: StateDocument, park: Park, start: pd.Timestamp,
                  source: str = "state") -> StartState:
    """``document`` as the planner's state at ``start``: missing parts from the config's
    initial state (warned), contradictions raise :class:`InputDataError` from ``source``."""
    state = ParkState.initial(park)
    state.month = start.month
    warnings: list[str] = []

    def fail(where: str, problem: str) -> InputDataError:
        return InputDataError(source, f"state file: {where}: {problem}")

    read = _local(document.timestamp, park) if document.timestamp is not None else None
    if read is not None and read > start:
        raise fail("timestamp", f"got {document.timestamp.isoformat()}, after the plan start "
                   f"{start.isoformat()}")
    if read is not None and start - read > pd.Timedelta(hours=STALE_H):
        warnings.append(f"{source}: timestamp {read.isoformat()} is "
                        f"{(start - read) / pd.Timedelta(hours=1):.3g} h before the plan start "
                        f"{start.isoformat()}; levels may have moved since")
    given = document.batteries or {}
    for name in given.keys() - {b.name for b in park.batteries}:
        raise fail(f"batteries.{name}", f"no such battery (known: "
                   f"{', '.join(b.name for b in park.batteries) or 'none'})")
    for battery in park.batteries:
        if battery.name not in given:
            warnings.append(f"{source}: no batteries.{battery.name}; using the config's "
                            f"soc_initial {battery.soc_initial:g}")
            continue
        soc = given[battery.name].soc
        if not battery.soc_min - 1e-9 <= soc <= battery.soc_max + 1e-9:
            raise fail(f"batteries.{battery.name}.soc", f"got {soc:g}, expected within the "
                       f"battery's window [{battery.soc_min:g}, {battery.soc_max:g}]")
        state.battery_soc_kwh[battery.name] = soc * battery.energy_kwh
    tank = park.cooling.tank if park.cooling else None
    if document.tank is not None and tank is None:
        raise fail("tank", "the park has no chilled-water tank")
    if tank is not None and document.tank is None:
        warnings.append(f"{source}: no tank; using the config's level_initial "
                        f"{tank.level_initial:g}")
    elif tank is not None and document.tank is not None:
        state.tank_level_kwh_th = document.tank.level * tank.capacity_kwh_th
    warnings += _other_stores(document, park, state, fail, source)
    chillers = document.chillers or {}
    for name in chillers.keys() - state.chillers_on.keys():
        raise fail(f"chillers.{name}", f"no such chiller (known: "
                   f"{', '.join(state.chillers_on) or 'none'})")
    for name in state.chillers_on:
        if name in chillers:
            state.chillers_on[name] = chillers[name].on
        else:
            warnings.append(f"{source}: no chillers.{name}; taken as off")
    if document.month_peak_kw is None:
        warnings.append(f"{source}: no month_peak_kw; taken as 0 kW")
    elif read is not None and (read.year, read.month) != (start.year, start.month):
        warnings.append(f"{source}: month_peak_kw was read on {read:%Y-%m-%d}, in another month "
                        f"than the plan start {start:%Y-%m-%d}; taken as 0 kW (the demand "
                        "charge starts afresh each month)")
    else:
        state.month_peak_kw = document.month_peak_kw
    sessions = _ev_sessions(document.evs, park, start, fail, warnings, source)
    if document.evs is None and park.ev is not None:
        warnings.append(f"{source}: no evs; no EV taken as plugged in at the start")
    return StartState(state, sessions, warnings)


def other_stores(park: Park) -> dict[str, tuple[registry.AssetKind, Any]]:
    """The stores of the state's ``stores`` section by name: the registry's stores but the
    batteries and the tank (which have their own sections)."""
    return {name: item for name, item in registry.stores(park).items()
            if item[0].name not in ("batteries", registry.TANK)}


def _other_stores(document: StateDocument, park: Park, state: ParkState, fail,
                  source: str) -> list[str]:
    """The levels of ``stores``: any registry store but the batteries and the tank, which
    have their own sections; a warning for each store of the park not given."""
    known = other_stores(park)
    given_stores = document.stores or {}
    for name in given_stores.keys() - known.keys():
        raise fail(f"stores.{name}", f"no such store (known: {', '.join(known) or 'none'})")
    warnings = []
    for name, (kind, asset) in known.items():
        assert kind.state is not None
        if name not in given_stores:
            warnings.append(f"{source}: no stores.{name}; using the config's initial level "
                            f"{kind.state.initial(asset):g}")
            continue
        given = given_stores[name]
        low, high = kind.state.window(asset)
        if not low - 1e-9 <= given.level <= high + 1e-9:
            raise fail(f"stores.{name}.level", f"got {given.level:g}, expected within "
                       f"[{low:g}, {high:g}]")
        state.set_level(kind, name, given.level * kind.state.capacity(asset))
    return warnings


def _local(stamp: datetime, park: Park) -> pd.Timestamp:
    ts = pd.Timestamp(stamp)
    tz = park.site.timezone
    return ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)


def _ev_sessions(evs: list[EvState] | None, park: Park, start: pd.Timestamp, fail,
                 warnings: list[str], source: str) -> pd.DataFrame:
    """The plugged-in EVs as sessions from ``start`` (energy and power at the bus); a
    warning for each owed more than its pile can give by its departure."""
    # imported here: the state document alone (the EMS service's HTTP process) needs none of
    # parkgrid.inputs (pvlib, windpowerlib; ~80 MB)
    from parkgrid.inputs.loads import EV_COLUMNS

    if not evs:
        return pd.DataFrame(columns=EV_COLUMNS)
    if park.ev is None:
        raise fail("evs", "the park has no EV chargers")
    by_name = {c.name: c for c in park.ev.chargers}
    used: dict[str, set[int]] = {name: set() for name in by_name}
    rows = []
    for i, ev in enumerate(evs):
        where = f"evs[{i}]"
        charger = by_name.get(ev.charger)
        if charger is None:
            raise fail(f"{where}.charger", f"got {ev.charger!r}, expected one of "
                       f"{', '.join(by_name)}")
        departure = _local(ev.departure, park)
        if departure <= start:
            raise fail(f"{where}.departure", f"got {departure.isoformat()}, not after the plan "
                       f"start {start.isoformat()}")
        free = [p for p in range(charger.count) if p not in used[ev.charger]]
        pile = ev.pile if ev.pile is not None else (free[0] if free else charger.count)
        if pile >= charger.count or pile in used[ev.charger]:
            raise fail(f"{where}.pile", f"got {pile}: {ev.charger!r} has {charger.count} "
                       "pile(s), each holding one car")
        used[ev.charger].add(pile)
        reach_kwh = charger.power_kw * (departure - start) / pd.Timedelta(hours=1)
        if ev.energy_due_kwh > reach_kwh + 1e-9:
            warnings.append(f"{source}: {where}.energy_due_kwh: {ev.energy_due_kwh:g} kWh by "
                            f"{departure.isoformat()}, but a {ev.charger!r} pile charges at "
                            f"most {reach_kwh:g} kWh by then; the rest is planned as unmet")
        rows.append({"charger": ev.charger, "pile": pile, "bus": charger.bus,
                     "arrival": start, "departure": departure,
                     "energy_kwh": ev.energy_due_kwh / charger.efficiency,
                     "max_kw": charger.power_kw / charger.efficiency})
    frame = pd.DataFrame(rows, columns=EV_COLUMNS)
    frame["pile"] = frame["pile"].astype(np.int64)
    return frame
