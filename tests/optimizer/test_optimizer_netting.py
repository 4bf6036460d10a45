"""Netting: simultaneous opposite flows are removed, SOC and balances kept."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer_support import IDEAL_BATTERY, make_inputs, make_park
from parkgrid.model.balance import check_schedule
from parkgrid.model.schedule import ParkState
from parkgrid.optimizer.frame import publish
from parkgrid.optimizer.horizon import Horizon, PlanOptions
from parkgrid.optimizer.model import ParkModel
from parkgrid.optimizer.netting import net_flows

N = 2


def zero_columns(park, inputs):
    """The internal columns of an all-zero solution (curtailment = availability)."""
    model = ParkModel(park, N)
    h = Horizon(park, inputs, ParkState.initial(park), PlanOptions())
    return model.columns({k: np.zeros(len(v)) for k, v in model.compiled.outputs.items()}, h)


def test_battery_round_trip_becomes_one_flow_with_the_same_soc():
    # 50 kW in and 50 kW out at η 0.9: the SOC falls 55.6 − 45 = 10.6 kWh per hour. One
    # discharge of 10.6 × 0.9 = 9.5 kW does the same, and the grid imports 9.5 kW less.
    battery = IDEAL_BATTERY | {"charge_efficiency": 0.9, "discharge_efficiency": 0.9,
                               "soc_initial": 0.5}
    park = make_park(batteries=[battery])
    inputs = make_inputs(park, n=N, load_kw_plant=100.0)
    cols = zero_columns(park, inputs)
    drop_kw = 50 / 0.9 - 50 * 0.9
    cols |= {"battery_charge_kw_bat": np.full(N, 50.0),
             "battery_discharge_kw_bat": np.full(N, 50.0),
             "battery_soc_kwh_bat": 200 - drop_kw * 0.25 * np.arange(1, N + 1),
             "grid_import_kw": np.full(N, 100.0)}
    soc = cols["battery_soc_kwh_bat"].copy()
    assert net_flows(cols, park, 0.25) == pytest.approx(0.0)
    assert cols["battery_charge_kw_bat"] == pytest.approx(np.zeros(N))
    assert cols["battery_discharge_kw_bat"] == pytest.approx(np.full(N, drop_kw * 0.9))
    assert cols["grid_import_kw"] == pytest.approx(np.full(N, 100 - drop_kw * 0.9))
    assert np.array_equal(cols["battery_soc_kwh_bat"], soc)
    assert check_schedule(publish(cols, park, inputs.index), park, inputs) == []


def test_converter_both_ways_becomes_one_direction_and_less_import():
    park = make_park(buses={"dc": {"converter_kw": 500, "converter_efficiency": 0.9}},
                     loads=[{"name": "plant", "bus": "dc",
                             "synthetic": {"shape": "industrial", "annual_kwh": 1e6}}])
    inputs = make_inputs(park, n=N, load_kw_plant=90.0)
    cols = zero_columns(park, inputs)
    # AC→DC 200 (DC gets 180), DC→AC 90 (AC gets 81): DC net 90 = load; AC draws 119
    cols |= {"converter_ac_to_dc_kw": np.full(N, 200.0),
             "converter_dc_to_ac_kw": np.full(N, 90.0), "grid_import_kw": np.full(N, 119.0)}
    net_flows(cols, park, 0.25)
    assert cols["converter_dc_to_ac_kw"] == pytest.approx(np.zeros(N))
    assert cols["converter_ac_to_dc_kw"] == pytest.approx(np.full(N, 100.0))
    assert cols["grid_import_kw"] == pytest.approx(np.full(N, 100.0))
    assert check_schedule(publish(cols, park, inputs.index), park, inputs) == []


def test_import_and_export_and_tank_flows_are_netted_exactly():
    park = make_park(grid={"import_limit_kw": 1000, "export_limit_kw": 500},
                     cooling={"profile": {"path": "c.csv"},
                              "chillers": [{"name": "ch", "capacity_kw_th": 500, "cop": 5.0}],
                              "tank": {"capacity_kwh_th": 400, "max_charge_kw_th": 100,
                                       "max_discharge_kw_th": 100, "level_initial": 0.5,
                                       "standing_loss_pct_per_h": 0.0}})
    inputs = make_inputs(park, n=N, load_kw_plant=100.0, cooling_load_kw_th=100.0)
    cols = zero_columns(park, inputs)
    cols |= {"grid_import_kw": np.full(N, 150.0), "grid_export_kw": np.full(N, 30.0),
             "chiller_cooling_kw_th_ch": np.full(N, 100.0),
             "chiller_electric_kw_ch": np.full(N, 20.0),
             "tes_charge_kw_th": np.full(N, 40.0), "tes_discharge_kw_th": np.full(N, 40.0),
             "tes_level_kwh_th": np.full(N, 200.0)}
    net_flows(cols, park, 0.25)
    assert cols["grid_import_kw"] == pytest.approx(np.full(N, 120.0))
    assert cols["grid_export_kw"] == pytest.approx(np.zeros(N))
    assert cols["tes_charge_kw_th"] == pytest.approx(np.zeros(N))
    assert check_schedule(publish(cols, park, inputs.index), park, inputs) == []
