"""A battery-only park with a demand-response programme, and calendars written to files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optimizer_support import IDEAL_BATTERY, make_park
from parkgrid.config import Park

PROGRAMME: dict[str, Any] = {
    "name": "summer_peak", "kind": "peak_shaving", "notice": "day_ahead",
    "window_start_h": 10, "window_end_h": 20, "capacity_kw": 100,
    "baseline": "fixed", "baseline_kw": 500, "price_yuan_per_kwh": 3.0,
    "band_floor": 0.5, "band_cap": 1.5, "penalty_yuan_per_kwh": 1.0,
}
BATTERY: dict[str, Any] = IDEAL_BATTERY | {"degradation_cost_yuan_per_kwh": 0.5}
"""Loss-free, so with flat prices a kWh moved costs only its 0.5 yuan of degradation."""
CALENDAR = "programme,date,start,end,requested_kw\nsummer_peak,2025-07-01,12:00,14:00,50\n"


def dr_park(tmp_path: Path, calendar: str = CALENDAR, battery: dict | None = None,
            **programme: Any) -> Park:
    """The optimizer tests' park, one ideal battery, and ``programme`` over ``PROGRAMME``."""
    path = tmp_path / "events.csv"
    path.write_text(calendar, encoding="utf-8")
    park = make_park(batteries=[battery or BATTERY],
                     demand_response={"programmes": [PROGRAMME | programme],
                                      "events": str(path)})
    return park
