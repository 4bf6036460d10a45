"""The build context every asset block adds to: bus terms, cost terms, data slots and outputs.

A block builds its Pyomo variables and constraints once per (park, horizon length). Whatever
changes from one horizon to the next (availability, loads, prices, initial state, session
masks) is not written into the Pyomo model: the block registers a *data slot* — "the upper
bounds of these variables", "the right-hand sides of these rows", "the costs of these
variables" — and fills it every horizon with one numpy array. The compiled HiGHS model
(:mod:`parkgrid.optimizer.highs`) writes those arrays straight into its bounds and costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pyomo.environ as pyo

from parkgrid.config import Park
from parkgrid.model import registry

if TYPE_CHECKING:
    from parkgrid.optimizer.horizon import Horizon

TIE_BREAK_YUAN_PER_KWH = 1e-4
"""Cost on every flow that could waste energy at no cost (simultaneous charge and discharge,
converter round trips, over-cooling): breaks ties towards the loss-free schedule."""

SlotKind = Literal["col_lower", "col_upper", "row_lower", "row_upper", "row_fix", "cost",
                   "integer", "coef"]
ROW_SENSE = {"row_lower": -1, "row_upper": 1, "row_fix": 0}
"""The row sense of each row slot kind (Pyomo's standard form: -1 ≥, 0 =, 1 ≤)."""


@dataclass
class Slot:
    kind: SlotKind
    items: list  # VarData (column kinds), ConstraintData (row kinds), (row, var) pairs (coef)


@dataclass
class Build:
    """What the blocks of one model register while they are built."""

    park: Park
    n_steps: int
    step_h: float
    model: pyo.ConcreteModel
    terms: dict[str, list[Sequence]] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)
    outputs: dict[str, list] = field(default_factory=dict)
    costs: list = field(default_factory=list)
    tie_breaks: list = field(default_factory=list)
    sign_rounded: list[tuple[list, list, list]] = field(default_factory=list)
    count_rounded: list[tuple[list[list], list, list[list], tuple[float, float]]] = field(
        default_factory=list)
    covers: list[tuple[list[list], float, list, list[list], object]] = field(
        default_factory=list)

    @property
    def steps(self) -> range:
        return range(self.n_steps)

    @property
    def buses(self) -> list[str]:
        """The electrical buses (thermal carriers balance inside their plant's block)."""
        return registry.buses(self.park, "electricity")

    def inject(self, bus: str, terms: Sequence) -> None:
        """Add a power flow into ``bus`` (kW, one linear expression per step; negative = draw)."""
        self.terms.setdefault(bus, []).append(terms)

    def slot(self, key: str, kind: SlotKind, items: Sequence) -> None:
        """Declare that ``items`` get a per-horizon value under ``key`` (see module doc)."""
        if key in self.slots:
            raise ValueError(f"data slot {key!r} declared twice")
        self.slots[key] = Slot(kind, list(items))

    def output(self, key: str, items: Sequence) -> None:
        """Declare variables whose solution values are read back under ``key``."""
        self.outputs[key] = list(items)

    def round_by_sign(self, binaries: Sequence, positive: Sequence, negative: Sequence) -> None:
        """In relax-and-round, set each binary to 1 where positive ≥ negative, else 0 (the
        default rounds every binary up)."""
        self.sign_rounded.append((list(binaries), list(positive), list(negative)))

    def round_as_count(self, units: Sequence[Sequence], shortfall: Sequence,
                       outputs: Sequence[Sequence] = (),
                       output_kw: tuple[float, float] = (0.0, 0.0)) -> None:
        """In relax-and-round, treat interchangeable units' binaries (``units[i][t]``) as one
        count per step: the count rounded up, switched on in the given unit order.
        ``shortfall[t]``: the slack (≥ 0) of what the units serve at step t; a rounding that
        leaves it positive is repaired with one unit more there. ``outputs[i][t]``: the
        units' outputs, each within ``output_kw`` (minimum, capacity) when on — given, the
        relaxed output is also cycled into whole units (:func:`~parkgrid.optimizer.highs.
        cycle_count`)."""
        self.count_rounded.append(([list(u) for u in units], list(shortfall),
                                   [list(u) for u in outputs], output_kw))

    def cover(self, units: Sequence[Sequence], unit_kw: float, rows: Sequence,
              free: Sequence, start: object = None) -> None:
        """Declare that the demand of ``rows`` (one per step, ``supply ≥ demand`` with the
        demand as the row's lower bound) is met only by ``units`` (binaries ``units[i][t]``,
        each unit making at most ``unit_kw`` when on), the ``free`` supply (``free[t]``: the
        nonnegative variables of step t that supply 1:1 — slacks, other units) and a store whose
        level starts at the variable ``start`` (fixed per horizon; None: no store). The
        branch and bound then gets the cover inequalities of :meth:`.highs.CompiledModel.
        cover_rows`."""
        self.covers.append(([list(u) for u in units], unit_kw, list(rows),
                            [list(f) for f in free], start))

    def cost(self, expr: object) -> None:
        """Add a constant-coefficient term to the objective (yuan)."""
        self.costs.append(expr)

    def tie_break(self, items: Sequence) -> None:
        """Add the tie-break cost (kWh of each variable × ``TIE_BREAK_YUAN_PER_KWH``) to the
        objective; ``PlanOptions(tie_break=False)`` switches it off per horizon."""
        self.tie_breaks.extend(items)
        self.cost(TIE_BREAK_YUAN_PER_KWH * self.step_h * sum(items))

    def var(self, block: pyo.Block, name: str, index: Sequence | None = None,
            bounds: tuple[float | None, float | None] = (0.0, None),
            domain: object = pyo.NonNegativeReals) -> pyo.Var:
        """A variable indexed by step (or by ``index``) added to ``block`` as ``name``."""
        v = pyo.Var(self.steps if index is None else index, domain=domain, bounds=bounds)
        block.add_component(name, v)
        return v

    def rows(self, block: pyo.Block, name: str, exprs: Sequence) -> list:
        """Add one constraint per relational expression; returns the ConstraintData list."""
        con = pyo.Constraint(range(len(exprs)), rule=lambda _b, i: exprs[i])
        block.add_component(name, con)
        return [con[i] for i in range(len(exprs))]


class AssetBlock:
    """One asset family's part of the model: ``build`` adds its variables, rows and data
    slots once; per horizon, ``day_data`` fills its slots, ``columns`` turns its outputs into
    schedule columns and ``stored_value_yuan`` is its objective credit for energy left in
    storage at the end (none by default)."""

    def build(self, b: pyo.Block, ctx: Build) -> None:
        raise NotImplementedError

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        return {}

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        return {}

    def stored_value_yuan(self, out: dict[str, np.ndarray], h: Horizon) -> float:
        return 0.0
