"""Wind output per farm: windpowerlib turbine power curve at hub height, density-corrected, in kW.

The reference-height wind is carried to hub height by the logarithmic or Hellman law, air
density at hub height comes from the barometric formula (temperature at 2 m, pressure at
the ground), and the power curve is density-corrected. A farm is ``count`` identical
turbines, then × availability × (1 − wake losses).

Calibration (``annual_energy_kwh``): the wind speed the farm sees is scaled — before the
hub-height law and the power curve, so the curve's shape, rated power and cut-out still
act — until the farm's energy meets the target (:mod:`parkgrid.inputs.calibration`; both height
laws are linear in the speed, so the hub speed scales the same). The exact model's
density-corrected curve takes ~0.4 s a year at 15 min; the root find runs on the curve
without density correction (milliseconds) and corrects by the exact model, usually twice; a
later build of the same farm and weather in the process reuses the scale.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import windpowerlib
import windpowerlib.power_output
from windpowerlib import ModelChain, WindTurbine

from parkgrid.config import Park, PowerCurve, Turbine, WindFarm
from parkgrid.errors import ConfigError
from parkgrid.inputs.calibration import fingerprint, period_target_kwh, resource_scale
from parkgrid.inputs.weather import check_columns

WEATHER_COLUMNS = ["wind_speed", "temp_air", "pressure"]
TEMPERATURE_HEIGHT_M = 2.0
OEDB_DIR = Path(windpowerlib.__file__).parent / "oedb"
CUBIC_STEP_M_S = 0.1  # sampling of a cut-in/rated/cut-out curve (interpolated linearly)
CUT_OUT_DROP_M_S = 0.01  # the curve falls to 0 this far above cut-out


def farm_output_kw(farm: WindFarm, park: Park, weather: pd.DataFrame,
                   scale: float | None = None) -> pd.Series:
    """Power the farm delivers to the AC bus at each step of ``weather``, kW (≥ 0).

    Returns a Series named ``wind_kw_<name>`` on the weather's index; a measured profile
    (``farm.profile``) replaces the model.
    """
    return farm_output(farm, park, weather, scale)[0]


def farm_output(farm: WindFarm, park: Park, weather: pd.DataFrame,
                scale: float | None = None) -> tuple[pd.Series, float | None]:
    """:func:`farm_output_kw` and the wind-speed scale its calibration found (None when the
    farm has no ``annual_energy_kwh``). A given ``scale`` (e.g. the calibration of the park's
    year, for forecast weather) is applied as it is, without calibrating to ``weather``."""
    name = f"wind_kw_{farm.name}"
    if farm.profile is not None:
        from parkgrid.inputs.timeseries import read_profile

        return read_profile(farm.profile, park, weather.index, f"wind '{farm.name}'", "kW",
                            farm_capacity_kw(farm, park)).rename(name), None
    check_columns(weather, WEATHER_COLUMNS, "wind")
    turbine = _turbine(farm, park)
    chain = ModelChain(
        turbine, wind_speed_model=farm.wind_profile, density_model="barometric",
        temperature_model="linear_gradient", power_output_model="power_curve",
        density_correction=True, hellman_exp=farm.hellman_exponent,
    )
    data = windpowerlib_weather(weather, park)
    with _quiet():
        wind_hub_m_s = np.asarray(chain.wind_speed_hub(data), dtype=float)
        density_kg_m3 = np.asarray(chain.density_hub(data), dtype=float)
    factor = farm.count * farm.availability * (1.0 - farm.wake_losses) / 1000.0
    cut_out = cut_out_m_s(turbine)

    def power_kw(scale: float, density: np.ndarray | None = density_kg_m3) -> np.ndarray:
        hub_m_s = wind_hub_m_s * scale
        with _quiet():
            if density is None:  # the calibration's fast surrogate
                curve = turbine.power_curve
                power_w = windpowerlib.power_output.power_curve(
                    hub_m_s, curve["wind_speed"].to_numpy(), curve["value"].to_numpy())
            else:
                power_w = chain.calculate_power_output(hub_m_s, density)
        # The controller cuts out on the actual wind speed, whatever the density correction
        # does to the curve's speeds.
        power_w = np.where(hub_m_s > cut_out, 0.0, np.asarray(power_w, dtype=float))
        return np.clip(power_w, 0.0, None) * factor

    if farm.annual_energy_kwh is None or scale is not None:
        return pd.Series(power_kw(1.0 if scale is None else scale), index=weather.index,
                         name=name), scale
    step_h = park.step_h
    target_kwh = period_target_kwh(farm.annual_energy_kwh, weather.index, step_h)
    rated_kw = float(turbine.nominal_power) / 1000.0
    hours = len(weather) * step_h
    scale, out_kw = resource_scale(
        lambda s: _energy(power_kw(s), step_h),
        lambda s: _energy(power_kw(s, None), step_h)[0],
        target_kwh, park.source_file or "<memory>", f"{_field(farm, park)}.annual_energy_kwh",
        ceiling=f"rated {farm.count} × {rated_kw:,.0f} kW × {hours:,.0f} h × availability "
                f"× (1 − wake losses) = {rated_kw * 1000.0 * factor * hours:,.0f} kWh",
        key=fingerprint("wind", farm.model_dump_json(), park.weather.model_dump_json(),
                        step_h, data.to_numpy(dtype=float)),
    )
    return pd.Series(out_kw, index=weather.index, name=name), scale


def _energy(power_kw: np.ndarray, step_h: float) -> tuple[float, np.ndarray]:
    return float(power_kw.sum() * step_h), power_kw


def windpowerlib_weather(weather: pd.DataFrame, park: Park) -> pd.DataFrame:
    """The park weather in windpowerlib's (variable, height) layout, SI units."""
    n = len(weather)
    return pd.DataFrame(
        {
            ("wind_speed", park.weather.wind_reference_height_m): weather["wind_speed"].to_numpy(),
            ("temperature", TEMPERATURE_HEIGHT_M): weather["temp_air"].to_numpy() + 273.15,
            ("pressure", 0.0): weather["pressure"].to_numpy(),
            ("roughness_length", 0.0): np.full(n, park.weather.roughness_length_m),
        },
        index=weather.index,
    )


