"""PV output: hand-computed PVWatts cases on clear-sky weather, buses, clipping, CEC option."""

from __future__ import annotations

import math
import socket
import sys
import types
import warnings

import numpy as np
import pandas as pd
import pvlib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.config import parse_park
from parkgrid.errors import ConfigError, InputDataError
from parkgrid.inputs import pv

LAT, LON, TZ = 30.5, 120.9, "Asia/Shanghai"
CEC_MODULE = "Heliene_96M450"
CEC_INVERTER = "Huawei_Technologies_Co___Ltd___SUN2000_100KTL_USH0__800V_"
# SAPM open rack, glass/polymer (the model's mounting)
SAPM_A, SAPM_B, SAPM_DT = -3.56, -0.075, 3.0


def make_park(arrays: list[dict], step_min: int = 15, lat: float = LAT, lon: float = LON):
    return parse_park({
        "name": "test", "site": {"latitude_deg": lat, "longitude_deg": lon, "altitude_m": 5},
        "time_step_minutes": step_min,
        "weather": {"source": "synthetic", "climate": "climate.yaml"},
        "pv": arrays, "buses": {"dc": {"converter_kw": 1000}},
        "loads": [{"name": "base", "synthetic": {"shape": "industrial", "annual_kwh": 1e6}}],
        "grid": {"import_limit_kw": 1000}, "tariff": {"calendar": "zhejiang_2024"},
        "emissions": {"grid_factor_t_per_mwh": 0.5},
    })


def array(**fields) -> dict:
    return {"name": "roof", "capacity_kwp": 100.0, **fields}


def clear_sky_weather(park, day: str = "2025-06-21", days: int = 1,
                      temp_air: float = 25.0, wind_speed: float = 2.0) -> pd.DataFrame:
    """Clear-sky interval means, approximated by the value at each interval's midpoint."""
    step = pd.Timedelta(minutes=park.time_step_minutes)
    start = pd.Timestamp(day, tz=TZ)
    index = pd.date_range(start, start + pd.Timedelta(days=days), freq=step, inclusive="left")
    site = park.site
    location = pvlib.location.Location(site.latitude_deg, site.longitude_deg, TZ,
                                       site.altitude_m)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
        sky = location.get_clearsky(index + step / 2).set_axis(index)
    return sky.assign(temp_air=temp_air, wind_speed=wind_speed, pressure=101325.0,
                      relative_humidity=70.0)


def output(fields: dict, weather=None, **park_kw) -> pd.Series:
    park = make_park([fields], **park_kw)
    weather = clear_sky_weather(park) if weather is None else weather
    return pv.array_output_kw(park.pv[0], park, weather)


def pvwatts_dc_by_hand(ghi: float, temp_air: float, wind: float, pdc0_w: float,
                       gamma: float) -> float:
    """Horizontal array: POA = GHI; SAPM cell temperature; PVWatts DC, W."""
    t_module = ghi * math.exp(SAPM_A + SAPM_B * wind) + temp_air
    t_cell = t_module + ghi / 1000.0 * SAPM_DT
    return pdc0_w * ghi / 1000.0 * (1.0 + gamma * (t_cell - 25.0))


def noon_row(weather: pd.DataFrame) -> pd.Timestamp:
    return weather["ghi"].idxmax()


def test_horizontal_clear_sky_noon_matches_pvwatts_by_hand():
    fields = array(tilt_deg=0.0, bus="dc", converter_efficiency=0.98, losses_pct=10.0,
                   dc_ac_ratio=1.0)
    park = make_park([fields])
    weather = clear_sky_weather(park, temp_air=30.0, wind_speed=1.5)
    noon = noon_row(weather)
    ghi = weather.at[noon, "ghi"]
    dc_w = pvwatts_dc_by_hand(ghi, 30.0, 1.5, 100_000.0, -0.0035)
    expected_kw = dc_w * 0.90 * 0.98 / 1000.0
    assert ghi > 900
    got = pv.array_output_kw(park.pv[0], park, weather)[noon]
    assert got == pytest.approx(expected_kw, rel=0.01)


