"""Asset physics shared by the optimizer's data, the controller, the rule-based planner, the
balance checker and the KPIs: one storage model (limits, standing loss, efficiencies, the
level step), chiller electricity, column lookups. One place, so that the ledger is the same
physics the optimizer plans with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parkgrid.config import Battery, Chiller, Park, Tank
from parkgrid.model import registry, schedule


def decay(pct_per_h: float, step_h: float) -> float:
    """The fraction of stored energy left after one step of standing loss (linear in the
    step)."""
    return 1.0 - pct_per_h / 100.0 * step_h


@dataclass(frozen=True)
class Storage:
    """One store of energy (a battery, a thermal tank): its level window, standing loss and
    one-way efficiencies over a step of ``step_h`` hours.

    Level update (end of a step): ``level' = keep·level + (η_c·charge − discharge/η_d)·Δt``;
    charge and discharge are powers at the store's bus (kW or kW_th), ``keep`` the share
    of the level left after a step of standing loss (:func:`decay`)."""

    lo: float
    hi: float
    keep: float
    eta_c: float
    eta_d: float
    step_h: float

    @classmethod
    def battery(cls, b: Battery, step_h: float) -> Storage:
        """A battery's store (kWh)."""
        return cls(b.soc_min * b.energy_kwh, b.soc_max * b.energy_kwh,
                   decay(b.self_discharge_pct_per_h, step_h), b.charge_efficiency,
                   b.discharge_efficiency, step_h)

    @classmethod
    def tank(cls, t: Tank, step_h: float) -> Storage:
        """A thermal tank's store (kWh_th): lossless transfer, standing loss only."""
        return cls(0.0, t.capacity_kwh_th, decay(t.standing_loss_pct_per_h, step_h), 1.0, 1.0,
                   step_h)

    def stored(self, charge: float | np.ndarray, discharge: float | np.ndarray
               ) -> float | np.ndarray:
        """Energy a step adds to the level (negative: takes), beyond the standing loss."""
        return (self.eta_c * charge - discharge / self.eta_d) * self.step_h

    def step(self, level: float, charge: float, discharge: float) -> float:
        """The level at the end of a step that began at ``level``."""
        return level * self.keep + (self.eta_c * charge - discharge / self.eta_d) * self.step_h

    def before(self, level: float | np.ndarray, charge: float | np.ndarray,
               discharge: float | np.ndarray) -> float | np.ndarray:
        """The level at the start of a step that ended at ``level`` (the step undone)."""
        return (level - self.stored(charge, discharge)) / self.keep

    def max_charge(self, kept: float, power: float) -> float:
        """Most charging power (≥ 0) a step starting from ``kept`` (after standing loss) can
        take without exceeding ``hi``, at most ``power``."""
        return max(0.0, min(power, (self.hi - kept) / (self.eta_c * self.step_h)))

    def max_discharge(self, kept: float, power: float) -> float:
        """Most discharging power a step starting from ``kept`` can give without going below
        ``lo``, at most ``power``; negative (a charge back to ``lo``) when ``kept`` is below
        the window."""
        if kept >= self.lo:
            return min(power, (kept - self.lo) * self.eta_d / self.step_h)
        return -min(power, (self.lo - kept) / (self.eta_c * self.step_h))


def asset_column(park: Park, kind: str, base: str, name: str) -> str:
    """The schedule column of ``base`` for asset ``name`` of ``kind`` (see
    :data:`parkgrid.model.schedule.PER_ASSET_COLUMNS`): suffixed when the park has several."""
    return schedule.asset_column(base, name, registry.KINDS[kind].names(park))


def columns_like(frame: pd.DataFrame, base: str) -> list[str]:
    """The columns of ``frame`` named ``base`` or ``base_<asset>``."""
    return [c for c in frame.columns.tolist() if c == base or c.startswith(base + "_")]


def total(frame: pd.DataFrame, base: str) -> np.ndarray:
    """The sum over assets of a per-asset column, as an array (zeros if absent)."""
    cols = columns_like(frame, base)
    if not cols:
        return np.zeros(len(frame))
    # column by column: selecting several columns of a frame costs ~20 single ones
    return np.stack([frame[c].to_numpy(dtype=float) for c in cols]).sum(axis=0)


def chiller_curve(chiller: Chiller) -> tuple[list[float], list[float]]:
    """Breakpoints (cooling kW_th, electric kW) of a chiller's electricity, through 0.

    Electricity is piecewise linear in cooling output between the COP curve's points
    (electric = cooling / COP at each point), extended to full load with the last COP.
    """
    cap = chiller.capacity_kw_th
    if chiller.cop is not None:
        return [0.0, cap], [0.0, cap / chiller.cop]
    curve = chiller.cop_curve
    assert curve is not None
    fractions, cops = list(curve.load_fraction), list(curve.cop)
    if fractions[-1] < 1.0:
        fractions.append(1.0)
        cops.append(cops[-1])
    q = [0.0] + [f * cap for f in fractions]
    e = [0.0] + [f * cap / c for f, c in zip(fractions, cops, strict=True)]
    return q, e


def chiller_electric_kw(chiller: Chiller, cooling_kw_th: float | np.ndarray) -> np.ndarray:
    """Electric power of ``chiller`` producing ``cooling_kw_th``, kW."""
    q, e = chiller_curve(chiller)
    return np.interp(cooling_kw_th, q, e)


def split_cooling(chillers: Sequence[Chiller], need_kw_th: float,
                  curves: Sequence[tuple[list[float], list[float]]]) -> list[float]:
    """Outputs per chiller (kW_th) meeting ``need_kw_th`` at the least electricity.

    Tries the first k chillers for every k, each at the same load fraction, and keeps the
    cheapest split whose fraction respects every minimum part load. Returns an empty list
    when no split fits (the need is below the smallest minimum part load).
    """
    best: list[float] = []
    best_kw = float("inf")
    cap = 0.0
    for k in range(1, len(chillers) + 1):
        cap += chillers[k - 1].capacity_kw_th
        if need_kw_th > cap + 1e-9:
            continue
        fraction = need_kw_th / cap
        if any(fraction < c.min_part_load - 1e-9 for c in chillers[:k]):
            continue
        outputs = [fraction * c.capacity_kw_th for c in chillers[:k]]
        kw = sum(float(np.interp(o, *curves[i])) for i, o in enumerate(outputs))
        if kw < best_kw:
            best, best_kw = outputs + [0.0] * (len(chillers) - k), kw
    return best
