"""Loads: synthetic electric shapes, cooling demand, EV sessions (file and generator), windows."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.config import parse_park
from parkgrid.errors import ConfigError, InputDataError
from parkgrid.inputs import loads, tariff

TZ = "Asia/Shanghai"
BASE_DOC = {
    "name": "test park",
    "site": {"latitude_deg": 30.5, "longitude_deg": 120.9},
    "weather": {"source": "synthetic", "climate": "climate.csv"},
    "buses": {"dc": {"converter_kw": 500}},
    "loads": [
        {"name": "plant", "synthetic": {"shape": "industrial", "annual_kwh": 26.21e6}},
        {"name": "office", "synthetic": {"shape": "office", "intensity_kwh_per_m2": 66,
                                         "floor_area_m2": 15789}},
    ],
    "ev": {
        "chargers": [
            {"name": "fast", "kind": "fast_dc", "count": 4, "power_kw": 120},
            {"name": "slow", "kind": "slow_ac", "count": 4, "power_kw": 7, "bus": "ac",
             "efficiency": 0.9},
        ],
        "generator": {"seed": 3},
    },
    "cooling": {
        "load": {"peak_kw_th": 1000, "base_fraction": 0.0, "schedule": "continuous"},
        "chillers": [{"name": "ch1", "capacity_kw_th": 1000, "cop": 6}],
    },
    "grid": {"import_limit_kw": 10000},
    "tariff": {"calendar": "zhejiang_2024"},
    "emissions": {"grid_factor_t_per_mwh": 0.5},
}


def make_park(source: Path | str = "<memory>", edit=None):
    doc = copy.deepcopy(BASE_DOC)
    if edit is not None:
        edit(doc)
    return parse_park(doc, source)


def year_index(year: int = 2024, minutes: int = 15) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1),
                         freq=f"{minutes}min", inclusive="left", tz=TZ)


@pytest.fixture(scope="module")
def park():
    return make_park()


@pytest.fixture(scope="module")
def index() -> pd.DatetimeIndex:
    return year_index()


@pytest.fixture(scope="module")
def holidays(index):
    return tariff.holiday_mask(index)


def daily_kwh(series: pd.Series) -> pd.Series:
    return series.resample("D").sum() * 0.25


# --- electric load -----------------------------------------------------------------------------


@pytest.mark.parametrize("shifts", [1, 2, 3])
def test_industrial_load_meets_the_annual_energy_exactly(shifts, index, holidays) -> None:
    park = make_park(edit=lambda d: d["loads"][0]["synthetic"].update(shifts=shifts))
    load = loads.electric_load_kw(park.loads[0], park, index, holidays)
    assert load.sum() * park.step_h == pytest.approx(26.21e6, rel=1e-12)
    assert load.name == "load_kw_plant" and (load >= 0).all()


def test_office_load_meets_intensity_times_area(park, index, holidays) -> None:
    load = loads.electric_load_kw(park.loads[1], park, index, holidays)
    assert load.sum() * park.step_h == pytest.approx(66 * 15789, rel=1e-12)


def test_each_year_meets_the_annual_energy(park) -> None:
    index = pd.date_range("2024-01-01", "2026-01-01", freq="60min", inclusive="left", tz=TZ)
    park60 = make_park(edit=lambda d: d.update(time_step_minutes=60))
    load = loads.electric_load_kw(park60.loads[0], park60, index, tariff.holiday_mask(index))
    assert list(load.groupby(load.index.year).sum()) == pytest.approx([26.21e6] * 2)


def test_industrial_workdays_above_saturday_above_sunday(park, index, holidays) -> None:
    daily = daily_kwh(loads.electric_load_kw(park.loads[0], park, index, holidays))
    kinds = loads.day_types(daily.index, tariff.holiday_mask(daily.index))
    by_kind = daily.groupby(kinds).mean()
    assert by_kind[loads.WORKDAY] > by_kind[loads.SATURDAY] > by_kind[loads.SUNDAY]
    assert by_kind[loads.SUNDAY] < 0.7 * by_kind[loads.WORKDAY]


def test_factory_closes_for_the_spring_festival(park, index, holidays) -> None:
    daily = daily_kwh(loads.electric_load_kw(park.loads[0], park, index, holidays))
    closed = daily["2024-02-10":"2024-02-17"]
    sundays = daily[daily.index.day_of_week == 6]
    assert closed.max() < 0.5 * sundays.median()


def test_public_holiday_weekday_is_low(park, index, holidays) -> None:
    daily = daily_kwh(loads.electric_load_kw(park.loads[0], park, index, holidays))
    assert daily["2024-10-02"] < 0.5 * daily["2024-10-09"]


def test_makeup_working_sunday_runs_like_a_workday(park, index, holidays) -> None:
    daily = daily_kwh(loads.electric_load_kw(park.loads[0], park, index, holidays))
    assert daily["2024-02-18"] > 1.5 * daily["2024-02-25"]  # a make-up day vs a normal Sunday


def test_office_night_below_day(park, index, holidays) -> None:
    load = loads.electric_load_kw(park.loads[1], park, index, holidays)
    workday = loads.day_types(index, holidays) == loads.WORKDAY
    hour = index.hour
    assert load[workday & (hour == 3)].mean() < 0.5 * load[workday & (hour == 10)].mean()


def test_office_lunch_dip(park, index, holidays) -> None:
    load = loads.electric_load_kw(park.loads[1], park, index, holidays)
    workday = loads.day_types(index, holidays) == loads.WORKDAY
    at = lambda h: load[workday & (index.hour == h)].mean()  # noqa: E731
    assert at(12) < at(10) and at(12) < at(15)


def test_same_seed_same_load_other_seed_other_load(index, holidays) -> None:
    def load_for(seed: int) -> pd.Series:
        park = make_park(edit=lambda d: d["loads"][0]["synthetic"].update(seed=seed))
        return loads.electric_load_kw(park.loads[0], park, index, holidays)

    pd.testing.assert_series_equal(load_for(1), load_for(1))
    assert not np.allclose(load_for(1), load_for(2))


def test_a_window_gets_the_values_of_the_whole_year(park, index, holidays) -> None:
    year = loads.electric_load_kw(park.loads[0], park, index, holidays)
    window = index[5000:5960]
    part = loads.electric_load_kw(park.loads[0], park, window, holidays.iloc[5000:5960])
    pd.testing.assert_series_equal(part, year.iloc[5000:5960])


def test_load_from_a_profile_file(tmp_path: Path) -> None:
    index = pd.date_range("2025-01-01", periods=96, freq="15min", tz=TZ)
    hourly = pd.date_range("2025-01-01", periods=24, freq="60min")
    pd.DataFrame({"timestamp": hourly.strftime("%Y-%m-%d %H:%M"), "kw": np.arange(24.0)}
                 ).to_csv(tmp_path / "plant.csv", index=False)
    park = make_park(tmp_path / "park.yaml", lambda d: d["loads"][0].update(
        synthetic=None, profile={"path": "plant.csv"}))
    load = loads.electric_load_kw(park.loads[0], park, index, tariff.holiday_mask(index))
    assert load.name == "load_kw_plant"
    assert load.iloc[4 * 5 + 2] == 5.0


# --- cooling -------------------------------------------------------------------------------------


def weather_at(temps_c: list[float], start: str = "2025-07-02 12:00") -> pd.DataFrame:
    index = pd.date_range(start, periods=len(temps_c), freq="15min", tz=TZ)
    return pd.DataFrame({"temp_air": temps_c}, index=index)


def cooling(park, wx: pd.DataFrame) -> pd.Series:
    return loads.cooling_load_kw_th(park.cooling, park, wx, tariff.holiday_mask(wx.index))


def test_no_cooling_in_a_cold_hour(park) -> None:
    assert (cooling(park, weather_at([5.0, 12.0, 18.0])) == 0).all()


def test_cooling_rises_with_temperature_to_the_peak_at_design(park) -> None:
    demand = cooling(park, weather_at([20.0, 25.0, 30.0, 35.0, 40.0]))
    assert demand.is_monotonic_increasing and demand.iloc[0] > 0
    assert demand.iloc[3] == pytest.approx(1000.0) and demand.iloc[4] == pytest.approx(1000.0)


def test_process_cooling_base_at_any_temperature() -> None:
    park = make_park(edit=lambda d: d["cooling"]["load"].update(base_fraction=0.2))
    assert cooling(park, weather_at([0.0])).iloc[0] == pytest.approx(200.0)


def test_office_cooling_off_hours_fraction_at_night() -> None:
    park = make_park(edit=lambda d: d["cooling"]["load"].update(
        schedule="office", off_hours_fraction=0.3))
    night, day = cooling(park, weather_at([35.0], "2025-07-02 02:00")), \
        cooling(park, weather_at([35.0], "2025-07-02 10:00"))
    assert night.iloc[0] == pytest.approx(300.0) and day.iloc[0] == pytest.approx(1000.0)


def test_industrial_cooling_is_off_hours_on_sunday() -> None:
    park = make_park(edit=lambda d: d["cooling"]["load"].update(schedule="industrial"))
    sunday = cooling(park, weather_at([35.0], "2025-07-06 10:00"))
    assert sunday.iloc[0] == pytest.approx(300.0)


def test_design_temperature_must_exceed_balance() -> None:
    with pytest.raises(ConfigError, match=r"cooling\.load\.design_temp_c: got 15\.0; expected "
                       r"a temperature above balance_temp_c"):
        make_park(edit=lambda d: d["cooling"]["load"].update(design_temp_c=15.0))


# --- EV sessions: generator ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(park, index, holidays) -> pd.DataFrame:
    return loads.ev_sessions(park.ev, park, index, holidays)


def test_sessions_have_the_documented_columns(generated) -> None:
    assert list(generated.columns) == loads.EV_COLUMNS
    assert str(generated["arrival"].dt.tz) == TZ
    assert set(generated["bus"]) == {"dc", "ac"}


def test_sessions_never_overlap_on_a_pile(generated) -> None:
    for _, pile in generated.groupby(["charger", "pile"]):
        pile = pile.sort_values("arrival")
        assert (pile["arrival"].iloc[1:].to_numpy() >= pile["departure"].iloc[:-1].to_numpy()).all()


def test_piles_are_numbered_from_zero(generated) -> None:
    assert set(generated.loc[generated["charger"] == "fast", "pile"]) == {0, 1, 2, 3}


def test_generated_energy_is_reachable_at_the_bus_power(generated) -> None:
    stay_h = (generated["departure"] - generated["arrival"]) / pd.Timedelta("1h")
    assert (generated["energy_kwh"] <= generated["max_kw"] * stay_h + 1e-9).all()
    assert (generated["energy_kwh"] > 0).all()


def test_max_kw_is_at_the_bus(generated) -> None:
    slow = generated[generated["charger"] == "slow"]
    assert slow["max_kw"].iloc[0] == pytest.approx(7 / 0.9)


def test_session_times_are_on_the_step_grid(generated, index) -> None:
    for column in ("arrival", "departure"):
        offset = (generated[column] - index[0]) % pd.Timedelta("15min")
        assert (offset == pd.Timedelta(0)).all()
    assert (generated["arrival"] >= index[0]).all() and (generated["arrival"] <= index[-1]).all()


def test_workdays_get_more_fast_sessions_than_weekends(generated) -> None:
    fast = generated[generated["charger"] == "fast"]
    per_day = fast.groupby(fast["arrival"].dt.tz_localize(None).dt.normalize()).size()
    per_day = per_day.reindex(pd.date_range("2024-01-01", "2024-12-31"), fill_value=0)
    weekday = per_day.index.day_of_week
    assert per_day[weekday < 5].mean() > 1.5 * per_day[weekday == 6].mean()


def test_slow_sessions_are_workplace_stays(generated) -> None:
    slow = generated[generated["charger"] == "slow"]
    arrival_h = slow["arrival"].dt.hour + slow["arrival"].dt.minute / 60
    stay_h = (slow["departure"] - slow["arrival"]) / pd.Timedelta("1h")
    assert arrival_h.median() == pytest.approx(9.0, abs=0.5)
    assert stay_h.median() == pytest.approx(8.0, abs=0.5)


def test_generator_is_deterministic_by_seed(park, index, holidays, generated) -> None:
    again = loads.ev_sessions(park.ev, park, index, holidays)
    pd.testing.assert_frame_equal(again, generated)
    other = make_park(edit=lambda d: d["ev"]["generator"].update(seed=4))
    assert not loads.ev_sessions(other.ev, other, index, holidays).equals(generated)


def test_generator_needs_a_rate_for_every_charger_kind() -> None:
    with pytest.raises(ConfigError) as info:
        make_park(edit=lambda d: d["ev"]["generator"].update(
            sessions_per_pile_weekend={"fast_dc": 1.0}))
    assert "ev.generator: got {…}; expected sessions_per_pile_weekend to give a value for " \
        "charger kind 'slow_ac'" in str(info.value)
    with pytest.raises(ConfigError) as info:
        make_park(edit=lambda d: d["ev"]["generator"].update(
            sessions_per_pile_weekend={"fast_dc": 1.0, "slow": 0.5}))
    assert "ev.generator.sessions_per_pile_weekend.slow.[key]: got 'slow'; expected " \
        "'fast_dc' or 'slow_ac'" in str(info.value)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), max_size=30))
def test_queued_sessions_never_overlap(sessions: list[tuple[int, int]]) -> None:
    start = np.array([s for s, _ in sessions], dtype=np.int64)
    dwell = np.array([w for _, w in sessions], dtype=np.int64)
    begin, end = loads._queue(start, dwell)
    assert (begin[1:] >= end[:-1]).all()
    assert (begin >= np.sort(start)).all()
    assert sorted(end - begin) == sorted(dwell)


# --- EV sessions: file ---------------------------------------------------------------------------

SESSIONS_CSV = """\
arrival,departure,energy_kwh,charger
2025-03-03 08:07,2025-03-03 17:10,40,slow
2025-03-03 09:00,2025-03-03 10:00,50,fast
2025-03-03 09:10,2025-03-03 09:50,30,fast
2025-03-03T01:30:00Z,2025-03-03T02:30:00Z,60,fast
"""


def file_park(tmp_path: Path, text: str):
    (tmp_path / "sessions.csv").write_text(text, encoding="utf-8")
    return make_park(tmp_path / "park.yaml", lambda d: d["ev"].update(
        generator=None, sessions={"path": "sessions.csv"}))


def read_file(tmp_path: Path, text: str) -> pd.DataFrame:
    park = file_park(tmp_path, text)
    index = pd.date_range("2025-03-01", "2025-03-08", freq="15min", inclusive="left", tz=TZ)
    return loads.ev_sessions(park.ev, park, index, tariff.holiday_mask(index))


def file_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(InputDataError) as info:
        read_file(tmp_path, text)
    return str(info.value)


def test_session_file_is_aligned_converted_and_assigned(tmp_path: Path) -> None:
    sessions = read_file(tmp_path, SESSIONS_CSV)
    slow = sessions[sessions["charger"] == "slow"].iloc[0]
    assert slow["arrival"] == pd.Timestamp("2025-03-03 08:00", tz=TZ)  # rounded to the step
    assert slow["departure"] == pd.Timestamp("2025-03-03 17:15", tz=TZ)
    assert slow["energy_kwh"] == pytest.approx(40 / 0.9)
    fast = sessions[sessions["charger"] == "fast"]
    assert len(fast) == 3 and fast["pile"].nunique() == 3  # all overlap 09:00–09:45
    utc_row = fast[np.isclose(fast["energy_kwh"], 60 / 0.95)].iloc[0]
    assert utc_row["arrival"] == pd.Timestamp("2025-03-03 09:30", tz=TZ)  # 01:30Z


def test_sessions_outside_the_period_are_left_out(tmp_path: Path) -> None:
    text = SESSIONS_CSV + "2025-04-01 08:00,2025-04-01 09:00,10,fast\n"
    assert len(read_file(tmp_path, text)) == 4


@pytest.mark.parametrize("old,new,expected", [
    ("30,fast", "30,rapid",
     "EV sessions: row 4: unknown charger 'rapid'; expected one of ['fast', 'slow']"),
    ("17:10", "07:10",
     "row 2: departure 2025-03-03 07:10 is not after arrival 2025-03-03 08:07"),
    ("40,slow", "80,slow", "row 2: energy_kwh 80 cannot be delivered in the 9.05 h stay at 7 kW"),
    ("2025-03-03 09:10", "soon", "row 4: cannot read arrival 'soon'"),
    ("charger", "pile", "missing column(s) ['charger']"),
    ("50,fast", "-5,fast", "row 3: energy_kwh '-5' is not a number ≥ 0"),
], ids=["unknown charger", "departure before arrival", "unreachable energy", "bad timestamp",
        "missing column", "negative energy"])
def test_a_bad_session_file_names_the_row_and_the_problem(tmp_path: Path, old: str, new: str,
                                                          expected: str) -> None:
    assert expected in file_error(tmp_path, SESSIONS_CSV.replace(old, new))


def test_too_many_overlapping_sessions_for_the_piles(tmp_path: Path) -> None:
    text = SESSIONS_CSV + "".join(
        f"2025-03-03 09:0{i},2025-03-03 09:40,10,fast\n" for i in range(2)
    )
    msg = file_error(tmp_path, text)
    assert ("row 5: charger 'fast' has 4 pile(s), all in use at 2025-03-03 09:30 "
            "(rows [3, 4, 6, 7])") in msg


# --- deferrable windows --------------------------------------------------------------------------


def deferrable(**fields):
    doc = {"name": "pump", "energy_kwh_per_day": 10, "max_kw": 5, **fields}
    return make_park(edit=lambda d: d.update(deferrable=[doc])).deferrable[0]


def test_window_holds_the_steps_inside_it() -> None:
    index = pd.date_range("2025-03-03", periods=96, freq="15min", tz=TZ)
    mask = loads.deferrable_window_mask(deferrable(window_start_h=10.5, window_end_h=14),
                                        index, tariff.holiday_mask(index))
    inside = index[mask.to_numpy()]
    assert inside[0] == pd.Timestamp("2025-03-03 10:30", tz=TZ)
    assert inside[-1] == pd.Timestamp("2025-03-03 13:45", tz=TZ) and mask.sum() == 14


def test_workdays_only_window_is_closed_on_weekends_and_holidays() -> None:
    index = pd.date_range("2025-04-30", periods=5 * 96, freq="15min", tz=TZ)  # Wed..Sun
    mask = loads.deferrable_window_mask(
        deferrable(window_start_h=8, window_end_h=12, workdays_only=True),
        index, tariff.holiday_mask(index))
    per_day = mask.groupby(index.date).sum()
    assert list(per_day) == [16, 0, 0, 0, 0]  # 30 Apr workday; 1–4 May days off
