"""Renewables block: PV arrays (on their bus) and wind farms (AC bus), curtailable.

Per source and step one variable, the power used (kW at the bus), bounded by the available
power of the inputs; curtailed = available − used.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from parkgrid.config import Park
from parkgrid.optimizer.core import AssetBlock, Build
from parkgrid.optimizer.horizon import Horizon


def blocks(park: Park) -> dict[str, AssetBlock]:
    """PV and wind in one block (the registry's ``pv`` and ``wind`` kinds)."""
    return {"renewables": RenewablesBlock(park)} if park.pv or park.wind else {}


class RenewablesBlock(AssetBlock):
    def __init__(self, park: Park) -> None:
        self.sources = [("pv", a.name, a.bus) for a in park.pv]
        self.sources += [("wind", w.name, "ac") for w in park.wind]

    def build(self, b: pyo.Block, ctx: Build) -> None:
        for kind, name, bus in self.sources:
            v = ctx.var(b, f"{kind}_{name}")
            used = [v[t] for t in ctx.steps]
            ctx.inject(bus, used)
            ctx.slot(f"{kind}.{name}.available", "col_upper", used)
            ctx.output(f"{kind}.{name}.used", used)

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        return {f"{kind}.{name}.available": self._available(h, kind, name)
                for kind, name, _ in self.sources}

    @staticmethod
    def _available(h: Horizon, kind: str, name: str) -> np.ndarray:
        return np.maximum(h.column(f"{kind}_kw_{name}"), 0.0)

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        cols = {}
        for kind, name, _ in self.sources:
            used = out[f"{kind}.{name}.used"]
            cols[f"{kind}_kw_{name}"] = used
            cols[f"{kind}_curtailed_kw_{name}"] = self._available(h, kind, name) - used
        return cols
