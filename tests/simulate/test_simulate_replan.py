"""Intraday re-planning (MPC) in the rollout."""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parkgrid.errors import ArgumentError
from parkgrid.inputs import Inputs
from parkgrid.model.schedule import ParkState
from parkgrid.simulate import kpi
from parkgrid.simulate.controller import Controller
from parkgrid.simulate.forecast import Noisy, spread_factor
from parkgrid.simulate.rollout import _RunningCost, _spliced, _under_way, replan_steps, simulate
from simulate_fixtures import HEATING, make_inputs, make_park

PARK = make_park(cooling=None, ev=None, wind=[], loads=[
    {"name": "plant", "synthetic": {"shape": "industrial", "annual_kwh": 4e6}}],
    batteries=[{"name": "bat", "power_kw": 100, "energy_kwh": 400}],
    pv=[{"name": "roof", "capacity_kwp": 400}])


def cost_yuan(result) -> float:
    return _RunningCost(PARK).add(result.ledger)


FULL = make_park()  # the every-asset park: batteries, chillers with a tank, EVs, PV, wind
HEATED = make_park(heating=HEATING)  # ... and a heating plant (heat pump, waste heat, tank)


@pytest.mark.parametrize("park", [PARK, FULL, HEATED], ids=["battery", "full", "heating"])
def test_with_perfect_forecasts_replanning_costs_no_more_than_day_ahead(park):
    """Each re-plan solves the tail of the day's problem from the state the plan reached, so
    it can only confirm or improve the plan: the total cost (the optimizer's objective:
    energy, demand, fuel, degradation, penalties) rises by at most the MIP gap of the gross
    cost."""
    inputs = make_inputs(park, days=4)
    day_ahead = simulate(park, "2025-07-01", "2025-07-04", "perfect", "milp", inputs=inputs)
    replanned = simulate(park, "2025-07-01", "2025-07-04", "perfect", "milp", inputs=inputs,
                         replan_every=16, keep_schedules=True)
    gap = park.objective.rollout_mip_gap
    ledger = day_ahead.ledger
    gross = float((ledger["grid_import_kw"] * ledger["price_import"]).sum() * park.step_h)
    assert kpi.kpis(replanned.ledger, park)["total_cost_yuan"] <= \
        kpi.kpis(ledger, park)["total_cost_yuan"] + gap * gross + 1e-6
    assert all(s.metadata["replans"] == 5 for s in replanned.schedules.values())
    assert not any("re-plan failed" in e for e in replanned.events)


class BlindUntilNoon:
    """Perfect forecasts of ``expected`` when issued before ``error_at``, of the actuals
    after: the error (actuals − expected) appears at ``error_at`` and is seen from then."""

    name = "blind"

    def __init__(self, error_at: pd.Timestamp, expected: Inputs) -> None:
        self.error_at, self.expected = error_at, expected

    def __call__(self, actuals: Inputs, start: pd.Timestamp, n_steps: int | None = None,
                 issue: pd.Timestamp | None = None) -> Inputs:
        known = actuals if issue is not None and issue >= self.error_at else self.expected
        return known.window(start, n_steps or actuals.park.steps_per_day)


@pytest.mark.parametrize("every", [4, 8])
def test_a_forecast_error_at_noon_is_answered_within_one_step_of_the_replan(every):
    inputs = make_inputs(PARK, days=2)
    noon = pd.Timestamp("2025-07-01 12:00", tz=PARK.site.timezone)
    series = inputs.series.copy()
    jump = (series.index >= noon) & (series.index < noon + pd.Timedelta(hours=3))
    series.loc[jump, "load_kw_plant"] += 600.0  # a peak the day-ahead forecast misses
    actuals = Inputs(PARK, series, inputs.weather, inputs.ev_sessions)
    blind = BlindUntilNoon(noon, inputs)
    runs = {e: simulate(PARK, "2025-07-01", "2025-07-02", blind, "milp", inputs=actuals,
                        replan_every=e, keep_schedules=True) for e in (None, every)}
    plans = {e: r.schedules["2025-07-01"].frame for e, r in runs.items()}
    at = plans[every].index.get_loc(noon)  # noon is a re-plan time for both intervals
    setpoint = {e: (p["battery_discharge_kw"] - p["battery_charge_kw"]).to_numpy()
                for e, p in plans.items()}
    # the day-ahead plan does not see the jump; the re-plan at noon discharges into it
    assert setpoint[every][at:at + 2].max() > setpoint[None][at:at + 2].max() + 10.0
    assert cost_yuan(runs[every]) < cost_yuan(runs[None])


