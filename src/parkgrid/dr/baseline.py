"""The baseline an event's response is verified against, kW per step of its window.

``similar_days`` (the usual provincial rule): the mean net import at the same times of day
on the ``baseline_days`` most recent days *before* the event's day that are of the same kind
(workday, or rest day: weekends and statutory holidays; make-up working days count as
workdays) and carry no event, looked for up to ``SEARCH_DAYS`` back; days the history does
not cover whole are skipped. Only past days enter it, so nothing the park does on the event
day moves its own baseline (see docs/demand_response.md on baseline inflation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkgrid.dr.events import Event
from parkgrid.inputs import loads

SEARCH_DAYS = 45
"""How far back the similar-days baseline looks for its days."""


def net_import_kw(frame: pd.DataFrame) -> pd.Series:
    """Import − export at the point of connection (the meter the response is verified on)."""
    return frame["grid_import_kw"] - frame["grid_export_kw"]


def is_workday(days: pd.DatetimeIndex) -> np.ndarray:
    """Per local midnight: a workday (incl. make-up working days), else a rest day."""
    return loads.day_types(days) == loads.WORKDAY


def similar_days(event: Event, history_kw: pd.Series, event_days: set[pd.Timestamp],
                 n_days: int, steps_per_day: int) -> list[pd.Timestamp]:
    """The midnights of the similar days of ``event`` in ``history_kw`` (newest first)."""
    day = event.start.normalize()
    candidates = pd.date_range(end=day - pd.Timedelta(days=1), periods=SEARCH_DAYS,
                               freq="D")[::-1]
    kind = is_workday(pd.DatetimeIndex([day]))[0]
    same = candidates[is_workday(candidates) == kind]
    if history_kw.empty:
        return []
    counts = history_kw.groupby(history_kw.index.normalize()).size()
    whole = set(counts.index[counts.to_numpy() == steps_per_day])
    return [d for d in same if d in whole and d not in event_days][:n_days]


def similar_days_kw(event: Event, history_kw: pd.Series, event_days: set[pd.Timestamp],
                    n_days: int, steps_per_day: int) -> np.ndarray | None:
    """The similar-days baseline over the event's window (None: no similar day in the
    history)."""
    days = similar_days(event, history_kw, event_days, n_days, steps_per_day)
    if not days:
        return None
    offset = event.start - event.start.normalize()
    length = event.end - event.start
    rows = [history_kw[(history_kw.index >= d + offset) & (history_kw.index < d + offset + length)]
            .to_numpy(float) for d in days]
    return np.mean(rows, axis=0)


def event_baseline_kw(event: Event, history_kw: pd.Series, event_days: set[pd.Timestamp],
                      steps_per_day: int, declared_kw: np.ndarray | None = None,
                      ) -> np.ndarray | None:
    """The baseline of ``event`` by its programme's method, kW per window step (None: not
    available — no similar day in the history, or no declared plan)."""
    prog = event.programme
    n = round(event.hours * steps_per_day / 24)
    if prog.baseline == "fixed":
        assert prog.baseline_kw is not None
        return np.full(n, prog.baseline_kw)
    if prog.baseline == "declared_plan":
        return None if declared_kw is None else np.asarray(declared_kw, float)
    return similar_days_kw(event, history_kw, event_days, prog.baseline_days, steps_per_day)
