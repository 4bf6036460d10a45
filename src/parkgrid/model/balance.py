"""Check a schedule (or a simulated ledger) against the park's physics, independently of how
it was produced: energy balance on every bus and for cooling at every step, and every limit.

``check_schedule(frame, park, inputs)`` returns a list of violations (empty when all hold),
each naming the rule, the asset, how far off and the first step where it happens. The frame
uses the schedule columns (docs/schedule.md); ``inputs`` covers the same steps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.inputs import Inputs
from parkgrid.model import registry
from parkgrid.model.physics import Storage, chiller_electric_kw
from parkgrid.model.schedule import asset_column, asset_names

TOL = 1e-3
"""Absolute tolerance (kW, kWh) plus 1e-6 of the quantity's scale."""


class _Checker:
    def __init__(self, frame: pd.DataFrame, park: Park, inputs: Inputs, tol: float) -> None:
        self.frame, self.park, self.inputs, self.tol = frame, park, inputs, tol
        self.names = asset_names(park)
        self.dt = park.step_h
        self.problems: list[str] = []

    def col(self, base: str, kind: str | None = None, name: str | None = None) -> np.ndarray:
        """A column as floats; a missing column is reported once and read as zeros."""
        column = base if kind is None else asset_column(base, name or "", self.names[kind])
        if column not in self.frame:
            self.problems.append(f"missing column {column!r}")
            self.frame = self.frame.assign(**{column: 0.0})
        return self.frame[column].to_numpy(dtype=float)

    def expect(self, bad: np.ndarray, what: str, size: np.ndarray | float = 0.0) -> None:
        """Report the steps where ``bad`` holds: count, worst size and first step."""
        bad = np.asarray(bad, dtype=bool)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            worst = float(np.max(np.abs(np.broadcast_to(size, bad.shape)[bad])))
            self.problems.append(f"{what}: {int(bad.sum())} step(s), worst {worst:.6g}, first at "
                                 f"{self.frame.index[first]} (step {first})")

    def close(self, a: np.ndarray, b: np.ndarray | float, what: str) -> None:
        diff = np.asarray(a - b, dtype=float)
        scale = np.maximum(np.abs(a), np.abs(b))
        self.expect(np.abs(diff) > self.tol + 1e-6 * scale, what, diff)

    def within(self, values: np.ndarray, lo: float | np.ndarray, hi: float | np.ndarray,
               what: str) -> None:
        over = np.maximum(values - hi, lo - values)
        self.expect(over > self.tol + 1e-6 * np.abs(values), what, over)

    def storage(self, what: str, store: Storage, level: np.ndarray, charge: np.ndarray,
                discharge: np.ndarray) -> None:
        """A store's level window and level chain (:func:`_storage`)."""
        _storage(self, what, store, level, charge, discharge)

    def exclusive(self, a: np.ndarray, b: np.ndarray, what: str) -> None:
        self.expect((a > self.tol) & (b > self.tol), f"{what} at the same step", np.minimum(a, b))


def check_schedule(frame: pd.DataFrame, park: Park, inputs: Inputs,
                   tol: float = TOL) -> list[str]:
    """Violations of balance and limits in ``frame`` (one row per step of ``inputs``)."""
    if len(frame) != len(inputs.series):
        return [f"frame has {len(frame)} rows, the inputs {len(inputs.series)} steps"]
    c = _Checker(frame, park, inputs, tol)
    checks: list[Callable[[_Checker], None]] = [
        _grid, _renewables, _batteries, _cooling, *registry.hooks("checks"), _flexible,
    ]
    for check in checks:
        check(c)
    flows = _flows(c)
    for bus, flow in _converter(c).items():
        flows[bus] = flows[bus] + flow
    _loads_and_balance(c, flows)
    _thermal_balance(c, flows)
    return c.problems


def _flows(c: _Checker) -> dict[str, np.ndarray]:
    """Per bus: Σ sources − Σ sinks of every asset column of the registry (each kind's
    column on its asset's bus, or on its carrier's bus), without demands and unserved."""
    skip = {k.demand for k in registry.CARRIERS.values()} | {
        k.unserved for k in registry.CARRIERS.values()}
    flows = {bus: np.zeros(len(c.frame)) for bus in registry.buses(c.park)}
    for kind in registry.KINDS.values():
        columns = [col for col in kind.columns
                   if col.role in ("source", "sink") and col.base not in skip]
        for asset in kind.assets(c.park) if columns else []:
            name = kind.name_of(asset)
            for col in columns:
                bus = kind.bus_of(asset) if col.carrier == "electricity" else \
                    registry.carrier_bus(col.carrier)
                sign = 1.0 if col.role == "source" else -1.0
                values = c.col(col.base, kind.name if kind.per_asset else None, name)
                flows[bus] = flows[bus] + sign * values
    return flows


