"""The reference parks: the MILP planner beats the rules, the rules beat no storage use."""

from __future__ import annotations

from pathlib import Path

import pytest

from parkgrid.config import load_park
from parkgrid.inputs import build_inputs
from parkgrid.model.balance import check_schedule
from parkgrid.simulate.kpi import kpis
from parkgrid.simulate.rollout import simulate

MODELS = Path(__file__).resolve().parents[2] / "models"


def _year(name: str):
    park = load_park(MODELS / f"{name}.yaml")
    return park, build_inputs(park)


@pytest.fixture(scope="module")
def dameisha():
    return _year("dameisha")


@pytest.fixture(scope="module")
def haiyan():
    return _year("haiyan")


def _costs(park, inputs, start: str, end: str, forecast: str) -> dict[str, float]:
    out = {}
    for planner in ("milp", "rules", "none"):
        r = simulate(park, start, end, forecast, planner, inputs=inputs, seed=1)
        assert check_schedule(r.ledger, park, inputs.window(r.ledger.index[0],
                                                            len(r.ledger))) == []
        assert not any("FALLBACK" in e for e in r.events)
        out[planner] = kpis(r.ledger, park)["total_cost_yuan"]
    return out


def test_milp_beats_rules_and_none_on_dameisha_for_three_days(dameisha):
    # With the building load at the published 66 kWh/m2.yr (issue #12) the rules' charging
    # under noisy forecasts sets a 325 kW peak on these days (no storage use: 299 kW) and
    # they cost 44 yuan (0.2 %) more than no storage use; rules vs none is checked over two
    # weeks by the slow test below.
    costs = _costs(*dameisha, "2025-07-07", "2025-07-10", "noisy")
    assert costs["milp"] < min(costs["rules"], costs["none"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["haiyan", "dameisha"])
@pytest.mark.parametrize("start,end", [("2025-01-06", "2025-01-20"),
                                       ("2025-07-07", "2025-07-21")])
def test_milp_beats_rules_beats_none_on_the_reference_parks(name, start, end, request):
    park, inputs = request.getfixturevalue(name)
    costs = _costs(park, inputs, start, end, "noisy")
    assert costs["milp"] < costs["rules"] < costs["none"]
