"""Cooling plant block: chillers and the chilled-water tank meet the cooling demand.

Chiller electricity is the piecewise-linear function of cooling output through the COP
curve's points (:func:`parkgrid.model.physics.chiller_curve`). A chiller with a minimum
part load has an on/off binary per step (output 0 or within [min part load, capacity]); one
without has none. Over the operating range the curve enters as cuts ``e ≥ a_k·q + b_k·on``
when it is convex (exact: the tie-break cost keeps e on the curve) and as an SOS2-style
λ-formulation with segment binaries when it is not. Identical chillers with binaries are
ordered (on and output of the first ≥ the second) to remove symmetric solutions.

Cooling balance per step: chillers + tank discharge − tank charge + unserved cooling ≥
demand. Supply above demand is allowed (a chiller at its minimum part load with a full
tank), and is visible as the difference of the columns. Tank level update (kWh_th):
``level[t] = keep·level[t-1] + (charge − discharge)·Δt``, ``keep = 1 − loss_pct/100·Δt``;
end rule as for batteries ('initial' → ≥ ``level_initial × capacity``; 'value' → the level at
the end credited at its refill value, through the best chiller COP).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from parkgrid.config import Chiller, Cooling, Park, Tank
from parkgrid.model.physics import Storage, chiller_curve
from parkgrid.optimizer.core import AssetBlock, Build
from parkgrid.optimizer.horizon import Horizon, Store

ON_KW_TH = 1e-3
"""A chiller without on/off binary counts as on above this output."""


def operating_curve(chiller: Chiller) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints (kW_th, kW) of electricity over the operating range: from the minimum part
    load (or 0) to capacity."""
    q, e = (np.asarray(v, dtype=float) for v in chiller_curve(chiller))
    q_min = chiller.min_part_load * chiller.capacity_kw_th
    keep = q > q_min + 1e-9
    q_pts = np.concatenate([[q_min], q[keep]])
    return q_pts, np.concatenate([[np.interp(q_min, q, e)], e[keep]])


def best_cop(chiller: Chiller) -> float:
    """The highest COP on the chiller's curve."""
    q, e = (np.asarray(v, dtype=float) for v in chiller_curve(chiller))
    return float(np.max(q[1:] / e[1:]))


def is_convex(q: np.ndarray, e: np.ndarray) -> bool:
    slopes = np.diff(e) / np.diff(q)
    return bool(np.all(np.diff(slopes) >= -1e-9))


def _identical(a: Chiller, b: Chiller) -> bool:
    fields = ("capacity_kw_th", "cop", "cop_curve", "min_part_load", "bus")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def tank_rows(b: pyo.Block, ctx: Build, key: str, tank: Tank, st: Storage) -> list[tuple]:
    """A water tank on ``b`` (chilled or hot): charge, discharge and level variables within
    its limits, the level chain of ``st``, the end-rule and start slots and the outputs
    under ``key``; returns (charge, discharge) per step."""
    dt = ctx.step_h
    b.charge = ctx.var(b, "charge", bounds=(0.0, tank.max_charge_kw_th))
    b.discharge = ctx.var(b, "discharge", bounds=(0.0, tank.max_discharge_kw_th))
    b.level = ctx.var(b, "level", bounds=(0.0, tank.capacity_kwh_th))
    b.start = pyo.Var(bounds=(0.0, tank.capacity_kwh_th))
    ch, dis, level = ([v[t] for t in ctx.steps] for v in (b.charge, b.discharge, b.level))
    prev = [b.start, *level[:-1]]
    ctx.rows(b, "level_update", [
        lv - st.keep * p - st.eta_c * dt * c + dt / st.eta_d * d == 0
        for lv, p, c, d in zip(level, prev, ch, dis, strict=True)
    ])
    ctx.slot(f"{key}.end", "row_lower", ctx.rows(b, "end", [level[-1] >= 0]))
    ctx.slot(f"{key}.end_value", "cost", [level[-1]])
    ctx.slot(f"{key}.start_lo", "col_lower", [b.start])
    ctx.slot(f"{key}.start_hi", "col_upper", [b.start])
    ctx.tie_break(ch + dis)
    for name, items in (("charge", ch), ("discharge", dis), ("level", level)):
        ctx.output(f"{key}.{name}", items)
    return list(zip(ch, dis, strict=True))


