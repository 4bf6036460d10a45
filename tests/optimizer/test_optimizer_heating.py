"""The heating plant in the optimizer and the controller: known answers, the heat-bus
invariant on generated inputs, the controller following the plan."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer_support import make_inputs, make_park
from parkgrid.model import registry
from parkgrid.model.balance import check_schedule
from parkgrid.model.heating import DIESEL_KWH_PER_T, boiler_yuan_per_kwh_th
from parkgrid.model.schedule import ParkState
from parkgrid.optimizer.planner import plan_day
from parkgrid.simulate.controller import Controller
from parkgrid.simulate.rules import plan_rules

N = 16  # steps of 15 min: 4 h


def hot_level(state: ParkState) -> float:
    """The hot-water tank's level in ``state``, kWh_th."""
    return state.levels(registry.KINDS[registry.HOT_TANK])[registry.HOT_TANK]


def heating(**parts: Any) -> dict[str, Any]:
    """A heating section: a 100 kW_th load (the inputs set it) and the given parts."""
    base: dict[str, Any] = {"load": {"peak_kw_th": 100},
                            "boiler": {"efficiency": 0.8, "diesel_price_yuan_per_t": 0.0}}
    base.update(parts)
    return base


def boiler_at(yuan_per_kwh_th: float, capacity_kw_th: float = 1000) -> dict[str, Any]:
    """A boiler whose heat costs ``yuan_per_kwh_th``."""
    return {"efficiency": 0.8, "capacity_kw_th": capacity_kw_th,
            "diesel_price_yuan_per_t": yuan_per_kwh_th * 0.8 * DIESEL_KWH_PER_T}


def plan(park: Any, n: int = N, tie_break: bool = False, **columns: Any) -> Any:
    inputs = make_inputs(park, n=n, **({"heating_load_kw_th": 100.0, "heat_pump_cop": 4.0}
                                       | columns))
    schedule = plan_day(inputs, tie_break=tie_break)
    assert check_schedule(schedule.frame, park, inputs) == []
    return schedule, inputs


@pytest.mark.parametrize(("price", "expect"), [(0.6, "heat_pump"), (1.0, "boiler")])
def test_the_cheaper_heat_per_kwh_th_is_chosen(price: float, expect: str) -> None:
    # heat pump: price / COP 4 = 0.15 or 0.25 yuan/kWh_th; the boiler's heat costs 0.2
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": 500, "cop": 4.0},
                                     boiler=boiler_at(0.2)))
    schedule, _ = plan(park, price_import_yuan_per_kwh=price)
    f = schedule.frame
    served = f["heat_pump_heat_kw_th"] if expect == "heat_pump" else f["boiler_heat_kw_th"]
    np.testing.assert_allclose(served, 100.0, atol=1e-6)
    heat_pump_yuan = 100.0 / 4.0 * price * park.step_h * N
    boiler_yuan = 100.0 * 0.2 * park.step_h * N
    assert schedule.metadata["cost_yuan"] == pytest.approx(min(heat_pump_yuan, boiler_yuan),
                                                           rel=1e-6)
    assert boiler_yuan_per_kwh_th(park.heating.boiler) == pytest.approx(0.2)


def test_waste_heat_is_used_first_up_to_its_limit() -> None:
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": 500, "cop": 4.0},
                                     waste_heat={"max_kw_th": 30}))
    schedule, _ = plan(park)
    f = schedule.frame
    np.testing.assert_allclose(f["waste_heat_kw_th"], 30.0, atol=1e-6)
    np.testing.assert_allclose(f["heat_pump_heat_kw_th"], 70.0, atol=1e-6)
    np.testing.assert_allclose(f["heat_pump_electric_kw"], 70.0 / 4.0, atol=1e-6)


