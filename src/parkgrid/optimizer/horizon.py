"""One planning horizon: its inputs, the state it starts from, and the solve options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from parkgrid.config import EndSoc, Park
from parkgrid.inputs import Inputs
from parkgrid.model.schedule import ParkState


@dataclass(frozen=True)
class PlanOptions:
    """Solve settings; ``None`` takes the park's ``objective`` section.

    ``relax_integers``: solve the LP relaxation (a lower bound, fast).
    ``initial_state``: 'given' (state in) or 'free' (battery SOC and tank level at the start
    are decisions within their limits, and the end-of-horizon rules are dropped).
    ``minimize``: 'cost' (yuan) or 'co2' (kg, with the cost as a 1e-6 tie-break).
    ``co2_cap_kg`` / ``penalty_cap_yuan``: the ε-constraint on CO2 and a cap on the penalised
    slacks (models with these rows are built apart, see :mod:`.emissions`).
    ``tie_break``: the 1e-4 yuan/kWh costs that steer ties towards loss-free schedules; off,
    the objective and bound are exactly the cost (ties are netted afterwards anyway).
    ``node_limit``: branch and bound ends at the park's ``objective.mip_max_nodes``
    nodes (a plan independent of the machine's speed); off, only the time limit ends it.
    """

    time_limit_s: float | None = None
    mip_gap: float | None = None
    relax_integers: bool = False
    initial_state: Literal["given", "free"] = "given"
    carbon_in_objective: bool | None = None
    tie_break: bool = True
    minimize: Literal["cost", "co2"] = "cost"
    co2_cap_kg: float | None = None
    penalty_cap_yuan: float | None = None
    node_limit: bool = True

    @property
    def with_co2_rows(self) -> bool:
        """Whether the horizon needs the model variant with the emissions rows."""
        return (self.minimize == "co2" or self.co2_cap_kg is not None
                or self.penalty_cap_yuan is not None)


@dataclass
class Horizon:
    """The inputs of one horizon (already windowed) and where it starts from. ``park`` gives
    the asset sizes (it may differ from ``inputs.park`` in a sweep)."""

    park: Park
    inputs: Inputs
    state: ParkState
    options: PlanOptions
    warnings: list[str] = field(default_factory=list)
    _arrays: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    @property
    def series(self) -> pd.DataFrame:
        return self.inputs.series

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.inputs.index

    @property
    def n(self) -> int:
        return len(self.inputs.series)

    @property
    def step_h(self) -> float:
        return self.park.step_h

    @property
    def free_start(self) -> bool:
        return self.options.initial_state == "free"

    @property
    def carbon_in_objective(self) -> bool:
        if self.options.carbon_in_objective is not None:
            return self.options.carbon_in_objective
        return self.park.objective.carbon_price_in_objective

    def column(self, name: str) -> np.ndarray:
        """A numeric input column as float array (read-only: converted once per horizon and
        shared by every block that reads it)."""
        if name not in self._arrays:
            array = self.series[name].to_numpy(dtype=float, copy=True)
            array.flags.writeable = False
            self._arrays[name] = array
        return self._arrays[name]

    def bus_total_kw(self, prefix: str, assets: list, bus: str) -> np.ndarray:
        """Sum of the ``prefix<name>`` columns of the assets on ``bus``, kW (zeros if none)."""
        return sum((self.column(f"{prefix}{a.name}") for a in assets if a.bus == bus),
                   np.zeros(self.n))


def reachable_kwh(start_kwh: float, rate_kwh_per_step: float, keep: float, n: int,
                  cap_kwh: float) -> float:
    """The most energy storage can hold after ``n`` steps of charging at full rate."""
    # the geometric sum term by term, as the model's SOC chain applies ``keep``: the closed
    # form (1 − keep^n) / (1 − keep) loses digits when keep is a hair below 1 and could
    # promise more than the chain reaches (an infeasible end rule); less a hair for HiGHS
    powers = min(keep, 1.0) ** np.arange(n + 1)
    grown = start_kwh * powers[n] + rate_kwh_per_step * float(powers[:n].sum())
    return min(grown * (1.0 - 1e-9) - 1e-9, cap_kwh)


@dataclass(frozen=True)
class Store:
    """A battery or the tank as the horizon's start and end see it (levels in kWh, kWh_th
    for the tank): its window, the levels of the end rules, and what refilling costs."""

    label: str  # 'battery lfp: SOC', 'tank level'
    unit: str
    lo: float
    hi: float
    capacity: float  # the end rule's 'fraction' is of this
    initial: float  # the level the end rule 'initial' asks for
    rule: EndSoc
    charge_per_step: float  # stored in one step at full charging power
    keep: float
    grid_to_store: float  # stored per kWh imported (the grid is on the AC bus)

    def data(self, key: str, given: float, h: Horizon) -> dict[str, np.ndarray]:
        """The slots ``key``.start_lo/start_hi (the level ``given`` by the state, clipped
        into the window with a warning; the window itself with a free start), ``key``.end
        (the end rule's floor, lowered to what full charging reaches) and ``key``.end_value
        (the cost of a kWh left at the end)."""
        if h.free_start:
            lo, hi, target = self.lo, self.hi, self.lo
        else:
            lo = hi = min(max(given, self.lo), self.hi)
            if abs(lo - given) > 1e-6:
                h.warnings.append(f"{self.label} {given:.3f} {self.unit} outside the window "
                                  f"[{self.lo:g}, {self.hi:g}] {self.unit}, clipped")
            level = {"initial": self.initial,
                     "fraction": (self.rule.fraction or 0.0) * self.capacity}.get(self.rule.rule,
                                                                                 self.lo)
            target = min(level, reachable_kwh(lo, self.charge_per_step, self.keep, h.n, self.hi))
        return {f"{key}.start_lo": np.array([lo]), f"{key}.start_hi": np.array([hi]),
                f"{key}.end": np.array([target]),
                f"{key}.end_value": np.array([-self.end_value(h)])}

    def end_value(self, h: Horizon) -> float:
        """What a kWh left at the end of ``h`` is worth in its objective: 0 unless the rule
        is 'value' (and the start is given); then the rule's value, or what refilling it
        would cost — the horizon's lowest import price (at least 0) over ``grid_to_store``."""
        if self.rule.rule != "value" or h.free_start:
            return 0.0
        if self.rule.value_yuan_per_kwh is not None:
            return self.rule.value_yuan_per_kwh
        return max(float(h.column("price_import_yuan_per_kwh").min()), 0.0) / self.grid_to_store
