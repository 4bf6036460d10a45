"""Forecast of EV arrivals from the park's session history: seasonal persistence by day type.

Per charger, each forecast day takes the sessions of the most recent history day of the same
day type (workday / Saturday / Sunday / holiday / Spring-Festival closure, the shipped calendar's
:func:`parkgrid.inputs.loads.day_types`, as the load models use), moved to the forecast day
with their times of day, stays and energies. Arrivals are discrete events: averaging counts
over several days would invent fractional cars (and a 0.4-car session a planner cannot be
asked to serve), while a persistence forecast by day type is the established baseline for
EV load (EMHASS forecasts a deferrable load by persistence of the days before) and keeps
every session physically possible — its energy fits its stay at its charger's power.

No look into the future: a session counts only once its record exists, i.e. when the car has
left (departure ≤ issue time), and only whole history days before the issue's local day are
candidates. Forecast sessions arriving strictly after the issue time and before the horizon's
end are kept; where two moved days overlap on a charger with every pile busy, the later
arrival is left out (with a note).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from parkgrid.config import Park
from parkgrid.inputs import loads
from parkgrid.inputs.loads import DAY_TYPE_NAMES, SESSION_CSV_COLUMNS
from parkgrid.io.atomic import atomic_write


def forecast_sessions(history: pd.DataFrame, park: Park, issue: pd.Timestamp,
                      end: pd.Timestamp) -> tuple[pd.DataFrame, list[str]]:
    """The sessions (:func:`parkgrid.inputs.loads.session_table` rows) expected to arrive in
    (``issue``, ``end``) from the ``history`` sessions, and notes on how they were made."""
    assert park.ev is not None
    tz = park.site.timezone
    known = history[history["departure"] <= issue]
    empty = history.iloc[:0]
    if known.empty:
        return empty, [f"EV: no session in the history ended by {issue.isoformat()}; "
                       "no EV arrivals forecast"]
    local = pd.DatetimeIndex(known["arrival"]).tz_localize(None).normalize()
    issue_day = issue.tz_localize(None).normalize()
    past = pd.date_range(local.min(), issue_day, inclusive="left", freq="D")
    ahead = pd.date_range(issue_day, (end - pd.Timedelta(1)).tz_localize(None).normalize(),
                          freq="D")
    past_types = loads.day_types(past.tz_localize(tz))
    parts, notes = [], []
    for day, kind in zip(ahead, loads.day_types(ahead.tz_localize(tz)), strict=True):
        same = past[past_types == kind]
        if same.empty:
            notes.append(f"EV: no {DAY_TYPE_NAMES[kind]} in the history before "
                         f"{issue.isoformat()}; no arrivals forecast on {day:%Y-%m-%d}")
            continue
        source = same[-1]
        moved = known[local == source].copy()
        shift = day - source
        for column in ("arrival", "departure"):
            moved[column] = (pd.DatetimeIndex(moved[column]).tz_localize(None) + shift
                             ).tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        parts.append(moved)
    if not parts:
        return empty, notes
    made = pd.concat(parts, ignore_index=True)
    arrival = pd.DatetimeIndex(made["arrival"])
    made = made[(arrival > issue) & (arrival < end)].sort_values("arrival", kind="stable")
    index = pd.date_range(issue, end, inclusive="left", freq=f"{park.time_step_minutes}min")
    fitting = loads.fitting_sessions(made, park.ev.chargers, index)
    if len(fitting) < len(made):
        notes.append(f"EV: {len(made) - len(fitting)} moved session(s) left out: every pile of "
                     "their charger busy where two history days meet")
    fitting["row"] = range(2, len(fitting) + 2)
    return fitting, notes


def write_sessions(sessions: pd.DataFrame, path: Path) -> Path:
    """Sessions as the session CSV (``SESSION_CSV_COLUMNS``; ISO 8601 times with offset,
    ``energy_kwh`` to the car), atomically."""
    table = pd.DataFrame({
        "arrival": pd.DatetimeIndex(sessions["arrival"]).map(pd.Timestamp.isoformat),
        "departure": pd.DatetimeIndex(sessions["departure"]).map(pd.Timestamp.isoformat),
        "energy_kwh": sessions["car_kwh"].to_numpy(dtype=float),
        "charger": sessions["charger"].to_numpy(),
    }, columns=SESSION_CSV_COLUMNS)
    return atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))
