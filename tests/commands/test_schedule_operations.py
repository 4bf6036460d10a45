"""Plans from any moment: a state file, a forecast file covering the horizon only, prices."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from parkgrid.cli import app
from parkgrid.commands.schedule import schedule_command
from parkgrid.config import load_park
from parkgrid.errors import ArgumentError, InputDataError
from parkgrid.forecasting.inputs import forecast_columns
from parkgrid.inputs import build_inputs
from parkgrid.io.state_file import StateDocument, resolve_state
from parkgrid.model.balance import check_schedule

HAIYAN = Path(__file__).parents[2] / "models" / "haiyan.yaml"
START = "2025-07-15T13:00"


@pytest.fixture(scope="module")
def haiyan():
    park = load_park(HAIYAN)
    return park, build_inputs(park)


def write_forecast(path: Path, haiyan, start: str = START, hours: float = 12,
                   extra: tuple[str, ...] = ()) -> Path:
    park, inputs = haiyan
    window = inputs.window(pd.Timestamp(start, tz=park.site.timezone), round(hours * 4))
    frame = window.series[forecast_columns(park) + list(extra)].copy()
    frame.index = frame.index.map(pd.Timestamp.isoformat).rename("timestamp")
    frame.to_csv(path)
    return path


def write_state(path: Path, **document) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


STATE = {"batteries": {"lfp": {"soc": 0.8}}, "tank": {"level": 0.3}, "month_peak_kw": 1500.0,
         "chillers": {"maglev_1": {"on": True, "run_time_h": 3}, "maglev_2": {"on": False}},
         "evs": [{"charger": "fast", "energy_due_kwh": 30.0, "departure": "2025-07-15T15:00"}]}


def test_mid_day_plan_honours_the_state_and_balances(haiyan, tmp_path):
    park, _ = haiyan
    forecast = write_forecast(tmp_path / "f.csv", haiyan)
    state = write_state(tmp_path / "s.json", **STATE)
    result = schedule_command(HAIYAN, start=START, horizon_hours=12, forecast=forecast,
                              state_file=state)
    plan, frame = result.schedule, result.schedule.frame
    assert frame.index[0] == pd.Timestamp(START, tz=park.site.timezone) and len(frame) == 48
    lfp = park.batteries[0]
    step_kwh = (lfp.charge_efficiency * frame["battery_charge_kw"].iloc[0]
                - frame["battery_discharge_kw"].iloc[0] / lfp.discharge_efficiency) * 0.25
    keep = 1 - lfp.self_discharge_pct_per_h / 100 * 0.25
    assert frame["battery_soc_kwh"].iloc[0] == pytest.approx(
        0.8 * lfp.energy_kwh * keep + step_kwh, abs=1e-3)
    tank = park.cooling.tank
    tank_step = (frame["tes_charge_kw_th"].iloc[0] - frame["tes_discharge_kw_th"].iloc[0]) * 0.25
    assert frame["tes_level_kwh_th"].iloc[0] == pytest.approx(
        0.3 * tank.capacity_kwh_th * (1 - tank.standing_loss_pct_per_h / 100 * 0.25)
        + tank_step, abs=1e-3)
    # the plugged-in EV gets its 30 kWh (at the car) before 15:00
    fast = [c for c in frame.columns if c.startswith("ev_charge_kw")]
    assert plan.metadata["ev_unmet_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert frame.loc[:"2025-07-15 14:45", fast].sum().sum() * 0.25 >= 30.0 / 0.95 - 1e-3
    assert plan.state_out.month_peak_kw >= 1500.0
    inputs = build_inputs(park).window(frame.index[0], 48)
    inputs.ev_sessions = pd.concat([inputs.ev_sessions, resolve_state(
        StateDocument.model_validate(STATE), park, frame.index[0]).ev_sessions])
    assert check_schedule(frame, park, inputs) == []


def test_missing_state_parts_fall_back_to_the_config_with_warnings(tmp_path):
    state = write_state(tmp_path / "s.json", month_peak_kw=100.0)
    result = schedule_command(HAIYAN, start=START, horizon_hours=2, state_file=state)
    warnings = "\n".join(result.schedule.metadata["warnings"])
    assert "no batteries.lfp; using the config's soc_initial" in warnings
    assert "no tank" in warnings and "no chillers.maglev_1" in warnings
    assert "no stores.hot_tank; using the config's initial level" in warnings


def test_a_month_peak_read_in_another_month_is_not_applied(tmp_path):
    """A state read on 30 June carries June's peak: a plan in July pays its own peak."""
    state = write_state(tmp_path / "s.json", timestamp="2025-06-30T23:00",
                        month_peak_kw=5000.0)
    result = schedule_command(HAIYAN, start=START, horizon_hours=2, state_file=state)
    warnings = "\n".join(result.schedule.metadata["warnings"])
    assert "month_peak_kw was read on 2025-06-30, in another month" in warnings
    assert "h before the plan start" in warnings
    assert result.schedule.state_out.month_peak_kw < 5000.0