@pytest.mark.parametrize("park", [PARK, HEATED], ids=["battery", "heating"])
def test_a_day_run_piecewise_is_the_day_run_at_once_and_its_state_is_the_ledgers(park):
    """``begin_day`` → ``advance`` → ``state_out`` → ``follow`` (the same plan) →
    ``finish`` gives the ledger and end state of ``run_day``; the state mid-day is the
    ledger's after the steps run (every store, the chillers, the month-to-date peak)."""
    inputs = make_inputs(park, days=1)
    day = pd.Timestamp("2025-07-01", tz=park.site.timezone)
    plan = simulate(park, day, "2025-07-02", "noisy", "milp", inputs=inputs,
                    keep_schedules=True).schedules["2025-07-01"]
    start = ParkState.initial(park).for_month(7)
    start.month_peak_kw = 50.0
    actual = inputs.window(day, 96)
    whole = Controller(park).run_day(plan, actual, start)
    run = Controller(park).begin_day(plan, actual, start)
    run.advance(40)
    state = run.state_out()
    run.follow(plan, 40)
    pieces = run.finish(actual)
    pd.testing.assert_frame_equal(pieces.ledger, whole.ledger)
    assert pieces.state == whole.state
    row = whole.ledger.iloc[39]
    expected = ParkState({}, 0.0, {}, 0.0).set_levels_from(park, lambda k, n, c: row[c])
    assert state.battery_soc_kwh == pytest.approx(expected.battery_soc_kwh)
    assert state.tank_level_kwh_th == pytest.approx(expected.tank_level_kwh_th)
    assert state.stored == expected.stored
    assert state.month_peak_kw == pytest.approx(
        max(50.0, whole.ledger["grid_import_kw"].iloc[:40].max()))
    if park.cooling:
        assert state.chillers_on == {c.name: bool(row[f"chiller_cooling_kw_th_{c.name}"] > 0)
                                     for c in park.cooling.chillers}


def _planned_day(park, forecast: str) -> tuple:
    """The MILP plan of 1 July 2025 on ``forecast``, the day's actuals, the start state."""
    inputs = make_inputs(park, days=1)
    day = pd.Timestamp("2025-07-01", tz=park.site.timezone)
    plan = simulate(park, day, "2025-07-02", forecast, "milp", inputs=inputs,
                    keep_schedules=True).schedules["2025-07-01"]
    return plan, inputs.window(day, 96), ParkState.initial(park).for_month(7)


def test_following_a_new_plan_changes_only_the_steps_after_it():
    """A plan followed from step 40: the steps before are the old plan's run; from 40 on
    the batteries take the new plan's set-points."""
    plan, actual, start = _planned_day(PARK, "perfect")
    whole = Controller(PARK).run_day(plan, actual, start).ledger
    idle = plan.frame.copy()
    idle[["battery_charge_kw", "battery_discharge_kw"]] = 0.0
    idle["battery_charge_kw"] = 20.0  # charge gently from step 40 on
    run = Controller(PARK).begin_day(plan, actual, start)
    run.advance(40)
    run.follow(type(plan)(idle, plan.metadata), 40)
    ledger = run.finish(actual).ledger
    pd.testing.assert_frame_equal(ledger.iloc[:40], whole.iloc[:40])
    later = ledger.iloc[40:]
    assert (later["battery_discharge_kw"] <= 1e-9).all() or \
        later["battery_discharge_kw"].sum() < whole["battery_discharge_kw"].iloc[40:].sum()
    assert later["battery_charge_kw"].sum() > 0


