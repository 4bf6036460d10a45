"""Grid CO2 emission factor per step (flat or a measured hourly series), and the published
Chinese factors and energy conventions that go with it."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from parkgrid.config import MAX_GRID_FACTOR_T_PER_MWH, Emissions, Park
from parkgrid.errors import ConfigError

GCE_PER_TCE = 1e6


def grid_factor_kg_per_kwh(
    emissions_cfg: Emissions, park: Park, index: pd.DatetimeIndex
) -> pd.Series:
    """The grid's CO2 factor at each step, kg/kWh (= tCO2/MWh), named ``co2_kg_per_kwh``."""
    name = "co2_kg_per_kwh"
    if emissions_cfg.profile is None:
        return pd.Series(float(emissions_cfg.grid_factor_t_per_mwh), index=index, name=name)
    from parkgrid.inputs.timeseries import read_profile

    return read_profile(emissions_cfg.profile, park, index, "grid CO2 factor", "t/MWh",
                        MAX_GRID_FACTOR_T_PER_MWH).rename(name)


@lru_cache(maxsize=1)
def _mee_table() -> tuple[Path, dict[str, dict[int, float]]]:
    path = Path(str(resources.files("parkgrid").joinpath("data", "grid_factors_cn.yaml")))
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return path, {region: {int(y): float(v) for y, v in years.items()}
                  for region, years in doc["factors"].items()}


def mee_regions() -> list[str]:
    """Regions of the shipped MEE factor table (national, regional and provincial grids)."""
    return list(_mee_table()[1])


def mee_grid_factor_t_per_mwh(region: str, year: int) -> float:
    """The MEE location-based grid factor of ``region`` in ``year``, tCO2/MWh."""
    path, table = _mee_table()
    if region not in table:
        raise ConfigError(path, [f"region: got {region!r}; expected one of {list(table)}"])
    if year not in table[region]:
        raise ConfigError(path, [
            f"year: got {year}; expected one of {sorted(table[region])} for {region!r}"
        ])
    return table[region][year]


def tce_per_kwh(emissions_cfg: Emissions) -> float:
    """Tonnes of standard coal equivalent per kWh of electricity under the configured
    convention (300 gce/kWh coal for power supply, or 122.9 gce/kWh calorific)."""
    return emissions_cfg.coal_gce_per_kwh / GCE_PER_TCE
