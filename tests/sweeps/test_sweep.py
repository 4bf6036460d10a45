"""Sweep files, variant expansion, ids, result rows and the summary — no cluster involved."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.config import load_park
from parkgrid.errors import ConfigError
from parkgrid.inputs import affects_inputs, build_inputs
from parkgrid.sweeps.report import best_variants, pareto_front, plot_all
from parkgrid.sweeps.spec import load_sweep, parse_sweep
from parkgrid.sweeps.store import ResultsExistError, consolidate, prepare, read_rows, write_row
from parkgrid.sweeps.task import flatten, run_variant, select
from parkgrid.sweeps.variants import expand, set_field

ROOT = Path(__file__).resolve().parents[2]
HAIYAN = ROOT / "models" / "haiyan.yaml"
ROLLOUT = {"start": "2025-07-01", "days": 2, "forecast": "perfect", "planner": "rules"}


def sweep_of(**fields: object) -> dict:
    return {"name": "test", "park": str(HAIYAN), "rollout": ROLLOUT, **fields}


def config_error(doc: dict) -> str:
    with pytest.raises(ConfigError) as info:
        expand(parse_sweep(doc, Path("sweep.yaml")))
    return str(info.value)


# --- the sweep file ------------------------------------------------------------------------------


def test_example_sweep_has_24_variants_sharing_one_set_of_inputs() -> None:
    sweep = load_sweep(ROOT / "models" / "sweeps" / "haiyan_storage.yaml")
    variants = expand(sweep)
    assert len(variants) == 24
    assert len({v.id for v in variants}) == 24
    assert len({v.inputs_key for v in variants}) == 1


def test_unknown_key_names_the_file_and_field() -> None:
    msg = config_error(sweep_of(grid={"batteries.0.energy_kwh": [1]}, rollout={"dayz": 3}))
    assert msg.startswith("sweep.yaml")
    assert "rollout.dayz: unknown key" in msg


def test_park_and_portfolio_are_exclusive() -> None:
    msg = config_error(sweep_of(parks=[str(HAIYAN)], grid={"grid.import_limit_kw": [1]}))
    assert "exactly one of 'park'" in msg


def test_zipped_lists_need_equal_lengths() -> None:
    msg = config_error(sweep_of(list={"batteries.0.power_kw": [1, 2],
                                      "batteries.0.energy_kwh": [1]}))
    assert "same number of values" in msg


def test_bad_field_path_is_reported() -> None:
    msg = config_error(sweep_of(grid={"Batteries..0": [1]}))
    assert "Batteries..0" in msg and "field path" in msg


def test_random_needs_a_known_distribution() -> None:
    msg = config_error(sweep_of(random={"samples": 2, "fields": {"grid.import_limit_kw":
                                                                  {"normal": [1, 2]}}}))
    assert "random.fields.grid.import_limit_kw" in msg and "'uniform: [low, high]'" in msg


def test_rollout_across_a_year_end_is_an_error() -> None:
    doc = sweep_of(grid={"grid.import_limit_kw": [7000]},
                   rollout={**ROLLOUT, "start": "2025-12-30", "days": 5})
    assert "crosses a year end" in config_error(doc)


def test_missing_park_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(sweep_of(park="nope.yaml", grid={"a": [1]})))
    with pytest.raises(ConfigError, match="file not found"):
        load_sweep(tmp_path / "s.yaml")


# --- variants ------------------------------------------------------------------------------------


def test_grid_is_the_cartesian_product_in_file_order() -> None:
    variants = expand(parse_sweep(sweep_of(grid={"batteries.0.energy_kwh": [500, 2000],
                                                 "cooling.tank.capacity_kwh_th": [1e3, 2e3, 3e3]})))
    values = [tuple(v.values.values()) for v in variants]
    assert values == [(500, 1e3), (500, 2e3), (500, 3e3), (2000, 1e3), (2000, 2e3), (2000, 3e3)]


def test_list_zips_and_combines_with_the_grid() -> None:
    variants = expand(parse_sweep(sweep_of(
        list={"batteries.0.power_kw": [250, 500], "batteries.0.energy_kwh": [1000, 2000]},
        grid={"grid.import_limit_kw": [7000, 8000]})))
    assert [v.values for v in variants][:2] == [
        {"batteries.0.power_kw": 250, "batteries.0.energy_kwh": 1000, "grid.import_limit_kw": 7000},
        {"batteries.0.power_kw": 250, "batteries.0.energy_kwh": 1000, "grid.import_limit_kw": 8000},
    ]
    assert len(variants) == 4


def test_variant_sets_the_field_in_the_validated_park() -> None:
    variant = expand(parse_sweep(sweep_of(grid={"batteries.0.energy_kwh": [3000]})))[0]
    park = variant.park()
    assert park.batteries[0].energy_kwh == 3000
    assert park.resolve(park.weather.climate).exists()  # relative paths still resolve


def test_random_samples_are_seeded_and_within_bounds() -> None:
    doc = sweep_of(random={"samples": 6, "seed": 3, "fields": {
        "batteries.0.energy_kwh": {"uniform": [500, 4000], "decimals": 0},
        "tariff.calendar": {"choice": ["zhejiang_2024", "zhejiang_2026"]}}})
    first = [v.values for v in expand(parse_sweep(doc))]
    assert first == [v.values for v in expand(parse_sweep(doc))]
    assert all(500 <= v["batteries.0.energy_kwh"] <= 4000 for v in first)
    assert {v["tariff.calendar"] for v in first} <= {"zhejiang_2024", "zhejiang_2026"}
    doc["random"]["seed"] = 4
    assert first != [v.values for v in expand(parse_sweep(doc))]


def test_bad_value_names_the_variant_and_the_field() -> None:
    msg = config_error(sweep_of(grid={"batteries.0.energy_kwh": [1000, -5]}))
    assert "variant 1 (haiyan: batteries.0.energy_kwh=-5)" in msg
    assert "batteries.0.energy_kwh: got -5" in msg
    assert "variant 0" not in msg


def test_path_missing_from_the_park_is_reported() -> None:
    msg = config_error(sweep_of(grid={"batteries.3.energy_kwh": [1], "cooling.tonk.x": [1]}))
    assert "batteries has 1 entries; no index '3'" in msg
    assert "cooling.tonk is not in the base park" in msg


def test_unknown_field_in_the_park_is_reported() -> None:
    msg = config_error(sweep_of(grid={"batteries.0.energy_kwhh": [1]}))
    assert "batteries.0.energy_kwhh: unknown key" in msg


def test_set_field_refuses_to_descend_into_a_value() -> None:
    with pytest.raises(KeyError, match="is a value"):
        set_field({"grid": {"import_limit_kw": 5}}, "grid.import_limit_kw.x", 1)


def test_variant_id_is_stable_and_depends_on_values_and_options() -> None:
    doc = sweep_of(grid={"batteries.0.energy_kwh": [1000, 2000]})
    ids = [v.id for v in expand(parse_sweep(doc))]
    assert ids == [v.id for v in expand(parse_sweep(doc))]
    assert len(set(ids)) == 2
    other = [v.id for v in expand(parse_sweep({**doc, "rollout": {**ROLLOUT, "seed": 9}}))]
    assert not set(ids) & set(other)


def test_portfolio_runs_every_park_with_every_variant() -> None:
    doc = {"name": "p", "parks": [str(HAIYAN), str(ROOT / "models" / "dameisha.yaml")],
           "grid": {"grid.import_limit_kw": [5000, 6000]}, "rollout": ROLLOUT}
    variants = expand(parse_sweep(doc))
    assert [v.park_label for v in variants] == ["haiyan", "haiyan", "dameisha", "dameisha"]
    assert len({v.inputs_key for v in variants}) == 2


@pytest.mark.parametrize(("path", "changes"), [
    ("batteries.0.energy_kwh", False), ("cooling.tank.capacity_kwh_th", False),
    ("grid.import_limit_kw", False), ("tariff.demand.rate_yuan_per_kw_month", False),
    ("pv.0.capacity_kwp", True), ("weather.seed", True), ("tariff.calendar", True),
    ("cooling.load.peak_kw_th", True),
])
def test_which_fields_change_the_inputs(path: str, changes: bool) -> None:
    assert affects_inputs(path) is changes


def test_input_axis_gives_each_value_its_own_inputs() -> None:
    variants = expand(parse_sweep(sweep_of(grid={"weather.seed": [1, 2],
                                                 "batteries.0.energy_kwh": [500, 1000]})))
    assert len({v.inputs_key for v in variants}) == 2


def test_fields_called_non_input_do_not_change_the_inputs() -> None:
    """The list in sweep_variants mirrors build_inputs: check it on the real builder."""
    base = load_park(HAIYAN)
    doc = yaml.safe_load(HAIYAN.read_text())
    doc["batteries"][0].update(power_kw=999, energy_kwh=7777)
    doc["cooling"]["tank"]["capacity_kwh_th"] = 1234
    doc["cooling"]["chillers"][0]["capacity_kw_th"] = 999
    doc["grid"]["import_limit_kw"] = 1234
    doc["tariff"]["demand"]["rate_yuan_per_kw_month"] = 99
    doc["objective"]["time_limit_s"] = 1
    from parkgrid.config import parse_park

    changed = parse_park(doc, HAIYAN)
    a, b = build_inputs(base), build_inputs(changed)
    pd.testing.assert_frame_equal(a.series, b.series)
    pd.testing.assert_frame_equal(a.ev_sessions, b.ev_sessions)


# --- the task and its row ------------------------------------------------------------------------


def test_kpis_flatten_to_dotted_scalar_keys() -> None:
    flat = flatten({"cost_yuan": 1.0, "month": {"07": {"peak_kw": np.float64(2.0)}},
                    "series": [1, 2]})
    assert flat == {"cost_yuan": 1.0, "month.07.peak_kw": 2.0}


def test_kpi_selection_by_pattern_keeps_the_summary_kpis() -> None:
    flat = {"cost_yuan": 1.0, "co2_t": 2.0, "m.peak_kw": 3.0, "m.cost_yuan": 4.0}
    assert select(flat, ["m.*"], ("co2_t",)) == {"m.peak_kw": 3.0, "m.cost_yuan": 4.0,
                                                  "co2_t": 2.0}
    assert select(flat, None, ()) == {"cost_yuan": 1.0, "co2_t": 2.0}


def test_failing_variant_returns_its_error_instead_of_raising() -> None:
    sweep = parse_sweep(sweep_of(grid={"weather.climate": ["missing_climate.yaml"]}))
    variant = expand(sweep)[0]
    row = run_variant(variant, sweep.rollout, None, (), None)
    assert row["status"] == "failed"
    assert "missing_climate.yaml" in row["error"]
    assert row["weather.climate"] == "missing_climate.yaml"
    assert row["run_time_s"] > 0


def test_variant_row_holds_values_kpis_and_run_time() -> None:
    sweep = parse_sweep(sweep_of(grid={"batteries.0.energy_kwh": [2000]}))
    row = run_variant(expand(sweep)[0], sweep.rollout, None, (), None)
    assert row["status"] == "ok", row["error"]
    assert row["batteries.0.energy_kwh"] == 2000
    assert row["inputs_built_in_task"] is True
    assert np.isfinite(row["cost_yuan"]) and row["cost_yuan"] > 0
    # the park's economics baseline (Haiyan: re_no_storage) is run for the NPV
    assert np.isfinite(row["economics.npv_yuan"]) and row["economics.capex_yuan"] > 0
    json.dumps(row, allow_nan=False)


# --- the results folder --------------------------------------------------------------------------


def test_rows_are_written_whole_and_read_back(tmp_path: Path) -> None:
    prepare(tmp_path, resume=False)
    write_row(tmp_path, {"variant_id": "abc", "status": "ok", "cost_yuan": 1.5})
    assert read_rows(tmp_path) == {"abc": {"variant_id": "abc", "status": "ok", "cost_yuan": 1.5}}
    assert not list((tmp_path / "variants").glob("*.tmp"))


def test_new_sweep_refuses_a_folder_with_results(tmp_path: Path) -> None:
    prepare(tmp_path, resume=False)
    write_row(tmp_path, {"variant_id": "abc", "status": "ok"})
    with pytest.raises(ResultsExistError, match="--resume"):
        prepare(tmp_path, resume=False)
    prepare(tmp_path, resume=True)


def test_table_lists_every_variant_and_marks_the_missing(tmp_path: Path) -> None:
    variants = expand(parse_sweep(sweep_of(grid={"batteries.0.energy_kwh": [500, 1000, 2000]})))
    prepare(tmp_path, resume=False)
    write_row(tmp_path, {"variant_id": variants[1].id, "variant": 1, "park": "haiyan",
                         "batteries.0.energy_kwh": 1000, "cost_yuan": 2.0, "status": "ok",
                         "error": ""})
    write_row(tmp_path, {"variant_id": "stale", "status": "ok"})  # another sweep's row
    table = consolidate(tmp_path, variants, ["batteries.0.energy_kwh"])
    assert list(table["status"]) == ["missing", "ok", "missing"]
    assert list(table["batteries.0.energy_kwh"]) == [500, 1000, 2000]
    assert pd.read_parquet(tmp_path / "sweep.parquet").shape == table.shape


# --- summary and plots ---------------------------------------------------------------------------


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=30))
def test_pareto_front_is_exactly_the_non_dominated_variants(points: list) -> None:
    cost, co2 = np.array(points, dtype=float).T
    front = pareto_front(cost, co2)

    def dominates(j: int, i: int) -> bool:
        return cost[j] <= cost[i] and co2[j] <= co2[i] and (cost[j], co2[j]) != (cost[i], co2[i])

    n = len(points)
    assert not any(dominates(j, i) for i in front for j in range(n))
    assert all(any(cost[j] <= cost[i] and co2[j] <= co2[i] for j in front) for i in range(n))
    assert len({(cost[i], co2[i]) for i in front}) == len(front)


def summary_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "variant": [0, 1, 2, 3], "park": ["p"] * 4, "a": [1, 1, 2, 2], "b": [10, 20, 10, 20],
        "cost_yuan": [5.0, 3.0, 4.0, 1.0], "co2_t": [1.0, 2.0, 0.5, 3.0],
        "self_sufficiency": [0.1, 0.9, 0.2, 0.3], "status": ["ok", "ok", "ok", "failed"],
    })


def test_best_variants_ignore_failed_ones() -> None:
    best = {label: int(row["variant"]) for label, row in best_variants(summary_frame())}
    assert best == {"cost": 1, "CO2": 2, "self-sufficiency": 1}


def test_sweeps_rank_by_npv_first_with_capex_beside_savings() -> None:
    from parkgrid.sweeps.report import summary_table

    table = summary_frame().assign(**{"economics.npv_yuan": [7.0, -1.0, 9.0, 20.0],
                                      "economics.capex_yuan": [1.0, 2.0, 3.0, 0.0],
                                      "economics.first_year_savings_yuan": [4.0, 5.0, 6.0, 0.0]})
    label, row = best_variants(table)[0]
    assert (label, int(row["variant"])) == ("NPV", 2)  # the biggest cost saver is not best
    headers = [c.header for c in summary_table(table, ["a", "b"], "t").columns]
    assert headers[2:5] == ["NPV\nyuan", "capex\nyuan", "first year savings\nyuan"]


def test_plots_are_written_per_axis_and_pareto(tmp_path: Path) -> None:
    written = plot_all(summary_frame(), [["a"], ["b"]], tmp_path)
    assert sorted(p.name for p in written) == ["kpi_vs_a.png", "kpi_vs_b.png",
                                               "pareto_cost_co2.png"]
    assert all(p.stat().st_size > 1000 for p in written)


def test_zero_workers_is_refused_before_anything_runs(tmp_path: Path) -> None:
    from parkgrid.errors import ParkgridError
    from parkgrid.sweeps.run import sweep_command

    with pytest.raises(ParkgridError, match="--workers: got 0"):
        sweep_command(ROOT / "models" / "sweeps" / "haiyan_storage.yaml", workers=0,
                      out=tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_sweep_above_max_variants_is_refused_with_its_count_before_expansion() -> None:
    axes = {f"batteries.0.{k}": list(range(1, 101)) for k in
            ("energy_kwh", "power_kw", "degradation_cost_yuan_per_kwh")}
    with pytest.raises(ConfigError, match=r"1,000,000 variants, above max_variants 10,000"):
        parse_sweep(sweep_of(grid=axes), Path("sweep.yaml"))
    random = {"samples": 10**12, "fields": {"batteries.0.energy_kwh": {"uniform": [1, 2]}}}
    with pytest.raises(ConfigError, match=r"1,000,000,000,000 variants"):
        parse_sweep(sweep_of(random=random), Path("sweep.yaml"))
    small = {"batteries.0.energy_kwh": [500, 1000], "batteries.0.power_kw": [100, 200]}
    assert parse_sweep(sweep_of(grid=small, max_variants=4), Path("s.yaml")).variant_count == 4
    with pytest.raises(ConfigError, match="4 variants, above max_variants 3"):
        parse_sweep(sweep_of(grid=small, max_variants=3), Path("sweep.yaml"))


@pytest.mark.parametrize("seed", [-1, True, 2**40])
def test_sweep_seeds_are_whole_non_negative_numbers(seed) -> None:
    message = config_error(sweep_of(grid={"batteries.0.power_kw": [100]},
                                    rollout={**ROLLOUT, "seed": seed}))
    assert "rollout.seed: got" in message
