"""Lifecycle economics: known answers on cash flows computed by hand, config validation, the
results folder's cash flow, and the shipped parks' cost data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from parkgrid.cli import app
from parkgrid.config import load_park
from parkgrid.design import economics
from parkgrid.errors import ConfigError
from parkgrid.io.results import CASHFLOW_FILE, write_results

ROOT = Path(__file__).resolve().parents[2]
BATTERY = {"name": "b", "power_kw": 5.0, "energy_kwh": 10.0}
PV = {"name": "roof", "capacity_kwp": 100.0}


def cost(**fields: object) -> dict:
    return {"capex_yuan_per_unit": 0.0, "om_yuan_per_unit_year": 0.0, "lifetime_years": 50,
            **fields}


def eco(**fields: object) -> dict:
    return {"analysis_years": 3, "discount_rate": 0.1, **fields}


def kpis(energy: float, co2: float = 0.0, demand: float = 0.0, export: float = 0.0,
         **extra: float) -> dict:
    """A year's KPIs as the simulator writes them (only the keys the economics reads)."""
    return {"energy_cost_yuan": energy, "demand_charge_yuan": demand,
            "export_revenue_yuan": export, "cost_yuan": energy + demand - export,
            "co2_t": co2, "days": 365.0, **extra}


def storage_case(make_park, **battery_cost: object) -> dict:
    """A battery of 10 kWh at 20 yuan/kWh (200 yuan, 3-yr life) saving 100 yuan a year,
    3 years at 10 %."""
    fields = {"capex_yuan_per_unit": 20.0, "lifetime_years": 3, **battery_cost}
    park = make_park(batteries=[{**BATTERY, "cost": cost(**fields)}],
                     economics=eco(baseline="re_no_storage"))
    return economics.evaluate(park, kpis(100.0), {"re_no_storage": kpis(200.0)})


def test_npv_irr_payback_known_answers(make_park):
    out = storage_case(make_park)
    # by hand: −200 + 100/1.1 + 100/1.1² + 100/1.1³
    assert out["npv_yuan"] == pytest.approx(-200 + 100 / 1.1 + 100 / 1.21 + 100 / 1.331)
    assert out["npv_yuan"] == pytest.approx(48.685199, abs=1e-6)
    # IRR by bisection: the rate at which the same flow's NPV is zero
    lo, hi = 0.0, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if -200 + sum(100 / (1 + mid) ** t for t in (1, 2, 3)) > 0 else \
            (lo, mid)
    assert out["irr"] == pytest.approx(lo, abs=1e-9)
    assert out["simple_payback_years"] == pytest.approx(2.0)  # −200, −100, 0
    # discounted cumulative: −200, −109.09, −26.45, +48.69 → 2 + 26.45 / 75.13
    assert out["discounted_payback_years"] == pytest.approx(2 + (200 - 100 / 1.1 - 100 / 1.21)
                                                            / (100 / 1.331))
    assert out["capex_yuan"] == 200.0
    assert [r["net_yuan"] for r in out["cashflow"]] == pytest.approx([-200, 100, 100, 100])


def test_existing_asset_has_no_capex_and_never_paying_flow_has_no_payback(make_park):
    assert storage_case(make_park, existing=True)["capex_yuan"] == 0.0
    assert storage_case(make_park, existing=True)["simple_payback_years"] == 0.0
    dear = storage_case(make_park, capex_yuan_per_unit=100.0)  # 1,000 yuan for 300 saved
    assert dear["simple_payback_years"] is None
    assert dear["npv_yuan"] < 0


def test_replacement_and_straight_line_residual():
    c = economics.Cost(**cost(capex_yuan_per_unit=10.0, capex_fixed_yuan=50.0, lifetime_years=4,
                              replacement_cost_fraction=0.5, om_yuan_per_unit_year=1.0))
    lines = economics.asset_cash(c, 10.0, 0.0, years=10, om_escalation=0.1)
    assert lines["capex"][0] == 150.0
    assert np.flatnonzero(lines["replacement"]).tolist() == [4, 8]
    assert lines["replacement"][4] == 75.0
    # last replaced in year 8, 2 of 4 years used at the end of year 10 → half its cost left
    assert lines["residual"][10] == pytest.approx(75.0 * 2 / 4)
    assert lines["om"][0] == 0.0
    assert lines["om"][1:].tolist() == pytest.approx([10.0 * 1.1**t for t in range(10)])