def cut_out_m_s(turbine: WindTurbine) -> float:
    """The highest wind speed at which the turbine's power curve is above zero, m/s."""
    curve = turbine.power_curve
    return float(curve.loc[curve["value"] > 0, "wind_speed"].max())


def farm_capacity_kw(farm: WindFarm, park: Park) -> float:
    """Nameplate capacity of the farm (count × turbine nominal power), kW."""
    return farm.count * float(_turbine(farm, park).nominal_power) / 1000.0


def curve_from_speeds(spec: PowerCurve, rated_kw: float) -> pd.DataFrame:
    """A power curve (wind_speed m/s, value W): cubic from cut-in to rated, flat to cut-out.

    ``P = rated · (v³ − v_in³) / (v_rated³ − v_in³)``; an explicit drop to 0 just above
    cut-out, because windpowerlib interpolates a curve linearly.
    """
    cut_in, rated, cut_out = spec.cut_in_m_s, spec.rated_m_s, spec.cut_out_m_s
    n = int(np.ceil((rated - cut_in) / CUBIC_STEP_M_S)) + 1
    ramp = np.linspace(cut_in, rated, n)
    ramp_kw = rated_kw * (ramp**3 - cut_in**3) / (rated**3 - cut_in**3)
    speeds = np.concatenate([[0.0], ramp, [cut_out, cut_out + CUT_OUT_DROP_M_S]])
    power_kw = np.concatenate([[0.0], ramp_kw, [rated_kw, 0.0]])
    return pd.DataFrame({"wind_speed": speeds, "value": power_kw * 1000.0})


def _field(farm: WindFarm, park: Park) -> str:
    """The farm's place in the config, e.g. 'wind.0'."""
    return f"wind.{next((i for i, f in enumerate(park.wind) if f.name == farm.name), 0)}"


def _turbine(farm: WindFarm, park: Park) -> WindTurbine:
    field = _field(farm, park)
    source = park.source_file or "<memory>"
    spec = farm.turbine
    if spec.oedb_type is not None and spec.oedb_type not in oedb_turbine_types():
        close = difflib.get_close_matches(spec.oedb_type, oedb_turbine_types(), n=5, cutoff=0.5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise ConfigError(source, [
            f"{field}.turbine.oedb_type: unknown OEDB turbine {spec.oedb_type!r}{hint}"
        ])
    try:
        return _cached_turbine(spec.model_dump_json(), farm.hub_height_m)
    except ValueError:  # windpowerlib: the hub is not above half the rotor diameter
        raise ConfigError(source, [
            f"{field}.hub_height_m: got {farm.hub_height_m}; expected more than half the "
            "rotor diameter"
        ]) from None


@lru_cache(maxsize=32)
def _cached_turbine(spec_json: str, hub_height_m: float) -> WindTurbine:
    spec = Turbine.model_validate_json(spec_json)
    with _quiet():
        if spec.oedb_type is not None:
            return WindTurbine(hub_height=hub_height_m, turbine_type=spec.oedb_type)
        curve = spec.power_curve
        if curve is not None and curve.wind_speed_m_s is not None:
            table = pd.DataFrame({"wind_speed": curve.wind_speed_m_s,
                                  "value": np.asarray(curve.power_kw) * 1000.0})
        else:
            table = curve_from_speeds(curve, spec.rated_kw)
        return WindTurbine(
            hub_height=hub_height_m, nominal_power=spec.rated_kw * 1000.0,
            rotor_diameter=spec.rotor_diameter_m, power_curve=table, path=None,
        )


@lru_cache(maxsize=1)
def oedb_turbine_types() -> list[str]:
    """Turbine types with a power curve in windpowerlib's bundled OEDB library."""
    return pd.read_csv(OEDB_DIR / "power_curves.csv", usecols=[0]).iloc[:, 0].tolist()


def _not_windpowerlib(record: logging.LogRecord) -> bool:
    return "windpowerlib" not in record.pathname


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep windpowerlib quiet: no Pandas4Warning, no root-logger debug lines, and no
    ``logging.basicConfig`` side effect from its module-level ``logging.debug`` calls."""
    root = logging.getLogger()
    guard = None if root.handlers else logging.NullHandler()
    if guard is not None:
        root.addHandler(guard)
    root.addFilter(_not_windpowerlib)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
            yield
    finally:
        root.removeFilter(_not_windpowerlib)
        if guard is not None:
            root.removeHandler(guard)
