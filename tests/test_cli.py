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
    assert "pv_kwh_per_kwp" in result.output


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