def test_escalation_degradation_and_carbon(make_park):
    park = make_park(pv=[{**PV, "cost": cost(degradation_pct_per_year=5.0)}],
                     economics=eco(electricity_escalation=0.05, carbon_price_yuan_per_t=50.0))
    out = economics.evaluate(park, kpis(600.0, co2=2.0, pv_generation_kwh=1000.0,
                                        re_generation_kwh=1000.0),
                             {"grid_only": kpis(1000.0, co2=10.0)})
    flow = economics.cashflow_frame(out)
    years = np.arange(3)
    # no storage: every saving is RE-driven and fades with the PV
    assert flow["energy_savings_yuan"].iloc[1:].tolist() == pytest.approx(
        (400.0 * 1.05**years * 0.95**years).tolist())
    assert flow["carbon_value_yuan"].iloc[1:].tolist() == pytest.approx(
        (8.0 * 50.0 * 0.95**years).tolist())
    assert out["co2_avoided_t_per_year"] == pytest.approx(8.0)


def test_lcoe_and_lcos_by_hand(make_park):
    park = make_park(pv=[{**PV, "cost": cost(capex_yuan_per_unit=1.0, lifetime_years=2)}],
                     batteries=[{**BATTERY, "cost": cost(capex_yuan_per_unit=30.0,
                                                         lifetime_years=2)}],
                     economics=eco(analysis_years=2, discount_rate=0.0))
    strategy = kpis(0.0, re_generation_kwh=50.0, pv_generation_kwh=50.0,
                    battery_throughput_kwh=120.0, battery_losses_kwh=10.0,
                    battery_stored_change_kwh=10.0)
    out = economics.evaluate(park, strategy, {"grid_only": kpis(0.0)})
    assert out["lcoe_yuan_per_kwh"] == pytest.approx(100.0 / (2 * 50.0))
    assert out["lcos_yuan_per_kwh"] == pytest.approx(300.0 / (2 * 50.0))  # (120−10−10)/2
    built = make_park(pv=[{**PV, "cost": cost(capex_yuan_per_unit=1.0, lifetime_years=2,
                                              existing=True)}],
                      economics=eco(analysis_years=2, discount_rate=0.0))
    sunk = economics.evaluate(built, strategy, {"grid_only": kpis(0.0)})
    assert sunk["capex_yuan"] == 0.0  # sunk for the NPV …
    assert sunk["lcoe_yuan_per_kwh"] == pytest.approx(1.0)  # … not for what a kWh costs


def test_lifecycle_costs_differ_by_npv_without_carbon(make_park):
    park = make_park(pv=[{**PV, "cost": cost(capex_yuan_per_unit=2.0, om_yuan_per_unit_year=0.5,
                                             lifetime_years=2)}],
                     economics=eco(carbon_price_yuan_per_t=30.0))
    out = economics.evaluate(park, kpis(300.0, co2=1.0), {"grid_only": kpis(500.0, co2=3.0)})
    carbon = sum(r["carbon_value_yuan"] * r["discount_factor"] for r in out["cashflow"])
    assert out["baseline_lifecycle_cost_yuan"] - out["lifecycle_cost_yuan"] == pytest.approx(
        out["npv_yuan"] - carbon)
    assert out["co2_abatement_cost_yuan_per_t"] == pytest.approx(
        -(out["npv_yuan"] - carbon) / sum(2.0 / 1.1**t for t in (1, 2, 3)))


def test_short_period_scaled_to_a_year(make_park):
    park = make_park(batteries=[{**BATTERY, "cost": cost()}],
                     economics=eco(baseline="re_no_storage"))
    week = {"days": 7.0, "monthly": {"2025-07": {}}}
    out = economics.evaluate(park, {**kpis(0.0, demand=10.0), **week},
                             {"re_no_storage": {**kpis(7.0, demand=20.0), **week}})
    year1 = out["cashflow"][1]
    assert year1["energy_savings_yuan"] == pytest.approx(365.0)
    assert year1["demand_savings_yuan"] == pytest.approx(120.0)  # 12 months, not 52 weeks


def test_missing_baseline_is_reported(make_park):
    park = make_park(batteries=[{**BATTERY, "cost": cost()}], economics=eco())
    assert "error" in economics.evaluate(park, kpis(1.0), {})


@pytest.mark.parametrize(("overrides", "field"), [
    ({"batteries": [BATTERY], "economics": eco()}, "needs a 'cost' block on b"),
    ({"economics": eco(discount_rate=1.5)}, "economics.discount_rate"),
    ({"economics": {"discount_rate": 0.07}}, "economics.analysis_years"),
    ({"batteries": [{**BATTERY, "cost": {"capex_yuan_per_unit": 1.0}}]},
     "batteries.0.cost.om_yuan_per_unit_year"),
    ({"pv": [{**PV, "cost": cost(lifetime_years=0)}]}, "pv.0.cost.lifetime_years"),
    ({"economics": eco(baseline="rules")}, "economics.baseline"),
])
def test_bad_economics_config_names_the_field(make_park, overrides, field):
    with pytest.raises(ConfigError) as err:
        make_park(**overrides)
    assert field in str(err.value)