def test_state_file_encodings(tmp_path):
    """UTF-16 is refused naming the file; a UTF-8 byte-order mark is read."""
    path = tmp_path / "s.json"
    path.write_bytes(json.dumps({"month_peak_kw": 10.0}).encode("utf-16"))
    with pytest.raises(InputDataError, match=r"s\.json: state file: not UTF-8 text"):
        schedule_command(HAIYAN, start=START, horizon_hours=1, state_file=path)
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"month_peak_kw": 10.0}).encode())
    result = schedule_command(HAIYAN, start=START, horizon_hours=1, state_file=path)
    assert not any("month_peak_kw" in w for w in result.schedule.metadata["warnings"])


def test_forecast_needs_only_the_horizon_and_prices_may_be_a_series(haiyan, tmp_path):
    forecast = write_forecast(tmp_path / "f.csv", haiyan, hours=6)
    flat = schedule_command(HAIYAN, start=START, horizon_hours=6, forecast=forecast)
    assert flat.schedule.metadata["forecast_source"] == str(forecast)
    assert flat.schedule.metadata["price_source"] == "tariff calendar"  # none in the forecast
    # a spot price: negative at 14:00–15:00, far above the calendar at 17:00–19:00
    index = flat.schedule.frame.index
    spot = pd.Series(0.4, index=index)
    spot[(index.hour == 14)] = -0.2
    spot[(index.hour >= 17)] = 3.0
    prices = pd.DataFrame({"timestamp": index.map(pd.Timestamp.isoformat),
                           "price_import_yuan_per_kwh": spot.to_numpy()})
    prices.to_csv(tmp_path / "p.csv", index=False)
    spot_plan = schedule_command(HAIYAN, start=START, horizon_hours=6, forecast=forecast,
                                 prices=tmp_path / "p.csv").schedule
    frame = spot_plan.frame
    assert spot_plan.metadata["price_source"] == (
        f"{tmp_path / 'p.csv'} (price_import_yuan_per_kwh); tariff calendar "
        "(price_export_yuan_per_kwh); configured CO2 factor (co2_kg_per_kwh)")
    assert frame["price_import"].to_numpy() == pytest.approx(spot.to_numpy())
    assert frame["price_export"].to_numpy() == pytest.approx(
        flat.schedule.frame["price_export"].to_numpy())  # not given: the calendar's
    charge = frame["battery_charge_kw"] - frame["battery_discharge_kw"]
    assert charge[index.hour == 14].mean() > charge[index.hour >= 17].mean()


@pytest.mark.parametrize(("case", "message"), [
    ("short", "covers 2025-07-15 13:00 to 2025-07-15 19:00, but 48 steps"),
    ("past", "timestamp 2025-07-15 12:00 is before the start 2025-07-15 13:00"),
    ("column", "missing column(s) ['load_kw_plant']"),
    ("negative", "column 'pv_kw_roof_steel' at 2025-07-15T13:00:00+08:00: got -5,"),
    ("foreign", "column(s) ['load_kw_office'] name no input of the park; expected the park's"),
    ("watts", "column 'pv_kw_roof_steel': got 2.03073e+06 kW at 2025-07-15 13:00; expected 0 to "
              "4079.25 kW (1.5 × the rating 2719.5 kW)"),
])
def test_bad_forecast_files_name_file_and_field(haiyan, tmp_path, case, message):
    path = tmp_path / "f.csv"
    if case == "past":
        write_forecast(path, haiyan, start="2025-07-15T12:00", hours=13)
    else:
        write_forecast(path, haiyan, hours=6 if case == "short" else 12)
    if case in ("column", "negative", "foreign", "watts"):
        frame = pd.read_csv(path)
        if case == "column":
            frame = frame.drop(columns="load_kw_plant")
        elif case == "foreign":  # a load the park does not have: its forecast would be lost
            frame["load_kw_office"] = 120.0
        elif case == "watts":  # a series in W, not kW, as a measured one is checked
            frame["pv_kw_roof_steel"] *= 1000.0
        else:
            frame.loc[0, "pv_kw_roof_steel"] = -5.0
        frame.to_csv(path, index=False)
    with pytest.raises(InputDataError, match=str(path)) as err:
        schedule_command(HAIYAN, start=START, horizon_hours=12, forecast=path)
    assert message in str(err.value)


