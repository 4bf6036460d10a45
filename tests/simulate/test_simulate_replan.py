"""Intraday re-planning (MPC) in the rollout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkgrid.errors import ArgumentError
from parkgrid.inputs import Inputs
from parkgrid.simulate.forecast import Noisy, spread_factor
from parkgrid.simulate.rollout import _RunningCost, replan_steps, simulate, state_at
from simulate_fixtures import make_inputs, make_park

PARK = make_park(cooling=None, ev=None, wind=[], loads=[
    {"name": "plant", "synthetic": {"shape": "industrial", "annual_kwh": 4e6}}],
    batteries=[{"name": "bat", "power_kw": 100, "energy_kwh": 400}],
    pv=[{"name": "roof", "capacity_kwp": 400}])


def cost_yuan(result) -> float:
    return _RunningCost(PARK).add(result.ledger)


def test_with_perfect_forecasts_replanning_costs_no_more_than_day_ahead():
    inputs = make_inputs(PARK, days=4)
    day_ahead = simulate(PARK, "2025-07-01", "2025-07-04", "perfect", "milp", inputs=inputs)
    replanned = simulate(PARK, "2025-07-01", "2025-07-04", "perfect", "milp", inputs=inputs,
                         replan_every=16, keep_schedules=True)
    gap = PARK.objective.rollout_mip_gap
    gross = float((day_ahead.ledger["grid_import_kw"] * day_ahead.ledger["price_import"]).sum()
                  * PARK.step_h)
    assert cost_yuan(replanned) <= cost_yuan(day_ahead) + gap * gross + 1e-6
    assert all(s.metadata["replans"] == 5 for s in replanned.schedules.values())


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


def test_state_at_reads_the_ledger_after_the_steps():
    inputs = make_inputs(PARK, days=1)
    result = simulate(PARK, "2025-07-01", "2025-07-02", "perfect", "milp", inputs=inputs)
    start = result.state.__class__({"bat": 200.0}, 0.0, {}, 50.0, 7)
    state = state_at(result.ledger, 40, start, PARK)
    assert state.battery_soc_kwh["bat"] == pytest.approx(
        result.ledger["battery_soc_kwh"].iloc[39])
    assert state.month_peak_kw == max(50.0, result.ledger["grid_import_kw"].iloc[:40].max())


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
