"""The park config: pydantic models that are the documented schema, and the YAML loader.

Every field name carries its unit. Paths inside a config are relative to the config file
and are resolved by :func:`load_park`. Unknown keys are errors.
"""

from __future__ import annotations

import zoneinfo
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from parkgrid.errors import ConfigError

Bus = Literal["ac", "dc"]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Efficiency = Annotated[float, Field(gt=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
Hour = Annotated[float, Field(ge=0.0, le=24.0)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors, values are re-validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class DataFile(Strict):
    """A measured time series: CSV or Parquet with a timestamp column."""

    path: Path
    column: str | None = Field(None, description="value column; default: the only one")
    timestamp_column: str = "timestamp"
    scale: float = Field(1.0, description="multiplier applied to the values")
    fill: Literal["none", "interpolate", "zero"] = Field(
        "none", description="gap policy: 'none' reports gaps as errors"
    )


class Cost(Strict):
    """What an asset costs over its life (yuan, excl. VAT). ``size`` is the asset's own size
    field: kWp (PV), kW rated (wind: count × turbine), kWh (battery), kW_th (chiller),
    kWh_th (tank), kW (DC converter; chargers: count × power). docs/economics.md."""

    existing: bool = Field(False, description="already built: no initial capex (replacements, "
                           "O&M and residual value still counted)")
    capex_yuan_per_unit: NonNegFloat = Field(description="installed cost per unit of size")
    capex_yuan_per_kw: NonNegFloat = Field(
        0.0, description="battery: power part (PCS) per kW; tank: per kW_th of charge rate")
    capex_fixed_yuan: NonNegFloat = Field(0.0, description="size-independent part")
    om_yuan_per_unit_year: NonNegFloat = Field(description="fixed O&M per unit of size and year")
    lifetime_years: Annotated[int, Field(ge=1, le=100)] = Field(
        description="years of service; replaced at each multiple within the analysis period")
    replacement_cost_fraction: NonNegFloat = Field(
        1.0, description="each replacement (at every lifetime within the analysis period) "
        "costs this fraction of today's capex")
    degradation_pct_per_year: Annotated[float, Field(ge=0, lt=10)] = Field(
        0.0, description="PV / wind: output loss per year (applied to RE-driven savings)")


BASELINE_WITHOUT = {"grid_only": ("pv", "wind", "batteries", "tank"),
                    "re_no_storage": ("batteries", "tank")}
"""The asset kinds each economics baseline runs without (the investment judged)."""


class Economics(Strict):
    """Lifecycle economics of the park against a baseline (docs/economics.md)."""

    analysis_years: Annotated[int, Field(ge=1, le=60)] = Field(
        description="years of the cash flow (year 0 = investment)")
    discount_rate: Annotated[float, Field(ge=0, lt=1)] = Field(
        description="nominal, per year (0.07 = 7 %)")
    electricity_escalation: Annotated[float, Field(gt=-0.5, lt=1)] = Field(
        0.0, description="energy, demand and export prices, per year")
    om_escalation: Annotated[float, Field(gt=-0.5, lt=1)] = Field(0.0, description="per year")
    carbon_price_yuan_per_t: NonNegFloat | None = Field(
        None, description="value of avoided CO2; default: emissions.carbon_price_yuan_per_t")
    baseline: Literal["grid_only", "re_no_storage"] = Field(
        "grid_only", description="what the investment is judged against: 'grid_only' (the "
        "park without PV, wind and storage) or 're_no_storage' (without storage)")


class Site(Strict):
    """Where the park is: coordinates and the IANA time zone of its local time."""

    latitude_deg: Annotated[float, Field(ge=-90, le=90)]
    longitude_deg: Annotated[float, Field(ge=-180, le=180)]
    altitude_m: float = 0.0
    timezone: str = "Asia/Shanghai"

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

    source: Literal["synthetic", "epw", "tmy3", "csv"] = "synthetic"
    climate: Path | None = Field(None, description="monthly statistics (synthetic source)")
    path: Path | None = Field(None, description="weather file (epw/tmy3/csv source)")
    seed: int = 0
    wind_speed_scale: PositiveFloat = Field(
        1.0, description="multiplier on the reference-height wind speed (site vs station)"
    )
    wind_reference_height_m: PositiveFloat = 10.0
    roughness_length_m: PositiveFloat = 0.1
    target_mean_wind_speed_m_s: PositiveFloat | None = Field(
        None, description="calibration: scale the wind so its mean over the year is this "
        "(measured or published) speed at target_height_m; the scale found is reported")
    target_height_m: PositiveFloat | None = Field(
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

    name: Name
    capacity_kwp: PositiveFloat
    tilt_deg: Annotated[float, Field(ge=0, le=90)] = 20.0
    azimuth_deg: Annotated[float, Field(ge=0, lt=360)] = 180.0
    bus: Bus = "ac"
    model: Literal["pvwatts", "cec"] = "pvwatts"
    losses_pct: Annotated[float, Field(ge=0, lt=100)] = 14.0
    temperature_coefficient_per_c: float = -0.0035
    dc_ac_ratio: PositiveFloat = 1.1
    converter_efficiency: Efficiency = Field(
        0.97, description="inverter (AC bus) or DC/DC converter (DC bus) efficiency"
    )
    module: str | None = Field(None, description="CEC module name (model 'cec')")
    inverter: str | None = Field(None, description="CEC inverter name (model 'cec')")
    profile: DataFile | None = Field(None, description="measured output instead of the model")
    cost: Cost | None = None
    annual_energy_kwh: PositiveFloat | None = Field(
        None, description="calibration: published or measured yield per year; the "
        "irradiance this array sees is scaled to meet it (scale reported)")

    @model_validator(mode="after")
    def _cec_needs_parts(self) -> PVArray:
        if self.model == "cec" and self.profile is None and not (self.module and self.inverter):
            raise ValueError("model 'cec' needs 'module' and 'inverter' (CEC database names)")
        if self.annual_energy_kwh is not None and self.profile is not None:
            raise ValueError("'annual_energy_kwh' calibrates the model; a measured 'profile' "
                             "is used as it is: give one of them")
        return self


class PowerCurve(Strict):
    """A power curve as a table, or from cut-in / rated / cut-out speeds."""

    wind_speed_m_s: list[NonNegFloat] | None = None
    power_kw: list[NonNegFloat] | None = None
    cut_in_m_s: PositiveFloat | None = None
    rated_m_s: PositiveFloat | None = None
    cut_out_m_s: PositiveFloat | None = None

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
    rated_kw: PositiveFloat | None = None
    rotor_diameter_m: PositiveFloat | None = None
    power_curve: PowerCurve | None = None

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

    name: Name
    turbine: Turbine
    count: Annotated[int, Field(ge=1)] = 1
    hub_height_m: PositiveFloat
    wind_profile: Literal["logarithmic", "hellman"] = "logarithmic"
    hellman_exponent: PositiveFloat | None = None
    availability: Fraction = 0.97
    wake_losses: Fraction = 0.05
    profile: DataFile | None = None
    cost: Cost | None = None
    annual_energy_kwh: PositiveFloat | None = Field(
        None, description="calibration: published or measured yield per year; the wind "
        "speed this farm sees is scaled before the power curve to meet it (scale reported)")

    @model_validator(mode="after")
    def _target_or_profile(self) -> WindFarm:
        if self.annual_energy_kwh is not None and self.profile is not None:
            raise ValueError("'annual_energy_kwh' calibrates the model; a measured 'profile' "
                             "is used as it is: give one of them")
        return self


class EndSoc(Strict):
    """End-of-horizon storage rule. 'initial': end at least at the initial level;
    'fraction': at least ``fraction`` of capacity; 'free': no target; 'value': no target, and
    every kWh (kWh_th for a tank) left at the end is worth ``value_yuan_per_kwh`` — by default
    what refilling it would cost: the horizon's lowest import price over the efficiency from
    the grid to the store (charge and AC/DC converter efficiency for a battery, the best
    chiller COP for a tank)."""

    rule: Literal["initial", "free", "fraction", "value"] = "value"
    fraction: Fraction | None = None
    value_yuan_per_kwh: NonNegFloat | None = None

    @model_validator(mode="after")
    def _value_with_rule(self) -> EndSoc:
        if self.value_yuan_per_kwh is not None and self.rule != "value":
            raise ValueError("'value_yuan_per_kwh' needs rule: value")
        if self.rule == "fraction" and self.fraction is None:
            raise ValueError("rule: fraction needs 'fraction'")
        return self


class Battery(Strict):
    """A battery; efficiencies are one-way (round trip = charge × discharge)."""

    name: Name
    bus: Bus = "ac"
    power_kw: PositiveFloat
    energy_kwh: PositiveFloat
    charge_efficiency: Efficiency = 0.94
    discharge_efficiency: Efficiency = 0.94
    soc_min: Fraction = 0.10
    soc_max: Fraction = 0.95
    soc_initial: Fraction = 0.5
    end_soc: EndSoc = EndSoc()
    self_discharge_pct_per_h: Annotated[float, Field(ge=0, lt=10)] = 0.01
    degradation_cost_yuan_per_kwh: NonNegFloat = 0.15
    cost: Cost | None = None

    @model_validator(mode="after")
    def _window(self) -> Battery:
        if not self.soc_min < self.soc_max:
            raise ValueError(f"need soc_min < soc_max, got {self.soc_min} ≥ {self.soc_max}")
        if not self.soc_min <= self.soc_initial <= self.soc_max:
            raise ValueError("soc_initial must lie within [soc_min, soc_max]")
        return self


class CopCurve(Strict):
    """COP at each load fraction (linear interpolation between points)."""

    load_fraction: list[Annotated[float, Field(gt=0, le=1)]]
    cop: list[PositiveFloat]

    @model_validator(mode="after")
    def _same_length(self) -> CopCurve:
        if len(self.load_fraction) != len(self.cop) or len(self.cop) < 2:
            raise ValueError("'load_fraction' and 'cop' need the same length (≥ 2)")
        if any(b <= a for a, b in pairwise(self.load_fraction)):
            raise ValueError("'load_fraction' must be strictly increasing")
        return self


class Chiller(Strict):
    """An electric chiller: electricity = cooling / COP."""

    name: Name
    capacity_kw_th: PositiveFloat
    cop: PositiveFloat | None = Field(None, description="constant COP")
    cop_curve: CopCurve | None = None
    min_part_load: Fraction = 0.0
    bus: Bus = "ac"
    cost: Cost | None = None

    @model_validator(mode="after")
    def _one_cop(self) -> Chiller:
        if (self.cop is None) == (self.cop_curve is None):
            raise ValueError("give exactly one of 'cop' and 'cop_curve'")
        return self


class Tank(Strict):
    """A chilled-water storage tank."""

    capacity_kwh_th: PositiveFloat
    max_charge_kw_th: PositiveFloat
    max_discharge_kw_th: PositiveFloat
    standing_loss_pct_per_h: Annotated[float, Field(ge=0, lt=10)] = 0.08
    level_initial: Fraction = 0.0
    end_level: EndSoc = EndSoc()
    cost: Cost | None = None


class CoolingLoadModel(Strict):
    """Cooling demand from outdoor temperature and a schedule (degree-hour model)."""

    peak_kw_th: PositiveFloat
    balance_temp_c: float = 18.0
    design_temp_c: float = 35.0
    schedule: Literal["industrial", "office", "continuous"] = "industrial"
    base_fraction: Fraction = Field(0.1, description="process cooling share at any temperature")
    off_hours_fraction: Fraction = 0.3


class Cooling(Strict):
    """The cooling plant: demand (model or file), chillers and an optional tank."""

    load: CoolingLoadModel | None = None
    profile: DataFile | None = None
    chillers: list[Chiller] = Field(min_length=1)
    tank: Tank | None = None

    @model_validator(mode="after")
    def _load_source(self) -> Cooling:
        if (self.load is None) == (self.profile is None):
            raise ValueError("give exactly one of 'load' (a model) and 'profile' (a file)")
        return self


class DCBus(Strict):
    """The DC bus and its bidirectional AC/DC converter."""

    converter_kw: PositiveFloat
    converter_efficiency: Efficiency = 0.97
    cost: Cost | None = None


class Buses(Strict):
    """Buses besides the AC bus (always present)."""

    dc: DCBus | None = None


class SyntheticLoad(Strict):
    """A synthetic load shape scaled to an annual energy."""

    shape: Literal["industrial", "office"]
    annual_kwh: PositiveFloat | None = None
    intensity_kwh_per_m2: PositiveFloat | None = None
    floor_area_m2: PositiveFloat | None = None
    shifts: Annotated[int, Field(ge=1, le=3)] = 2
    seed: int = 0

    @model_validator(mode="after")
    def _one_scale(self) -> SyntheticLoad:
        by_area = self.intensity_kwh_per_m2 is not None and self.floor_area_m2 is not None
        if (self.annual_kwh is not None) == by_area:
            raise ValueError(
                "scale by exactly one of 'annual_kwh' or "
                "'intensity_kwh_per_m2' × 'floor_area_m2'"
            )
        return self

    @property
    def target_annual_kwh(self) -> float:
        if self.annual_kwh is not None:
            return self.annual_kwh
        return self.intensity_kwh_per_m2 * self.floor_area_m2  # type: ignore[operator]


class Load(Strict):
    """An inflexible electric load: a synthetic shape or a measured profile."""

    name: Name
    bus: Bus = "ac"
    synthetic: SyntheticLoad | None = None
    profile: DataFile | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Load:
        if (self.synthetic is None) == (self.profile is None):
            raise ValueError("give exactly one of 'synthetic' and 'profile'")
        return self


class Charger(Strict):
    """A group of identical EV charging piles."""

    name: Name
    kind: Literal["fast_dc", "slow_ac"]
    count: Annotated[int, Field(ge=1)] = 1
    power_kw: PositiveFloat
    efficiency: Efficiency = 0.95
    bus: Bus = "dc"
    cost: Cost | None = None


class EVSessionModel(Strict):
    """Seeded session generator: per charger kind, sessions per pile and day."""

    seed: int = 0
    sessions_per_pile_workday: dict[str, NonNegFloat] = {"fast_dc": 3.0, "slow_ac": 1.0}
    sessions_per_pile_weekend: dict[str, NonNegFloat] = {"fast_dc": 1.5, "slow_ac": 0.4}
    mean_energy_kwh: dict[str, PositiveFloat] = {"fast_dc": 35.0, "slow_ac": 20.0}


class EV(Strict):
    """EV charging: piles and sessions (a file or the seeded generator)."""

    chargers: list[Charger] = Field(min_length=1)
    sessions: DataFile | None = Field(
        None, description="CSV: arrival, departure, energy_kwh, charger"
    )
    generator: EVSessionModel | None = None

    @model_validator(mode="after")
    def _one_source(self) -> EV:
        if (self.sessions is None) == (self.generator is None):
            raise ValueError("give exactly one of 'sessions' (a file) and 'generator'")
        return self


class DeferrableLoad(Strict):
    """Energy that must be delivered within a daily window, at up to max_kw."""

    name: Name
    bus: Bus = "ac"
    energy_kwh_per_day: PositiveFloat
    max_kw: PositiveFloat
    window_start_h: Hour = 0.0
    window_end_h: Hour = 24.0
    workdays_only: bool = False

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

    import_limit_kw: PositiveFloat
    export_limit_kw: NonNegFloat = 0.0


class DemandCharge(Strict):
    """Maximum-demand (monthly peak of 15-min import), capacity, or declared demand."""

    kind: Literal["max_demand", "capacity", "declared", "none"] = "max_demand"
    rate_yuan_per_kw_month: NonNegFloat = 0.0
    capacity_kva: PositiveFloat | None = None
    rate_yuan_per_kva_month: NonNegFloat = 0.0
    declared_kw: PositiveFloat | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> DemandCharge:
        if self.kind == "capacity" and self.capacity_kva is None:
            raise ValueError("kind 'capacity' needs 'capacity_kva'")
        if self.kind == "declared" and self.declared_kw is None:
            raise ValueError("kind 'declared' needs 'declared_kw'")
        return self


class Tariff(Strict):
    """TOU energy prices, export price and the demand charge."""

    calendar: str = Field(
        description="built-in calendar name (zhejiang_2024, zhejiang_2026, guangdong) "
        "or a YAML calendar file"
    )
    prices_yuan_per_kwh: dict[
        Literal["sharp", "peak", "flat", "valley", "deep_valley"], NonNegFloat
    ] | None = Field(None, description="price per TOU period; default: the calendar's")
    export_price_yuan_per_kwh: NonNegFloat = 0.0
    demand: DemandCharge = DemandCharge()


class Emissions(Strict):
    """Grid CO2 factor (flat or hourly) and the carbon price used for reporting."""

    grid_factor_t_per_mwh: NonNegFloat | None = None
    profile: DataFile | None = Field(None, description="hourly factor, tCO2/MWh")
    carbon_price_yuan_per_t: NonNegFloat = 0.0
    coal_gce_per_kwh: PositiveFloat = Field(
        300.0, description="tce convention for electricity (300 supply; 122.9 calorific)"
    )

    @model_validator(mode="after")
    def _one_factor(self) -> Emissions:
        if (self.grid_factor_t_per_mwh is None) == (self.profile is None):
            raise ValueError("give exactly one of 'grid_factor_t_per_mwh' and 'profile'")
        return self


ROLLOUT_HORIZON_H = (24, 168)
"""The shortest and longest horizon of a rollout's daily plans, hours."""


class Objective(Strict):
    """Optimizer settings: penalties, carbon price in the objective, solver limits."""

    carbon_price_in_objective: bool = False
    unserved_penalty_yuan_per_kwh: PositiveFloat = Field(
        1000.0, description="a slack, not a VOLL: above any demand-charge increment per kWh"
    )
    ev_unmet_penalty_yuan_per_kwh: PositiveFloat = 50.0
    time_limit_s: PositiveFloat = 10.0
    mip_gap: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.001, description="a plan is optimal within mip_gap × the larger of |objective| and "
        "the horizon's gross cost (docs/schedule.md)")
    rollout_mip_gap: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.005, description="gap of the daily plans in a rollout (`parkgrid run`): a Haiyan "
        "year with perfect forecasts costs the same as at 0.1 % (±0.04 %) in a third of the "
        "time")
    rollout_horizon_h: Annotated[int, Field(ge=ROLLOUT_HORIZON_H[0],
                                            le=ROLLOUT_HORIZON_H[1])] = Field(
        24, description="hours each daily plan of a rollout covers from midnight (forecasts "
        "issued 12:00 the day before); only the first 24 h are applied — a longer horizon "
        "looks ahead at tomorrow's prices and weather")
    bound_time_limit_s: PositiveFloat = Field(
        600.0, description="limit of each month's solve of the perfect-foresight bound "
        "(a Haiyan month's LP takes ~5 s)")


class Park(Strict):
    """A whole park: the root of the config file."""

    name: str
    description: str = ""
    site: Site
    year: Annotated[int, Field(ge=1990, le=2100)] = 2025
    time_step_minutes: Literal[5, 10, 15, 20, 30, 60] = 15
    weather: Weather
    pv: list[PVArray] = []
    wind: list[WindFarm] = []
    batteries: list[Battery] = []
    cooling: Cooling | None = None
    buses: Buses = Buses()
    loads: list[Load] = Field(min_length=1)
    ev: EV | None = None
    deferrable: list[DeferrableLoad] = []
    grid: Grid
    tariff: Tariff
    emissions: Emissions
    objective: Objective = Objective()
    economics: Economics | None = Field(None, description="lifecycle economics; none: "
                                        "kpis.json has no economics section")
    source_file: Path | None = Field(None, exclude=True, description="set by load_park")

    @model_validator(mode="after")
    def _consistent(self) -> Park:
        names = [a.name for group in (self.pv, self.wind, self.batteries, self.loads,
                                      self.deferrable) for a in group]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"asset names must be unique, repeated: {', '.join(dupes)}")
        if self.buses.dc is None:
            on_dc = [a.name for a in self.dc_assets()]
            if on_dc:
                raise ValueError(
                    f"assets on bus 'dc' ({', '.join(on_dc)}) need 'buses.dc' "
                    "(converter_kw, converter_efficiency)"
                )
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


def read_yaml(path: Path | str) -> object:
    """A YAML file's document; ConfigError naming the file (and the line) when it cannot be
    read or parsed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [f"cannot read the file: {exc.strerror}"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", exc)
        raise ConfigError(path, [f"{where}not valid YAML ({problem})"]) from None


def load_park(path: Path | str) -> Park:
    """Read and validate a park YAML file."""
    return parse_park(read_yaml(path), Path(path))


def _type_name(annotation: object) -> str:
    text = repr(annotation) if not isinstance(annotation, type) else annotation.__name__
    for noise in ("typing.", "pathlib.", "parkgrid.config.", "Annotated[", "NoneType"):
        text = text.replace(noise, "" if noise != "NoneType" else "None")
    return text.split(", FieldInfo")[0].split(", Ge(")[0].split(", Gt(")[0]


def schema_markdown() -> str:
    """The config schema as Markdown: one table per section, generated from the models."""
    lines = ["# Park config schema", "",
             "Generated from `src/parkgrid/config.py` by `parkgrid schema`; do not edit.", ""]
    seen: set[type] = set()
    queue: list[type[BaseModel]] = [Park]
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        lines += [f"## {model.__name__}", "", (model.__doc__ or "").strip().splitlines()[0]
                  if model.__doc__ else "", "",
                  "| field | type | default | description |", "|---|---|---|---|"]
        for name, info in model.model_fields.items():
            if info.exclude:
                continue
            value = None if info.is_required() else info.get_default(call_default_factory=True)
            default = ("required" if info.is_required() else "(section defaults)"
                       if isinstance(value, BaseModel) else repr(value))
            if len(default) > 40:
                default = default[:37] + "..."
            lines.append(f"| `{name}` | `{_type_name(info.annotation)}` | {default} | "
                         f"{info.description or ''} |")
            queue += _nested_models(info.annotation)
        lines.append("")
    return "\n".join(lines)


def _nested_models(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _nested_models(arg)]
