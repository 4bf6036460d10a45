"""Bus balances: every block's power terms meet the inflexible loads on each bus.

Per bus and step: Σ flows into the bus (from the blocks' ``inject`` calls) + unserved =
inflexible load on that bus. The unserved slack (one per bus, penalised at
``unserved_penalty_yuan_per_kwh``) keeps every valid input feasible; an AC/DC park reports
it per bus (``unserved_kw_ac``, ``unserved_kw_dc``).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from parkgrid.config import Park
from parkgrid.model import registry
from parkgrid.optimizer.core import AssetBlock, Build
from parkgrid.optimizer.horizon import Horizon


class BusBalance(AssetBlock):
    def __init__(self, park: Park) -> None:
        self.park = park
        self.penalty = park.objective.unserved_penalty_yuan_per_kwh

    def build(self, b: pyo.Block, ctx: Build) -> None:
        for bus in ctx.buses:
            u = ctx.var(b, f"unserved_{bus}")
            unserved = [u[t] for t in ctx.steps]
            flows = [sum(terms[t] for terms in ctx.terms.get(bus, [])) for t in ctx.steps]
            rows = ctx.rows(b, f"balance_{bus}",
                            [f + x == 0 for f, x in zip(flows, unserved, strict=True)])
            ctx.slot(f"bus.{bus}.load", "row_fix", rows)
            ctx.cost(self.penalty * ctx.step_h * sum(unserved))
            ctx.output(f"bus.{bus}.unserved", unserved)

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        buses = registry.buses(self.park, "electricity")
        return {f"bus.{bus}.load": h.bus_total_kw("load_kw_", self.park.loads, bus)
                for bus in buses}

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        buses = registry.buses(self.park, "electricity")
        cols = {f"unserved_kw_{bus}": out[f"bus.{bus}.unserved"] for bus in buses}
        loads = [h.column(f"load_kw_{load.name}") for load in self.park.loads]
        cols["load_kw"] = np.sum(loads, axis=0)
        cols["cooling_load_kw_th"] = h.column("cooling_load_kw_th")
        return cols
