"""Weather: pvlib's typical-year files (TMY3, EPW), CSV, and the synthetic generator."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
import yaml
from scipy import stats

from parkgrid.errors import ConfigError, InputDataError
from parkgrid.inputs.weather import COLUMNS, load_climate, load_weather

PVLIB_DATA = Path(pvlib.__file__).parent / "data"
GREENSBORO = PVLIB_DATA / "723170TYA.CSV"  # TMY3, UTC-5, 36.1 N 79.95 W, 273 m
PROFILES = Path(__file__).resolve().parents[2] / "profiles"
CITIES = {
    "hangzhou": {"latitude_deg": 30.5, "longitude_deg": 120.9},
    "shenzhen": {"latitude_deg": 22.6, "longitude_deg": 114.5},
}


def year_index(year: int, step_min: int = 15, tz: str = "Asia/Shanghai") -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1),
                         freq=f"{step_min}min", inclusive="left", tz=tz)


def tmy3() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
        return pvlib.iotools.read_tmy3(GREENSBORO, map_variables=True)[0]


def greensboro(make_park, path: Path = GREENSBORO, source: str = "tmy3", step_min: int = 60,
               tz: str = "Etc/GMT+5", **weather):
    return make_park(
        site={"latitude_deg": 36.1, "longitude_deg": -79.95, "altitude_m": 273, "timezone": tz},
        weather={"source": source, "path": str(path), "climate": None, **weather},
        time_step_minutes=step_min,
    )


def tmy3_row(data: pd.DataFrame, month: int, day: int, hour_end: int) -> pd.Series:
    """The TMY3 record labelled ``month/day hour_end:00`` (hour-ending, file standard time)."""
    time = data["Time (HH:MM)"].str[:2].astype(int)
    date = data["Date (MM/DD/YYYY)"]
    match = (date.str[:5] == f"{month:02d}/{day:02d}") & (time == hour_end)
    return data[match].iloc[0]


def write_epw(path: Path, data: pd.DataFrame) -> Path:
    """An EPW file holding the TMY3 records (hour-ending labels 1..24, pressure in Pa)."""
    date = data["Date (MM/DD/YYYY)"]
    n = len(data)
    zeros = np.zeros(n)
    rows = pd.DataFrame({
        "year": date.str[6:].astype(int).to_numpy(), "month": date.str[:2].astype(int).to_numpy(),
        "day": date.str[3:5].astype(int).to_numpy(),
        "hour": data["Time (HH:MM)"].str[:2].astype(int).to_numpy(), "minute": zeros.astype(int),
        "flags": ["?9?9?9"] * n, "temp_air": data["temp_air"].to_numpy(),
        "temp_dew": data["temp_dew"].to_numpy(), "rh": data["relative_humidity"].to_numpy(),
        "pressure": data["pressure"].to_numpy() * 100, "etr": zeros, "etrn": zeros, "ir": zeros,
        "ghi": data["ghi"].to_numpy(), "dni": data["dni"].to_numpy(),
        "dhi": data["dhi"].to_numpy(), **{f"illum{i}": zeros for i in range(4)},
        "wind_direction": zeros, "wind_speed": data["wind_speed"].to_numpy(),
        **{f"rest{i}": zeros for i in range(13)},
    })
    header = [
        "LOCATION,Greensboro,NC,USA,TMY3,723170,36.10,-79.95,-5.0,273.0",
        "DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,test", "COMMENTS 2,test",
        "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]
    path.write_text("\n".join(header) + "\n" + rows.to_csv(header=False, index=False))
    return path


# --- typical-year files ------------------------------------------------------------------


def test_columns_are_pvlibs_names(make_park):
    park = greensboro(make_park)
    assert list(load_weather(park, year_index(2025, 60, "Etc/GMT+5")).columns) == COLUMNS


def test_tmy3_hour_ending_irradiance_lands_on_the_step_it_covers(make_park):
    park = greensboro(make_park)
    wx = load_weather(park, year_index(2025, 60, "Etc/GMT+5"))
    record = tmy3_row(tmy3(), 7, 1, 12)  # mean of 11:00–12:00 local standard time
    assert wx.loc["2025-07-01 11:00", "ghi"] == record["ghi"]
    assert wx.loc["2025-07-01 11:00", "dni"] == record["dni"]


def test_tmy3_readings_are_interpolated_to_the_step_centre(make_park):
    park = greensboro(make_park)
    wx = load_weather(park, year_index(2025, 60, "Etc/GMT+5"))
    data = tmy3()
    expected = (tmy3_row(data, 7, 1, 11)["temp_air"] + tmy3_row(data, 7, 1, 12)["temp_air"]) / 2
    assert wx.loc["2025-07-01 11:00", "temp_air"] == pytest.approx(expected)


def test_tmy3_standard_time_is_converted_to_a_zone_with_daylight_saving(make_park):
    park = greensboro(make_park, tz="America/New_York")
    wx = load_weather(park, year_index(2025, 60, "America/New_York"))
    # 12:00–13:00 EDT is 11:00–12:00 EST: the record labelled 12:00
    assert wx.loc["2025-07-01 12:00", "ghi"] == tmy3_row(tmy3(), 7, 1, 12)["ghi"]
    # in winter the zone is on standard time
    assert wx.loc["2025-01-15 11:00", "ghi"] == tmy3_row(tmy3(), 1, 15, 12)["ghi"]


def test_tmy3_in_a_far_zone_is_shifted_by_the_offset(make_park):
    park = greensboro(make_park, tz="Asia/Shanghai")
    wx = load_weather(park, year_index(2025, 60))
    # 2025-07-02 00:00–01:00 UTC+8 is 07-01 11:00–12:00 UTC-5
    assert wx.loc["2025-07-02 00:00", "ghi"] == tmy3_row(tmy3(), 7, 1, 12)["ghi"]


def test_tmy3_pressure_is_converted_from_mbar_to_pa(make_park):
    wx = load_weather(greensboro(make_park), year_index(2025, 60, "Etc/GMT+5"))
    assert wx["pressure"].mean() == pytest.approx(tmy3()["pressure"].mean() * 100, rel=1e-3)


def test_quarter_hours_keep_the_annual_irradiation(make_park):
    park = greensboro(make_park, step_min=15)
    wx = load_weather(park, year_index(2025, 15, "Etc/GMT+5"))
    assert wx["ghi"].sum() / 4 == pytest.approx(tmy3()["ghi"].sum(), rel=0.01)


def test_irradiance_is_zero_at_night(make_park):
    park = greensboro(make_park, step_min=15)
    wx = load_weather(park, year_index(2025, 15, "Etc/GMT+5"))
    night = wx.between_time("21:00", "04:00")
    assert (night[["ghi", "dni", "dhi"]] == 0).all().all()


def test_leap_target_year_repeats_feb_28(make_park):
    park = greensboro(make_park)
    wx = load_weather(park, year_index(2024, 60, "Etc/GMT+5"))
    assert len(wx) == 8784
    feb28 = wx.loc["2024-02-28"].to_numpy()
    assert np.array_equal(wx.loc["2024-02-29"].to_numpy(), feb28)
    assert wx.loc["2024-03-01 11:00", "ghi"] == tmy3_row(tmy3(), 3, 1, 12)["ghi"]


def test_wind_speed_scale_multiplies_the_wind(make_park):
    index = year_index(2025, 60, "Etc/GMT+5")
    plain = load_weather(greensboro(make_park), index)
    scaled = load_weather(greensboro(make_park, wind_speed_scale=1.5), index)
    assert np.allclose(scaled["wind_speed"], 1.5 * plain["wind_speed"])
    assert np.array_equal(scaled["ghi"], plain["ghi"])


def test_epw_gives_the_same_weather_as_the_same_records_in_tmy3(make_park, tmp_path):
    index = year_index(2025, 15, "America/New_York")
    epw = write_epw(tmp_path / "greensboro.epw", tmy3())
    from_epw = load_weather(greensboro(make_park, epw, "epw", 15, "America/New_York"), index)
    from_tmy3 = load_weather(greensboro(make_park, step_min=15, tz="America/New_York"), index)
    pd.testing.assert_frame_equal(from_epw, from_tmy3, atol=1e-6, rtol=1e-9)


def test_epw_missing_value_code_is_reported_with_its_line(make_park, tmp_path):
    data = tmy3()
    data.loc[data.index[99], "temp_air"] = 99.9
    epw = write_epw(tmp_path / "bad.epw", data)
    with pytest.raises(InputDataError, match=r"line 108: temp_air = 99.9 is outside"):
        load_weather(greensboro(make_park, epw, "epw"), year_index(2025, 60, "Etc/GMT+5"))


def test_typical_year_with_a_missing_hour_is_an_error(make_park, tmp_path):
    epw = write_epw(tmp_path / "short.epw", tmy3().drop(tmy3().index[50]))
    with pytest.raises(InputDataError, match=r"expected 8760 hourly records.*Jan 03 02:00"):
        load_weather(greensboro(make_park, epw, "epw"), year_index(2025, 60, "Etc/GMT+5"))


def test_unreadable_typical_year_file_is_an_input_error(make_park, tmp_path):
    path = tmp_path / "junk.epw"
    path.write_text("not,an,epw\n")
    with pytest.raises(InputDataError, match="not a readable EPW file"):
        load_weather(greensboro(make_park, path, "epw"), year_index(2025, 60, "Etc/GMT+5"))


def test_missing_weather_file_is_an_input_error(make_park, tmp_path):
    with pytest.raises(InputDataError, match="not found"):
        load_weather(greensboro(make_park, tmp_path / "none.csv"), year_index(2025, 60))


# --- CSV -----------------------------------------------------------------------------------


def weather_csv(tmp_path: Path, days: int = 2, **extra) -> Path:
    index = pd.date_range("2025-06-01", periods=days * 24, freq="1h")
    frame = pd.DataFrame({
        "timestamp": index.strftime("%Y-%m-%d %H:%M"), "ghi": 100.0, "dni": 50.0, "dhi": 60.0,
        "temp_air": 25.0, "wind_speed": 3.0, **extra,
    })
    path = tmp_path / "weather.csv"
    frame.to_csv(path, index=False)
    return path


def csv_park(make_park, path: Path, **weather):
    return make_park(weather={"source": "csv", "path": str(path), "climate": None, **weather},
                     site={"altitude_m": 500})


def two_days() -> pd.DatetimeIndex:
    return pd.date_range("2025-06-01", periods=192, freq="15min", tz="Asia/Shanghai")


def test_weather_csv_is_read_at_the_park_step(make_park, tmp_path):
    wx = load_weather(csv_park(make_park, weather_csv(tmp_path), wind_speed_scale=2.0),
                      two_days())
    assert list(wx.columns) == COLUMNS and len(wx) == 192
    assert (wx["ghi"] == 100).all() and (wx["wind_speed"] == 6).all()


def test_weather_csv_without_pressure_uses_the_sites_altitude(make_park, tmp_path):
    wx = load_weather(csv_park(make_park, weather_csv(tmp_path)), two_days())
    assert wx["pressure"].iloc[0] == pytest.approx(pvlib.atmosphere.alt2pres(500))
    assert wx["relative_humidity"].isna().all()  # not measured: unknown, not invented


def test_weather_csv_keeps_optional_columns(make_park, tmp_path):
    path = weather_csv(tmp_path, pressure=95000.0, relative_humidity=80.0)
    wx = load_weather(csv_park(make_park, path), two_days())
    assert (wx["pressure"] == 95000).all() and (wx["relative_humidity"] == 80).all()


def test_weather_csv_missing_column_is_an_error(make_park, tmp_path):
    frame = pd.read_csv(weather_csv(tmp_path)).drop(columns="dhi")
    frame.to_csv(tmp_path / "weather.csv", index=False)
    with pytest.raises(InputDataError, match=r"missing column\(s\) \['dhi'\]"):
        load_weather(csv_park(make_park, tmp_path / "weather.csv"), two_days())


def test_weather_csv_implausible_value_names_the_step(make_park, tmp_path):
    path = weather_csv(tmp_path, days=2)
    frame = pd.read_csv(path)
    frame.loc[5, "temp_air"] = -999.0
    frame.to_csv(path, index=False)
    with pytest.raises(InputDataError, match=r"step 2025-06-01 05:00: temp_air = -999"):
        load_weather(csv_park(make_park, path), two_days())


# --- synthetic year ----------------------------------------------------------------------


def synthetic_park(make_park, city: str = "hangzhou", year: int = 2025, seed: int = 1,
                   step_min: int = 15):
    return make_park(
        site=CITIES[city], year=year, time_step_minutes=step_min,
        weather={"source": "synthetic", "climate": str(PROFILES / f"climate_{city}.yaml"),
                 "seed": seed},
    )


@pytest.fixture(scope="module", params=["hangzhou", "shenzhen"])
def synthetic_year(request, make_park):
    city = request.param
    park = synthetic_park(make_park, city, seed=7)
    climate = load_climate(PROFILES / f"climate_{city}.yaml")
    table = pd.DataFrame([m.model_dump() for m in climate.months]).set_index("month")
    return park, table, load_weather(park, year_index(2025))


def monthly(series: pd.Series, how: str = "sum") -> pd.Series:
    return series.groupby(series.index.month).agg(how)


def daily_clearness(park, wx: pd.DataFrame) -> pd.Series:
    site = park.site
    location = pvlib.location.Location(site.latitude_deg, site.longitude_deg, site.timezone)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
        clear = location.get_clearsky(wx.index + pd.Timedelta(minutes=7.5)).set_axis(wx.index)
    day = wx.index.normalize()
    return wx["ghi"].groupby(day).sum() / clear["ghi"].groupby(day).sum()


def test_synthetic_monthly_ghi_matches_the_table(synthetic_year):
    _, table, wx = synthetic_year
    ghi_kwh_per_m2 = monthly(wx["ghi"]) * 0.25 / 1000
    assert np.allclose(ghi_kwh_per_m2, table["ghi_kwh_per_m2"], rtol=0.03)


def test_synthetic_monthly_diffuse_fraction_matches_the_table(synthetic_year):
    _, table, wx = synthetic_year
    fraction = monthly(wx["dhi"]) / monthly(wx["ghi"])
    expected = table["dhi_kwh_per_m2"] / table["ghi_kwh_per_m2"]
    assert np.abs(fraction.to_numpy() - expected.to_numpy()).max() < 0.05


def test_synthetic_monthly_temperature_matches_the_table(synthetic_year):
    _, table, wx = synthetic_year
    means = monthly(wx["temp_air"], "mean")
    assert np.abs(means.to_numpy() - table["temp_air_c"].to_numpy()).max() < 0.5


def test_synthetic_monthly_wind_and_humidity_match_the_table(synthetic_year):
    _, table, wx = synthetic_year
    assert np.allclose(monthly(wx["wind_speed"], "mean"), table["wind_speed_m_s"], rtol=0.02)
    rh = monthly(wx["relative_humidity"], "mean").to_numpy()
    assert np.abs(rh - table["relative_humidity_pct"].to_numpy()).max() < 3


def test_synthetic_wind_follows_the_weibull_shape(synthetic_year):
    _, table, wx = synthetic_year
    normalised = wx["wind_speed"] / monthly(wx["wind_speed"], "mean").reindex(
        wx.index.month).to_numpy()
    k, _, _ = stats.weibull_min.fit(normalised, floc=0)
    assert k == pytest.approx(table["weibull_k"].mean(), abs=0.3)


def test_synthetic_wind_is_correlated_hour_to_hour_and_peaks_in_the_afternoon(synthetic_year):
    _, _, wx = synthetic_year
    wind = wx["wind_speed"]
    assert wind.autocorr(lag=4) > 0.8
    by_hour = wind.groupby(wind.index.hour).mean()
    assert by_hour.loc[13:16].mean() > 1.2 * by_hour.loc[[0, 1, 2, 3, 4]].mean()


def test_synthetic_temperature_is_lowest_at_dawn_and_highest_mid_afternoon(synthetic_year):
    _, _, wx = synthetic_year
    by_hour = wx["temp_air"].groupby(wx.index.hour).mean()
    assert 4 <= by_hour.idxmin() <= 7
    assert 13 <= by_hour.idxmax() <= 16


def test_synthetic_days_are_clear_mixed_and_overcast(synthetic_year):
    park, _, wx = synthetic_year
    kc = daily_clearness(park, wx)
    assert (kc > 0.75).mean() > 0.1
    assert (kc < 0.35).mean() > 0.05
    assert ((kc > 0.4) & (kc < 0.7)).mean() > 0.1


def test_synthetic_cloudiness_persists_from_day_to_day(synthetic_year):
    park, _, wx = synthetic_year
    kc = daily_clearness(park, wx)
    anomaly = kc - kc.groupby(kc.index.month).transform("mean")
    assert anomaly.autocorr(lag=1) > 0.2


def test_synthetic_irradiance_is_consistent(synthetic_year):
    park, _, wx = synthetic_year
    site = park.site
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
        sun = pvlib.solarposition.get_solarposition(
            wx.index + pd.Timedelta(minutes=7.5), site.latitude_deg, site.longitude_deg)
    closure = wx["dhi"] + wx["dni"] * np.cos(np.radians(sun["zenith"].to_numpy()))
    assert np.allclose(closure, wx["ghi"], atol=1.0)
    assert (wx[["ghi", "dni", "dhi"]] >= 0).all().all()
    assert (wx["dhi"] <= wx["ghi"] + 1e-9).all()
    assert (wx.loc[sun["elevation"].to_numpy() < -2, ["ghi", "dni", "dhi"]] == 0).all().all()
    assert not wx.isna().any().any()


def test_synthetic_year_in_local_time_has_no_daylight_saving_jumps(synthetic_year):
    _, _, wx = synthetic_year
    assert len(wx) == 35040
    assert (np.diff(wx.index.asi8) == np.diff(wx.index.asi8)[0]).all()
    assert str(wx.index.tz) == "Asia/Shanghai"


def test_same_seed_gives_the_same_year(make_park):
    index = year_index(2025)
    first = load_weather(synthetic_park(make_park, seed=3), index)
    again = load_weather(synthetic_park(make_park, seed=3), index)
    pd.testing.assert_frame_equal(first, again)


def test_another_seed_gives_another_year_with_the_same_statistics(make_park):
    index = year_index(2025)
    first = load_weather(synthetic_park(make_park, seed=3), index)
    other = load_weather(synthetic_park(make_park, seed=4), index)
    assert not np.allclose(first["ghi"], other["ghi"])
    assert np.allclose(monthly(first["ghi"]), monthly(other["ghi"]), rtol=1e-6)


def test_a_window_is_the_slice_of_its_year(make_park):
    park = synthetic_park(make_park)
    year = load_weather(park, year_index(2025))
    week = year.index[1000:1000 + 7 * 96]
    pd.testing.assert_frame_equal(load_weather(park, week), year.loc[week])


def test_synthetic_leap_year_has_8784_hours_and_a_longer_february(make_park):
    park = synthetic_park(make_park, year=2024, step_min=60)
    wx = load_weather(park, year_index(2024, 60))
    assert len(wx) == 8784
    february_kwh = wx.loc["2024-02", "ghi"].sum() / 1000
    assert february_kwh == pytest.approx(66.6 * 29 / 28, rel=1e-6)


@pytest.mark.parametrize("step_min", [5, 60])
def test_synthetic_year_keeps_the_monthly_ghi_at_other_steps(make_park, step_min):
    park = synthetic_park(make_park, step_min=step_min)
    wx = load_weather(park, year_index(2025, step_min))
    assert wx["ghi"].sum() * step_min / 60 / 1000 == pytest.approx(1202.2, rel=1e-6)


def test_shipped_climates_validate_and_sum_to_the_reference_year():
    hangzhou = load_climate(PROFILES / "climate_hangzhou.yaml")
    shenzhen = load_climate(PROFILES / "climate_shenzhen.yaml")
    assert hangzhou.column("ghi_kwh_per_m2").sum() == pytest.approx(1202, abs=1)
    assert shenzhen.column("dhi_kwh_per_m2").sum() == pytest.approx(969, abs=1)
    assert hangzhou.provenance.station_id == "CSWD 584570"
    assert set(shenzhen.column("wind_speed_m_s")) == {2.6}


def broken_climate(tmp_path: Path, edit) -> Path:
    doc = yaml.safe_load((PROFILES / "climate_hangzhou.yaml").read_text())
    edit(doc)
    path = tmp_path / "climate.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["months"][2].update(ghi_kwh_per_m2=-5), "months.2.ghi_kwh_per_m2: got -5"),
    (lambda d: d["months"][0].update(sunshine_h=100), "months.0.sunshine_h: unknown key"),
    (lambda d: d["months"].pop(), "months: got"),
    (lambda d: d["months"][3].update(month=5), "in order 1..12"),
    (lambda d: d["months"][1].update(dhi_kwh_per_m2=99), "must not exceed ghi_kwh_per_m2"),
    (lambda d: d.pop("provenance"), "provenance: required field is missing"),
])
def test_bad_climate_file_names_the_file_and_field(tmp_path, edit, expected):
    path = broken_climate(tmp_path, edit)
    with pytest.raises(ConfigError) as info:
        load_climate(path)
    assert expected in str(info.value) and str(path) in str(info.value)


def test_missing_climate_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the climate file"):
        load_climate(tmp_path / "none.yaml")


def test_climate_wind_height_must_match_the_reference_height(make_park):
    park = make_park(weather={"wind_reference_height_m": 50})
    with pytest.raises(ConfigError, match="wind_height_m: the climate's wind statistics are at"):
        load_weather(park, year_index(2025))
