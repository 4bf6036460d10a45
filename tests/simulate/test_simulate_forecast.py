"""Forecasters: perfect, persistence and seeded noisy forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkgrid.simulate.forecast import (
    DEFAULT_ERRORS,
    Noisy,
    Perfect,
    Persistence,
    ar1_noise,
    lead_time_h,
    make_forecaster,
)
from simulate_fixtures import make_inputs, make_park

TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def park():
    return make_park()


@pytest.fixture(scope="module")
def inputs(park):
    return make_inputs(park, start="2025-06-01", days=60, seed=5)


def day(date: str) -> pd.Timestamp:
    return pd.Timestamp(date, tz=TZ)


def test_perfect_forecast_is_the_actual_day(inputs):
    fc = Perfect()(inputs, day("2025-06-20"))
    pd.testing.assert_frame_equal(fc.series, inputs.day("2025-06-20").series)


def test_persistence_repeats_the_last_observation_before_noon_the_day_before(inputs):
    fc = Persistence()(inputs, day("2025-06-20")).series
    before = inputs.day("2025-06-19").series["pv_kw_roof"].to_numpy()
    two_before = inputs.day("2025-06-18").series["pv_kw_roof"].to_numpy()
    morning = fc.index.hour < 12
    np.testing.assert_array_equal(fc["pv_kw_roof"].to_numpy()[morning], before[morning])
    np.testing.assert_array_equal(fc["pv_kw_roof"].to_numpy()[~morning], two_before[~morning])


def test_persistence_takes_loads_from_the_same_weekday_a_week_before(inputs):
    fc = Persistence()(inputs, day("2025-06-20")).series
    week_before = inputs.day("2025-06-13").series
    for col in ("load_kw_plant", "cooling_load_kw_th"):
        np.testing.assert_array_equal(fc[col].to_numpy(), week_before[col].to_numpy())
    assert (fc["price_import_yuan_per_kwh"] == inputs.day("2025-06-20").series[
        "price_import_yuan_per_kwh"]).all()


def test_persistence_moves_last_weeks_ev_sessions_forward(inputs):
    fc = Persistence()(inputs, day("2025-06-20"))
    week_before = inputs.day("2025-06-13").ev_sessions
    assert len(fc.ev_sessions) == len(week_before)
    shifted = week_before["arrival"] + pd.Timedelta(days=7)
    assert (fc.ev_sessions["arrival"].to_numpy() == shifted.to_numpy()).all()


def test_persistence_without_history_wraps_to_the_same_weekday(inputs):
    fc = Persistence()(inputs, day("2025-06-02")).series
    assert fc.index[0] == day("2025-06-02")
    source = inputs.day("2025-07-28").series  # the latest Monday of the inputs
    np.testing.assert_array_equal(fc["load_kw_plant"].to_numpy(),
                                  source["load_kw_plant"].to_numpy())


def test_lead_times_run_from_12_to_36_hours(inputs):
    index = inputs.day("2025-06-20").index
    lead = lead_time_h(index, day("2025-06-20"), 0.25)
    assert lead[0] == pytest.approx(12.125)
    assert lead[-1] == pytest.approx(35.875)


def test_noisy_forecast_is_seeded(inputs):
    a = Noisy(seed=3)(inputs, day("2025-06-20")).series
    b = Noisy(seed=3)(inputs, day("2025-06-20")).series
    c = Noisy(seed=4)(inputs, day("2025-06-20")).series
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["load_kw_plant"], c["load_kw_plant"])


def test_noisy_forecast_of_a_day_does_not_depend_on_the_run(inputs):
    fresh = Noisy(seed=3)
    used = Noisy(seed=3)
    used(inputs, day("2025-06-10"))
    pd.testing.assert_frame_equal(fresh(inputs, day("2025-06-20")).series,
                                  used(inputs, day("2025-06-20")).series)


def _relative_errors(inputs, col: str, days: int = 40) -> np.ndarray:
    """Forecast error / actual for each step of ``days`` days, one row per day."""
    noisy = Noisy(seed=11)
    rows = []
    for d in pd.date_range("2025-06-10", periods=days, freq="D", tz=TZ):
        actual = inputs.day(d).series[col].to_numpy()
        rows.append(noisy(inputs, d).series[col].to_numpy() / actual - 1.0)
    return np.array(rows)


def test_noisy_error_spread_grows_with_lead_time(inputs):
    err = _relative_errors(inputs, "load_kw_plant")
    early, late = err[:, :24].std(), err[:, -24:].std()
    assert late > 1.3 * early


def test_noisy_errors_are_autocorrelated(inputs):
    err = _relative_errors(inputs, "load_kw_plant")
    lag1 = np.mean([np.corrcoef(row[:-1], row[1:])[0, 1] for row in err])
    assert lag1 > 0.8


def test_ar1_noise_has_unit_variance_and_the_given_correlation():
    rng = np.random.default_rng(0)
    x = ar1_noise(rng, 200_000, 0.25, 4.0)
    assert x.std() == pytest.approx(1.0, rel=0.02)
    assert np.corrcoef(x[:-1], x[1:])[0, 1] == pytest.approx(np.exp(-0.25 / 4.0), abs=0.01)


def test_default_error_levels_wind_worst_load_best(inputs, park):
    """Normalised RMSE (by the column's maximum) at day-ahead lead times."""
    noisy = Noisy(seed=2)
    sq = {"wind_kw_wt": [], "pv_kw_roof": [], "load_kw_plant": []}
    for d in pd.date_range("2025-06-10", periods=30, freq="D", tz=TZ):
        fc, actual = noisy(inputs, d).series, inputs.day(d).series
        for col in sq:
            sq[col].append(((fc[col] - actual[col]) / inputs.series[col].max()) ** 2)
    nrmse = {col: float(np.sqrt(np.mean(np.concatenate(v)))) for col, v in sq.items()}
    assert nrmse["wind_kw_wt"] > nrmse["pv_kw_roof"] > nrmse["load_kw_plant"]
    assert DEFAULT_ERRORS["wind"].kind == "capacity"


def test_renewable_forecasts_stay_within_zero_and_capacity(inputs):
    fc = Noisy(seed=1)(inputs, day("2025-06-20")).series
    for col in ("pv_kw_roof", "wind_kw_wt"):
        assert fc[col].min() >= 0.0
        assert fc[col].max() <= inputs.series[col].max() + 1e-9
    night = fc.index.hour < 5
    assert (fc["pv_kw_roof"][night] == 0.0).all()


def test_unknown_forecast_name_is_refused():
    with pytest.raises(ValueError, match="expected one of perfect, persistence, noisy"):
        make_forecaster("oracle")


TWO_DAYS = 2 * 96


def test_perfect_look_ahead_is_the_actual_two_days(inputs):
    fc = Perfect()(inputs, day("2025-06-20"), TWO_DAYS)
    pd.testing.assert_frame_equal(fc.series, inputs.day("2025-06-20", days=2).series)


def test_persistence_look_ahead_goes_back_to_before_the_issue_time(inputs):
    # issued 12:00 on 06-19: the next day (06-21) repeats 06-19 before noon and 06-18 after
    fc = Persistence()(inputs, day("2025-06-20"), TWO_DAYS).series
    pv = fc["pv_kw_roof"].to_numpy()[96:]
    morning = fc.index[96:].hour < 12
    source = {d: inputs.day(d).series["pv_kw_roof"].to_numpy() for d in ("2025-06-19",
                                                                        "2025-06-18")}
    np.testing.assert_array_equal(pv[morning], source["2025-06-19"][morning])
    np.testing.assert_array_equal(pv[~morning], source["2025-06-18"][~morning])
    one_day = Persistence()(inputs, day("2025-06-20")).series
    pd.testing.assert_frame_equal(fc.iloc[:96], one_day)


def test_noisy_look_ahead_keeps_the_planned_days_forecast_and_grows_its_errors(inputs):
    noisy = Noisy(seed=3)
    one = noisy(inputs, day("2025-06-20")).series
    two = noisy(inputs, day("2025-06-20"), TWO_DAYS).series
    pd.testing.assert_frame_equal(two.iloc[:96], one)
    rows = []
    for d in pd.date_range("2025-06-10", periods=30, freq="D", tz=TZ):
        actual = inputs.day(d, days=2).series["load_kw_plant"].to_numpy()
        rows.append(Noisy(seed=11)(inputs, d, TWO_DAYS).series["load_kw_plant"].to_numpy()
                    / actual - 1.0)
    err = np.array(rows)
    assert err[:, -24:].std() > 1.5 * err[:, :24].std()  # lead 54–60 h vs 12–18 h
