"""Known-answer cases of the day-ahead optimizer, each worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer_support import IDEAL_BATTERY, hours, make_inputs, make_park
from parkgrid.errors import SolverError
from parkgrid.model.balance import check_schedule
from parkgrid.model.schedule import SCHEDULE_COLUMNS, ParkState
from parkgrid.optimizer import DayAheadOptimizer, PlanOptions, plan_day
from parkgrid.optimizer.flexible import FlexibleBlock, plugged_kw
from parkgrid.optimizer.grid import flow_bounds_kw
from parkgrid.optimizer.highs import (
    CompiledModel,
    _add_units,
    _CountGroup,
    cycle_count,
    spread_count,
)
from parkgrid.optimizer.horizon import Horizon


def plan_checked(inputs, state=None, **options):
    schedule = plan_day(inputs, state, **options)
    assert check_schedule(schedule.frame, inputs.park, inputs) == []
    return schedule


def test_battery_arbitrage_buys_valley_and_sells_peak():
    # 200 kW load; 0.3 yuan/kWh before 08:00 and after 20:00, 1.0 between. Without the
    # battery: 2400 kWh × 1.0 + 2400 kWh × 0.3 = 3120 yuan. A lossless 400 kWh battery moves
    # 400 kWh from valley to peak: 3120 − 400 × 0.7 = 2840 yuan.
    park = make_park(batteries=[IDEAL_BATTERY])
    h = hours(park)
    price = np.where((h >= 8) & (h < 20), 1.0, 0.3)
    s = plan_checked(make_inputs(park, load_kw_plant=200.0, price_import_yuan_per_kwh=price))
    assert s.metadata["energy_cost_yuan"] == pytest.approx(2840.0, abs=1e-3)
    f = s.frame
    assert f["battery_charge_kw"][(h >= 8) & (h < 20)].max() == pytest.approx(0.0, abs=1e-6)
    assert f["battery_discharge_kw"].sum() * 0.25 == pytest.approx(400.0, abs=1e-3)
    assert f["battery_soc_kwh"].max() == pytest.approx(400.0, abs=1e-3)


def test_battery_idles_when_the_spread_does_not_pay_the_losses():
    # round trip 0.9 × 0.9 = 0.81: buying at 0.5 to sell at 0.55 loses 0.5/0.81 − 0.55 > 0
    battery = IDEAL_BATTERY | {"charge_efficiency": 0.9, "discharge_efficiency": 0.9}
    park = make_park(batteries=[battery])
    h = hours(park)
    price = np.where(h >= 12, 0.55, 0.5)
    s = plan_checked(make_inputs(park, load_kw_plant=200.0, price_import_yuan_per_kwh=price))
    assert s.frame["battery_discharge_kw"].max() == pytest.approx(0.0, abs=1e-6)
    assert s.frame["battery_charge_kw"].max() == pytest.approx(0.0, abs=1e-6)


def test_peak_shaving_of_a_four_hour_spike_under_a_demand_charge():
    # 500 kW flat, 800 kW from 12:00 to 16:00; a 100 kW / 400 kWh battery covers exactly
    # 100 kW of the 4-hour spike: peak 700 kW × 40 yuan/kW = 28,000 yuan. Flat price, no
    # losses: energy (500 × 20 + 800 × 4) kWh × 0.5 = 6,600 yuan either way.
    park = make_park(batteries=[IDEAL_BATTERY],
                     tariff={"calendar": "zhejiang_2024",
                             "demand": {"kind": "max_demand", "rate_yuan_per_kw_month": 40}})
    h = hours(park)
    load = np.where((h >= 12) & (h < 16), 800.0, 500.0)
    s = plan_checked(make_inputs(park, load_kw_plant=load))
    assert s.frame["grid_import_kw"].max() == pytest.approx(700.0, abs=1e-3)
    assert s.metadata["demand_charge_yuan"] == pytest.approx(28_000.0, abs=0.1)
    assert s.metadata["energy_cost_yuan"] == pytest.approx(6_600.0, abs=0.1)
    assert s.state_out.month_peak_kw == pytest.approx(700.0, abs=1e-3)


def test_tank_pre_cools_before_a_sharp_peak_window():
    # 1,000 kW_th of cooling from 10:00 to 12:00 at 1.5 yuan/kWh, 0.3 otherwise; the 500 kW_th
    # chiller alone cannot cover it, so the tank must be charged before 10:00 — and it is
    # cheaper to charge all 2,000 kWh_th before: 2,000 / COP 4 × 0.3 = 150 yuan.
    park = make_park(cooling={
        "profile": {"path": "cooling.csv"},
        "chillers": [{"name": "ch", "capacity_kw_th": 500, "cop": 4.0}],
        "tank": {"capacity_kwh_th": 2000, "max_charge_kw_th": 1000, "max_discharge_kw_th": 1000,
                 "standing_loss_pct_per_h": 0.0, "level_initial": 0.0,
                 "end_level": {"rule": "free"}},
    })
    h = hours(park)
    window = (h >= 10) & (h < 12)
    s = plan_checked(make_inputs(park, cooling_load_kw_th=np.where(window, 1000.0, 0.0),
                                 price_import_yuan_per_kwh=np.where(window, 1.5, 0.3)))
    f = s.frame
    assert f["tes_level_kwh_th"].iloc[39] == pytest.approx(2000.0, abs=1e-3)  # 09:45–10:00
    assert f["chiller_electric_kw"][window].max() == pytest.approx(0.0, abs=1e-6)
    assert s.metadata["cooling_unserved_kwh_th"] == pytest.approx(0.0, abs=1e-6)
    assert s.metadata["energy_cost_yuan"] == pytest.approx(150.0, abs=1e-3)


def ev_park():
    return make_park(ev={"chargers": [{"name": "fast", "kind": "fast_dc", "count": 1,
                                       "power_kw": 50, "efficiency": 1.0, "bus": "ac"}],
                         "generator": {}})


def session(energy_kwh: float) -> dict:
    return {"charger": "fast", "pile": 0, "bus": "ac", "arrival": "2025-07-01 08:00",
            "departure": "2025-07-01 12:00", "energy_kwh": energy_kwh, "max_kw": 50.0}


def test_ev_session_finishes_by_departure_in_the_cheapest_hours():
    # plugged in 08:00–12:00, 100 kWh at ≤ 50 kW; 0.3 yuan/kWh 10:00–12:00, 0.1 after the car
    # has left, 1.0 otherwise: all 100 kWh at 50 kW from 10:00 to 12:00, nothing later.
    park = ev_park()
    h = hours(park)
    price = np.select([(h >= 10) & (h < 12), h >= 12], [0.3, 0.1], 1.0)
    s = plan_checked(make_inputs(park, sessions=[session(100.0)],
                                 price_import_yuan_per_kwh=price))
    ev = s.frame["ev_charge_kw"].to_numpy()
    assert ev[(h >= 10) & (h < 12)] == pytest.approx(np.full(8, 50.0), abs=1e-6)
    assert ev[(h < 10) | (h >= 12)].max() == pytest.approx(0.0, abs=1e-6)
    assert s.metadata["ev_unmet_kwh"] == pytest.approx(0.0, abs=1e-6)


def test_ev_energy_beyond_the_chargers_reach_is_reported_unmet():
    # 4 h × 50 kW = 200 kWh at most; 300 kWh asked: 100 kWh unmet at the EV penalty
    park = ev_park()
    s = plan_checked(make_inputs(park, sessions=[session(300.0)]))
    assert s.metadata["ev_unmet_kwh"] == pytest.approx(100.0, abs=1e-6)
    penalty = park.objective.ev_unmet_penalty_yuan_per_kwh
    assert s.metadata["penalty_yuan"] == pytest.approx(100.0 * penalty, abs=1e-3)
    assert s.frame["ev_charge_kw"].sum() * 0.25 == pytest.approx(200.0, abs=1e-6)


def test_the_direction_big_m_counts_a_pile_only_while_a_car_is_plugged_in():
    # two 50 kW piles: a car 08:00–12:00 at 50 kW on pile 0, one 08:07–09:00 at 20 kW on
    # pile 1 (8 of the 15 minutes of the 08:00 step); 100 kW of load
    park = make_park(grid={"import_limit_kw": 1000, "export_limit_kw": 500},
                     ev={"chargers": [{"name": "fast", "kind": "fast_dc", "count": 2,
                                       "power_kw": 50, "efficiency": 1.0, "bus": "ac"}],
                         "generator": {}})
    late = session(30.0) | {"pile": 1, "arrival": "2025-07-01 08:07",
                            "departure": "2025-07-01 09:00", "max_kw": 20.0}
    inputs = make_inputs(park, sessions=[session(100.0), late], load_kw_plant=100.0)
    h = Horizon(park, inputs, ParkState.initial(park), PlanOptions())
    expected = np.zeros(96)
    expected[32:48] = 50.0
    expected[32:36] += 20.0 * np.array([8 / 15, 1, 1, 1])
    np.testing.assert_allclose(plugged_kw(park, h)["ac"], expected, atol=1e-9)
    np.testing.assert_allclose(flow_bounds_kw(h).draw_kw, 100.0 + expected, atol=1e-9)
    data = FlexibleBlock(park).day_data(h)  # what the piles may draw in the model
    assert np.all(expected >= data["ev.fast.0.power"] + data["ev.fast.1.power"] - 1e-9)


def test_the_direction_big_m_bounds_a_car_faster_than_its_pile_for_part_of_a_step():
    # a car asking 80 kW of a 50 kW pile, plugged in for 8 of the 15 minutes of a step: the
    # model lets the pile draw min(80 × 8/15, 50) kW there, and the big-M must allow that
    park = make_park(grid={"import_limit_kw": 1000, "export_limit_kw": 500},
                     ev={"chargers": [{"name": "fast", "kind": "fast_dc", "count": 1,
                                       "power_kw": 50, "efficiency": 1.0, "bus": "ac"}],
                         "generator": {}})
    car = session(30.0) | {"arrival": "2025-07-01 08:07", "departure": "2025-07-01 09:00",
                           "max_kw": 80.0}
    h = Horizon(park, make_inputs(park, sessions=[car]), ParkState.initial(park), PlanOptions())
    power = FlexibleBlock(park).day_data(h)["ev.fast.0.power"]
    assert power[32] == pytest.approx(80.0 * 8 / 15)
    np.testing.assert_allclose(plugged_kw(park, h)["ac"], power, atol=1e-9)


@settings(max_examples=8, deadline=None)
@given(st.floats(0.0, 0.6), st.floats(0.0, 300.0), st.sampled_from(["ac", "dc"]))
def test_the_storage_direction_rows_cut_no_plan_of_the_milp(spread, pv_kw, bus):
    # export pays more than import by ``spread`` in the night; a lossy battery (on either
    # bus) and PV: the MILP optimum with the rows imp − charge ≤ I'·y, exp − discharge ≤
    # X'·(1 − y) must equal the one with those rows made slack (I', X' at the limits)
    battery = IDEAL_BATTERY | {"bus": bus, "charge_efficiency": 0.95,
                               "discharge_efficiency": 0.95, "soc_initial": 0.5}
    park = make_park(batteries=[battery], grid={"import_limit_kw": 1000, "export_limit_kw": 800},
                     pv=[{"name": "roof", "capacity_kwp": 300, "bus": bus}],
                     buses={"dc": {"converter_kw": 600, "converter_efficiency": 0.97}})
    h = hours(park)
    price = np.where(h < 8, 0.3, 0.8)
    inputs = make_inputs(park, load_kw_plant=np.where(h < 12, 100.0, 400.0),
                         pv_kw_roof=np.where((h >= 8) & (h < 16), pv_kw, 0.0),
                         price_import_yuan_per_kwh=price,
                         price_export_yuan_per_kwh=np.where(h < 8, 0.3 + spread, 0.4))
    optimizer = DayAheadOptimizer(park, options=PlanOptions(mip_gap=1e-9))
    model, _ = optimizer.model(96)
    horizon = Horizon(park, inputs, ParkState.initial(park), optimizer.options)
    objectives = []
    for slack in (False, True):
        data = model.data(horizon)
        if slack:
            data["grid.import_m_storage"] = np.full(96, -1000.0)
            data["grid.export_m_storage"] = data["grid.export_m_storage_rhs"] = np.full(96, 800.0)
        model.compiled.push(data)
        objectives.append(model.compiled.solve(60.0, 1e-9).objective)
    assert objectives[0] == pytest.approx(objectives[1], rel=1e-7, abs=1e-4)


def peak_park():
    battery = IDEAL_BATTERY | {"soc_initial": 0.5, "charge_efficiency": 0.95,
                               "discharge_efficiency": 0.95, "degradation_cost_yuan_per_kwh": 0.1}
    return make_park(batteries=[battery],
                     tariff={"calendar": "zhejiang_2024",
                             "demand": {"kind": "max_demand", "rate_yuan_per_kw_month": 40}})


def spike_load(park):
    h = hours(park)
    return np.where((h >= 12) & (h < 13), 600.0, 400.0)


def test_month_to_date_peak_makes_a_small_new_peak_free():
    # the month has already seen 700 kW: today's 600 kW spike costs no demand charge, so the
    # battery (which loses 10 % a cycle and wears at 0.1 yuan/kWh) stays idle
    park = peak_park()
    state = ParkState.initial(park)
    state.month_peak_kw, state.month = 700.0, 7
    s = plan_checked(make_inputs(park, load_kw_plant=spike_load(park)), state)
    assert s.metadata["demand_charge_yuan"] == pytest.approx(0.0, abs=1e-6)
    assert s.frame["battery_discharge_kw"].max() == pytest.approx(0.0, abs=1e-6)
    assert s.frame["grid_import_kw"].max() == pytest.approx(600.0, abs=1e-6)
    assert s.state_out.month_peak_kw == pytest.approx(700.0)


def test_a_new_month_peak_is_shaved_and_billed_in_full():
    # from a month-to-date peak of 0 the battery takes 100 kW off the spike: 500 kW × 40
    park = peak_park()
    s = plan_checked(make_inputs(park, load_kw_plant=spike_load(park)))
    assert s.frame["grid_import_kw"].max() == pytest.approx(500.0, abs=1e-3)
    assert s.metadata["demand_charge_yuan"] == pytest.approx(20_000.0, abs=0.1)


def test_declared_demand_bills_twice_the_rate_above_105_percent():
    # declared 500 kW: 600 kW flat exceeds 525 kW by 75 kW, billed at 2 × 40 yuan/kW
    park = make_park(tariff={"calendar": "zhejiang_2024",
                             "demand": {"kind": "declared", "declared_kw": 500,
                                        "rate_yuan_per_kw_month": 40}})
    s = plan_checked(make_inputs(park, load_kw_plant=600.0))
    assert s.metadata["demand_charge_yuan"] == pytest.approx(75 * 80.0)


def test_load_above_the_import_limit_is_reported_unserved():
    # 1,500 kW of load, 1,000 kW of grid and nothing else: 500 kW unserved all day
    park = make_park(grid={"import_limit_kw": 1000})
    s = plan_checked(make_inputs(park, load_kw_plant=1500.0))
    assert s.metadata["unserved_kwh"] == pytest.approx(500.0 * 24)
    assert s.frame["grid_import_kw"].min() == pytest.approx(1000.0)
    penalty = park.objective.unserved_penalty_yuan_per_kwh
    assert s.metadata["penalty_yuan"] == pytest.approx(penalty * 500 * 24)


def test_cheap_import_is_not_bought_to_be_exported():
    # export pays 0.4 while import costs 0.2 at night: without the direction binary an LP
    # would import to the limit and export the rest
    park = make_park(grid={"import_limit_kw": 1000, "export_limit_kw": 800})
    h = hours(park)
    s = plan_checked(make_inputs(park, load_kw_plant=100.0, price_export_yuan_per_kwh=0.4,
                                 price_import_yuan_per_kwh=np.where(h < 8, 0.2, 0.6)))
    assert s.frame["grid_export_kw"].max() == pytest.approx(0.0, abs=1e-6)
    assert s.frame["grid_import_kw"].to_numpy() == pytest.approx(np.full(96, 100.0), abs=1e-6)


def test_surplus_renewable_power_is_exported_then_curtailed():
    # 900 kW of wind, 100 kW of load, export capped at 500 kW: 300 kW curtailed
    park = make_park(grid={"import_limit_kw": 1000, "export_limit_kw": 500},
                     wind=[{"name": "wt", "hub_height_m": 100,
                            "turbine": {"oedb_type": "E-126/4200"}}])
    s = plan_checked(make_inputs(park, load_kw_plant=100.0, wind_kw_wt=900.0,
                                 price_export_yuan_per_kwh=0.4))
    assert s.frame["grid_export_kw"].to_numpy() == pytest.approx(np.full(96, 500.0), abs=1e-6)
    assert s.frame["wind_curtailed_kw"].to_numpy() == pytest.approx(np.full(96, 300.0), abs=1e-6)


def chiller_park(**chiller):
    return make_park(cooling={"profile": {"path": "cooling.csv"},
                              "chillers": [{"name": "ch", "capacity_kw_th": 1000} | chiller]})


def test_chiller_below_min_part_load_runs_at_its_minimum():
    # 100 kW_th of demand, minimum 300 kW_th and no tank: run at 300 (surplus 200 kW_th)
    park = chiller_park(cop=5.0, min_part_load=0.3)
    s = plan_checked(make_inputs(park, n=8, cooling_load_kw_th=100.0))
    assert s.frame["chiller_cooling_kw_th"].to_numpy() == pytest.approx(np.full(8, 300.0), abs=1e-6)
    assert s.frame["chiller_electric_kw"].to_numpy() == pytest.approx(np.full(8, 60.0), abs=1e-6)
    assert s.metadata["mip"]


def test_non_convex_cop_curve_is_followed_exactly():
    # COP 3 at half load, 6 at full load: electricity 166.7 kW at 500 and at 1,000 kW_th,
    # so 750 kW_th costs 166.7 kW as well (flat between the points)
    park = chiller_park(cop_curve={"load_fraction": [0.5, 1.0], "cop": [3.0, 6.0]})
    s = plan_checked(make_inputs(park, n=8, cooling_load_kw_th=750.0))
    assert s.frame["chiller_electric_kw"].to_numpy() == pytest.approx(np.full(8, 500 / 3), rel=1e-6)


def test_lp_relaxation_bounds_the_mip():
    park = chiller_park(cop=5.0, min_part_load=0.3)
    inputs = make_inputs(park, n=8, cooling_load_kw_th=np.linspace(50, 600, 8))
    mip = plan_day(inputs)
    lp = plan_day(inputs, relax_integers=True)
    assert not lp.metadata["mip"]
    assert lp.metadata["objective"] <= mip.metadata["objective"] + 1e-6


def test_free_initial_state_lets_the_battery_start_full():
    park = make_park(batteries=[IDEAL_BATTERY])
    h = hours(park)
    price = np.where(h < 4, 1.0, 0.5)
    s = plan_checked(make_inputs(park, load_kw_plant=200.0, price_import_yuan_per_kwh=price),
                     initial_state="free")
    assert s.frame["battery_discharge_kw"].iloc[:16].sum() * 0.25 == pytest.approx(400.0)


def test_end_rule_initial_returns_the_battery_to_its_initial_soc():
    battery = IDEAL_BATTERY | {"soc_initial": 0.5, "end_soc": {"rule": "initial"}}
    park = make_park(batteries=[battery])
    s = plan_checked(make_inputs(park, load_kw_plant=200.0))
    assert s.frame["battery_soc_kwh"].iloc[-1] >= 200.0 - 1e-6


LOSSY_BATTERY = IDEAL_BATTERY | {"soc_initial": 0.5, "charge_efficiency": 0.9,
                                 "discharge_efficiency": 0.9}


def test_end_rule_value_keeps_energy_worth_more_than_it_would_fetch_tonight():
    # flat 0.5 yuan/kWh: 1 kWh stored is worth 0.5 / 0.9 = 0.556 yuan (its refill cost) and
    # would displace only 0.9 kWh × 0.5 = 0.45 yuan of import — it stays; with 'free' the
    # battery empties (0.45 yuan > nothing).
    inputs = lambda rule: make_inputs(  # noqa: E731
        make_park(batteries=[LOSSY_BATTERY | {"end_soc": {"rule": rule}}]), load_kw_plant=200.0)
    kept = plan_checked(inputs("value"))
    assert kept.frame["battery_discharge_kw"].max() == pytest.approx(0.0, abs=1e-6)
    assert kept.frame["battery_soc_kwh"].iloc[-1] == pytest.approx(200.0, abs=1e-6)
    assert kept.metadata["stored_value_yuan"] == pytest.approx(200.0 * 0.5 / 0.9, rel=1e-9)
    drained = plan_checked(inputs("free"))
    assert drained.frame["battery_soc_kwh"].iloc[-1] == pytest.approx(0.0, abs=1e-6)
    assert drained.metadata["stored_value_yuan"] == 0.0


def test_end_rule_value_sells_the_evening_peak_and_refills_tomorrow():
    # 0.3 yuan/kWh before 18:00, 1.0 after: refill value 0.3 / 0.9 = 0.333 yuan per kWh stored
    # < 0.9 × 1.0 displaced in the evening, so all 200 kWh go out after 18:00 ('initial'
    # would keep them).
    battery = LOSSY_BATTERY | {"end_soc": {"rule": "value"}}
    park = make_park(batteries=[battery])
    h = hours(park)
    s = plan_checked(make_inputs(park, load_kw_plant=200.0,
                                 price_import_yuan_per_kwh=np.where(h >= 18, 1.0, 0.3)))
    f = s.frame
    assert f["battery_soc_kwh"].iloc[-1] == pytest.approx(0.0, abs=1e-6)
    assert f["battery_discharge_kw"][h >= 18].sum() * 0.25 == pytest.approx(400.0 * 0.9,
                                                                             abs=1e-3)


def test_end_rule_value_given_in_the_config_fills_the_battery():
    # stored energy worth 2 yuan/kWh, bought at 0.5: charge to full (400 kWh)
    battery = LOSSY_BATTERY | {"end_soc": {"rule": "value", "value_yuan_per_kwh": 2.0}}
    s = plan_checked(make_inputs(make_park(batteries=[battery]), load_kw_plant=200.0))
    assert s.frame["battery_soc_kwh"].iloc[-1] == pytest.approx(400.0, abs=1e-6)
    assert s.metadata["stored_value_yuan"] == pytest.approx(800.0, rel=1e-9)


def test_end_rule_value_is_not_credited_with_a_free_initial_state():
    # the perfect-foresight bound solves with a free start: its objective must be pure cost
    battery = LOSSY_BATTERY | {"end_soc": {"rule": "value", "value_yuan_per_kwh": 2.0}}
    s = plan_checked(make_inputs(make_park(batteries=[battery]), load_kw_plant=200.0),
                     initial_state="free", tie_break=False)
    assert s.metadata["stored_value_yuan"] == 0.0
    assert s.metadata["objective"] == pytest.approx(s.metadata["cost_yuan"], abs=0.1)


def test_tank_end_rule_value_keeps_the_cold_at_its_refill_cost():
    # flat 0.5 yuan/kWh, COP 4: 1 kWh_th in the tank is worth 0.5 / 4 = 0.125 yuan, exactly
    # the chiller electricity it would save today — no gain in using it (the tie-break keeps
    # it); with 'free' the 1,000 kWh_th are used up.
    cooling = lambda rule: {  # noqa: E731
        "profile": {"path": "cooling.csv"},
        "chillers": [{"name": "ch", "capacity_kw_th": 500, "cop": 4.0}],
        "tank": {"capacity_kwh_th": 2000, "max_charge_kw_th": 1000, "max_discharge_kw_th": 1000,
                 "standing_loss_pct_per_h": 0.0, "level_initial": 0.5,
                 "end_level": {"rule": rule}}}
    park = make_park(cooling=cooling("value"))
    s = plan_checked(make_inputs(park, cooling_load_kw_th=100.0))
    assert s.frame["tes_level_kwh_th"].iloc[-1] == pytest.approx(1000.0, abs=1e-3)
    assert s.metadata["stored_value_yuan"] == pytest.approx(1000.0 * 0.5 / 4.0, rel=1e-6)
    free = plan_checked(make_inputs(make_park(cooling=cooling("free")), cooling_load_kw_th=100.0))
    assert free.frame["tes_level_kwh_th"].iloc[-1] == pytest.approx(0.0, abs=1e-3)


def test_a_reused_model_gives_the_same_schedule_as_a_fresh_one():
    park = make_park(batteries=[IDEAL_BATTERY])
    h = hours(park)
    warm = DayAheadOptimizer(park)
    warm.plan(make_inputs(park, load_kw_plant=100.0))
    inputs = make_inputs(park, load_kw_plant=300.0,
                         price_import_yuan_per_kwh=np.where(h < 8, 0.3, 1.0))
    again = warm.plan(inputs)
    fresh = DayAheadOptimizer(park).plan(inputs)
    assert again.metadata["build_time_s"] == 0.0
    assert again.metadata["objective"] == pytest.approx(fresh.metadata["objective"])


def test_schedule_has_every_documented_column_and_solver_facts():
    park = make_park(batteries=[IDEAL_BATTERY, IDEAL_BATTERY | {"name": "second"}])
    s = plan_day(make_inputs(park, n=8, load_kw_plant=100.0))
    for column in SCHEDULE_COLUMNS:
        assert column in s.frame or f"{column}_bat" in s.frame, column
    assert {"battery_soc_kwh_bat", "battery_soc_kwh_second"} <= set(s.frame.columns)
    for key in ("schema_version", "status", "objective", "bound", "gap", "solve_time_s",
                "build_time_s", "energy_cost_yuan", "demand_charge_yuan", "export_revenue_yuan",
                "degradation_yuan", "carbon_cost_yuan", "penalty_yuan", "unserved_kwh",
                "ev_unmet_kwh"):
        assert key in s.metadata, key
    assert s.metadata["status"] == "optimal"


def test_no_incumbent_raises_solver_error():
    park = chiller_park(cop=5.0, min_part_load=0.3)
    inputs = make_inputs(park, cooling_load_kw_th=np.linspace(50, 900, 96))
    with pytest.raises(SolverError, match="no schedule"):
        DayAheadOptimizer(park).plan(inputs, options=PlanOptions(time_limit_s=1e-9))


def test_deferrable_load_runs_in_the_cheapest_hours_of_its_window():
    # 20 kWh at ≤ 10 kW between 01:00 and 05:00; 0.2 yuan/kWh from 03:00 to 05:00
    park = make_park(deferrable=[{"name": "wash", "energy_kwh_per_day": 20, "max_kw": 10,
                                  "window_start_h": 1, "window_end_h": 5}])
    h = hours(park)
    s = plan_checked(make_inputs(park, price_import_yuan_per_kwh=np.where(
        (h >= 3) & (h < 5), 0.2, 0.5)))
    kw = s.frame["deferrable_kw"].to_numpy()
    assert kw[(h >= 3) & (h < 5)] == pytest.approx(np.full(8, 10.0))
    assert kw.sum() * 0.25 == pytest.approx(20.0)


def test_workday_only_load_rests_on_a_holiday():
    park = make_park(deferrable=[{"name": "wash", "energy_kwh_per_day": 20, "max_kw": 10,
                                  "window_start_h": 1, "window_end_h": 5,
                                  "workdays_only": True}])
    s = plan_checked(make_inputs(park, is_holiday=True))
    assert s.frame["deferrable_kw"].max() == pytest.approx(0.0)
    assert s.metadata["deferrable_unmet_kwh"] == pytest.approx(0.0)


def test_a_session_past_the_horizon_owes_its_share_inside_it():
    # plugged in 22:00 today to 02:00 tomorrow, 80 kWh: half the stay is inside the horizon
    park = ev_park()
    sessions = [session(80.0) | {"arrival": "2025-07-01 22:00", "departure": "2025-07-02 02:00"}]
    s = plan_checked(make_inputs(park, sessions=sessions, price_import_yuan_per_kwh=1.0))
    assert s.frame["ev_charge_kw"].sum() * 0.25 == pytest.approx(40.0)


def test_any_horizon_length_and_step():
    # two days at 60-min steps: the battery cycles twice
    park = make_park(batteries=[IDEAL_BATTERY], time_step_minutes=60)
    h = hours(park, 48)
    price = np.where((h >= 8) & (h < 20), 1.0, 0.3)
    s = plan_checked(make_inputs(park, n=48, load_kw_plant=200.0,
                                 price_import_yuan_per_kwh=price))
    assert s.frame["battery_discharge_kw"].sum() == pytest.approx(800.0)


def test_without_tie_break_the_objective_is_the_cost():
    park = make_park(batteries=[IDEAL_BATTERY | {"charge_efficiency": 0.95}])
    h = hours(park)
    s = plan_checked(make_inputs(park, load_kw_plant=200.0, price_import_yuan_per_kwh=np.where(
        h >= 12, 1.0, 0.3)), tie_break=False)
    assert s.metadata["objective"] == pytest.approx(s.metadata["cost_yuan"], rel=1e-9)


def test_carbon_price_in_the_objective_is_reported_apart():
    park = make_park(objective={"carbon_price_in_objective": True},
                     emissions={"grid_factor_t_per_mwh": 0.5, "carbon_price_yuan_per_t": 40})
    s = plan_checked(make_inputs(park, load_kw_plant=100.0))
    # 2,400 kWh × 0.5 kg/kWh = 1,200 kg = 1.2 t × 40 yuan/t
    assert s.metadata["co2_t"] == pytest.approx(1.2)
    assert s.metadata["carbon_cost_yuan"] == pytest.approx(48.0)


def test_state_out_carries_storage_and_the_month_peak():
    park = make_park(batteries=[IDEAL_BATTERY])
    h = hours(park)
    s = plan_checked(make_inputs(park, load_kw_plant=np.where(h == 10, 300.0, 200.0),
                                 price_import_yuan_per_kwh=np.where(h < 8, 0.3, 1.0)))
    assert s.state_out.battery_soc_kwh["bat"] == pytest.approx(s.frame["battery_soc_kwh"].iloc[-1])
    assert s.state_out.month_peak_kw == pytest.approx(s.frame["grid_import_kw"].max())
    assert s.state_out.month == 7


def test_re_solves_keep_their_time_limit_after_the_solver_clock_passes_it():
    # HiGHS checks an LP's time limit against a clock that runs over the solver's life
    park = make_park(batteries=[IDEAL_BATTERY])
    h = hours(park)
    optimizer = DayAheadOptimizer(park)
    optimizer.plan(make_inputs(park, load_kw_plant=200.0,
                               price_import_yuan_per_kwh=np.where(h < 8, 0.3, 1.0)))
    compiled = optimizer.model(96)[0].compiled
    # a limit well above one solve's time, so the clock passes it after a few solves
    before = compiled.highs.getRunTime()
    assert compiled.solve(time_limit_s=100.0, mip_gap=0.001).status == "optimal"
    limit_s = 10.0 * (compiled.highs.getRunTime() - before) + 1e-3
    while compiled.highs.getRunTime() <= 1.5 * limit_s:
        assert compiled.solve(time_limit_s=limit_s, mip_gap=0.001).status == "optimal"
    # the solver's clock is now past the limit: a re-solve must still get its own limit
    assert compiled.solve(time_limit_s=limit_s, mip_gap=0.001).status == "optimal"


def test_the_gap_is_relative_to_the_gross_cost_when_the_net_is_near_zero():
    from parkgrid.optimizer.highs import _gap

    # a day whose export revenue offsets its purchases: 3 yuan apart on a net of −10 yuan is
    # 0.3 % of its 1,000 yuan gross cost, not 30 %
    assert _gap(-10.0, -13.0, 1000.0) == pytest.approx(0.003)
    assert _gap(2000.0, 1990.0, 1000.0) == pytest.approx(0.005)  # |objective| the larger
    assert _gap(100.0, 99.0) == pytest.approx(0.01)
    assert _gap(None, 1.0) is None


def test_spread_count_runs_whole_units_ahead_of_a_fractional_relaxation():
    # a tenth of a unit for ten steps: one unit for one step, at the start (ahead of the need)
    relaxed = np.full(10, 0.1)
    assert spread_count(relaxed, 2, 1.0).tolist() == [1.0] + [0.0] * 9
    # four times as many unit-steps (units at a 25 % minimum part load)
    assert spread_count(relaxed, 2, 4.0).tolist() == [1, 0, 1, 0, 0, 1, 0, 1, 0, 0]
    # whole relaxed counts stay as they are; no more units than there are
    assert spread_count(np.array([2.0, 0.0, 1.0]), 2, 1.0).tolist() == [2.0, 0.0, 1.0]
    assert spread_count(np.array([1.5, 1.5]), 2, 2.0).max() == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 3.0), min_size=1, max_size=40), st.integers(1, 3),
       st.floats(1.0, 4.0))
def test_spread_count_is_whole_within_the_units_and_never_behind(values, units, scale):
    relaxed = np.minimum(np.array(values), units)
    count = spread_count(relaxed, units, scale)
    assert np.all(count == np.round(count)) and count.min() >= 0 and count.max() <= units
    owed = np.cumsum(scale * relaxed)
    if np.all(scale * relaxed <= units):  # never capped: the count keeps ahead of the need
        assert np.all(np.cumsum(count) >= owed - 1e-6)
        assert np.cumsum(count)[-1] < owed[-1] + 1.0


def test_cycle_count_runs_units_at_their_minimum_on_and_off_for_a_need_below_it():
    # 50 kW_th per step from units of 150-600 kW_th: one unit at its minimum every third
    # step (150 = 3 × 50), at once (late 0) or once a minimum's worth is owed (late 1)
    need = np.full(6, 50.0)
    assert cycle_count(need, 2, (150.0, 600.0), 0.0).tolist() == [1, 0, 0, 1, 0, 0]
    assert cycle_count(need, 2, (150.0, 600.0), 1.0).tolist() == [0, 0, 1, 0, 0, 1]
    assert cycle_count(need, 2, (150.0, 600.0), 0.5).tolist() == [0, 1, 0, 0, 1, 0]
    # a need a whole number of units can make stays as it is: 700 needs two units (each
    # ≥ 150), 300 one; nothing owed, nothing on
    assert cycle_count(np.array([700.0, 300.0, 0.0]), 2, (150.0, 600.0), 0.0).tolist() == \
        [2, 1, 0]
    # 1300 is more than both units make: the rest is owed to the next step
    assert cycle_count(np.array([1300.0, 0.0, 0.0]), 2, (150.0, 600.0), 0.0).tolist() == \
        [2, 1, 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1500.0), min_size=1, max_size=40), st.integers(1, 3),
       st.floats(0.05, 1.0), st.sampled_from([0.0, 0.5, 1.0]))
def test_cycle_count_is_whole_within_the_units_and_makes_what_is_owed(values, units, share,
                                                                      late):
    need = np.minimum(np.array(values), 600.0 * units)
    lo, hi = share * 600.0, 600.0
    count = cycle_count(need, units, (lo, hi), late)
    assert np.all(count == np.round(count)) and count.min() >= 0 and count.max() <= units
    # the units can make what is owed up to each step, less what waits for a start: never
    # more than late × the minimum behind, never more than a minimum's worth per unit ahead
    made_max = np.cumsum(count * hi)
    assert np.all(made_max >= np.cumsum(need) - late * lo - 1e-6)
    assert np.all(np.cumsum(count * lo) <= np.cumsum(need) + units * lo + 1e-6)


def test_a_rounding_short_of_cooling_gets_one_unit_more_where_it_is_short():
    # two groups of units serving one shortfall column (steps 0..3 at columns 10..13):
    # steps 1 and 3 are short; the first group has a unit left at step 1 only, so step 3's
    # unit comes from the second group; no step is served twice
    values = np.zeros(14)
    values[[11, 13]] = [5.0, 0.5]
    no_outputs = np.zeros((0, 0), np.int64)
    first = _CountGroup(np.array([[0, 1, 2, 3], [4, 5, 6, 7]]), np.arange(10, 14), no_outputs,
                        150.0, 600.0)
    second = _CountGroup(np.array([[8, 9, 8, 9]]), np.arange(10, 14), no_outputs, 150.0, 600.0)
    counts = [np.array([0.0, 1.0, 0.0, 2.0]), np.array([0.0, 0.0, 0.0, 0.0])]
    assert _add_units(counts, [first, second], values)
    assert counts[0].tolist() == [0, 2, 0, 2] and counts[1].tolist() == [0, 0, 0, 1]
    # nothing short (or below the tolerance): nothing added
    assert not _add_units(counts, [first, second], np.zeros(14))
    assert not _add_units(counts, [first, second], None)


def chillers_park(tank_kwh_th: float = 2000.0, level_initial: float = 0.1):
    """Two identical 600 kW_th chillers with a 25 % minimum, a tank and a demand charge."""
    chiller = {"capacity_kw_th": 600, "cop": 5.5, "min_part_load": 0.25}
    return make_park(
        tariff={"calendar": "zhejiang_2024",
                "demand": {"kind": "max_demand", "rate_yuan_per_kw_month": 40}},
        cooling={"profile": {"path": "cooling.csv"},
                 "chillers": [{"name": "a"} | chiller, {"name": "b"} | chiller],
                 "tank": {"capacity_kwh_th": tank_kwh_th, "max_charge_kw_th": 600,
                          "max_discharge_kw_th": 800, "standing_loss_pct_per_h": 0.1,
                          "level_initial": level_initial}})


def low_cooling_inputs():
    """The chillers under a 40 kW_th load: the relaxation runs them at fractions of their
    minimum."""
    park = chillers_park()
    h = hours(park)
    return make_inputs(park, cooling_load_kw_th=np.where((h >= 8) & (h < 18), 40.0, 5.0),
                       load_kw_plant=np.where((h >= 8) & (h < 18), 300.0, 100.0))


def test_low_cooling_with_a_tank_and_a_demand_charge_is_planned_within_the_gap():
    # the plan is within the MIP gap of the optimum proven with gap 0 (no node limit) and
    # meets the minimum wherever a chiller is on
    inputs = low_cooling_inputs()
    gap = 0.005
    plan = plan_checked(inputs, mip_gap=gap)
    optimum = plan_day(inputs, mip_gap=0.0, node_limit=False,
                       time_limit_s=600.0).metadata["objective"]
    assert plan.metadata["objective"] <= optimum + gap * abs(optimum) + 1e-6
    for name in ("a", "b"):
        on = plan.frame[f"chiller_on_{name}"].to_numpy() == 1
        q = plan.frame[f"chiller_cooling_kw_th_{name}"].to_numpy()
        assert np.all(q[on] >= 150.0 - 1e-6) and np.all(q[~on] <= 1e-6)
    assert plan.metadata["cooling_unserved_kwh_th"] == pytest.approx(0.0, abs=1e-6)


def test_cover_rows_ask_for_whole_units_once_the_demand_passes_the_tank_level():
    # tank at 200 kWh_th; 5 kW_th for 8 h (40 kWh_th), then 40 kW_th (10 kWh_th a step):
    # the demand so far passes 200 at the end of step 48 (210 kWh_th): 10 / (600 × 0.25)
    # = 1/15 of a unit-step, so a whole one (f = 1/15); by 18:00 (step 71) 440 kWh_th:
    # 1.6 unit-steps, two whole ones (f = 0.6: 0.6 × 2); at midnight 470: 1.8 (0.8 × 2)
    inputs = low_cooling_inputs()
    optimizer = DayAheadOptimizer(inputs.park)
    optimizer.plan(inputs)
    compiled = optimizer.model(96)[0].compiled
    lower, starts, _, value = compiled.cover_rows()
    assert lower.size == 48
    assert lower[[0, 71 - 48, -1]] == pytest.approx([1.0 / 15.0, 1.2, 1.6])
    # the first row: both units' binaries of steps 0..48 at f, the unserved slack at 1/600
    first = value[starts[0]:starts[1]]
    assert first.size == 3 * 49
    assert sorted(set(np.round(first, 9))) == pytest.approx([1.0 / 600.0, 1.0 / 15.0])


# a demand is none or above what an "off" chiller may serve within HiGHS's integrality
# tolerance (600 kW_th × 1e-6): the cover rows hold for integers, not for a binary at 1e-7
def cooling_kw_th(most: float):
    return st.one_of(st.just(0.0), st.floats(0.01, most))


@settings(max_examples=8, deadline=None)
@given(cooling_kw_th(120.0), cooling_kw_th(400.0), st.floats(0.0, 0.3))
def test_cover_rows_hold_for_the_optimum_found_without_them(night_kw_th, day_kw_th, level):
    # the cover inequalities are valid: the schedule proven optimal without them meets them,
    # and so does every rounding tried on the way
    park = chillers_park(1000.0, level)
    h = hours(park, 32)
    inputs = make_inputs(park, n=32, cooling_load_kw_th=np.where(h >= 4, day_kw_th, night_kw_th),
                         load_kw_plant=100.0)
    optimizer = DayAheadOptimizer(park)
    roundings, fixed_run = [], CompiledModel._fixed_run

    def collect(self, *args):  # every rounding's schedule: integer and feasible too
        run = fixed_run(self, *args)
        roundings.extend([] if run is None else [run.values])
        return run

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CompiledModel, "_add_cover_rows", lambda self, relaxed: 0)
        patch.setattr(CompiledModel, "_fixed_run", collect)
        plan = optimizer.plan(inputs, options=PlanOptions(mip_gap=0.0, node_limit=False,
                                                          time_limit_s=600.0))
    assert plan.metadata["termination"] == "optimal"
    compiled = optimizer.model(32)[0].compiled
    lower, starts, index, value = compiled.cover_rows()
    for values in [compiled.last, *roundings]:
        activity = np.add.reduceat(value * values[index], starts[:-1])
        assert np.all(activity >= lower - 1e-6)


def test_branch_and_bound_ends_at_the_node_limit_with_the_best_plan_found():
    # a limit of work, not of time: with no node allowed, the gap-0 solve ends after the
    # root with the best plan found (feasible, at least the proven optimum), whatever the
    # machine's speed; without the limit it is proven
    inputs = low_cooling_inputs()
    inputs.park.objective.mip_max_nodes = 0
    plan = plan_checked(inputs, mip_gap=0.0, time_limit_s=600.0)
    meta = plan.metadata
    assert (meta["termination"], meta["status"], meta["nodes"]) == ("node_limit", "feasible", 0)
    assert not meta["time_limit_hit"]
    proven = plan_day(inputs, mip_gap=0.0, node_limit=False, time_limit_s=600.0).metadata
    assert proven["termination"] == "optimal" and proven["nodes"] > 0
    assert proven["objective"] <= meta["objective"] + 1e-6
    assert meta["bound"] <= proven["objective"] + 1e-6
