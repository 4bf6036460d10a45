"""The asset registry: the published schedule keeps its columns and order, every column is
declared once, and a kind's cost hook reaches the one cost breakdown."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parkgrid.model import costs, registry
from parkgrid.model.schedule import PER_ASSET_COLUMNS, SCHEDULE_COLUMNS, ParkState, asset_names

PUBLISHED = [  # docs/schedule.md: the schedule CSV's columns, in order
    "grid_import_kw", "grid_export_kw",
    "pv_kw", "pv_curtailed_kw", "wind_kw", "wind_curtailed_kw",
    "battery_charge_kw", "battery_discharge_kw", "battery_soc_kwh",
    "chiller_electric_kw", "chiller_cooling_kw_th",
    "tes_charge_kw_th", "tes_discharge_kw_th", "tes_level_kwh_th",
    "ev_charge_kw", "deferrable_kw", "load_kw", "cooling_load_kw_th",
    "converter_ac_to_dc_kw", "converter_dc_to_ac_kw",
    "heat_pump_electric_kw", "heat_pump_heat_kw_th", "waste_heat_kw_th", "boiler_heat_kw_th",
    "hot_tank_charge_kw_th", "hot_tank_discharge_kw_th", "hot_tank_level_kwh_th",
    "heating_load_kw_th",
    "unserved_kw", "cooling_unserved_kw_th", "heating_unserved_kw_th",
    "price_import", "price_export", "tou_period", "co2_kg_per_kwh",
]


def test_the_published_columns_and_their_order_are_the_documented_ones():
    assert SCHEDULE_COLUMNS == PUBLISHED
    bases = [c.base for k in registry.KINDS.values() for c in k.columns]
    assert len(bases) == len(set(bases)), "a column declared by two kinds"
    assert PER_ASSET_COLUMNS["chillers"][-1] == "chiller_on"  # kept per asset, not published


def test_every_store_of_a_park_has_a_state_and_a_soc_name(every_asset_park):
    stores = registry.stores(every_asset_park)
    assert set(stores) == {"bat", registry.TANK}
    state = ParkState.initial(every_asset_park)
    tank = every_asset_park.cooling.tank
    assert state.tank_level_kwh_th == pytest.approx(tank.level_initial * tank.capacity_kwh_th)
    kind = registry.KINDS["batteries"]
    state.set_level(kind, "bat", 123.0)
    assert state.levels(kind) == {"bat": 123.0} and state.battery_soc_kwh["bat"] == 123.0
    assert asset_names(every_asset_park)["buses"] == ["ac", "dc"]
    assert registry.buses(every_asset_park) == ["ac", "dc", "cooling"]


def _fuel(flows: costs.Flows, park) -> dict[str, float]:
    burnt_t = float(flows.column("boiler_heat_kw_th").sum()) * flows.step_h / 10_000.0
    return {"boiler_fuel_yuan": 8_000.0 * burnt_t, "co2_t": 3.16 * burnt_t}


def test_a_kinds_cost_hook_reaches_cost_total_and_co2(every_asset_park, monkeypatch):
    n = 4
    columns = {"grid_import_kw": np.full(n, 100.0), "boiler_heat_kw_th": np.full(n, 500.0)}
    flows = costs.Flows(column=lambda base: columns.get(base, np.zeros(n)),
                        asset=lambda kind, base, name: np.zeros(n),
                        price_import=np.full(n, 1.0), price_export=np.zeros(n),
                        co2_kg_per_kwh=np.full(n, 0.5), unmet_kwh={"ev": 0.0, "deferrable": 0.0},
                        step_h=0.25)
    park = every_asset_park
    before = costs.complete(costs.energy_lines(flows, park), 0.0, park, False)
    boiler = dataclasses.replace(registry.KINDS["loads"], name="boiler", costs="tests:unused")
    monkeypatch.setitem(registry.KINDS, "boiler", boiler)
    monkeypatch.setattr(registry, "load", lambda path: _fuel)
    after = costs.complete(costs.energy_lines(flows, park), 0.0, park, False)
    burnt_t = 500.0 * n * 0.25 / 10_000.0
    assert after["boiler_fuel_yuan"] == pytest.approx(8_000.0 * burnt_t)
    assert after["cost_yuan"] == pytest.approx(before["cost_yuan"] + 8_000.0 * burnt_t)
    assert after["total_cost_yuan"] == pytest.approx(before["total_cost_yuan"] + 8_000.0 * burnt_t)
    assert after["co2_t"] == pytest.approx(before["co2_t"] + 3.16 * burnt_t)
    assert before["co2_t"] == pytest.approx(100.0 * n * 0.25 * 0.5 / 1000.0)


def _solar_sizes(park):
    return {"solar collectors": "120 m²"}


def _solar_check(c):
    c.expect(np.ones(len(c.frame), dtype=bool), "solar collectors: over the roof's area")


def _solar_rules(park, inputs, state, frame):
    frame["solar_pump_kw"] = 2.0
    return np.full(len(inputs.index), 2.0)


SOLAR_REPORT = registry.Report(
    "solar", "Solar heat", "solar_heat_kwh_th",
    (("solar heat", "solar_heat_kwh_th", "MWh_th", 1e-3, "{:,.1f}"),),
    note="collectors on the roof", before="no solar heat",
    cards=(("strategy.solar_heat_kwh_th", "solar heat", "solar_heat_kwh_th", "from the roof"),),
    summary="test_registry:_solar_summary")


def _solar_summary(kpis):
    return f"solar heat: {kpis['solar_heat_kwh_th']:.0f} kWh_th"


def test_a_new_plants_hooks_reach_sizes_balance_rules_report_and_summary(every_asset_park,
                                                                          monkeypatch):
    """A plant declared only in the registry (its hooks named there) shows up in the system
    summary, the balance checker, the rule-based planner's set-points, the report's section
    and cards and the run summary, though none of those places names it."""
    import sys

    from parkgrid.commands.run import summary_lines
    from parkgrid.model import balance, system
    from parkgrid.reporting import html
    from parkgrid.simulate import rules

    solar = dataclasses.replace(registry.KINDS["loads"], name="solar", sizes="t:_solar_sizes",
                                checks="t:_solar_check", rules="t:_solar_rules",
                                report="t:SOLAR_REPORT")
    monkeypatch.setitem(registry.KINDS, "solar", solar)
    here = sys.modules[__name__]
    monkeypatch.setattr(registry, "load",
                        lambda path: getattr(here, path.partition(":")[2]) if path.startswith(
                            ("t:", "test_registry:")) else registry._import(path))
    park = every_asset_park
    assert system.asset_sizes(park)["solar collectors"] == "120 m²"
    inputs = _inputs(park)
    problems = balance.check_schedule(pd.DataFrame(index=inputs.index), park, inputs)
    assert any("solar collectors: over the roof's area" in p for p in problems)
    state = ParkState.initial(park)
    seen: dict[str, np.ndarray] = {}  # what plan_rules hands the battery rule and plays

    def battery_rule(park, inputs, state, chiller_kw):
        seen["extra_kw"] = chiller_kw
        return {}

    monkeypatch.setattr(rules, "_battery_rule", battery_rule)
    monkeypatch.setattr(rules, "_play", lambda inputs, state, frame, meta, started: frame)
    frame = rules.plan_rules(inputs, state)
    # the plant's set-points are in the rules' plan, its load joins the battery rule's
    assert frame["solar_pump_kw"].eq(2.0).all() and np.all(seen["extra_kw"] >= 2.0)
    doc = {"strategy": {"solar_heat_kwh_th": 1500.0, "zero_carbon": {}}, "baselines": {},
           "comparison": {}, "solver": {}}
    assert "Solar heat" in html.plant_html(doc, SOLAR_REPORT)
    assert ("strategy.solar_heat_kwh_th", "solar heat", "solar_heat_kwh_th",
            "from the roof") in html.headline_cards()
    assert "solar heat: 1500 kWh_th" in summary_lines(doc, Path("out")).splitlines()


def _inputs(park):
    from simulate_fixtures import make_inputs

    return make_inputs(park, days=1)