def test_refreshed_noisy_forecasts_shrink_with_lead_time_and_keep_their_sign():
    inputs = make_inputs(PARK, days=2)
    day = pd.Timestamp("2025-07-01", tz=PARK.site.timezone)
    noisy = Noisy(seed=3)
    ahead = noisy(inputs, day, 96)
    at = day + pd.Timedelta(hours=14)
    fresh = noisy(inputs, at, 40, issue=at)
    actual = inputs.series["load_kw_plant"]
    err_ahead = (ahead.series["load_kw_plant"] - actual).loc[at:].iloc[:40]
    err_fresh = (fresh.series["load_kw_plant"] - actual).loc[at:].iloc[:40]
    assert abs(err_fresh.iloc[0]) < 0.1 * abs(err_ahead.iloc[0]) + 1e-9
    assert (np.sign(err_fresh) == np.sign(err_ahead)).all()
    assert (np.abs(err_fresh) <= np.abs(err_ahead) + 1e-9).all()
    assert spread_factor(np.array([0.0, 12.0, 36.0])) == pytest.approx([0.0, 0.75, 1.25])


@pytest.mark.parametrize("text", ["7min", "1d", "soon", "-1h", "0h"])
def test_bad_replan_intervals_are_argument_errors(text):
    with pytest.raises(ArgumentError, match="--replan-every"):
        replan_steps(text, PARK)
    assert replan_steps("1h", PARK) == 4 and replan_steps("15min", PARK) == 1


def test_a_bad_interval_on_an_hourly_park_suggests_intervals_it_takes():
    hourly = make_park(time_step_minutes=60)
    with pytest.raises(ArgumentError) as error:
        replan_steps("15min", hourly)
    message = str(error.value)
    assert "got '15min'" in message and "60-min step" in message
    suggested = re.search(r"such as (.*?):", message).group(1)
    assert "15min" not in suggested and "1h" in suggested
    assert all(replan_steps(s, hourly) for s in re.split(r", | or ", suggested))
    assert replan_steps("2h", hourly) == 2


def test_model_forecaster_never_trains_on_the_future():
    from parkgrid.simulate.forecast import Model

    inputs = make_inputs(PARK, days=20)
    day = pd.Timestamp("2025-07-18", tz=PARK.site.timezone)
    issue = day - pd.Timedelta(hours=12)
    poisoned = inputs.series.copy()
    poisoned.loc[poisoned.index >= issue, "load_kw_plant"] *= 40.0
    model = Model(seed=1)
    clean = model(inputs, day, 96)
    seen = model(Inputs(PARK, poisoned, inputs.weather, inputs.ev_sessions), day, 96)
    np.testing.assert_allclose(seen.series["load_kw_plant"], clean.series["load_kw_plant"])
    # the poison is seen by a forecast issued after it (the test can fail)
    later = model(Inputs(PARK, poisoned, inputs.weather, inputs.ev_sessions),
                  day + pd.Timedelta(days=1), 96)
    later_clean = Model(seed=1)(inputs, day + pd.Timedelta(days=1), 96)
    gap = (later.series["load_kw_plant"] - later_clean.series["load_kw_plant"]).abs()
    assert gap.max() > 10.0
    # forecast weather: the actual plus an error that grows with lead time
    gap = (clean.weather["temp_air"] - inputs.weather["temp_air"].loc[clean.index]).abs()
    assert 0 < gap.mean() < 5.0
    early = model(inputs, pd.Timestamp("2025-07-01", tz=PARK.site.timezone), 96)
    assert len(early.series) == 96  # no history yet: persistence answers


def test_refreshed_model_forecast_weather_keeps_the_days_error_signs():
    """The model forecaster's weather errors at a re-plan are the day's errors at those
    steps, shrunk with the shorter lead time (not the day's errors shifted in time)."""
    from parkgrid.simulate.forecast import Model

    inputs = make_inputs(PARK, days=2)
    day = pd.Timestamp("2025-07-01", tz=PARK.site.timezone)
    model = Model(seed=3)
    ahead = model.weather(inputs.window(day, 96), day, day - pd.Timedelta(hours=12))
    at = day + pd.Timedelta(hours=14)
    fresh = model.weather(inputs.window(at, 40), at, at)
    actual = inputs.weather["temp_air"]
    err_ahead = (ahead["temp_air"] - actual).loc[at:].iloc[:40]
    err_fresh = (fresh["temp_air"] - actual).loc[at:].iloc[:40]
    assert (np.sign(err_fresh) == np.sign(err_ahead)).all()
    assert (np.abs(err_fresh) <= np.abs(err_ahead) + 1e-9).all()