def test_waste_heat_within_its_share_of_the_chillers_rejected_heat() -> None:
    cooling = {"load": {"peak_kw_th": 100}, "chillers": [
        {"name": "ch", "capacity_kw_th": 200, "cop": 4.0}]}
    park = make_park(cooling=cooling, heating=heating(
        heat_pump={"capacity_kw_th": 500, "cop": 4.0},
        waste_heat={"max_kw_th": 1000, "chiller_fraction": 0.5}))
    # 80 kW_th of cooling at COP 4 rejects 100 kW_th: half of it is recoverable
    schedule, _ = plan(park, cooling_load_kw_th=80.0)
    np.testing.assert_allclose(schedule.frame["waste_heat_kw_th"], 50.0, atol=1e-6)


def test_the_tank_shifts_the_heat_pumps_electricity_to_the_valley() -> None:
    tank = {"capacity_kwh_th": 1000, "max_charge_kw_th": 400, "max_discharge_kw_th": 400,
            "standing_loss_pct_per_h": 0.0, "level_initial": 0.0, "end_level": {"rule": "free"}}
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": 400, "cop": 4.0},
                                     tank=tank))
    half = N // 2
    price = np.r_[np.full(half, 0.2), np.full(half, 1.0)]
    load = np.r_[np.zeros(half), np.full(half, 100.0)]
    schedule, _ = plan(park, price_import_yuan_per_kwh=price, heating_load_kw_th=load)
    f = schedule.frame
    valley, peak = f.iloc[:half], f.iloc[half:]
    assert peak["heat_pump_electric_kw"].max() < 1e-6
    assert valley["heat_pump_heat_kw_th"].sum() == pytest.approx(100.0 * half, rel=1e-6)
    np.testing.assert_allclose(peak["hot_tank_discharge_kw_th"], 100.0, atol=1e-6)
    assert hot_level(schedule.state_out) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(("load", "stored"), [(0.0, False), (20.0, True)])
def test_free_waste_heat_fills_the_tank_only_when_heat_is_needed(load: float,
                                                                 stored: bool) -> None:
    tank = {"capacity_kwh_th": 1000, "max_charge_kw_th": 400, "max_discharge_kw_th": 400,
            "standing_loss_pct_per_h": 0.0, "level_initial": 0.0}  # end rule 'value'
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": 400, "cop": 4.0},
                                     waste_heat={"max_kw_th": 50}, tank=tank))
    schedule, _ = plan(park, tie_break=True, heating_load_kw_th=load)
    level = hot_level(schedule.state_out)
    assert (level > 1.0) == stored
    if not stored:  # out of season: no waste heat stored, the value rule credits nothing
        assert schedule.frame["waste_heat_kw_th"].max() < 1e-6


def test_unmet_heat_is_unserved_and_penalised() -> None:
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": 60, "cop": 4.0}))
    schedule, _ = plan(park)
    np.testing.assert_allclose(schedule.frame["heating_unserved_kw_th"], 40.0, atol=1e-6)
    assert schedule.metadata["penalty_yuan"] == pytest.approx(
        40.0 * park.step_h * N * park.objective.unserved_penalty_yuan_per_kwh, rel=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(load=st.lists(st.floats(0, 600), min_size=8, max_size=8),
       price=st.lists(st.floats(0.05, 2.0), min_size=8, max_size=8),
       cop=st.floats(1.5, 7.0), hp_kw=st.floats(10, 500), waste_kw=st.floats(1, 200),
       boiler_kw=st.floats(0, 300), tank_kwh=st.floats(10, 2000),
       loss=st.floats(0, 2), level=st.floats(0, 1), fuel=st.floats(0, 1.5))
def test_heat_bus_balances_and_the_tank_stays_within_limits(
        load: list[float], price: list[float], cop: float, hp_kw: float, waste_kw: float,
        boiler_kw: float, tank_kwh: float, loss: float, level: float, fuel: float) -> None:
    tank = {"capacity_kwh_th": tank_kwh, "max_charge_kw_th": tank_kwh / 2,
            "max_discharge_kw_th": tank_kwh / 2, "standing_loss_pct_per_h": loss,
            "level_initial": level}
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": hp_kw, "cop": 3.0},
                                     waste_heat={"max_kw_th": waste_kw},
                                     boiler=boiler_at(fuel, boiler_kw), tank=tank))
    steps = np.repeat(np.asarray(load), 4)
    inputs = make_inputs(park, n=32, heating_load_kw_th=steps, heat_pump_cop=cop,
                         price_import_yuan_per_kwh=np.repeat(np.asarray(price), 4))
    schedule = plan_day(inputs)
    f = schedule.frame
    assert check_schedule(f, park, inputs) == []  # heat bus, COP, limits, tank level chain
    supply = (f["heat_pump_heat_kw_th"] + f["waste_heat_kw_th"] + f["boiler_heat_kw_th"]
              + f["hot_tank_discharge_kw_th"] + f["heating_unserved_kw_th"])
    np.testing.assert_allclose(supply, steps + f["hot_tank_charge_kw_th"], atol=1e-5)
    assert f["hot_tank_level_kwh_th"].between(-1e-6, tank_kwh + 1e-6).all()
    # the controller on the same inputs keeps the same invariants
    result = Controller(park).run_day(schedule, inputs, ParkState.initial(park))
    assert check_schedule(result.ledger, park, inputs) == []


