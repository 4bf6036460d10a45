"""PV output per array: pvlib ModelChain (PVWatts or CEC) from the park's weather, in kW at the bus.

The weather frame's values are interval means labelled at the interval start, so the sun is
placed at the interval midpoint. An array on the AC bus feeds an inverter: PVWatts with
``eta_inv_nom = converter_efficiency``, or for model 'cec' the CEC inverter's own Sandia
curve. An array on the DC bus feeds a DC/DC converter with a flat ``converter_efficiency``.
Either way the output is capped at capacity / dc_ac_ratio.

Calibration (``annual_energy_kwh``): the irradiance the array sees (GHI, DNI and DHI alike)
is scaled — before pvlib, so temperature, inverter efficiency and clipping still act — until
the array's energy meets the target (:mod:`parkgrid.inputs.calibration`, with the output's
proportional estimate as the surrogate); each pvlib run of a year at 15 min takes ~0.5 s,
and a calibration takes three or four (a later build of the same array and weather in the
process reuses the scale: one run).
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import math
import warnings
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
import pandas as pd
import pvlib
from pvlib.location import Location
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import PVSystem
from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

from parkgrid.config import Park, PVArray
from parkgrid.errors import ConfigError
from parkgrid.inputs.calibration import fingerprint, period_target_kwh, resource_scale
from parkgrid.inputs.weather import IRRADIANCE, check_columns

WEATHER_COLUMNS = ["ghi", "dni", "dhi", "temp_air", "wind_speed"]
# Fixed racks over a roof: open-rack SAPM temperature coefficients, glass/polymer modules.
TEMPERATURE_PARAMETERS = TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
_SAM_BAD_CHARS = str.maketrans(' -.()[]:+/",', "_" * 12)


def array_output_kw(array: PVArray, park: Park, weather: pd.DataFrame,
                    scale: float | None = None) -> pd.Series:
    """Power delivered by ``array`` to its bus at each step of ``weather``, kW (≥ 0).

    Returns a Series named ``pv_kw_<name>`` on the weather's index; a measured profile
    (``array.profile``) replaces the model. ``scale``: see :func:`array_output`.
    """
    return array_output(array, park, weather, scale)[0]


def array_output(array: PVArray, park: Park, weather: pd.DataFrame,
                 scale: float | None = None) -> tuple[pd.Series, float | None]:
    """:func:`array_output_kw` and the irradiance scale its calibration found (None when the
    array has no ``annual_energy_kwh``). A given ``scale`` (e.g. the calibration of the park's
    year, for forecast weather) is applied as it is, without calibrating to ``weather``."""
    name = f"pv_kw_{array.name}"
    if array.profile is not None:
        from parkgrid.inputs.timeseries import read_profile

        return read_profile(array.profile, park, weather.index, f"pv '{array.name}'",
                            "kW", array.capacity_kwp).rename(name), None
    check_columns(weather, WEATHER_COLUMNS, "PV")
    if array.annual_energy_kwh is None or scale is not None:
        scaled = weather if scale is None else \
            weather.assign(**{c: weather[c] * scale for c in IRRADIANCE})
        return pd.Series(_power_kw(array, park, scaled), index=weather.index, name=name), scale
    step_h = park.step_h

    def exact(scale: float) -> tuple[float, np.ndarray]:
        scaled = weather.assign(**{c: weather[c] * scale for c in IRRADIANCE})
        power_kw = _power_kw(array, park, scaled)
        return float(power_kw.sum() * step_h), power_kw

    @functools.cache
    def unscaled_kwh() -> float:  # the surrogate's slope, run only when the scale is sought
        return exact(1.0)[0]

    columns = [c for c in (*WEATHER_COLUMNS, "pressure") if c in weather]
    lit_h = float((weather["ghi"] > 0.0).sum() * step_h)
    limit_kw = array.capacity_kwp / array.dc_ac_ratio
    index = next((i for i, a in enumerate(park.pv) if a.name == array.name), 0)
    scale, power_kw = resource_scale(
        exact, lambda s: s * unscaled_kwh(),
        period_target_kwh(array.annual_energy_kwh, weather.index, step_h),
        park.source_file or "<memory>", f"pv.{index}.annual_energy_kwh",
        ceiling=f"AC limit {limit_kw:,.0f} kW × {lit_h:,.0f} daylight h = "
                f"{limit_kw * lit_h:,.0f} kWh",
        key=fingerprint("pv", array.model_dump_json(), park.site.model_dump_json(), step_h,
                        weather.index.asi8, weather[columns].to_numpy(dtype=float)),
    )
    return pd.Series(power_kw, index=weather.index, name=name), scale


def _power_kw(array: PVArray, park: Park, weather: pd.DataFrame) -> np.ndarray:
    """The pvlib model's power at the array's bus, kW (see the module docstring)."""
    ac_limit_w = array.capacity_kwp * 1000.0 / array.dc_ac_ratio
    system, inverters = _system(array, park, ac_limit_w)
    if array.bus == "dc":
        ac_model = _dc_converter(array.converter_efficiency, ac_limit_w / inverters)
    else:
        ac_model = "sandia" if array.model == "cec" else "pvwatts"
    chain = ModelChain(
        system, _location(park), aoi_model="physical", spectral_model="no_loss",
        temperature_model="sapm", losses_model=_dc_losses(array.losses_pct), ac_model=ac_model,
    )
    # Only lit steps are modelled (night output is 0), which halves the run time.
    lit = (weather["ghi"] > 0.0).to_numpy()
    half_step = pd.Timedelta(minutes=park.time_step_minutes / 2)
    columns = WEATHER_COLUMNS + (["pressure"] if "pressure" in weather else [])  # refraction
    midpoint_weather = weather.loc[lit, columns].set_axis(weather.index[lit] + half_step)
    power_kw = np.zeros(len(weather))
    if lit.any():
        with _quiet():
            chain.run_model(midpoint_weather)
        power_w = _ac_power_w(chain.results.ac) * inverters
        power_kw[lit] = np.clip(np.nan_to_num(power_w, nan=0.0) / 1000.0, 0.0, ac_limit_w / 1000.0)
    return power_kw


def _location(park: Park) -> Location:
    site = park.site
    return Location(site.latitude_deg, site.longitude_deg, site.timezone, site.altitude_m)


def _system(array: PVArray, park: Park, ac_limit_w: float) -> tuple[PVSystem, int]:
    """A PVSystem for one inverter's share of the array, and the number of inverters."""
    common = dict(
        surface_tilt=array.tilt_deg, surface_azimuth=array.azimuth_deg,
        temperature_model_parameters=TEMPERATURE_PARAMETERS,
    )
    if array.model == "pvwatts":
        eta = array.converter_efficiency
        return PVSystem(
            module_parameters={"pdc0": array.capacity_kwp * 1000.0,
                               "gamma_pdc": array.temperature_coefficient_per_c},
            # pvlib's PVWatts inverter caps AC at eta_inv_nom × pdc0.
            inverter_parameters={"pdc0": ac_limit_w / eta, "eta_inv_nom": eta},
            **common,
        ), 1
    module, inverter = _cec_parts(array, park)
    per_string = _modules_per_string(module, inverter)
    inverters = max(1, round(ac_limit_w / inverter["Paco"]))
    # Strings per inverter may be fractional: the mean over the array, so the DC rating
    # equals capacity_kwp exactly.
    strings = array.capacity_kwp * 1000.0 / inverters / (per_string * module["STC"])
    system = PVSystem(
        module_parameters=module.to_dict(), inverter_parameters=inverter.to_dict(),
        modules_per_string=per_string, strings_per_inverter=strings, **common,
    )
    return system, inverters