def test_model_forecaster_trains_once_a_day_and_its_replans_never_see_the_future():
    """An intraday re-plan re-predicts with the model trained before the day-ahead issue
    time (on its refreshed weather); a model trained later is never reused for an earlier
    day."""
    from parkgrid.forecasting.model import Trained
    from parkgrid.simulate.forecast import Model

    inputs = make_inputs(PARK, days=20)
    day = pd.Timestamp("2025-07-18", tz=PARK.site.timezone)
    at = day + pd.Timedelta(hours=10)
    poisoned = inputs.series.copy()
    poisoned.loc[poisoned.index >= day - pd.Timedelta(hours=12), "load_kw_plant"] *= 40.0
    actuals = Inputs(PARK, poisoned, inputs.weather, inputs.ev_sessions)
    model = Model(seed=1)
    fits = []
    original = Trained.__init__

    def counting(self, *args, **kwargs):
        fits.append(args[1].index[-1])
        original(self, *args, **kwargs)

    Trained.__init__ = counting
    try:
        model(actuals, day + pd.Timedelta(days=1), 96)  # a later day first
        ahead = model(actuals, day, 96)
        replans = [model(actuals, day + pd.Timedelta(hours=h), 96 - 4 * h,
                         issue=day + pd.Timedelta(hours=h)) for h in (2, 6, 10)]
    finally:
        Trained.__init__ = original
    assert len(fits) == 2 and fits[1] < day - pd.Timedelta(hours=12)
    fresh = Model(seed=1)(inputs, at, 56, issue=at)  # trained on clean history
    replan = replans[-1].series["load_kw_plant"]
    np.testing.assert_allclose(replan, fresh.series["load_kw_plant"])
    assert replan.mean() < 2 * inputs.series["load_kw_plant"].loc[replan.index].mean()
    assert len(ahead.series) == 96


def test_model_forecaster_forecasts_the_heating_load_of_a_heated_park():
    from parkgrid.simulate.forecast import Model

    park = make_park(heating=HEATING, wind=[])  # (the fixture's weather has no pressure)
    inputs = make_inputs(park, days=20)
    day = pd.Timestamp("2025-07-18", tz=park.site.timezone)
    at = day + pd.Timedelta(hours=6)
    model = Model(seed=2)
    ahead = model(inputs, day, 96)
    replan = model(inputs, at, 72, issue=at)
    for made in (ahead, replan):
        heat = made.series["heating_load_kw_th"]
        actual = inputs.series["heating_load_kw_th"].loc[heat.index]
        # learned: a flat forecast at the mean would miss by 0.5 of the mean (the daily swing)
        assert (heat >= 0).all() and (heat - actual).abs().mean() < 0.2 * actual.mean()
    result = simulate(park, day, day + pd.Timedelta(days=1), model, "milp", inputs=inputs,
                      replan_every=24, keep_schedules=True)
    assert result.schedules["2025-07-18"].metadata["replans"] == 3
    assert not any("re-plan failed" in e for e in result.events)


def test_a_replan_asks_sessions_under_way_for_what_is_still_due():
    inputs = make_inputs(FULL, days=1)
    ev = inputs.ev_sessions
    at = ev["arrival"].sort_values().iloc[len(ev) // 2]
    plugged = ev[ev["arrival"] < at]
    key = next(zip(plugged["charger"], plugged["pile"], plugged["arrival"], strict=True))
    served = plugged.iloc[-1]
    delivered = {key: 1.5, (served["charger"], served["pile"], served["arrival"]):
                 served["energy_kwh"]}
    out = _under_way(inputs, at, delivered).ev_sessions
    expected = ev.copy()
    expected.loc[plugged.index[0], "energy_kwh"] -= 1.5
    expected.loc[plugged.index, "arrival"] = at
    expected = expected.drop(index=served.name).reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected)
    assert len(out) == len(ev) - 1  # the session already served is gone


