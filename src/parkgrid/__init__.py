"""parkgrid: plan and simulate the energy system of near-zero-carbon industrial parks.

The notebook API (:mod:`parkgrid.api`) is importable from here; names load on first use so
that ``import parkgrid`` stays fast::

    import parkgrid as pg
    park = pg.load_park("haiyan")
    sim = pg.simulate_period(park, "2025-07-01", days=7)
    sim.summary["self_sufficiency"], sim.plot_dispatch("2025-07-03")
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_park": "parkgrid.api",
    "with_changes": "parkgrid.api",
    "build_inputs": "parkgrid.api",
    "plan_day": "parkgrid.api",
    "pareto_front": "parkgrid.api",
    "simulate_period": "parkgrid.api",
    "run_period": "parkgrid.api",
    "reprice": "parkgrid.api",
    "compare_strategies": "parkgrid.api",
    "compare_designs": "parkgrid.api",
    "load_results": "parkgrid.api",
    "DayPlan": "parkgrid.api",
    "Simulation": "parkgrid.api",
    "RunSummary": "parkgrid.api",
    "DEFAULT_STRATEGIES": "parkgrid.api",
    "REFERENCE_PARKS": "parkgrid.api",
    "write_report": "parkgrid.reporting.html",
    "Inputs": "parkgrid.inputs",
    "Park": "parkgrid.config",
    "ParkState": "parkgrid.model.schedule",
    "Schedule": "parkgrid.model.schedule",
}
_MODULES = {"plots": "parkgrid.reporting.plots", "report": "parkgrid.reporting.html",
            "api": "parkgrid.api"}

__all__ = sorted([*_EXPORTS, *_MODULES])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    else:
        raise AttributeError(f"module 'parkgrid' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
