"""Wind output: power-curve points by hand, hub-height laws, cut-in/cut-out, density, OEDB."""

from __future__ import annotations

import logging
import math
import socket
import sys
import types
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.config import parse_park
from parkgrid.errors import ConfigError, InputDataError
from parkgrid.inputs import wind

TABLE = {"wind_speed_m_s": [0, 3, 5, 7, 9, 11, 25], "power_kw": [0, 0, 400, 1200, 2500, 3000, 3000]}
SPEEDS = {"cut_in_m_s": 3.0, "rated_m_s": 12.0, "cut_out_m_s": 25.0}
HUB_M = 100.0


def make_park(farms: list[dict], reference_height_m: float = HUB_M, roughness_m: float = 0.1):
    return parse_park({
        "name": "test", "site": {"latitude_deg": 30.5, "longitude_deg": 120.9},
        "weather": {"source": "synthetic", "climate": "climate.yaml",
                    "wind_reference_height_m": reference_height_m,
                    "roughness_length_m": roughness_m},
        "wind": farms,
        "loads": [{"name": "base", "synthetic": {"shape": "industrial", "annual_kwh": 1e6}}],
        "grid": {"import_limit_kw": 1000}, "tariff": {"calendar": "zhejiang_2024"},
        "emissions": {"grid_factor_t_per_mwh": 0.5},
    })


def farm(curve: dict | None = None, **fields) -> dict:
    turbine = {"rated_kw": 3000.0, "rotor_diameter_m": 100.0, "power_curve": curve or TABLE}
    return {"name": "coast", "turbine": turbine, "count": 1, "hub_height_m": HUB_M,
            "availability": 1.0, "wake_losses": 0.0, **fields}


def standard_air_at(hub_m: float) -> tuple[float, float]:
    """(temp_air °C at 2 m, pressure Pa at 0 m) that give ρ = 1.225 kg/m³ at the hub.

    windpowerlib: T_hub = T_2m − 0.0065·(h − 2); ρ = (p/100 − h/8)·1.225·288.15·100 /
    (101330·T_hub), so T_hub = 288.15 K and p/100 − h/8 = 1013.3 hPa.
    """
    return 15.0 + 0.0065 * (hub_m - 2.0), 101330.0 + 12.5 * hub_m


def weather(wind_m_s, temp_air: float | None = None, pressure: float | None = None):
    std_temp, std_pressure = standard_air_at(HUB_M)
    speeds = np.atleast_1d(np.asarray(wind_m_s, dtype=float))
    index = pd.date_range("2025-07-01", periods=len(speeds), freq="15min", tz="Asia/Shanghai")
    return pd.DataFrame({
        "wind_speed": speeds,
        "temp_air": std_temp if temp_air is None else temp_air,
        "pressure": std_pressure if pressure is None else pressure,
    }, index=index)


def output(farm_fields: dict, wx: pd.DataFrame, **park_kw) -> pd.Series:
    park = make_park([farm_fields], **park_kw)
    return wind.farm_output_kw(park.wind[0], park, wx)


def test_power_curve_point_times_count_availability_and_wake():
    fields = farm(count=3, availability=0.95, wake_losses=0.08)
    out = output(fields, weather([5.0, 7.0, 9.0, 11.0]))
    expected = np.array([400.0, 1200.0, 2500.0, 3000.0]) * 3 * 0.95 * 0.92
    assert np.allclose(out.to_numpy(), expected, rtol=1e-9)


def test_logarithmic_law_carries_reference_wind_to_hub_height():
    # v_hub = v_10 · ln(100/0.1) / ln(10/0.1) = 1.5 · v_10 → 4 m/s becomes 6 m/s,
    # halfway between the curve's 5 m/s (400 kW) and 7 m/s (1200 kW) points.
    out = output(farm(), weather([4.0]), reference_height_m=10.0, roughness_m=0.1)
    assert out.iloc[0] == pytest.approx(800.0, rel=1e-9)


def test_hellman_law_carries_reference_wind_to_hub_height():
    exponent = 1 / 7
    v_ref = 7.0 / (HUB_M / 10.0) ** exponent  # lands exactly on the 7 m/s point at the hub
    fields = farm(wind_profile="hellman", hellman_exponent=exponent)
    out = output(fields, weather([v_ref]), reference_height_m=10.0)
    assert out.iloc[0] == pytest.approx(1200.0, rel=1e-9)


def test_curve_from_speeds_is_cubic_between_cut_in_and_rated():
    out = output(farm(SPEEDS), weather([6.0, 12.0, 18.0, 24.9]))
    cubic_kw = 3000.0 * (6.0**3 - 3.0**3) / (12.0**3 - 3.0**3)  # 333.3 kW
    assert out.iloc[0] == pytest.approx(cubic_kw, rel=2e-3)
    assert np.allclose(out.iloc[1:], 3000.0, rtol=1e-9)


def test_output_is_zero_above_cut_out():
    out = output(farm(SPEEDS), weather([25.02, 25.5, 30.0, 45.0]))
    assert (out == 0.0).all()


def test_output_is_zero_above_cut_out_in_thin_air():
    # The density correction stretches the curve's speeds by (1.225/ρ)^(2/3); the turbine
    # still cuts out on the actual wind speed.
    out = output(farm(SPEEDS), weather([25.5, 26.5], temp_air=40.0, pressure=92000.0))
    assert (out == 0.0).all()


