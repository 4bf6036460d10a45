"""Post-processing: a returned schedule never charges and discharges one store at once, nor
imports and exports, nor runs the converter both ways, in the same step.

The LP has no direction binaries; losses and tie-break costs make simultaneous flows
unprofitable, so they appear only as ties or inside the MIP gap. They are removed here:

- tanks (chilled and hot water): charge and discharge both reduced by the smaller (level and
  cooling / heat balance exact);
- battery: replaced by the single flow that gives the *same SOC change* (η_c·c − d/η_d kept),
  so the SOC trajectory is identical; the bus then needs less energy (the round-trip loss is
  gone) — that surplus is absorbed on the battery's bus (below);
- chiller electricity above its curve (possible only inside the gap) is lowered to it;
- converter: replaced by the single direction with the same net DC-side flow; the surplus
  appears on the AC side;
- grid: import and export both reduced by the smaller (AC balance exact).

A bus surplus is absorbed in this order — DC: unserved ↓, AC→DC flow ↓ (surplus moves to
AC), DC PV curtailment ↑, DC→AC flow ↑ (within the rating); AC: unserved ↓, import ↓,
export ↑ (within the limit), AC PV / wind curtailment ↑. What cannot be absorbed is
returned (kWh) and reported in the metadata; bus balances then hold to solver tolerance.
"""

from __future__ import annotations

import numpy as np

from parkgrid.config import Park
from parkgrid.model import registry
from parkgrid.model.physics import chiller_electric_kw

TOL_KW = 1e-6


def _lower(cols: dict[str, np.ndarray], name: str, need: np.ndarray) -> np.ndarray:
    """Lower column ``name`` by up to ``need`` (≥ 0); returns what is still needed."""
    taken = np.minimum(cols[name], need)
    cols[name] = cols[name] - taken
    return need - taken


def _raise(cols: dict[str, np.ndarray], name: str, room: np.ndarray,
           need: np.ndarray) -> np.ndarray:
    given = np.clip(np.minimum(room, need), 0.0, None)
    cols[name] = cols[name] + given
    return need - given


def _curtail(cols: dict[str, np.ndarray], kind: str, name: str, need: np.ndarray) -> np.ndarray:
    before = cols[f"{kind}_kw_{name}"]
    need = _lower(cols, f"{kind}_kw_{name}", need)
    cols[f"{kind}_curtailed_kw_{name}"] = (cols[f"{kind}_curtailed_kw_{name}"]
                                           + before - cols[f"{kind}_kw_{name}"])
    return need


TANK_FLOWS = [registry.store_flows(k) for k in registry.kinds_with("state") if not k.per_asset]
"""(charge, discharge) of each thermal store kind (one column for the kind; zeros in a park
without it, where netting changes nothing)."""


def _net_tank(cols: dict[str, np.ndarray], charge: str, discharge: str) -> None:
    both = np.minimum(cols[charge], cols[discharge])
    cols[charge] = cols[charge] - both
    cols[discharge] = cols[discharge] - both


def _net_battery(cols: dict[str, np.ndarray], name: str, eta_c: float,
                 eta_d: float) -> np.ndarray:
    """Single-direction flows with the same SOC change; returns the bus surplus, kW."""
    c, d = cols[f"battery_charge_kw_{name}"], cols[f"battery_discharge_kw_{name}"]
    both = (c > TOL_KW) & (d > TOL_KW)
    stored = eta_c * c - d / eta_d
    c2 = np.where(both, np.where(stored >= 0, stored / eta_c, 0.0), c)
    d2 = np.where(both, np.where(stored < 0, -stored * eta_d, 0.0), d)
    cols[f"battery_charge_kw_{name}"], cols[f"battery_discharge_kw_{name}"] = c2, d2
    return (c - d) - (c2 - d2)


