"""The HTML report of a results folder: self-contained, its numbers are kpis.json's, and it
renders in a real browser with the KPI table and every plot visible."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

import parkgrid as pg
from parkgrid.errors import InputDataError
from parkgrid.reporting.html import REPORT_FILE, write_report

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
PLOTS = {"monthly_energy", "monthly_peaks", "cost_breakdown", "import_heatmap",
         "storage_by_season", "dispatch_peak", "storage_levels", "solve_times", "monthly_bill",
         "load_duration"}


@pytest.fixture(scope="module")
def milp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-day `parkgrid run` of Dameisha (MILP, noisy forecasts, baselines, bound)."""
    from parkgrid.commands.run import run_command

    out = tmp_path_factory.mktemp("results") / "dameisha"
    run_command(ROOT / "models" / "dameisha.yaml", start="2025-08-04", days=2,
                forecast="noisy", planner="milp", seed=1, out=out,
                console=Console(file=io.StringIO()))
    (out / "events.log").write_text("2025-08-04 a warning <b>with markup</b>\n2025-08-05 "
                                    "another line\n", encoding="utf-8")
    write_report(out)
    return out


@pytest.fixture(scope="module")
def rules_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-day rules-only run without baselines or bound, saved through the API."""
    park = pg.load_park(ROOT / "models" / "haiyan.yaml")
    run = pg.run_period(park, "2025-03-03", days=1, forecast="perfect", planner="rules",
                        baselines=(), perfect_foresight=False)
    return run.save(tmp_path_factory.mktemp("results") / "haiyan")


class Cells(HTMLParser):
    """Every element carrying ``data-kpi`` (attributes and text), every ``img``, and the
    zero-carbon rows."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, Any]] = []
        self.images: list[dict[str, str]] = []
        self.indicators: dict[str, dict[str, str]] = {}
        self._open: dict[str, Any] | None = None
        self._row: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(a)
        if "data-indicator" in a:
            self._row = {"name": a["data-indicator"], "pass": a["data-pass"], "text": ""}
            self.indicators[a["data-indicator"]] = self._row
        if "data-kpi" in a:
            self._open = {**a, "text": ""}

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["text"] += data
        if self._row is not None:
            self._row["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag in ("td", "div", "span"):
            self.cells.append(self._open)
            self._open = None
        if tag == "tr":
            self._row = None


def parse(folder: Path) -> Cells:
    cells = Cells()
    cells.feed((folder / REPORT_FILE).read_text(encoding="utf-8"))
    return cells


def lookup(doc: Any, path: str) -> Any:
    for part in path.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def kpis_json(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "kpis.json").read_text(encoding="utf-8"))


def test_report_is_written_into_the_results_folder(milp_run: Path) -> None:
    assert (milp_run / REPORT_FILE).is_file()
    assert not [p for p in milp_run.iterdir() if p.name.startswith(".")]  # no temp left