def test_run_command_replans_and_says_so_in_the_kpis(tmp_path):
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from parkgrid.cli import app

    park = Path(__file__).resolve().parents[2] / "models" / "dameisha.yaml"
    runner = CliRunner()
    bad = runner.invoke(app, ["run", str(park), "--days", "1", "--replan-every", "7min",
                              "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "--replan-every" in bad.output
    assert "Traceback" not in bad.output
    result = runner.invoke(app, ["run", str(park), "--start", "2025-07-01", "--days", "1",
                                 "--replan-every", "4h", "--no-report", "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    kpis = json.loads((tmp_path / "out" / "kpis.json").read_text())
    assert kpis["replan_every_min"] == kpis["run"]["replan_every_min"] == 240
    assert kpis["comparison"]["regret_pct"] > -1e-6  # never below the bound
    solver = kpis["solver"]
    assert (solver["replans"], solver["replans_failed"]) == (5, 0)  # at 4, 8, 12, 16, 20 h
    assert solver["per_day"][0]["replans"] == 5
    assert solver["replan_solve_s_total"] > 0
    assert "re-planned intraday every 240 min: 5 re-plans, 0 failed" in \
        " ".join(result.output.split())
    report = runner.invoke(app, ["report", str(tmp_path / "out")])
    assert report.exit_code == 0, report.output
    html = (tmp_path / "out" / "report.html").read_text()
    assert "re-planned intraday every 240 min" in html and "intraday re-plans" in html
    # the folder holds a re-planned run: a day-ahead run is another run (--force to replace)
    again = runner.invoke(app, ["run", str(park), "--start", "2025-07-01", "--days", "1",
                                "--no-report", "--out", str(tmp_path / "out")])
    assert again.exit_code == 2 and "holds another run" in again.output
    assert json.loads((tmp_path / "out" / "kpis.json").read_text()) == kpis


def test_each_tail_length_is_built_once_and_re_solved_on_later_days(monkeypatch):
    from parkgrid.optimizer import model as optimizer_model

    built = []
    original = optimizer_model.ParkModel.__init__

    def counting(self, park, n_steps, *args, **kwargs):
        built.append(n_steps)
        original(self, park, n_steps, *args, **kwargs)

    monkeypatch.setattr(optimizer_model.ParkModel, "__init__", counting)
    inputs = make_inputs(PARK, days=3)
    result = simulate(PARK, "2025-07-01", "2025-07-03", "noisy", "milp", inputs=inputs,
                      replan_every=16, keep_schedules=True)
    assert sorted(built) == [16, 32, 48, 64, 80, 96]  # the day-ahead length and 5 tails
    assert all(s.metadata["replans"] == 5 for s in result.schedules.values())


def test_a_replan_splices_the_new_plan_after_the_steps_run():
    index = pd.date_range("2025-07-15", periods=8, freq="15min", tz="Asia/Shanghai",
                          name="timestamp")
    followed = pd.DataFrame({"a_kw": np.arange(8.0), "on": np.ones(8, dtype=np.int64),
                             "tou_period": ["peak"] * 8}, index=index)
    new = pd.DataFrame({"a_kw": 100.0 + np.arange(6.0), "on": np.zeros(6, dtype=np.int64),
                        "tou_period": ["flat"] * 6})  # a plan beyond the day's end
    got = _spliced(followed, new, 3)
    assert got.index.equals(index) and list(got.columns) == list(followed.columns)
    assert got["a_kw"].tolist() == [0.0, 1.0, 2.0, 100.0, 101.0, 102.0, 103.0, 104.0]
    assert got["on"].tolist() == [1, 1, 1, 0, 0, 0, 0, 0] and got["on"].dtype == np.int64
    assert got["tou_period"].tolist() == ["peak"] * 3 + ["flat"] * 5
    # a column the new plan lacks keeps the followed values; one it adds is left out
    other = new[["a_kw"]].assign(extra=1.0)
    mixed = _spliced(followed, other, 6)
    assert list(mixed.columns) == list(followed.columns)
    assert mixed["a_kw"].tolist()[6:] == [100.0, 101.0]
    assert mixed["on"].tolist() == [1] * 8
    assert mixed["on"].dtype == np.int64
    # a gap in a column the new plan has stays a gap (only missing columns are filled)
    gap = new[["a_kw"]].assign(a_kw=np.nan)
    assert _spliced(followed, gap, 6)["a_kw"].isna().tolist() == [False] * 6 + [True] * 2


@pytest.mark.parametrize("park", [FULL, HEATED], ids=["full", "heating"])
def test_a_replanned_rollout_balances_and_each_plan_starts_from_the_ledgers_state(park):
    """Re-planned every 4 h on noisy forecasts over three days across a month's end: every
    step balances every bus, and every plan (day-ahead or re-plan) starts from the state the
    ledger has reached: each store's level after the last step run, the chillers' status,
    the month-to-date peak import (reset on the 1st)."""
    import copy

    from parkgrid.model.balance import check_schedule
    from parkgrid.simulate.rollout import make_planner, rollout_options

    inputs = make_inputs(park, start="2025-06-29", days=3)
    milp, given = make_planner("milp", park, **rollout_options(park, None)), []

    def recording(forecast: Inputs, state: ParkState):
        given.append((forecast.index[0], copy.deepcopy(state)))
        return milp(forecast, state)

    result = simulate(park, "2025-06-29", "2025-07-02", "noisy", recording, inputs=inputs,
                      replan_every=16, keep_schedules=True)
    ledger = result.ledger
    assert check_schedule(ledger, park, inputs.window(ledger.index[0], len(ledger))) == []
    assert [s.metadata["replans"] for s in result.schedules.values()] == [5, 5, 5]
    assert len(given) == 3 * 6
    initial = ParkState.initial(park)
    for at, state in given:
        run = ledger[ledger.index < at]
        if run.empty:
            assert state.battery_soc_kwh == initial.battery_soc_kwh
            continue
        last = run.iloc[-1]
        expected = ParkState({}, 0.0, {}, 0.0).set_levels_from(
            park, lambda k, n, c, row=last: row[c])
        assert state.battery_soc_kwh == pytest.approx(expected.battery_soc_kwh, abs=1e-9)
        assert state.tank_level_kwh_th == pytest.approx(expected.tank_level_kwh_th, abs=1e-9)
        for key, levels in expected.stored.items():
            assert state.stored[key] == pytest.approx(levels, abs=1e-9)
        month = run[run.index.month == at.month]["grid_import_kw"]
        assert state.month_peak_kw == pytest.approx(month.max() if len(month) else 0.0)
        assert state.chillers_on == {c.name: bool(last[f"chiller_cooling_kw_th_{c.name}"] > 0)
                                     for c in park.cooling.chillers}


def test_after_a_replan_the_controller_shaves_only_above_the_month_to_date_peak():
    """The demand-charge state carries into a re-plan: from the step a new plan is followed,
    the batteries absorb imports above the new plan's peak or the month-to-date peak, the
    higher: below a month-to-date peak already paid for, nothing is discharged."""
    inputs = make_inputs(PARK, days=1)
    day = pd.Timestamp("2025-07-01", tz=PARK.site.timezone)
    plan = simulate(PARK, day, "2025-07-02", "perfect", "milp", inputs=inputs,
                    keep_schedules=True).schedules["2025-07-01"]
    actual = inputs.window(day, 96)
    low = plan.frame.copy()
    low[["battery_charge_kw", "battery_discharge_kw", "grid_import_kw"]] = 0.0

    def discharged_after_40(month_peak_kw: float) -> float:
        start = ParkState.initial(PARK).for_month(7)
        start.battery_soc_kwh = {"bat": 300.0}
        start.month_peak_kw = month_peak_kw
        run = Controller(PARK).begin_day(plan, actual, start)
        run.advance(40)
        run.follow(type(plan)(low, plan.metadata), 40)
        return float(run.finish(actual).ledger["battery_discharge_kw"].iloc[40:].sum())

    assert discharged_after_40(0.0) > 10.0  # the new plan's peak is 0: it shaves
    assert discharged_after_40(1e5) == 0.0  # a month-to-date peak above every import


@functools.cache
def _heated_day() -> tuple:
    plan, actual, start = _planned_day(HEATED, "noisy")
    return plan, actual, start, Controller(HEATED).run_day(plan, actual, start)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.integers(0, 96), max_size=8))
def test_a_day_cut_anywhere_is_the_day_run_at_once(cuts):
    """Any re-plan times, following the same plan: the ledger and the end state are
    those of the day run at once (every store, the chillers, the peak, EV energy)."""
    plan, actual, start, whole = _heated_day()
    run = Controller(HEATED).begin_day(plan, actual, start)
    for t in sorted(cuts):
        run.advance(t)
        run.state_out()
        run.follow(plan, t)
    pieces = run.finish(actual)
    pd.testing.assert_frame_equal(pieces.ledger, whole.ledger)
    assert pieces.state == whole.state
