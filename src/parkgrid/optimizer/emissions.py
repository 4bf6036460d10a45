"""Emissions block (only in models built for a cost/CO2 front): the ε-constraint on CO2 and a
cap on the penalised slacks.

    Σ_t co2_kg_per_kwh[t] · Δt · import[t] + the plants' fuel CO2 ≤ ε    (kg; ε = inf unless capped)
    Σ penalty × (unserved, unmet cooling / heat, unmet EV/deferrable)  ≤ budget   (yuan)

The second row keeps the low-CO2 end of the front honest: without it the cheapest way to cut
imports would be to shed load at the penalty.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from parkgrid.config import Park
from parkgrid.model import registry
from parkgrid.optimizer.core import AssetBlock, Build
from parkgrid.optimizer.flexible import channels
from parkgrid.optimizer.horizon import Horizon

UNCAPPED = 1e15


def fuel_co2_kg_per_kwh(park: Park) -> dict[str, float]:
    """CO2 of what the plants burn (a boiler's diesel): optimizer output key -> kg per kWh
    of that output (the kinds' ``co2`` hooks)."""
    return {key: kg for emits in registry.hooks("co2") for key, kg in emits(park).items()}


class EmissionsBlock(AssetBlock):
    def __init__(self, park: Park) -> None:
        self.park = park

    def build(self, b: pyo.Block, ctx: Build) -> None:
        imports = ctx.outputs["grid.import"]
        burnt = [(kg * ctx.step_h, key) for key, kg in fuel_co2_kg_per_kwh(self.park).items()]
        b.co2 = pyo.Constraint(expr=sum(imports) + sum(
            kg * v for kg, key in burnt for v in ctx.outputs.get(key, [])) <= UNCAPPED)
        ctx.slot("co2.factor", "coef", [(b.co2, v) for v in imports])
        ctx.slot("co2.cap", "row_upper", [b.co2])
        penalised = [(ctx.step_h * self.park.objective.unserved_penalty_yuan_per_kwh, v)
                     for key in sorted(k for k in ctx.outputs if k.endswith(".unserved"))
                     for v in ctx.outputs[key]]
        penalised += [(ch.penalty, v) for ch in channels(self.park)
                      for v in ctx.outputs[f"{ch.key}.miss"]]
        b.slack = pyo.Constraint(expr=sum(w * v for w, v in penalised) <= UNCAPPED)
        ctx.slot("co2.slack_cap", "row_upper", [b.slack])

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        cap = h.options.co2_cap_kg
        budget = h.options.penalty_cap_yuan
        return {"co2.factor": h.column("co2_kg_per_kwh") * h.step_h,
                "co2.cap": np.array([UNCAPPED if cap is None else cap]),
                "co2.slack_cap": np.array([UNCAPPED if budget is None else budget])}