def test_table_curve_is_zero_beyond_its_last_point():
    out = output(farm(), weather([25.5, 40.0]))
    assert (out == 0.0).all()


def test_output_is_zero_below_cut_in():
    out = output(farm(SPEEDS), weather([0.0, 1.0, 2.9]))
    assert (out == 0.0).all()


def test_density_correction_lowers_output_in_hot_thin_air():
    wx_standard = weather([6.0, 8.0, 10.0])
    wx_hot = weather([6.0, 8.0, 10.0], temp_air=40.0, pressure=95000.0)
    standard = output(farm(SPEEDS), wx_standard)
    hot = output(farm(SPEEDS), wx_hot)
    assert (hot < standard * 0.97).all()
    assert (hot > standard * 0.7).all()


def test_density_correction_raises_output_in_cold_dense_air():
    standard = output(farm(SPEEDS), weather([8.0]))
    cold = output(farm(SPEEDS), weather([8.0], temp_air=-15.0, pressure=103500.0))
    assert cold.iloc[0] > standard.iloc[0] * 1.05


def test_oedb_turbine_matches_its_published_curve_point():
    curves = pd.read_csv(wind.OEDB_DIR / "power_curves.csv", index_col=0)
    published_kw = curves.loc["E-126/4200", "10.0"] / 1000.0
    fields = farm(turbine={"oedb_type": "E-126/4200"}, hub_height_m=HUB_M, count=2)
    out = output(fields, weather([10.0, 15.0]))
    assert out.iloc[0] == pytest.approx(2 * published_kw, rel=1e-9)
    assert out.iloc[1] == pytest.approx(2 * 4200.0, rel=1e-9)


def test_farm_capacity_is_count_times_nominal_power():
    park = make_park([farm(turbine={"oedb_type": "E-126/4200"}, count=2),
                      farm(name="custom", count=3)])
    assert wind.farm_capacity_kw(park.wind[0], park) == pytest.approx(8400.0)
    assert wind.farm_capacity_kw(park.wind[1], park) == pytest.approx(9000.0)


def test_unknown_oedb_turbine_names_the_field_and_close_matches():
    fields = farm(turbine={"oedb_type": "E-126/420"})
    with pytest.raises(ConfigError) as error:
        output(fields, weather([8.0]))
    message = str(error.value)
    assert "wind.0.turbine.oedb_type: unknown OEDB turbine 'E-126/420'" in message
    assert "E-126/4200" in message


def test_hub_below_half_the_rotor_is_a_config_error():
    with pytest.raises(ConfigError, match=r"wind\.0\.hub_height_m: got 40"):
        output(farm(hub_height_m=40.0), weather([8.0]))


def test_missing_weather_column_is_an_input_error():
    with pytest.raises(InputDataError, match="pressure"):
        output(farm(), weather([8.0]).drop(columns="pressure"))


def test_missing_weather_value_is_an_input_error():
    with pytest.raises(InputDataError, match="wind_speed"):
        output(farm(), weather([8.0, math.nan]))


def test_series_is_named_after_the_farm_and_keeps_the_weather_index():
    wx = weather([5.0, 6.0])
    out = output(farm(name="bay"), wx)
    assert out.name == "wind_kw_bay"
    assert out.index.equals(wx.index)


def test_oedb_library_loads_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    wind.oedb_turbine_types.cache_clear()
    wind._cached_turbine.cache_clear()
    assert "E-126/4200" in wind.oedb_turbine_types()
    out = output(farm(turbine={"oedb_type": "E-126/4200"}), weather([12.0]))
    assert out.iloc[0] > 0


def test_windpowerlib_stays_quiet(monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    wind._cached_turbine.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        output(farm(turbine={"oedb_type": "E-126/4200"}), weather([8.0]),
               reference_height_m=10.0)
    assert root.handlers == []  # no logging.basicConfig side effect
    assert root.filters == []


def test_profile_replaces_the_model(monkeypatch):
    calls = []

    def read_profile(datafile, park, index, what, unit, rating):
        calls.append((datafile.path.name, what))
        return pd.Series(5.0, index=index)

    monkeypatch.setitem(sys.modules, "parkgrid.inputs.timeseries",
                        types.SimpleNamespace(read_profile=read_profile))
    wx = weather([8.0, 9.0])
    out = output(farm(name="metered", profile={"path": "wind.csv"}), wx)
    assert calls == [("wind.csv", "wind 'metered'")]
    assert out.name == "wind_kw_metered"
    assert (out == 5.0).all()


@settings(max_examples=60, deadline=None)
@given(
    speeds=st.lists(st.floats(0.0, 60.0), min_size=1, max_size=50),
    temp_air=st.floats(-30.0, 45.0), pressure=st.floats(85000.0, 106000.0),
    profile=st.sampled_from(["logarithmic", "hellman"]),
    curve=st.sampled_from([TABLE, SPEEDS]),
)
def test_output_stays_within_zero_and_rated(speeds, temp_air, pressure, profile, curve):
    fields = farm(curve, count=2, availability=0.97, wake_losses=0.05, wind_profile=profile)
    out = output(fields, weather(speeds, temp_air, pressure), reference_height_m=10.0)
    assert out.notna().all()
    assert out.min() >= 0.0
    assert out.max() <= 2 * 3000.0 * 0.97 * 0.95 + 1e-9
