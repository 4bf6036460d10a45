"""EV arrivals forecast by day-type persistence: the right history day, no leakage, the CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from parkgrid.cli import app
from parkgrid.config import load_park
from parkgrid.forecasting.ev import forecast_sessions, write_sessions
from parkgrid.inputs.loads import session_table

HAIYAN = Path(__file__).parents[2] / "models" / "haiyan.yaml"
PARK = load_park(HAIYAN)  # chargers 'fast' (4 × 90 kW DC) and 'slow' (4 × 7 kW AC)
TZ = PARK.site.timezone


def day_sessions(day: pd.Timestamp) -> list[tuple[str, str, float, str]]:
    """Sessions that name their day: a fast car arriving at 7:00 + the day's ordinal h/4, and on
    weekends an extra slow car."""
    at = day + pd.Timedelta(hours=7 + day.dayofyear % 40 * 0.25)
    rows = [(at, at + pd.Timedelta(hours=1), 30.0 + day.day, "fast")]
    if day.day_of_week >= 5:
        rows.append((day + pd.Timedelta(hours=10), day + pd.Timedelta(hours=18), 20.0, "slow"))
    return [(a.isoformat(), d.isoformat(), kwh, c) for a, d, kwh, c in rows]


def write_history(path: Path, first: str, last: str, extra: list | None = None) -> Path:
    rows = [r for day in pd.date_range(first, last, freq="D") for r in day_sessions(day)]
    frame = pd.DataFrame(rows + (extra or []),
                         columns=["arrival", "departure", "energy_kwh", "charger"])
    frame.to_csv(path, index=False)
    return path


def forecast(path: Path, issue: str, hours: float = 24) -> pd.DataFrame:
    start = pd.Timestamp(issue, tz=TZ)
    made, _ = forecast_sessions(session_table(path, PARK.ev.chargers, TZ), PARK, start,
                                start + pd.Timedelta(hours=hours))
    return made


def test_each_day_takes_the_last_history_day_of_its_type(tmp_path):
    history = write_history(tmp_path / "h.csv", "2025-06-30", "2025-07-13")  # Mon 2 weeks
    made = forecast(history, "2025-07-13T00:00", hours=48)  # a Sunday, then a Monday
    sunday = pd.DataFrame(day_sessions(pd.Timestamp("2025-07-06")),  # last Sunday before
                          columns=["arrival", "departure", "energy_kwh", "charger"])
    friday = day_sessions(pd.Timestamp("2025-07-11"))  # the last workday before the issue
    arrivals = pd.DatetimeIndex(made["arrival"]).tz_localize(None)
    expected = sorted(pd.Timestamp(a) + pd.Timedelta(days=7) for a in sunday["arrival"])
    assert list(arrivals) == [*expected, pd.Timestamp(friday[0][0]) + pd.Timedelta(days=3)]
    assert made["charger"].tolist() == ["slow", "fast", "fast"]
    assert made["car_kwh"].tolist() == [20.0, 36.0, 41.0]  # slow, 30 + 6 (Jul 6), 30 + 11


def test_a_holiday_takes_the_last_holiday(tmp_path):
    history = write_history(tmp_path / "h.csv", "2025-05-01", "2025-09-30")
    made = forecast(history, "2025-10-01T00:00")  # National Day, a Wednesday
    day = pd.Timestamp("2025-06-02")  # Dragon Boat Festival, the last holiday before
    assert made["car_kwh"].tolist() == [30.0 + day.day]
    arrival = pd.Timestamp(made["arrival"].iloc[0]).tz_localize(None)
    assert arrival == pd.Timestamp("2025-10-01") + pd.Timedelta(
        hours=7 + day.dayofyear % 40 * 0.25)


def test_the_future_of_the_history_never_moves_the_forecast(tmp_path):
    issue = "2025-07-14T13:00"  # a Monday afternoon
    clean = write_history(tmp_path / "clean.csv", "2025-06-30", "2025-07-14")
    poison = [(f"2025-07-14T{h:02d}:00", f"2025-07-14T{h + 1:02d}:00", 80.0, "fast")
              for h in range(13, 22)]  # sessions after the issue time (all four piles busy)
    poison += [("2025-07-14T12:00", "2025-07-14T14:00", 99.0, "fast")]  # not over by 13:00
    poison += [("2025-07-20T08:00", "2025-07-20T09:00", 50.0, "fast")]
    poisoned = write_history(tmp_path / "poisoned.csv", "2025-06-30", "2025-07-20", poison)
    expected = forecast(clean, issue)
    seen = forecast(poisoned, issue)
    pd.testing.assert_frame_equal(seen.drop(columns="row"), expected.drop(columns="row"))
    assert (pd.DatetimeIndex(seen["arrival"]) > pd.Timestamp(issue, tz=TZ)).all()
    assert 99.0 not in seen["car_kwh"].tolist() and 80.0 not in seen["car_kwh"].tolist()


def test_without_history_of_the_day_type_it_says_so(tmp_path):
    history = write_history(tmp_path / "h.csv", "2025-07-07", "2025-07-11")  # Mon–Fri only
    start = pd.Timestamp("2025-07-12T00:00", tz=TZ)
    made, notes = forecast_sessions(session_table(history, PARK.ev.chargers, TZ), PARK, start,
                                    start + pd.Timedelta(hours=24))
    assert made.empty and any("no Saturday in the history" in n for n in notes)


def test_moved_days_that_overfill_a_charger_leave_the_later_cars_out(tmp_path):
    # Sunday evening: 4 slow cars overnight; Friday 06:00: 4 slow cars. Moved to Sunday 13th and
    # Monday 14th, Friday's cars find every slow pile still held by Sunday's.
    sunday = [(f"2025-07-06T20:0{i}", "2025-07-07T10:00", 5.0, "slow") for i in range(4)]
    friday = [(f"2025-07-11T06:0{i}", "2025-07-11T12:00", 5.0, "slow") for i in range(4)]
    path = tmp_path / "h.csv"
    pd.DataFrame(sunday + friday,
                 columns=["arrival", "departure", "energy_kwh", "charger"]).to_csv(path,
                                                                                   index=False)
    start = pd.Timestamp("2025-07-13T12:00", tz=TZ)  # Sunday noon; Monday ← Friday 11th
    made, notes = forecast_sessions(session_table(path, PARK.ev.chargers, TZ), PARK, start,
                                    start + pd.Timedelta(hours=24))
    assert len(made) == 4  # Sunday evening's four; Friday's copies would find no pile
    assert (pd.DatetimeIndex(made["arrival"]).day == 13).all()
    assert any("4 moved session(s) left out" in n for n in notes)


def test_written_sessions_read_back_the_same(tmp_path):
    history = write_history(tmp_path / "h.csv", "2025-06-30", "2025-07-13")
    made = forecast(history, "2025-07-13T00:00", hours=48)
    back = session_table(write_sessions(made, tmp_path / "f.ev_sessions.csv"),
                         PARK.ev.chargers, TZ)
    pd.testing.assert_frame_equal(back.drop(columns="row"), made.drop(columns="row"),
                                  check_dtype=False)


@pytest.mark.parametrize(("row", "message"), [
    (("2025-07-01T08:00", "2025-07-01T09:00", 10.0, "nope"), "row 3: unknown charger 'nope'"),
    (("2025-07-01T08:00", "yesterday", 10.0, "fast"), "row 3: cannot read departure"),
    (("2025-07-01T08:00", "2025-07-01T08:30", 200.0, "fast"), "row 3: energy_kwh 200"),
])
def test_a_bad_history_row_exits_2_naming_file_and_row(tmp_path, row, message):
    path = tmp_path / "ev.csv"
    rows = [("2025-07-01T07:00", "2025-07-01T08:00", 10.0, "fast"), row]
    pd.DataFrame(rows, columns=["arrival", "departure", "energy_kwh", "charger"]).to_csv(
        path, index=False)
    result = CliRunner().invoke(app, [
        "forecast", str(HAIYAN), "--history", str(path), "--weather-forecast", str(path),
        "--issue", "2025-07-02T00:00", "--ev-history", str(path)])
    assert result.exit_code == 2, result.output
    assert "ev.csv" in result.output and message in " ".join(result.output.split())


@pytest.mark.parametrize(("park", "extra", "message"), [
    ("dameisha.yaml", [], "a park with EV chargers"),
    ("haiyan.yaml", ["--backtest", "2025-07-02:2025-07-03"], "no --ev-history with --backtest"),
])
def test_ev_history_is_refused_where_it_cannot_be_used(tmp_path, park, extra, message):
    path = write_history(tmp_path / "ev.csv", "2025-06-30", "2025-07-01")
    result = CliRunner().invoke(app, [
        "forecast", str(HAIYAN.parent / park), "--history", str(path), "--weather-forecast",
        str(path), "--issue", "2025-07-02T00:00", "--ev-history", str(path), *extra])
    assert result.exit_code == 2, result.output
    assert "--ev-history" in result.output and message in " ".join(result.output.split())
