"""The shipped DR park, the CLI's handling of calendars, and the report's event-day section."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from parkgrid.cli import app
from parkgrid.config import load_park
from parkgrid.dr.events import read_calendar
from parkgrid.reporting.html import demand_response_html

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_dameisha_dr_is_dameisha_with_a_programme():
    plain = load_park(ROOT / "models" / "dameisha.yaml")
    dr = load_park(ROOT / "models" / "dameisha_dr.yaml")
    keep = {"name", "demand_response"}
    assert dr.model_dump(exclude=keep) == plain.model_dump(exclude=keep)
    events = read_calendar(dr)
    assert len(events) == 14 and all(e.start.month in (6, 7, 8, 9) for e in events)


def test_every_figure_of_the_programmes_carries_a_source_or_est():
    text = (ROOT / "models" / "dameisha_dr.yaml").read_text(encoding="utf-8")
    block = text[text.index("demand_response:"):]
    for line in block.splitlines():
        if re.search(r":\s*[0-9]", line):
            assert "#" in line, line


def test_validate_counts_events_and_a_bad_calendar_exits_2(tmp_path):
    result = runner.invoke(app, ["validate", str(ROOT / "models" / "dameisha_dr.yaml")])
    assert result.exit_code == 0, result.output
    assert "14 events of 2 programme(s)" in result.output
    park = tmp_path / "park.yaml"
    shutil.copy(ROOT / "models" / "dameisha_dr.yaml", park)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dameisha_dr_events.csv").write_text(
        "programme,date,start,end,requested_kw\ngd_day_ahead,2025-07-01,14:00,16:00,900\n",
        encoding="utf-8")
    text = park.read_text(encoding="utf-8").replace("../profiles/", str(ROOT / "profiles") + "/")
    park.write_text(text, encoding="utf-8")
    for command in (["validate", str(park)], ["run", str(park), "--days", "1",
                                              "--out", str(tmp_path / "out")]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "dameisha_dr_events.csv" in result.output and "requested_kw" in result.output
        assert "Traceback" not in result.output


def test_the_report_lists_each_event_day():
    doc = {"demand_response": {"period": {
        "events": 1, "events_in_band": 1, "revenue_yuan": 500.0, "payment_yuan": 500.0,
        "capacity_yuan": 0.0, "penalty_yuan": 0.0, "delivery_cost_yuan": 80.0,
        "net_benefit_yuan": 420.0}, "events": [{
            "date": "2025-07-04", "programme": "gd_day_ahead", "start": "14:00", "end": "16:00",
            "offered_kw": 150.0, "baseline_kwh": 400.0, "actual_kwh": 150.0,
            "response_kwh": 250.0, "paid_kwh": 250.0, "net_yuan": 500.0,
            "delivery_cost_yuan": 80.0, "status": "in_band"}]}}
    html = demand_response_html(doc)
    assert "2025-07-04" in html and "gd_day_ahead" in html and "in_band" in html
    assert 'data-kpi="demand_response.events.0.response_kwh"' in html
    assert "net benefit 420 yuan" in html
    assert demand_response_html({}) == ""
