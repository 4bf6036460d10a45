"""The demand-response block: known answers on a battery-only park with a flat baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dr_support import BATTERY, dr_park

from optimizer_support import make_inputs
from parkgrid.dr.events import PlannedEvent, read_calendar
from parkgrid.dr.settlement import settle
from parkgrid.optimizer import DayAheadOptimizer
from parkgrid.optimizer.demand_response import event_windows

LOAD_KW = 500.0  # flat, equal to the fixed baseline


def plan(park, offered_kw=None, battery_col=True, **columns):
    (event,) = read_calendar(park)
    planned = PlannedEvent(event, np.full(8, LOAD_KW), offered_kw)
    inputs = make_inputs(park, load_kw_plant=LOAD_KW, **columns)
    inputs.dr_events = (planned,)
    schedule = DayAheadOptimizer(park).plan(inputs)
    (summary,) = schedule.metadata["demand_response"]
    frame = schedule.frame
    window = (frame.index.hour >= 12) & (frame.index.hour < 14)
    net = frame["grid_import_kw"] - frame["grid_export_kw"]
    response = float((LOAD_KW - net[window]).sum() * park.step_h)
    if park.demand_response.programmes[0].kind == "valley_filling":
        response = -response
    return summary, response, frame


def test_delivers_exactly_the_capped_response_when_payment_beats_energy_cost(tmp_path):
    # 50 kW for 2 h, cap 150 %: 150 kWh paid at 3 yuan; a kWh discharged costs 0.5
    park = dr_park(tmp_path)
    summary, response, frame = plan(park)
    assert response == pytest.approx(150.0, abs=1e-4)
    assert summary["response_kwh"] == pytest.approx(150.0, abs=1e-4)
    assert summary["paid_kwh"] == pytest.approx(150.0, abs=1e-4)
    assert summary["payment_yuan"] == pytest.approx(450.0, abs=1e-3)
    assert summary["penalty_yuan"] == pytest.approx(0.0, abs=1e-6)
    assert frame["battery_discharge_kw"].sum() * park.step_h == pytest.approx(150.0, abs=1e-4)


def test_delivers_nothing_when_payment_does_not_beat_energy_cost(tmp_path):
    park = dr_park(tmp_path, price_yuan_per_kwh=0.3, commitment="optional")
    summary, response, frame = plan(park)
    assert not summary["accepted"] and summary["offered_kw"] == 0.0
    assert response == pytest.approx(0.0, abs=1e-6)
    assert frame["battery_discharge_kw"].sum() == pytest.approx(0.0, abs=1e-6)
    # a firm event without a penalty: nothing either
    summary, response, _ = plan(dr_park(tmp_path, price_yuan_per_kwh=0.3,
                                        penalty_yuan_per_kwh=0.0))
    assert response == pytest.approx(0.0, abs=1e-6) and summary["paid_kwh"] == 0.0


def test_a_firm_event_that_does_not_pay_is_delivered_to_the_band_floor(tmp_path):
    # the penalty (1 yuan/kWh) beats the discharge cost (0.5): up to the floor (50 kWh), no further
    summary, response, _ = plan(dr_park(tmp_path, price_yuan_per_kwh=0.3))
    assert response == pytest.approx(50.0, abs=1e-4)
    assert summary["payment_yuan"] == pytest.approx(15.0, abs=1e-3)


def test_below_the_floor_earns_nothing_and_pays_the_penalty(tmp_path):
    small = BATTERY | {"power_kw": 10}  # 20 kWh at most in the window: floor is 50
    park = dr_park(tmp_path, battery=small)
    summary, response, _ = plan(park)
    assert response == pytest.approx(20.0, abs=1e-4)
    assert summary["paid_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert summary["penalty_yuan"] == pytest.approx(30.0, abs=1e-4)
    settled = settle(park.demand_response.programmes[0], 50.0, 2.0, response)
    assert settled.status == "below_floor" and settled.penalty_yuan == pytest.approx(30.0)


def test_valley_filling_raises_import_in_the_window(tmp_path):
    park = dr_park(tmp_path, kind="valley_filling")
    summary, response, frame = plan(park)
    assert response == pytest.approx(150.0, abs=1e-4)
    assert summary["paid_kwh"] == pytest.approx(150.0, abs=1e-4)
    hours = frame.index.hour
    assert frame["battery_charge_kw"][(hours >= 12) & (hours < 14)].sum() > 0


def test_the_plan_prices_an_event_as_the_settlement_does(tmp_path):
    for price, power in ((3.0, 100), (0.3, 100), (3.0, 10), (0.6, 30)):
        park = dr_park(tmp_path, battery=BATTERY | {"power_kw": power},
                       price_yuan_per_kwh=price, capacity_yuan_per_kw=1.0)
        summary, response, _ = plan(park)
        settled = settle(park.demand_response.programmes[0], summary["offered_kw"], 2.0,
                         response)
        assert summary["payment_yuan"] - summary["penalty_yuan"] == pytest.approx(
            settled.net_yuan, abs=1e-3)


def test_a_horizon_without_events_has_no_block_and_a_partial_window_is_clipped(tmp_path):
    park = dr_park(tmp_path)
    (event,) = read_calendar(park)
    planned = (PlannedEvent(event, np.full(8, LOAD_KW)),)
    index = pd.date_range("2025-07-01 13:00", periods=8, freq="15min", tz="Asia/Shanghai")
    assert event_windows(planned, index) == ((0, 4, 1.0),)
    assert planned[0].baseline_in(index, 15).size == 4
    later = pd.date_range("2025-07-02", periods=96, freq="15min", tz="Asia/Shanghai")
    assert event_windows(planned, later) == ()
    schedule = DayAheadOptimizer(park).plan(make_inputs(park, load_kw_plant=LOAD_KW))
    assert "demand_response" not in schedule.metadata
