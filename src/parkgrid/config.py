"""The park config: pydantic models that are the documented schema, and the YAML loader.

Every field name carries its unit. Paths inside a config are relative to the config file
and are resolved by :func:`load_park`. Unknown keys are errors.
"""

from __future__ import annotations

import zoneinfo
from itertools import pairwise
from pathlib import Path
from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin

import annotated_types
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from parkgrid.errors import ConfigError, not_utf8

Bus = Literal["ac", "dc"]

# --- reusable field types: strict (no bools, no numeric strings), finite, physical ranges ---
MAX_KW = 1e7
"""Largest power of any asset or connection, kW (10 GW: far above any industrial park)."""
MAX_KWH = 1e9
"""Largest energy of any store or annual load, kWh (1 TWh)."""

FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Int = Annotated[int, Field(strict=True)]
Fraction = Annotated[FiniteFloat, Field(ge=0.0, le=1.0)]
Efficiency = Annotated[FiniteFloat, Field(ge=0.5, le=1.0)]
"""No real converter, charger or battery is below 50 % one way (and the planner divides by it)."""
PositiveFloat = Annotated[FiniteFloat, Field(gt=0.0, le=1e9)]
NonNegFloat = Annotated[FiniteFloat, Field(ge=0.0, le=1e9)]
PositiveKw = Annotated[FiniteFloat, Field(gt=0.0, le=MAX_KW)]
NonNegKw = Annotated[FiniteFloat, Field(ge=0.0, le=MAX_KW)]
PositiveKwh = Annotated[FiniteFloat, Field(gt=0.0, le=MAX_KWH)]
Hour = Annotated[FiniteFloat, Field(ge=0.0, le=24.0)]
Price = Annotated[FiniteFloat, Field(ge=0.0, le=100.0)]
"""yuan/kWh: 100 is ~100× any Chinese TOU price."""
Cop = Annotated[FiniteFloat, Field(ge=0.5, le=30.0)]
"""A chiller below COP 0.5 is not a chiller (and the planner divides by it)."""
TempC = Annotated[FiniteFloat, Field(ge=-60.0, le=60.0)]
SEED_MAX = 2**32 - 1
"""Largest seed of any random generator (numpy's legacy seeds are 32-bit)."""
Seed = Annotated[Int, Field(ge=0, le=SEED_MAX)]
YEARS = (1990, 2100)
"""Calendar years a park may be simulated in."""
Scale = Annotated[FiniteFloat, Field(gt=0.0, le=1e6)]
HeightM = Annotated[FiniteFloat, Field(gt=0.0, le=500.0)]
WindSpeed = Annotated[FiniteFloat, Field(gt=0.0, le=60.0)]
Count = Annotated[Int, Field(ge=1, le=100_000)]
LossPctPerH = Annotated[FiniteFloat, Field(ge=0, lt=10)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


def _path_text(value: object) -> object:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a file path (non-empty text)")
    return value


FilePath = Annotated[Path, BeforeValidator(_path_text)]
"""A file path given as text (never a number, a bool or an empty string)."""
Text = Annotated[str, Field(strict=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors, values are re-validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class DataFile(Strict):
    """A measured time series: CSV or Parquet with a timestamp column."""

    path: FilePath = Field(description="CSV or Parquet file, relative to the config file")
    column: Text | None = Field(None, description="value column; default: the only one")
    timestamp_column: Text = Field("timestamp", description="column of interval-start times")
    scale: Scale = Field(1.0, description="multiplier applied to the values")
    fill: Literal["none", "interpolate", "zero"] = Field(
        "none", description="gap policy: 'none' reports gaps as errors"
    )


class Cost(Strict):
    """What an asset costs over its life (yuan, excl. VAT). ``size`` is the asset's own size
    field: kWp (PV), kW rated (wind: count × turbine), kWh (battery), kW_th (chiller),
    kWh_th (tank), kW (DC converter; chargers: count × power). docs/economics.md."""

    existing: Annotated[bool, Field(strict=True)] = Field(
        False, description="already built: no initial capex (replacements, O&M and residual "
        "value still counted)")
    capex_yuan_per_unit: NonNegFloat = Field(description="installed cost per unit of size")
    capex_yuan_per_kw: NonNegFloat = Field(
        0.0, description="battery: power part (PCS) per kW; tank: per kW_th of charge rate")
    capex_fixed_yuan: NonNegFloat = Field(0.0, description="size-independent part")
    om_yuan_per_unit_year: NonNegFloat = Field(description="fixed O&M per unit of size and year")
    lifetime_years: Annotated[Int, Field(ge=1, le=100)] = Field(
        description="years of service; replaced at each multiple within the analysis period")
    replacement_cost_fraction: Annotated[FiniteFloat, Field(ge=0, le=5)] = Field(
        1.0, description="each replacement (at every lifetime within the analysis period) "
        "costs this fraction of today's capex")
    degradation_pct_per_year: Annotated[FiniteFloat, Field(ge=0, lt=10)] = Field(
        0.0, description="PV / wind: output loss per year (applied to RE-driven savings)")


BASELINE_WITHOUT = {"grid_only": ("pv", "wind", "batteries", "tank"),
                    "re_no_storage": ("batteries", "tank")}
"""The asset kinds each economics baseline runs without (the investment judged)."""


class Economics(Strict):
    """Lifecycle economics of the park against a baseline (docs/economics.md)."""

    analysis_years: Annotated[Int, Field(ge=1, le=60)] = Field(
        description="years of the cash flow (year 0 = investment)")
    discount_rate: Annotated[FiniteFloat, Field(ge=0, lt=1)] = Field(
        description="nominal, per year (0.07 = 7 %)")
    electricity_escalation: Annotated[FiniteFloat, Field(gt=-0.5, lt=1)] = Field(
        0.0, description="energy, demand and export prices, per year")
    om_escalation: Annotated[FiniteFloat, Field(gt=-0.5, lt=1)] = Field(0.0, description="per year")
    carbon_price_yuan_per_t: NonNegFloat | None = Field(
        None, description="value of avoided CO2; default: emissions.carbon_price_yuan_per_t")
    baseline: Literal["grid_only", "re_no_storage"] = Field(
        "grid_only", description="what the investment is judged against: 'grid_only' (the "
        "park without PV, wind and storage) or 're_no_storage' (without storage)")


class Site(Strict):
    """Where the park is: coordinates and the IANA time zone of its local time."""

    latitude_deg: Annotated[FiniteFloat, Field(gt=-90, lt=90)] = Field(
        description="latitude, north positive (the poles are refused: no solar day)")
    longitude_deg: Annotated[FiniteFloat, Field(ge=-180, le=180)] = Field(
        description="longitude, east positive")
    altitude_m: Annotated[FiniteFloat, Field(ge=-500, le=9000)] = Field(
        0.0, description="site altitude above sea level (Dead Sea shore to Everest)")
    timezone: str = Field("Asia/Shanghai", description="IANA time zone of the local time")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}, e.g. 'Asia/Shanghai'") from None
        return value


class Weather(Strict):
    """Weather from a file (EPW / TMY3 / CSV) or a seeded synthetic year."""

    source: Literal["synthetic", "epw", "tmy3", "csv"] = Field(
        "synthetic", description="where the weather comes from")
    climate: FilePath | None = Field(None, description="monthly statistics (synthetic source)")
    path: FilePath | None = Field(None, description="weather file (epw/tmy3/csv source)")
    seed: Seed = Field(0, description="seed of the synthetic weather year")
    wind_speed_scale: Annotated[FiniteFloat, Field(gt=0, le=10)] = Field(
        1.0, description="multiplier on the reference-height wind speed (site vs station)"
    )
    wind_reference_height_m: HeightM = Field(
        10.0, description="height of the weather's wind speed above ground")
    roughness_length_m: Annotated[FiniteFloat, Field(gt=0, le=5)] = Field(
        0.1, description="surface roughness length of the logarithmic wind profile")
    target_mean_wind_speed_m_s: WindSpeed | None = Field(
        None, description="calibration: scale the wind so its mean over the year is this "
        "(measured or published) speed at target_height_m; the scale found is reported")
    target_height_m: HeightM | None = Field(
        None, description="height of target_mean_wind_speed_m_s (logarithmic law with "
        "roughness_length_m); default: wind_reference_height_m")

    @model_validator(mode="after")
    def _source_has_data(self) -> Weather:
        if self.source == "synthetic" and self.climate is None:
            raise ValueError("source 'synthetic' needs 'climate' (a monthly statistics file)")
        if self.source != "synthetic" and self.path is None:
            raise ValueError(f"source {self.source!r} needs 'path' (a weather file)")
        if self.target_mean_wind_speed_m_s is not None and self.wind_speed_scale != 1.0:
            raise ValueError("give 'wind_speed_scale' or 'target_mean_wind_speed_m_s' (the "
                             "scale is then found), not both")
        if self.target_height_m is not None and self.target_mean_wind_speed_m_s is None:
            raise ValueError("'target_height_m' needs 'target_mean_wind_speed_m_s'")
        return self


class PVArray(Strict):
    """A PV array: pvlib PVWatts (default) or CEC module + inverter; on the AC or DC bus."""

    name: Name = Field(description="asset name, unique in the park (a-z, 0-9, _)")
    capacity_kwp: PositiveKw = Field(description="DC nameplate capacity")
    tilt_deg: Annotated[FiniteFloat, Field(ge=0, le=90)] = Field(
        20.0, description="module tilt from horizontal")
    azimuth_deg: Annotated[FiniteFloat, Field(ge=0, lt=360)] = Field(
        180.0, description="module azimuth clockwise from north (180 = south)")
    bus: Bus = Field("ac", description="bus the array feeds")
    model: Literal["pvwatts", "cec"] = Field("pvwatts", description="pvlib model chain")
    losses_pct: Annotated[FiniteFloat, Field(ge=0, lt=100)] = Field(
        14.0, description="PVWatts system losses (soiling, wiring, mismatch, …)")
    temperature_coefficient_per_c: Annotated[FiniteFloat, Field(ge=-0.02, le=0)] = Field(
        -0.0035, description="power temperature coefficient (PVWatts gamma_pdc)")
    dc_ac_ratio: Annotated[FiniteFloat, Field(gt=0, le=3)] = Field(
        1.1, description="DC capacity over inverter AC rating")
    converter_efficiency: Efficiency = Field(
        0.97, description="inverter (AC bus) or DC/DC converter (DC bus) efficiency"
    )
    module: str | None = Field(None, description="CEC module name (model 'cec')")
    inverter: str | None = Field(None, description="CEC inverter name (model 'cec')")
    profile: DataFile | None = Field(None, description="measured output instead of the model")
    cost: Cost | None = Field(None, description="lifecycle cost (economics)")
    annual_energy_kwh: PositiveKwh | None = Field(
        None, description="calibration: published or measured yield per year; the "
        "irradiance this array sees is scaled to meet it (scale reported)")

    @model_validator(mode="after")
    def _cec_needs_parts(self) -> PVArray:
        if self.model == "cec" and self.profile is None and not (self.module and self.inverter):
            raise ValueError("model 'cec' needs 'module' and 'inverter' (CEC database names)")
        _target_or_profile(self.annual_energy_kwh, self.profile)
        return self


def _target_or_profile(annual_energy_kwh: float | None, profile: DataFile | None) -> None:
    """A calibration target and a measured profile of an asset exclude each other."""
    if annual_energy_kwh is not None and profile is not None:
        raise ValueError("'annual_energy_kwh' calibrates the model; a measured 'profile' "
                         "is used as it is: give one of them")


class PowerCurve(Strict):
    """A power curve as a table, or from cut-in / rated / cut-out speeds."""

    wind_speed_m_s: list[Annotated[FiniteFloat, Field(ge=0, le=60)]] | None = Field(
        None, description="table: hub-height wind speeds, strictly increasing")
    power_kw: list[NonNegKw] | None = Field(
        None, description="table: turbine output at each wind speed")
    cut_in_m_s: WindSpeed | None = Field(None, description="speed at which output starts")
    rated_m_s: WindSpeed | None = Field(None, description="speed at which output is rated")
    cut_out_m_s: WindSpeed | None = Field(None, description="speed at which the turbine stops")

    @model_validator(mode="after")
    def _table_or_speeds(self) -> PowerCurve:
        table = self.wind_speed_m_s is not None or self.power_kw is not None
        speeds = (self.cut_in_m_s, self.rated_m_s, self.cut_out_m_s)
        if table:
            if self.wind_speed_m_s is None or self.power_kw is None:
                raise ValueError("a table needs both 'wind_speed_m_s' and 'power_kw'")
            if len(self.wind_speed_m_s) != len(self.power_kw) or len(self.power_kw) < 2:
                raise ValueError("'wind_speed_m_s' and 'power_kw' need the same length (≥ 2)")
            if any(b <= a for a, b in pairwise(self.wind_speed_m_s)):
                raise ValueError("'wind_speed_m_s' must be strictly increasing")
        elif None in speeds:
            raise ValueError("give a table or all of 'cut_in_m_s', 'rated_m_s', 'cut_out_m_s'")
        elif not speeds[0] < speeds[1] < speeds[2]:
            raise ValueError("need cut_in_m_s < rated_m_s < cut_out_m_s")
        return self


class Turbine(Strict):
    """A turbine from windpowerlib's OEDB library by name, or a custom one."""

    oedb_type: str | None = Field(None, description="OEDB turbine type, e.g. 'E-126/4200'")
    rated_kw: Annotated[FiniteFloat, Field(gt=0, le=30_000)] | None = Field(
        None, description="custom turbine: rated power (≤ 30 MW)")
    rotor_diameter_m: Annotated[FiniteFloat, Field(gt=0, le=350)] | None = Field(
        None, description="custom turbine: rotor diameter")
    power_curve: PowerCurve | None = Field(None, description="custom turbine: power curve")

    @model_validator(mode="after")
    def _oedb_or_custom(self) -> Turbine:
        custom = (self.rated_kw, self.rotor_diameter_m, self.power_curve)
        if self.oedb_type is None and None in custom:
            raise ValueError(
                "give 'oedb_type' or a custom turbine: 'rated_kw', 'rotor_diameter_m', "
                "'power_curve'"
            )
        return self


class WindFarm(Strict):
    """Identical turbines at one hub height, modelled with windpowerlib."""

    name: Name = Field(description="asset name, unique in the park (a-z, 0-9, _)")
    turbine: Turbine = Field(description="the turbine type")
    count: Annotated[Int, Field(ge=1, le=1000)] = Field(1, description="number of turbines")
    hub_height_m: HeightM = Field(description="hub height above ground")
    wind_profile: Literal["logarithmic", "hellman"] = Field(
        "logarithmic", description="vertical wind profile to the hub height")
    hellman_exponent: Annotated[FiniteFloat, Field(gt=0, le=1)] | None = Field(
        None, description="Hellman exponent (profile 'hellman'; default 1/7)")
    availability: Fraction = Field(0.97, description="share of time the turbines are available")
    wake_losses: Fraction = Field(0.05, description="share of output lost to wakes")
    profile: DataFile | None = Field(None, description="measured output instead of the model")
    cost: Cost | None = Field(None, description="lifecycle cost (economics)")
    annual_energy_kwh: PositiveKwh | None = Field(
        None, description="calibration: published or measured yield per year; the wind "
        "speed this farm sees is scaled before the power curve to meet it (scale reported)")

    @model_validator(mode="after")
    def _one_source(self) -> WindFarm:
        _target_or_profile(self.annual_energy_kwh, self.profile)
        return self


class EndSoc(Strict):
    """End-of-horizon storage rule. 'initial': end at least at the initial level;
    'fraction': at least ``fraction`` of capacity; 'free': no target; 'value': no target, and
    every kWh (kWh_th for a tank) left at the end is worth ``value_yuan_per_kwh`` — by default
    what refilling it would cost: the horizon's lowest import price over the efficiency from
    the grid to the store (charge and AC/DC converter efficiency for a battery, the best
    chiller COP for a chilled-water tank, the heat pump's COP for a hot-water tank, whose
    heat is worth nothing in a horizon without heating demand)."""

    rule: Literal["initial", "free", "fraction", "value"] = Field(
        "value", description="end-of-horizon rule (see the section text)")
    fraction: Fraction | None = Field(
        None, description="rule 'fraction': the least end level, share of capacity (inside "
        "the battery's SOC window)")
    value_yuan_per_kwh: Price | None = Field(
        None, description="rule 'value': worth of each stored kWh at the end (default: the "
        "refill cost)")

    @model_validator(mode="after")
    def _value_with_rule(self) -> EndSoc:
        if self.value_yuan_per_kwh is not None and self.rule != "value":
            raise ValueError("'value_yuan_per_kwh' needs rule: value")
        if self.rule == "fraction" and self.fraction is None:
            raise ValueError("rule: fraction needs 'fraction'")
        if self.fraction is not None and self.rule != "fraction":
            raise ValueError("'fraction' needs rule: fraction")
        return self


class Battery(Strict):
    """A battery; efficiencies are one-way (round trip = charge × discharge)."""

    name: Name = Field(description="asset name, unique in the park (a-z, 0-9, _; not 'tank' "
                       "or 'hot_tank')")
    bus: Bus = Field("ac", description="bus the battery is connected to")
    power_kw: PositiveKw = Field(description="charge and discharge power limit")
    energy_kwh: PositiveKwh = Field(description="usable nameplate energy")
    charge_efficiency: Efficiency = Field(0.94, description="one-way charge efficiency")
    discharge_efficiency: Efficiency = Field(0.94, description="one-way discharge efficiency")
    soc_min: Fraction = Field(0.10, description="lowest state of charge, share of energy_kwh")
    soc_max: Fraction = Field(0.95, description="highest state of charge, share of energy_kwh")
    soc_initial: Fraction = Field(0.5, description="state of charge at the start")
    end_soc: EndSoc = Field(EndSoc(), description="end-of-horizon rule")
    self_discharge_pct_per_h: LossPctPerH = Field(0.01, description="self-discharge rate")
    degradation_cost_yuan_per_kwh: Price = Field(
        0.15, description="wear cost per kWh of throughput")
    cost: Cost | None = Field(None, description="lifecycle cost (economics)")

    @model_validator(mode="after")
    def _window(self) -> Battery:
        if self.name == "tank":
            raise ValueError("'tank' is reserved for the cooling tank (--soc tank=…)")
        if self.name == "hot_tank":
            raise ValueError("'hot_tank' is reserved for the hot-water tank (--soc hot_tank=…)")
        if not self.soc_min < self.soc_max:
            raise ValueError(f"need soc_min < soc_max, got {self.soc_min} ≥ {self.soc_max}")
        if not self.soc_min <= self.soc_initial <= self.soc_max:
            raise ValueError("soc_initial must lie within [soc_min, soc_max]")
        end = self.end_soc.fraction
        if end is not None and not self.soc_min <= end <= self.soc_max:
            raise ValueError(f"end_soc.fraction {end} must lie within [soc_min, soc_max] = "
                             f"[{self.soc_min}, {self.soc_max}]")
        return self


class CopCurve(Strict):
    """COP at each load fraction (linear interpolation between points)."""

    load_fraction: list[Annotated[FiniteFloat, Field(gt=0, le=1)]] = Field(
        description="part-load points, strictly increasing")
    cop: list[Cop] = Field(description="COP at each part-load point")

    @model_validator(mode="after")
    def _same_length(self) -> CopCurve:
        if len(self.load_fraction) != len(self.cop) or len(self.cop) < 2:
            raise ValueError("'load_fraction' and 'cop' need the same length (≥ 2)")
        if any(b <= a for a, b in pairwise(self.load_fraction)):
            raise ValueError("'load_fraction' must be strictly increasing")
        return self


class Chiller(Strict):
    """An electric chiller: electricity = cooling / COP."""

    name: Name = Field(description="asset name, unique in the park (a-z, 0-9, _)")
    capacity_kw_th: PositiveKw = Field(description="rated cooling capacity")
    cop: Cop | None = Field(None, description="constant COP")
    cop_curve: CopCurve | None = Field(None, description="COP by part load instead of 'cop'")
    min_part_load: Annotated[FiniteFloat, Field(ge=0, lt=1)] = Field(
        0.0, description="lowest part load when running, share of capacity")
    bus: Bus = Field("ac", description="bus the chiller draws from")
    cost: Cost | None = Field(None, description="lifecycle cost (economics)")

    @model_validator(mode="after")
    def _one_cop(self) -> Chiller:
        if (self.cop is None) == (self.cop_curve is None):
            raise ValueError("give exactly one of 'cop' and 'cop_curve'")
        return self


class Tank(Strict):
    """A water storage tank: chilled water (cooling) or hot water (heating)."""

    capacity_kwh_th: PositiveKwh = Field(description="usable cold storage")
    max_charge_kw_th: PositiveKw = Field(description="charge (cooling into the tank) limit")
    max_discharge_kw_th: PositiveKw = Field(description="discharge (cooling out) limit")
    standing_loss_pct_per_h: LossPctPerH = Field(0.08, description="standing loss rate")
    level_initial: Fraction = Field(0.0, description="level at the start, share of capacity")
    end_level: EndSoc = Field(EndSoc(), description="end-of-horizon rule")
    cost: Cost | None = Field(None, description="lifecycle cost (economics)")


class CoolingLoadModel(Strict):
    """Cooling demand from outdoor temperature and a schedule (degree-hour model)."""

    peak_kw_th: PositiveKw = Field(description="cooling demand at the design temperature")
    balance_temp_c: TempC = Field(18.0, description="outdoor temperature below which no "
                                  "comfort cooling is needed")
    design_temp_c: TempC = Field(35.0, description="outdoor temperature of the peak demand")
    schedule: Literal["industrial", "office", "continuous"] = Field(
        "industrial", description="occupancy schedule")
    base_fraction: Fraction = Field(0.1, description="process cooling share at any temperature")
    off_hours_fraction: Fraction = Field(0.3, description="demand share outside working hours")

    @field_validator("design_temp_c")
    @classmethod
    def _above_balance(cls, value: float, info: ValidationInfo) -> float:
        balance = info.data.get("balance_temp_c")
        if balance is not None and value <= balance:
            raise ValueError(f"a temperature above balance_temp_c ({balance:g})")
        return value


class Cooling(Strict):
    """The cooling plant: demand (model or file), chillers and an optional tank."""

    load: CoolingLoadModel | None = Field(None, description="demand model")
    profile: DataFile | None = Field(None, description="measured demand instead of the model")
    chillers: list[Chiller] = Field(min_length=1, description="the chillers")
    tank: Tank | None = Field(None, description="chilled-water storage")

    @model_validator(mode="after")
    def _load_source(self) -> Cooling:
        if (self.load is None) == (self.profile is None):
            raise ValueError("give exactly one of 'load' (a model) and 'profile' (a file)")
        return self


class HeatingLoadModel(Strict):
    """Heating demand from outdoor temperature and a schedule (degree-hour model): the share
    ``(balance − T) / (balance − design)`` (0–1) of the peak, scaled to ``peak_kw_th`` or to
    the year's ``annual_kwh_th``."""

    peak_kw_th: PositiveKw | None = Field(None, description="heating demand at the design "
                                          "temperature")
    annual_kwh_th: PositiveKwh | None = Field(
        None, description="the year's heating demand instead of a peak (the shape is scaled "
        "to it)")
    balance_temp_c: TempC = Field(15.0, description="outdoor temperature above which no "
                                  "space heating is needed")
    design_temp_c: TempC = Field(-2.0, description="outdoor temperature of the peak demand")
    schedule: Literal["industrial", "office", "continuous"] = Field(
        "industrial", description="occupancy schedule")
    base_fraction: Fraction = Field(0.0, description="process heat share at any temperature")
    off_hours_fraction: Fraction = Field(0.3, description="demand share outside working hours")

    @model_validator(mode="after")
    def _one_scale(self) -> HeatingLoadModel:
        if (self.peak_kw_th is None) == (self.annual_kwh_th is None):
            raise ValueError("give exactly one of 'peak_kw_th' and 'annual_kwh_th'")
        if self.design_temp_c >= self.balance_temp_c:
            raise ValueError(f"design_temp_c must be below balance_temp_c "
                             f"({self.balance_temp_c:g}), got {self.design_temp_c:g}")
        return self


class HeatPump(Strict):
    """A ground-source heat pump: electricity = heat / COP; the COP constant or a fraction
    of the Carnot COP between the ground and the supply water,
    ``carnot_fraction × (supply + 273.15) / (supply − ground)``."""

    capacity_kw_th: PositiveKw = Field(description="rated heat output")
    cop: Cop | None = Field(None, description="constant COP")
    carnot_fraction: Annotated[FiniteFloat, Field(gt=0, le=1)] | None = Field(
        None, description="share of the Carnot COP reached, instead of 'cop' (0.4–0.6 for "
        "water-to-water heat pumps)")
    supply_temp_c: TempC = Field(45.0, description="heating water supply temperature")
    ground_temp_c: TempC | None = Field(
        None, description="source (ground) temperature; default: the weather year's mean air "
        "temperature (undisturbed ground at borehole depth)")
    bus: Bus = Field("ac", description="bus the heat pump draws from")

    @model_validator(mode="after")
    def _one_cop(self) -> HeatPump:
        if (self.cop is None) == (self.carnot_fraction is None):
            raise ValueError("give exactly one of 'cop' and 'carnot_fraction'")
        if self.ground_temp_c is not None and self.ground_temp_c >= self.supply_temp_c:
            raise ValueError(f"ground_temp_c ({self.ground_temp_c:g}) must be below "
                             f"supply_temp_c ({self.supply_temp_c:g})")
        return self


class WasteHeat(Strict):
    """Recovered waste heat (air compressors, the chillers' condensers): free heat up to a
    limit."""

    max_kw_th: PositiveKw = Field(description="most heat recoverable at any step")
    chiller_fraction: Fraction | None = Field(
        None, description="also at most this share of the chillers' rejected heat (cooling + "
        "electricity) at each step; needs a cooling plant")


class Boiler(Strict):
    """The diesel boiler: what the park burnt for heat (the counterfactual of the heating
    KPIs) and, with a capacity, a backup the planner may dispatch."""

    efficiency: Efficiency = Field(0.85, description="heat out per heat of diesel burnt")
    diesel_price_yuan_per_t: Annotated[FiniteFloat, Field(ge=0, le=100_000)] = Field(
        description="diesel price")
    capacity_kw_th: NonNegKw = Field(0.0, description="heat output available as backup; 0: "
                                     "the counterfactual only")


class Heating(Strict):
    """The heating plant: demand (model or file), a ground-source heat pump, waste-heat
    recovery, an optional hot-water tank and the diesel boiler."""

    load: HeatingLoadModel | None = Field(None, description="demand model")
    profile: DataFile | None = Field(None, description="measured demand (kW_th) instead of "
                                     "the model")
    heat_pump: HeatPump | None = Field(None, description="ground-source heat pump")
    waste_heat: WasteHeat | None = Field(None, description="waste-heat recovery")
    tank: Tank | None = Field(None, description="hot-water storage")
    boiler: Boiler = Field(description="the diesel boiler (counterfactual, optional backup)")

    @model_validator(mode="after")
    def _sources(self) -> Heating:
        if (self.load is None) == (self.profile is None):
            raise ValueError("give exactly one of 'load' (a model) and 'profile' (a file)")
        if self.heat_pump is None and self.waste_heat is None and \
                self.boiler.capacity_kw_th == 0:
            raise ValueError("a heat source is needed: 'heat_pump', 'waste_heat' or "
                             "boiler.capacity_kw_th > 0")
        if self.tank is not None and self.tank.cost is not None:
            raise ValueError("tank.cost: the heating plant's economics are not evaluated; "
                             "leave 'cost' out")
        return self

    @property
    def capacity_kw_th(self) -> float:
        """The most heat the sources can supply at once (tank discharge included)."""
        return ((self.heat_pump.capacity_kw_th if self.heat_pump else 0.0)
                + (self.waste_heat.max_kw_th if self.waste_heat else 0.0)
                + self.boiler.capacity_kw_th
                + (self.tank.max_discharge_kw_th if self.tank else 0.0))


class DCBus(Strict):
    """The DC bus and its bidirectional AC/DC converter."""

    converter_kw: PositiveKw = Field(description="AC/DC converter rating, either direction")
    converter_efficiency: Efficiency = Field(0.97, description="one-way converter efficiency")
    cost: Cost | None = Field(None, description="lifecycle cost (economics)")


class Buses(Strict):
    """Buses besides the AC bus (always present)."""

    dc: DCBus | None = Field(None, description="the DC bus, if any asset is on it")


class SyntheticLoad(Strict):
    """A synthetic load shape scaled to an annual energy."""

    shape: Literal["industrial", "office"] = Field(description="daily and weekly shape")
    annual_kwh: PositiveKwh | None = Field(None, description="annual energy")
    intensity_kwh_per_m2: Annotated[FiniteFloat, Field(gt=0, le=10_000)] | None = Field(
        None, description="annual energy per floor area (with floor_area_m2)")
    floor_area_m2: Annotated[FiniteFloat, Field(gt=0, le=1e8)] | None = Field(
        None, description="floor area (with intensity_kwh_per_m2)")
    shifts: Annotated[Int, Field(ge=1, le=3)] = Field(2, description="work shifts per day")
    seed: Seed = Field(0, description="seed of the load's noise")

    @model_validator(mode="after")
    def _one_scale(self) -> SyntheticLoad:
        by_area = self.intensity_kwh_per_m2 is not None and self.floor_area_m2 is not None
        if (self.annual_kwh is not None) == by_area:
            raise ValueError(
                "scale by exactly one of 'annual_kwh' or "
                "'intensity_kwh_per_m2' × 'floor_area_m2'"
            )
        if by_area and self.target_annual_kwh > MAX_KWH:
            raise ValueError(f"intensity × floor area is {self.target_annual_kwh:.3g} kWh, "
                             f"above {MAX_KWH:.0e} kWh")
        return self

    @property
    def target_annual_kwh(self) -> float:
        if self.annual_kwh is not None:
            return self.annual_kwh
        return self.intensity_kwh_per_m2 * self.floor_area_m2  # type: ignore[operator]


class Load(Strict):
    """An inflexible electric load: a synthetic shape or a measured profile."""

    name: Name = Field(description="asset name, unique in the park (a-z, 0-9, _)")
    bus: Bus = Field("ac", description="bus the load draws from")
    synthetic: SyntheticLoad | None = Field(None, description="synthetic shape")
    profile: DataFile | None = Field(None, description="measured load instead of a shape")

    @model_validator(mode="after")
    def _one_source(self) -> Load:
        if (self.synthetic is None) == (self.profile is None):
            raise ValueError("give exactly one of 'synthetic' and 'profile'")
        return self


class Charger(Strict):
    """A group of identical EV charging piles."""

    name: Name = Field(description="asset name, unique in the park (a-z, 0-9, _)")
    kind: Literal["fast_dc", "slow_ac"] = Field(description="pile kind")
    count: Count = Field(1, description="number of piles")
    power_kw: Annotated[FiniteFloat, Field(gt=0, le=1000)] = Field(
        description="power of each pile")
    efficiency: Efficiency = Field(0.95, description="grid-to-vehicle efficiency")
    bus: Bus = Field("dc", description="bus the piles draw from")
    cost: Cost | None = Field(None, description="lifecycle cost (economics)")


SessionRate = dict[Literal["fast_dc", "slow_ac"], Annotated[FiniteFloat, Field(ge=0, le=96)]]


class EVSessionModel(Strict):
    """Seeded session generator: per charger kind, sessions per pile and day."""

    seed: Seed = Field(0, description="seed of the sessions")
    sessions_per_pile_workday: SessionRate = Field(
        {"fast_dc": 3.0, "slow_ac": 1.0}, description="sessions per pile on a workday")
    sessions_per_pile_weekend: SessionRate = Field(
        {"fast_dc": 1.5, "slow_ac": 0.4}, description="sessions per pile on a weekend day")
    mean_energy_kwh: dict[Literal["fast_dc", "slow_ac"],
                          Annotated[FiniteFloat, Field(gt=0, le=1000)]] = Field(
        {"fast_dc": 35.0, "slow_ac": 20.0}, description="mean energy of a session")


class EV(Strict):
    """EV charging: piles and sessions (a file or the seeded generator)."""

    chargers: list[Charger] = Field(min_length=1, description="the pile groups")
    sessions: DataFile | None = Field(
        None, description="CSV: arrival, departure, energy_kwh, charger"
    )
    generator: EVSessionModel | None = Field(None, description="seeded session generator")

    @field_validator("generator")
    @classmethod
    def _rate_for_every_kind(cls, gen: EVSessionModel | None,
                             info: ValidationInfo) -> EVSessionModel | None:
        kinds = {c.kind for c in info.data.get("chargers", [])}
        for field in ("sessions_per_pile_workday", "sessions_per_pile_weekend", "mean_energy_kwh"):
            missing = sorted(kinds - set(getattr(gen, field) or {})) if gen else []
            if missing:
                raise ValueError(f"{field} to give a value for charger kind {missing[0]!r}")
        return gen

    @model_validator(mode="after")
    def _one_source(self) -> EV:
        if (self.sessions is None) == (self.generator is None):
            raise ValueError("give exactly one of 'sessions' (a file) and 'generator'")
        return self


class DeferrableLoad(Strict):
    """Energy that must be delivered within a daily window, at up to max_kw."""

    name: Name = Field(description="asset name, unique in the park (a-z, 0-9, _)")
    bus: Bus = Field("ac", description="bus the load draws from")
    energy_kwh_per_day: PositiveKwh = Field(description="energy to deliver each day")
    max_kw: PositiveKw = Field(description="power limit")
    window_start_h: Hour = Field(0.0, description="local hour the window opens")
    window_end_h: Hour = Field(24.0, description="local hour the window closes")
    workdays_only: bool = Field(False, description="only on workdays")

    @model_validator(mode="after")
    def _feasible_window(self) -> DeferrableLoad:
        hours = self.window_end_h - self.window_start_h
        if hours <= 0:
            raise ValueError("need window_start_h < window_end_h")
        if self.max_kw * hours < self.energy_kwh_per_day:
            raise ValueError(
                f"energy_kwh_per_day {self.energy_kwh_per_day} cannot fit in the window at "
                f"max_kw {self.max_kw} ({self.max_kw * hours:g} kWh at most)"
            )
        return self


class Grid(Strict):
    """The grid connection limits."""

    import_limit_kw: PositiveKw = Field(description="largest import")
    export_limit_kw: NonNegKw = Field(0.0, description="largest export (0: none)")


class DemandCharge(Strict):
    """Maximum-demand (monthly peak of 15-min import), capacity, or declared demand."""

    kind: Literal["max_demand", "capacity", "declared", "none"] = Field(
        "max_demand", description="how the demand charge is billed")
    rate_yuan_per_kw_month: Annotated[FiniteFloat, Field(ge=0, le=1000)] = Field(
        0.0, description="rate per kW of monthly peak (or declared kW)")
    capacity_kva: PositiveKw | None = Field(None, description="transformer capacity "
                                            "(kind 'capacity')")
    rate_yuan_per_kva_month: Annotated[FiniteFloat, Field(ge=0, le=1000)] = Field(
        0.0, description="rate per kVA of capacity (kind 'capacity')")
    declared_kw: PositiveKw | None = Field(None, description="declared demand (kind 'declared')")

    @model_validator(mode="after")
    def _kind_fields(self) -> DemandCharge:
        if self.kind == "capacity" and self.capacity_kva is None:
            raise ValueError("kind 'capacity' needs 'capacity_kva'")
        if self.kind == "declared" and self.declared_kw is None:
            raise ValueError("kind 'declared' needs 'declared_kw'")
        return self


class Tariff(Strict):
    """TOU energy prices, export price and the demand charge."""

    calendar: Text = Field(
        description="built-in calendar name (zhejiang_2024, zhejiang_2026, guangdong) "
        "or a YAML calendar file"
    )
    prices_yuan_per_kwh: dict[
        Literal["sharp", "peak", "flat", "valley", "deep_valley"], Price
    ] | None = Field(None, description="price per TOU period; default: the calendar's")
    export_price_yuan_per_kwh: Price = Field(0.0, description="price paid for exports")
    demand: DemandCharge = Field(DemandCharge(), description="the demand charge")


MAX_GRID_FACTOR_T_PER_MWH = 2.0
"""Largest grid CO2 factor, tCO2/MWh (lignite plants emit ~1.2)."""


class Emissions(Strict):
    """Grid CO2 factor (flat or hourly) and the carbon price used for reporting."""

    grid_factor_t_per_mwh: Annotated[FiniteFloat, Field(
            ge=0, le=MAX_GRID_FACTOR_T_PER_MWH)] | None = Field(
        None, description="flat grid CO2 factor (coal plants emit ~1)")
    profile: DataFile | None = Field(None, description="hourly factor, tCO2/MWh")
    carbon_price_yuan_per_t: Annotated[FiniteFloat, Field(ge=0, le=100_000)] = Field(
        0.0, description="carbon price for reporting (and the objective, if enabled)")
    coal_gce_per_kwh: Annotated[FiniteFloat, Field(gt=0, le=1000)] = Field(
        300.0, description="tce convention for electricity (300 supply; 122.9 calorific)"
    )

    @model_validator(mode="after")
    def _one_factor(self) -> Emissions:
        if (self.grid_factor_t_per_mwh is None) == (self.profile is None):
            raise ValueError("give exactly one of 'grid_factor_t_per_mwh' and 'profile'")
        return self


ROLLOUT_HORIZON_H = (24, 168)
"""The shortest and longest horizon of a rollout's daily plans, hours."""
MIP_GAP = (0.0, 1.0)
"""A relative MIP gap lies in [0, 1)."""
TIME_LIMIT_S = (0.0, 86_400.0)
"""A solver time limit lies in (0, 1 day]."""

MipGap = Annotated[FiniteFloat, Field(ge=MIP_GAP[0], lt=MIP_GAP[1])]
TimeLimitS = Annotated[FiniteFloat, Field(gt=TIME_LIMIT_S[0], le=TIME_LIMIT_S[1])]
Penalty = Annotated[FiniteFloat, Field(gt=0, le=1e6)]


class Objective(Strict):
    """Optimizer settings: penalties, carbon price in the objective, solver limits."""

    carbon_price_in_objective: bool = Field(
        False, description="add the carbon price to the optimizer's objective")
    unserved_penalty_yuan_per_kwh: Penalty = Field(
        1000.0, description="a slack, not a VOLL: above any demand-charge increment per kWh"
    )
    ev_unmet_penalty_yuan_per_kwh: Penalty = Field(
        50.0, description="cost of each kWh an EV session leaves without")
    time_limit_s: TimeLimitS = Field(10.0, description="solver time limit of a plan")
    mip_gap: MipGap = Field(
        0.001, description="a plan is optimal within mip_gap × the larger of |objective| and "
        "the horizon's gross cost (docs/schedule.md)")
    rollout_mip_gap: MipGap = Field(
        0.005, description="gap of the daily plans in a rollout (`parkgrid run`): a Haiyan "
        "year with perfect forecasts costs the same as at 0.1 % (±0.04 %) in a third of the "
        "time")
    rollout_horizon_h: Annotated[Int, Field(ge=ROLLOUT_HORIZON_H[0],
                                            le=ROLLOUT_HORIZON_H[1])] = Field(
        24, description="hours each daily plan of a rollout covers from midnight (forecasts "
        "issued 12:00 the day before); only the first 24 h are applied — a longer horizon "
        "looks ahead at tomorrow's prices and weather")
    bound_time_limit_s: TimeLimitS = Field(
        600.0, description="limit of each month's solve of the perfect-foresight bound "
        "(a Haiyan month's LP takes ~5 s)")
    # 20 (est.): all 365 Dameisha and Haiyan 2025 rollout horizons replayed (#14, with the
    # cycle roundings and cover rows): the same Σ objective at 20 as at 50 nodes; only
    # Dameisha's 2025-02-03 branches that far, and at 50 nodes it ran into the 10 s time
    # limit (so depended on the machine) without improving its start
    mip_max_nodes: Annotated[Int, Field(ge=0)] | None = Field(
        20, description="branch and bound of a plan ends after this many nodes with the best "
        "plan found (termination 'node_limit'): a limit of work, so that a plan does not "
        "depend on the machine's speed as one cut by time_limit_s does; null: no limit "
        "(the perfect-foresight bound never has one)")


class DRProgramme(Strict):
    """A demand-response programme (docs/demand_response.md): what an event asks, how the
    response is verified against a baseline, and what it pays. The verified response of an
    event is ``baseline − actual`` net import over its window (peak shaving) or ``actual −
    baseline`` (valley filling), kWh; it is paid only within the effective band
    [``band_floor``, ``band_cap``] × the offered energy (offered kW × window hours)."""

    name: Name = Field(description="programme name, as the event calendar's 'programme' column")
    kind: Literal["peak_shaving", "valley_filling"] = Field(
        description="peak shaving: import less than the baseline; valley filling: import more")
    notice: Literal["day_ahead", "hours_ahead"] = Field(
        "day_ahead", description="day ahead: known by the day-ahead plan (issued 12:00 the day "
        "before); hours ahead: known notice_h before the window opens (a re-plan then)")
    notice_h: Annotated[FiniteFloat, Field(gt=0, le=24)] = Field(
        4.0, description="hours of notice of an hours-ahead event")
    window_start_h: Hour = Field(0.0, description="earliest local hour an event may start")
    window_end_h: Hour = Field(24.0, description="latest local hour an event may end")
    capacity_kw: PositiveKw = Field(
        description="enrolled capacity: the largest request of an event (a calendar row "
        "without requested_kw asks for all of it)")
    commitment: Literal["firm", "optional"] = Field(
        "firm", description="firm: every called event is binding (offer = request); optional: "
        "the planner may decline an event (offer 0) when notified")
    baseline: Literal["similar_days", "declared_plan", "fixed"] = Field(
        "similar_days", description="similar_days: mean net import at the same times on the "
        "baseline_days previous days of the same kind (workday / rest day), event days "
        "excluded; declared_plan: the park's own plan without the event, made at notice; "
        "fixed: baseline_kw")
    baseline_days: Annotated[Int, Field(ge=1, le=30)] = Field(
        5, description="similar days averaged by the similar_days baseline")
    baseline_kw: NonNegKw | None = Field(None, description="the fixed baseline (baseline "
                                         "'fixed')")
    price_yuan_per_kwh: Price = Field(
        description="payment per kWh of verified response within the band")
    capacity_yuan_per_kw: NonNegFloat = Field(
        0.0, description="capacity payment per kW offered, per event delivered within the band")
    band_floor: Annotated[FiniteFloat, Field(ge=0, le=1)] = Field(
        0.5, description="share of the offered energy below which nothing is paid and the "
        "shortfall is penalised")
    band_cap: Annotated[FiniteFloat, Field(ge=1, le=5)] = Field(
        1.5, description="multiple of the offered energy above which response is not paid")
    penalty_yuan_per_kwh: Price = Field(
        0.0, description="penalty per kWh of verified response short of the band floor")

    @model_validator(mode="after")
    def _consistent(self) -> DRProgramme:
        if self.window_end_h <= self.window_start_h:
            raise ValueError(f"window_end_h {self.window_end_h:g} must be after window_start_h "
                             f"{self.window_start_h:g}")
        if (self.baseline == "fixed") != (self.baseline_kw is not None):
            raise ValueError("baseline_kw is given exactly when baseline is 'fixed'")
        return self


class DemandResponse(Strict):
    """Demand-response / VPP programmes the park is enrolled in, and the calendar of the
    events called (docs/demand_response.md)."""

    programmes: list[DRProgramme] = Field(min_length=1, description="the programmes")
    events: FilePath = Field(
        description="event calendar CSV: programme, date, start, end (local HH:MM), "
        "requested_kw (blank: the programme's capacity_kw)")

    @model_validator(mode="after")
    def _unique(self) -> DemandResponse:
        names = [p.name for p in self.programmes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"programme names must be unique; repeated: {', '.join(dupes)}")
        return self


class Park(Strict):
    """A whole park: the root of the config file."""

    name: Text = Field(description="park name shown in summaries and reports")
    description: Annotated[str, Field(strict=True, max_length=5000)] = Field(
        "", description="free text")
    site: Site = Field(description="location and time zone")
    year: Annotated[Int, Field(ge=YEARS[0], le=YEARS[1])] = Field(2025,
                                                           description="calendar year")
    time_step_minutes: Literal[5, 10, 15, 20, 30, 60] = Field(
        15, description="simulation and planning step")
    weather: Weather = Field(description="weather source")
    pv: list[PVArray] = Field([], description="PV arrays")
    wind: list[WindFarm] = Field([], description="wind farms")
    batteries: list[Battery] = Field([], description="batteries")
    cooling: Cooling | None = Field(None, description="cooling plant")
    heating: Heating | None = Field(None, description="heating plant")
    buses: Buses = Field(Buses(), description="buses besides the AC bus")
    loads: list[Load] = Field(min_length=1, description="inflexible electric loads")
    ev: EV | None = Field(None, description="EV charging")
    deferrable: list[DeferrableLoad] = Field([], description="deferrable loads")
    grid: Grid = Field(description="grid connection")
    tariff: Tariff = Field(description="electricity tariff")
    emissions: Emissions = Field(description="grid CO2 factor")
    objective: Objective = Field(Objective(), description="optimizer settings")
    economics: Economics | None = Field(None, description="lifecycle economics; none: "
                                        "kpis.json has no economics section")
    demand_response: DemandResponse | None = Field(
        None, description="demand-response programmes and their event calendar")
    source_file: Path | None = Field(None, exclude=True, description="set by load_park")

    @model_validator(mode="after")
    def _consistent(self) -> Park:
        names = self.asset_names()
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError("asset names must be unique across pv, wind, batteries, loads, "
                             f"deferrable, chillers and chargers; repeated: {', '.join(dupes)}")
        if self.buses.dc is None:
            on_dc = [a.name for a in self.dc_assets()]
            if on_dc:
                raise ValueError(
                    f"assets on bus 'dc' ({', '.join(on_dc)}) need 'buses.dc' "
                    "(converter_kw, converter_efficiency)"
                )
        heating = self.heating
        if heating is not None and heating.waste_heat is not None and \
                heating.waste_heat.chiller_fraction is not None and self.cooling is None:
            raise ValueError("heating.waste_heat.chiller_fraction needs a cooling plant "
                             "('cooling')")
        if heating is not None and heating.heat_pump is not None and \
                heating.heat_pump.bus == "dc" and self.buses.dc is None:
            raise ValueError("heating.heat_pump on bus 'dc' needs 'buses.dc'")
        if self.economics is not None:
            uncosted = [name for kind, name, asset in self.costed_assets()
                        if kind in BASELINE_WITHOUT[self.economics.baseline]
                        and asset.cost is None]
            if uncosted:
                raise ValueError(
                    f"economics (baseline {self.economics.baseline!r}) needs a 'cost' block on "
                    f"{', '.join(uncosted)}")
        return self

    def costed_assets(self) -> list[tuple[str, str, BaseModel]]:
        """(kind, name, config) of every asset that can carry a ``cost`` block."""
        out: list[tuple[str, str, BaseModel]] = [("pv", a.name, a) for a in self.pv]
        out += [("wind", a.name, a) for a in self.wind]
        out += [("batteries", a.name, a) for a in self.batteries]
        if self.cooling is not None:
            out += [("chillers", a.name, a) for a in self.cooling.chillers]
            if self.cooling.tank is not None:
                out.append(("tank", "tank", self.cooling.tank))
        if self.buses.dc is not None:
            out.append(("converter", "dc_converter", self.buses.dc))
        if self.ev is not None:
            out += [("chargers", a.name, a) for a in self.ev.chargers]
        return out

    def asset_names(self) -> list[str]:
        """The name of every named asset, of every kind, in config order."""
        groups: list[list] = [self.pv, self.wind, self.batteries, self.loads, self.deferrable]
        if self.ev is not None:
            groups.append(self.ev.chargers)
        if self.cooling is not None:
            groups.append(self.cooling.chillers)
        return [a.name for group in groups for a in group]

    def dc_assets(self) -> list[BaseModel]:
        """Every asset placed on the DC bus."""
        groups = [self.pv, self.batteries, self.loads, self.deferrable]
        if self.ev is not None:
            groups.append(self.ev.chargers)
        if self.cooling is not None:
            groups.append(self.cooling.chillers)
        return [a for group in groups for a in group if getattr(a, "bus", "ac") == "dc"]

    @property
    def step_h(self) -> float:
        return self.time_step_minutes / 60.0

    @property
    def steps_per_day(self) -> int:
        return 24 * 60 // self.time_step_minutes

    def resolve(self, path: Path | str | None) -> Path | None:
        """A path from the config, made absolute relative to the config file."""
        if path is None:
            return None
        path = Path(path)
        if path.is_absolute() or self.source_file is None:
            return path
        return (self.source_file.parent / path).resolve()


def describe_error(error: dict, schema_doc: str = "docs/config.md") -> str:
    """One line for one pydantic error: field path, bad value, what was expected (unknown
    keys point to ``schema_doc``)."""
    loc = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
    if error["type"] == "extra_forbidden":
        return f"{loc}: unknown key (check the spelling; see the schema in {schema_doc})"
    if error["type"] == "missing":
        return f"{loc}: required field is missing"
    value = error.get("input")
    shown = repr(value) if not isinstance(value, dict) else "{…}"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    where = loc or "(top level)"
    return f"{where}: got {shown}; expected {message[0].lower()}{message[1:]}"


def parse_park(data: object, source: Path | str = "<memory>") -> Park:
    """Validate a parsed YAML document; raise ConfigError naming every bad field."""
    if not isinstance(data, dict):
        raise ConfigError(source, ["(top level): expected a mapping of park settings"])
    try:
        park = Park.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [describe_error(e) for e in exc.errors()]) from None
    if isinstance(source, Path):
        park.source_file = source.resolve()
    return park


MAX_YAML_BYTES = 10_000_000
"""Largest YAML input read (a park config is a few kB)."""
MAX_YAML_DEPTH = 50
"""Deepest nesting of mappings and sequences in a YAML input."""
MAX_YAML_NODES = 1_000_000
"""Most values a YAML document may hold once its aliases are expanded (a bound on 'billion
laughs' documents, whose few lines expand to billions of values)."""


class _SafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses duplicate keys and bounds nesting and alias expansion."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise yaml.YAMLError(f"nested deeper than {MAX_YAML_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)):
                continue
            if key in seen:
                raise yaml.YAMLError(f"line {line}: duplicate key {key!r} (first on line "
                                     f"{seen[key]}); a later value would silently override")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: yaml.Node) -> int:
    """How many values ``root`` holds with every alias expanded (shared nodes counted once
    per use), computed in time linear in the composed graph."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = ([n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode)
                    else list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        if done or not children:
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), MAX_YAML_NODES + 1)
        else:
            stack.append((node, True))
            stack += [(c, False) for c in children if id(c) not in sizes]
    return sizes[id(root)]


def read_yaml(path: Path | str, what: str = "file") -> object:
    """A YAML file's document, read safely; ConfigError naming the file (and the line or byte)
    when it cannot be read, is not UTF-8, is too large or too deep, repeats a key or
    expands its aliases beyond :data:`MAX_YAML_NODES` values."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise ConfigError(path, [f"the {what} is {size:,} bytes; at most "
                                     f"{MAX_YAML_BYTES:,} are read"])
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, [f"cannot read the {what}: {exc.strerror}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(path, [not_utf8(raw, what)]) from None
    loader = _SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if _expanded_size(root) > MAX_YAML_NODES:
            raise yaml.YAMLError(f"its aliases expand to more than {MAX_YAML_NODES:,} values")
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or exc
        raise ConfigError(path, [f"{where}not valid YAML ({problem})"]) from None
    finally:
        loader.dispose()


def load_park(path: Path | str) -> Park:
    """Read and validate a park YAML file."""
    return parse_park(read_yaml(path), Path(path))


UNITS = (("_yuan_per_kva_month", "yuan/(kVA·month)"), ("_yuan_per_kw_month", "yuan/(kW·month)"),
         ("_yuan_per_kwh", "yuan/kWh"), ("_yuan_per_t", "yuan/t"), ("_t_per_mwh", "tCO2/MWh"),
         ("_gce_per_kwh", "gce/kWh"), ("_kwh_per_m2", "kWh/m²"), ("_pct_per_h", "%/h"),
         ("_per_c", "1/°C"), ("_kwh_th", "kWh_th"), ("_kw_th", "kW_th"),
         ("_kwh_per_day", "kWh/day"),
         ("_kwh", "kWh"), ("_kwp", "kWp"), ("_kva", "kVA"), ("_kw", "kW"), ("_m_s", "m/s"),
         ("_m2", "m²"), ("_m", "m"), ("_deg", "°"), ("_c", "°C"), ("_pct", "%"), ("_h", "h"),
         ("_s", "s"), ("_minutes", "min"))
"""Field-name suffix → unit (names carry their units); checked longest first."""
_FRACTION_FIELDS = ("efficiency", "fraction", "soc_", "availability", "wake_losses",
                    "level_initial", "min_part_load", "mip_gap")


def field_unit(name: str) -> str:
    """The unit of a config field, from its name's suffix; '–' for counts, names, choices."""
    for suffix, unit in UNITS:
        if name.endswith(suffix):
            return unit
    if any(key in name for key in _FRACTION_FIELDS):
        return "fraction"
    return "–"


def _type_name(annotation: object) -> str:
    """A readable type: 'float', 'list[float]', 'float | None', "'ac' | 'dc'"."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (Union, UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(map(_type_name, args))}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _bounds(annotation: object, metadata: list) -> str:
    """The numeric range of a field (its own or its items'), e.g. '(0, 1]'; '' if none."""
    found = list(metadata)
    stack = [annotation]
    while stack:
        item = stack.pop()
        if get_origin(item) is Annotated:
            for meta in get_args(item)[1:]:
                found += getattr(meta, "metadata", [meta])
        stack += list(get_args(item))
    low = next((("[", m.ge) for m in found if isinstance(m, annotated_types.Ge)),
               next((("(", m.gt) for m in found if isinstance(m, annotated_types.Gt)), None))
    high = next((("]", m.le) for m in found if isinstance(m, annotated_types.Le)),
                next((("(", m.lt) for m in found if isinstance(m, annotated_types.Lt)), None))
    if low is None and high is None:
        return ""
    lo = f"{low[0]}{_number(low[1])}" if low else "(−∞"
    hi = f"{_number(high[1])}{')' if high[0] == '(' else ']'}" if high else "∞)"
    return f"{lo}, {hi}"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e7 else f"{value:g}"


def schema_markdown() -> str:
    """The config schema as Markdown: one table per section, generated from the models."""
    lines = ["# Park config schema", "",
             "Generated from `src/parkgrid/config.py` by `parkgrid schema`; do not edit.", "",
             "Numbers are strict: `true`/`false`, quoted numbers, `.inf` and `.nan` are refused; "
             "every number must lie in its range (`[` inclusive, `(` exclusive).", ""]
    seen: set[type] = set()
    queue: list[type[BaseModel]] = [Park]
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        lines += [f"## {model.__name__}", "", " ".join((model.__doc__ or "").split()), "",
                  "| field | type | unit | range | default | description |",
                  "|---|---|---|---|---|---|"]
        for name, info in model.model_fields.items():
            if info.exclude:
                continue
            value = None if info.is_required() else info.get_default(call_default_factory=True)
            default = ("required" if info.is_required() else "(section defaults)"
                       if isinstance(value, BaseModel) else repr(value))
            if len(default) > 40:
                default = default[:37] + "..."
            kind = _type_name(info.annotation).replace("|", "\\|")
            lines.append(f"| `{name}` | `{kind}` | {field_unit(name)} | "
                         f"{_bounds(info.annotation, info.metadata) or '–'} | {default} | "
                         f"{info.description or ''} |")
            queue += _nested_models(info.annotation)
        lines.append("")
    return "\n".join(lines)


def _nested_models(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _nested_models(arg)]
