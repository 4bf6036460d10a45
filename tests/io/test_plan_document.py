"""The plan document: metadata inside, a published JSON Schema, signed storage set-points."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.commands.schedule import schedule_command
from parkgrid.config import load_park
from parkgrid.io.export import read_schedule
from parkgrid.io.plan_document import config_hash, is_setpoint, json_schema_text, setpoints
from parkgrid.model import registry

ROOT = Path(__file__).parents[2]
HAIYAN = ROOT / "models" / "haiyan.yaml"


@pytest.mark.parametrize("document", ["plan", "state"])
def test_published_json_schemas_are_current(document):
    published = (ROOT / "docs" / f"{document}.schema.json").read_text(encoding="utf-8")
    assert published.strip() == json_schema_text(document), (
        f"regenerate: parkgrid json-schema {document} > docs/{document}.schema.json")


@pytest.fixture(scope="module")
def plan_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan")
    result = schedule_command(HAIYAN, start="2025-07-15T10:30", horizon_hours=6,
                              soc_overrides=["lfp=0.5", "tank=0.5"], out=folder / "plan.json")
    schedule_command(HAIYAN, start="2025-07-15T10:30", horizon_hours=6,
                     soc_overrides=["lfp=0.5", "tank=0.5"], out=folder / "plan.csv")
    return result.schedule, folder


def test_json_plan_validates_against_the_schema_and_carries_its_metadata(plan_files):
    _, folder = plan_files
    document = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(json_schema_text("plan")))
    meta = document["metadata"]
    assert meta["park_config_sha256"] == config_hash(load_park(HAIYAN))
    assert meta["forecast_source"].startswith("park model")
    assert meta["status"] == "optimal" and meta["gap"] is not None
    assert pd.Timestamp(meta["issued_at"]).tzinfo is not None
    assert meta["parkgrid_version"]
    row = document["schedule"][0]
    assert row["timestamp"] == "2025-07-15T10:30:00+08:00"
    for key in ("battery_setpoint_kw", "tes_setpoint_kw_th", "battery_charge_kw",
                "pv_kw_roof_steel"):
        assert key in row


def test_bad_plan_documents_fail_the_schema(plan_files):
    _, folder = plan_files
    schema = json.loads(json_schema_text("plan"))
    document = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    document["metadata"]["status"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_csv_plan_says_where_its_metadata_is_and_has_signed_setpoints(plan_files):
    schedule, folder = plan_files
    lines = (folder / "plan.csv").read_text(encoding="utf-8").splitlines()
    assert "metadata: plan.csv.meta.json" in lines[0]
    table = pd.read_csv(folder / "plan.csv", comment="#")
    expected = (table["battery_discharge_kw"] - table["battery_charge_kw"]).round(1)
    assert table["battery_setpoint_kw"].to_numpy() == pytest.approx(expected.to_numpy())
    tes = (table["tes_discharge_kw_th"] - table["tes_charge_kw_th"]).round(1)
    assert table["tes_setpoint_kw_th"].to_numpy() == pytest.approx(tes.to_numpy())
    hot = (table["hot_tank_discharge_kw_th"] - table["hot_tank_charge_kw_th"]).round(1)
    assert table["hot_tank_setpoint_kw_th"].to_numpy() == pytest.approx(hot.to_numpy())
    back = read_schedule(folder / "plan.csv")
    assert list(back.frame.columns) == list(schedule.frame.columns)  # existing names kept


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 5000)), min_size=1, max_size=20),
       st.booleans())
def test_setpoints_are_discharge_minus_charge_to_0_1_kw(flows, several):
    suffixes = ["_a", "_b"] if several else [""]
    frame = pd.DataFrame({f"battery_{kind}_kw{s}": [f[i] for f in flows]
                          for s in suffixes for i, kind in enumerate(("charge", "discharge"))})
    out = setpoints(frame)
    assert list(out.columns) == [f"battery_setpoint_kw{s}" for s in suffixes]
    for s in suffixes:
        exact = frame[f"battery_discharge_kw{s}"] - frame[f"battery_charge_kw{s}"]
        values = out[f"battery_setpoint_kw{s}"].to_numpy()
        assert np.abs(values - exact.to_numpy()).max() <= 0.05 + 1e-9
        assert np.allclose(values * 10, np.round(values * 10))
        assert not np.signbit(values[values == 0]).any()


def test_every_store_of_the_registry_gets_a_signed_setpoint():
    """Each kind with a carried state (a store) exports discharge − charge under its
    ``State.setpoint`` name, without the exporter naming it."""
    kinds = registry.kinds_with("state")
    assert {k.name for k in kinds} >= {"batteries", "tank", "hot_tank"}
    frame = pd.DataFrame({c.base: [1.0 + i, 4.0] if c.role == "sink" else [3.0, 0.5 * i]
                          for i, k in enumerate(kinds)
                          for c in k.columns if c.role in ("sink", "source")})
    out = setpoints(frame)
    for k in kinds:
        charge = next(c.base for c in k.columns if c.role == "sink")
        discharge = next(c.base for c in k.columns if c.role == "source")
        assert k.state is not None and k.state.setpoint in out
        assert list(out[k.state.setpoint]) == list(frame[discharge] - frame[charge])
        assert is_setpoint(k.state.setpoint)