def test_bad_cost_exits_2(tmp_path):
    text = (ROOT / "models/dameisha.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "park.yaml"
    bad.write_text(text.replace("discount_rate: 0.07", "discount_rate: -1"), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "economics.discount_rate" in result.output


def test_results_folder_holds_the_cashflow(tmp_path, make_park):
    section = storage_case(make_park)
    ledger = pd.DataFrame({"grid_import_kw": [1.0]},
                          index=pd.DatetimeIndex(["2025-01-01"], name="timestamp"))
    out = write_results(tmp_path / "r", {"economics": section}, ledger, {}, [])
    table = pd.read_csv(out / CASHFLOW_FILE)
    assert list(table.columns) == list(economics.COLUMNS)
    assert table["net_yuan"].tolist() == pytest.approx([-200, 100, 100, 100])
    assert json.loads((out / "kpis.json").read_text())["economics"]["npv_yuan"] == \
        pytest.approx(section["npv_yuan"])


@pytest.mark.parametrize("name", ["haiyan", "dameisha"])
def test_shipped_parks_carry_sourced_costs(name):
    park = load_park(ROOT / f"models/{name}.yaml")
    assert park.economics is not None
    assert all(asset.cost is not None for _, _, asset in park.costed_assets())
    text = (ROOT / f"models/{name}.yaml").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip().startswith(("capex_yuan_per_unit", "om_yuan_per_unit_year",
                                    "lifetime_years", "replacement_cost_fraction")):
            assert "economics.md" in line or "(est.)" in line, line


AGREED_KEYS = {"npv_yuan", "irr", "simple_payback_years", "discounted_payback_years",
               "lifecycle_cost_yuan", "capex_yuan", "lcoe_yuan_per_kwh", "lcos_yuan_per_kwh",
               "co2_abatement_cost_yuan_per_t"}


def test_a_run_carries_the_economics_of_its_own_kpis(make_park):
    import parkgrid as pg

    park = make_park(pv=[{**PV, "cost": cost(capex_yuan_per_unit=3000.0, lifetime_years=25,
                                             om_yuan_per_unit_year=40.0)}],
                     batteries=[{**BATTERY, "cost": cost(capex_yuan_per_unit=900.0,
                                                         lifetime_years=12)}],
                     economics=eco(analysis_years=20, discount_rate=0.07))
    summary = pg.run_period(park, "2025-07-01", 2, "perfect", "milp",
                            perfect_foresight=False)
    doc = summary.kpis
    assert len(summary.cashflow()) == 21
    assert summary.plot_cashflow().axes
    section = doc["economics"]
    assert set(section) >= AGREED_KEYS
    assert section["capex_yuan"] == pytest.approx(100.0 * 3000.0 + 10.0 * 900.0)
    year1 = section["cashflow"][1]
    base, strategy = doc["baselines"]["grid_only"], doc["strategy"]
    assert year1["energy_savings_yuan"] == pytest.approx(
        (base["energy_cost_yuan"] - strategy["energy_cost_yuan"]) * 365.0 / 2.0)
    assert year1["demand_savings_yuan"] == pytest.approx(
        (base["demand_charge_yuan"] - strategy["demand_charge_yuan"]) * 12.0)


def test_run_summary_line_says_what_the_investment_pays(make_park):
    from parkgrid.commands.run import economics_line

    line = economics_line(storage_case(make_park))
    assert line == ("economics vs re_no_storage: NPV 49 yuan over 3 yr, capex 200 yuan, "
                    "payback 2.0 yr")
    assert "no payback" in economics_line(storage_case(make_park, capex_yuan_per_unit=100.0))
    assert economics_line({**storage_case(make_park), "period_days": 31.0}).endswith(
        "(a year scaled from 31 days)")


def test_reprice_changes_the_money_not_the_year(make_park):
    import parkgrid as pg

    park = make_park(batteries=[{**BATTERY, "cost": cost(capex_yuan_per_unit=20.0,
                                                         lifetime_years=3)}],
                     economics=eco(baseline="re_no_storage"))
    doc = {"strategy": kpis(100.0), "baselines": {"re_no_storage": kpis(200.0)}}
    base = pg.reprice(park, doc, {})
    dearer = pg.reprice(park, doc, {"batteries.0.cost.capex_yuan_per_unit": 40.0})
    assert base["npv_yuan"] - dearer["npv_yuan"] == pytest.approx(200.0)  # no residual left
    rising = pg.reprice(park, doc, {"economics.electricity_escalation": 0.1})
    assert rising["npv_yuan"] - base["npv_yuan"] == pytest.approx(
        100 * (1.1 - 1) / 1.21 + 100 * (1.21 - 1) / 1.331)
    with pytest.raises(ConfigError, match=r"batteries\.0\.energy_kwh: not an economics"):
        pg.reprice(park, doc, {"batteries.0.energy_kwh": 20.0})