def test_ac_bus_applies_the_pvwatts_inverter_curve_by_hand():
    fields = array(tilt_deg=0.0, converter_efficiency=0.96, losses_pct=0.0, dc_ac_ratio=1.0)
    park = make_park([fields])
    weather = clear_sky_weather(park)
    noon = noon_row(weather)
    dc_w = pvwatts_dc_by_hand(weather.at[noon, "ghi"], 25.0, 2.0, 100_000.0, -0.0035)
    pdc0_inv = 100_000.0 / 0.96  # so that the AC limit is capacity / dc_ac_ratio
    zeta = dc_w / pdc0_inv
    eta = 0.96 / 0.9637 * (-0.0162 * zeta - 0.0059 / zeta + 0.9858)
    expected_kw = min(eta * dc_w, 100_000.0) / 1000.0
    got = pv.array_output_kw(park.pv[0], park, weather)[noon]
    assert got == pytest.approx(expected_kw, rel=0.01)


def test_output_is_zero_at_night():
    park = make_park([array()])
    weather = clear_sky_weather(park)
    out = pv.array_output_kw(park.pv[0], park, weather)
    assert (out[weather["ghi"] == 0] == 0).all()
    assert (out.between_time("00:00", "04:00") == 0).all()
    assert out.max() > 0


def test_output_is_clipped_at_the_inverter_limit():
    out = output(array(dc_ac_ratio=1.5))
    limit_kw = 100.0 / 1.5
    assert out.max() == pytest.approx(limit_kw, rel=1e-9)
    assert (out >= limit_kw * (1 - 1e-9)).sum() >= 4


def test_dc_bus_output_is_clipped_at_the_converter_limit():
    out = output(array(bus="dc", dc_ac_ratio=1.5))
    assert out.max() == pytest.approx(100.0 / 1.5, rel=1e-9)


def test_dc_bus_output_is_dc_power_times_a_flat_converter_efficiency():
    full = output(array(bus="dc", converter_efficiency=1.0, dc_ac_ratio=0.5))
    half = output(array(bus="dc", converter_efficiency=0.5, dc_ac_ratio=0.5))
    lit = full > 0
    assert np.allclose(full[lit] / half[lit], 2.0, rtol=1e-12)


def test_dc_bus_skips_the_inverter_part_load_loss():
    dc_bus = output(array(bus="dc", converter_efficiency=0.97))
    ac_bus = output(array(bus="ac", converter_efficiency=0.97))
    dim = (dc_bus > 0) & (dc_bus < 5.0)  # below 5 % of rating the inverter is inefficient
    assert dim.any()
    assert (dc_bus[dim] > ac_bus[dim] * 1.02).all()


def test_losses_pct_scales_dc_power():
    lossless = output(array(bus="dc", losses_pct=0.0, dc_ac_ratio=0.5))
    lossy = output(array(bus="dc", losses_pct=20.0, dc_ac_ratio=0.5))
    assert np.allclose(lossy, lossless * 0.8, rtol=1e-12)


def test_output_scales_linearly_with_capacity():
    small = output(array(capacity_kwp=100.0))
    large = output(array(capacity_kwp=250.0))
    assert np.allclose(large, small * 2.5, rtol=1e-9)


def test_series_is_named_after_the_array_and_keeps_the_weather_index():
    park = make_park([array(name="carport")])
    weather = clear_sky_weather(park)
    out = pv.array_output_kw(park.pv[0], park, weather)
    assert out.name == "pv_kw_carport"
    assert out.index.equals(weather.index)


def test_sun_is_placed_at_the_interval_midpoint():
    # At 120° E in UTC+8 on 15 April (equation of time ≈ 0) solar noon is at 12:00, so the
    # hourly intervals 11–12 and 12–13 see the same sun when evaluated at their midpoints.
    park = make_park([array(tilt_deg=0.0)], step_min=60, lon=120.0)
    weather = clear_sky_weather(park, day="2025-04-15")
    out = pv.array_output_kw(park.pv[0], park, weather)
    day = "2025-04-15"
    assert out[f"{day} 11:00"] == pytest.approx(out[f"{day} 12:00"], rel=0.003)
    assert out[f"{day} 08:00"] == pytest.approx(out[f"{day} 15:00"], rel=0.01)


