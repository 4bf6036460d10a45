"""A rollout of the every-asset park with a heating plant: noisy forecasts, the MILP planner
and the controller day after day; the hot-water tank's level carried from day to day."""

from __future__ import annotations

import pytest

from parkgrid.model import registry
from parkgrid.model.balance import check_schedule
from parkgrid.simulate import kpi
from parkgrid.simulate.rollout import simulate
from simulate_fixtures import HEATING, make_inputs, make_park


@pytest.mark.parametrize("planner", ["milp", "rules"])
def test_a_rollout_with_heating_balances_and_carries_the_tank(planner: str) -> None:
    park = make_park(heating=HEATING)
    inputs = make_inputs(park, start="2025-01-06", days=3)
    result = simulate(park, "2025-01-06", "2025-01-09", "noisy", planner, inputs=inputs)
    ledger = result.ledger
    assert check_schedule(ledger, park, inputs) == []  # every bus, the heat bus included
    level = ledger["hot_tank_level_kwh_th"].to_numpy()
    store_kind = registry.KINDS[registry.HOT_TANK]
    assert result.state.levels(store_kind)[registry.HOT_TANK] == pytest.approx(level[-1])
    k = kpi.kpis(ledger, park)
    assert k["heat_served_kwh_th"] == pytest.approx(
        float(inputs.series["heating_load_kw_th"].sum()) * park.step_h, rel=1e-6)
    assert k["heat_pump_kwh"] > 0 and k["waste_heat_kwh_th"] > 0
    assert k["diesel_avoided_t"] > 0.9 * k["diesel_counterfactual_t"]
