"""DC bus block: the bidirectional AC/DC converter linking the buses.

Flows are measured on the converter's input side: ``converter_ac_to_dc_kw`` is drawn from the
AC bus and delivers ``η ×`` that to the DC bus; ``converter_dc_to_ac_kw`` is drawn from the DC
bus and delivers ``η ×`` that to the AC bus. Each is at most the rating and so is their sum
(no direction binary: a round trip loses energy and is netted away, see :mod:`.netting`).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from parkgrid.config import DCBus, Park
from parkgrid.optimizer.core import AssetBlock, Build
from parkgrid.optimizer.horizon import Horizon


def blocks(park: Park) -> dict[str, AssetBlock]:
    """The AC/DC converter's block (the registry's ``converter`` kind)."""
    return {"dcbus": DCBusBlock(park.buses.dc)} if park.buses.dc is not None else {}


class DCBusBlock(AssetBlock):
    def __init__(self, dc: DCBus) -> None:
        self.rating_kw = dc.converter_kw
        self.eta = dc.converter_efficiency

    def build(self, b: pyo.Block, ctx: Build) -> None:
        b.ac_to_dc = ctx.var(b, "ac_to_dc", bounds=(0.0, self.rating_kw))
        b.dc_to_ac = ctx.var(b, "dc_to_ac", bounds=(0.0, self.rating_kw))
        a2d, d2a = [b.ac_to_dc[t] for t in ctx.steps], [b.dc_to_ac[t] for t in ctx.steps]
        ctx.rows(b, "rating", [x + y <= self.rating_kw for x, y in zip(a2d, d2a, strict=True)])
        ctx.inject("ac", [self.eta * y - x for x, y in zip(a2d, d2a, strict=True)])
        ctx.inject("dc", [self.eta * x - y for x, y in zip(a2d, d2a, strict=True)])
        ctx.tie_break(a2d + d2a)
        ctx.output("converter.ac_to_dc", a2d)
        ctx.output("converter.dc_to_ac", d2a)

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        return {"converter_ac_to_dc_kw": out["converter.ac_to_dc"],
                "converter_dc_to_ac_kw": out["converter.dc_to_ac"]}
