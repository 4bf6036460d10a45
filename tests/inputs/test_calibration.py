"""Calibration: a wind farm, a PV array or the weather's wind scaled to meet a target."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from parkgrid.cli import app
from parkgrid.config import PVArray, WindFarm
from parkgrid.errors import ConfigError
from parkgrid.inputs import build_inputs, calibration, pv, wind, year_index
from parkgrid.inputs.weather import load_weather_calibrated

RATED_KW = 3000.0
CURVE = {"cut_in_m_s": 3.0, "rated_m_s": 12.0, "cut_out_m_s": 25.0}
STEP_H = 0.25
ROOT = Path(__file__).resolve().parents[2]


def farm(**fields) -> dict:
    return {"name": "coast", "hub_height_m": 100.0, "availability": 1.0, "wake_losses": 0.0,
            "turbine": {"rated_kw": RATED_KW, "rotor_diameter_m": 100.0, "power_curve": CURVE},
            **fields}


def windy_weather(days: int = 28, mean_m_s: float = 5.0, seed: int = 3) -> pd.DataFrame:
    """Weibull (k = 2) wind at hub height in standard air, 15-min steps."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-03-01", periods=days * 96, freq="15min", tz="Asia/Shanghai")
    speeds = rng.weibull(2.0, len(index)) * mean_m_s / 0.8862
    return pd.DataFrame({"wind_speed": speeds, "temp_air": 15.65, "pressure": 102580.0},
                        index=index)


def annual(period_kwh: float, weather: pd.DataFrame) -> float:
    """The annual target that means ``period_kwh`` over the weather's period."""
    return period_kwh * calibration.HOURS_PER_YEAR / (len(weather) * STEP_H)


def wind_park(make_park, **fields):
    return make_park(weather={"wind_reference_height_m": 100.0, "roughness_length_m": 0.1},
                     wind=[farm(**fields)])


@pytest.mark.parametrize("capacity_factor", [0.05, 0.2, 0.35, 0.5, 0.6])
def test_wind_farm_meets_its_target_within_half_a_percent(make_park, capacity_factor):
    wx = windy_weather()
    period_kwh = capacity_factor * RATED_KW * len(wx) * STEP_H
    park = wind_park(make_park, annual_energy_kwh=annual(period_kwh, wx))
    out, scale = wind.farm_output(park.wind[0], park, wx)
    assert out.sum() * STEP_H == pytest.approx(period_kwh, rel=5e-3)
    assert out.sum() * STEP_H == pytest.approx(period_kwh, rel=calibration.TOLERANCE)
    assert scale is not None and scale > 0
    # the resource was scaled, not the output: the rated power and cut-out still act
    assert out.max() <= RATED_KW * (1 + 1e-9)
    assert (out[wx["wind_speed"] * scale > CURVE["cut_out_m_s"]] == 0.0).all()


def test_wind_scale_is_the_wind_speed_factor_the_plain_model_sees(make_park):
    wx = windy_weather()
    park = wind_park(make_park, annual_energy_kwh=annual(0.3 * RATED_KW * len(wx) * STEP_H, wx))
    out, scale = wind.farm_output(park.wind[0], park, wx)
    plain = wind_park(make_park)
    again = wind.farm_output_kw(plain.wind[0], plain, wx.assign(wind_speed=wx.wind_speed * scale))
    assert np.allclose(out.to_numpy(), again.to_numpy(), rtol=1e-9, atol=1e-9)


def test_a_farm_without_a_target_reports_no_scale(make_park):
    park = wind_park(make_park)
    assert wind.farm_output(park.wind[0], park, windy_weather())[1] is None


def test_a_target_above_rated_output_times_hours_is_a_clear_error(make_park):
    wx = windy_weather()
    park = wind_park(make_park, annual_energy_kwh=RATED_KW * 8760 * 1.01)
    with pytest.raises(ConfigError, match=r"wind\.0\.annual_energy_kwh: got .* at most .*"
                                          r"rated 1 × 3,000 kW"):
        wind.farm_output(park.wind[0], park, wx)


