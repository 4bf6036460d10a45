"""The body of ``parkgrid schedule``: options in, schedule file out."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer_support import IDEAL_BATTERY, make_park
from parkgrid.errors import ConfigError
from parkgrid.export import read_schedule
from parkgrid.optimizer.command import initial_state, schedule_command, summary

HAIYAN = Path(__file__).parents[1] / "models" / "haiyan.yaml"


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
    (["nope=0.5"], "no such battery or tank"),
    (["bat=1.5"], "fraction of capacity"),
    (["bat"], "NAME=FRACTION"),
])
def test_bad_soc_overrides_name_the_problem(overrides, message):
    park = make_park(batteries=[IDEAL_BATTERY])
    with pytest.raises(ConfigError, match=message):
        initial_state(park, overrides)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"date": "2025-13-40"}, "YYYY-MM-DD"),
    ({"date": "2025-07-01", "horizon_hours": 0.1}, "multiple of the park's 15-min step"),
])
def test_bad_date_or_horizon_is_a_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        schedule_command(HAIYAN, **kwargs)


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