def _trim_chiller(cols: dict[str, np.ndarray], chiller: object) -> np.ndarray:
    name = chiller.name  # type: ignore[attr-defined]
    e = cols[f"chiller_electric_kw_{name}"]
    curve = chiller_electric_kw(chiller, cols[f"chiller_cooling_kw_th_{name}"])  # type: ignore[arg-type]
    surplus = np.where(e > curve + TOL_KW, e - curve, 0.0)
    cols[f"chiller_electric_kw_{name}"] = e - surplus
    return surplus


def _net_converter(cols: dict[str, np.ndarray], eta: float) -> np.ndarray:
    """One direction with the same DC-side net flow; returns the AC-side surplus, kW."""
    x, y = cols["converter_ac_to_dc_kw"], cols["converter_dc_to_ac_kw"]
    into_dc = eta * x - y
    x2, y2 = np.where(into_dc >= 0, into_dc / eta, 0.0), np.where(into_dc < 0, -into_dc, 0.0)
    cols["converter_ac_to_dc_kw"], cols["converter_dc_to_ac_kw"] = x2, y2
    return (x - eta * y) - (x2 - eta * y2)


def _absorb_dc(cols: dict[str, np.ndarray], park: Park, need: np.ndarray) -> tuple:
    """Absorb a DC surplus; returns (rest on DC, surplus moved to AC), kW."""
    dc = park.buses.dc
    assert dc is not None
    eta = dc.converter_efficiency
    need = _lower(cols, "unserved_kw_dc", need)
    before = cols["converter_ac_to_dc_kw"]
    need = _lower(cols, "converter_ac_to_dc_kw", need / eta) * eta  # less AC→DC inflow
    to_ac = before - cols["converter_ac_to_dc_kw"]
    for a in park.pv:
        if a.bus == "dc":
            need = _curtail(cols, "pv", a.name, need)
    room = dc.converter_kw - cols["converter_dc_to_ac_kw"] - cols["converter_ac_to_dc_kw"]
    before = cols["converter_dc_to_ac_kw"]
    rest = _raise(cols, "converter_dc_to_ac_kw", room, need)
    to_ac = to_ac + eta * (cols["converter_dc_to_ac_kw"] - before)
    return rest, to_ac


def _absorb_ac(cols: dict[str, np.ndarray], park: Park, need: np.ndarray) -> np.ndarray:
    need = _lower(cols, "unserved_kw_ac", need)
    need = _lower(cols, "grid_import_kw", need)
    room = np.where(cols["grid_import_kw"] > TOL_KW, 0.0,
                    park.grid.export_limit_kw - cols["grid_export_kw"])
    need = _raise(cols, "grid_export_kw", room, need)
    for a in park.pv:
        if a.bus == "ac":
            need = _curtail(cols, "pv", a.name, need)
    for w in park.wind:
        need = _curtail(cols, "wind", w.name, need)
    return need


def net_flows(cols: dict[str, np.ndarray], park: Park, step_h: float) -> float:
    """Remove simultaneous opposite flows from ``cols`` (internal, per-asset suffixed columns)
    in place; returns the energy no sink could absorb, kWh."""
    n = len(cols["grid_import_kw"])
    surplus = {"ac": np.zeros(n), "dc": np.zeros(n)}
    for charge, discharge in TANK_FLOWS:
        _net_tank(cols, charge, discharge)
    for b in park.batteries:
        surplus[b.bus] += _net_battery(cols, b.name, b.charge_efficiency, b.discharge_efficiency)
    for c in park.cooling.chillers if park.cooling else []:
        surplus[c.bus] += _trim_chiller(cols, c)
    rest = np.zeros(n)
    if park.buses.dc is not None:
        rest, to_ac = _absorb_dc(cols, park, np.clip(surplus["dc"], 0.0, None))
        surplus["ac"] += to_ac + _net_converter(cols, park.buses.dc.converter_efficiency)
    both = np.minimum(cols["grid_import_kw"], cols["grid_export_kw"])
    cols["grid_import_kw"] = cols["grid_import_kw"] - both
    cols["grid_export_kw"] = cols["grid_export_kw"] - both
    rest = rest + _absorb_ac(cols, park, np.clip(surplus["ac"], 0.0, None))
    return float(rest.sum() * step_h)
