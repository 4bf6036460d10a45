"""Measured series: reading CSV/Parquet, aligning to the park step, reporting bad rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.config import DataFile
from parkgrid.errors import InputDataError
from parkgrid.inputs.timeseries import read_frame, read_profile

TZ = "Asia/Shanghai"


def day_index(step_min: int = 15, days: int = 1, start: str = "2025-03-01") -> pd.DatetimeIndex:
    begin = pd.Timestamp(start, tz=TZ)
    return pd.date_range(begin, begin + pd.Timedelta(days=days), freq=f"{step_min}min",
                         inclusive="left")


def file_rows(step_min: int = 15, days: int = 1, start: str = "2025-03-01") -> pd.DataFrame:
    """Naive local timestamps and values 0, 1, 2, … (as text, so cells can be spoiled)."""
    stamps = day_index(step_min, days, start).tz_localize(None)
    return pd.DataFrame({
        "timestamp": stamps.strftime("%Y-%m-%d %H:%M"),
        "load_kw": [str(v) for v in range(len(stamps))],
    })


def write_csv(tmp_path: Path, rows: pd.DataFrame, name: str = "load.csv") -> Path:
    path = tmp_path / name
    rows.to_csv(path, index=False)
    return path


def read(make_park, path: Path, index: pd.DatetimeIndex | None = None, step_min: int = 15,
         **datafile) -> pd.Series:
    park = make_park(time_step_minutes=step_min)
    index = day_index(step_min) if index is None else index
    return read_profile(DataFile(path=path, **datafile), park, index, "load 'plant'", "kW", 1e6)


def error_for(make_park, path: Path, **kwargs) -> str:
    with pytest.raises(InputDataError) as info:
        read(make_park, path, **kwargs)
    return str(info.value)


# --- reading and alignment ------------------------------------------------------------------


def test_file_at_the_park_step_is_read_as_is(make_park, tmp_path):
    series = read(make_park, write_csv(tmp_path, file_rows()))
    assert series.index.equals(day_index())
    assert series.tolist() == list(range(96))


def test_hourly_file_gives_each_quarter_hour_the_hours_value(make_park, tmp_path):
    series = read(make_park, write_csv(tmp_path, file_rows(step_min=60)))
    assert series.iloc[:8].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert series.iloc[-1] == 23


def test_five_minute_file_is_averaged_to_the_step(make_park, tmp_path):
    series = read(make_park, write_csv(tmp_path, file_rows(step_min=5)))
    assert series.iloc[:3].tolist() == [1.0, 4.0, 7.0]  # means of (0,1,2), (3,4,5), (6,7,8)


def test_scale_multiplies_the_values(make_park, tmp_path):
    series = read(make_park, write_csv(tmp_path, file_rows()), scale=2.5)
    assert series.iloc[4] == 10.0


def test_longer_file_is_cut_to_the_index(make_park, tmp_path):
    rows = file_rows(days=3, start="2025-02-28")
    series = read(make_park, write_csv(tmp_path, rows))
    assert series.iloc[0] == 96  # 2025-03-01 00:00 is the 97th row


def test_unsorted_rows_are_read_in_time_order(make_park, tmp_path):
    rows = file_rows().sample(frac=1.0, random_state=3)
    assert read(make_park, write_csv(tmp_path, rows)).tolist() == list(range(96))


def test_timestamps_with_utc_offset_are_converted_to_local_time(make_park, tmp_path):
    rows = file_rows()
    utc = day_index().tz_convert("UTC")
    rows["timestamp"] = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert read(make_park, write_csv(tmp_path, rows)).tolist() == list(range(96))


@pytest.mark.parametrize("offset", ["+08", "+8:00", "+0800", " +08:00"])
def test_every_iso_form_of_an_offset_is_an_offset(make_park, tmp_path, offset):
    """'+08' and '+8:00' were taken for local time and pandas' aware result then failed
    (exit 1, 'Already tz-aware'); a date alone is no offset."""
    rows = file_rows()
    rows["timestamp"] = day_index().tz_convert("Asia/Tokyo").strftime("%Y-%m-%dT%H:%M") + (
        offset.replace("8", "9"))
    assert read(make_park, write_csv(tmp_path, rows)).tolist() == list(range(96))
    daily = pd.DataFrame({"timestamp": day_index(24 * 60, days=3).strftime("%Y-%m-%d"),
                          "load_kw": ["1", "2", "3"]})
    index = day_index(60, days=3)
    assert read(make_park, write_csv(tmp_path, daily), index=index, step_min=60
                ).tolist() == [1] * 24 + [2] * 24 + [3] * 24


def test_parquet_file_is_read_like_csv(make_park, tmp_path):
    rows = file_rows().assign(
        timestamp=day_index().tz_localize(None), load_kw=np.arange(96.0)
    )
    path = tmp_path / "load.parquet"
    rows.to_parquet(path)
    assert read(make_park, path).tolist() == list(range(96))


def test_column_picks_one_of_several_value_columns(make_park, tmp_path):
    rows = file_rows().assign(other_kw="7")
    assert read(make_park, write_csv(tmp_path, rows), column="other_kw").iloc[0] == 7


def test_custom_timestamp_column(make_park, tmp_path):
    rows = file_rows().rename(columns={"timestamp": "time"})
    series = read(make_park, write_csv(tmp_path, rows), timestamp_column="time")
    assert series.iloc[95] == 95


def test_relative_path_resolves_against_the_config_file(make_park, tmp_path):
    (tmp_path / "data").mkdir()
    write_csv(tmp_path / "data", file_rows())
    park = make_park(source=tmp_path / "park.yaml")
    series = read_profile(DataFile(path="data/load.csv"), park, day_index(), "load 'plant'", "kW",
                           1e6)
    assert series.iloc[1] == 1


def test_read_frame_reads_several_columns_and_optional_ones(tmp_path):
    rows = file_rows().assign(a="1", b="2")
    frame = read_frame(write_csv(tmp_path, rows), day_index(), 15, "weather",
                       columns=["load_kw", "a"], optional=("b", "absent"))
    assert list(frame.columns) == ["load_kw", "a", "b"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=24, max_size=24))
def test_hourly_values_survive_the_round_trip_to_quarter_hours(tmp_path_factory, values):
    rows = file_rows(step_min=60).assign(load_kw=[repr(v) for v in values])
    path = write_csv(tmp_path_factory.mktemp("rt"), rows)
    frame = read_frame(path, day_index(), 15, "load")
    hourly = frame["load_kw"].to_numpy().reshape(24, 4)
    assert np.allclose(hourly, np.array(values)[:, None])


# --- errors ---------------------------------------------------------------------------------


def test_non_numeric_value_names_row_and_column(make_park, tmp_path):
    rows = file_rows()
    rows.loc[15, "load_kw"] = "abc"  # the 16th data row is line 17 (line 1 is the header)
    message = error_for(make_park, write_csv(tmp_path, rows))
    assert "row 17: value 'abc' in column 'load_kw' is not a number" in message
    assert "load.csv" in message and "load 'plant'" in message


def test_gap_names_the_rows_around_it_and_the_missing_steps(make_park, tmp_path):
    rows = file_rows().drop(index=[10, 11, 12])
    message = error_for(make_park, write_csv(tmp_path, rows))
    assert "rows 11–12: 3 missing steps from 2025-03-01 02:30" in message
    assert "fill" in message


def test_empty_cell_is_a_gap_with_its_row(make_park, tmp_path):
    rows = file_rows()
    rows.loc[4, "load_kw"] = ""
    assert "row 6: no value in column 'load_kw'" in error_for(make_park, write_csv(tmp_path, rows))


def test_duplicate_timestamp_names_both_rows(make_park, tmp_path):
    rows = pd.concat([file_rows().iloc[:8], file_rows().iloc[7:]], ignore_index=True)
    message = error_for(make_park, write_csv(tmp_path, rows))
    assert "row 10: duplicate timestamp 2025-03-01 01:45 (also row 9)" in message


def test_unreadable_timestamp_names_its_row(make_park, tmp_path):
    rows = file_rows()
    rows.loc[2, "timestamp"] = "2025-03-01 25:00"
    message = error_for(make_park, write_csv(tmp_path, rows))
    assert "row 4: cannot read timestamp '2025-03-01 25:00'" in message


def test_year_first_dates_with_slashes_are_read(make_park, tmp_path):
    rows = file_rows()
    rows["timestamp"] = rows["timestamp"].str.replace("-", "/")
    assert read(make_park, write_csv(tmp_path, rows)).tolist() == list(range(96))


def test_day_first_dates_are_refused_not_guessed(make_park, tmp_path):
    rows = file_rows()
    rows["timestamp"] = day_index().strftime("%d/%m/%Y %H:%M")
    assert "row 2: cannot read timestamp '01/03/2025 00:00'" in error_for(
        make_park, write_csv(tmp_path, rows)
    )


def test_ambiguous_local_time_in_a_daylight_saving_zone_is_an_error(make_park, tmp_path):
    park = make_park(site={"timezone": "Europe/Berlin"})
    index = pd.date_range(pd.Timestamp("2025-10-26", tz="Europe/Berlin"), periods=100,
                          freq="15min")
    rows = pd.DataFrame({"timestamp": index.tz_localize(None).strftime("%Y-%m-%d %H:%M"),
                         "load_kw": "1"})
    with pytest.raises(InputDataError, match="ambiguous in Europe/Berlin"):
        read_profile(DataFile(path=write_csv(tmp_path, rows)), park, index, "load 'plant'", "kW",
                     1e6)


def test_missing_timestamp_names_its_row(make_park, tmp_path):
    rows = file_rows()
    rows.loc[2, "timestamp"] = ""
    assert "row 4: no timestamp" in error_for(make_park, write_csv(tmp_path, rows))


def test_mixed_naive_and_offset_timestamps_are_an_error(make_park, tmp_path):
    rows = file_rows()
    rows.loc[5, "timestamp"] = "2025-03-01T01:15:00+08:00"
    assert "row 7:" in error_for(make_park, write_csv(tmp_path, rows))


def test_too_short_file_reports_its_coverage(make_park, tmp_path):
    rows = file_rows().iloc[:90]
    message = error_for(make_park, write_csv(tmp_path, rows))
    assert "covers 2025-03-01 00:00 to 2025-03-01 22:30" in message
    assert "96 steps of 15 min from 2025-03-01 00:00 to 2025-03-02 00:00" in message


def test_file_of_another_year_reports_its_coverage(make_park, tmp_path):
    rows = file_rows(start="2024-03-01")
    assert "covers 2024-03-01 00:00" in error_for(make_park, write_csv(tmp_path, rows))


def test_fill_does_not_excuse_a_short_file(make_park, tmp_path):
    rows = file_rows().iloc[:90]
    assert "covers" in error_for(make_park, write_csv(tmp_path, rows), fill="interpolate")


def test_interpolate_fill_bridges_a_gap_linearly(make_park, tmp_path):
    rows = file_rows().drop(index=[10, 11, 12])
    series = read(make_park, write_csv(tmp_path, rows), fill="interpolate")
    assert series.iloc[9:14].tolist() == [9, 10, 11, 12, 13]


def test_interpolate_fill_bridges_an_empty_cell(make_park, tmp_path):
    rows = file_rows()
    rows.loc[4, "load_kw"] = ""
    assert read(make_park, write_csv(tmp_path, rows), fill="interpolate").iloc[4] == 4


def test_zero_fill_puts_zero_in_a_gap(make_park, tmp_path):
    rows = file_rows().drop(index=[10, 11])
    series = read(make_park, write_csv(tmp_path, rows), fill="zero")
    assert series.iloc[9:13].tolist() == [9, 0, 0, 12]


def test_fill_does_not_excuse_a_non_number(make_park, tmp_path):
    rows = file_rows()
    rows.loc[3, "load_kw"] = "n/a?"
    assert "is not a number" in error_for(make_park, write_csv(tmp_path, rows), fill="zero")


def test_timestamp_off_the_files_grid_names_its_row(make_park, tmp_path):
    rows = file_rows()
    rows.loc[3, "timestamp"] = "2025-03-01 00:50"
    assert "row 5: timestamp 2025-03-01 00:50 is off the file's 15 min grid" in error_for(
        make_park, write_csv(tmp_path, rows)
    )


def test_file_step_that_does_not_fit_the_park_step_is_an_error(make_park, tmp_path):
    rows = file_rows(step_min=10)
    message = error_for(make_park, write_csv(tmp_path, rows))
    assert "rows are 10 min apart; the park step is 15 min" in message


def test_timestamps_shifted_from_the_park_steps_are_an_error(make_park, tmp_path):
    rows = file_rows()
    stamps = pd.to_datetime(rows["timestamp"]) + pd.Timedelta(minutes=5)
    rows["timestamp"] = stamps.dt.strftime("%Y-%m-%d %H:%M")
    assert "not on the park's 15 min steps" in error_for(make_park, write_csv(tmp_path, rows))


def test_several_value_columns_need_a_column_name(make_park, tmp_path):
    rows = file_rows().assign(other_kw="1")
    message = error_for(make_park, write_csv(tmp_path, rows))
    assert "found ['load_kw', 'other_kw']; set 'column'" in message


def test_unknown_column_lists_the_columns(make_park, tmp_path):
    message = error_for(make_park, write_csv(tmp_path, file_rows()), column="power_kw")
    assert "missing column(s) ['power_kw']; columns are ['timestamp', 'load_kw']" in message


def test_missing_timestamp_column_is_an_error(make_park, tmp_path):
    rows = file_rows().rename(columns={"timestamp": "time"})
    assert "no timestamp column 'timestamp'" in error_for(make_park, write_csv(tmp_path, rows))


def test_missing_file_is_an_error(make_park, tmp_path):
    assert "file not found" in error_for(make_park, tmp_path / "nope.csv")


def test_unknown_extension_is_an_error(make_park, tmp_path):
    path = tmp_path / "load.xlsx"
    path.write_text("x")
    assert "expected a .csv or .parquet file" in error_for(make_park, path)


@pytest.mark.parametrize(("value", "scale", "expected"), [
    ("-3", 1.0, "got -3 kW at 2025-03-01 00:30 (after scale 1); expected 0 to 150 kW"),
    ("1e12", 1.0, "got 1e+12 kW at 2025-03-01 00:30"),
    ("80", 2.0, "got 160 kW at 2025-03-01 00:30 (after scale 2); expected 0 to 150 kW "
                "(1.5 × the rating 100 kW)"),
])
def test_values_outside_zero_to_a_multiple_of_the_rating_are_refused(
        make_park, tmp_path, value, scale, expected):
    rows = file_rows()
    rows["load_kw"] = "1"
    rows.loc[2, "load_kw"] = value
    park = make_park()
    with pytest.raises(InputDataError) as info:
        read_profile(DataFile(path=write_csv(tmp_path, rows), scale=scale), park, day_index(),
                     "load 'plant'", "kW", 100.0)
    assert expected in str(info.value) and str(tmp_path) in str(info.value)


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), 1e308, -1.0, 0.0, True])
def test_scale_must_be_finite_and_positive(scale):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        DataFile(path="x.csv", scale=scale)


def test_a_non_utf8_csv_names_the_byte_offset(make_park, tmp_path):
    path = tmp_path / "load.csv"
    path.write_bytes(b"timestamp,load_kw\n2025-03-01 00:00,1\n2025-03-01 00:15,caf\xe9\n")
    with pytest.raises(InputDataError, match=r"not UTF-8 text: byte 0xe9 at byte offset 57"):
        read(make_park, path)
