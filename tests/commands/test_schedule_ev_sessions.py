"""``forecast --ev-history`` → ``schedule --ev-sessions``: the cars expected in the horizon are
planned beside the EVs plugged in; bad session files exit 2 naming file and row."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from parkgrid.cli import app
from parkgrid.commands.schedule import expected_sessions, schedule_command
from parkgrid.config import load_park
from parkgrid.forecasting.inputs import forecast_columns, horizon_index, read_forecast_inputs
from parkgrid.inputs import build_inputs
from parkgrid.io.state_file import read_state
from parkgrid.model.balance import check_schedule

MODELS = Path(__file__).parents[2] / "models"
HAIYAN = MODELS / "haiyan.yaml"
ISSUE = "2025-07-14T06:00"  # a Monday
COLUMNS = ["arrival", "departure", "energy_kwh", "charger"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two weeks of Haiyan's own history (loads, weather, EV sessions) before and past ISSUE."""
    park = load_park(HAIYAN)
    tz, folder = park.site.timezone, tmp_path_factory.mktemp("ev")
    window = build_inputs(park).window(pd.Timestamp("2025-06-30", tz=tz), 96 * 16)
    weather = window.weather[["ghi", "temp_air", "wind_speed"]]
    history = window.series[forecast_columns(park)].join(weather).iloc[: 96 * 14 + 24]
    for frame, name in ((history, "history.csv"), (weather, "nwp.csv")):
        frame = frame.copy()
        frame.index = frame.index.map(pd.Timestamp.isoformat).rename("timestamp")
        frame.to_csv(folder / name)
    ev = window.ev_sessions  # every session of the fortnight, the future too
    efficiency = {c.name: c.efficiency for c in park.ev.chargers}
    pd.DataFrame({"arrival": ev["arrival"].map(pd.Timestamp.isoformat),
                  "departure": ev["departure"].map(pd.Timestamp.isoformat),
                  "energy_kwh": ev["energy_kwh"] * ev["charger"].map(efficiency),
                  "charger": ev["charger"]}).to_csv(folder / "sessions.csv", index=False)
    state = {"batteries": {"lfp": {"soc": 0.5}}, "month_peak_kw": 3000.0,
             "evs": [{"charger": "fast", "pile": 0, "energy_due_kwh": 20.0,
                      "departure": "2025-07-14T09:00"}]}
    (folder / "state.json").write_text(json.dumps(state), encoding="utf-8")
    return park, folder


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_forecast_then_schedule_plans_the_expected_cars(files):
    park, folder = files
    out = folder / "fc.csv"
    result = run("forecast", HAIYAN, "--history", folder / "history.csv", "--weather-forecast",
                 folder / "nwp.csv", "--issue", ISSUE, "--out", out,
                 "--ev-history", folder / "sessions.csv")
    assert result.exit_code == 0, result.output
    written = folder / "fc.ev_sessions.csv"
    sessions = pd.read_csv(written)
    assert list(sessions.columns) == COLUMNS and len(sessions) > 5
    assert f"forecast {len(sessions)} EV session(s)" in " ".join(result.output.split())
    plan = schedule_command(HAIYAN, start=ISSUE, forecast=out, state_file=folder / "state.json",
                            ev_sessions=written).schedule
    frame, start = plan.frame, pd.Timestamp(ISSUE, tz=park.site.timezone)
    assert plan.metadata["ev_sessions_source"] == str(written)
    assert plan.metadata["ev_unmet_kwh"] == pytest.approx(0.0, abs=1e-6)
    state = read_state(folder / "state.json", park, start)
    expected, _ = expected_sessions(written, park, frame.index, state.ev_sessions)
    arrivals = pd.to_datetime(sessions["arrival"]).dt.tz_convert(park.site.timezone)
    assert len(expected) == len(sessions)
    for charger in ("fast", "slow"):
        power = frame[f"ev_charge_kw_{charger}"]
        first = arrivals[sessions["charger"] == charger].min()
        assert power[power.index >= first].sum() > 0  # its cars are charged once they come
        mine = expected[expected["charger"] == charger]
        plugged = state.ev_sessions[state.ev_sessions["charger"] == charger]
        due_kwh = mine["energy_kwh"].sum() + plugged["energy_kwh"].sum()
        assert power.sum() * park.step_h == pytest.approx(due_kwh, rel=1e-4)
    assert frame["ev_charge_kw_slow"][frame.index < arrivals[sessions["charger"] == "slow"]
                                      .min()].sum() == 0  # nothing plugged in there before
    inputs, _ = read_forecast_inputs(park, start, len(frame), out,
                                  pd.concat([state.ev_sessions, expected], ignore_index=True))
    assert check_schedule(frame, park, inputs) == []
    # without the file only the car plugged in is planned
    bare = schedule_command(HAIYAN, start=ISSUE, forecast=out,
                            state_file=folder / "state.json").schedule.frame
    assert bare["ev_charge_kw_slow"].sum() == 0
    assert bare["ev_charge_kw_fast"].sum() * park.step_h == pytest.approx(20.0 / 0.95, rel=1e-4)


