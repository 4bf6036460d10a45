"""The schedule checker finds every kind of broken balance and limit (and nothing else)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer_support import IDEAL_BATTERY, hours, make_inputs, make_park
from parkgrid.model.balance import check_schedule
from parkgrid.optimizer import plan_day

N = 24


@pytest.fixture(scope="module")
def case():
    park = make_park(
        pv=[{"name": "roof", "capacity_kwp": 500, "bus": "dc"}],
        wind=[{"name": "wt", "hub_height_m": 100, "turbine": {"oedb_type": "E-126/4200"}}],
        batteries=[IDEAL_BATTERY | {"bus": "dc", "soc_initial": 0.5}],
        buses={"dc": {"converter_kw": 300, "converter_efficiency": 0.95}},
        cooling={"profile": {"path": "c.csv"},
                 "chillers": [{"name": "ch", "capacity_kw_th": 600, "cop": 5.0,
                               "min_part_load": 0.2}],
                 "tank": {"capacity_kwh_th": 800, "max_charge_kw_th": 300,
                          "max_discharge_kw_th": 300}},
        ev={"generator": {}, "chargers": [{"name": "fast", "kind": "fast_dc", "count": 1,
                                           "power_kw": 50, "efficiency": 1.0, "bus": "dc"}]},
        deferrable=[{"name": "wash", "energy_kwh_per_day": 20, "max_kw": 10,
                     "window_start_h": 1, "window_end_h": 4}],
        grid={"import_limit_kw": 2000, "export_limit_kw": 200},
    )
    h = hours(park, N)
    inputs = make_inputs(
        park, n=N, load_kw_plant=300.0, pv_kw_roof=np.where(h > 2, 200.0, 0.0),
        wind_kw_wt=100.0, cooling_load_kw_th=250.0, price_export_yuan_per_kwh=0.3,
        price_import_yuan_per_kwh=np.where(h < 3, 0.3, 1.0),
        sessions=[{"charger": "fast", "pile": 0, "bus": "dc", "arrival": "2025-07-01 01:00",
                   "departure": "2025-07-01 04:00", "energy_kwh": 40, "max_kw": 50.0}])
    return park, inputs, plan_day(inputs).frame


def problems_after(case, change):
    park, inputs, frame = case
    tampered = frame.copy()
    change(tampered)
    return check_schedule(tampered, park, inputs)


def test_a_planned_schedule_passes(case):
    park, inputs, frame = case
    assert check_schedule(frame, park, inputs) == []


def add(column, amount, step=None):
    """A change: ``amount`` added to ``column`` at ``step`` (every step if None)."""
    def change(f):
        if step is None:
            f[column] = f[column] + amount
        else:
            f.iloc[step, f.columns.get_loc(column)] += amount
    return change


def put(column, value):
    def change(f):
        f[column] = value(f) if callable(value) else value
    return change


def drop(column):
    return lambda f: f.drop(columns=column, inplace=True)


@pytest.mark.parametrize(("change", "message"), [
    (add("grid_import_kw", 5.0, step=3), "AC bus balance off"),
    (add("converter_ac_to_dc_kw", 3.0, step=5), "DC bus balance off"),
    (add("grid_import_kw", 2500.0), "import_limit"),
    (add("battery_soc_kwh", 1.0, step=10), "level change ≠ stored energy"),
    (add("battery_charge_kw", 1.0), "charge and discharge at the same step"),
    (put("chiller_electric_kw", lambda f: f["chiller_electric_kw"] * 1.1), "COP curve"),
    (put("chiller_cooling_kw_th", lambda f: np.where(f["chiller_cooling_kw_th"] > 0, 50, 0.0)),
     "minimum part load"),
    (put("tes_discharge_kw_th", 0.0), "cooling supply below demand"),
    (add("pv_curtailed_kw", 1.0), "used + curtailed ≠ available"),
    (put("ev_charge_kw", 1.0), "EV charger fast"),
    (put("deferrable_kw", 1.0), "deferrable wash"),
    (add("load_kw", 1.0), "load_kw ≠ the inputs"),
    (drop("tes_level_kwh_th"), "missing column"),
])
def test_each_violation_is_reported(case, change, message):
    found = problems_after(case, change)
    assert any(message in p for p in found), found


def test_the_report_names_the_first_offending_step(case):
    found = problems_after(case, add("grid_import_kw", 5.0, step=7))
    assert any("step 7" in p and "worst 5" in p for p in found), found