def test_east_and_west_arrays_split_the_day():
    east = output(array(azimuth_deg=90.0, tilt_deg=30.0))
    west = output(array(azimuth_deg=270.0, tilt_deg=30.0))
    assert east.between_time("07:00", "09:00").sum() > west.between_time("07:00", "09:00").sum()
    assert west.between_time("15:00", "17:00").sum() > east.between_time("15:00", "17:00").sum()


def test_missing_weather_column_is_an_input_error():
    park = make_park([array()])
    weather = clear_sky_weather(park).drop(columns="dni")
    with pytest.raises(InputDataError, match="dni"):
        pv.array_output_kw(park.pv[0], park, weather)


def test_no_warning_reaches_the_user():
    pv.cec_database.cache_clear()
    park = make_park([array(), array(name="cec", model="cec", module=CEC_MODULE,
                                     inverter=CEC_INVERTER)])
    weather = clear_sky_weather(park)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for each in park.pv:
            pv.array_output_kw(each, park, weather)


def test_profile_replaces_the_model(monkeypatch):
    calls = []

    def read_profile(datafile, park, index, what, unit, rating):
        calls.append((datafile.path.name, what))
        return pd.Series(7.0, index=index, name="whatever")

    monkeypatch.setitem(sys.modules, "parkgrid.inputs.timeseries",
                        types.SimpleNamespace(read_profile=read_profile))
    park = make_park([array(name="meter", profile={"path": "pv.csv"})])
    weather = clear_sky_weather(park)
    out = pv.array_output_kw(park.pv[0], park, weather)
    assert calls == [("pv.csv", "pv 'meter'")]
    assert out.name == "pv_kw_meter"
    assert (out == 7.0).all()


@settings(max_examples=25, deadline=None)
@given(
    clearness=st.floats(0.0, 1.2), temp_air=st.floats(-20.0, 45.0),
    wind=st.floats(0.0, 25.0), ratio=st.floats(0.8, 1.6),
    bus=st.sampled_from(["ac", "dc"]),
)
def test_output_stays_within_zero_and_the_ac_limit(clearness, temp_air, wind, ratio, bus):
    park = make_park([array(dc_ac_ratio=ratio, bus=bus)])
    weather = clear_sky_weather(park, temp_air=temp_air, wind_speed=wind)
    weather[["ghi", "dni", "dhi"]] *= clearness
    out = pv.array_output_kw(park.pv[0], park, weather)
    assert out.notna().all()
    assert out.min() >= 0.0
    assert out.max() <= 100.0 / ratio + 1e-9


# --- CEC option --------------------------------------------------------------------------

def cec_array(**fields) -> dict:
    return array(**{"model": "cec", "module": CEC_MODULE, "inverter": CEC_INVERTER, **fields})


def test_cec_model_agrees_with_pvwatts_within_a_few_percent():
    cec = output(cec_array(capacity_kwp=500.0))
    pvwatts = output(array(capacity_kwp=500.0))
    assert cec.sum() == pytest.approx(pvwatts.sum(), rel=0.05)
    assert 0 < cec.max() <= 500.0 / 1.1


def test_cec_model_scales_with_capacity():
    small = output(cec_array(capacity_kwp=300.0))
    large = output(cec_array(capacity_kwp=600.0))
    assert large.sum() == pytest.approx(2 * small.sum(), rel=0.01)


def test_cec_names_may_be_given_as_published():
    out = output(cec_array(module="Heliene 96M450"))
    assert out.max() > 0


def test_unknown_cec_module_names_the_field_and_suggests_close_matches():
    with pytest.raises(ConfigError) as error:
        output(cec_array(module="Heliene_96M45"))
    message = str(error.value)
    assert "pv.0.module" in message
    assert "unknown CEC module 'Heliene_96M45'" in message
    assert CEC_MODULE in message


def test_unknown_cec_inverter_names_the_field():
    with pytest.raises(ConfigError, match=r"pv\.0\.inverter: unknown CEC inverter 'SUN9000'"):
        output(cec_array(inverter="SUN9000"))


def test_cec_databases_load_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    pv.cec_database.cache_clear()
    assert CEC_MODULE in pv.cec_database("CECMod").columns
    assert CEC_INVERTER in pv.cec_database("CECInverter").columns
