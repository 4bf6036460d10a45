"""Every schedule balances every bus at every step and respects every limit, for generated
parks and days (checked by parkgrid.model.balance, which does not know the model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer_support import BASE, make_inputs
from parkgrid.config import parse_park
from parkgrid.model.balance import check_schedule
from parkgrid.model.schedule import ParkState
from parkgrid.optimizer import plan_day

fraction = st.floats(0.0, 1.0)
bus = st.sampled_from(["ac", "dc"])


@st.composite
def batteries(draw, i):
    lo = draw(st.floats(0.0, 0.4))
    hi = draw(st.floats(lo + 0.1, 1.0))
    return {"name": f"bat{i}", "bus": draw(bus), "power_kw": draw(st.floats(10, 500)),
            "energy_kwh": draw(st.floats(20, 2000)), "soc_min": lo,
            "soc_max": hi, "soc_initial": lo,
            "charge_efficiency": draw(st.floats(0.8, 1.0)),
            "discharge_efficiency": draw(st.floats(0.8, 1.0)),
            "self_discharge_pct_per_h": draw(st.floats(0, 1)),
            "degradation_cost_yuan_per_kwh": draw(st.floats(0, 0.3)),
            "end_soc": _end_soc(draw, lo, hi)}


def _end_soc(draw, soc_min: float, soc_max: float) -> dict:
    """An end rule; a fraction only with rule 'fraction', inside the SOC window (config)."""
    rule = draw(st.sampled_from(["initial", "free", "fraction", "value"]))
    if rule != "fraction":
        return {"rule": rule}
    return {"rule": rule, "fraction": draw(st.floats(soc_min, soc_max))}


@st.composite
def chillers(draw, i):
    chiller = {"name": f"ch{i}", "capacity_kw_th": draw(st.floats(100, 2000)), "bus": draw(bus),
               "min_part_load": draw(st.sampled_from([0.0, 0.2, 0.5]))}
    if draw(st.booleans()):
        chiller["cop"] = draw(st.floats(2, 8))
    else:
        cops = draw(st.lists(st.floats(2, 10), min_size=3, max_size=3))
        chiller["cop_curve"] = {"load_fraction": [0.2, 0.6, 1.0], "cop": cops}
    return chiller


@st.composite
def parks(draw):
    data = dict(BASE)
    data["time_step_minutes"] = draw(st.sampled_from([15, 60]))
    data["pv"] = [{"name": f"pv{i}", "capacity_kwp": 500, "bus": draw(bus)}
                  for i in range(draw(st.integers(0, 2)))]
    data["wind"] = [{"name": "wt", "hub_height_m": 100, "turbine": {"oedb_type": "E-126/4200"}}
                    ] if draw(st.booleans()) else []
    data["batteries"] = [draw(batteries(i)) for i in range(draw(st.integers(0, 2)))]
    data["loads"] = [{"name": "plant", "bus": "ac", "synthetic": {"shape": "industrial",
                                                                  "annual_kwh": 1e6}},
                     {"name": "drives", "bus": draw(bus), "synthetic": {"shape": "industrial",
                                                                        "annual_kwh": 1e5}}]
    if draw(st.booleans()):
        tank = {"capacity_kwh_th": draw(st.floats(100, 5000)),
                "max_charge_kw_th": draw(st.floats(50, 1000)),
                "max_discharge_kw_th": draw(st.floats(50, 1000)),
                "level_initial": draw(fraction),
                "end_level": {"rule": draw(st.sampled_from(["initial", "free", "value"]))}}
        data["cooling"] = {"profile": {"path": "c.csv"},
                           "chillers": [draw(chillers(i)) for i in range(draw(st.integers(1, 2)))],
                           "tank": tank if draw(st.booleans()) else None}
    if draw(st.booleans()):
        data["ev"] = {"generator": {}, "chargers": [
            {"name": f"c{i}", "kind": "fast_dc", "count": draw(st.integers(1, 2)),
             "power_kw": draw(st.floats(7, 120)), "efficiency": 0.95, "bus": draw(bus)}
            for i in range(draw(st.integers(1, 2)))]}
    if draw(st.booleans()):
        start = draw(st.floats(0, 12))
        data["deferrable"] = [{"name": "wash", "bus": draw(bus), "energy_kwh_per_day": 100,
                               "max_kw": 50, "window_start_h": start, "window_end_h": start + 8,
                               "workdays_only": draw(st.booleans())}]
    data["grid"] = {"import_limit_kw": draw(st.floats(100, 3000)),
                    "export_limit_kw": draw(st.sampled_from([0.0, 300.0]))}
    kind = draw(st.sampled_from(["none", "max_demand", "declared"]))
    data["tariff"] = {"calendar": "zhejiang_2024", "demand": {
        "kind": kind, "rate_yuan_per_kw_month": 40, "declared_kw": 500}}
    if any(a.get("bus") == "dc" for group in ("pv", "batteries", "loads") for a in data[group]) \
            or draw(st.booleans()):
        data["buses"] = {"dc": {"converter_kw": draw(st.floats(50, 1000)),
                                "converter_efficiency": draw(st.floats(0.9, 1.0))}}
    else:
        for group in ("deferrable",):
            for a in data.get(group, []):
                a["bus"] = "ac"
        for c in (data.get("cooling") or {}).get("chillers", []):
            c["bus"] = "ac"
        for c in (data.get("ev") or {}).get("chargers", []):
            c["bus"] = "ac"
    return parse_park(data)


def sessions(draw, park, n):
    out = []
    start = pd.Timestamp("2025-07-04")
    step = pd.Timedelta(minutes=park.time_step_minutes)
    for charger in park.ev.chargers if park.ev else []:
        for pile in range(charger.count):
            a = draw(st.integers(-4, n - 1))
            d = draw(st.integers(a + 1, n + 4))
            out.append({"charger": charger.name, "pile": pile, "bus": charger.bus,
                        "arrival": str(start + a * step), "departure": str(start + d * step),
                        "energy_kwh": draw(st.floats(1, 200)),
                        "max_kw": charger.power_kw / charger.efficiency})
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(park=parks(), data=st.data())
def test_every_schedule_balances_and_keeps_every_limit(park, data):
    n = data.draw(st.integers(4, 24))
    values = st.lists(st.floats(0, 1500), min_size=n, max_size=n).map(np.array)
    columns = {f"pv_kw_{a.name}": data.draw(values) for a in park.pv}
    columns |= {f"wind_kw_{w.name}": data.draw(values) for w in park.wind}
    columns |= {"load_kw_plant": data.draw(values), "load_kw_drives": data.draw(values) / 10,
                "cooling_load_kw_th": data.draw(values) if park.cooling else 0.0,
                "price_import_yuan_per_kwh": data.draw(values) / 1000,
                "price_export_yuan_per_kwh": data.draw(values) / 2000,
                "is_holiday": data.draw(st.booleans())}
    inputs = make_inputs(park, n=n, start="2025-07-04",
                         sessions=sessions(data.draw, park, n), **columns)
    state = ParkState.initial(park)
    state.month_peak_kw = data.draw(st.floats(0, 2000))
    schedule = plan_day(inputs, state)
    assert check_schedule(schedule.frame, park, inputs) == []
    assert schedule.metadata["netting_residual_kwh"] < 1e-6
