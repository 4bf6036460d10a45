"""What a park's system is, in words: asset sizes, tariff and weather source (for the
`validate` screen, kpis.json's ``system`` block and the report's first screen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parkgrid.config import Park
from parkgrid.inputs.wind import farm_capacity_kw
from parkgrid.model import registry

CHARGER_KINDS = {"fast_dc": "fast DC", "slow_ac": "slow AC"}


def asset_sizes(park: Park) -> dict[str, str]:
    """Each asset's row label and size, e.g. ``"battery lfp (ac)": "100 kW / 200 kWh"``."""
    sizes = {f"PV {a.name} ({a.bus})": f"{a.capacity_kwp:,.0f} kWp" for a in park.pv}
    sizes |= {f"wind {f.name} ({f.count}×)": f"{farm_capacity_kw(f, park):,.0f} kW"
              for f in park.wind}
    sizes |= {f"battery {b.name} ({b.bus})": f"{b.power_kw:,.0f} kW / {b.energy_kwh:,.0f} kWh"
              for b in park.batteries}
    if park.cooling is not None:
        plant = park.cooling
        sizes["chillers"] = f"{sum(c.capacity_kw_th for c in plant.chillers):,.0f} kW_th"
        if plant.tank is not None:
            sizes["chilled-water tank"] = f"{plant.tank.capacity_kwh_th:,.0f} kWh_th"
    for kind_sizes in registry.hooks("sizes"):  # the plants with their own lines
        sizes |= kind_sizes(park)
    if park.ev is not None:
        sizes["EV chargers"] = ", ".join(f"{c.count}×{c.power_kw:g} kW {CHARGER_KINDS[c.kind]}"
                                         for c in park.ev.chargers)
    if park.buses.dc is not None:
        sizes["AC/DC converter"] = f"{park.buses.dc.converter_kw:,.0f} kW"
    sizes["grid"] = (f"import ≤ {park.grid.import_limit_kw:,.0f} kW, "
                     f"export ≤ {park.grid.export_limit_kw:,.0f} kW")
    return sizes


DEMAND_KINDS = {"max_demand": "demand charge {rate:g} yuan/kW·month on each month's peak",
                "capacity": "capacity charge {rate_kva:g} yuan/kVA·month",
                "declared": "demand charge {rate:g} yuan/kW·month on the declared demand",
                "none": "no demand charge"}


def tariff_text(park: Park) -> str:
    """The tariff in a line: TOU calendar, export price and demand charge."""
    t = park.tariff
    demand = DEMAND_KINDS[t.demand.kind].format(rate=t.demand.rate_yuan_per_kw_month,
                                                rate_kva=t.demand.rate_yuan_per_kva_month)
    export = (f"export paid {t.export_price_yuan_per_kwh:g} yuan/kWh"
              if t.export_price_yuan_per_kwh else "export unpaid")
    return f"TOU calendar {Path(t.calendar).stem}; {demand}; {export}"


def weather_text(park: Park) -> str:
    """Where the weather comes from, saying so when it is synthetic."""
    w = park.weather
    if w.source == "synthetic":
        return (f"synthetic (seed {w.seed}) from the monthly statistics in "
                f"{Path(str(w.climate)).name}: not measured weather")
    return f"{w.source.upper()} file {Path(str(w.path)).name}"


def system_summary(park: Park) -> dict[str, Any]:
    """What the system is, for kpis.json and the report's first screen."""
    return {"assets": asset_sizes(park), "tariff": tariff_text(park),
            "weather": weather_text(park), "weather_synthetic": park.weather.source ==
            "synthetic", "site": f"{park.site.latitude_deg:.2f} N, "
                                 f"{park.site.longitude_deg:.2f} E"}
