"""KPI arithmetic: a hand-built two-day ledger (across a month boundary) worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkgrid.config import parse_park
from parkgrid.model.schedule import SCHEDULE_COLUMNS
from parkgrid.simulate import kpi


@pytest.fixture(scope="module")
def park():
    return parse_park({
        "name": "hand park", "site": {"latitude_deg": 30.0, "longitude_deg": 120.0},
        "year": 2025, "time_step_minutes": 60,
        "weather": {"source": "synthetic", "climate": "c.yaml"},
        "pv": [{"name": "roof", "capacity_kwp": 100}],
        "batteries": [{"name": "bat", "power_kw": 50, "energy_kwh": 400,
                       "charge_efficiency": 0.9, "discharge_efficiency": 1.0,
                       "self_discharge_pct_per_h": 0.0, "degradation_cost_yuan_per_kwh": 0.15}],
        "loads": [{"name": "plant", "synthetic": {"shape": "industrial", "annual_kwh": 1e6}}],
        "grid": {"import_limit_kw": 500, "export_limit_kw": 10},
        "tariff": {"calendar": "zhejiang_2024", "export_price_yuan_per_kwh": 0.4,
                   "demand": {"kind": "max_demand", "rate_yuan_per_kw_month": 40}},
        "emissions": {"grid_factor_t_per_mwh": 0.5, "carbon_price_yuan_per_t": 40},
    })


def hand_ledger() -> pd.DataFrame:
    """Two days (31 July and 1 August), hourly, load 100 kW.

    Each day: PV 80 kW available 10–14 h, 75 used (5 of it exported), 5 curtailed; the
    battery charges 20 kW at 02 h (SOC +18 kWh) and discharges 18 kW at 18 h (SOC −18 kWh);
    price 0.5 yuan/kWh, 1.0 at 18 h; export 0.4 yuan/kWh; CO2 0.5 kg/kWh.
    """
    index = pd.date_range("2025-07-31", periods=48, freq="60min", tz="Asia/Shanghai")
    hour = index.hour.to_numpy()
    sun = (hour >= 10) & (hour < 14)
    f = pd.DataFrame(0.0, index=index, columns=SCHEDULE_COLUMNS)
    f["load_kw"] = 100.0
    f["pv_kw"] = np.where(sun, 75.0, 0.0)
    f["pv_curtailed_kw"] = np.where(sun, 5.0, 0.0)
    f["grid_export_kw"] = np.where(sun, 5.0, 0.0)
    f["battery_charge_kw"] = np.where(hour == 2, 20.0, 0.0)
    f["battery_discharge_kw"] = np.where(hour == 18, 18.0, 0.0)
    soc = 200.0 + 18.0 * ((hour >= 2) & (hour < 18))
    f["battery_soc_kwh"] = soc
    f["grid_import_kw"] = (f["load_kw"] - f["pv_kw"] + f["grid_export_kw"]
                           + f["battery_charge_kw"] - f["battery_discharge_kw"])
    f["price_import"] = np.where(hour == 18, 1.0, 0.5)
    f["price_export"] = 0.4
    f["co2_kg_per_kwh"] = 0.5
    f["tou_period"] = "flat"
    return f


@pytest.fixture(scope="module")
def k(park):
    return kpi.kpis(hand_ledger(), park)


def test_grid_energy_per_day_as_worked_by_hand(k):
    # 9 h × 100 + 120 + 9 h × 100 + 82 + 4 h × 30 = 2,122 kWh a day
    assert k["imported_kwh"] == pytest.approx(2 * 2122.0)
    assert k["exported_kwh"] == pytest.approx(2 * 20.0)


def test_renewable_energy_split(k):
    assert k["re_generation_kwh"] == pytest.approx(640.0)
    assert k["curtailed_kwh"] == pytest.approx(40.0)
    assert k["re_self_used_kwh"] == pytest.approx(560.0)


def test_consumption_includes_battery_losses(k):
    # 4,800 kWh of load + (40 charged − 36 discharged − 0 stored) kWh of battery losses
    assert k["battery_losses_kwh"] == pytest.approx(4.0)
    assert k["consumption_kwh"] == pytest.approx(4804.0)


def test_shares_follow_the_design_definitions(k):
    assert k["self_sufficiency"] == pytest.approx(560.0 / 4804.0)
    assert k["self_consumption"] == pytest.approx(560.0 / 640.0)
    assert k["export_share_of_generation"] == pytest.approx(40.0 / 640.0)
    assert k["re_utilisation"] == pytest.approx(1.0 - 40.0 / 640.0)


def test_self_sufficiency_both_ways(k):
    # time-matched: RE used on site ÷ consumption; annual balance: RE generated ÷ consumption
    assert k["self_sufficiency_annual"] == pytest.approx(640.0 / 4804.0)
    for month in k["monthly"].values():
        assert month["self_sufficiency_annual"] == pytest.approx(
            month["re_generation_kwh"] / month["consumption_kwh"])
        assert month["self_sufficiency_annual"] >= month["self_sufficiency"]


def test_cost_by_part(k):
    assert k["energy_cost_yuan"] == pytest.approx(2 * (82.0 * 1.0 + 2040.0 * 0.5))
    assert k["export_revenue_yuan"] == pytest.approx(2 * 20.0 * 0.4)
    # two calendar months, each with a peak of 120 kW at 40 yuan/kW
    assert k["demand_charge_yuan"] == pytest.approx(2 * 120.0 * 40.0)
    assert k["cost_yuan"] == pytest.approx(2204.0 + 9600.0 - 16.0)
    assert k["degradation_yuan"] == pytest.approx(36.0 * 0.15)
    assert k["total_cost_yuan"] == pytest.approx(11788.0 + 5.4)


def test_co2_and_energy_use(k):
    assert k["co2_t"] == pytest.approx(4244.0 * 0.5 / 1000.0)
    assert k["carbon_cost_yuan"] == pytest.approx(2.122 * 40.0)
    assert k["energy_use_tce"] == pytest.approx(4804.0 * 300.0 / 1e6)


def test_monthly_kpis_split_at_the_month_boundary(k):
    assert list(k["monthly"]) == ["2025-07", "2025-08"]
    july = k["monthly"]["2025-07"]
    assert july["imported_kwh"] == pytest.approx(2122.0)
    assert july["peak_import_kw"] == pytest.approx(120.0)
    assert july["cost_yuan"] == pytest.approx(1102.0 + 4800.0 - 8.0)
    assert k["monthly_peak_import_kw"] == {"2025-07": 120.0, "2025-08": 120.0}


def test_zero_carbon_indicators_pass_and_fail(k):
    zc = k["zero_carbon"]
    assert zc["self_used_re_share_of_generation"]["pass"]  # 87.5 % ≥ 60 %
    assert not zc["self_used_re_share_of_consumption"]["pass"]  # 11.7 % < 30 %
    assert zc["export_share_of_generation"]["pass"]  # 6.25 % ≤ 20 %
    assert not zc["co2_per_energy_t_per_tce"]["pass"]
    assert zc["co2_per_energy_t_per_tce"]["threshold"] == 0.2


def test_energy_identity_holds(k):
    lhs = k["imported_kwh"] + k["re_self_used_kwh"]
    assert lhs == pytest.approx(k["consumption_kwh"] + k["battery_stored_change_kwh"])


def test_savings_and_regret():
    strategy = {"cost_yuan": 90.0, "total_cost_yuan": 95.0, "co2_t": 3.0}
    base = {"grid_only": {"cost_yuan": 120.0, "total_cost_yuan": 120.0, "co2_t": 5.0}}
    out = kpi.compare(strategy, base, bound_total_cost_yuan=80.0)
    assert out["savings_yuan"]["grid_only"] == 30.0
    assert out["savings_pct"]["grid_only"] == pytest.approx(25.0)
    assert out["co2_avoided_t"] == 2.0
    assert out["regret_yuan"] == 15.0
    assert out["regret_pct"] == pytest.approx(100.0 * 15.0 / 80.0)


def test_solver_statistics_count_fallback_days():
    days = pd.DataFrame({
        "date": ["2025-07-01", "2025-07-02", "2025-07-03"],
        "status": ["optimal", "fallback", "optimal"],
        "solve_s": [0.1, 0.3, 0.2], "gap": [0.0, None, 0.001],
        "fallback": [False, True, False], "reason": ["", "solver: no incumbent", ""],
    })
    stats = kpi.solver_stats(days)
    assert stats["status_counts"] == {"optimal": 2, "fallback": 1}
    assert stats["solve_s_median"] == pytest.approx(0.2)
    assert stats["gap_max"] == pytest.approx(0.001)
    assert stats["fallback_days"] == [{"date": "2025-07-02", "reason": "solver: no incumbent"}]