def test_the_controller_follows_the_plan_on_the_planned_inputs() -> None:
    tank = {"capacity_kwh_th": 800, "max_charge_kw_th": 300, "max_discharge_kw_th": 300,
            "standing_loss_pct_per_h": 0.5, "level_initial": 0.2}
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": 300, "cop": 4.0},
                                     waste_heat={"max_kw_th": 20}, boiler=boiler_at(0.3, 100),
                                     tank=tank))
    n = 96
    hour = np.arange(n) / 4
    price = np.where((hour < 8) | (hour >= 22), 0.3, 1.1)
    load = 120 + 80 * np.cos((hour - 6) / 24 * 2 * np.pi)
    inputs = make_inputs(park, n=n, heating_load_kw_th=load, heat_pump_cop=4.0,
                         price_import_yuan_per_kwh=price)
    schedule = plan_day(inputs)
    result = Controller(park).run_day(schedule, inputs, ParkState.initial(park))
    for col in ("heat_pump_heat_kw_th", "heat_pump_electric_kw", "waste_heat_kw_th",
                "boiler_heat_kw_th", "hot_tank_charge_kw_th", "hot_tank_discharge_kw_th",
                "hot_tank_level_kwh_th", "heating_unserved_kw_th"):
        np.testing.assert_allclose(result.ledger[col], schedule.frame[col], atol=1e-4,
                                   err_msg=col)
    assert hot_level(result.state) == pytest.approx(
        hot_level(schedule.state_out), abs=1e-4)
    assert check_schedule(result.ledger, park, inputs) == []


def test_the_controller_covers_a_higher_load_than_planned() -> None:
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": 300, "cop": 4.0},
                                     boiler=boiler_at(0.3, 100)))
    planned = make_inputs(park, n=8, heating_load_kw_th=100.0, heat_pump_cop=4.0)
    actual = make_inputs(park, n=8, heating_load_kw_th=350.0, heat_pump_cop=4.0)
    result = Controller(park).run_day(plan_day(planned), actual, ParkState.initial(park))
    ledger = result.ledger
    np.testing.assert_allclose(ledger["heat_pump_heat_kw_th"], 300.0, atol=1e-6)
    np.testing.assert_allclose(ledger["boiler_heat_kw_th"], 50.0, atol=1e-6)
    assert check_schedule(ledger, park, actual) == []