def blocks(park: Park) -> dict[str, AssetBlock]:
    """The cooling plant's block (the registry's ``chillers`` and ``tank`` kinds)."""
    if park.cooling is None:
        return {}
    converter = park.buses.dc.converter_efficiency if park.buses.dc is not None else 1.0
    return {"cooling": CoolingBlock(park.cooling, park.step_h,
                                    park.objective.unserved_penalty_yuan_per_kwh, converter)}


class CoolingBlock(AssetBlock):
    def __init__(self, cooling: Cooling, step_h: float, penalty_yuan_per_kwh: float,
                 converter_efficiency: float = 1.0) -> None:
        self.cooling = cooling
        self.tank = cooling.tank
        self.penalty = penalty_yuan_per_kwh
        self.storage = Storage.tank(self.tank, step_h) if self.tank else None
        self.keep = self.storage.keep if self.storage else 1.0
        tank = self.tank
        self.store = Store(
            "tank level", "kWh_th", 0.0, tank.capacity_kwh_th, tank.capacity_kwh_th,
            tank.level_initial * tank.capacity_kwh_th, tank.end_level,
            tank.max_charge_kw_th * step_h, self.keep,
            # through the most efficient chiller
            max(best_cop(c) * (converter_efficiency if c.bus == "dc" else 1.0)
                for c in cooling.chillers)) if tank else None

    def build(self, b: pyo.Block, ctx: Build) -> None:
        supply = [0.0 for _ in ctx.steps]
        previous: tuple[Chiller, pyo.Block] | None = None
        groups: list[tuple[Chiller, list, list]] = []  # identical chillers with binaries
        outputs: list[list] = []
        for chiller in self.cooling.chillers:
            c = pyo.Block()
            b.add_component(chiller.name, c)
            q = self._chiller(c, chiller, ctx)
            outputs.append(q)
            supply = [s + x for s, x in zip(supply, q, strict=True)]
            if chiller.min_part_load > 0:
                if previous and _identical(previous[0], chiller):
                    self._order(c, previous[1], ctx)
                else:
                    groups.append((chiller, [], []))
                groups[-1][1].append([c.on[t] for t in ctx.steps])
                groups[-1][2].append(q)
            previous = (chiller, c)
        if self.tank is not None:
            supply = [s + d - ch for s, (ch, d) in zip(supply, self._tank(b, ctx), strict=True)]
        b.unserved = ctx.var(b, "unserved")
        unserved = [b.unserved[t] for t in ctx.steps]
        for chiller, on, q in groups:  # one chiller is a count of one unit
            cap = chiller.capacity_kw_th
            ctx.round_as_count(on, unserved, q, (chiller.min_part_load * cap, cap))
        ctx.output("cooling.unserved", unserved)
        ctx.cost(self.penalty * ctx.step_h * sum(unserved))
        rows = ctx.rows(b, "balance", [s + u >= 0 for s, u in zip(supply, unserved, strict=True)])
        ctx.slot("cooling.demand", "row_lower", rows)
        for chiller, on, q in groups:  # the others' outputs and the slack are free supply
            others = [x for x in outputs if all(x is not y for y in q)]
            free = [[u, *(x[t] for x in others)] for t, u in enumerate(unserved)]
            ctx.cover(on, chiller.capacity_kw_th, rows, free,
                      b.start if self.tank is not None else None)

    def _chiller(self, c: pyo.Block, chiller: Chiller, ctx: Build) -> list:
        """Output and electricity variables and the curve; returns the outputs (kW_th)."""
        cap, key = chiller.capacity_kw_th, f"chiller.{chiller.name}"
        c.q = ctx.var(c, "q", bounds=(0.0, cap))
        c.e = ctx.var(c, "e")
        q, e = [c.q[t] for t in ctx.steps], [c.e[t] for t in ctx.steps]
        if chiller.min_part_load > 0:
            c.on = ctx.var(c, "on", domain=pyo.Binary, bounds=(0, 1))
            on = [c.on[t] for t in ctx.steps]
            ctx.output(f"{key}.on", on)
            ctx.rows(c, "cap", [x - cap * o <= 0 for x, o in zip(q, on, strict=True)])
            ctx.rows(c, "min_load", [x - chiller.min_part_load * cap * o >= 0
                                     for x, o in zip(q, on, strict=True)])
        else:
            on = [1.0 for _ in ctx.steps]
        q_pts, e_pts = operating_curve(chiller)
        if len(q_pts) == 2 or is_convex(q_pts, e_pts):
            self._convex(c, ctx, q, e, on, q_pts, e_pts)
        else:
            self._sos2(c, ctx, q, e, on, q_pts, e_pts)
        ctx.inject(chiller.bus, [-x for x in e])
        ctx.tie_break(e)
        ctx.output(f"{key}.q", q)
        ctx.output(f"{key}.e", e)
        return q

    @staticmethod
    def _convex(c: pyo.Block, ctx: Build, q: list, e: list, on: list,
                q_pts: np.ndarray, e_pts: np.ndarray) -> None:
        slopes = np.diff(e_pts) / np.diff(q_pts)
        offsets = e_pts[:-1] - slopes * q_pts[:-1]
        if len(slopes) == 1:
            a, b0 = float(slopes[0]), float(offsets[0])
            ctx.rows(c, "curve", [y - a * x - b0 * o == 0
                                  for x, y, o in zip(q, e, on, strict=True)])
            return
        for k, (a, b0) in enumerate(zip(slopes, offsets, strict=True)):
            ctx.rows(c, f"curve_{k}", [y - float(a) * x - float(b0) * o >= 0
                                       for x, y, o in zip(q, e, on, strict=True)])

    @staticmethod
    def _sos2(c: pyo.Block, ctx: Build, q: list, e: list, on: list,
              q_pts: np.ndarray, e_pts: np.ndarray) -> None:
        m = len(q_pts)
        c.lam = pyo.Var(ctx.steps, range(m), bounds=(0.0, 1.0))
        c.seg = pyo.Var(ctx.steps, range(m - 1), domain=pyo.Binary)
        for name, rule in {
            "lam_q": lambda _c, t: q[t] == sum(float(q_pts[i]) * c.lam[t, i] for i in range(m)),
            "lam_e": lambda _c, t: e[t] == sum(float(e_pts[i]) * c.lam[t, i] for i in range(m)),
            "lam_sum": lambda _c, t: sum(c.lam[t, i] for i in range(m)) == on[t],
            "seg_sum": lambda _c, t: sum(c.seg[t, k] for k in range(m - 1)) == on[t],
        }.items():
            c.add_component(name, pyo.Constraint(ctx.steps, rule=rule))

        def adjacent(_c: pyo.Block, t: int, i: int) -> object:
            near = [c.seg[t, k] for k in (i - 1, i) if 0 <= k < m - 1]
            return c.lam[t, i] <= sum(near)

        c.lam_adjacent = pyo.Constraint(ctx.steps, range(m), rule=adjacent)

    @staticmethod
    def _order(c: pyo.Block, before: pyo.Block, ctx: Build) -> None:
        """Symmetry breaking between two identical chillers with on/off binaries."""
        ctx.rows(c, "order_on", [before.on[t] - c.on[t] >= 0 for t in ctx.steps])
        ctx.rows(c, "order_q", [before.q[t] - c.q[t] >= 0 for t in ctx.steps])

    def _tank(self, b: pyo.Block, ctx: Build) -> list[tuple]:
        assert self.tank is not None and self.storage is not None
        return tank_rows(b, ctx, "tank", self.tank, self.storage)

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        data = {"cooling.demand": np.maximum(h.column("cooling_load_kw_th"), 0.0)}
        if self.store is not None:
            data.update(self.store.data("tank", h.state.tank_level_kwh_th, h))
        return data

    def stored_value_yuan(self, out: dict[str, np.ndarray], h: Horizon) -> float:
        if self.store is None:
            return 0.0
        return self.store.end_value(h) * float(out["tank.level"][-1])

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        cols: dict[str, np.ndarray] = {}
        for chiller in self.cooling.chillers:
            key = f"chiller.{chiller.name}"
            cols[f"chiller_electric_kw_{chiller.name}"] = out[f"{key}.e"]
            cols[f"chiller_cooling_kw_th_{chiller.name}"] = out[f"{key}.q"]
            on = out.get(f"{key}.on", out[f"{key}.q"] > ON_KW_TH)
            cols[f"chiller_on_{chiller.name}"] = np.round(on).astype(int)
        zeros = np.zeros(h.n)
        cols["tes_charge_kw_th"] = out.get("tank.charge", zeros)
        cols["tes_discharge_kw_th"] = out.get("tank.discharge", zeros)
        cols["tes_level_kwh_th"] = out.get("tank.level", zeros)
        cols["cooling_unserved_kw_th"] = out["cooling.unserved"]
        return cols