def test_report_is_self_contained(milp_run: Path) -> None:
    text = (milp_run / REPORT_FILE).read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", text)
    assert "<link" not in text and "@import" not in text
    assert re.findall(r"<script[^>]*>", text) == ['<script type="application/json" '
                                                  'id="dispatch-data">', "<script>"]
    assert not re.search(r"fetch\(|XMLHttpRequest|https?://(?!www\.w3\.org/2000/svg)", text)
    for image in parse(milp_run).images:
        assert image["src"].startswith("data:image/png;base64,")
        png = base64.b64decode(image["src"].split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_embeds_every_plot(milp_run: Path) -> None:
    keys = {image["data-plot"] for image in parse(milp_run).images}
    assert keys >= PLOTS


def test_every_kpi_in_the_report_is_the_value_in_kpis_json(milp_run: Path) -> None:
    doc = kpis_json(milp_run)
    cells = parse(milp_run).cells
    assert len(cells) > 100
    for cell in cells:
        assert json.loads(cell["data-value"]) == lookup(doc, cell["data-kpi"]), cell


def test_every_kpi_is_shown_as_its_value_in_the_unit_of_its_row(milp_run: Path) -> None:
    doc = kpis_json(milp_run)
    for cell in parse(milp_run).cells:
        value = lookup(doc, cell["data-kpi"]) * float(cell["data-scale"])
        number = re.search(r"-?[\d,]*\.?\d+(?:e[-+]\d+)?", cell["text"])
        assert number, cell
        shown = number.group(0).replace(",", "")
        decimals = len(shown.split(".")[1].split("e")[0]) if "." in shown else 0
        tolerance = 0.5 * 10.0**-decimals * (abs(value) if "e" in shown else 1.0) + 1e-9
        assert float(shown) == pytest.approx(value, abs=tolerance), cell


def test_the_headline_kpis_of_the_strategy_and_every_baseline_are_in_the_table(
        milp_run: Path) -> None:
    doc = kpis_json(milp_run)
    shown = {cell["data-kpi"] for cell in parse(milp_run).cells}
    for key in ("cost_yuan", "total_cost_yuan", "self_sufficiency", "self_sufficiency_annual",
                "co2_t", "imported_kwh", "peak_import_kw"):
        assert f"strategy.{key}" in shown
        for name in doc["baselines"]:
            assert f"baselines.{name}.{key}" in shown
    assert {"perfect_foresight.total_cost_yuan", "comparison.regret_yuan",
            "strategy.co2_avoided_t", "solver.solve_s_median"} <= shown
    for month in doc["strategy"]["monthly"]:
        assert f"strategy.monthly.{month}.cost_yuan" in shown
        assert f"strategy.monthly.{month}.self_sufficiency_annual" in shown


def test_zero_carbon_indicators_show_pass_or_fail_as_in_kpis_json(milp_run: Path) -> None:
    expected = kpis_json(milp_run)["strategy"]["zero_carbon"]
    rows = parse(milp_run).indicators
    assert set(rows) == set(expected)
    for name, row in rows.items():
        verdict = expected[name]["pass"]
        assert row["pass"] == str(verdict).lower()
        assert ("PASS" if verdict else "FAIL") in row["text"]


def test_events_are_listed_escaped(milp_run: Path) -> None:
    text = (milp_run / REPORT_FILE).read_text(encoding="utf-8")
    assert "a warning &lt;b&gt;with markup&lt;/b&gt;" in text
    assert "2025-08-05 another line" in text


def test_a_run_without_baselines_or_bound_still_reports(rules_run: Path) -> None:
    doc = kpis_json(rules_run)
    cells = parse(rules_run).cells
    assert doc["perfect_foresight"] is None and doc["baselines"] == {}
    for cell in cells:
        assert json.loads(cell["data-value"]) == lookup(doc, cell["data-kpi"])
    assert "strategy.self_sufficiency" in {c["data-kpi"] for c in cells}


def test_a_failed_bound_is_reported_not_fatal(rules_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(rules_run, folder)
    doc = kpis_json(folder)
    doc["perfect_foresight"] = {"error": "SolverError: no <solution>"}
    (folder / "kpis.json").write_text(json.dumps(doc), encoding="utf-8")
    text = write_report(folder).read_text(encoding="utf-8")
    assert "The perfect-foresight bound failed: SolverError: no &lt;solution&gt;" in text
    assert "perfect_foresight." not in text


def test_the_run_commands_table_survives_a_failed_bound(rules_run: Path) -> None:
    from rich.console import Console

    from parkgrid.commands.run import kpi_table, summary_lines

    doc = kpis_json(rules_run)
    doc["perfect_foresight"] = {"error": "SolverError: no solution"}
    console = Console(record=True, width=200)
    console.print(kpi_table(doc))
    console.print(summary_lines(doc, rules_run))
    text = console.export_text()
    assert "perfect foresight" not in text.splitlines()[1]  # no bound column
    assert "perfect-foresight bound failed: SolverError: no solution" in text


def test_load_results_reads_the_folder_back(rules_run: Path) -> None:
    run = pg.load_results(rules_run)
    doc = kpis_json(rules_run)
    assert run.table().loc["cost_yuan"].iloc[0] == doc["strategy"]["cost_yuan"]
    assert run.strategy.summary["co2_t"] == doc["strategy"]["co2_t"]
    assert len(run.strategy.ledger) == 96


def test_a_folder_without_kpis_is_reported_by_name(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"kpis\.json"):
        write_report(tmp_path)


# --- a real browser -----------------------------------------------------------------------------

PROBE = """<script>
window.addEventListener('load', () => {
  const box = el => { const r = el.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; };
  const out = {height: document.documentElement.scrollHeight,
               table: box(document.querySelector('table.kpis')),
               cards: [...document.querySelectorAll('.card .value')].map(el => ({
                 kpi: el.dataset.kpi, text: el.textContent, ...box(el)})),
               dispatch: {paths: document.querySelectorAll('#dispatch-svg path').length,
                          day: document.getElementById('dispatch-day').value,
                          ...box(document.getElementById('dispatch-svg'))},
               images: [...document.images].map(img => ({plot: img.dataset.plot,
                 natural: img.naturalWidth, complete: img.complete, ...box(img)}))};
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium(page: Path, profile: Path, height: int, *args: str,
             width: int = 1280) -> subprocess.CompletedProcess:
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               "--force-device-scale-factor=1", "--virtual-time-budget=5000",
               f"--user-data-dir={profile}", f"--window-size={width},{height}", *args,
               page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, check=True)


def probe(page: Path, profile: Path, height: int, width: int = 1280) -> dict[str, Any]:
    dom = chromium(page, profile, height, "--dump-dom", width=width).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe script did not run"
    return json.loads(html.unescape(found.group(1)))


def blank(region: np.ndarray) -> bool:
    """A region with (almost) no ink: nearly every pixel the same colour."""
    return region.size == 0 or float(region.std()) < 5.0 or (
        np.abs(region - np.median(region, axis=(0, 1))).max(axis=2) > 40).mean() < 0.01


def test_report_renders_in_a_headless_browser_with_the_kpi_table_and_every_plot(
        milp_run: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (CI installs it "
                    "in .ci/run; locally: apt-get install chromium)")
    from PIL import Image

    page = tmp_path / "report.html"
    text = (milp_run / REPORT_FILE).read_text(encoding="utf-8")
    page.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    profile = tmp_path / "profile"
    layout = probe(page, profile, 1000)
    height = int(layout["height"]) + 20
    layout = probe(page, profile, height)  # the same window size as the screenshot
    shot = tmp_path / "shot.png"
    chromium(page, profile, height, f"--screenshot={shot}")
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[0] >= layout["height"] - 5
    regions = {"KPI table": layout["table"], "any day's dispatch": layout["dispatch"]}
    assert layout["dispatch"]["paths"] > 3 and layout["dispatch"]["day"]
    assert {image["plot"] for image in layout["images"]} >= PLOTS
    for image in layout["images"]:
        assert image["complete"] and image["natural"] > 0, image
        assert image["w"] > 200 and image["h"] > 100, image
        regions[image["plot"]] = image
    for name, r in regions.items():
        x, y, w, h = (round(r[k]) for k in ("x", "y", "w", "h"))
        assert w > 0 and h > 0, name
        assert not blank(pixels[y:y + h, x:x + w]), f"{name} is blank in the screenshot"
    shutil.rmtree(profile, ignore_errors=True)


def test_report_shows_what_the_investment_pays(milp_run: Path) -> None:
    doc = kpis_json(milp_run)
    shown = {cell["data-kpi"] for cell in parse(milp_run).cells}
    assert {"economics.npv_yuan", "economics.simple_payback_years",
            "economics.capex_yuan"} <= shown
    assert "cashflow" in {image["data-plot"] for image in parse(milp_run).images}
    assert (milp_run / "cashflow.csv").is_file()
    assert doc["economics"]["baseline"] == "grid_only"


def test_report_says_when_the_economics_baseline_was_not_run(rules_run: Path) -> None:
    text = (rules_run / REPORT_FILE).read_text(encoding="utf-8")
    assert "baseline &#x27;re_no_storage&#x27; was not run" in text or \
        "baseline 're_no_storage' was not run" in text
    assert not (rules_run / "cashflow.csv").exists()


def test_the_run_commands_table_shows_self_sufficiency_both_ways_with_definitions(
        rules_run: Path) -> None:
    from rich.console import Console

    from parkgrid.commands.run import kpi_table

    doc = kpis_json(rules_run)
    console = Console(record=True, width=200)
    console.print(kpi_table(doc))
    text = console.export_text()
    row = next(line for line in text.splitlines() if "annual balance" in line and "%" in line)
    assert f"{100 * doc['strategy']['self_sufficiency_annual']:.1f}" in row
    words = " ".join(text.split())  # the caption wraps at the table's width
    assert "RE generated ÷ consumption over the period" in words
    assert "RE used on site when generated ÷ consumption" in words


# --- the first screen ---------------------------------------------------------------------------

def summary_of(text: str) -> str:
    return text.split('<section id="summary">', 1)[1].split("</section>", 1)[0]


def test_the_first_screen_says_what_the_system_is_and_defines_every_baseline(
        milp_run: Path) -> None:
    doc = kpis_json(milp_run)
    first = summary_of((milp_run / REPORT_FILE).read_text(encoding="utf-8"))
    for name, size in doc["system"]["assets"].items():
        assert html.escape(name) in first and html.escape(size) in first
    assert "demand charge 48 yuan/kW·month" in first and "synthetic" in first
    for name in doc["baselines"]:
        assert html.escape(pg.report.BASELINE_DEFINITIONS[name]) in first
    assert "cost = energy bought + demand charge − export revenue" in first
    shown = re.sub(r"<[^>]+>", " ", first)
    assert "total_cost" not in shown and "regret" not in shown and "_yuan" not in shown
    assert "key names end in their unit" not in (milp_run / REPORT_FILE).read_text("utf-8")


def test_each_failing_indicator_says_what_it_needs(milp_run: Path) -> None:
    doc = kpis_json(milp_run)
    first = html.unescape(summary_of((milp_run / REPORT_FILE).read_text(encoding="utf-8")))
    failing = [n for n, v in doc["strategy"]["zero_carbon"].items() if not v["pass"]]
    assert failing
    for name in failing:
        line = re.search(rf'data-verdict="{name}">(.*?)</li>', first)
        assert line and re.search(r"(required|allowed): [\d,.]+ (MWh|t) \w", line.group(1))


def test_headline_cards_pick_up_annual_self_sufficiency_and_economics_when_present(
        milp_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(milp_run, folder)
    doc = kpis_json(folder)
    del doc["strategy"]["self_sufficiency_annual"]
    doc.pop("economics", None)
    (folder / "kpis.json").write_text(json.dumps(doc), encoding="utf-8")
    first = summary_of(write_report(folder).read_text(encoding="utf-8"))
    assert "annual balance" not in first and "net present value" not in first
    doc["strategy"]["self_sufficiency_annual"] = 0.7531
    doc["economics"] = {"npv_yuan": 12345678.9, "simple_payback_years": 6.44}
    (folder / "kpis.json").write_text(json.dumps(doc), encoding="utf-8")
    first = summary_of(write_report(folder).read_text(encoding="utf-8"))
    assert "self-sufficiency, annual balance" in first and "75.3 %" in first
    assert "12,345,679 yuan" in first and "6.4 years" in first


def test_the_first_screen_shows_the_headline_figures_in_a_browser(milp_run: Path,
                                                                  tmp_path: Path) -> None:
    """At 1400 × 900 px, without scrolling: the cost, the saving, self-sufficiency and CO2
    avoided, each the value of kpis.json in its unit, and the failing indicators."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from PIL import Image

    doc = kpis_json(milp_run)
    page = tmp_path / "report.html"
    text = (milp_run / REPORT_FILE).read_text(encoding="utf-8")
    page.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    profile = tmp_path / "profile"
    layout = probe(page, profile, 900, width=1400)
    cards = {card["kpi"]: card for card in layout["cards"]}
    expected = {"strategy.cost_yuan": f"{doc['strategy']['cost_yuan']:,.0f} yuan",
                "comparison.savings_yuan.grid_only":
                    f"{doc['comparison']['savings_yuan']['grid_only']:,.0f} yuan",
                "strategy.self_sufficiency": f"{100 * doc['strategy']['self_sufficiency']:.1f} %",
                "comparison.co2_avoided_t": f"{doc['comparison']['co2_avoided_t']:,.1f} t"}
    shot = tmp_path / "first.png"
    chromium(page, profile, 900, f"--screenshot={shot}", width=1400)
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    for path, shown in expected.items():
        card = cards[path]
        assert card["text"] == shown, card
        assert card["y"] >= 0 and card["y"] + card["h"] <= 900 and card["x"] + card["w"] <= 1400
        x, y, w, h = (round(card[k]) for k in ("x", "y", "w", "h"))
        assert not blank(pixels[y:y + h, x:x + w]), f"{path} is blank on the first screen"
    shutil.rmtree(profile, ignore_errors=True)


def test_the_monthly_bill_adds_up_to_the_monthly_kpis(milp_run: Path) -> None:
    from parkgrid.reporting.html import monthly_bill_frame, read_baseline_flows, read_results

    doc, ledger, _ = read_results(milp_run)
    bill = monthly_bill_frame(doc, ledger, read_baseline_flows(milp_run))
    energy = [c for c in bill if c.startswith("energy_")]
    assert len(energy) >= 3
    cases = {"with the system": doc["strategy"],
             "without (grid only)": doc["baselines"]["grid_only"]}
    assert set(bill.index.get_level_values(1)) == set(cases)
    for (month, case), row in bill.iterrows():
        k = cases[case]["monthly"][month]
        assert row[energy].sum() == pytest.approx(k["energy_cost_yuan"], rel=1e-5)
        assert row["export_revenue_yuan"] == pytest.approx(k["export_revenue_yuan"], rel=1e-5,
                                                           abs=1e-6)
        assert row["demand_charge_yuan"] == k["demand_charge_yuan"]


def test_the_day_picker_holds_every_day_of_the_run(milp_run: Path) -> None:
    text = (milp_run / REPORT_FILE).read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="dispatch-data">(.*?)</script>', text, re.S).group(1))
    _doc, ledger, _ = pg.report.read_results(milp_run)
    assert data["days"] == ["2025-08-04", "2025-08-05"] and data["offsets"][-1] == len(ledger)
    series = {s["label"]: s for s in data["series"]}
    assert sum(series["grid import"]["values"]) == pytest.approx(
        ledger["grid_import_kw"].sum(), abs=0.05 * len(ledger))
    assert {s["sign"] for s in data["series"]} == {1, -1}


@pytest.mark.parametrize("text", ["null", "42", "[]", '{"period": {}}',
                                  '{"strategy": {}, "period": {}, "run": {}}'])
def test_report_on_a_broken_kpi_file_exits_2_naming_it(tmp_path, text):
    from typer.testing import CliRunner

    from parkgrid.cli import app

    (tmp_path / "kpis.json").write_text(text)
    import pandas as pd

    pd.DataFrame({"x": [1.0]}).to_parquet(tmp_path / "timeseries.parquet")
    outcome = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert outcome.exit_code == 2, outcome.output
    assert "kpis.json" in outcome.output and "Traceback" not in outcome.output
