"""The command line: exit codes and messages a user sees."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from parkgrid.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def write_bad_park(tmp_path: Path) -> Path:
    doc = yaml.safe_load((ROOT / "models" / "haiyan.yaml").read_text())
    doc["batteries"][0]["power_kw"] = -250
    doc["weather"]["climate"] = str(ROOT / "profiles" / "climate_hangzhou.yaml")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_validate_bad_config_exits_2_with_field_message(tmp_path: Path) -> None:
    path = write_bad_park(tmp_path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output
    assert "batteries.0.power_kw: got -250; expected greater than 0" in result.output
    assert "Traceback" not in result.output


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "cannot read the file" in result.output


def test_validate_reference_park_prints_summary() -> None:
    result = runner.invoke(app, ["validate", str(ROOT / "models" / "dameisha.yaml")])
    assert result.exit_code == 0, result.output
    assert "Dameisha" in result.output and "valid" in result.output
    assert "PV roof" in result.output and "MWh" in result.output


def test_profiles_writes_inputs_and_prints_totals(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["profiles", str(ROOT / "models" / "dameisha.yaml"),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "inputs.parquet").exists() and (out / "summary.csv").exists()
    assert "PV specific yield" in result.output and "kWh/kWp" in result.output


def test_init_writes_a_starter_park_that_validates_and_runs(tmp_path: Path) -> None:
    import pandas as pd

    import parkgrid as pg

    folder = tmp_path / "new"
    result = runner.invoke(app, ["init", "My park", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    park_file = folder / "park.yaml"
    text = park_file.read_text(encoding="utf-8")
    assert "name: My park" in text and text.count("#") > 20
    result = runner.invoke(app, ["validate", str(park_file)])
    assert result.exit_code == 0, result.output
    run = pg.run_period(pg.load_park(park_file), "2025-07-01", days=1, forecast="perfect",
                        planner="rules", baselines=(), perfect_foresight=False)
    assert run.kpis["strategy"]["unserved_kwh"] == 0
    assert isinstance(run.strategy.ledger, pd.DataFrame)


def test_init_never_overwrites(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    assert runner.invoke(app, ["init", "A", "--out", str(folder)]).exit_code == 0
    (folder / "park.yaml").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["init", "B", "--out", str(folder)])
    assert result.exit_code == 2 and "already exist" in result.output
    assert (folder / "park.yaml").read_text(encoding="utf-8") == "mine"


def test_the_starter_climate_is_the_shipped_hangzhou_climate() -> None:
    packaged = ROOT / "src" / "parkgrid" / "data" / "climate_hangzhou.yaml"
    assert packaged.read_bytes() == (ROOT / "profiles" / "climate_hangzhou.yaml").read_bytes()


def test_the_readme_metered_recipe_works_on_the_starter_park(tmp_path: Path) -> None:
    """An hourly meter CSV (local start-of-interval timestamps, mean kW) in place of the
    starter's synthetic load: validates, and the load's annual energy is the file's."""
    import numpy as np
    import pandas as pd

    import parkgrid as pg

    folder = tmp_path / "metered"
    assert runner.invoke(app, ["init", "Metered", "--out", str(folder)]).exit_code == 0
    index = pd.date_range("2025-01-01", "2025-12-31 23:00", freq="1h")
    kw = 300.0 + 100.0 * (index.hour >= 8)
    pd.DataFrame({"timestamp": index.strftime("%Y-%m-%d %H:%M"), "plant_kw": kw}).to_csv(
        folder / "plant.csv", index=False)
    doc = yaml.safe_load((folder / "park.yaml").read_text(encoding="utf-8"))
    doc["loads"][0].pop("synthetic")
    doc["loads"][0]["profile"] = {"path": "plant.csv", "column": "plant_kw"}
    (folder / "park.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(folder / "park.yaml")])
    assert result.exit_code == 0, result.output
    inputs = pg.build_inputs(pg.load_park(folder / "park.yaml"))
    annual_kwh = inputs.series["load_kw_plant"].sum() * 0.25
    assert abs(annual_kwh - np.float64(kw.sum())) < 1e-9 * kw.sum()


def test_a_path_that_cannot_be_written_exits_2_naming_it(tmp_path: Path) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("mine")
    result = runner.invoke(app, ["profiles", str(ROOT / "models" / "dameisha.yaml"), "--out",
                                 str(a_file)])
    assert result.exit_code == 2, result.output
    assert str(a_file) in result.output and "Traceback" not in result.output
    assert a_file.read_text() == "mine"


def test_run_onto_a_folder_of_other_files_is_refused_before_the_rollout(tmp_path: Path) -> None:
    (tmp_path / "my_notes.txt").write_text("precious")
    result = runner.invoke(app, ["run", str(ROOT / "models" / "dameisha.yaml"), "--out",
                                 str(tmp_path), "--days", "1", "--planner", "rules"])
    assert result.exit_code == 2, result.output
    assert "not a parkgrid results folder" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["my_notes.txt"]


def test_argument_errors_are_named_as_such_and_an_unexpected_error_exits_1(monkeypatch) -> None:
    result = runner.invoke(app, ["schedule", str(ROOT / "models" / "haiyan.yaml"), "--date",
                                 "05/07/2025"])
    assert result.exit_code == 2
    assert "invalid argument --date: got '05/07/2025'" in result.output
    assert "invalid config" not in result.output

    def boom(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("parkgrid.config.load_park", boom)
    result = runner.invoke(app, ["validate", str(ROOT / "models" / "haiyan.yaml")])
    assert result.exit_code == 1 and "unexpected RuntimeError: a bug" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["--debug", "validate", str(ROOT / "models" / "haiyan.yaml")])
    assert result.exit_code == 1 and "Traceback" in result.output
