"""The perfect-foresight bound: month segments, and no rollout costs less than the bound."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parkgrid.errors import SolverError
from parkgrid.model.schedule import ParkState, Schedule
from parkgrid.simulate.bound import month_segments, perfect_foresight_bound
from parkgrid.simulate.kpi import kpis
from parkgrid.simulate.rollout import simulate
from simulate_fixtures import make_inputs, make_park

TZ = "Asia/Shanghai"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def test_month_segments_cut_at_month_starts():
    segments = month_segments(ts("2025-01-20"), ts("2025-03-05"))
    assert segments == [(ts("2025-01-20"), ts("2025-02-01")), (ts("2025-02-01"), ts("2025-03-01")),
                        (ts("2025-03-01"), ts("2025-03-05"))]


def test_month_segments_of_a_year():
    segments = month_segments(ts("2025-01-01"), ts("2026-01-01"))
    assert len(segments) == 12
    assert sum((b - a).days for a, b in segments) == 365


def test_bound_sums_the_months_and_adds_fixed_demand_charges():
    park = make_park(tariff={"calendar": "zhejiang_2024",
                             "demand": {"kind": "capacity", "capacity_kva": 1000,
                                        "rate_yuan_per_kva_month": 20}})
    inputs = make_inputs(park, start="2025-06-29", days=4)

    def fake_solve(window, state: ParkState, relax: bool) -> Schedule:
        assert relax
        return Schedule(pd.DataFrame(index=window.index),
                        {"bound": float(len(window.index)), "objective": 0.0,
                         "status": "optimal"})

    bound = perfect_foresight_bound(park, inputs, ts("2025-06-29"), ts("2025-07-03"),
                                    solve=fake_solve)
    assert [m["steps"] for m in bound.months] == [192, 192]
    assert bound.total_cost_yuan == pytest.approx(384 + 2 * 20 * 1000)
    assert bound.to_dict()["description"].startswith("months solved separately")


def test_an_lp_stopped_before_its_optimum_is_no_bound():
    park = make_park()
    inputs = make_inputs(park, start="2025-07-01", days=2)

    def stopped(window, state: ParkState, relax: bool) -> Schedule:
        return Schedule(pd.DataFrame(index=window.index),
                        {"bound": 1.0, "objective": 1.0, "status": "feasible",
                         "termination": "time_limit"})

    with pytest.raises(SolverError, match=r"2025-07.*time_limit.*bound_time_limit_s"):
        perfect_foresight_bound(park, inputs, ts("2025-07-01"), ts("2025-07-03"),
                                solve=stopped)


def test_the_bound_has_its_own_time_limit(monkeypatch):
    park = make_park(objective={"time_limit_s": 0.01, "bound_time_limit_s": 123.0})
    seen = []
    from parkgrid.optimizer import DayAheadOptimizer

    original = DayAheadOptimizer.plan

    def spy(self, inputs, state=None, options=None):
        seen.append(options.time_limit_s)
        return original(self, inputs, state, options)

    monkeypatch.setattr(DayAheadOptimizer, "plan", spy)
    inputs = make_inputs(park, start="2025-07-01", days=1)
    perfect_foresight_bound(park, inputs, ts("2025-07-01"), ts("2025-07-02"))
    assert seen == [123.0]


small_parks = st.fixed_dictionaries({
    "battery_kwh": st.sampled_from([0, 200, 800]),
    "pv_kwp": st.sampled_from([100, 600, 1500]),
    "export_kw": st.sampled_from([0, 200]),
    "import_kw": st.sampled_from([3000, 450]),
    "tank": st.booleans(),
    "dc": st.booleans(),
    "min_part_load": st.sampled_from([0.0, 0.3]),
    "seed": st.integers(0, 3),
    "end_rule": st.sampled_from(["value", "initial"]),
})


def _small_park(p: dict):
    cfg: dict = {
        "time_step_minutes": 60,
        "pv": [{"name": "roof", "capacity_kwp": p["pv_kwp"], "bus": "ac"}],
        "wind": [],
        "batteries": ([{"name": "bat", "bus": "dc" if p["dc"] else "ac", "power_kw": 100,
                        "energy_kwh": p["battery_kwh"],
                        "end_soc": {"rule": p.get("end_rule", "value")}}]
                      if p["battery_kwh"] else []),
        "cooling": {
            "load": {"peak_kw_th": 500},
            "chillers": [{"name": "ch1", "capacity_kw_th": 600, "cop": 5.0,
                          "min_part_load": p["min_part_load"]}],
            **({"tank": {"capacity_kwh_th": 1500, "max_charge_kw_th": 400,
                         "max_discharge_kw_th": 400,
                         "end_level": {"rule": p.get("end_rule", "value")}}}
               if p["tank"] else {}),
        },
        "loads": [{"name": "plant", "synthetic": {"shape": "industrial", "annual_kwh": 3e6}}],
        "ev": {"chargers": [{"name": "fast", "kind": "fast_dc", "count": 1, "power_kw": 50,
                             "bus": "dc" if p["dc"] else "ac"}], "generator": {"seed": 1}},
        "grid": {"import_limit_kw": p.get("import_kw", 3000), "export_limit_kw": p["export_kw"]},
    }
    cfg["buses"] = {"dc": {"converter_kw": 300}} if p["dc"] else {}
    return make_park(**cfg)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(small_parks)
def test_perfect_forecast_rollout_never_costs_less_than_the_bound(p):
    park = _small_park(p)
    inputs = make_inputs(park, start="2025-07-07", days=3, seed=p["seed"])
    start, end = ts("2025-07-07"), ts("2025-07-10")
    rollout = simulate(park, start, end, "perfect", "milp", inputs=inputs)
    cost = kpis(rollout.ledger, park)["total_cost_yuan"]
    bound = perfect_foresight_bound(park, inputs, start, end).total_cost_yuan
    assert cost >= bound - 1e-6 * abs(bound) - 0.01


def test_perfect_forecast_rollout_costs_at_least_the_bound_on_one_park():
    park = _small_park({"battery_kwh": 400, "pv_kwp": 600, "export_kw": 0, "tank": True,
                        "dc": True, "min_part_load": 0.3, "seed": 1})
    inputs = make_inputs(park, start="2025-07-07", days=2, seed=1)
    start, end = ts("2025-07-07"), ts("2025-07-09")
    rollout = simulate(park, start, end, "perfect", "milp", inputs=inputs)
    cost = kpis(rollout.ledger, park)["total_cost_yuan"]
    bound = perfect_foresight_bound(park, inputs, start, end, variants=("monthly_lp",
                                                                       "monthly_milp"))
    assert cost >= bound.total_cost_yuan - 1e-6 * abs(bound.total_cost_yuan) - 0.01
    lp, milp = bound.variants["monthly_lp"], bound.variants["monthly_milp"]
    assert lp <= milp + 1e-6 * abs(milp)
    assert bound.to_dict()["gap_between_variants_yuan"] == pytest.approx(milp - lp)


def test_the_bound_reports_its_dispatchs_self_sufficiency_both_ways():
    park = _small_park({"battery_kwh": 400, "pv_kwp": 600, "export_kw": 0, "tank": False,
                        "dc": False, "min_part_load": 0.0, "seed": 1})
    inputs = make_inputs(park, start="2025-07-30", days=4, seed=1)
    doc = perfect_foresight_bound(park, inputs, ts("2025-07-30"), ts("2025-08-03")).to_dict()
    assert [m["month"] for m in doc["months"]] == ["2025-07", "2025-08"]
    re_kwh = sum(m["re_generation_kwh"] for m in doc["months"])
    assert re_kwh == pytest.approx(float(inputs.window(ts("2025-07-30"), 96).series[
        "pv_kw_roof"].sum()))  # 1-h steps: kW = kWh
    assert doc["self_sufficiency_annual"] == pytest.approx(re_kwh / doc["consumption_kwh"])
    assert doc["self_sufficiency"] == pytest.approx(doc["re_self_used_kwh"]
                                                    / doc["consumption_kwh"])
    assert 0.0 < doc["self_sufficiency"] <= doc["self_sufficiency_annual"] + 1e-9
