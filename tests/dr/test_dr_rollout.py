"""Demand response in the rollout: events known at their notice, delivered, settled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkgrid.config import parse_park
from parkgrid.dr.baseline import net_import_kw
from parkgrid.dr.events import read_calendar
from parkgrid.dr.session import clock
from parkgrid.simulate import kpi
from parkgrid.simulate.rollout import simulate
from simulate_fixtures import make_inputs, park_config

TZ = "Asia/Shanghai"
CALENDAR = ("programme,date,start,end,requested_kw\n"
            "peak,2025-07-09,14:00,16:00,100\n"
            "fast,2025-07-10,15:00,17:00,80\n")
PROGRAMMES = [
    {"name": "peak", "kind": "peak_shaving", "capacity_kw": 150, "price_yuan_per_kwh": 4.0,
     "baseline_days": 3, "penalty_yuan_per_kwh": 2.0},
    {"name": "fast", "kind": "peak_shaving", "notice": "hours_ahead", "notice_h": 3,
     "capacity_kw": 150, "price_yuan_per_kwh": 4.0, "baseline_days": 3},
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    path = tmp_path_factory.mktemp("dr") / "events.csv"
    path.write_text(CALENDAR, encoding="utf-8")
    park = parse_park(park_config(demand_response={"programmes": PROGRAMMES,
                                                   "events": str(path)}))
    inputs = make_inputs(park, days=11)
    events = read_calendar(park)
    args = dict(inputs=inputs, keep_schedules=True)
    with_dr = simulate(park, "2025-07-01", "2025-07-12", "perfect", "milp", dr_events=events,
                       **args)
    without = simulate(park, "2025-07-01", "2025-07-12", "perfect", "milp", **args)
    return park, with_dr, without


def test_events_are_settled_against_a_similar_days_baseline_by_hand(runs):
    park, with_dr, _ = runs
    first, second = with_dr.demand_response
    net = net_import_kw(with_dr.ledger)
    # workdays before Wed 9 July: Tue 8, Mon 7, Fri 4 (no event days among them)
    days = ["2025-07-08", "2025-07-07", "2025-07-04"]
    by_hand = np.mean([net[pd.Timestamp(f"{d} 14:00", tz=TZ):
                           pd.Timestamp(f"{d} 15:45", tz=TZ)].sum() for d in days]) * park.step_h
    assert first["baseline_kwh"] == pytest.approx(by_hand)
    window = net[pd.Timestamp("2025-07-09 14:00", tz=TZ):pd.Timestamp("2025-07-09 15:45", tz=TZ)]
    assert first["actual_kwh"] == pytest.approx(window.sum() * park.step_h)
    assert first["response_kwh"] == pytest.approx(first["baseline_kwh"] - first["actual_kwh"])
    assert first["status"] in ("in_band", "above_cap")
    assert first["payment_yuan"] == pytest.approx(4.0 * min(first["response_kwh"], 300.0))
    # Thursday's similar days exclude Wednesday (an event day)
    assert second["programme"] == "fast" and second["status"] != "no_baseline"


def test_the_park_delivers_what_it_would_not_without_the_event(runs):
    _, with_dr, without = runs
    for row in with_dr.demand_response:
        day = pd.Timestamp(f"{row['date']} {row['start']}", tz=TZ)
        end = pd.Timestamp(f"{row['date']} {row['end']}", tz=TZ) - pd.Timedelta(minutes=15)
        plain = net_import_kw(without.ledger)[day:end].sum() * 0.25
        assert row["actual_kwh"] < plain - 1.0


def test_an_hours_ahead_event_is_planned_only_from_its_notice(runs):
    _, with_dr, _ = runs
    day_plan = with_dr.schedules["2025-07-10"]
    assert day_plan.metadata.get("replans") == 1  # the re-plan at 12:00, the notice
    planned = {r["event"]: r for r in with_dr.demand_response}
    assert planned["fast@2025-07-10 15:00"]["planned_response_kwh"] is not None
    # the day-ahead plan of the 10th (issued at midnight) knew nothing of it
    assert "demand_response" not in day_plan.metadata


def test_events_before_any_history_are_reported_not_settled(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("programme,date,start,end,requested_kw\npeak,2025-07-01,14:00,16:00,\n",
                    encoding="utf-8")
    park = parse_park(park_config(demand_response={"programmes": PROGRAMMES[:1],
                                                   "events": str(path)}))
    result = simulate(park, "2025-07-01", "2025-07-02", "perfect", "milp",
                      inputs=make_inputs(park, days=1), dr_events=read_calendar(park))
    (row,) = result.demand_response
    assert row["status"] == "no_baseline" and "similar day" in row["reason"]


def test_a_run_reports_each_event_and_the_cost_of_delivering_it(tmp_path):
    from parkgrid.simulate.run import run

    path = tmp_path / "events.csv"
    path.write_text(CALENDAR, encoding="utf-8")
    park = parse_park(park_config(demand_response={"programmes": PROGRAMMES,
                                                   "events": str(path)}))
    result = run(park, "2025-07-01", 11, "perfect", "milp", inputs=make_inputs(park, days=11),
                 baselines=(), perfect_foresight=False, parallel=False)
    section = result.kpis["demand_response"]
    period, events = section["period"], section["events"]
    assert period["events"] == 2 == len(events)
    assert period["revenue_yuan"] == pytest.approx(sum(e["net_yuan"] for e in events))
    assert period["delivery_cost_yuan"] == pytest.approx(
        period["total_cost_yuan_with_events"] - period["total_cost_yuan_without_events"])
    assert period["net_benefit_yuan"] == pytest.approx(
        period["revenue_yuan"] - period["delivery_cost_yuan"])
    # the payment (4 yuan/kWh) beats what delivering costs
    assert period["net_benefit_yuan"] > 0
    for e in events:
        assert e["delivery_cost_yuan"] == pytest.approx(
            e["day_cost_yuan"] - e["day_cost_without_event_yuan"])
    assert events[0]["offered_kwh"] == pytest.approx(200.0)
    assert result.without_events is not None
    # the period's figures are the KPIs of the two runs' own ledgers
    for ledger, suffix in ((result.strategy.ledger, "with"),
                           (result.without_events.ledger, "without")):
        assert period[f"total_cost_yuan_{suffix}_events"] == pytest.approx(
            kpi.kpis(ledger, park)["total_cost_yuan"])


def test_an_event_to_midnight_is_written_as_the_calendar_writes_it():
    start = pd.Timestamp("2025-07-01 22:00")
    assert clock(pd.Timestamp("2025-07-02 00:00"), start) == "24:00"
    assert clock(pd.Timestamp("2025-07-01 23:30"), start) == "23:30"


def test_a_declared_plan_baseline_is_the_plan_without_the_event(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("programme,date,start,end,requested_kw\ndeclared,2025-07-03,14:00,16:00,\n",
                    encoding="utf-8")
    programme = PROGRAMMES[0] | {"name": "declared", "baseline": "declared_plan"}
    park = parse_park(park_config(demand_response={"programmes": [programme],
                                                   "events": str(path)}))
    inputs = make_inputs(park, days=3)
    with_dr = simulate(park, "2025-07-01", "2025-07-04", "perfect", "milp", inputs=inputs,
                       dr_events=read_calendar(park))
    without = simulate(park, "2025-07-01", "2025-07-04", "perfect", "milp", inputs=inputs)
    (row,) = with_dr.demand_response
    window = net_import_kw(without.ledger)[pd.Timestamp("2025-07-03 14:00", tz=TZ):
                                           pd.Timestamp("2025-07-03 15:45", tz=TZ)]
    # perfect forecasts: the run without the event follows the declared plan exactly
    assert row["baseline_kwh"] == pytest.approx(window.sum() * park.step_h, rel=1e-3, abs=0.5)
    assert row["response_kwh"] > 0
