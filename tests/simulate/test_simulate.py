"""The rollout simulator: controller physics, fallbacks, state carry-over and determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkgrid.errors import SolverError
from parkgrid.model import physics
from parkgrid.model.schedule import ParkState, Schedule
from parkgrid.simulate.controller import Controller
from parkgrid.simulate.kpi import kpis
from parkgrid.simulate.rollout import simulate
from parkgrid.simulate.rules import plan_none, plan_rules
from simulate_fixtures import make_inputs, make_park

START, END = "2025-07-02", "2025-07-09"


@pytest.fixture(scope="module")
def park(every_asset_park):
    return every_asset_park


@pytest.fixture(scope="module")
def inputs(park):
    return make_inputs(park, start="2025-06-24", days=16, seed=3)


@pytest.fixture(scope="module")
def tight_park():
    """No export, a small import limit and lots of renewables: curtailment and unserved
    load happen, and the battery has something to absorb."""
    return make_park(grid={"import_limit_kw": 500, "export_limit_kw": 0})


def balance_problems(result, park, inputs) -> list[str]:
    from parkgrid.model.balance import check_schedule

    actual = inputs.window(result.ledger.index[0], len(result.ledger))
    return check_schedule(result.ledger, park, actual)


@pytest.mark.parametrize("planner", [plan_rules, plan_none, "milp"])
@pytest.mark.parametrize("forecast", ["perfect", "persistence", "noisy"])
def test_ledger_balances_every_bus_at_every_step(park, inputs, planner, forecast):
    end = "2025-07-05" if planner == "milp" else END
    result = simulate(park, START, end, forecast, planner, inputs=inputs, seed=1)
    assert balance_problems(result, park, inputs) == []


def test_ledger_balances_when_limits_bind(tight_park):
    inputs = make_inputs(tight_park, start="2025-06-24", days=16, seed=3, re_scale=3.0)
    result = simulate(tight_park, START, END, "noisy", plan_rules, inputs=inputs, seed=2)
    assert physics.total(result.ledger, "pv_curtailed_kw").sum() > 0
    assert physics.total(result.ledger, "unserved_kw").sum() > 0
    assert balance_problems(result, tight_park, inputs) == []


def test_ledger_respects_every_limit(tight_park):
    inputs = make_inputs(tight_park, start="2025-06-24", days=16, seed=3, re_scale=3.0)
    ledger = simulate(tight_park, START, END, "noisy", plan_rules, inputs=inputs,
                      seed=2).ledger
    bat, tank = tight_park.batteries[0], tight_park.cooling.tank
    eps = 1e-6
    assert ledger["grid_import_kw"].max() <= tight_park.grid.import_limit_kw + eps
    assert ledger["grid_export_kw"].max() <= eps
    soc = ledger["battery_soc_kwh"]
    assert soc.min() >= bat.soc_min * bat.energy_kwh - eps
    assert soc.max() <= bat.soc_max * bat.energy_kwh + eps
    assert (ledger["battery_charge_kw"] + ledger["battery_discharge_kw"]).max() <= \
        bat.power_kw + eps
    assert ledger["tes_level_kwh_th"].between(-eps, tank.capacity_kwh_th + eps).all()
    conv = ledger["converter_ac_to_dc_kw"] + ledger["converter_dc_to_ac_kw"]
    assert conv.max() <= tight_park.buses.dc.converter_kw + eps


def test_unserved_load_only_when_the_grid_is_at_its_limit(tight_park):
    inputs = make_inputs(tight_park, start="2025-06-24", days=16, seed=3, re_scale=3.0)
    ledger = simulate(tight_park, START, END, "perfect", plan_none, inputs=inputs).ledger
    short = physics.total(ledger, "unserved_kw") > 1e-6
    assert short.any()
    at_limit = ledger["grid_import_kw"].to_numpy() >= tight_park.grid.import_limit_kw - 1e-6
    assert at_limit[short].all()


def _idle_plan(index: pd.DatetimeIndex, import_kw: float) -> Schedule:
    frame = pd.DataFrame({"grid_import_kw": import_kw}, index=index)
    return Schedule(frame, {"planner": "test"})


def test_battery_absorbs_what_would_be_curtailed(tight_park):
    inputs = make_inputs(tight_park, start="2025-07-01", days=2, seed=3, re_scale=3.0)
    day = inputs.day("2025-07-01")
    state = ParkState.initial(tight_park).for_month(7)
    state.battery_soc_kwh = {"bat": 0.1 * 400}
    ledger = Controller(tight_park).run_day(_idle_plan(day.index, 500.0), day, state).ledger
    curtailed = physics.total(ledger, "pv_curtailed_kw") + physics.total(
        ledger, "wind_curtailed_kw")
    assert ledger["battery_charge_kw"].sum() > 0
    charging_or_full = (ledger["battery_charge_kw"] > 0) | (
        ledger["battery_soc_kwh"] >= 0.95 * 400 - 1e-6)
    assert charging_or_full[curtailed > 1e-6].all()


def test_none_planner_never_uses_storage(park, inputs):
    ledger = simulate(park, START, END, "noisy", plan_none, inputs=inputs).ledger
    assert ledger["battery_charge_kw"].max() <= 1e-9
    assert ledger["battery_discharge_kw"].max() <= 1e-9
    assert ledger["tes_charge_kw_th"].max() == 0.0
    assert ledger["tes_discharge_kw_th"].max() == 0.0


def test_controller_keeps_the_plan_when_the_forecast_is_perfect(park, inputs):
    day = inputs.day("2025-07-03")
    state = ParkState.initial(park).for_month(7)
    plan = plan_rules(day, state)
    ledger = Controller(park).run_day(plan, day, state).ledger
    for col in ("battery_charge_kw", "battery_discharge_kw", "tes_charge_kw_th",
                "grid_import_kw"):
        np.testing.assert_allclose(ledger[col], plan.frame[col], atol=1e-6)


def test_ev_sessions_get_their_energy(park, inputs):
    ledger = simulate(park, START, END, "noisy", plan_rules, inputs=inputs).ledger
    sessions = inputs.ev_sessions
    inside = sessions[(sessions["arrival"] >= pd.Timestamp(START, tz="Asia/Shanghai"))
                      & (sessions["departure"] <= pd.Timestamp(END, tz="Asia/Shanghai"))]
    assert ledger["ev_unmet_kwh"].sum() == pytest.approx(0.0, abs=1e-6)
    delivered = physics.total(ledger, "ev_charge_kw").sum() * park.step_h
    assert delivered >= inside["energy_kwh"].sum() - 1e-6


def test_state_carries_across_days_and_the_peak_resets_each_month(park, inputs):
    result = simulate(park, "2025-06-28", "2025-07-04", "perfect", plan_rules, inputs=inputs)
    ledger = result.ledger
    june = ledger.loc[:"2025-06-30", "grid_import_kw"]
    july_first = ledger.loc["2025-07-01", "grid_import_kw"]
    # the controller defends June's peak in June; July starts from 0 again
    assert result.state.month == 7
    assert result.state.month_peak_kw == pytest.approx(ledger.loc["2025-07", "grid_import_kw"]
                                                       .max())
    assert june.max() > 0 and july_first.max() > 0
    soc = ledger["battery_soc_kwh"]
    midnight = ledger.index.get_loc(pd.Timestamp("2025-07-01", tz="Asia/Shanghai"))
    bat = park.batteries[0]
    step = (bat.charge_efficiency * ledger["battery_charge_kw"].iloc[midnight]
            - ledger["battery_discharge_kw"].iloc[midnight] / bat.discharge_efficiency) * 0.25
    keep = 1 - bat.self_discharge_pct_per_h / 100 * 0.25
    assert soc.iloc[midnight] == pytest.approx(soc.iloc[midnight - 1] * keep + step)


def _failing_on(date: str, error: Exception):
    def plan(inputs, state):
        if str(inputs.index[0].date()) == date:
            raise error
        return plan_none(inputs, state)

    return plan


def test_forced_solver_failure_falls_back_to_rules_and_is_logged(park, inputs):
    planner = _failing_on("2025-07-04", SolverError("no incumbent within the time limit"))
    result = simulate(park, START, END, "perfect", planner, inputs=inputs)
    days = result.days_frame().set_index("date")
    assert days.loc["2025-07-04", "fallback"]
    assert days.loc["2025-07-04", "planner"] == "rules"
    assert days["fallback"].sum() == 1
    assert any("2025-07-04 FALLBACK to rules" in e and "no incumbent" in e
               for e in result.events)
    fallback_day = result.ledger.loc["2025-07-04"]
    assert fallback_day["battery_discharge_kw"].sum() > 0  # the rules did run that day


def test_any_planner_error_falls_back_and_the_run_goes_on(park, inputs):
    planner = _failing_on("2025-07-03", ZeroDivisionError("bug"))
    result = simulate(park, START, END, "perfect", planner, inputs=inputs)
    assert len(result.ledger) == 7 * park.steps_per_day
    assert any("ZeroDivisionError" in e for e in result.events)


def test_unusable_schedule_falls_back(park, inputs):
    def bad(inputs, state):
        schedule = plan_none(inputs, state)
        schedule.frame.loc[schedule.frame.index[5], "battery_charge_kw"] = np.nan
        return schedule

    result = simulate(park, START, "2025-07-03", "perfect", bad, inputs=inputs)
    assert "non-finite" in result.days[0].reason


@pytest.mark.parametrize("planner", [plan_rules, plan_none, "milp"])
def test_same_seed_same_results(park, inputs, planner):
    end = "2025-07-05" if planner == "milp" else END
    a = simulate(park, START, end, "noisy", planner, inputs=inputs, seed=7)
    b = simulate(park, START, end, "noisy", planner, inputs=inputs, seed=7)
    pd.testing.assert_frame_equal(a.ledger, b.ledger)


def test_different_seeds_give_different_forecasts(park, inputs):
    a = simulate(park, START, END, "noisy", plan_rules, inputs=inputs, seed=7)
    b = simulate(park, START, END, "noisy", plan_rules, inputs=inputs, seed=8)
    assert not np.allclose(a.ledger["battery_charge_kw"], b.ledger["battery_charge_kw"])


def test_inputs_are_not_modified(park, inputs):
    before = inputs.series.copy()
    simulate(park, START, END, "noisy", plan_rules, inputs=inputs, seed=1)
    pd.testing.assert_frame_equal(inputs.series, before)


def test_rules_cost_less_than_none(park, inputs):
    rules = kpis(simulate(park, START, END, "perfect", plan_rules, inputs=inputs).ledger, park)
    none = kpis(simulate(park, START, END, "perfect", plan_none, inputs=inputs).ledger, park)
    assert rules["total_cost_yuan"] < none["total_cost_yuan"]


def test_a_period_outside_the_inputs_is_refused(park, inputs):
    with pytest.raises(ValueError, match="do not cover"):
        simulate(park, "2025-07-05", "2025-07-20", "perfect", plan_rules, inputs=inputs)


def test_look_ahead_plans_two_days_and_applies_the_first(park, inputs):
    # the inputs end on 07-09: that last day can only be planned over itself
    result = simulate(park, "2025-07-07", "2025-07-10", "noisy", "milp", inputs=inputs,
                      seed=1, keep_schedules=True, horizon_h=48)
    assert [s.metadata["horizon_steps"] for s in result.schedules.values()] == [192, 192, 96]
    assert all(len(s.frame) == 96 for s in result.schedules.values())
    assert len(result.ledger) == 3 * 96
    assert balance_problems(result, park, inputs) == []


def test_look_ahead_keeps_the_battery_for_an_expensive_tomorrow(inputs):
    # tomorrow's energy costs 3× today's: planning 24 h with the end rule 'free' empties the
    # battery tonight; planning 48 h keeps it for tomorrow and costs less over both days
    park = make_park(batteries=[{"name": "bat", "bus": "dc", "power_kw": 100,
                                 "energy_kwh": 400, "end_soc": {"rule": "free"}}])
    series = inputs.series.copy()
    tomorrow = series.index.normalize() == pd.Timestamp("2025-07-08", tz=series.index.tz)
    series.loc[tomorrow, "price_import_yuan_per_kwh"] *= 3.0
    dear = type(inputs)(park, series, inputs.weather, inputs.ev_sessions)
    runs = {h: simulate(park, "2025-07-07", "2025-07-09", "perfect", "milp", inputs=dear,
                        horizon_h=h) for h in (24, 48)}
    midnight = {h: r.ledger.loc["2025-07-07", "battery_soc_kwh"].iloc[-1]
                for h, r in runs.items()}
    assert midnight[24] == pytest.approx(0.1 * 400, abs=1e-3)
    assert midnight[48] > 0.5 * 400
    cost = {h: kpis(r.ledger, park)["total_cost_yuan"] for h, r in runs.items()}
    assert cost[48] < cost[24]


def test_a_horizon_shorter_than_a_day_is_refused(park, inputs):
    with pytest.raises(ValueError, match="horizon_h must lie within 24–168 h, got 12"):
        simulate(park, START, END, "perfect", plan_rules, inputs=inputs, horizon_h=12)
