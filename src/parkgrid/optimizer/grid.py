"""Grid connection and tariff block: import and export within the limits, TOU energy cost,
export revenue, the optional carbon price, and the demand charge.

Demand charge (kind ``max_demand``): the monthly maximum of the 15-min average import is
billed at ``rate_yuan_per_kw_month``; a day-ahead plan pays only the *increment* above the
month-to-date peak passed in as state, at the full monthly rate (not prorated: a new peak
set today is billed for the whole month). Kind ``declared``: the declared demand is a fixed
monthly cost; import above 105 % of it is billed at twice the rate (the increment above
max(month-to-date peak, 1.05 × declared)). Kinds ``capacity`` and ``none``: no decision
effect. With steps shorter than 15 min that divide it, the 15-min averages are formed from
whole blocks of steps counted from the horizon start (plan from a quarter hour); otherwise
each step's average is used. A horizon crossing into the next month prices the steps of
that month against a fresh peak of 0 (later months, if any, share that increment).

Import and export at the same step are never both planned: where export pays more than
import costs (so that buying to sell would pay), a binary picks the direction; elsewhere the
price spread makes it unprofitable and the binary is relaxed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from parkgrid.config import Park
from parkgrid.inputs.tariff import DECLARED_TOLERANCE
from parkgrid.model.physics import chiller_electric_kw
from parkgrid.optimizer.core import TIE_BREAK_YUAN_PER_KWH, AssetBlock, Build
from parkgrid.optimizer.flexible import plugged_kw
from parkgrid.optimizer.horizon import Horizon

DEMAND_MINUTES = 15


def demand_block_steps(step_minutes: int) -> int:
    """Steps per 15-min demand block (1 when the step does not divide 15 min)."""
    return DEMAND_MINUTES // step_minutes if DEMAND_MINUTES % step_minutes == 0 else 1


def demand_rate(park: Park) -> float:
    """The rate (yuan per kW·month) on the decision-relevant demand increment."""
    demand = park.tariff.demand
    if demand.kind == "max_demand":
        return demand.rate_yuan_per_kw_month
    if demand.kind == "declared":
        return 2.0 * demand.rate_yuan_per_kw_month
    return 0.0


def demand_threshold_kw(park: Park, month_peak_kw: float, same_month: bool) -> float:
    """Import (15-min average, kW) above which the demand increment is billed."""
    peak = month_peak_kw if same_month else 0.0
    if park.tariff.demand.kind == "declared":
        return max(peak, DECLARED_TOLERANCE * (park.tariff.demand.declared_kw or 0.0))
    return peak


def blocks(park: Park) -> dict[str, AssetBlock]:
    """The grid connection's block (the registry's ``grid`` kind)."""
    return {"grid": GridBlock(park)}


class GridBlock(AssetBlock):
    """Import/export, tariff and demand charge."""

    def __init__(self, park: Park) -> None:
        self.park = park
        self.limit_kw = park.grid.import_limit_kw
        self.export_kw = park.grid.export_limit_kw
        self.rate = demand_rate(park)
        self.block_steps = demand_block_steps(park.time_step_minutes)

    def build(self, b: pyo.Block, ctx: Build) -> None:
        steps = ctx.steps
        b.imp = ctx.var(b, "imp", bounds=(0.0, self.limit_kw))
        imp = [b.imp[t] for t in steps]
        ctx.inject("ac", imp)
        ctx.slot("grid.import_cost", "cost", imp)
        ctx.output("grid.import", imp)
        if self.export_kw > 0:
            self._build_export(b, ctx, imp)
        if self.rate > 0:
            self._build_demand(b, ctx, imp)

    def _build_export(self, b: pyo.Block, ctx: Build, imp: list) -> None:
        """Export, and the import/export direction: ``imp ≤ I_t·y``, ``exp ≤ X_t·(1 − y)``
        with per-step big-Ms (I_t the most the park can draw, X_t the most it can send) so
        that the relaxation is the convex hull ``imp/I_t + exp/X_t ≤ 1``."""
        b.exp = ctx.var(b, "exp", bounds=(0.0, self.export_kw))
        b.importing = ctx.var(b, "importing", bounds=(0.0, 1.0), domain=pyo.Reals)
        exp = [b.exp[t] for t in ctx.steps]
        side = [b.importing[t] for t in ctx.steps]
        ctx.inject("ac", [-e for e in exp])
        ctx.slot("grid.export_cost", "cost", exp)
        ctx.slot("grid.export_max", "col_upper", exp)
        ctx.slot("grid.side_lo", "col_lower", side)
        ctx.slot("grid.side_hi", "col_upper", side)
        ctx.slot("grid.exclusive", "integer", side)
        ctx.round_by_sign(side, imp, exp)
        ctx.output("grid.export", exp)
        rows = ctx.rows(b, "import_side", [i - self.limit_kw * y <= 0
                                           for i, y in zip(imp, side, strict=True)])
        ctx.slot("grid.import_m", "coef", list(zip(rows, side, strict=True)))
        rows = ctx.rows(b, "export_side", [e + self.export_kw * y <= self.export_kw
                                           for e, y in zip(exp, side, strict=True)])
        ctx.slot("grid.export_m", "coef", list(zip(rows, side, strict=True)))
        ctx.slot("grid.export_m_rhs", "row_upper", rows)
        charge, discharge = self._storage_ac(ctx)
        if charge:  # the same with the batteries' own flows set apart (see _direction)
            rows = ctx.rows(b, "import_side_storage", [
                i - c - self.limit_kw * y <= 0 for i, c, y in zip(imp, charge, side, strict=True)])
            ctx.slot("grid.import_m_storage", "coef", list(zip(rows, side, strict=True)))
            rows = ctx.rows(b, "export_side_storage", [
                e - d + self.export_kw * y <= self.export_kw
                for e, d, y in zip(exp, discharge, side, strict=True)])
            ctx.slot("grid.export_m_storage", "coef", list(zip(rows, side, strict=True)))
            ctx.slot("grid.export_m_storage_rhs", "row_upper", rows)

    def _storage_ac(self, ctx: Build) -> tuple[list, list]:
        """Per step, the batteries' charging and discharging seen from the AC bus (through
        the converter for those on the DC bus); empty lists without batteries."""
        dc = self.park.buses.dc
        eta = dc.converter_efficiency if dc is not None else 1.0
        charge, discharge = [0.0 for _ in ctx.steps], [0.0 for _ in ctx.steps]
        for bat in self.park.batteries:
            into, out = (1.0, 1.0) if bat.bus == "ac" else (1.0 / eta, eta)
            charge = [s + into * c for s, c in zip(
                charge, ctx.outputs[f"battery.{bat.name}.charge"], strict=True)]
            discharge = [s + out * d for s, d in zip(
                discharge, ctx.outputs[f"battery.{bat.name}.discharge"], strict=True)]
        return (charge, discharge) if self.park.batteries else ([], [])

    def _build_demand(self, b: pyo.Block, ctx: Build, imp: list) -> None:
        k = self.block_steps
        blocks = [imp[j * k:(j + 1) * k] for j in range(math.ceil(len(imp) / k))]
        b.increment = ctx.var(b, "increment", index=[0, 1])
        rows = []
        for month in (0, 1):
            rows += ctx.rows(b, f"demand_{month}", [
                b.increment[month] - sum(block) / len(block) >= 0 for block in blocks
            ])
        ctx.slot("grid.demand_floor", "row_lower", rows)
        ctx.cost(self.rate * (b.increment[0] + b.increment[1]))

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        dt = h.step_h
        p_imp = h.column("price_import_yuan_per_kwh")
        if h.carbon_in_objective:
            yuan_per_kg = self.park.emissions.carbon_price_yuan_per_t / 1000.0
            p_imp = p_imp + yuan_per_kg * h.column("co2_kg_per_kwh")
        tie = TIE_BREAK_YUAN_PER_KWH if h.options.tie_break else 0.0
        data = {"grid.import_cost": (p_imp + tie) * dt}
        if self.export_kw > 0:
            p_exp = h.column("price_export_yuan_per_kwh")
            data["grid.export_cost"] = -(p_exp - tie) * dt
            data.update(self._direction(h, p_imp, p_exp))
        if self.rate > 0:
            data["grid.demand_floor"] = -self._thresholds(h)
        return data

    def _direction(self, h: Horizon, p_imp: np.ndarray, p_exp: np.ndarray
                   ) -> dict[str, np.ndarray]:
        """Big-Ms and the direction binaries. A binary is needed only where buying to sell
        would pay (export price above the import cost) and both directions are open: with no
        possible surplus the park imports; where the renewables alone cover every possible
        consumption, importing is dominated (it would displace renewables worth the export
        price) and the park exports."""
        plugged = plugged_kw(self.park, h)
        bounds = flow_bounds_kw(h, plugged=plugged)
        send = np.minimum(bounds.surplus_kw, self.export_kw)
        draw = np.minimum(bounds.draw_kw, self.limit_kw)
        exports_only = bounds.renewable_surplus_kw >= bounds.flexible_kw
        lo = np.where(send <= 0.0, 1.0, 0.0)
        hi = np.where(exports_only & (send > 0.0), 0.0, 1.0)
        pays = p_exp > p_imp + 2 * TIE_BREAK_YUAN_PER_KWH
        data = {
            "grid.export_max": send,
            "grid.side_lo": lo, "grid.side_hi": hi,
            "grid.exclusive": (pays & (lo < hi)).astype(float),
            "grid.import_m": -np.maximum(draw, 1.0),
            "grid.export_m": np.maximum(send, 1.0),
            "grid.export_m_rhs": np.maximum(send, 1.0),
        }
        if self.park.batteries:
            # imp − charge ≤ I'_t·y and exp − discharge ≤ X'_t·(1 − y), I' and X' without
            # the batteries: what the grid takes beyond their charging must be drawn by the
            # rest of the park, what it gets beyond their discharging sent by the rest. The
            # batteries' power counts in I_t and X_t alike, so that the rows above alone let
            # the relaxation import and export at once at a step where that pays
            own = flow_bounds_kw(h, storage=False, plugged=plugged)
            send_own = np.maximum(np.minimum(own.surplus_kw, self.export_kw), 1.0)
            data |= {"grid.import_m_storage":
                     -np.maximum(np.minimum(own.draw_kw, self.limit_kw), 1.0),
                     "grid.export_m_storage": send_own,
                     "grid.export_m_storage_rhs": send_own}
        return data

    def _thresholds(self, h: Horizon) -> np.ndarray:
        """Per demand row (month part × block): the billed threshold, or the import limit
        (a row that never binds) where the block is in the other month part."""
        k = self.block_steps
        month = month_numbers(h.index[::k])
        first = month == month[0]
        own = demand_threshold_kw(self.park, h.state.month_peak_kw, True)
        fresh = demand_threshold_kw(self.park, 0.0, False)
        this_month = np.where(first, own, self.limit_kw)
        next_month = np.where(first, self.limit_kw, fresh)
        return np.concatenate([this_month, next_month])

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        s = h.series
        return {
            "grid_import_kw": out["grid.import"],
            "grid_export_kw": out.get("grid.export", np.zeros(h.n)),
            "price_import": h.column("price_import_yuan_per_kwh"),
            "price_export": h.column("price_export_yuan_per_kwh"),
            "tou_period": s["tou_period"].to_numpy(),
            "co2_kg_per_kwh": h.column("co2_kg_per_kwh"),
        }


def month_numbers(index: pd.DatetimeIndex) -> np.ndarray:
    """year × 12 + month of each local timestamp (numpy on the wall times: pandas' date
    fields convert the time zone anew on each call)."""
    local = index.tz_localize(None) if index.tz is not None else index
    return local.to_numpy().astype("datetime64[M]").astype(np.int64) + 1970 * 12 + 1


def demand_peaks_kw(imports: np.ndarray, index: pd.DatetimeIndex,
                    step_minutes: int) -> tuple[float, float | None]:
    """Highest 15-min average import in the horizon's start month, and in the next month
    (``None`` when the horizon stays in one month), kW."""
    k = demand_block_steps(step_minutes)
    starts = np.arange(0, len(imports), k)
    averages = np.add.reduceat(imports, starts) / np.diff(np.append(starts, len(imports)))
    month = month_numbers(index[starts])
    first = month == month[0]
    this = float(averages[first].max()) if first.any() else 0.0
    return this, (float(averages[~first].max()) if (~first).any() else None)


def demand_charge_yuan(park: Park, imports: np.ndarray, index: pd.DatetimeIndex,
                       month_peak_kw: float) -> float:
    """The demand charge a horizon's imports add on top of the month-to-date peak, yuan."""
    rate = demand_rate(park)
    if rate == 0:
        return 0.0
    this, following = demand_peaks_kw(imports, index, park.time_step_minutes)
    increment = max(0.0, this - demand_threshold_kw(park, month_peak_kw, True))
    if following is not None:
        increment += max(0.0, following - demand_threshold_kw(park, 0.0, False))
    return rate * increment


