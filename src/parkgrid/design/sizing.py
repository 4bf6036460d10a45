"""Optimal sizing: the perfect-foresight LP of the optimizer with asset sizes as decisions.

The park's own model (:class:`.optimizer.model.ParkModel`, every block unchanged) is built
with each sized asset at its upper bound and solved as the bound solves a month (integers
relaxed, free initial state, no tie-break terms). Then, in the compiled HiGHS model, one
column per sized asset (battery kWh, tank kWh_th, PV kWp, wind kW) is added and the
asset's capacity limits become rows scaled by it:

- battery: ``soc_min·E ≤ soc ≤ soc_max·E``, ``charge + discharge ≤ (P/E)·E`` (duration kept);
- tank: ``level ≤ C``, ``charge ≤ (max_charge/C)·C``, ``discharge ≤ (max_discharge/C)·C``;
- PV / wind: ``used ≤ available per kWp (kW) × S`` (the arrays / farms keep their shares).

Each column costs its annualised lifecycle cost per unit (capital recovery factor of the
``economics`` discount rate times the present value of capex, replacements and O&M less
the residual, :func:`.economics.asset_cash`) times the period's share of a year; fixed capex
(``capex_fixed_yuan``) is left out (non-convex). Storage is cyclic (the level at the end
equals the start). The demand charge gets one peak column per calendar month (rate ×
peak), replacing the day-ahead model's two month parts.

Reduction: a year of 15-min steps is too large for one LP, so the year is solved at
``step_minutes`` (60 by default; docs/economics.md gives the measured error).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np
import numpy_financial as npf
import pandas as pd

from parkgrid.config import Park, parse_park
from parkgrid.design.economics import asset_cash, asset_size, spent
from parkgrid.errors import ConfigError, SolverError
from parkgrid.inputs import Inputs, build_inputs
from parkgrid.model.schedule import ParkState
from parkgrid.optimizer.grid import demand_block_steps, demand_rate, demand_threshold_kw
from parkgrid.optimizer.horizon import Horizon, PlanOptions
from parkgrid.optimizer.model import ParkModel

INF = highspy.kHighsInf
ASSETS = {"battery": "kWh", "tank": "kWh_th", "pv": "kWp", "wind": "kW"}
"""Sizable assets and the unit of their size."""
KIND = {"battery": "batteries", "tank": "tank", "pv": "pv", "wind": "wind"}
DEFAULT_UPPER = 4.0
"""Default upper bound: this many times the configured size."""


@dataclass
class SizingResult:
    """The LP's sizes and costs."""

    sizes: dict[str, float]
    bounds: dict[str, tuple[float, float]]
    objective_yuan: float
    operating_yuan: float
    annualised_yuan: dict[str, float]
    kpis: dict[str, Any]
    solve_s: float
    steps: int

    @property
    def binding(self) -> dict[str, str | None]:
        """'lower' / 'upper' where a size sits on its bound (relative 1e-6), else None."""
        out: dict[str, str | None] = {}
        for name, size in self.sizes.items():
            lo, hi = self.bounds[name]
            tol = 1e-6 * max(1.0, hi)
            out[name] = "lower" if size <= lo + tol else "upper" if size >= hi - tol else None
        return out


def _bad(source: str, problem: str) -> ConfigError:
    return ConfigError(source, [problem])


def configured_size(park: Park, asset: str) -> float:
    """The park's present size of ``asset`` (its unit: :data:`ASSETS`)."""
    if asset == "battery":
        return sum(b.energy_kwh for b in park.batteries)
    if asset == "tank":
        return park.cooling.tank.capacity_kwh_th if park.cooling and park.cooling.tank else 0.0
    if asset == "pv":
        return sum(a.capacity_kwp for a in park.pv)
    return sum(asset_size("wind", w, park)[0] for w in park.wind)


def parse_assets(park: Park, text: str) -> list[str]:
    """``battery,tank`` → the asset list; unknown or absent ones are a ConfigError."""
    names = [a.strip() for a in text.split(",") if a.strip()]
    if not names:
        raise _bad("--assets", "--assets is empty; expected some of "
                          + ",".join(ASSETS))
    for name in names:
        if name not in ASSETS:
            raise _bad("--assets", f"--assets: got {name!r}, expected some of "
                              + ",".join(ASSETS))
        if configured_size(park, name) <= 0:
            raise _bad("--assets", f"--assets: {park.name} has no {name} to size "
                              "(add one to the park, its size sets the shape)")
        kind = KIND[name]
        costed = [a for k, _n, a in park.costed_assets() if k == kind and a.cost is not None]
        if not costed:
            raise _bad("--assets", f"--assets: {name} has no cost: block to size it by")
    if park.economics is None:
        raise _bad("economics", f"{park.name} has no economics: section; sizing needs "
                          "its discount rate and analysis years")
    return names


