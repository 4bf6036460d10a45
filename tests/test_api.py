"""The notebook API: everything importable from `parkgrid`, parks by name, design changes,
and the result objects with their plotting helpers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

import parkgrid as pg
from parkgrid.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def haiyan() -> pg.Park:
    return pg.load_park(ROOT / "models" / "haiyan.yaml")


@pytest.fixture(scope="module")
def haiyan_inputs(haiyan: pg.Park) -> pg.Inputs:
    return pg.build_inputs(haiyan)


def test_import_parkgrid_loads_nothing_heavy() -> None:
    code = ("import sys, parkgrid; "
            "print(sorted({'pandas', 'pyomo', 'matplotlib'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", pg.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(pg, name) is not None


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        pg.no_such_thing  # noqa: B018


def test_a_reference_park_loads_by_name(haiyan: pg.Park) -> None:
    assert pg.load_park("haiyan") == haiyan


def test_an_unknown_park_name_lists_the_reference_parks() -> None:
    with pytest.raises(ConfigError, match="haiyan, dameisha"):
        pg.load_park("atlantis")


def test_with_changes_sets_dotted_fields_and_leaves_the_original(haiyan: pg.Park) -> None:
    bigger = pg.with_changes(haiyan, {"batteries.0.energy_kwh": 4000.0, "cooling.tank": None})
    assert bigger.batteries[0].energy_kwh == 4000.0 and bigger.cooling.tank is None
    assert haiyan.batteries[0].energy_kwh == 1000.0 and haiyan.cooling.tank is not None
    assert bigger.source_file == haiyan.source_file


def test_with_changes_revalidates(haiyan: pg.Park) -> None:
    with pytest.raises(ConfigError, match=r"batteries\.0\.power_kw"):
        pg.with_changes(haiyan, {"batteries.0.power_kw": -1})


def test_with_changes_names_a_path_that_does_not_exist(haiyan: pg.Park) -> None:
    with pytest.raises(ConfigError, match=r"batteries\.5"):
        pg.with_changes(haiyan, {"batteries.5.power_kw": 10})


def test_simulate_period_returns_ledger_kpis_state_and_plots(
        haiyan: pg.Park, haiyan_inputs: pg.Inputs) -> None:
    sim = pg.simulate_period(haiyan, "2025-01-06", days=2, forecast="perfect", planner="rules",
                             inputs=haiyan_inputs)
    assert len(sim.ledger) == 2 * 96
    assert sim.summary["cost_yuan"] == sim.kpis["cost_yuan"]
    assert list(sim.monthly.index) == ["2025-01"]
    assert sim.state is not None and sim.state.month == 1
    assert set(sim.zero_carbon.columns) >= {"value", "threshold", "pass"}
    figures = [sim.plot_dispatch("2025-01-07"), sim.plot_storage(), sim.plot_monthly_energy(),
               sim.plot_import_heatmap(), sim.plot_storage_by_season()]
    assert all(isinstance(f, Figure) for f in figures)


def test_compare_designs_rebuilds_inputs_only_when_a_change_affects_them(
        haiyan: pg.Park, haiyan_inputs: pg.Inputs, monkeypatch: pytest.MonkeyPatch) -> None:
    import parkgrid.api as api

    built = []
    real = api.build_inputs
    monkeypatch.setattr(api, "build_inputs", lambda park, year=None: built.append(park)
                        or real(park, year))
    table = pg.compare_designs(haiyan, {
        "as built": {},
        "no battery": {"batteries": []},
        "2026 rules": {"tariff.calendar": "zhejiang_2026", "tariff.prices_yuan_per_kwh": None},
    }, "2025-01-06", 1, planner="rules", inputs=haiyan_inputs)
    assert list(table.index) == ["as built", "no battery", "2026 rules"]
    assert len(built) == 1 and built[0].tariff.calendar == "zhejiang_2026"
    assert table.loc["no battery", "battery_throughput_kwh"] == 0
    assert table.loc["2026 rules", "tariff.calendar"] == "zhejiang_2026"


def test_compare_strategies_counts_co2_avoided_against_grid_only(
        haiyan: pg.Park, haiyan_inputs: pg.Inputs) -> None:
    table = pg.compare_strategies(haiyan, "2025-01-06", 1,
                                  {"rules": ("perfect", "rules"), "none": ("perfect", "none")},
                                  inputs=haiyan_inputs)
    assert list(table.index) == ["rules", "none", "grid only"]
    assert table.loc["grid only", "co2_avoided_t"] == 0
    assert (table["co2_avoided_t"] == table.loc["grid only", "co2_t"] - table["co2_t"]).all()


def test_plan_day_exports_a_schedule_that_reads_back(
        haiyan: pg.Park, haiyan_inputs: pg.Inputs, tmp_path: Path) -> None:
    from parkgrid.io.export import read_schedule

    day = pg.plan_day(haiyan, "2025-07-15", inputs=haiyan_inputs, forecast="noisy", seed=3)
    assert len(day.frame) == 96 and day.frame.index[0] == pd.Timestamp("2025-07-15",
                                                                       tz="Asia/Shanghai")
    assert not day.forecast.series.equals(day.actual.series)  # a noisy forecast
    path = day.save(tmp_path / "plan.csv")
    back = read_schedule(path)
    assert back.frame["grid_import_kw"].to_numpy() == pytest.approx(
        day.frame["grid_import_kw"].to_numpy())
    assert isinstance(day.plot(), Figure) and isinstance(day.plot_forecast_vs_actual(), Figure)