def _grid(c: _Checker) -> None:
    imp, exp = c.col("grid_import_kw"), c.col("grid_export_kw")
    grid = c.park.grid
    c.within(imp, 0.0, grid.import_limit_kw, "grid import outside [0, import_limit_kw]")
    c.within(exp, 0.0, grid.export_limit_kw, "grid export outside [0, export_limit_kw]")
    c.exclusive(imp, exp, "grid import and export")


def _renewables(c: _Checker) -> None:
    for kind, name in [("pv", a.name) for a in c.park.pv] + [("wind", w.name)
                                                              for w in c.park.wind]:
        used = c.col(f"{kind}_kw", kind, name)
        curtailed = c.col(f"{kind}_curtailed_kw", kind, name)
        available = c.inputs.series[f"{kind}_kw_{name}"].to_numpy(dtype=float).clip(0.0)
        c.within(used, 0.0, available, f"{kind} {name}: used power outside [0, available]")
        c.close(used + curtailed, available, f"{kind} {name}: used + curtailed ≠ available")


def _storage(c: _Checker, what: str, store: Storage, level: np.ndarray, charge: np.ndarray,
             discharge: np.ndarray) -> None:
    """Level within its window, and each step's change what ``store``'s step stores."""
    window = (store.lo, store.hi)
    c.within(level, *window, f"{what}: level outside [{window[0]:g}, {window[1]:g}]")
    c.exclusive(charge, discharge, f"{what}: charge and discharge")
    if len(level) > 1:
        c.close(level[1:] - store.keep * level[:-1], store.stored(charge[1:], discharge[1:]),
                f"{what}: level change ≠ stored energy")
    start = store.before(level[0], charge[0], discharge[0])
    c.within(np.array([start]), *window, f"{what}: implied start level outside its window")


def _batteries(c: _Checker) -> None:
    for b in c.park.batteries:
        ch = c.col("battery_charge_kw", "batteries", b.name)
        dis = c.col("battery_discharge_kw", "batteries", b.name)
        soc = c.col("battery_soc_kwh", "batteries", b.name)
        c.within(ch, 0.0, b.power_kw, f"battery {b.name}: charge outside [0, power_kw]")
        c.within(dis, 0.0, b.power_kw, f"battery {b.name}: discharge outside [0, power_kw]")
        _storage(c, f"battery {b.name}", Storage.battery(b, c.dt), soc, ch, dis)


def _cooling(c: _Checker) -> None:
    cooling = c.park.cooling
    if cooling is None:
        return
    for ch in cooling.chillers:
        q = c.col("chiller_cooling_kw_th", "chillers", ch.name)
        e = c.col("chiller_electric_kw", "chillers", ch.name)
        c.within(q, 0.0, ch.capacity_kw_th, f"chiller {ch.name}: output outside [0, capacity]")
        low = (q > c.tol) & (q < ch.min_part_load * ch.capacity_kw_th - c.tol)
        c.expect(low, f"chiller {ch.name}: output below its minimum part load", q)
        c.close(e, chiller_electric_kw(ch, q), f"chiller {ch.name}: electricity ≠ its COP curve")
    tank = cooling.tank
    if tank is not None:
        tc, td = c.col("tes_charge_kw_th"), c.col("tes_discharge_kw_th")
        level = c.col("tes_level_kwh_th")
        c.within(tc, 0.0, tank.max_charge_kw_th, "tank charge outside [0, max_charge_kw_th]")
        c.within(td, 0.0, tank.max_discharge_kw_th,
                 "tank discharge outside [0, max_discharge_kw_th]")
        _storage(c, "tank", Storage.tank(tank, c.dt), level, tc, td)


