"""The real-time controller on its own: it follows a plan, respects every limit, balances
every bus, carries the state from one day to the next, and runs the registry's plant
steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkgrid.model import physics, registry
from parkgrid.model.balance import check_schedule
from parkgrid.model.physics import Storage
from parkgrid.model.schedule import ParkState, Schedule
from parkgrid.optimizer import DayAheadOptimizer
from parkgrid.simulate.controller import Controller
from parkgrid.simulate.rules import plan_rules
from simulate_fixtures import make_inputs, make_park

EPS = 1e-6


@pytest.fixture(scope="module")
def park(every_asset_park):
    return every_asset_park


@pytest.fixture(scope="module")
def inputs(park):
    return make_inputs(park, start="2025-07-01", days=3, seed=5)


@pytest.fixture(scope="module")
def milp_day():
    """A MILP plan of 2 July on perfect inputs, its actual day and the controller's result
    (an AC park with PV, wind and a battery: the controller shares EV sessions, the
    converter and the chillers' load its own way, so those do not follow a plan exactly)."""
    park = make_park(ev=None, buses={}, cooling=None,
                     pv=[{"name": "roof", "capacity_kwp": 400}],
                     batteries=[{"name": "bat", "power_kw": 100, "energy_kwh": 400}],
                     loads=[{"name": "plant", "synthetic": {"shape": "industrial",
                                                            "annual_kwh": 4e6}}])
    day = make_inputs(park, start="2025-07-01", days=3, seed=5).day("2025-07-02")
    state = ParkState.initial(park).for_month(7)
    plan = DayAheadOptimizer(park).plan(day, state)
    return park, plan, day, Controller(park).run_day(plan, day, state)


def _idle_plan(index: pd.DatetimeIndex, import_kw: float) -> Schedule:
    frame = pd.DataFrame({"grid_import_kw": import_kw}, index=index)
    return Schedule(frame, {"planner": "test"})


def test_follows_a_milp_plan_on_perfect_inputs(milp_day):
    _, plan, _, result = milp_day
    for col in ("battery_charge_kw", "battery_discharge_kw", "battery_soc_kwh",
                "grid_import_kw", "grid_export_kw", "pv_kw", "wind_kw"):
        if col in plan.frame:
            np.testing.assert_allclose(result.ledger[col], plan.frame[col], atol=1e-3,
                                       err_msg=col)


def test_balances_every_bus_and_respects_every_limit(milp_day):
    park, _, day, result = milp_day
    assert check_schedule(result.ledger, park, day) == []


def test_carries_every_store_to_the_next_day(park, inputs):
    ctl = Controller(park)
    state = ParkState.initial(park).for_month(7)
    first = ctl.run_day(plan_rules(inputs.day("2025-07-01"), state), inputs.day("2025-07-01"),
                        state)
    last = first.ledger.iloc[-1]
    assert first.state.battery_soc_kwh["bat"] == pytest.approx(last["battery_soc_kwh"])
    assert first.state.tank_level_kwh_th == pytest.approx(last["tes_level_kwh_th"])
    assert first.state.month_peak_kw == pytest.approx(first.ledger["grid_import_kw"].max())
    day2 = inputs.day("2025-07-02")
    second = ctl.run_day(plan_rules(day2, first.state), day2, first.state).ledger.iloc[0]
    bat = Storage.battery(park.batteries[0], park.step_h)
    assert second["battery_soc_kwh"] == pytest.approx(bat.step(
        last["battery_soc_kwh"], second["battery_charge_kw"], second["battery_discharge_kw"]))
    tank = Storage.tank(park.cooling.tank, park.step_h)
    assert second["tes_level_kwh_th"] == pytest.approx(tank.step(
        last["tes_level_kwh_th"], second["tes_charge_kw_th"], second["tes_discharge_kw_th"]))


def test_clips_set_points_to_the_battery_limits(park, inputs):
    day = inputs.day("2025-07-01")
    n = len(day.index)
    frame = pd.DataFrame({"battery_discharge_kw": np.full(n, 1e4), "grid_import_kw": 0.0},
                         index=day.index)
    state = ParkState.initial(park).for_month(7)
    ledger = Controller(park).run_day(Schedule(frame, {"planner": "test"}), day, state).ledger
    bat = park.batteries[0]
    assert ledger["battery_discharge_kw"].max() <= bat.power_kw + EPS
    assert ledger["battery_soc_kwh"].min() >= bat.soc_min * bat.energy_kwh - EPS
    assert check_schedule(ledger, park, day) == []


def test_battery_absorbs_what_would_set_a_new_monthly_peak(park, inputs):
    day = inputs.day("2025-07-03")
    state = ParkState.initial(park).for_month(7)
    state.month_peak_kw = 300.0
    ledger = Controller(park).run_day(_idle_plan(day.index, 300.0), day, state).ledger
    # a new peak is set only where the battery is already at full power or empty
    imports = ledger["grid_import_kw"]
    peak_before = np.maximum.accumulate(np.r_[300.0, imports.to_numpy()[:-1]])
    over = imports.to_numpy() > peak_before + EPS
    assert ledger["battery_discharge_kw"].sum() > 0
    full_out = ledger["battery_discharge_kw"] >= park.batteries[0].power_kw - EPS
    low = ledger["battery_soc_kwh"] <= park.batteries[0].soc_min * 400 + EPS
    assert (full_out | low)[over].all()


class _Heater:
    """A plant step as a new kind would add one: a 50 kW electric heater on the AC bus."""

    def __init__(self, ctl: Controller) -> None:
        self.events: list[str] = []

    def begin(self, plan, actual, state, absorb) -> None:
        self.kw = [0.0] * len(actual.index)

    def follow(self, plan) -> None:
        """Nothing: the heater reads no set-point."""

    def step(self, t: int) -> tuple[float, float]:
        self.kw[t] = 50.0
        return 50.0, 0.0

    def columns(self, put) -> None:
        put(None, "heater_kw", None, self.kw)

    def end(self, state: ParkState) -> None:
        state.stored["heater_runs"] = {"heater": float(len(self.kw))}


def test_a_plant_step_of_a_new_kind_draws_on_its_bus(park, inputs, monkeypatch):
    day = inputs.day("2025-07-01")
    state = ParkState.initial(park).for_month(7)
    before = Controller(park).run_day(_idle_plan(day.index, 0.0), day, state)
    ctl = Controller(park)
    ctl.plants.append(_Heater(ctl))
    after = ctl.run_day(_idle_plan(day.index, 0.0), day, state)
    assert (after.ledger["heater_kw"] == 50.0).all()
    served = lambda ledger: (ledger["grid_import_kw"] + ledger["battery_discharge_kw"]  # noqa
                             - ledger["grid_export_kw"] - ledger["battery_charge_kw"])
    assert (served(after.ledger) - served(before.ledger)).mean() > 40.0
    assert after.state.stored["heater_runs"] == {"heater": 96.0}
    assert registry.kinds_with("step"), "the registry names the built-in plant steps"


def test_storage_model_round_trips_a_step():
    bat = make_park().batteries[0]
    store = Storage.battery(bat, 0.25)
    level = store.step(200.0, 40.0, 0.0)
    assert store.before(level, 40.0, 0.0) == pytest.approx(200.0)
    assert store.max_charge(store.hi, bat.power_kw) == 0.0
    assert store.max_discharge(store.lo - 1.0, bat.power_kw) < 0.0  # charge back into window
    assert physics.decay(4.0, 0.25) == pytest.approx(0.99)
