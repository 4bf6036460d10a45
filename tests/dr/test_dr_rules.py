"""Demand response: the programme config, the event calendar, baselines by hand, settlement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dr_support import PROGRAMME, dr_park
from hypothesis import given
from hypothesis import strategies as st

from parkgrid.config import DRProgramme
from parkgrid.dr.baseline import event_baseline_kw, similar_days, similar_days_kw
from parkgrid.dr.events import Event, read_calendar
from parkgrid.dr.settlement import settle, verified_response_kwh
from parkgrid.errors import ConfigError, InputDataError

TZ = "Asia/Shanghai"


def programme(**over: object) -> DRProgramme:
    return DRProgramme.model_validate(PROGRAMME | over)


def test_calendar_is_read_in_local_time(tmp_path):
    park = dr_park(tmp_path, "programme,date,start,end,requested_kw\n"
                             "summer_peak,2025-07-02,18:00,20:00,\n"
                             "summer_peak,2025-07-01,12:15,14:00,40\n")
    first, second = read_calendar(park)
    assert first.start == pd.Timestamp("2025-07-01 12:15", tz=TZ)
    assert first.end == pd.Timestamp("2025-07-01 14:00", tz=TZ)
    assert (first.requested_kw, first.row, first.hours) == (40.0, 3, 1.75)
    assert second.requested_kw == 100.0  # blank: the programme's capacity
    assert first.notified == pd.Timestamp("2025-06-30 12:00", tz=TZ)


@pytest.mark.parametrize(("row", "field"), [
    ("winter,2025-07-01,12:00,14:00,50", "programme"),
    ("summer_peak,07/01/2025,12:00,14:00,50", "date"),
    ("summer_peak,2025-07-01,12:10,14:00,50", "start"),
    ("summer_peak,2025-07-01,12:00,12:00,50", "end"),
    ("summer_peak,2025-07-01,08:00,12:00,50", "start"),
    ("summer_peak,2025-07-01,18:00,21:00,50", "end"),
    ("summer_peak,2025-07-01,12:00,14:00,150", "requested_kw"),
    ("summer_peak,2025-07-01,12:00,14:00,-5", "requested_kw"),
    ("summer_peak,2025-07-01,12:00,14:00,abc", "requested_kw"),
])
def test_bad_calendar_rows_name_file_row_and_field(tmp_path, row, field):
    park = dr_park(tmp_path, f"programme,date,start,end,requested_kw\n{row}\n")
    with pytest.raises(InputDataError) as err:
        read_calendar(park)
    text = str(err.value)
    assert "events.csv" in text and "row 2" in text and f"got {field}" in text
    assert "expected" in text


def test_overlapping_events_and_missing_columns_are_refused(tmp_path):
    park = dr_park(tmp_path, "programme,date,start,end,requested_kw\n"
                             "summer_peak,2025-07-01,12:00,14:00,50\n"
                             "summer_peak,2025-07-01,13:00,15:00,50\n")
    with pytest.raises(InputDataError, match=r"row 3.*overlaps row 2"):
        read_calendar(park)
    park = dr_park(tmp_path, "programme,date,start\nsummer_peak,2025-07-01,12:00\n")
    with pytest.raises(InputDataError, match="missing column"):
        read_calendar(park)


@pytest.mark.parametrize("over", [
    {"baseline": "fixed", "baseline_kw": None},
    {"baseline": "similar_days"},  # baseline_kw given without 'fixed'
    {"window_start_h": 20, "window_end_h": 10},
    {"band_floor": 1.2},
    {"band_cap": 0.8},
    {"kind": "peak"},
    {"price_yuan_per_kwh": "3"},
])
def test_bad_programmes_are_config_errors(tmp_path, over):
    with pytest.raises(ConfigError, match=r"demand_response\.programmes\.0"):
        dr_park(tmp_path, **over)


def _history(days: list[str], kw: list[float], steps_per_day: int = 4) -> pd.Series:
    """Net import: each day flat at its value (6-h steps)."""
    parts = [pd.Series(v, index=pd.date_range(d, periods=steps_per_day, freq="6h", tz=TZ))
             for d, v in zip(days, kw, strict=True)]
    return pd.concat(parts)


def test_similar_days_baseline_by_hand():
    # Wed 2025-07-09 event, 12:00–18:00 (one 6-h step). Previous days: Tue 8 (an event day,
    # excluded), Mon 7, Sun 6 and Sat 5 (rest days: not similar), Fri 4, Thu 3, Wed 2.
    days = [f"2025-07-0{d}" for d in range(2, 9)]
    history = _history(days, [100, 200, 300, 1000, 1000, 400, 9999])
    history[pd.Timestamp("2025-07-07 12:00", tz=TZ)] = 700.0  # Monday's event-hour value
    event = Event(programme(baseline="similar_days", baseline_kw=None, baseline_days=3),
                  pd.Timestamp("2025-07-09 12:00", tz=TZ),
                  pd.Timestamp("2025-07-09 18:00", tz=TZ), 50.0)
    excluded = {pd.Timestamp("2025-07-08", tz=TZ)}
    chosen = similar_days(event, history, excluded, 3, 4)
    assert [d.day for d in chosen] == [7, 4, 3]
    # (700 + 300 + 200) / 3 at 12:00–18:00
    assert similar_days_kw(event, history, excluded, 3, 4) == pytest.approx([400.0])
    # a rest-day event uses the weekend
    sunday = Event(event.programme, pd.Timestamp("2025-07-13 12:00", tz=TZ),
                   pd.Timestamp("2025-07-13 18:00", tz=TZ), 50.0)
    assert similar_days_kw(sunday, history, excluded, 3, 4) == pytest.approx([1000.0])
    # no history: no baseline
    assert similar_days_kw(event, history.iloc[:0], excluded, 3, 4) is None


def test_similar_days_skips_days_the_history_does_not_cover_whole():
    history = _history(["2025-07-03", "2025-07-04"], [100, 300]).iloc[:-1]  # Fri cut short
    event = Event(programme(baseline="similar_days", baseline_kw=None),
                  pd.Timestamp("2025-07-07 00:00", tz=TZ),
                  pd.Timestamp("2025-07-07 06:00", tz=TZ), 50.0)
    assert similar_days_kw(event, history, set(), 5, 4) == pytest.approx([100.0])


def test_fixed_and_declared_baselines():
    event = Event(programme(), pd.Timestamp("2025-07-01 12:00", tz=TZ),
                  pd.Timestamp("2025-07-01 13:00", tz=TZ), 50.0)
    empty = pd.Series(dtype=float)
    assert event_baseline_kw(event, empty, set(), 96) == pytest.approx([500.0] * 4)
    declared = Event(programme(baseline="declared_plan", baseline_kw=None), event.start,
                     event.end, 50.0)
    assert event_baseline_kw(declared, empty, set(), 96) is None
    plan = np.array([1.0, 2.0, 3.0, 4.0])
    assert event_baseline_kw(declared, empty, set(), 96, plan) == pytest.approx(plan)


def test_settlement_known_answers():
    prog = programme()  # 3 yuan/kWh, band 50–150 %, penalty 1 yuan/kWh
    # 50 kW for 2 h: offered 100 kWh, floor 50, cap 150
    inside = settle(prog, 50.0, 2.0, 120.0)
    assert (inside.paid_kwh, inside.payment_yuan, inside.penalty_yuan) == (120.0, 360.0, 0.0)
    assert inside.status == "in_band"
    above = settle(prog, 50.0, 2.0, 200.0)
    assert (above.paid_kwh, above.payment_yuan, above.status) == (150.0, 450.0, "above_cap")
    below = settle(prog, 50.0, 2.0, 30.0)  # below the floor: nothing paid, 20 kWh short
    assert (below.paid_kwh, below.payment_yuan) == (0.0, 0.0)
    assert (below.shortfall_kwh, below.penalty_yuan, below.net_yuan) == (20.0, 20.0, -20.0)
    negative = settle(prog, 50.0, 2.0, -10.0)  # consumed above the baseline
    assert negative.penalty_yuan == 60.0
    assert settle(prog, 0.0, 2.0, -10.0).net_yuan == 0.0  # declined
    paying = settle(programme(capacity_yuan_per_kw=2.0), 50.0, 2.0, 50.0)
    assert paying.capacity_yuan == 100.0 and paying.net_yuan == 250.0
    # the response's sign by kind
    assert verified_response_kwh(1.0, 500.0, 380.0) == 120.0
    assert verified_response_kwh(-1.0, 500.0, 620.0) == 120.0


@given(st.floats(0.1, 500), st.floats(0.25, 8), st.floats(-1000, 2000))
def test_settlement_invariants(offered_kw, hours, response_kwh):
    prog = programme(capacity_yuan_per_kw=1.0)
    s = settle(prog, offered_kw, hours, response_kwh)
    assert 0.0 <= s.paid_kwh <= max(response_kwh, 0.0) + 1e-9
    assert s.paid_kwh <= 1.5 * offered_kw * hours + 1e-9
    assert (s.paid_kwh > 0) == (s.status in ("in_band", "above_cap") and response_kwh > 0)
    assert (s.penalty_yuan > 0) == (s.status == "below_floor")
    assert s.payment_yuan == pytest.approx(3.0 * s.paid_kwh)
    # more response never settles for less
    more = settle(prog, offered_kw, hours, response_kwh + 1.0)
    assert more.net_yuan >= s.net_yuan - 1e-9