def test_a_target_below_what_the_smallest_scale_gives_is_a_clear_error(make_park):
    wx = windy_weather(mean_m_s=40.0)  # every scale from 0.05 up already gives more
    park = wind_park(make_park, annual_energy_kwh=1.0)
    with pytest.raises(ConfigError, match=r"wind\.0\.annual_energy_kwh: .* expected more"):
        wind.farm_output(park.wind[0], park, wx)


def pv_park(make_park, **fields):
    return make_park(pv=[{"name": "roof", "capacity_kwp": 100.0, **fields}])


@pytest.fixture(scope="module")
def june_weather(make_park) -> pd.DataFrame:
    park = pv_park(make_park)
    index = year_index(park)[year_index(park).month == 6]
    return load_weather_calibrated(park, index)[0]


@pytest.mark.parametrize("specific_yield", [60.0, 90.0, 120.0, 140.0])
def test_pv_array_meets_its_target_within_half_a_percent(make_park, june_weather,
                                                         specific_yield):
    period_kwh = specific_yield * 100.0  # kWh/kWp over June
    park = pv_park(make_park, annual_energy_kwh=annual(period_kwh, june_weather))
    out, scale = pv.array_output(park.pv[0], park, june_weather)
    assert out.sum() * STEP_H == pytest.approx(period_kwh, rel=5e-3)
    assert out.max() <= 100.0 / 1.1 * (1 + 1e-9)  # clipping still acts
    plain = pv_park(make_park)
    scaled = june_weather.assign(**{c: june_weather[c] * scale for c in ("ghi", "dni", "dhi")})
    again = pv.array_output_kw(plain.pv[0], plain, scaled)
    assert np.allclose(out.to_numpy(), again.to_numpy(), rtol=1e-9, atol=1e-9)


def test_pv_target_above_the_ac_limit_times_daylight_is_a_clear_error(make_park, june_weather):
    park = pv_park(make_park, annual_energy_kwh=100.0 * 8760)
    with pytest.raises(ConfigError, match=r"pv\.0\.annual_energy_kwh: .* at most .*AC limit"):
        pv.array_output(park.pv[0], park, june_weather)


@pytest.mark.parametrize(("target_m_s", "height_m"), [(3.0, None), (6.0, 105.0), (7.5, 140.0)])
def test_weather_wind_meets_a_mean_speed_at_a_height(make_park, target_m_s, height_m):
    import windpowerlib.wind_speed

    park = make_park(weather={"target_mean_wind_speed_m_s": target_m_s,
                              "target_height_m": height_m, "roughness_length_m": 0.05})
    index = year_index(park)
    wx, scale = load_weather_calibrated(park, index)
    at = windpowerlib.wind_speed.logarithmic_profile(wx["wind_speed"].to_numpy(), 10.0,
                                                     height_m or 10.0, 0.05)
    assert np.mean(at) == pytest.approx(target_m_s, rel=1e-9)
    plain = load_weather_calibrated(make_park(weather={"roughness_length_m": 0.05}), index)
    assert plain[1] is None
    assert np.allclose(wx["wind_speed"], plain[0]["wind_speed"] * scale)


def test_build_inputs_reports_the_scales_it_found(make_park):
    park = make_park(weather={"target_mean_wind_speed_m_s": 3.0},
                     wind=[farm(annual_energy_kwh=6.0e6)],
                     pv=[{"name": "roof", "capacity_kwp": 100.0, "annual_energy_kwh": 1.1e5}])
    inputs = build_inputs(park)
    assert set(inputs.calibration) == {"weather.wind_speed_scale", "wind.coast.wind_speed_scale",
                                       "pv.roof.irradiance_scale"}
    assert inputs.series.attrs["calibration"] == inputs.calibration
    assert inputs.day("2025-07-01").calibration == inputs.calibration  # a window keeps them
    assert inputs.series["wind_kw_coast"].sum() * STEP_H == pytest.approx(6.0e6, rel=5e-3)
    assert inputs.series["pv_kw_roof"].sum() * STEP_H == pytest.approx(1.1e5, rel=5e-3)


