"""The body of ``parkgrid schedule``: options in, schedule file out."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer_support import IDEAL_BATTERY, make_park
from parkgrid.commands.schedule import initial_state, schedule_command, summary
from parkgrid.config import load_park
from parkgrid.errors import ArgumentError
from parkgrid.io.export import read_schedule

HAIYAN = Path(__file__).parents[2] / "models" / "haiyan.yaml"


def test_soc_overrides_set_storage_as_fractions_of_capacity():
    park = make_park(batteries=[IDEAL_BATTERY], cooling={
        "profile": {"path": "c.csv"}, "chillers": [{"name": "ch", "capacity_kw_th": 100,
                                                    "cop": 5.0}],
        "tank": {"capacity_kwh_th": 1000, "max_charge_kw_th": 100, "max_discharge_kw_th": 100}})
    state = initial_state(park, ["bat=0.25", "tank=0.5"], month_peak_kw=300.0, month=7)
    assert state.battery_soc_kwh == {"bat": 100.0}
    assert state.tank_level_kwh_th == 500.0
    assert (state.month_peak_kw, state.month) == (300.0, 7)


@pytest.mark.parametrize(("overrides", "message"), [
    (["nope=0.5"], "invalid argument --soc: got 'nope'; expected a battery or tank name"),
    (["bat=1.5"], "--soc: got 1.5; expected a finite number in \\[0, 1\\]"),
    (["bat=nan"], "--soc: got nan; expected a finite number in \\[0, 1\\]"),
    (["bat"], "NAME=FRACTION"),
    (["bat=0.5", "bat=0.6"], "got 'bat=0.6'; expected one value per storage"),
])
def test_bad_soc_overrides_name_the_problem(overrides, message):
    park = make_park(batteries=[IDEAL_BATTERY])
    with pytest.raises(ArgumentError, match=message):
        initial_state(park, overrides)


def test_soc_outside_the_battery_window_is_refused():
    park = load_park(HAIYAN)
    with pytest.raises(ArgumentError, match=r"lfp's SOC window \[0.1, 0.95\]"):
        initial_state(park, ["lfp=0.05"])
    assert initial_state(park, ["lfp=0.5", "lfp=0.5"]).battery_soc_kwh["lfp"] == 500.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"date": "2025-13-40"}, "YYYY-MM-DD"),
    ({"date": "05/07/2025"}, "--date: got '05/07/2025'; expected an ISO 8601 date"),
    ({"date": "07/15/2025"}, "ISO 8601"),
    ({"date": "20250715"}, "ISO 8601"),
    ({"date": ""}, "ISO 8601"),
    ({"date": "-1"}, "ISO 8601"),
    ({"date": "2262-06-01"}, "from 1990 to 2100"),
    ({"date": "2025-07-01", "horizon_hours": 0.1}, "multiple of the park's 15-min step"),
    ({"date": "2025-07-01", "horizon_hours": float("nan")}, "--horizon-hours: got nan"),
    ({"date": "2025-07-01", "horizon_hours": float("inf")}, "--horizon-hours: got inf"),
    ({"date": "2025-07-01", "month_peak_kw": -5.0}, "--month-peak-kw: got -5"),
    ({"date": "2025-07-01", "month_peak_kw": float("inf")}, "--month-peak-kw: got inf"),
    ({"date": "2025-07-01", "mip_gap": -1.0}, "--mip-gap: got -1"),
    ({"date": "2025-07-01", "mip_gap": 5.0}, "--mip-gap: got 5"),
    ({"date": "2025-07-01", "time_limit_s": 0.0}, "--time-limit: got 0"),
    ({"date": "2025-07-01", "time_limit_s": float("nan")}, "--time-limit: got nan"),
    ({"date": "2025-07-01", "pareto_points": 1}, "--pareto: got 1; expected a whole number"),
])
def test_bad_arguments_are_argument_errors(kwargs, message):
    with pytest.raises(ArgumentError, match=message) as info:
        schedule_command(HAIYAN, **kwargs)
    assert str(info.value).startswith("invalid argument --")


def test_haiyan_day_is_planned_and_written(tmp_path):
    out = tmp_path / "plan.parquet"
    result = schedule_command(HAIYAN, "2025-07-15", 24, ["lfp=0.6"], out, month_peak_kw=3000)
    back = read_schedule(out)
    assert result.written == [out]
    assert len(back.frame) == 96
    assert back.metadata["status"] == "optimal"
    # end rule 'value': the SOC left at midnight is credited at the day's lowest import price
    # over the DC battery's charge path (0.94 × converter 0.97)
    end_soc_kwh = back.frame["battery_soc_kwh"].iloc[-1]
    assert 100.0 - 1e-6 <= end_soc_kwh <= 950.0 + 1e-6
    valley = back.frame["price_import"].min()
    assert back.metadata["stored_value_yuan"] == pytest.approx(
        end_soc_kwh * valley / (0.94 * 0.97), rel=1e-6)
    assert "objective (what the planner minimised)" in summary(result.schedule)
