"""A whole run: baselines, bound, the KPI document, the results folder and `run_command`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from parkgrid.io import results
from parkgrid.io.results import write_results
from parkgrid.simulate.run import PERIOD_KEYS, run, without_renewables
from simulate_fixtures import make_inputs, make_park

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module")
def park():
    return make_park(time_step_minutes=60)


@pytest.fixture(scope="module")
def inputs(park):
    return make_inputs(park, start="2025-06-28", days=6, seed=2)


@pytest.fixture(scope="module")
def result(park, inputs):
    return run(park, "2025-06-29", 4, "noisy", "rules", seed=3, inputs=inputs, parallel=False)


def test_the_document_has_every_section(result):
    doc = result.kpis
    assert set(doc) >= {"schema_version", "park", "period", "run", "units", "strategy",
                        "baselines", "perfect_foresight", "comparison", "solver"}
    assert set(doc["baselines"]) == {"grid_only", "re_no_storage", "rules"}
    assert doc["period"] == {"start": "2025-06-29", "end": "2025-07-03", "days": 4,
                             "time_step_minutes": 60}
    for key in PERIOD_KEYS:
        assert isinstance(doc["strategy"][key], float)
    assert set(doc["strategy"]["monthly"]) == {"2025-06", "2025-07"}


def test_grid_only_baseline_has_no_renewables_and_the_most_co2(result):
    base = result.kpis["baselines"]
    assert base["grid_only"]["re_generation_kwh"] == 0.0
    assert base["grid_only"]["co2_t"] > base["re_no_storage"]["co2_t"]
    assert result.kpis["comparison"]["co2_avoided_t"] == pytest.approx(
        base["grid_only"]["co2_t"] - result.kpis["strategy"]["co2_t"])


def test_the_bound_is_below_every_strategy(result):
    bound = result.kpis["perfect_foresight"]
    assert bound["method"] == "monthly_lp"
    assert len(bound["months"]) == 2
    for k in [result.kpis["strategy"], *result.kpis["baselines"].values()]:
        assert k["total_cost_yuan"] >= bound["total_cost_yuan"]
    assert result.kpis["comparison"]["regret_yuan"] > 0


def test_without_renewables_leaves_the_inputs_alone(inputs):
    zeroed = without_renewables(inputs)
    assert zeroed.series["pv_kw_roof"].max() == 0.0
    assert inputs.series["pv_kw_roof"].max() > 0.0


def test_baselines_and_bound_can_be_skipped(park, inputs):
    r = run(park, "2025-06-29", 2, "perfect", "none", inputs=inputs,
            baselines=("grid_only",), perfect_foresight=False)
    assert set(r.kpis["baselines"]) == {"grid_only"}
    assert r.kpis["perfect_foresight"] is None
    assert "regret_yuan" not in r.kpis["comparison"]


def test_baselines_and_bound_in_a_second_process_are_the_same(park, inputs, result):
    r = run(park, "2025-06-29", 4, "noisy", "rules", seed=3, inputs=inputs,
            baselines=("grid_only",), parallel=True)
    assert r.kpis["perfect_foresight"]["total_cost_yuan"] == pytest.approx(
        result.kpis["perfect_foresight"]["total_cost_yuan"])
    pd.testing.assert_frame_equal(r.baselines["grid_only"].ledger,
                                  result.baselines["grid_only"].ledger)


def test_results_folder_holds_every_file(tmp_path, result):
    out = write_results(tmp_path / "run", result.kpis, result.strategy.ledger,
                        result.strategy.schedules, [*result.strategy.events, "a warning"])
    doc = json.loads((out / results.KPIS_FILE).read_text())
    assert doc["strategy"]["total_cost_yuan"] == pytest.approx(
        result.kpis["strategy"]["total_cost_yuan"])
    ledger = pd.read_parquet(out / results.TIMESERIES_FILE)
    assert len(ledger) == 4 * 24
    assert {"grid_import_kw", "battery_soc_kwh", "tes_level_kwh_th"} <= set(ledger.columns)
    assert sorted(p.name for p in (out / "schedules").iterdir())[0] == "2025-06-29.parquet"
    assert (out / results.EVENTS_FILE).read_text().endswith("a warning\n")


def test_results_folder_is_replaced_only_when_complete(tmp_path, result, monkeypatch):
    out = tmp_path / "run"
    write_results(out, {"old": True}, result.strategy.ledger, {}, [])

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(results, "write_schedule", broken)
    with pytest.raises(OSError, match="disk full"):
        write_results(out, result.kpis, result.strategy.ledger, result.strategy.schedules, [],
                      force=True)
    assert json.loads((out / results.KPIS_FILE).read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary folder left


def test_kpis_json_has_no_nan(tmp_path):
    text = results.dumps({"a": float("nan"), "b": [1.5, float("inf")]})
    assert json.loads(text) == {"a": None, "b": [1.5, None]}


def test_run_command_prints_the_table_and_writes_the_folder(tmp_path):
    from parkgrid.commands.run import run_command

    console = Console(record=True, width=160)
    out = tmp_path / "dameisha"
    run_command(MODELS / "dameisha.yaml", "2025-07-01", 2, "perfect", "rules", 0, out,
                console=console)
    text = console.export_text()
    assert "grid only" in text and "perfect-foresight bound" in text and "…" not in text
    assert (out / "kpis.json").exists() and (out / "timeseries.parquet").exists()


@pytest.mark.parametrize("kwargs,message", [
    ({"forecast": "oracle"}, "--forecast: got 'oracle'"),
    ({"planner": "lp"}, "--planner: got 'lp'"),
    ({"days": 0}, "--days: got 0"),
    ({"days": 367}, "--days: got 367; expected a whole number in \\[1, 366\\]"),
    ({"seed": -1}, "--seed: got -1"),
    ({"start": "2025-12-20", "days": 30}, "days that end in 2025"),
    ({"start": "someday"}, "--start: got 'someday'"),
    ({"start": "07/01/2025"}, "--start: got '07/01/2025'; expected an ISO 8601 date"),
    ({"horizon_h": 12}, "--horizon-h: got 12; expected a whole number in \\[24, 168\\]"),
    ({"planner_options": {"mip_gap": float("nan")}}, "--mip-gap: got nan"),
    ({"planner_options": {"time_limit_s": 0.0}}, "--time-limit: got 0"),
])
def test_run_command_names_the_bad_option(tmp_path, kwargs, message):
    from parkgrid.commands.run import run_command
    from parkgrid.errors import ArgumentError

    with pytest.raises(ArgumentError, match=message):
        run_command(MODELS / "dameisha.yaml", out=tmp_path / "x", **kwargs)


def test_rollout_plans_at_the_parks_rollout_gap_unless_told_otherwise() -> None:
    from parkgrid.config import load_park
    from parkgrid.simulate.rollout import rollout_options

    park = load_park(Path(__file__).resolve().parents[2] / "models" / "haiyan.yaml")
    assert rollout_options(park, None) == {"mip_gap": park.objective.rollout_mip_gap}
    assert rollout_options(park, {"mip_gap": 0.001, "time_limit_s": 1.0}) == {
        "mip_gap": 0.001, "time_limit_s": 1.0}


def test_the_strategy_plans_over_the_parks_horizon_and_the_baselines_over_a_day(inputs):
    park = make_park(time_step_minutes=60, objective={"rollout_horizon_h": 36})
    r = run(park, "2025-06-29", 2, "perfect", "milp", inputs=inputs, parallel=False,
            perfect_foresight=False, baselines=("rules",))
    assert r.kpis["run"]["horizon_h"] == 36
    assert [s.metadata["horizon_steps"] for s in r.strategy.schedules.values()] == [36, 36]
    assert all(len(s.frame) == 24 for s in r.strategy.schedules.values())
    assert len(r.baselines["rules"].ledger) == 48


def test_a_folder_parkgrid_did_not_write_is_never_touched(tmp_path, result):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "my_notes.txt").write_text("precious")
    a_file = tmp_path / "file.txt"
    a_file.write_text("precious")
    for out, message in ((mine, "not a parkgrid results folder"), (a_file, "is not a folder")):
        with pytest.raises(results.ResultsFolderError, match=message):
            write_results(out, result.kpis, result.strategy.ledger, {}, [], force=True)
    assert (mine / "my_notes.txt").read_text() == "precious" and a_file.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "mine"]


def test_another_run_is_replaced_only_with_force(tmp_path, result):
    out = tmp_path / "run"
    write_results(out, result.kpis, result.strategy.ledger, {}, ["first"])
    write_results(out, result.kpis, result.strategy.ledger, {}, ["rerun"])  # the same run
    assert (out / results.EVENTS_FILE).read_text() == "rerun\n"
    other = {**result.kpis, "run": {**result.kpis["run"], "seed": 99}}
    with pytest.raises(results.ResultsFolderError, match=r"holds another run .*--force"):
        write_results(out, other, result.strategy.ledger, {}, ["other"])
    write_results(out, other, result.strategy.ledger, {}, ["other"], force=True)
    assert (out / results.EVENTS_FILE).read_text() == "other\n"


def test_a_replanned_run_is_another_run_than_the_day_ahead_one(tmp_path, result):
    """The re-plan interval is part of the run a folder holds: a day-ahead folder is not
    replaced by a re-planned run (or one re-planned at another interval) without force; a
    folder written before the interval was recorded holds the day-ahead run."""
    out = tmp_path / "run"
    write_results(out, result.kpis, result.strategy.ledger, {}, ["day-ahead"])
    hourly = {**result.kpis, "run": {**result.kpis["run"], "replan_every_min": 60}}
    with pytest.raises(results.ResultsFolderError, match="holds another run"):
        write_results(out, hourly, result.strategy.ledger, {}, ["hourly"])
    write_results(out, hourly, result.strategy.ledger, {}, ["hourly"], force=True)
    write_results(out, hourly, result.strategy.ledger, {}, ["hourly again"])  # the same run
    for other in ({**hourly, "run": {**hourly["run"], "replan_every_min": 15}}, result.kpis):
        with pytest.raises(results.ResultsFolderError, match="replan_every_min 60"):
            write_results(out, other, result.strategy.ledger, {}, ["other"])
    assert (out / results.EVENTS_FILE).read_text() == "hourly again\n"
    assert "replan_every_min" not in results.run_identity(result.kpis)


def test_results_folder_follows_the_umask(tmp_path, result):
    out = write_results(tmp_path / "run", result.kpis, result.strategy.ledger, {}, [])
    expected = 0o777 & ~results.UMASK
    assert out.stat().st_mode & 0o777 == expected
    assert (out / results.KPIS_FILE).stat().st_mode & 0o777 == expected & 0o666


@pytest.mark.parametrize("moment", ["after_first_rename", "before_delete", "tmp_left"])
def test_an_interrupted_swap_is_recovered(tmp_path, result, moment):
    out = tmp_path / "run"
    write_results(out, result.kpis, result.strategy.ledger, {}, ["previous"])
    new = tmp_path / ".run.abc.tmp"
    shutil.copytree(out, new)
    (new / results.EVENTS_FILE).write_text("new\n")
    old = tmp_path / ".run.xyz.old"
    if moment == "after_first_rename":  # killed between the two renames: no `run` at all
        os.replace(out, old)
    elif moment == "before_delete":  # killed after the swap, before the old one is deleted
        os.replace(out, old)
        os.replace(new, out)
    assert results.recover(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    expected = "new\n" if moment == "before_delete" else "previous\n"
    assert (out / results.EVENTS_FILE).read_text() == expected
