"""The cost/CO2 front by the ε-constraint method."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer_support import IDEAL_BATTERY, hours, make_inputs, make_park
from parkgrid.optimizer import pareto_front


@pytest.fixture(scope="module")
def front():
    # cheap grid power is dirty at night (0.9 kg/kWh), dear power clean by day (0.3 kg/kWh):
    # the battery trades cost against CO2 by when it charges
    park = make_park(batteries=[IDEAL_BATTERY | {"charge_efficiency": 0.95}])
    h = hours(park)
    night = h < 8
    inputs = make_inputs(park, load_kw_plant=200.0,
                         price_import_yuan_per_kwh=np.where(night, 0.3, 1.0),
                         co2_kg_per_kwh=np.where(night, 0.9, 0.3))
    return pareto_front(inputs, n_points=4)


def test_front_runs_from_least_cost_to_least_co2(front):
    assert list(front["point"]) == [0, 1, 2, 3]
    assert np.all(np.diff(front["total_cost_yuan"]) >= -1e-6)
    assert np.all(np.diff(front["co2_t"] * 1000.0) <= 1e-6)
    assert front["co2_t"].iloc[-1] * 1000.0 < front["co2_t"].iloc[0] * 1000.0 - 1.0


def test_each_point_meets_its_co2_cap(front):
    assert np.all(front["co2_t"] * 1000.0 <= front["epsilon_co2_kg"] * (1 + 1e-6) + 1e-6)
    assert set(front["status"]) == {"optimal"}


def test_front_never_sheds_load_to_cut_co2(front):
    assert front["penalty_yuan"].max() == pytest.approx(0.0, abs=1e-6)
