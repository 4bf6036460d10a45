"""The rule-based planner's batteries follow the one storage physics (physics.Storage): each
battery's own charge and discharge efficiencies and standing loss, so that no battery's
share of the rule's set-points would take it out of its window."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer_support import IDEAL_BATTERY, make_inputs, make_park
from parkgrid.model.physics import Storage
from parkgrid.model.schedule import ParkState
from parkgrid.simulate import rules


def _two_batteries(eta_a: float, eta_b: float, loss: float) -> list[dict]:
    return [dict(IDEAL_BATTERY, name="a", charge_efficiency=eta_a, discharge_efficiency=eta_b,
                 self_discharge_pct_per_h=loss, soc_min=0.1, soc_max=0.9, soc_initial=0.5),
            dict(IDEAL_BATTERY, name="b", power_kw=50, charge_efficiency=eta_b,
                 discharge_efficiency=eta_a, soc_min=0.1, soc_max=0.9, soc_initial=0.5)]


@settings(max_examples=25, deadline=None)
@given(eta_a=st.floats(0.8, 1.0), eta_b=st.floats(0.8, 1.0), loss=st.floats(0.0, 2.0),
       seed=st.integers(0, 10_000))
def test_each_battery_stays_in_its_window(eta_a, eta_b, loss, seed):
    park = make_park(batteries=_two_batteries(eta_a, eta_b, loss))
    rng = np.random.default_rng(seed)
    n = 96
    tou = rng.choice(["valley", "flat", "peak"], n)
    inputs = make_inputs(park, n=n, load_kw_plant=rng.uniform(0.0, 400.0, n))
    inputs.series["tou_period"] = tou
    out = rules._battery_rule(park, inputs, ParkState.initial(park), np.zeros(n))
    for b in park.batteries:
        store, level = Storage.battery(b, park.step_h), b.soc_initial * b.energy_kwh
        for net in out[b.name]:
            kept = level * store.keep  # the standing loss alone may take it below lo
            level = store.step(level, max(-net, 0.0), max(net, 0.0))
            assert min(store.lo, kept) - 1e-6 <= level <= store.hi + 1e-6


def test_charging_from_surplus_tops_up_the_standing_loss():
    """A battery charging from surplus PV all day ends at soc_max exactly: the rule's level
    loses what the battery's standing loss takes, so it keeps topping up (a rule without the
    loss would believe it full and stop, and the battery would end below its top)."""
    battery = dict(IDEAL_BATTERY, charge_efficiency=0.9, self_discharge_pct_per_h=1.0,
                   soc_max=0.9, soc_initial=0.2)
    park = make_park(batteries=[battery], pv=[{"name": "roof", "capacity_kwp": 1000,
                                               "bus": "ac"}])
    n = 96
    inputs = make_inputs(park, n=n, pv_kw_roof=500.0)
    out = rules._battery_rule(park, inputs, ParkState.initial(park), np.zeros(n))["bat"]
    b = park.batteries[0]
    store, level = Storage.battery(b, park.step_h), b.soc_initial * b.energy_kwh
    for net in out:
        level = store.step(level, max(-net, 0.0), max(net, 0.0))
    assert level == pytest.approx(store.hi, abs=1e-6)
    assert out[-1] < 0.0  # still charging at the end: the loss topped up