def _converter(c: _Checker) -> dict[str, np.ndarray]:
    dc = c.park.buses.dc
    if dc is None:
        return {}
    a2d, d2a = c.col("converter_ac_to_dc_kw"), c.col("converter_dc_to_ac_kw")
    c.within(a2d, 0.0, dc.converter_kw, "converter AC→DC outside [0, converter_kw]")
    c.within(d2a, 0.0, dc.converter_kw, "converter DC→AC outside [0, converter_kw]")
    c.exclusive(a2d, d2a, "converter AC→DC and DC→AC")
    eta = dc.converter_efficiency
    return {"ac": eta * d2a - a2d, "dc": eta * a2d - d2a}


def _plugged_kw(c: _Checker, charger: str) -> np.ndarray:
    """Most power the charger's plugged-in sessions can draw in each step (bus side), kW."""
    edges = c.inputs.index.append(pd.DatetimeIndex([c.inputs.index[-1]
                                                    + pd.Timedelta(hours=c.dt)]))
    start, end = edges[:-1], edges[1:]
    limit = np.zeros(len(start))
    sessions = c.inputs.ev_sessions
    for s in sessions[sessions["charger"] == charger].itertuples(index=False):
        overlap = (np.minimum(end, pd.Timestamp(s.departure))
                   - np.maximum(start, pd.Timestamp(s.arrival)))
        share = np.clip(overlap / pd.Timedelta(hours=c.dt), 0.0, 1.0)
        limit += s.max_kw * share
    return limit


def _window_open(c: _Checker, d: object) -> np.ndarray:
    """Share of each step inside the deferrable load's window on an eligible day."""
    index = c.inputs.index
    hour = (index - index.normalize()) / pd.Timedelta(hours=1)
    start = np.clip(d.window_start_h - hour, 0.0, c.dt)  # type: ignore[attr-defined]
    end = np.clip(d.window_end_h - hour, 0.0, c.dt)  # type: ignore[attr-defined]
    share = (end - start) / c.dt
    if d.workdays_only:  # type: ignore[attr-defined]
        holiday = c.inputs.series["is_holiday"].to_numpy(dtype=bool)
        share = np.where((index.weekday < 5) & ~holiday, share, 0.0)
    return share


def _flexible(c: _Checker) -> None:
    for ch in c.park.ev.chargers if c.park.ev else []:
        kw = c.col("ev_charge_kw", "chargers", ch.name)
        c.within(kw, 0.0, _plugged_kw(c, ch.name),
                 f"EV charger {ch.name}: power outside [0, plugged-in sessions' max_kw]")
    for d in c.park.deferrable:
        kw = c.col("deferrable_kw", "deferrable", d.name)
        c.within(kw, 0.0, d.max_kw * _window_open(c, d),
                 f"deferrable {d.name}: power outside [0, max_kw within its window]")


def _loads_and_balance(c: _Checker, flows: dict[str, np.ndarray]) -> None:
    loads = {bus: c.inputs.bus_total_kw("load_kw_", c.park.loads, bus).to_numpy(dtype=float)
             for bus in ("ac", "dc")}
    c.close(c.col("load_kw"), loads["ac"] + loads["dc"], "load_kw ≠ the inputs' loads")
    for bus in registry.buses(c.park, "electricity"):
        unserved = c.col("unserved_kw", "buses", bus)
        c.within(unserved, 0.0, np.inf, f"negative unserved power on the {bus.upper()} bus")
        c.close(flows[bus] + unserved, loads[bus], f"{bus.upper()} bus balance off")


def _thermal_balance(c: _Checker, flows: dict[str, np.ndarray]) -> None:
    """Each thermal carrier: its demand column echoes the inputs; on its bus, supply
    (sources − sinks) plus unserved meets the demand (more is allowed: a plant at its
    minimum part load over-supplies)."""
    for carrier in registry.CARRIERS.values():
        if carrier.name == "electricity":
            continue
        demand = (c.inputs.series[carrier.demand].to_numpy(dtype=float)
                  if carrier.demand in c.inputs.series else np.zeros(len(c.frame)))
        c.close(c.col(carrier.demand), demand, f"{carrier.demand} ≠ the inputs")
        bus = registry.carrier_bus(carrier.name)
        if bus not in flows:
            continue
        unserved = c.col(carrier.unserved)
        c.within(unserved, 0.0, np.inf, f"negative unserved {carrier.name}")
        supply = flows[bus] + unserved
        c.expect(supply < demand - c.tol - 1e-6 * demand, f"{carrier.name} supply below demand",
                 demand - supply)