@pytest.mark.parametrize(("model", "fields", "message"), [
    (WindFarm, farm(annual_energy_kwh=1e6, profile={"path": "w.csv"}), "profile"),
    (PVArray, {"name": "roof", "capacity_kwp": 10, "annual_energy_kwh": 1e4,
               "profile": {"path": "p.csv"}}, "profile"),
])
def test_a_target_and_a_measured_profile_are_exclusive(model, fields, message):
    with pytest.raises(ValidationError, match=message):
        model.model_validate(fields)


def test_a_wind_scale_and_a_mean_speed_target_are_exclusive(make_park):
    with pytest.raises(ConfigError, match="not both"):
        make_park(weather={"wind_speed_scale": 2.0, "target_mean_wind_speed_m_s": 5.0})
    with pytest.raises(ConfigError, match=r"target_height_m.*needs"):
        make_park(weather={"target_height_m": 100.0})


# --- the reference parks as published (issue #12) -------------------------------------------

def profiles_totals(tmp_path, name: str) -> tuple[dict, str]:
    """`parkgrid profiles models/NAME.yaml`: its summary.json and what it printed."""
    result = CliRunner().invoke(app, ["profiles", str(ROOT / "models" / f"{name}.yaml"),
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "summary.json").read_text()), result.output


def test_haiyan_renewables_meet_the_published_23_32_gwh(tmp_path):
    totals, printed = profiles_totals(tmp_path, "haiyan")
    assert totals["pv_kwh"] + totals["wind_kwh"] == pytest.approx(23.32e6, rel=0.01)
    scale = totals["calibration.wind.w465.wind_speed_scale"]
    assert 1.0 < scale < 2.0  # the coast is windier than the urban station, less than ×2.0
    assert "wind w465 calibrated: wind speed scale" in " ".join(printed.split())
    stored = pd.read_parquet(tmp_path / "inputs.parquet").attrs["calibration"]
    assert stored == {"wind.w465.wind_speed_scale": scale}


def test_validate_shows_the_scale_and_its_target():
    result = CliRunner().invoke(app, ["validate", str(ROOT / "models" / "haiyan.yaml")])
    assert result.exit_code == 0, result.output
    assert "wind w465 calibrated" in result.output and "wind speed ×1.76" in result.output
    assert "20,030 MWh/yr target" in result.output


def test_dameisha_consumption_meets_the_published_design_intensity(tmp_path):
    totals, _ = profiles_totals(tmp_path, "dameisha")
    published_kwh = 66.0 * 15_789.0  # kWh/m2.yr × m2, air conditioning included
    assert totals["consumption_kwh_no_assets"] == pytest.approx(published_kwh, rel=0.03)


def test_a_scale_found_once_is_reused_only_for_the_same_farm_and_weather(make_park,
                                                                        monkeypatch):
    wx = windy_weather(days=7)
    target = annual(0.3 * RATED_KW * len(wx) * STEP_H, wx)
    park = wind_park(make_park, annual_energy_kwh=target)
    first = wind.farm_output(park.wind[0], park, wx)
    solves = []
    real_solve = calibration._solve
    monkeypatch.setattr(calibration, "_solve", lambda *a: solves.append(1) or real_solve(*a))
    again = wind.farm_output(park.wind[0], park, wx)
    assert solves == [] and again[1] == first[1]
    assert np.array_equal(again[0].to_numpy(), first[0].to_numpy())
    calmer = wind.farm_output(park.wind[0], park, wx.assign(wind_speed=wx.wind_speed * 0.9))
    other = wind_park(make_park, annual_energy_kwh=target * 0.8)
    smaller = wind.farm_output(other.wind[0], other, wx)
    assert len(solves) == 2
    assert calmer[1] == pytest.approx(first[1] / 0.9, rel=1e-3) and smaller[1] < first[1]
