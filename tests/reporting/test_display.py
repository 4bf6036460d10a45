"""What the commands print: an 80-column terminal shows every digit, human labels, one unit
per quantity (self-sufficiency in % everywhere), no stray type on flags."""

from __future__ import annotations

import copy
import io
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from parkgrid.cli import app
from parkgrid.reporting import display
from parkgrid.reporting.html import KPI_ROWS, read_results

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


@pytest.fixture(scope="module")
def run_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The kpis.json of a real two-day MILP run of Dameisha with baselines and the bound."""
    from parkgrid.commands.run import run_command

    out = tmp_path_factory.mktemp("results") / "dameisha"
    run_command(ROOT / "models" / "dameisha.yaml", start="2025-08-04", days=2,
                forecast="noisy", planner="milp", seed=0, out=out,
                console=Console(file=io.StringIO()))
    return read_results(out)[0]


def scaled(doc: dict[str, Any], factor: float) -> dict[str, Any]:
    """The document with every energy, cost and CO2 ``factor`` times larger (a year's
    magnitudes from a short run), shares unchanged."""
    doc = copy.deepcopy(doc)
    for k in (doc["strategy"], *doc["baselines"].values(), doc["comparison"]["savings_yuan"]):
        for key, v in list(k.items()):
            if isinstance(v, float) and display.unit_of(key) not in ("%", ""):
                k[key] = v * factor
    return doc


def printed(renderable: Any, width: int = 80) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("factor", [1.0, 365 / 2, 30 * 365 / 2])
def test_the_run_table_fits_80_columns_without_cutting_a_digit(run_doc, factor) -> None:
    from parkgrid.commands.run import kpi_table, summary_lines

    doc = scaled(run_doc, factor)
    text = printed(kpi_table(doc))
    assert "…" not in text
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    columns = [doc["strategy"], *doc["baselines"].values()]
    shown = 0
    for _, key, _, scale, fmt in KPI_ROWS:
        for k in columns:
            if k.get(key):
                assert fmt.format(k[key] * scale) in text, key
                shown += 1
    assert shown > 20
    assert "…" not in printed(summary_lines(doc, Path("results/x")))


def test_the_run_table_drops_the_bound_column_unless_wide(run_doc) -> None:
    from parkgrid.commands.run import kpi_table, summary_lines

    assert "perfect foresight" not in printed(kpi_table(run_doc))
    bound = f"{run_doc['perfect_foresight']['total_cost_yuan']:,.0f}"
    assert bound in printed(summary_lines(run_doc, Path("r")))
    wide = printed(kpi_table(run_doc, wide=True), width=160)
    assert "perfect foresight" in wide and bound in wide and "…" not in wide


def test_failing_zero_carbon_indicators_say_what_they_need(run_doc) -> None:
    from parkgrid.commands.run import summary_lines

    text = printed(summary_lines(run_doc, Path("r")), width=300)
    failing = [v for v in run_doc["strategy"]["zero_carbon"].values() if not v["pass"]]
    assert failing
    lines = [line for line in text.splitlines() if "FAIL" in line]
    assert len(lines) == len(failing)
    assert all(re.search(r"(required|allowed): [\d,.]+ (MWh|t) ", line) for line in lines)


@pytest.mark.parametrize("key,raw,shown", [
    ("self_sufficiency", 0.708, "70.8 %"),
    ("self_sufficiency_annual", 0.6052, "60.5 %"),
    ("cost_yuan", 22990915.4, "22,990,915 yuan"),
    ("consumption_kwh", 1234567.891, "1,234.6 MWh"),
    ("pv_kwh_roof", 287000.123, "287.0 MWh"),
    ("consumption_kwh_no_assets", 26257523.0, "26,257.5 MWh"),
    ("peak_import_kw", 5321.7, "5,322 kW"),
    ("co2_t", 13060.44, "13,060.4 t"),
    ("regret_pct", 2.345, "2.3 %"),
    ("ev_sessions", 4844, "4,844"),
])
def test_values_carry_one_unit_everywhere(key, raw, shown) -> None:
    assert display.value(key, raw) == shown


def test_every_report_kpi_has_a_label_without_underscores() -> None:
    for _, key, *_ in KPI_ROWS:
        assert "_" not in display.label(key), key


def test_profiles_prints_human_labels_and_no_three_decimals(tmp_path: Path) -> None:
    result = runner.invoke(app, ["profiles", str(ROOT / "models" / "haiyan.yaml"),
                                 "--out", str(tmp_path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    table = result.output.split("built in")[0]
    assert "…" not in table and not re.search(r"\d\.\d{3}\b", table)
    assert not SNAKE.search(table.replace("roof_steel", "").replace("roof_concrete", "")
                            .replace("dc_drives", "")), table
    assert "kWh/kWp" in table and "%" in table


def test_validate_fits_80_columns_and_says_the_weather_is_synthetic() -> None:
    result = runner.invoke(app, ["validate", str(ROOT / "models" / "haiyan.yaml")],
                           env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output and "synthetic" in result.output
    assert "demand charge 40 yuan/kW·month" in result.output


def test_schedule_shows_the_cost_and_the_peak() -> None:
    result = runner.invoke(app, ["schedule", str(ROOT / "models" / "dameisha.yaml"),
                                 "--date", "2025-08-04"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert "…" not in text
    assert re.search(r"cost \(energy \+ demand − export\)[\s│]+[\d,]+ yuan", text)
    assert re.search(r"peak import[\s│]+[\d,]+ kW", text)
    assert not SNAKE.search(text.split("wrote")[0])


@pytest.mark.parametrize("command", ["run", "sweep", "schedule", "report"])
def test_help_shows_no_stray_type_on_flags(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "<bool>" not in result.output


def test_a_bad_argument_is_named_as_an_argument_not_a_config() -> None:
    result = runner.invoke(app, ["schedule", str(ROOT / "models" / "dameisha.yaml"),
                                 "--date", "2025-13-01"])
    assert result.exit_code == 2
    assert "invalid argument --date: got '2025-13-01'" in result.output
    assert "invalid config" not in result.output