@dataclass
class FlowBounds:
    """Per step, AC-side: the most the park can send to the grid (renewables and batteries
    at full output, no flexible consumption), the most it can draw (every load and
    flexible consumer at full power, no generation), what the renewables leave over the
    inflexible loads, and the most the flexible consumers can take."""

    surplus_kw: np.ndarray
    draw_kw: np.ndarray
    renewable_surplus_kw: np.ndarray
    flexible_kw: np.ndarray


def flow_bounds_kw(h: Horizon, storage: bool = True,
                   plugged: dict[str, np.ndarray] | None = None) -> FlowBounds:
    """The per-step bounds of :class:`FlowBounds` (``storage``: with the batteries' power
    in what the park can draw and send; ``plugged``: :func:`.flexible.plugged_kw` of ``h``
    if known)."""
    park = h.park
    dc = park.buses.dc
    eta = dc.converter_efficiency if dc is not None else 1.0
    plugged = plugged_kw(park, h) if plugged is None else plugged

    def on_bus(bus: str) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
        """Renewables, inflexible load, storage power and flexible consumption on ``bus``
        (EV piles and deferrable loads only while plugged in or their window is open — the
        tighter the bounds, the tighter the direction big-Ms and the LP relaxation; the heat
        pump at its capacity over the step's COP)."""
        re = h.bus_total_kw("pv_kw_", park.pv, bus).clip(0.0)
        if bus == "ac":
            re = re + sum((h.column(f"wind_kw_{w.name}").clip(0.0) for w in park.wind),
                          np.zeros(h.n))
        load = h.bus_total_kw("load_kw_", park.loads, bus)
        power = sum(b.power_kw for b in park.batteries if b.bus == bus) if storage else 0.0
        flexible = power + plugged.get(bus, 0.0)
        if park.cooling is not None:
            flexible += sum(chiller_electric_kw(c, c.capacity_kw_th).item()
                            for c in park.cooling.chillers if c.bus == bus)
        pump = park.heating.heat_pump if park.heating is not None else None
        if pump is not None and pump.bus == bus:
            cop = h.column("heat_pump_cop")
            flexible = flexible + np.divide(pump.capacity_kw_th, cop, out=np.zeros(h.n),
                                            where=cop > 0)
        return re, load, power, flexible

    re_ac, load_ac, storage_ac, flex_ac = on_bus("ac")
    surplus, draw = re_ac + storage_ac - load_ac, load_ac + flex_ac
    spare, flexible = re_ac - load_ac, flex_ac
    if dc is not None:
        re_dc, load_dc, storage_dc, flex_dc = on_bus("dc")
        surplus = surplus + eta * np.clip(re_dc + storage_dc - load_dc, 0.0, dc.converter_kw)
        draw = draw + np.minimum((load_dc + flex_dc) / eta, dc.converter_kw)
        net_dc = re_dc - load_dc
        spare = spare + np.where(net_dc > 0, eta * np.minimum(net_dc, dc.converter_kw),
                                 net_dc / eta)
        flexible = flexible + flex_dc / eta
    return FlowBounds(np.clip(surplus, 0.0, None), draw, spare, flexible)
