"""Heating physics, config and inputs: the COP, the diesel figures, the degree-hour load, the
heating KPIs and the config errors a user sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from optimizer_support import make_inputs, make_park
from parkgrid.cli import app
from parkgrid.commands.run import summary_lines
from parkgrid.config import HeatPump, parse_park
from parkgrid.errors import ConfigError, InputDataError
from parkgrid.inputs import build_inputs, loads, tariff
from parkgrid.model import heating
from parkgrid.model.heating import REPORT
from parkgrid.model.schedule import ParkState
from parkgrid.optimizer.planner import plan_day
from parkgrid.reporting.html import plant_html
from parkgrid.simulate import kpi
from parkgrid.simulate.controller import Controller
from parkgrid.simulate.rules import plan_before

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
BOILER = {"efficiency": 0.85, "diesel_price_yuan_per_t": 7500}


def test_diesel_energy_and_co2_follow_gb_t_2589_and_ipcc() -> None:
    gj_per_t = heating.DIESEL_KWH_PER_T * 3.6e-3
    assert gj_per_t == pytest.approx(42.70, abs=0.01)
    boiler = parse_park({**_base(), "heating": {"load": {"peak_kw_th": 100},
                                                "heat_pump": {"capacity_kw_th": 100,
                                                              "cop": 4},
                                                "boiler": BOILER}}).heating.boiler
    # 50 t of diesel at 85 % give 504 MWh_th (Haiyan's heat demand, models/haiyan.yaml)
    assert heating.diesel_t(boiler, 504_140.0) == pytest.approx(50.0, rel=1e-4)
    assert heating.boiler_yuan_per_kwh_th(boiler) == pytest.approx(
        7500 / (0.85 * heating.DIESEL_KWH_PER_T))


def test_cop_is_a_fraction_of_carnot_between_ground_and_supply() -> None:
    hp = HeatPump(capacity_kw_th=100, carnot_fraction=0.5, supply_temp_c=45)
    assert heating.cop(hp, 17.0) == pytest.approx(0.5 * 318.15 / 28.0)
    assert heating.cop(HeatPump(capacity_kw_th=100, cop=3.5), 17.0) == 3.5
    with pytest.raises(ValueError, match=r"COP 0\.4"):
        heating.cop(HeatPump(capacity_kw_th=100, carnot_fraction=0.05, supply_temp_c=45),
                    5.0)
    weather = pd.DataFrame({"temp_air": [10.0, 20.0]})
    assert heating.ground_temp_c(hp, weather) == 15.0


def _base() -> dict[str, Any]:
    return {"name": "p", "site": {"latitude_deg": 30.5, "longitude_deg": 120.9},
            "weather": {"source": "synthetic",
                        "climate": str(ROOT / "profiles" / "climate_hangzhou.yaml")},
            "loads": [{"name": "plant", "synthetic": {"shape": "industrial",
                                                      "annual_kwh": 1e6}}],
            "grid": {"import_limit_kw": 5000}, "tariff": {"calendar": "zhejiang_2024"},
            "emissions": {"grid_factor_t_per_mwh": 0.5}}


def test_the_degree_hour_load_meets_the_annual_demand_and_stops_above_balance() -> None:
    park = parse_park({**_base(), "heating": {
        "load": {"annual_kwh_th": 504_000, "balance_temp_c": 15, "design_temp_c": 0},
        "heat_pump": {"capacity_kw_th": 400, "carnot_fraction": 0.45}, "boiler": BOILER}})
    inputs = build_inputs(park)
    load = inputs.series["heating_load_kw_th"]
    assert load.sum() * park.step_h == pytest.approx(504_000, rel=1e-9)
    warm = inputs.weather["temp_air"] >= 15
    assert warm.any() and (load[warm] == 0).all()
    assert load[inputs.index.month == 1].sum() > 10 * load[inputs.index.month == 5].sum()
    cop = inputs.series["heat_pump_cop"]
    assert cop.nunique() == 1 and cop.iloc[0] == pytest.approx(
        0.45 * 318.15 / (45 - inputs.weather["temp_air"].mean()))


def test_the_peak_model_reaches_its_peak_at_the_design_temperature() -> None:
    park = parse_park({**_base(), "heating": {
        "load": {"peak_kw_th": 300, "balance_temp_c": 15, "design_temp_c": 5,
                 "schedule": "continuous"},
        "waste_heat": {"max_kw_th": 50}, "boiler": BOILER}})
    index = pd.date_range("2025-01-06", periods=4, freq="15min", tz="Asia/Shanghai")
    weather = pd.DataFrame({"temp_air": [20.0, 15.0, 10.0, 0.0]}, index=index)
    load = loads.heating_load_kw_th(park.heating, park, weather, tariff.holiday_mask(index))
    np.testing.assert_allclose(load, [0.0, 0.0, 150.0, 300.0])


def test_heating_kpis_count_the_diesel_avoided_against_the_boiler_alone() -> None:
    park = make_park(heating={"load": {"peak_kw_th": 100},
                              "heat_pump": {"capacity_kw_th": 100, "cop": 4.0},
                              "boiler": BOILER})
    inputs = make_inputs(park, n=96, heating_load_kw_th=80.0, heat_pump_cop=4.0)
    state = ParkState.initial(park)
    served = Controller(park).run_day(plan_day(inputs), inputs, state).ledger
    before = Controller(park).run_day(plan_before(inputs, state), inputs, state).ledger
    now, then = kpi.kpis(served, park), kpi.kpis(before, park)
    heat_kwh_th = 80.0 * 24
    diesel = heat_kwh_th / (0.85 * heating.DIESEL_KWH_PER_T)
    assert then["boiler_diesel_t"] == pytest.approx(diesel)
    assert then["boiler_fuel_yuan"] == pytest.approx(diesel * 7500)
    grid_co2_t = then["imported_kwh"] * 0.5 / 1000
    assert then["co2_t"] == pytest.approx(grid_co2_t + diesel * 3.16)
    assert then["cost_yuan"] == pytest.approx(then["energy_cost_yuan"] + diesel * 7500)
    assert now["diesel_avoided_t"] == pytest.approx(diesel)
    assert now["boiler_diesel_t"] == pytest.approx(0.0, abs=1e-12)
    assert now["heat_pump_kwh"] == pytest.approx(heat_kwh_th / 4.0)
    assert now["consumption_kwh"] - then["consumption_kwh"] == pytest.approx(heat_kwh_th / 4)
    assert now["heating_co2_avoided_t"] == pytest.approx(diesel * 3.16 - heat_kwh_th / 4
                                                         * 0.5 / 1000)
    assert then["energy_use_tce"] - now["energy_use_tce"] == pytest.approx(
        diesel * 1.4571 - heat_kwh_th / 4 * kpi.tce_per_kwh(park.emissions))
    # the report's heating section and the run summary show them
    doc = {"strategy": now, "baselines": {"grid_only": then}, "comparison": {},
           "solver": {}, "run": {"planner": "milp", "forecast": "perfect"}}
    page = plant_html(doc, REPORT)
    assert 'data-kpi="strategy.diesel_avoided_t"' in page
    assert 'data-kpi="baselines.grid_only.boiler_fuel_yuan"' in page
    now["zero_carbon"] = {}
    assert f"diesel avoided {diesel:,.2f} t" in summary_lines(doc, Path("out"))
    assert plant_html({"strategy": {}, "baselines": {}}, REPORT) == ""


@pytest.mark.parametrize(("heating_doc", "message"), [
    ({"load": {"peak_kw_th": 100}, "heat_pump": {"capacity_kw_th": 100, "cop": 4,
                                                  "carnot_fraction": 0.5}, "boiler": BOILER},
     "heating.heat_pump: got {…}; expected give exactly one of 'cop' and 'carnot_fraction'"),
    ({"load": {"peak_kw_th": 100}, "boiler": BOILER}, "a heat source is needed"),
    ({"load": {"peak_kw_th": 100, "annual_kwh_th": 5e5}, "boiler": {**BOILER,
                                                                  "capacity_kw_th": 100}},
     "heating.load: got {…}; expected give exactly one of 'peak_kw_th' and 'annual_kwh_th'"),
    ({"load": {"peak_kw_th": 100}, "waste_heat": {"max_kw_th": 10, "chiller_fraction": 0.5},
      "boiler": BOILER}, "chiller_fraction needs a cooling plant"),
    ({"load": {"peak_kw_th": 100}, "heat_pump": {"capacity_kw_th": 100, "cop": 4},
      "boiler": {"efficiency": 0.85}}, "heating.boiler.diesel_price_yuan_per_t: required"),
    ({"load": {"peak_kw_th": 100}, "heat_pump": {"capacity_kw_th": -5, "cop": 4},
      "boiler": BOILER}, "heating.heat_pump.capacity_kw_th: got -5"),
])
def test_bad_heating_config_exits_2_naming_the_field(tmp_path: Path, heating_doc: dict,
                                                     message: str) -> None:
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump({**_base(), "heating": heating_doc}))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", " ")
    assert "Traceback" not in result.output


def test_a_heat_pump_below_cop_1_is_refused_when_the_inputs_are_built(tmp_path: Path) -> None:
    doc = {**_base(), "heating": {"load": {"peak_kw_th": 100}, "boiler": BOILER,
                                  "heat_pump": {"capacity_kw_th": 100, "carnot_fraction": 0.05,
                                                "supply_temp_c": 55}}}
    with pytest.raises(ConfigError, match=r"heating\.heat_pump: COP 0\.\d+ below 1"):
        build_inputs(parse_park(doc))
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = runner.invoke(app, ["profiles", str(path), "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 2 and "heating.heat_pump" in result.output


def test_a_measured_heating_load_is_read_like_any_profile(tmp_path: Path) -> None:
    index = pd.date_range("2025-01-01", "2026-01-01", freq="15min", inclusive="left")
    kw_th = 50.0 + 10.0 * (index.hour.to_numpy() % 7)
    pd.DataFrame({"timestamp": index.strftime("%Y-%m-%d %H:%M"), "heat": kw_th}).to_csv(
        tmp_path / "heat.csv", index=False)
    doc = {**_base(), "heating": {"profile": {"path": str(tmp_path / "heat.csv")},
                                  "waste_heat": {"max_kw_th": 200}, "boiler": BOILER}}
    inputs = build_inputs(parse_park(doc))
    np.testing.assert_allclose(inputs.series["heating_load_kw_th"], kw_th)
    assert "heat_pump_cop" not in inputs.series  # no heat pump
    too_big = {**doc, "heating": {**doc["heating"], "waste_heat": {"max_kw_th": 1}}}
    with pytest.raises(InputDataError, match="heating load"):
        build_inputs(parse_park(too_big))  # far above what the plant can supply