def _dc_losses(losses_pct: float):
    """A ModelChain losses model: PVWatts-style system losses on DC power (and current)."""
    factor = 1.0 - losses_pct / 100.0

    def apply(chain: ModelChain) -> None:
        dc = chain.results.dc
        if isinstance(dc, pd.DataFrame):  # single-diode result: scale current, keep voltage
            dc = dc.assign(i_mp=dc["i_mp"] * factor, p_mp=dc["p_mp"] * factor)
        else:
            dc = dc * factor
        chain.results.dc = dc
        chain.results.losses = factor

    return apply


def _dc_converter(efficiency: float, limit_w: float):
    """A ModelChain AC model for the DC bus: flat DC/DC efficiency, capped at the rating."""

    def apply(chain: ModelChain) -> None:
        dc = chain.results.dc
        dc_w = dc["p_mp"] if isinstance(dc, pd.DataFrame) else dc
        chain.results.ac = (dc_w * efficiency).clip(lower=0.0, upper=limit_w)

    return apply


def _ac_power_w(ac: pd.Series | pd.DataFrame) -> np.ndarray:
    values = ac["p_mp"] if isinstance(ac, pd.DataFrame) else ac
    return np.asarray(values, dtype=float)


# --- CEC database ------------------------------------------------------------------------

@lru_cache(maxsize=2)
def cec_database(kind: str) -> pd.DataFrame:
    """pvlib's bundled SAM database ('CECMod' or 'CECInverter'): one column per product."""
    with _quiet():
        return pvlib.pvsystem.retrieve_sam(kind)


def _cec_parts(array: PVArray, park: Park) -> tuple[pd.Series, pd.Series]:
    index = next((i for i, a in enumerate(park.pv) if a.name == array.name), 0)
    source = park.source_file or "<memory>"
    module = _lookup("CECMod", array.module, f"pv.{index}.module", source)
    inverter = _lookup("CECInverter", array.inverter, f"pv.{index}.inverter", source)
    return module, inverter


def _lookup(kind: str, name: str | None, field: str, source) -> pd.Series:
    """One product from a CEC database by its name (raw or pvlib-normalised)."""
    database = cec_database(kind)
    key = (name or "").translate(_SAM_BAD_CHARS)
    if key in database.columns:
        return database[key]
    lowered = {c.lower(): c for c in database.columns}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=5, cutoff=0.6)
    hint = f"; close matches: {', '.join(lowered[c] for c in close)}" if close else ""
    what = "module" if kind == "CECMod" else "inverter"
    raise ConfigError(source, [f"{field}: unknown CEC {what} {name!r}{hint}"])


def _modules_per_string(module: pd.Series, inverter: pd.Series) -> int:
    """Modules per string that put Vmp inside the inverter's MPPT window, Voc under Vdcmax."""
    v_mp, v_oc = float(module["V_mp_ref"]), float(module["V_oc_ref"])
    low, high = float(inverter["Mppt_low"]), float(inverter["Mppt_high"])
    v_max = float(inverter["Vdcmax"]) or math.inf
    fewest = max(1, math.ceil(low / v_mp))
    most = min(math.floor(high / v_mp), math.floor(v_max / v_oc)) if high > 0 else fewest
    if most < fewest:
        return fewest
    # Aim for the middle of the MPPT window.
    return min(max(fewest, round((low + high) / 2 / v_mp)), most)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence pvlib's Pandas4Warnings and the NaN arithmetic of single-diode fits at night."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
        yield
