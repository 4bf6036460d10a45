"""Schedule files: CSV, JSON and Parquet round trips with their metadata."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from optimizer_support import IDEAL_BATTERY, make_inputs, make_park
from parkgrid.errors import InputDataError, ParkgridError
from parkgrid.io.export import jsonable, meta_path, read_schedule, write_schedule
from parkgrid.model.schedule import Schedule
from parkgrid.optimizer import plan_day


@pytest.fixture(scope="module")
def schedule():
    park = make_park(batteries=[IDEAL_BATTERY])
    return plan_day(make_inputs(park, n=8, load_kw_plant=150.0, tou_period="valley"))


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_round_trip_keeps_frame_metadata_and_state(schedule, tmp_path, suffix):
    path = write_schedule(schedule, tmp_path / f"plan{suffix}")
    back = read_schedule(path)
    pd.testing.assert_frame_equal(back.frame, schedule.frame, check_dtype=False,
                                  check_freq=False)
    assert back.frame.index.tz is not None
    written = {k: v for k, v in back.metadata.items() if k != "state_out"}
    issued = {"issued_at", "parkgrid_version", "park_config_sha256", "forecast_source",
              "price_source"}
    assert {k: v for k, v in written.items() if k not in issued} == json.loads(
        json.dumps(jsonable(schedule.metadata)))
    assert issued <= set(written)
    for key in ("schema_version", "park", "status", "objective", "energy_cost_yuan", "gap"):
        assert back.metadata[key] == schedule.metadata[key]
    assert back.state_out == schedule.state_out


def test_csv_metadata_lives_in_a_sidecar(schedule, tmp_path):
    path = write_schedule(schedule, tmp_path / "plan.csv")
    assert meta_path(path).name == "plan.csv.meta.json"
    assert json.loads(meta_path(path).read_text())["schema_version"] == "1.1"
    banner, header = path.read_text().splitlines()[:2]
    assert banner.startswith("# parkgrid plan, schema 1.1; metadata: plan.csv.meta.json")
    assert header.startswith("timestamp,grid_import_kw")


def test_json_keeps_metadata_under_its_key(schedule, tmp_path):
    document = json.loads(write_schedule(schedule, tmp_path / "plan.json").read_text())
    assert set(document) == {"metadata", "schedule"}
    assert document["schedule"][0]["timestamp"] == "2025-07-01T00:00:00+08:00"


def test_unknown_extension_is_refused_without_writing(schedule, tmp_path):
    with pytest.raises(ParkgridError, match="unknown schedule format"):
        write_schedule(schedule, tmp_path / "plan.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_partial_file(schedule, tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError):
        write_schedule(schedule, tmp_path / "plan.csv")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_previous_plan_and_its_metadata(schedule, tmp_path,
                                                                  monkeypatch):
    out = tmp_path / "plan.csv"
    write_schedule(schedule, out)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    changed = Schedule(schedule.frame, schedule.metadata | {"objective": -1.0},
                       schedule.state_out)

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError):
        write_schedule(changed, out)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("fail_at", [0, 1, 2])
def test_an_interrupted_csv_write_leaves_a_consistent_pair(schedule, tmp_path, monkeypatch,
                                                           fail_at):
    from parkgrid.io import export

    out = tmp_path / "plan.csv"
    write_schedule(schedule, out)
    frame = schedule.frame.copy()
    frame.iloc[0, 0] += 1.0
    changed = Schedule(frame, schedule.metadata | {"objective": -1.0}, schedule.state_out)
    calls = []
    real = export.atomic_write

    def dies(path, write):  # the process dies at the fail_at-th rename of the pair
        if len(calls) == fail_at:
            raise KeyboardInterrupt
        calls.append(path)
        return real(path, write)

    monkeypatch.setattr(export, "atomic_write", dies)
    with pytest.raises(KeyboardInterrupt):
        write_schedule(changed, out)
    back = read_schedule(out)
    is_new = back.metadata["objective"] == -1.0
    assert is_new == (fail_at == 2)
    expected = frame if is_new else schedule.frame
    pd.testing.assert_frame_equal(back.frame, expected, check_dtype=False, check_freq=False)


def test_a_sidecar_of_another_table_is_refused(schedule, tmp_path):
    out = write_schedule(schedule, tmp_path / "plan.csv")
    out.write_text(out.read_text().replace("timestamp", "timestamp", 1) + "\n")
    with pytest.raises(InputDataError, match="describes another table"):
        read_schedule(out)


def test_the_plan_document_holds_every_value_of_the_table_as_plain_json() -> None:
    """The column-wise conversion gives what converting value by value gives."""
    import numpy as np

    from parkgrid.io.export import document_of, jsonable

    table = pd.DataFrame({"timestamp": ["2025-07-01T00:00:00+08:00"] * 3,
                          "grid_import_kw": [1.5, np.nan, np.inf],
                          "chillers_on": np.array([0, 1, 2], dtype="int64"),
                          "tou_period": pd.array(["valley", None, "peak"], dtype="string"),
                          "flag": [True, False, True]})
    rows = document_of({}, table)["schedule"]
    assert rows == jsonable(table.to_dict("records"))
    assert rows[1]["grid_import_kw"] is None and rows[2]["grid_import_kw"] is None
    assert json.dumps(rows, allow_nan=False)
    assert all(type(r["chillers_on"]) is int and type(r["flag"]) is bool for r in rows)


def test_the_plan_document_is_the_document_of_the_plan_table(schedule) -> None:
    """plan_document (built from the columns) gives what the table of every format gives."""
    from parkgrid.io.export import document_of, plan_document, plan_parts

    direct, of_table = plan_document(schedule), document_of(*plan_parts(schedule))
    for document in (direct, of_table):
        document["metadata"].pop("issued_at")
    assert json.dumps(direct, allow_nan=False) == json.dumps(of_table, allow_nan=False)
    assert any(key.startswith("battery_setpoint_kw") for key in direct["schedule"][0])
