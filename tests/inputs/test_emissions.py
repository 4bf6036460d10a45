"""CO2: the grid factor per step (flat or a file), the MEE factor table, the tce convention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parkgrid.config import load_park, parse_park
from parkgrid.errors import ConfigError, InputDataError
from parkgrid.inputs import emissions

TZ = "Asia/Shanghai"


def make_park(source: Path | str = "<memory>", **emissions_cfg):
    return parse_park({
        "name": "test park",
        "site": {"latitude_deg": 30.5, "longitude_deg": 120.9},
        "weather": {"source": "synthetic", "climate": "climate.csv"},
        "loads": [{"name": "plant", "synthetic": {"shape": "industrial", "annual_kwh": 1e6}}],
        "grid": {"import_limit_kw": 1000},
        "tariff": {"calendar": "zhejiang_2024"},
        "emissions": emissions_cfg or {"grid_factor_t_per_mwh": 0.5},
    }, source)


def index_of(periods: int = 96) -> pd.DatetimeIndex:
    return pd.date_range("2025-01-01", periods=periods, freq="15min", tz=TZ)


def write_hourly(path: Path, values: list[float]) -> None:
    stamps = pd.date_range("2025-01-01", periods=len(values), freq="60min")
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M"), "factor": values}
                 ).to_csv(path, index=False)


def test_flat_factor_on_every_step() -> None:
    park = make_park()
    factor = emissions.grid_factor_kg_per_kwh(park.emissions, park, index_of())
    assert factor.name == "co2_kg_per_kwh" and factor.index.equals(index_of())
    assert (factor == 0.5).all()


def test_hourly_factor_file_holds_each_hour(tmp_path: Path) -> None:
    write_hourly(tmp_path / "co2.csv", list(np.linspace(0.4, 0.6, 24)))
    park = make_park(tmp_path / "park.yaml", profile={"path": "co2.csv"})
    factor = emissions.grid_factor_kg_per_kwh(park.emissions, park, index_of())
    assert factor.name == "co2_kg_per_kwh"
    assert factor.iloc[0:4].tolist() == [0.4] * 4
    assert factor.iloc[-1] == pytest.approx(0.6)


def test_negative_factor_in_the_file_is_an_error(tmp_path: Path) -> None:
    write_hourly(tmp_path / "co2.csv", [0.5] * 10 + [-0.1] + [0.5] * 13)
    park = make_park(tmp_path / "park.yaml", profile={"path": "co2.csv"})
    with pytest.raises(InputDataError, match=r"got -0.1 t/MWh at 2025-01-01 10:00"):
        emissions.grid_factor_kg_per_kwh(park.emissions, park, index_of())


@pytest.mark.parametrize(("region", "year", "factor"), [
    ("national", 2022, 0.5366), ("east_china", 2023, 0.5500), ("zhejiang", 2023, 0.4974),
    ("south_china", 2022, 0.3869), ("guangdong", 2023, 0.4419),
])
def test_mee_factor_lookup(region: str, year: int, factor: float) -> None:
    assert emissions.mee_grid_factor_t_per_mwh(region, year) == factor


def test_mee_table_regions() -> None:
    assert emissions.mee_regions() == ["national", "east_china", "zhejiang", "south_china",
                                       "guangdong"]


def test_mee_unknown_region_lists_the_regions() -> None:
    with pytest.raises(ConfigError, match=r"region: got 'jiangsu'; expected one of \['national'"):
        emissions.mee_grid_factor_t_per_mwh("jiangsu", 2023)


def test_mee_unknown_year_lists_the_years() -> None:
    with pytest.raises(ConfigError, match=r"year: got 2019; expected one of \[2022, 2023\]"):
        emissions.mee_grid_factor_t_per_mwh("zhejiang", 2019)


@pytest.mark.parametrize(("gce", "tce"), [(300.0, 3.0e-4), (122.9, 1.229e-4)])
def test_tce_per_kwh_follows_the_convention(gce: float, tce: float) -> None:
    park = make_park(grid_factor_t_per_mwh=0.5, coal_gce_per_kwh=gce)
    assert emissions.tce_per_kwh(park.emissions) == pytest.approx(tce)


@pytest.mark.parametrize("park_file,region", [("haiyan", "zhejiang"), ("dameisha", "guangdong")])
def test_the_reference_parks_use_their_provinces_mee_factor(park_file: str, region: str) -> None:
    models = Path(__file__).resolve().parents[2] / "models"
    park = load_park(models / f"{park_file}.yaml")
    assert park.emissions.grid_factor_t_per_mwh == emissions.mee_grid_factor_t_per_mwh(region,
                                                                                      2023)