def parse_bounds(park: Park, assets: list[str], items: list[str]
                 ) -> dict[str, tuple[float, float]]:
    """``["battery=0:4000"]`` → bounds per asset; the rest default to 0 … 4 × configured."""
    bounds = {a: (0.0, DEFAULT_UPPER * configured_size(park, a)) for a in assets}
    for item in items:
        name, sep, span = item.partition("=")
        lo_text, sep2, hi_text = span.partition(":")
        if not sep or not sep2 or name not in assets:
            raise _bad("--bounds", f"--bounds: got {item!r}, expected ASSET=LO:HI with "
                              f"ASSET one of the sized assets {assets}")
        try:
            lo, hi = float(lo_text), float(hi_text)
        except ValueError:
            raise _bad("--bounds", f"--bounds: got {item!r}, LO and HI must be "
                              "numbers") from None
        if not (0 <= lo <= hi and hi > 0 and np.isfinite(hi)):
            raise _bad("--bounds", f"--bounds: got {item!r}, expected 0 ≤ LO ≤ HI, "
                              "HI > 0")
        bounds[name] = (lo, hi)
    return bounds


def annualised_yuan_per_unit(park: Park, asset: str) -> float:
    """Lifecycle cost per unit of size (capex + replacements + O&M − residual, present
    value) times the capital recovery factor: yuan per unit-year."""
    eco = park.economics
    assert eco is not None
    kind, n, r = KIND[asset], eco.analysis_years, eco.discount_rate
    discount = (1.0 + r) ** -np.arange(n + 1)
    crf = -float(npf.pmt(r, n, 1.0))  # capital recovery factor
    total, units = 0.0, 0.0
    for k, _name, item in park.costed_assets():
        if k != kind or item.cost is None:
            continue
        size, power = asset_size(kind, item, park)
        cost = item.cost.model_copy(update={"capex_fixed_yuan": 0.0})
        lines = asset_cash(cost, size, power, n, eco.om_escalation, sunk=False)
        total += float(discount @ spent(lines))
        units += size
    return crf * total / units


def scaled_park(park: Park, sizes: dict[str, float]) -> Park:
    """``park`` with each asset of ``sizes`` scaled to that total size (shapes kept; size 0
    removes the asset)."""
    data = park.model_dump(mode="python")
    for asset, size in sizes.items():
        if size <= 0:  # none of it
            if asset == "tank":
                data["cooling"]["tank"] = None
            else:
                data[KIND[asset]] = []
            continue
        f = size / configured_size(park, asset)
        if asset == "battery":
            for b in data["batteries"]:
                b["energy_kwh"] *= f
                b["power_kw"] *= f
        elif asset == "tank":
            tank = data["cooling"]["tank"]
            for key in ("capacity_kwh_th", "max_charge_kw_th", "max_discharge_kw_th"):
                tank[key] *= f
        elif asset == "pv":
            for a in data["pv"]:
                a["capacity_kwp"] *= f
        else:
            for w in data["wind"]:
                w["count"] = max(1, round(w["count"] * f))
    return parse_park(data, park.source_file or "<memory>")


