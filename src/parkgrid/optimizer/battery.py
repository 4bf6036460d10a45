"""Battery block: charge and discharge within the power rating, SOC window, efficiencies,
self-discharge, end-of-horizon rule and a degradation cost per kWh discharged.

SOC update (kWh, end of step t): :class:`parkgrid.model.physics.Storage`, ``soc[t] =
keep·soc[t-1] + (η_c·charge − discharge/η_d)·Δt``; charge and discharge are kW at the bus.
End rule: 'initial' → SOC at the end ≥ ``soc_initial × energy_kwh``; 'fraction' → ≥
``fraction × energy_kwh``; 'free' → none; 'value' → none, and the SOC at the end is credited
at its refill value (:meth:`.horizon.Store.end_value`); a target the battery cannot
reach in the horizon is lowered to what full-power charging reaches. No charge/discharge
binaries: losses and the degradation cost make doing both at once unprofitable,
``charge + discharge ≤ power`` keeps the relaxation tight, and the returned schedule is
netted (see :mod:`.netting`).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from parkgrid.config import Battery, Park
from parkgrid.model.physics import Storage
from parkgrid.optimizer.core import AssetBlock, Build
from parkgrid.optimizer.horizon import Horizon, Store


def blocks(park: Park) -> dict[str, AssetBlock]:
    """One block per battery (the registry's ``batteries`` kind)."""
    converter = park.buses.dc.converter_efficiency if park.buses.dc is not None else 1.0
    return {f"battery_{b.name}": BatteryBlock(b, park.step_h, converter) for b in park.batteries}


class BatteryBlock(AssetBlock):
    def __init__(self, battery: Battery, step_h: float, converter_efficiency: float = 1.0) -> None:
        self.bat = battery
        self.key = f"battery.{battery.name}"
        self.storage = Storage.battery(battery, step_h)
        self.lo_kwh, self.hi_kwh, self.keep = self.storage.lo, self.storage.hi, self.storage.keep
        self.store = Store(
            f"battery {battery.name}: SOC", "kWh", self.lo_kwh, self.hi_kwh, battery.energy_kwh,
            battery.soc_initial * battery.energy_kwh, battery.end_soc,
            battery.power_kw * battery.charge_efficiency * step_h, self.keep,
            battery.charge_efficiency * (converter_efficiency if battery.bus == "dc" else 1.0))

    def build(self, b: pyo.Block, ctx: Build) -> None:
        bat, dt, key = self.bat, ctx.step_h, self.key
        b.charge = ctx.var(b, "charge", bounds=(0.0, bat.power_kw))
        b.discharge = ctx.var(b, "discharge", bounds=(0.0, bat.power_kw))
        b.soc = ctx.var(b, "soc", bounds=(self.lo_kwh, self.hi_kwh))
        b.start = pyo.Var(bounds=(self.lo_kwh, self.hi_kwh))
        ch, dis, soc = ([v[t] for t in ctx.steps] for v in (b.charge, b.discharge, b.soc))
        prev = [b.start, *soc[:-1]]
        st = self.storage
        ctx.rows(b, "soc_update", [
            s - st.keep * p - st.eta_c * dt * c + dt / st.eta_d * d == 0
            for s, p, c, d in zip(soc, prev, ch, dis, strict=True)
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

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        bat = self.bat
        given = h.state.battery_soc_kwh.get(bat.name, bat.soc_initial * bat.energy_kwh)
        return self.store.data(self.key, given, h)

    def stored_value_yuan(self, out: dict[str, np.ndarray], h: Horizon) -> float:
        return self.store.end_value(h) * float(out[f"{self.key}.soc"][-1])

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        name, key = self.bat.name, self.key
        return {f"battery_charge_kw_{name}": out[f"{key}.charge"],
                f"battery_discharge_kw_{name}": out[f"{key}.discharge"],
                f"battery_soc_kwh_{name}": out[f"{key}.soc"]}
