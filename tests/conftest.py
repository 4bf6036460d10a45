"""Shared test helpers: a minimal valid park built from a dict (deep-merged overrides)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from parkgrid.config import Park, parse_park

PROFILES = Path(__file__).resolve().parents[1] / "profiles"

MINIMAL_PARK: dict = {
    "name": "test park",
    "site": {"latitude_deg": 30.5, "longitude_deg": 120.9, "timezone": "Asia/Shanghai"},
    "year": 2025,
    "weather": {"source": "synthetic", "climate": str(PROFILES / "climate_hangzhou.yaml")},
    "loads": [{"name": "plant", "synthetic": {"shape": "industrial", "annual_kwh": 1.0e6}}],
    "grid": {"import_limit_kw": 1000.0},
    "tariff": {"calendar": "zhejiang_2024"},
    "emissions": {"grid_factor_t_per_mwh": 0.5},
}


def merged(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` merged in (nested dicts merge, everything else replaces)."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@pytest.fixture(scope="session")
def make_park() -> Callable[..., Park]:
    """``make_park(source=..., **overrides)``: a minimal park; relative paths resolve
    against ``source`` (a would-be config file path) when it is a Path."""

    def make(source: Path | str = "<memory>", **overrides: object) -> Park:
        return parse_park(merged(MINIMAL_PARK, overrides), source)

    return make


@pytest.fixture(scope="session")
def every_asset_park() -> Park:
    """The simulator tests' small park with every kind of asset (DC bus, battery, tank,
    chillers, EV chargers; :func:`simulate_fixtures.make_park`)."""
    from simulate_fixtures import make_park as make_small_park

    return make_small_park()