def test_minimising_co2_counts_the_boilers_diesel() -> None:
    # the boiler is cheaper (0.2 vs 1.0 / 4 yuan/kWh_th) but emits 3.16 t/t of diesel:
    # 0.33 kg/kWh_th against the heat pump's 0.5 kg/kWh / COP 4 = 0.125 kg/kWh_th
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": 500, "cop": 4.0},
                                     boiler=boiler_at(0.2)))
    cheap, _ = plan(park, price_import_yuan_per_kwh=1.0)
    np.testing.assert_allclose(cheap.frame["boiler_heat_kw_th"], 100.0, atol=1e-6)
    inputs = make_inputs(park, n=N, heating_load_kw_th=100.0, heat_pump_cop=4.0,
                         price_import_yuan_per_kwh=1.0)
    clean = plan_day(inputs, minimize="co2", penalty_cap_yuan=0.0)  # no load shed
    np.testing.assert_allclose(clean.frame["heat_pump_heat_kw_th"], 100.0, atol=1e-6)
    assert clean.metadata["co2_t"] * 1000 == pytest.approx(100.0 / 4.0 * 0.5 * park.step_h * N)
    diesel_kg = 100.0 * park.step_h * N / (0.8 * DIESEL_KWH_PER_T) * 3160.0
    assert cheap.metadata["co2_t"] * 1000 == pytest.approx(diesel_kg)


def test_the_controller_uses_stored_heat_before_burning_diesel() -> None:
    tank = {"capacity_kwh_th": 1000, "max_charge_kw_th": 400, "max_discharge_kw_th": 400,
            "standing_loss_pct_per_h": 0.0, "level_initial": 0.5}
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": 300, "cop": 4.0},
                                     boiler=boiler_at(0.3, 100), tank=tank))
    planned = make_inputs(park, n=8, heating_load_kw_th=100.0, heat_pump_cop=4.0)
    actual = make_inputs(park, n=8, heating_load_kw_th=350.0, heat_pump_cop=4.0)
    result = Controller(park).run_day(plan_day(planned), actual, ParkState.initial(park))
    ledger = result.ledger
    np.testing.assert_allclose(ledger["heat_pump_heat_kw_th"], 300.0, atol=1e-6)
    assert ledger["boiler_heat_kw_th"].max() < 1e-6
    assert ledger["hot_tank_discharge_kw_th"].min() >= 50.0 - 1e-6
    assert check_schedule(ledger, park, actual) == []


def test_the_rules_charge_the_hot_water_tank_in_the_valley() -> None:
    tank = {"capacity_kwh_th": 1000, "max_charge_kw_th": 400, "max_discharge_kw_th": 400,
            "standing_loss_pct_per_h": 0.0, "level_initial": 0.0}
    park = make_park(heating=heating(heat_pump={"capacity_kw_th": 300, "cop": 4.0},
                                     tank=tank))
    tou = np.array(["valley"] * 8 + ["peak"] * 8, dtype=object)
    inputs = make_inputs(park, n=16, heating_load_kw_th=100.0, heat_pump_cop=4.0,
                         tou_period=tou)
    schedule = plan_rules(inputs, ParkState.initial(park))
    f = schedule.frame
    np.testing.assert_allclose(f["hot_tank_charge_kw_th"].iloc[:8], 200.0, atol=1e-6)
    np.testing.assert_allclose(f["hot_tank_discharge_kw_th"].iloc[8:], 100.0, atol=1e-6)
    assert f["heat_pump_electric_kw"].iloc[8:].max() < 1e-6
    assert check_schedule(f, park, inputs) == []


def test_the_heat_pump_s_draw_is_imported_under_the_direction_big_m() -> None:
    # 100 kW of load and 400 kW_th of heat through a COP of 4: 200 kW imported all along
    # (at 0.2 yuan/kWh the pump's heat costs 0.05, the boiler's 1.0); the import side of the
    # direction rows must leave room for the pump's 100 kW beside the load
    park = make_park(grid={"import_limit_kw": 1000, "export_limit_kw": 500},
                     heating=heating(heat_pump={"capacity_kw_th": 500, "cop": 4.0},
                                     boiler=boiler_at(1.0)))
    schedule, _ = plan(park, price_import_yuan_per_kwh=0.2, price_export_yuan_per_kwh=0.1,
                       load_kw_plant=100.0, heating_load_kw_th=400.0)
    f = schedule.frame
    np.testing.assert_allclose(f["heat_pump_heat_kw_th"], 400.0, atol=1e-6)
    np.testing.assert_allclose(f["grid_import_kw"], 200.0, atol=1e-6)
