"""The event calendar: which programme calls an event, when, and for how many kW.

CSV columns ``programme, date, start, end, requested_kw``: ``date`` ISO (2025-07-15),
``start`` / ``end`` local ``HH:MM`` on the park's step (``end`` may be ``24:00``),
``requested_kw`` blank for the programme's ``capacity_kw``. Every row is checked; a bad one
raises :class:`InputDataError` naming the file, the row, the field, what it got and what
was expected. Events may not overlap (one meter cannot verify two responses at once).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from parkgrid.config import DRProgramme, Park
from parkgrid.errors import InputDataError
from parkgrid.inputs.timeseries import read_cells

COLUMNS = ("programme", "date", "start", "end", "requested_kw")
DAY_AHEAD_ISSUE_H = 12.0
"""A day-ahead event is notified by 12:00 the day before (when the day-ahead forecasts are
issued), so the day-ahead plan of its day sees it."""
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Event:
    """One called event: its programme, window [start, end) in local time, request."""

    programme: DRProgramme
    start: pd.Timestamp
    end: pd.Timestamp
    requested_kw: float
    row: int = 0  # line of the calendar file (0: built in code)

    @property
    def key(self) -> str:
        """A stable identifier: programme and window start."""
        return f"{self.programme.name}@{self.start:%Y-%m-%d %H:%M}"

    @property
    def hours(self) -> float:
        return (self.end - self.start) / pd.Timedelta(hours=1)

    @property
    def sign(self) -> float:
        """+1 when the response is a reduction of import (peak shaving), −1 otherwise."""
        return 1.0 if self.programme.kind == "peak_shaving" else -1.0

    @property
    def notified(self) -> pd.Timestamp:
        """When the park learns of the event."""
        if self.programme.notice == "day_ahead":
            return self.start.normalize() - pd.Timedelta(hours=24 - DAY_AHEAD_ISSUE_H)
        return self.start - pd.Timedelta(hours=self.programme.notice_h)

    def steps(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Positions of the event's steps in ``index``."""
        return np.flatnonzero((index >= self.start) & (index < self.end))


def read_calendar(park: Park) -> list[Event]:
    """The park's events, sorted by start ([] without ``demand_response``)."""
    dr = park.demand_response
    if dr is None:
        return []
    path = park.resolve(dr.events)
    assert path is not None
    return parse_calendar(path, dr.programmes, park.time_step_minutes, park.site.timezone)


def parse_calendar(path: Path, programmes: list[DRProgramme], step_minutes: int,
                   timezone: str) -> list[Event]:
    """Read and check an event calendar CSV of ``programmes`` (see the module doc) for
    ``step_minutes`` steps in local time ``timezone``."""
    raw, rows = read_cells(path, "DR events")
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise InputDataError(path, f"DR events: missing column(s) {missing}; expected "
                                   f"{list(COLUMNS)}, found {list(raw.columns)}")
    by_name = {p.name: p for p in programmes}
    events = [_event(raw.iloc[i], int(rows[i]), path, step_minutes, timezone, by_name)
              for i in range(len(raw))]
    events.sort(key=lambda e: e.start)
    for before, after in pairwise(events):
        if after.start < before.end:
            raise InputDataError(path, f"DR events: row {after.row}: the event from "
                                       f"{after.start:%Y-%m-%d %H:%M} overlaps row {before.row}'s "
                                       f"(until {before.end:%H:%M}); expected events that do "
                                       "not overlap")
    return events


def _event(cells: pd.Series, row: int, path: Path, step_minutes: int, timezone: str,
           programmes: dict[str, DRProgramme]) -> Event:
    def bad(field: str, expected: str) -> InputDataError:
        return InputDataError(path, f"DR events: row {row}: got {field} "
                                    f"{_text(cells[field])!r}; expected {expected}")

    name = _text(cells["programme"])
    if name not in programmes:
        raise bad("programme", f"one of {sorted(programmes)}")
    prog = programmes[name]
    try:
        day = pd.Timestamp(_text(cells["date"]))
    except ValueError:
        day = pd.NaT
    if pd.isna(day) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", _text(cells["date"])):
        raise bad("date", "an ISO date such as 2025-07-15")
    start_h = _clock_h(_text(cells["start"]), step_minutes)
    end_h = _clock_h(_text(cells["end"]), step_minutes)
    step = f"local HH:MM on the park's {step_minutes}-min step"
    if start_h is None or start_h >= 24:
        raise bad("start", step)
    if end_h is None or end_h <= start_h:
        raise bad("end", f"{step}, after start (24:00 for midnight)")
    if start_h < prog.window_start_h or end_h > prog.window_end_h:
        raise bad("start" if start_h < prog.window_start_h else "end",
                  f"a time within programme {name!r}'s window {prog.window_start_h:g}–"
                  f"{prog.window_end_h:g} h")
    requested = _text(cells["requested_kw"])
    kw = prog.capacity_kw if requested == "" else _number(requested)
    if not (math.isfinite(kw) and 0 < kw <= prog.capacity_kw * (1 + 1e-9)):
        raise bad("requested_kw", f"a number of kW in (0, {prog.capacity_kw:g}] (programme "
                                  f"{name!r}'s capacity_kw), or blank")
    midnight = day.tz_localize(timezone)
    return Event(prog, midnight + pd.Timedelta(hours=start_h),
                 midnight + pd.Timedelta(hours=end_h), float(kw), row)


def _text(cell: object) -> str:
    return "" if cell is None or (isinstance(cell, float) and math.isnan(cell)) else \
        str(cell).strip()


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _clock_h(text: str, step_minutes: int) -> float | None:
    """Hours after midnight of a HH:MM on the step (24:00 allowed), else None."""
    match = _CLOCK.match(text)
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes) or \
            (hours * 60 + minutes) % step_minutes:
        return None
    return hours + minutes / 60.0


@dataclass(frozen=True)
class PlannedEvent:
    """An event as a plan sees it: the baseline over its whole window (kW per step) and the
    offer — ``None`` while the planner may still decide (an optional programme's event not
    yet answered), else the kW offered (the request once accepted or for a firm programme,
    0 once declined)."""

    event: Event
    baseline_kw: np.ndarray
    offered_kw: float | None = None

    def part(self, index: pd.DatetimeIndex) -> tuple[int, int]:
        """[first, last) positions of the event's steps within ``index`` (empty: first ==
        last)."""
        steps = self.event.steps(index)
        return (int(steps[0]), int(steps[-1]) + 1) if steps.size else (0, 0)

    def baseline_in(self, index: pd.DatetimeIndex, step_minutes: int) -> np.ndarray:
        """The baseline over the part of the window within ``index``."""
        inside = self.event.steps(index)
        if not inside.size:
            return np.zeros(0)
        offset = (index[inside[0]] - self.event.start) // pd.Timedelta(minutes=step_minutes)
        return np.asarray(self.baseline_kw, float)[offset:offset + inside.size]