def test_the_ev_sessions_file_never_overwrites_an_input(files):
    _, folder = files
    history = folder / "sessions.csv"
    copy = folder / "x.ev_sessions.csv"
    copy.write_bytes(history.read_bytes())
    before = copy.read_bytes()
    result = run("forecast", HAIYAN, "--history", folder / "history.csv", "--weather-forecast",
                 folder / "nwp.csv", "--issue", ISSUE, "--out", folder / "x.csv",
                 "--ev-history", copy)
    assert result.exit_code == 2 and "--out" in result.output
    assert copy.read_bytes() == before and not (folder / "x.csv").exists()


def test_without_ev_history_the_forecast_says_no_arrivals(files):
    _, folder = files
    result = run("forecast", HAIYAN, "--history", folder / "history.csv", "--weather-forecast",
                 folder / "nwp.csv", "--issue", ISSUE)
    assert result.exit_code == 0 and "no EV arrivals forecast" in result.output


def write_sessions(path: Path, rows: list[tuple]) -> Path:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


def test_without_a_forecast_the_file_replaces_the_parks_own_sessions(files, tmp_path):
    park, folder = files
    path = write_sessions(tmp_path / "mine.csv", [
        ("2025-07-14T05:00", "2025-07-14T07:00", 10.0, "fast"),  # before the start: left out
        ("2025-07-14T10:00", "2025-07-14T12:00", 60.0, "fast"),
        ("2025-07-14T10:00", "2025-07-14T18:00", 30.0, "slow")])
    plan = schedule_command(HAIYAN, start=ISSUE, state_file=folder / "state.json",
                            ev_sessions=path).schedule
    assert any("1 EV session(s) arriving before the start" in w and "(rows 2)" in w
               for w in plan.metadata["warnings"])
    frame = plan.frame
    assert frame["ev_charge_kw_slow"].sum() * park.step_h == pytest.approx(30.0 / 0.95, rel=1e-4)
    assert frame["ev_charge_kw_fast"].sum() * park.step_h == pytest.approx(80.0 / 0.95, rel=1e-4)
    assert frame.loc[:"2025-07-14 09:45", "ev_charge_kw_slow"].sum() == 0


@pytest.mark.parametrize(("rows", "message"), [
    ([("2025-07-14T10:00", "2025-07-14T12:00", 10.0, "turbo")], "row 2: unknown charger"),
    ([("2025-07-14T10:00", "2025-07-14T12:00", "lots", "fast")], "row 2: energy_kwh 'lots'"),
    ([("2025-07-14T10:00", "2025-07-14T10:15", 80.0, "fast")], "row 2: energy_kwh 80 cannot"),
    ([(f"2025-07-14T10:0{i}", "2025-07-14T12:00", 10.0, "fast") for i in range(5)],
     "row 6: charger 'fast' has 4 pile(s), all in use at 2025-07-14 10:00 (rows [2, 3, 4, 5])"),
    ([(f"2025-07-14T07:0{i}", "2025-07-14T12:00", 10.0, "fast") for i in range(4)],
     "row 5: charger 'fast' has 4 pile(s), all in use at 2025-07-14 07:00 (rows [2, 3, 4] and "
     "1 EV(s) plugged in at the start)"),
])
def test_bad_ev_sessions_files_exit_2_with_file_and_row(files, tmp_path, rows, message):
    _, folder = files
    path = write_sessions(tmp_path / "bad.csv", rows)
    result = run("schedule", HAIYAN, "--start", ISSUE, "--state", folder / "state.json",
                 "--ev-sessions", path)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "bad.csv" in text and message in text


def test_a_park_without_chargers_refuses_ev_sessions(tmp_path):
    path = write_sessions(tmp_path / "s.csv", [])
    result = run("schedule", MODELS / "dameisha.yaml", "--date", "2025-07-14", "--ev-sessions",
                 path)
    assert result.exit_code == 2 and "--ev-sessions" in result.output


def test_a_session_past_the_horizon_end_is_left_to_a_later_plan(files, tmp_path):
    park, _ = files
    path = write_sessions(tmp_path / "s.csv", [
        ("2025-07-15T07:00", "2025-07-15T09:00", 10.0, "fast")])
    index = horizon_index(park, pd.Timestamp(ISSUE, tz=park.site.timezone), 96)
    made, warnings = expected_sessions(path, park, index, pd.DataFrame())
    assert made.empty and warnings == []