class SizingModel:
    """The sizing LP of ``park`` over ``inputs`` (any period; its own time step)."""

    def __init__(self, park: Park, inputs: Inputs, bounds: dict[str, tuple[float, float]],
                 cyclic: bool = True) -> None:
        self.park, self.inputs, self.bounds = park, inputs, bounds
        hi = {a: hi for a, (_lo, hi) in bounds.items() if a in ("battery", "tank")}
        self.model_park = scaled_park(park, hi) if hi else park
        options = PlanOptions(relax_integers=True, initial_state="free", tie_break=False)
        self.h = Horizon(self.model_park, inputs, ParkState.initial(self.model_park), options)
        self.pm = ParkModel(self.model_park, self.h.n)
        c = self.pm.compiled
        c.push(self.pm.data(self.h), relax_integers=True, tie_break=False)
        self.highs: highspy.Highs = c.highs
        self.days = self.h.n * park.step_h / 24.0
        self.size_col: dict[str, int] = {}
        self._rows: list[tuple[float, float, list[int], list[float]]] = []
        self.annual = {a: annualised_yuan_per_unit(park, a) for a in bounds}
        for asset, (lo, up) in bounds.items():
            self.size_col[asset] = self._add_col(self.annual[asset] * self.days / 365.0, lo, up)
            getattr(self, f"_rows_{asset}")(self.size_col[asset], cyclic)
        if cyclic:
            self._cyclic_rest()
        self._monthly_demand()
        self._flush()

    def _add_col(self, cost: float, lo: float, hi: float) -> int:
        self.highs.addCol(cost, lo, hi, 0, np.array([], np.int32), np.array([], float))
        return self.highs.getNumCol() - 1

    def _row(self, lo: float, hi: float, cols: list[int], vals: list[float]) -> None:
        """Queue a row (added at once by :meth:`_flush`: HiGHS adds rows one by one slowly)."""
        self._rows.append((lo, hi, cols, vals))

    def _flush(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        starts = np.cumsum([0, *[len(r[2]) for r in rows[:-1]]]).astype(np.int32)
        index = np.fromiter((c for r in rows for c in r[2]), np.int32)
        value = np.fromiter((v for r in rows for v in r[3]), float)
        self.highs.addRows(len(rows), np.array([r[0] for r in rows], float),
                           np.array([r[1] for r in rows], float), index.size, starts, index,
                           value)

    def _out(self, key: str) -> np.ndarray:
        return self.pm.compiled.outputs[key]

    def _slot(self, key: str) -> int:
        return int(self.pm.compiled.slots[key][1][0])

    def _free(self, cols: np.ndarray) -> None:
        cols = np.asarray(cols, np.int32)
        self.highs.changeColsBounds(cols.size, cols, np.zeros(cols.size),
                                    np.full(cols.size, INF))

    def _store(self, key: str, e: int, level: np.ndarray, lo: float, hi: float,
               cyclic: bool) -> None:
        """Level and start within [lo·E, hi·E]; the end rule's floor (set for the upper
        size) dropped; level at the end = start when ``cyclic``."""
        start = self._slot(f"{key}.start_lo")
        end = self._slot(f"{key}.end")
        self.highs.changeRowBounds(end, -INF, INF)
        self._free(np.r_[level, start])
        for col in [*level.tolist(), start]:
            self._row(-INF, 0.0, [col, e], [1.0, -hi])
            if lo > 0:
                self._row(0.0, INF, [col, e], [1.0, -lo])
        if cyclic:
            self._row(0.0, 0.0, [start, int(level[-1])], [1.0, -1.0])

    def _rows_battery(self, e: int, cyclic: bool) -> None:
        for b in self.model_park.batteries:
            key, share = f"battery.{b.name}", b.energy_kwh / self.bounds["battery"][1]
            ch, dis = self._out(f"{key}.charge"), self._out(f"{key}.discharge")
            self._free(np.r_[ch, dis])
            rate = b.power_kw / b.energy_kwh * share
            for c, d in zip(ch.tolist(), dis.tolist(), strict=True):
                self._row(-INF, 0.0, [c, d, e], [1.0, 1.0, -rate])
            self._store(key, e, self._out(f"{key}.soc"), b.soc_min * share,
                        b.soc_max * share, cyclic)

    def _rows_tank(self, c: int, cyclic: bool) -> None:
        tank = self.model_park.cooling.tank  # type: ignore[union-attr]
        rates = (("charge", tank.max_charge_kw_th), ("discharge", tank.max_discharge_kw_th))
        for name, kw in rates:
            cols = self._out(f"tank.{name}")
            self._free(cols)
            for col in cols.tolist():
                self._row(-INF, 0.0, [col, c], [1.0, -kw / tank.capacity_kwh_th])
        self._store("tank", c, self._out("tank.level"), 0.0, 1.0, cyclic)

    def _renewable(self, s: int, kind: str, names: list[str], total: float) -> None:
        for name in names:
            per_unit = np.maximum(self.h.column(f"{kind}_kw_{name}"), 0.0) / total
            cols = self._out(f"{kind}.{name}.used")
            self._free(cols)
            for col, p in zip(cols.tolist(), per_unit.tolist(), strict=True):
                self._row(-INF, 0.0, [col, s], [1.0, -p])

    def _rows_pv(self, s: int, cyclic: bool) -> None:
        self._renewable(s, "pv", [a.name for a in self.park.pv], configured_size(self.park, "pv"))

    def _rows_wind(self, s: int, cyclic: bool) -> None:
        self._renewable(s, "wind", [w.name for w in self.park.wind],
                        configured_size(self.park, "wind"))

    def _cyclic_rest(self) -> None:
        """Storage not sized is cyclic too (no free energy from a full start)."""
        if "battery" not in self.bounds:
            for b in self.model_park.batteries:
                key = f"battery.{b.name}"
                self._row(0.0, 0.0, [self._slot(f"{key}.start_lo"),
                                     int(self._out(f"{key}.soc")[-1])], [1.0, -1.0])
        tank = self.model_park.cooling.tank if self.model_park.cooling else None
        if "tank" not in self.bounds and tank is not None:
            self._row(0.0, 0.0, [self._slot("tank.start_lo"), int(self._out("tank.level")[-1])],
                      [1.0, -1.0])

    def _monthly_demand(self) -> None:
        """One peak column per calendar month at the demand rate; the model's own two
        month parts are switched off (their rows can no longer bind)."""
        park, rate = self.park, demand_rate(self.park)
        self.peak_cols: list[int] = []
        self.months = np.zeros(0, dtype=int)
        if rate == 0:
            return
        c = self.pm.compiled
        rows = c.slots["grid.demand_floor"][1].astype(np.int32)
        self.highs.changeRowsBounds(rows.size, rows, np.full(rows.size, -INF),
                                    np.full(rows.size, INF))
        k = demand_block_steps(park.time_step_minutes)
        imp = self._out("grid.import")
        month = (self.h.index.year * 12 + self.h.index.month).to_numpy()
        threshold = demand_threshold_kw(park, 0.0, False)
        self.months = np.unique(month)
        for m in self.months:
            p = self._add_col(rate * self._month_share(int(m)), 0.0, INF)
            self.peak_cols.append(p)
            steps = np.flatnonzero(month == m)
            for j in range(0, steps.size, k):
                block = imp[steps[j:j + k]].tolist()
                self._row(-threshold, INF, [p, *block], [1.0, *[-1.0 / len(block)] * len(block)])

    def _month_share(self, month: int) -> float:
        """The period's share of calendar month ``month`` (year·12 + month): the demand
        charge of a part month is prorated, as its capex share is."""
        year, m = divmod(month - 1, 12)
        first = pd.Timestamp(year, m + 1, 1)
        days_in = (first + pd.offsets.MonthBegin(1) - first).days
        index = self.h.index
        inside = int(((index.year == year) & (index.month == m + 1)).sum())
        return min(1.0, inside * self.park.step_h / 24.0 / days_in)

    def solve(self, fixed: dict[str, float] | None = None) -> SizingResult:
        """Solve; ``fixed`` pins sizes (the bounds of the others stay)."""
        h = self.highs
        for asset, col in self.size_col.items():
            lo, hi = self.bounds[asset]
            value = (fixed or {}).get(asset)
            h.changeColBounds(col, lo if value is None else value, hi if value is None else value)
        started = time.perf_counter()
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverError(f"the sizing LP of {self.park.name} ended "
                              f"'{h.modelStatusToString(status)}'")
        x = np.asarray(h.getSolution().col_value, float)
        objective = float(h.getInfo().objective_function_value)
        sizes = {a: float(x[col]) for a, col in self.size_col.items()}
        annual = {a: self.annual[a] * sizes[a] for a in sizes}
        operating = objective - sum(annual.values()) * self.days / 365.0
        return SizingResult(sizes, dict(self.bounds), objective, operating, annual,
                            self._kpis(x), time.perf_counter() - started, self.h.n)

    def _kpis(self, x: np.ndarray) -> dict[str, Any]:
        """The cost KPIs economics.evaluate reads, from a solution."""
        dt, out = self.park.step_h, self._out
        imp = x[out("grid.import")]
        exp = x[out("grid.export")] if "grid.export" in self.pm.compiled.outputs else 0 * imp
        peaks = x[self.peak_cols] if self.peak_cols else np.zeros(0)
        shares = [self._month_share(int(m)) for m in self.months]
        demand = demand_rate(self.park) * float(peaks @ np.asarray(shares)) if shares else 0.0
        return {"days": self.days,
                "energy_cost_yuan": float(imp @ self.h.column("price_import_yuan_per_kwh")) * dt,
                "export_revenue_yuan": float(exp @ self.h.column("price_export_yuan_per_kwh"))
                * dt,
                "demand_charge_yuan": demand,
                "co2_t": float(imp @ self.h.column("co2_kg_per_kwh")) * dt / 1000.0}


def reduced_inputs(park: Park, step_minutes: int, start: str | None = None,
                   days: int | None = None) -> tuple[Park, Inputs]:
    """The park at ``step_minutes`` and its inputs (the year, or ``days`` from ``start``):
    the park's own inputs averaged over the longer step (the same weather, loads and prices;
    labels kept from the first step of each)."""
    fine = build_inputs(park)
    if days is not None:
        fine = fine.day(pd.Timestamp(start or f"{park.year}-01-01"), days)
    coarse = park.model_copy(update={"time_step_minutes": step_minutes})
    if step_minutes == park.time_step_minutes:
        return coarse, replace(fine, park=coarse)
    rule = f"{step_minutes}min"

    def average(frame: pd.DataFrame) -> pd.DataFrame:
        numeric = frame.select_dtypes("number").columns
        agg = {c: ("mean" if c in numeric else "first") for c in frame.columns}
        return frame.resample(rule).agg(agg)[frame.columns]

    return coarse, replace(fine, park=coarse, series=average(fine.series),
                           weather=average(fine.weather))
