"""Asset physics shared by the controller and the rule-based planner: column names, chiller
electricity, storage state updates. One place, so that the ledger is the same physics the
optimizer plans with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from parkgrid.config import Chiller, Park
from parkgrid.model import schedule


def asset_column(park: Park, kind: str, base: str, name: str) -> str:
    """The schedule column of ``base`` for asset ``name`` of ``kind`` (see
    :data:`parkgrid.model.schedule.PER_ASSET_COLUMNS`): suffixed when the park has several."""
    return schedule.asset_column(base, name, schedule.asset_names(park)[kind])


def columns_like(frame: pd.DataFrame, base: str) -> list[str]:
    """The columns of ``frame`` named ``base`` or ``base_<asset>``."""
    return [c for c in frame.columns if c == base or c.startswith(base + "_")]


def total(frame: pd.DataFrame, base: str) -> np.ndarray:
    """The sum over assets of a per-asset column, as an array (zeros if absent)."""
    cols = columns_like(frame, base)
    if not cols:
        return np.zeros(len(frame))
    return frame[cols].to_numpy(dtype=float).sum(axis=1)


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
