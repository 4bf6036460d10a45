"""Inputs.window and utc_values: numpy datetime arithmetic gives pandas' answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.config import load_park
from parkgrid.inputs import Inputs, utc_values

ROOT = Path(__file__).resolve().parents[2]
PARK = load_park(ROOT / "models" / "haiyan.yaml")
TZ = PARK.site.timezone
INDEX = pd.date_range("2025-03-01", periods=4 * 96, freq="15min", tz=TZ)


def sessions(offsets_min: list[tuple[int, int]]) -> pd.DataFrame:
    """EV sessions arriving/leaving at the given minutes after the first step."""
    start = INDEX[0]
    return pd.DataFrame({
        "charger": ["dc_fast"] * len(offsets_min),
        "pile": list(range(len(offsets_min))),
        "bus": ["ac"] * len(offsets_min),
        "arrival": [start + pd.Timedelta(minutes=a) for a, _ in offsets_min],
        "departure": [start + pd.Timedelta(minutes=a + d) for a, d in offsets_min],
        "energy_kwh": [10.0] * len(offsets_min),
        "max_kw": [7.0] * len(offsets_min),
    })


SPANS = st.lists(st.tuples(st.integers(-600, 5000), st.integers(1, 900)), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(SPANS, st.integers(0, 3 * 96), st.integers(1, 96))
def test_window_takes_the_sessions_pandas_would(spans, first, n_steps):
    ev = sessions(spans)
    inputs = Inputs(PARK, pd.DataFrame({"x": np.zeros(len(INDEX))}, index=INDEX),
                    pd.DataFrame(index=INDEX), ev)
    start = INDEX[first]
    end = start + pd.Timedelta(minutes=15 * n_steps)
    expected = ev[(ev["arrival"] < end) & (ev["departure"] > start)].reset_index(drop=True)
    got = inputs.window(start, min(n_steps, len(INDEX) - first)).ev_sessions
    if first + n_steps <= len(INDEX):
        pd.testing.assert_frame_equal(got, expected)
    as_objects = ev.astype({"arrival": object, "departure": object})  # e.g. after a concat
    same = Inputs(PARK, inputs.series, inputs.weather, as_objects).window(
        start, min(n_steps, len(INDEX) - first)).ev_sessions
    assert same["pile"].tolist() == got["pile"].tolist()


@settings(max_examples=40, deadline=None)
@given(SPANS, st.integers(0, 4 * 96 - 1))
def test_hours_from_utc_values_equal_pandas_hours(spans, first):
    ev = sessions(spans)
    start = INDEX[first]
    hours = (utc_values(ev["arrival"]) - start.asm8) / np.timedelta64(1, "h")
    expected = ((ev["arrival"] - start) / pd.Timedelta(hours=1)).to_numpy(float)
    np.testing.assert_array_equal(hours, expected)  # to the bit


def test_a_window_of_inputs_without_sessions_has_none():
    inputs = Inputs(PARK, pd.DataFrame({"x": np.zeros(len(INDEX))}, index=INDEX),
                    pd.DataFrame(index=INDEX))  # the default: an empty frame of objects
    assert inputs.window(INDEX[5], 96).ev_sessions.empty


def test_utc_values_refuse_times_without_a_time_zone():
    # wall-clock times would be compared with UTC ones, off by the zone's offset
    naive = pd.Series(pd.date_range("2025-07-01", periods=3, freq="h"), name="arrival")
    with pytest.raises(TypeError, match="arrival"):
        utc_values(naive)
    local = naive.dt.tz_localize("Asia/Shanghai")
    assert utc_values(local)[0] == pd.Timestamp("2025-06-30 16:00").asm8
