"""Battery block: charge and discharge within the power rating, SOC window, efficiencies,
self-discharge, end-of-horizon rule and a degradation cost per kWh discharged.

SOC update (kWh, end of step t): ``soc[t] = keep·soc[t-1] + (η_c·charge − discharge/η_d)·Δt``
with ``keep = 1 − self_discharge_pct_per_h/100·Δt``; charge and discharge are kW at the bus.
End rule: 'initial' → SOC at the end ≥ ``soc_initial × energy_kwh``; 'fraction' → ≥
``fraction × energy_kwh``; 'free' → none; 'value' → none, and the SOC at the end is credited
at its refill value (:func:`.horizon.end_value_yuan_per_kwh`); a target the battery cannot
reach in the horizon is lowered to what full-power charging reaches. No charge/discharge
binaries: losses and the degradation cost make doing both at once unprofitable,
``charge + discharge ≤ power`` keeps the relaxation tight, and the returned schedule is
netted (see :mod:`.netting`).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from parkgrid.config import Battery
from parkgrid.optimizer.core import Build
from parkgrid.optimizer.horizon import Horizon, decay, end_value_yuan_per_kwh, reachable_kwh


class BatteryBlock:
    def __init__(self, battery: Battery, step_h: float, converter_efficiency: float = 1.0) -> None:
        self.bat = battery
        # kWh stored per kWh imported (the grid is on the AC bus)
        self.grid_to_store = battery.charge_efficiency * (
            converter_efficiency if battery.bus == "dc" else 1.0)
        self.key = f"battery.{battery.name}"
        self.lo_kwh = battery.soc_min * battery.energy_kwh
        self.hi_kwh = battery.soc_max * battery.energy_kwh
        self.keep = decay(battery.self_discharge_pct_per_h, step_h)

    def build(self, b: pyo.Block, ctx: Build) -> None:
        bat, dt, key = self.bat, ctx.step_h, self.key
        b.charge = ctx.var(b, "charge", bounds=(0.0, bat.power_kw))
        b.discharge = ctx.var(b, "discharge", bounds=(0.0, bat.power_kw))
        b.soc = ctx.var(b, "soc", bounds=(self.lo_kwh, self.hi_kwh))
        b.start = pyo.Var(bounds=(self.lo_kwh, self.hi_kwh))
        ch, dis, soc = ([v[t] for t in ctx.steps] for v in (b.charge, b.discharge, b.soc))
        prev = [b.start, *soc[:-1]]
        ctx.rows(b, "soc_update", [
            s - self.keep * p - bat.charge_efficiency * dt * c + dt / bat.discharge_efficiency * d
            == 0 for s, p, c, d in zip(soc, prev, ch, dis, strict=True)
        ])
        ctx.rows(b, "power", [c + d <= bat.power_kw for c, d in zip(ch, dis, strict=True)])
        ctx.slot(f"{key}.end", "row_lower", ctx.rows(b, "end", [soc[-1] >= 0]))
        ctx.slot(f"{key}.end_value", "cost", [soc[-1]])
        ctx.slot(f"{key}.start_lo", "col_lower", [b.start])
        ctx.slot(f"{key}.start_hi", "col_upper", [b.start])
        ctx.inject(bat.bus, [d - c for c, d in zip(ch, dis, strict=True)])
        ctx.cost(bat.degradation_cost_yuan_per_kwh * dt * sum(dis))
        ctx.tie_break(ch + dis)
        for name, items in (("charge", ch), ("discharge", dis), ("soc", soc)):
            ctx.output(f"{key}.{name}", items)

    def start_kwh(self, h: Horizon) -> float:
        """The state's SOC, clipped into the window (a warning says so)."""
        bat = self.bat
        given = h.state.battery_soc_kwh.get(bat.name, bat.soc_initial * bat.energy_kwh)
        start = min(max(given, self.lo_kwh), self.hi_kwh)
        if abs(start - given) > 1e-6:
            h.warnings.append(f"battery {self.bat.name}: SOC {given:.3f} kWh outside the window "
                              f"[{self.lo_kwh:g}, {self.hi_kwh:g}] kWh, clipped")
        return start

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        bat, key = self.bat, self.key
        if h.free_start:
            lo, hi, target = self.lo_kwh, self.hi_kwh, self.lo_kwh
        else:
            lo = hi = self.start_kwh(h)
            target = {"initial": bat.soc_initial, "free": bat.soc_min, "value": bat.soc_min,
                      "fraction": bat.end_soc.fraction or 0.0}[bat.end_soc.rule] * bat.energy_kwh
            rate = bat.power_kw * bat.charge_efficiency * h.step_h
            target = min(target, reachable_kwh(lo, rate, self.keep, h.n, self.hi_kwh))
        return {f"{key}.start_lo": np.array([lo]), f"{key}.start_hi": np.array([hi]),
                f"{key}.end": np.array([target]),
                f"{key}.end_value": np.array([-self.end_value(h)])}

    def end_value(self, h: Horizon) -> float:
        """Yuan per kWh of SOC at the end of ``h`` (0 unless the end rule is 'value')."""
        return end_value_yuan_per_kwh(self.bat.end_soc, h, self.grid_to_store)

    def stored_value_yuan(self, out: dict[str, np.ndarray], h: Horizon) -> float:
        """The objective's credit for the energy left at the end of ``h``."""
        return self.end_value(h) * float(out[f"{self.key}.soc"][-1])

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        name, key = self.bat.name, self.key
        return {f"battery_charge_kw_{name}": out[f"{key}.charge"],
                f"battery_discharge_kw_{name}": out[f"{key}.discharge"],
                f"battery_soc_kwh_{name}": out[f"{key}.soc"]}
