"""Forecasts from history: no leakage, skill over persistence, short-history fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer_support import make_park
from parkgrid.cli import app
from parkgrid.commands import forecast as forecast_module
from parkgrid.commands.forecast import backtest_skill, forecast_command
from parkgrid.errors import ArgumentError, InputDataError
from parkgrid.forecasting.model import MIN_TRAINING_DAYS, make_forecast

PARK = make_park()  # one load 'plant', no PV, wind or cooling
TZ = PARK.site.timezone


def generated_history(days: int, start: str = "2025-05-01", seed: int = 1) -> pd.DataFrame:
    """A load with a daily pattern, a weekend dip, a temperature response and noise."""
    index = pd.date_range(start, periods=days * 96, freq="15min", tz=TZ)
    rng = np.random.default_rng(seed)
    hour = index.hour + index.minute / 60
    day_temp = 24 + 6 * np.sin(np.arange(days) * 0.7) + rng.normal(0, 1.5, days)
    temp = np.repeat(day_temp, 96) + 4 * np.sin((hour - 9) / 24 * 2 * np.pi)
    shape = np.where((hour >= 8) & (hour < 18), 1.0, 0.45)
    weekend = np.where(index.day_of_week >= 5, 0.5, 1.0)
    load = 1000 * shape * weekend + 40 * np.clip(temp - 22, 0, None) + rng.normal(0, 25, len(index))
    return pd.DataFrame({"load_kw_plant": load, "temp_air": temp}, index=index)


def weather_of(history: pd.DataFrame, issue: pd.Timestamp, hours: int = 24) -> pd.DataFrame:
    index = pd.date_range(issue, periods=hours * 4, freq="15min")
    return pd.DataFrame({"ghi": 0.0, "temp_air": history["temp_air"].reindex(index).to_numpy(),
                         "wind_speed": 3.0}, index=index)


def test_training_never_reaches_past_the_issue_time():
    history = generated_history(40)
    issue = pd.Timestamp("2025-06-01 07:00", tz=TZ)
    poisoned = history.copy()
    poisoned.loc[poisoned.index >= issue, "load_kw_plant"] *= 50.0  # the future is absurd
    clean = make_forecast(PARK, history[history.index < issue], weather_of(history, issue), issue)
    seen = make_forecast(PARK, poisoned, weather_of(history, issue), issue)
    assert seen.trained_until < issue
    np.testing.assert_allclose(seen.frame.to_numpy(), clean.frame.to_numpy())
    assert seen.frame["load_kw_plant"].max() < 3 * history["load_kw_plant"].max()


def test_learned_load_beats_persistence_on_a_daily_pattern():
    history = generated_history(70)
    model_se, persistence_se = [], []
    for day in pd.date_range("2025-06-20", "2025-07-09", freq="D", tz=TZ):
        made = make_forecast(PARK, history, weather_of(history, day), day)
        index = made.frame.index
        actual = history["load_kw_plant"].reindex(index).to_numpy()
        yesterday = history["load_kw_plant"].reindex(index - pd.Timedelta(days=1)).to_numpy()
        model_se.append((made.frame["load_kw_plant"].to_numpy() - actual) ** 2)
        persistence_se.append((yesterday - actual) ** 2)
        assert made.methods["load_kw_plant"].startswith("gradient boosting")
    rmse, rmse_persistence = (np.sqrt(np.concatenate(x).mean()) for x in (model_se,
                                                                           persistence_se))
    assert 1 - rmse / rmse_persistence > 0.3  # weekends and temperature swings beat "yesterday"


def test_short_history_falls_back_to_a_seasonal_profile_and_says_so():
    history = generated_history(MIN_TRAINING_DAYS - 6, start="2025-06-09")  # Mon to Mon
    issue = history.index[-1] + pd.Timedelta(minutes=15)
    made = make_forecast(PARK, history, weather_of(history, issue), issue)
    assert made.methods["load_kw_plant"] == "seasonal profile"
    assert any("seasonal profile" in note and "8.0 days" in note for note in made.notes)
    # the profile is the mean of each step over the same day type
    workdays = history[history.index.day_of_week < 5]["load_kw_plant"]
    at_ten = workdays[(workdays.index.hour == 10) & (workdays.index.minute == 0)].mean()
    stamp = made.frame.index[(made.frame.index.hour == 10) & (made.frame.index.minute == 0)][0]
    assert stamp.day_of_week == 1  # a Tuesday: the workday profile
    assert made.frame.loc[stamp, "load_kw_plant"] == pytest.approx(at_ten)


def test_no_history_before_the_issue_is_an_input_error():
    history = generated_history(3)
    with pytest.raises(InputDataError, match="no rows before the issue time"):
        make_forecast(PARK, history, weather_of(history, history.index[0]), history.index[0])


def _files(tmp_path: Path, days: int = 30) -> tuple[Path, Path]:
    history = generated_history(days)
    history_path, weather_path = tmp_path / "history.csv", tmp_path / "wx.csv"
    table = history.copy()
    table.index = table.index.map(pd.Timestamp.isoformat).rename("timestamp")
    table.to_csv(history_path)
    table.assign(ghi=0.0, wind_speed=3.0)[["ghi", "temp_air", "wind_speed"]].to_csv(weather_path)
    return history_path, weather_path


def _park_file(tmp_path: Path) -> Path:
    """The park of :data:`PARK` as a config file (one load 'plant')."""
    (tmp_path / "park.yaml").write_text(
        "name: t\nsite: {latitude_deg: 30.5, longitude_deg: 120.9}\n"
        "weather: {source: synthetic, climate: climate.yaml}\n"
        "loads: [{name: plant, synthetic: {shape: industrial, annual_kwh: 1000000}}]\n"
        "grid: {import_limit_kw: 10000, export_limit_kw: 0}\n"
        "tariff: {calendar: zhejiang_2024, demand: {kind: none}}\n"
        "emissions: {grid_factor_t_per_mwh: 0.5}\n", encoding="utf-8")
    return tmp_path / "park.yaml"


def test_forecast_command_writes_a_file_schedule_can_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _park_file(tmp_path)
    history, weather = _files(tmp_path)
    out = tmp_path / "fc.csv"
    result = forecast_command(tmp_path / "park.yaml", history, weather, "2025-05-25T12:00", 12,
                              out)
    back = pd.read_csv(out)
    assert list(back.columns) == ["timestamp", "load_kw_plant"] and len(back) == 48
    assert back["timestamp"].iloc[0] == "2025-05-25T12:00:00+08:00"
    assert result.forecast.trained_until == pd.Timestamp("2025-05-25 11:45", tz=TZ)
    skill_out = tmp_path / "skill.csv"
    bt = forecast_command(tmp_path / "park.yaml", history, weather, None, 24, skill_out,
                          backtest="2025-05-20:2025-05-23")
    assert set(bt.skill.columns) == {"quantity", "lead", "mae", "rmse", "persistence_rmse",
                                     "skill", "n_steps"}
    assert skill_out.exists() and (tmp_path / "skill.csv.png").stat().st_size > 1000
    bad = CliRunner().invoke(app, ["forecast", str(tmp_path / "park.yaml"), "--history",
                                   str(weather), "--weather-forecast", str(weather),
                                   "--issue", "2025-05-25T12:00"])
    assert bad.exit_code == 2 and "load_kw_plant" in bad.output
    for period, got in (("05/20/2025:2025-05-23", "05/20/2025"),
                        ("2025-05-23:2025-05-20", "2025-05-23:2025-05-20"),
                        ("2025-05-20", "2025-05-20")):  # got '' before
        with pytest.raises(ArgumentError, match=f"--backtest: got '{got}'"):
            forecast_command(tmp_path / "park.yaml", history, weather, None, 24,
                             backtest=period)
    assert "Traceback" not in bad.output


@pytest.mark.parametrize("column", ["wind_kw_w465", "pv_kw_roof_steel"])
@pytest.mark.parametrize("day", ["2025-01-15", "2025-07-15"])
def test_a_calibrated_asset_keeps_its_years_scale_on_forecast_weather(column, day):
    """A day's forecast on that day's weather is the year's model of the day: the
    calibration is not redone on the horizon (which would force every day to the same
    share of the annual target)."""
    import parkgrid as pg
    from parkgrid.forecasting.model import _renewable

    park = pg.load_park("haiyan")
    inputs = pg.build_inputs(park)
    window = inputs.window(pd.Timestamp(day, tz=park.site.timezone), park.steps_per_day)
    notes: list[str] = []
    made, _ = _renewable(park, column, pd.DataFrame(), window.weather, notes,
                         inputs.calibration)
    np.testing.assert_allclose(made, window.series[column].to_numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("backtest", [None, "2025-05-20:2025-05-21"])
def test_out_never_replaces_an_input_and_names_a_table_format(tmp_path, backtest):
    """--out onto the history, the weather forecast or the park config (or, for a backtest,
    its plot <out>.png onto one of them) is refused before anything is written; so is an
    --out that is neither .csv nor .parquet (a backtest used to write CSV into any name)."""
    park = _park_file(tmp_path)
    history, weather = _files(tmp_path, days=25)
    issue = None if backtest else "2025-05-20T00:00"
    before = {p: p.read_bytes() for p in (park, history, weather)}
    png_of_history = tmp_path / "fresh.csv.png"  # a history named as the plot of fresh.csv
    png_of_history.write_bytes(before[history])
    for out in (history, weather, tmp_path / "sub" / ".." / "history.csv", tmp_path / "x.txt",
                tmp_path / "skill.json", tmp_path, history / "o.csv", history / "a" / "o.csv"):
        with pytest.raises(ArgumentError, match="--out"):
            forecast_command(park, history, weather, issue, 24, out, backtest=backtest)
    if backtest:
        with pytest.raises(ArgumentError, match="the --history file the command reads"):
            forecast_command(park, png_of_history, weather, None, 24, tmp_path / "fresh.csv",
                             backtest=backtest)
    assert {p: p.read_bytes() for p in before} == before
    made = forecast_command(park, history, weather, issue, 24, tmp_path / "o.parquet",
                            backtest=backtest)
    back = pd.read_parquet(tmp_path / "o.parquet")
    assert len(back) == (len(made.skill) if backtest else 96)


@pytest.mark.parametrize("backtest", [None, "2025-05-20:2025-05-21"])
def test_out_replaces_its_own_table_and_no_other_file(tmp_path, backtest):
    """A forecast (skill table) written before is replaced by the next run; a user's file of
    the same format that is not one — a budget table, a table with other columns — is refused
    and left as it was (it used to be replaced)."""
    park = _park_file(tmp_path)
    history, weather = _files(tmp_path, days=25)
    issue = None if backtest else "2025-05-20T00:00"
    for out in (tmp_path / "o.csv", tmp_path / "o.parquet"):
        for _ in range(2):
            forecast_command(park, history, weather, issue, 24, out, backtest=backtest)
    budget = tmp_path / "budget.csv"
    budget.write_text("timestamp,load_kw_plant,comment\n2025-05-20T00:00,1,mine\n")
    notes = tmp_path / "notes.parquet"
    pd.DataFrame({"note": ["mine"]}).to_parquet(notes)
    plot = tmp_path / "mine.csv.png"
    plot.write_text("not a plot")
    for out in (budget, notes) + ((tmp_path / "mine.csv",) if backtest else ()):
        before = {p: p.read_bytes() for p in (budget, notes, plot)}
        with pytest.raises(ArgumentError, match="parkgrid never replaces files it did not"):
            forecast_command(park, history, weather, issue, 24, out, backtest=backtest)
        assert {p: p.read_bytes() for p in before} == before


def test_backtest_refuses_an_issue_time(tmp_path):
    history, weather = _files(tmp_path, days=25)
    with pytest.raises(ArgumentError, match="--issue"):
        forecast_command(_park_file(tmp_path), history, weather, "2025-05-20T00:00", 24,
                         backtest="2025-05-20:2025-05-21")


def _write(frame: pd.DataFrame, path: Path) -> Path:
    table = frame.copy()
    table.index = table.index.map(pd.Timestamp.isoformat).rename("timestamp")
    table.to_csv(path)
    return path


def test_a_gap_before_the_issue_is_never_filled_from_the_future(tmp_path):
    """The meter's last hours before the issue are missing and the file goes on past the
    issue with values far off: the gap is filled from the past only (interpolating across it
    used to pull the future into the training data), for the forecast and for each day of a
    backtest."""
    park = _park_file(tmp_path)
    history = generated_history(30)
    issue = pd.Timestamp("2025-05-25 00:00", tz=TZ)
    gap = (history.index >= issue - pd.Timedelta(hours=3)) & (history.index < issue)
    weather = _write(history.assign(ghi=0.0, wind_speed=3.0)[["ghi", "temp_air", "wind_speed"]],
                     tmp_path / "wx.csv")
    poisoned = history.copy()
    future_rows = poisoned.index >= issue  # 8 × the load and 15 °C more: within the
    poisoned.loc[future_rows, "load_kw_plant"] *= 8.0  # ratings, so read, but far off
    poisoned.loc[future_rows, "temp_air"] += 15.0
    clean = _write(history[~gap & (history.index < issue)], tmp_path / "clean.csv")
    future = _write(poisoned[~gap], tmp_path / "future.csv")
    made = [forecast_command(park, path, weather, issue.isoformat(), 24).forecast.frame
            for path in (clean, future)]
    pd.testing.assert_frame_equal(made[0], made[1])

    seen: list[pd.DataFrame] = []
    real = forecast_module.make_forecast
    forecast_module_patch = pytest.MonkeyPatch()
    forecast_module_patch.setattr(forecast_module, "make_forecast",
                                  lambda p, h, *a: seen.append(h) or real(p, h, *a))
    try:
        forecast_command(park, future, weather, None, 24, backtest="2025-05-25:2025-05-26")
    finally:
        forecast_module_patch.undo()
    trained_on = seen[0][seen[0].index < issue]
    assert trained_on["load_kw_plant"].max() < 2 * history["load_kw_plant"].max()


def test_gaps_in_the_history_weather_are_interpolated_like_the_loads(tmp_path):
    park = _park_file(tmp_path)
    history = generated_history(25).assign(ghi=0.0, wind_speed=3.0)
    holey = history.copy()
    holey.iloc[500:520, holey.columns.get_loc("temp_air")] = np.nan  # empty cells
    holey = holey.drop(index=holey.index[900:1000])  # missing rows
    path = _write(holey, tmp_path / "history.csv")
    weather = _write(history[["ghi", "temp_air", "wind_speed"]], tmp_path / "wx.csv")
    made = forecast_command(park, path, weather, "2025-05-20T00:00", 24).forecast
    assert made.methods["load_kw_plant"].startswith("gradient boosting")
    holey.iloc[1500:1510, holey.columns.get_loc("load_kw_plant")] = np.nan
    made = forecast_command(park, _write(holey, path), weather, "2025-05-20T00:00", 24).forecast
    assert "history: 110 of 1,824 steps had a value missing, filled by linear interpolation " \
        "(longest gap 25 h)" in made.notes  # the user is told (the weather's are not counted)


def test_an_hourly_weather_forecast_through_a_winter_sunset_is_read(tmp_path):
    """An hourly GHI held over the 15-min steps of the hour of sunset (sun at 87° at 16:52)
    made Erbs's DNI about 1,900 W/m² and the forecast was refused over a column the file does
    not have; the split's DNI is bounded by the extraterrestrial irradiance and the diffuse
    takes the rest of the GHI."""
    from parkgrid.inputs.weather import read_weather_csv

    hours = pd.date_range("2025-01-08", periods=48, freq="1h", tz=TZ)
    ghi = np.clip(600 * np.sin((hours.hour.to_numpy() - 7) / 10 * np.pi), 0, None)
    ghi[hours.hour == 16] = 150.0
    path = _write(pd.DataFrame({"ghi": ghi, "temp_air": 8.0, "wind_speed": 3.0}, index=hours),
                  tmp_path / "nwp.csv")
    index = pd.date_range("2025-01-08 12:00", periods=96, freq="15min", tz=TZ)
    weather = read_weather_csv(path, PARK, index, "weather forecast", split_ghi=True)
    assert weather["dni"].max() <= 1415.0
    cos_z = (weather["ghi"] - weather["dhi"]) / weather["dni"].where(weather["dni"] > 0)
    assert (cos_z.dropna() <= 1.0).all() and (weather["dhi"] >= 0).all()
    at = weather.index[(weather.index.hour == 16) & (weather.index.minute == 45)][0]
    assert weather.loc[at, "ghi"] == 150.0 and 0 < weather.loc[at, "dhi"] < 150.0


def test_a_bad_history_is_refused_naming_the_file_the_column_and_the_value(tmp_path):
    """A missing or misspelled load column named the file as 'history' and listed columns
    the file does not have (the split weather's); a negative load was learned silently."""
    park = _park_file(tmp_path)
    history = generated_history(20)
    weather = _write(history.assign(ghi=0.0, wind_speed=3.0)[["ghi", "temp_air", "wind_speed"]],
                     tmp_path / "wx.csv")
    path = _write(history.rename(columns={"load_kw_plant": "load_kw_plnt"}).assign(
        ghi=0.0, wind_speed=3.0), tmp_path / "misspelled.csv")
    with pytest.raises(InputDataError) as info:
        forecast_command(park, path, weather, "2025-05-19T00:00", 24)
    assert str(info.value).startswith(str(path)) and "'load_kw_plant'" in str(info.value)
    assert "load_kw_plnt" in str(info.value) and "dni" not in str(info.value)
    negative = history.copy()
    negative.iloc[700, 0] = -50.0
    path = _write(negative, tmp_path / "negative.csv")
    with pytest.raises(InputDataError, match=r"negative.csv: history: column 'load_kw_plant' "
                       r"at 2025-05-08T07:00:00\+08:00: got -50, expected a finite number ≥ 0"):
        forecast_command(park, path, weather, "2025-05-19T00:00", 24)


def test_the_fallback_profile_follows_the_season_and_a_stale_history_is_noted():
    """Without temperature a long history falls back to the profile of its last four weeks:
    over the whole history a load that grew by half since winter was forecast at its
    average."""
    history = generated_history(120, start="2025-02-03").drop(columns="temp_air")
    history["load_kw_plant"] *= np.linspace(1.0, 1.5, len(history))
    issue = history.index[-1] + pd.Timedelta(minutes=15)
    made = make_forecast(PARK, history, weather_of(generated_history(130, "2025-02-03"), issue),
                         issue)
    assert made.methods["load_kw_plant"] == "seasonal profile"
    assert issue.day_of_week < 5  # a workday, like the 20 of the last four weeks
    recent = history[history.index >= issue - pd.Timedelta(days=28)]["load_kw_plant"]
    workdays = recent[recent.index.day_of_week < 5]
    assert made.frame["load_kw_plant"].mean() == pytest.approx(workdays.mean(), rel=0.02)
    assert not any("history ends" in note for note in made.notes)
    later = issue + pd.Timedelta(days=3)
    stale = make_forecast(PARK, history, weather_of(generated_history(130, "2025-02-03"), later),
                          later)
    assert any("3.0 days before the issue time" in note for note in stale.notes)


@pytest.mark.parametrize("issue", ["2025-03-30T02:30", "2025-10-26T02:30"])
def test_an_issue_time_daylight_saving_skips_or_repeats_is_an_argument_error(tmp_path, issue):
    """In a park with daylight saving a naive --issue that does not exist or exists twice
    exited 1 with pandas's ValueError ('unexpected ValueError')."""
    park = _park_file(tmp_path)
    park.write_text(park.read_text().replace("longitude_deg: 120.9}",
                                             "longitude_deg: 8.9, timezone: Europe/Berlin}"))
    history, weather = _files(tmp_path, days=3)
    with pytest.raises(ArgumentError, match=r"--issue.*daylight saving"):
        forecast_command(park, history, weather, issue, 24)


def test_a_backtest_scores_what_the_history_measures_on_its_metered_steps(tmp_path):
    """A history without PV or wind meters made the backtest exit 1 (KeyError on the PV
    columns); a gap in the history was scored as if its interpolation had been metered."""
    import parkgrid as pg

    park = pg.load_park("haiyan")
    inputs = pg.build_inputs(park)
    days = slice("2025-05-01", "2025-05-21")
    loads = [c for c in ("load_kw_plant", "load_kw_dc_drives", "cooling_load_kw_th",
                         "heating_load_kw_th")]
    frame = inputs.series.loc[days, loads].join(
        inputs.weather.loc[days, ["ghi", "temp_air", "wind_speed"]])
    gap = (frame.index >= pd.Timestamp("2025-05-20 06:00", tz=frame.index.tz)) & (
        frame.index < pd.Timestamp("2025-05-20 12:00", tz=frame.index.tz))
    history = _write(frame[~gap], tmp_path / "history.csv")
    weather = _write(frame[["ghi", "temp_air", "wind_speed"]], tmp_path / "wx.csv")
    skill = backtest_skill(park, history, weather, "2025-05-20:2025-05-21", 96)
    assert set(skill["quantity"]) == set(loads)
    plant = skill[skill["quantity"] == "load_kw_plant"]
    assert plant["n_steps"].sum() == 96 - 24  # the 6 h gap is not scored
    assert np.isfinite(plant["rmse"]).all()


def test_meter_noise_below_zero_is_read_as_zero_and_more_is_refused(tmp_path):
    """A PV meter reading −5 kW at night (an inverter's standby draw: at most 2 % of the
    1,000 kWp below 0) is read as 0 with a note; −100 kW (10 %) is refused naming the column,
    as any implausible value is; a history without a timestamp column is named without the
    config's 'timestamp_column' setting, which a command-line file does not have."""
    park = _park_file(tmp_path)
    park.write_text(park.read_text() + "pv: [{name: roof, capacity_kwp: 1000}]\n")
    history, weather = _files(tmp_path, days=25)
    table = pd.read_csv(history).assign(pv_kw_roof=0.0)
    for value, ok in ((-5.0, True), (-100.0, False)):
        table.loc[100, "pv_kw_roof"] = value
        table.to_csv(history, index=False)
        if ok:
            made = forecast_command(park, history, weather, "2025-05-20T00:00", 24).forecast
            assert any("1 PV/wind reading(s) slightly below 0" in note for note in made.notes)
        else:
            with pytest.raises(InputDataError, match="pv_kw_roof"):
                forecast_command(park, history, weather, "2025-05-20T00:00", 24)
    table.rename(columns={"timestamp": "time"}).to_csv(history, index=False)
    with pytest.raises(InputDataError, match="timestamp") as error:
        forecast_command(park, history, weather, "2025-05-20T00:00", 24)
    assert "timestamp_column" not in str(error.value)
