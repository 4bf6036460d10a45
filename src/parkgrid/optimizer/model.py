"""The model builder: one Pyomo block per asset family the park has (REopt-style), the bus
balances that collect their terms, the objective — compiled once into HiGHS."""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo

from parkgrid.config import Park
from parkgrid.model import registry
from parkgrid.model.schedule import PER_ASSET_COLUMNS, SCHEDULE_COLUMNS
from parkgrid.optimizer.buses import BusBalance
from parkgrid.optimizer.core import AssetBlock, Build
from parkgrid.optimizer.demand_response import DemandResponseBlock, Window
from parkgrid.optimizer.emissions import EmissionsBlock, fuel_co2_kg_per_kwh
from parkgrid.optimizer.highs import CompiledModel, SolveResult
from parkgrid.optimizer.horizon import Horizon

CO2_COST_WEIGHT = 1e-6
"""Weight of the cost (yuan) next to CO2 (kg) when minimising CO2: picks the cheapest of the
least-CO2 schedules."""


def asset_blocks(park: Park, co2_rows: bool = False,
                 dr_windows: tuple[Window, ...] = ()) -> dict[str, AssetBlock]:
    """The blocks of ``park``: each registry kind's block factory (a family's block only when
    the park has that asset), the demand-response block for horizons with events, the bus
    balances, and the emissions rows when asked for."""
    blocks: dict[str, AssetBlock] = {}
    for kind in sorted(registry.kinds_with("block"), key=lambda k: k.block_rank):
        blocks.update(registry.load(kind.block)(park))
    if dr_windows:
        blocks["demand_response"] = DemandResponseBlock(park, dr_windows)
    blocks["buses"] = BusBalance(park)  # it collects the others' terms
    if co2_rows:
        blocks["emissions"] = EmissionsBlock(park)  # reads the others' variables
    return blocks


class ParkModel:
    """The model of ``park`` over ``n_steps``, built once and solved for any horizon."""

    def __init__(self, park: Park, n_steps: int, threads: int | None = None,
                 co2_rows: bool = False, dr_windows: tuple[Window, ...] = ()) -> None:
        started = time.perf_counter()
        self.park, self.n_steps = park, n_steps
        model = pyo.ConcreteModel(name=park.name)
        ctx = Build(park, n_steps, park.step_h, model)
        self.blocks = asset_blocks(park, co2_rows, dr_windows)
        for name, block in self.blocks.items():
            b = pyo.Block()
            model.add_component(name, b)
            block.build(b, ctx)
        model.objective = pyo.Objective(expr=sum(ctx.costs), sense=pyo.minimize)
        self.compiled = CompiledModel(model, ctx, threads)
        self.build_time_s = time.perf_counter() - started

    def data(self, h: Horizon) -> dict[str, np.ndarray]:
        data: dict[str, np.ndarray] = {}
        for block in self.blocks.values():
            data.update(block.day_data(h))
        return data

    def solve(self, h: Horizon, time_limit_s: float, mip_gap: float) -> SolveResult:
        compiled = self.compiled
        compiled.push(self.data(h), h.options.relax_integers, h.options.tie_break)
        if h.options.minimize == "co2":
            co2 = np.zeros_like(compiled.cost)
            co2[compiled.outputs["grid.import"]] = h.column("co2_kg_per_kwh") * h.step_h
            for key, kg in fuel_co2_kg_per_kwh(self.park).items():
                if key in compiled.outputs:
                    co2[compiled.outputs[key]] = kg * h.step_h
            compiled.set_costs(co2 + CO2_COST_WEIGHT * compiled.cost)
        return compiled.solve(time_limit_s, mip_gap,
                              self.park.objective.mip_max_nodes if h.options.node_limit else None)

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        """Internal schedule columns from the outputs: per-asset columns always suffixed,
        the others all present (zeros for assets the park lacks)."""
        per_asset = {base for bases in PER_ASSET_COLUMNS.values() for base in bases}
        cols = {c: np.zeros(h.n) for c in SCHEDULE_COLUMNS if c not in per_asset}
        for block in self.blocks.values():
            cols.update(block.columns(out, h))
        return cols