@pytest.mark.parametrize(("document", "message"), [
    ({"batteries": {"lfp": {"soc": 0.99}}}, "batteries.lfp.soc: got 0.99, expected within"),
    ({"batteries": {"lfp": {"soc": 1.7}}}, "batteries.lfp.soc: Input should be less than"),
    ({"batteries": {"nope": {"soc": 0.5}}}, "batteries.nope: no such battery"),
    ({"evs": [{"charger": "fast", "energy_due_kwh": 5, "departure": "2025-07-15T12:00"}]},
     "evs[0].departure: got 2025-07-15T12:00:00+08:00, not after the plan start"),
    ({"evs": [{"charger": "fast", "pile": 9, "energy_due_kwh": 5,
               "departure": "2025-07-15T18:00"}]}, "evs[0].pile: got 9"),
    ({"timestamp": "2025-07-15T14:00"}, "timestamp: got 2025-07-15T14:00:00, after the plan"),
    ({"month_peak_kw": "lots"}, "month_peak_kw: Input should be a valid number"),
    ({"month_peak_kw": "1500"}, "month_peak_kw: Input should be a valid number"),
    ({"month_peak_kw": float("inf")}, "month_peak_kw: Input should be a finite number"),
    ({"batteries": {"lfp": {"soc": float("nan")}}}, "lfp.soc: Input should be a finite number"),
    ({"batteries": {"lfp": {"soc": True}}}, "batteries.lfp.soc: Input should be a valid number"),
    ({"chillers": {"maglev_1": {"on": "yes"}}}, "maglev_1.on: Input should be a valid boolean"),
    ({"chillers": {"maglev_1": {"on": True, "run_time_h": float("inf")}}},
     "maglev_1.run_time_h: Input should be a finite number"),
    ({"evs": [{"charger": "fast", "energy_due_kwh": float("inf"),
               "departure": "2025-07-15T18:00"}]}, "energy_due_kwh: Input should be a finite"),
    ({"soc": 0.5}, "soc: Extra inputs are not permitted"),
    ({"stores": {"hot_water": {"level": 0.5}}},
     "stores.hot_water: no such store (known: hot_tank)"),
    ({"stores": {"hot_tank": {"level": 1.5}}}, "stores.hot_tank"),
])
def test_bad_state_files_name_file_and_field(tmp_path, document, message):
    path = write_state(tmp_path / "s.json", **document)
    with pytest.raises(InputDataError, match=str(path)) as err:
        schedule_command(HAIYAN, start=START, horizon_hours=1, state_file=path)
    assert message in str(err.value)


def test_a_state_file_sets_the_hot_water_tank(tmp_path):
    path = write_state(tmp_path / "s.json", stores={"hot_tank": {"level": 0.7}})
    result = schedule_command(HAIYAN, start=START, horizon_hours=1, state_file=path)
    frame, tank = result.schedule.frame, load_park(HAIYAN).heating.tank
    step = (frame["hot_tank_charge_kw_th"].iloc[0]
            - frame["hot_tank_discharge_kw_th"].iloc[0]) * 0.25
    assert frame["hot_tank_level_kwh_th"].iloc[0] == pytest.approx(
        0.7 * tank.capacity_kwh_th * (1 - tank.standing_loss_pct_per_h / 100 * 0.25) + step,
        abs=1e-3)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"start": "2025-07-15T13:05"}, "a time on the park's 15-min steps"),
    ({"start": "noon"}, "ISO 8601"),
    ({"start": "07/15/2025 13:00"}, "ISO 8601"),
    ({"start": START, "date": "2025-07-15"}, "exactly one of --date and --start"),
    ({}, "exactly one of --date and --start"),
])
def test_bad_start_is_an_argument_error(kwargs, message):
    with pytest.raises(ArgumentError, match=message):
        schedule_command(HAIYAN, horizon_hours=1, **kwargs)


@pytest.mark.parametrize("start", ["2025-07-15T05:00Z", "2025-07-15T13:00+08",
                                   "2025-07-15T07:00+02:00", "2025-07-15 13:00"])
def test_start_in_any_iso_form_and_zone_is_the_same_step(start):
    plan = schedule_command(HAIYAN, start=start, horizon_hours=1).schedule
    assert plan.frame.index[0] == pd.Timestamp("2025-07-15T13:00+08:00")


def test_cli_exits_2_on_a_bad_state_file(tmp_path):
    path = write_state(tmp_path / "s.json", batteries={"lfp": {"soc": 0.02}})
    result = CliRunner().invoke(app, ["schedule", str(HAIYAN), "--start", START,
                                      "--horizon-hours", "1", "--state", str(path)])
    assert result.exit_code == 2
    assert "batteries.lfp.soc" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("column", "value"), [("co2_kg_per_kwh", -0.5),
                                               ("price_import_yuan_per_kwh", float("inf"))])
def test_a_bad_prices_file_is_refused_without_a_forecast_too(tmp_path, column, value):
    """``--prices`` over the park's own year is checked as a forecast's prices are."""
    index = pd.date_range(START, periods=4, freq="15min")
    frame = pd.DataFrame({"timestamp": index.map(pd.Timestamp.isoformat), column: 0.5})
    frame.loc[2, column] = value
    frame.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(InputDataError, match=column):
        schedule_command(HAIYAN, start=START, horizon_hours=1, prices=tmp_path / "p.csv")


@pytest.mark.parametrize("target", ["forecast", "state", "notes", "folder"])
def test_out_never_replaces_a_file_parkgrid_did_not_write(haiyan, tmp_path, target):
    """``--out`` onto the forecast or state file it reads, or onto any file that is not a plan,
    used to replace it with the plan: refused (exit 2), the file intact."""
    forecast = write_forecast(tmp_path / "f.csv", haiyan, hours=1)
    state = write_state(tmp_path / "s.json", **STATE)
    notes = tmp_path / "notes.csv"
    notes.write_text("my notes\n", encoding="utf-8")
    (tmp_path / "folder.json").mkdir()
    out = {"forecast": forecast, "state": state, "notes": notes,
           "folder": tmp_path / "folder.json"}[target]
    before = out.read_bytes() if out.is_file() else None
    result = CliRunner().invoke(app, ["schedule", str(HAIYAN), "--start", START,
                                      "--horizon-hours", "1", "--forecast", str(forecast),
                                      "--state", str(state), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "parkgrid never replaces files it did not write" in result.output
    assert (out.read_bytes() if out.is_file() else None) == before


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_out_replaces_a_plan_parkgrid_wrote(tmp_path, suffix):
    out = tmp_path / f"plan{suffix}"
    for _ in range(2):
        schedule_command(HAIYAN, start=START, horizon_hours=1, out=out)
    assert out.is_file()


def test_an_ev_owed_more_than_its_pile_can_give_is_warned_about(tmp_path):
    state = write_state(tmp_path / "s.json", evs=[
        {"charger": "slow", "energy_due_kwh": 20.0, "departure": "2025-07-15T14:00"},
        {"charger": "slow", "energy_due_kwh": 5.0, "departure": "2025-07-15T14:00"}])
    plan = schedule_command(HAIYAN, start=START, horizon_hours=2, state_file=state).schedule
    short = [w for w in plan.metadata["warnings"] if "energy_due_kwh" in w]
    assert len(short) == 1 and "evs[0].energy_due_kwh: 20 kWh by 2025-07-15T14:00:00+08:00, " \
        "but a 'slow' pile charges at most 7 kWh by then" in short[0]
    assert plan.metadata["ev_unmet_kwh"] > 0


@pytest.mark.parametrize("spoil", ["gap", "empty", "no timestamp"])
def test_forecast_errors_do_not_point_at_config_settings(haiyan, tmp_path, spoil):
    """A forecast file is no data file of the config: no 'set fill:' / 'timestamp_column'."""
    path = write_forecast(tmp_path / "f.csv", haiyan, hours=2)
    frame = pd.read_csv(path)
    if spoil == "gap":
        frame = frame.drop(index=3)
    elif spoil == "empty":
        frame.loc[3, "load_kw_plant"] = None
    else:
        frame = frame.rename(columns={"timestamp": "time"})
    frame.to_csv(path, index=False)
    with pytest.raises(InputDataError, match="forecast: ") as err:
        schedule_command(HAIYAN, start=START, horizon_hours=2, forecast=path)
    assert "set '" not in str(err.value) and "fill:" not in str(err.value)


def test_a_prices_file_is_named_as_prices_not_as_the_forecast(haiyan, tmp_path):
    forecast = write_forecast(tmp_path / "f.csv", haiyan, hours=2)
    index = pd.date_range(pd.Timestamp(START, tz="Asia/Shanghai"), periods=4, freq="15min")
    pd.DataFrame({"timestamp": index.map(pd.Timestamp.isoformat),
                  "price_import_yuan_per_kwh": 0.5}).to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(InputDataError, match=r"p\.csv: prices: covers 2025-07-15 13:00 to "):
        schedule_command(HAIYAN, start=START, horizon_hours=2, forecast=forecast,
                         prices=tmp_path / "p.csv")
