"""Weather on the park's time index: from an EPW / TMY3 / CSV file or a seeded synthetic year.

Returns pvlib's column names: ghi, dni, dhi (W/m²), temp_air (°C), wind_speed (m/s at
``weather.wind_reference_height_m``, times ``weather.wind_speed_scale`` or the scale that
meets ``weather.target_mean_wind_speed_m_s``), pressure (Pa),
relative_humidity (%). Like every input, a row is labelled with the start of its interval
and holds the mean over the interval.

Typical-year files (EPW, TMY3) hold hourly values in the file's standard time: irradiance
is the mean of the hour *ending* at the record's time, temperature, wind, pressure and
humidity are readings *at* that time. Each step of the park index is converted to the
file's standard time and looked up by month, day and time of day, so a typical year fits
any target year and zone (a leap year's Feb 29 repeats Feb 28). Irradiance is linearly
interpolated between hourly means placed at the hour's centre and set to zero when the sun
stays below the horizon; the other variables are linearly interpolated between their
readings; both are evaluated at the step's centre.

The synthetic generator is described in :func:`synthetic_weather`.
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import pvlib
import windpowerlib.wind_speed
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import signal, special, stats

from parkgrid.config import Park, describe_error, read_yaml
from parkgrid.errors import ConfigError, InputDataError
from parkgrid.inputs.timeseries import read_frame

COLUMNS = ["ghi", "dni", "dhi", "temp_air", "wind_speed", "pressure", "relative_humidity"]
IRRADIANCE = ["ghi", "dni", "dhi"]
# Plausible ranges; values outside are reported (they are usually missing-value codes).
RANGES = {
    "ghi": (0.0, 1500.0, "W/m²"), "dni": (0.0, 1400.0, "W/m²"), "dhi": (0.0, 1000.0, "W/m²"),
    "temp_air": (-70.0, 60.0, "°C"), "wind_speed": (0.0, 60.0, "m/s"),
    "pressure": (40_000.0, 110_000.0, "Pa"), "relative_humidity": (0.0, 110.0, "%"),
}
HOURS_PER_YEAR = 8760
_CUM_DAYS = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334])
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def load_weather(park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Weather on ``index`` (tz-aware, park step) from the park's weather source."""
    return load_weather_calibrated(park, index)[0]


def load_weather_calibrated(park: Park,
                            index: pd.DatetimeIndex) -> tuple[pd.DataFrame, float | None]:
    """:func:`load_weather` and the wind-speed scale found for
    ``weather.target_mean_wind_speed_m_s`` (None without a target).

    The scale is the target over the period's mean speed at ``target_height_m`` (carried from
    the reference height by windpowerlib's logarithmic law, which is linear in the speed, so
    the scale is exact: no root find).
    """
    if index.tz is None:
        raise ValueError("the weather index must be tz-aware local time")
    source = park.weather.source
    if source == "synthetic":
        frame = synthetic_weather(load_climate(park.resolve(park.weather.climate)), park, index)
    elif source == "csv":
        frame = _read_csv(park, index)
    else:
        frame = _read_typical_year(park, index)
    scale = _wind_speed_scale(park, frame["wind_speed"].to_numpy(dtype=float))
    frame["wind_speed"] = frame["wind_speed"] * (scale or park.weather.wind_speed_scale)
    return frame[COLUMNS], scale


def _wind_speed_scale(park: Park, wind_m_s: np.ndarray) -> float | None:
    """The scale that brings the mean wind at the target height to the target."""
    spec = park.weather
    if spec.target_mean_wind_speed_m_s is None:
        return None
    height_m = spec.target_height_m or spec.wind_reference_height_m
    at_height = windpowerlib.wind_speed.logarithmic_profile(
        wind_m_s, spec.wind_reference_height_m, height_m, spec.roughness_length_m)
    mean_m_s = float(np.mean(at_height))
    if not mean_m_s > 0.0:
        raise ConfigError(park.source_file or "<memory>", [
            f"weather.target_mean_wind_speed_m_s: got {spec.target_mean_wind_speed_m_s:g}; "
            "the weather has no wind to scale (mean speed 0)"])
    return spec.target_mean_wind_speed_m_s / mean_m_s


def check_columns(weather: pd.DataFrame, columns: list[str], who: str) -> None:
    """Raise InputDataError unless ``weather`` has ``columns`` without missing values
    (``who`` names the model that needs them)."""
    missing = [c for c in columns if c not in weather.columns]
    if missing:
        raise InputDataError("weather", f"{who} needs columns {columns}; missing {missing}")
    bad = weather[columns].isna().any()
    if bad.any():
        raise InputDataError("weather", f"missing values in {list(bad[bad].index)}")


@contextmanager
def _quiet_pandas():
    """Silence the Pandas4Warnings pvlib emits under pandas 3 (and nothing else)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
        yield


def _solar_position(park: Park, times: pd.DatetimeIndex) -> pd.DataFrame:
    site = park.site
    with _quiet_pandas():
        return pvlib.solarposition.get_solarposition(
            times, site.latitude_deg, site.longitude_deg, site.altitude_m, method="ephemeris"
        )


def _centres(park: Park, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return index + pd.Timedelta(minutes=park.time_step_minutes / 2)


# --- typical-year files (EPW, TMY3) ----------------------------------------------------------


def _read_typical_year(park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    path = park.resolve(park.weather.path)
    assert path is not None
    hourly, utc_offset_h = _read_hourly(path, park.weather.source)
    return _fit_typical_year(hourly, utc_offset_h, park, index)


def _read_hourly(path: Path, source: str) -> tuple[pd.DataFrame, float]:
    """Hourly values in slots 0..8759 (hour of a 365-day year, by interval start) + UTC offset."""
    if not path.exists():
        raise InputDataError(path, f"{source} weather file not found")
    try:
        with _quiet_pandas():
            if source == "epw":
                data, meta = pvlib.iotools.read_epw(path)
            else:
                data, meta = pvlib.iotools.read_tmy3(path, map_variables=True)
    except (OSError, ValueError, KeyError, IndexError, TypeError, pd.errors.ParserError) as exc:
        raise InputDataError(path, f"not a readable {source.upper()} file ({exc})") from None
    try:
        return _hourly_slots(path, source, data), float(meta["TZ"])
    except (ValueError, KeyError, IndexError) as exc:
        raise InputDataError(path, f"not a readable {source.upper()} file ({exc})") from None


def _hourly_slots(path: Path, source: str, data: pd.DataFrame) -> pd.DataFrame:
    """The standard columns indexed by slot (hour of a 365-day year, by interval start)."""
    if source == "epw":
        month, day, hour_end = (data[c].to_numpy() for c in ("month", "day", "hour"))
        data = data.rename(columns={"atmospheric_pressure": "pressure"})
        first_line = 9
    else:
        date = data["Date (MM/DD/YYYY)"].astype(str)
        month, day = date.str[:2].astype(int).to_numpy(), date.str[3:5].astype(int).to_numpy()
        hour_end = data["Time (HH:MM)"].astype(str).str.split(":").str[0].astype(int).to_numpy()
        data = data.assign(pressure=data["pressure"] * 100.0)  # TMY3 pressure is in mbar
        first_line = 3
    lines = np.arange(len(data)) + first_line
    keep = ~((month == 2) & (day == 29))
    data, lines = data[keep], lines[keep]
    # Both formats label an hour by its end (1..24; TMY3 also 0 for midnight): slot = start.
    hour_of_year = (_CUM_DAYS[month[keep] - 1] + day[keep] - 1) * 24 + hour_end[keep] - 1
    slots = hour_of_year % HOURS_PER_YEAR
    _check_hours(path, slots, lines)
    hourly = pd.DataFrame(
        data[COLUMNS].to_numpy(dtype=float), columns=COLUMNS, index=pd.Index(slots, name="slot")
    )
    _check_ranges(path, hourly, lambda i: f"line {lines[i]}")
    return hourly.sort_index()


def _check_hours(path: Path, slots: np.ndarray, lines: np.ndarray) -> None:
    """A typical year needs exactly one record per hour of a 365-day year."""
    order = np.argsort(slots, kind="stable")
    dup = np.flatnonzero(np.diff(slots[order]) == 0)
    if dup.size:
        i, j = order[dup[0]], order[dup[0] + 1]
        raise InputDataError(path, f"line {lines[j]}: repeats the hour of line {lines[i]}")
    if slots.size != HOURS_PER_YEAR:
        missing = np.setdiff1d(np.arange(HOURS_PER_YEAR), slots)
        first = pd.Timestamp(2001, 1, 1) + pd.Timedelta(hours=int(missing[0]))
        raise InputDataError(
            path, f"expected {HOURS_PER_YEAR} hourly records (a typical year), found "
            f"{slots.size}; first missing hour starts {first:%b %d %H:%M}"
        )


def _check_ranges(path: Path | str, frame: pd.DataFrame, where) -> None:
    """Report the first value outside its plausible range (or missing) by ``where(row)``."""
    for name in frame.columns:
        low, high, unit = RANGES[name]
        column = frame[name].to_numpy(dtype=float)
        bad = np.flatnonzero(~((column >= low) & (column <= high)))
        if bad.size:
            raise InputDataError(
                path, f"{where(bad[0])}: {name} = {column[bad[0]]:g} is outside "
                f"{low:g}–{high:g} {unit} (a missing-value code?)"
            )


def _fit_typical_year(
    hourly: pd.DataFrame, utc_offset_h: float, park: Park, index: pd.DatetimeIndex
) -> pd.DataFrame:
    """Evaluate the hourly typical year at each step's centre (see the module docstring)."""
    centres = _centres(park, index)
    file_time = centres.tz_convert("UTC").tz_localize(None) + pd.Timedelta(hours=utc_offset_h)
    day = np.minimum(file_time.day, _DAYS[file_time.month - 1])  # Feb 29 → Feb 28
    hours = (
        (_CUM_DAYS[file_time.month - 1] + day - 1) * 24 + file_time.hour
        + file_time.minute / 60 + file_time.second / 3600
    ).to_numpy(dtype=float)
    slots = hourly.index.to_numpy(dtype=float)
    out = {}
    for name in COLUMNS:
        known_at = slots + (0.5 if name in IRRADIANCE else 1.0)
        out[name] = np.interp(hours, known_at, hourly[name].to_numpy(), period=HOURS_PER_YEAR)
    frame = pd.DataFrame(out, index=index)
    # Zero irradiance only when the sun is below the horizon for the whole step: the sun
    # moves at most 15°/h, so half a step from the centre is at most 7.5°·step_h away.
    zenith = _solar_position(park, centres)["apparent_zenith"].to_numpy()
    night = zenith > 90.0 + 7.5 * park.step_h
    frame.loc[night, IRRADIANCE] = 0.0
    return frame


# --- CSV -------------------------------------------------------------------------------------


def _read_csv(park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    """A weather CSV: timestamp (interval start) + ghi, dni, dhi, temp_air, wind_speed."""
    path = park.resolve(park.weather.path)
    assert path is not None
    return read_weather_csv(path, park, index)


def read_weather_csv(path: Path, park: Park, index: pd.DatetimeIndex, what: str = "weather",
                     split_ghi: bool = False, fill: str = "none",
                     before: pd.Timestamp | None = None, hints: bool = True) -> pd.DataFrame:
    """The weather columns of a CSV/Parquet file on ``index``. ``split_ghi``: dni and dhi may
    be absent and are then split from ghi by pvlib's Erbs model (a weather forecast often
    gives only GHI). ``fill``, ``before`` and ``hints``: as
    :func:`parkgrid.inputs.timeseries.read_frame`'s (a metered history's gaps; a command-line
    file)."""
    optional = ("pressure", "relative_humidity") + (("dni", "dhi") if split_ghi else ())
    required = [c for c in COLUMNS[:5] if c not in optional]
    frame = read_frame(path, index, park.time_step_minutes, what, columns=required,
                       optional=optional, fill=fill, before=before, hints=hints)
    _check_ranges(path, frame, lambda i: f"step {index[i]:%Y-%m-%d %H:%M}")
    if "dni" not in frame or "dhi" not in frame:
        frame["dni"], frame["dhi"] = _split_ghi(park, index, frame["ghi"].to_numpy())
    if "pressure" not in frame:
        frame["pressure"] = pvlib.atmosphere.alt2pres(park.site.altitude_m)
    if "relative_humidity" not in frame:
        frame["relative_humidity"] = np.nan  # not measured: left unknown, never invented
    return frame[COLUMNS]


def _split_ghi(park: Park, index: pd.DatetimeIndex,
               ghi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DNI and DHI from GHI by pvlib's Erbs model, the DNI at most the extraterrestrial
    irradiance and the DHI the rest of the GHI (an hourly GHI repeated on a step at low sun
    made Erbs's DNI 2,000 W/m² and more)."""
    centres = _centres(park, index)
    zenith = _solar_position(park, centres)["apparent_zenith"].to_numpy()
    split = pvlib.irradiance.erbs(ghi, zenith, index.dayofyear)
    dni = np.minimum(np.asarray(split["dni"]),
                     np.asarray(pvlib.irradiance.get_extra_radiation(centres)))
    return dni, ghi - dni * np.clip(np.cos(np.radians(zenith)), 0.0, None)


# --- climate statistics ------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Provenance(_Strict):
    station: str
    station_id: str | None = None
    latitude_deg: Annotated[float, Field(ge=-90, le=90)]
    longitude_deg: Annotated[float, Field(ge=-180, le=180)]
    source: str
    used_for: str | None = None
    note: str | None = None


class MonthClimate(_Strict):
    month: Annotated[int, Field(ge=1, le=12)]
    ghi_kwh_per_m2: Annotated[float, Field(gt=0)]
    dhi_kwh_per_m2: Annotated[float, Field(gt=0)]
    temp_air_c: Annotated[float, Field(ge=-60, le=50)]
    wind_speed_m_s: Annotated[float, Field(gt=0, le=30)]
    weibull_k: Annotated[float, Field(ge=1.0, le=10)]
    relative_humidity_pct: Annotated[float, Field(gt=0, le=100)]

    @model_validator(mode="after")
    def _diffuse_below_global(self) -> MonthClimate:
        if self.dhi_kwh_per_m2 > self.ghi_kwh_per_m2:
            raise ValueError("dhi_kwh_per_m2 must not exceed ghi_kwh_per_m2")
        return self


class Climate(_Strict):
    """Monthly statistics that drive the synthetic weather (a ``profiles/climate_*.yaml``)."""

    provenance: Provenance
    wind_height_m: Annotated[float, Field(gt=0)] = 10.0
    diurnal_temp_range_c: Annotated[float, Field(ge=0, le=30)] = 7.0
    months: list[MonthClimate] = Field(min_length=12, max_length=12)

    @model_validator(mode="after")
    def _months_in_order(self) -> Climate:
        if [m.month for m in self.months] != list(range(1, 13)):
            raise ValueError("months must be listed once each, in order 1..12")
        return self

    def column(self, name: str) -> np.ndarray:
        """One statistic for months 1..12."""
        return np.array([getattr(m, name) for m in self.months], dtype=float)


def load_climate(path: Path | None) -> Climate:
    """Read and validate a climate statistics file; ConfigError names the file and field."""
    assert path is not None
    data = read_yaml(path, "climate file")
    try:
        return Climate.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, [describe_error(e) for e in exc.errors()]) from None


# --- synthetic year --------------------------------------------------------------------------

DAILY_PERSISTENCE = 0.6     # lag-1 correlation of the latent daily cloudiness
DAILY_SPREAD = 2.4          # a + b of the daily clear-sky-index beta distribution
KC_MIN, KC_MAX = 0.05, 1.0  # range of the daily clear-sky index
INTRADAY_SD = 0.25          # clear-sky-index noise at half cloud cover
INTRADAY_TIME_MIN = 30.0    # correlation time of that noise
KC_STEP_MAX = 1.1           # cloud enhancement cap for a step
TEMP_ANOMALY_SD_C = 1.8     # day-to-day temperature anomaly
TEMP_PERSISTENCE = 0.7
TEMP_MAX_SOLAR_H = 15.0
WIND_HOURLY_CORRELATION = 0.9
WIND_DIURNAL = 0.2          # relative amplitude of the wind's diurnal cycle
WIND_PEAK_SOLAR_H = 15.0
RH_PER_C = 3.0              # RH falls ~3 points per °C of diurnal warming
DNI_GUARD_ZENITH = 88.0


def synthetic_weather(climate: Climate, park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    """A seeded synthetic weather year on ``index`` reproducing ``climate``'s monthly values.

    Whole local calendar years are generated at the park step and then cut to ``index``:
    - GHI = clear sky (pvlib Ineichen, bundled Linke turbidity) × a daily clear-sky index
      from an AR(1) latent Gaussian mapped through each month's beta distribution (clear,
      mixed and overcast days, runs of bad days) × intra-day noise that is strongest on
      half-cloudy days; each month is then scaled to its GHI total (a leap February by
      29/28).
    - DHI from Erbs, with the diffuse fraction f raised to a per-month power so the month's
      diffuse total matches; DNI = (GHI − DHI)/cos(zenith), capped at the clear-sky DNI and
      zero beyond 88° zenith (DHI takes the rest).
    - temperature: a smooth curve through the monthly means (corrected so each month's
      mean is exact) + an AR(1) day anomaly + a diurnal cycle (minimum at sunrise, maximum
      at 15:00 solar time) whose range grows with the day's clearness.
    - wind: Weibull (month's mean and k) of an AR(1) Gaussian (0.9 correlation hour to
      hour) via its CDF, times a diurnal cycle peaking at 15:00; monthly means exact.
    - relative humidity: the month's mean, lower in warm afternoons and clear days.
    """
    _check_wind_height(climate, park)
    step_min = park.time_step_minutes
    tz = str(index.tz)
    years = range(int(index.min().tz_convert(tz).year), int(index.max().tz_convert(tz).year) + 1)
    grid = pd.date_range(
        pd.Timestamp(years[0], 1, 1), pd.Timestamp(years[-1] + 1, 1, 1), freq=f"{step_min}min",
        inclusive="left", tz=tz,
    )
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(park.weather.seed).spawn(4)]
    clock = _Clock(grid, park)
    sky = _sky(climate, clock, park, streams[0], streams[1])
    frame = pd.DataFrame({name: sky[name] for name in IRRADIANCE}, index=grid)
    frame["temp_air"] = _temperature(climate, clock, sky["daily_clearness"], streams[2])
    frame["relative_humidity"] = _humidity(climate, clock, frame["temp_air"].to_numpy(),
                                           sky["daily_clearness"])
    frame["wind_speed"] = _wind(climate, clock, streams[3])
    frame["pressure"] = pvlib.atmosphere.alt2pres(park.site.altitude_m)
    out = frame.reindex(index)
    if out[COLUMNS].isna().any().any():
        raise ValueError(f"index is not on the park's {step_min}-min steps")
    return out[COLUMNS]


def _check_wind_height(climate: Climate, park: Park) -> None:
    if not math.isclose(climate.wind_height_m, park.weather.wind_reference_height_m):
        raise ConfigError(
            str(park.resolve(park.weather.climate)),
            [f"wind_height_m: the climate's wind statistics are at {climate.wind_height_m:g} m "
             f"but weather.wind_reference_height_m is {park.weather.wind_reference_height_m:g} "
             "m; make them equal (windpowerlib extrapolates to hub height)"],
        )


class _Clock:
    """Calendar facts per step of a whole-year grid: day, month, solar time, sun."""

    def __init__(self, grid: pd.DatetimeIndex, park: Park) -> None:
        self.step_h = park.step_h
        local = grid.tz_localize(None)
        self.month = np.asarray(local.month) - 1                    # 0..11
        self.month_key = (np.asarray(local.year) - local.year[0]) * 12 + self.month
        self.n_months = int(self.month_key[-1]) + 1
        day_start = local.normalize()
        self.day = np.asarray((day_start - day_start[0]).days)
        self.n_days = int(self.day[-1]) + 1
        first_of_day = np.r_[True, self.day[1:] != self.day[:-1]]
        self.day_month_key = self.month_key[first_of_day]
        centres = _centres(park, grid)
        utc_h = np.asarray((centres.tz_convert("UTC") - centres.tz_convert("UTC").normalize())
                           / pd.Timedelta(hours=1))
        self.solar_h = (utc_h + park.site.longitude_deg / 15.0) % 24.0
        self.t_days = np.arange(grid.size) * park.step_h / 24.0      # elapsed days at centres
        self.day_noon = np.bincount(self.day, self.t_days) / np.bincount(self.day)
        doy = np.asarray(local.day_of_year)[first_of_day]
        self.sunrise_h = _sunrise_solar_h(park.site.latitude_deg, doy)
        days_in_month = np.bincount(self.month_key, minlength=self.n_months) * self.step_h / 24
        typical = _DAYS[np.arange(self.n_months) % 12]
        self.month_weight = days_in_month / typical                 # 29/28 in a leap Feb
        self.sun = _solar_position(park, centres)
        self.centres = centres

    def month_sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.month_key, values, minlength=self.n_months)

    def month_mean(self, values: np.ndarray) -> np.ndarray:
        return self.month_sum(values) / np.bincount(self.month_key, minlength=self.n_months)

    def per_month(self, monthly: np.ndarray) -> np.ndarray:
        """A climate column (12 values) for each month of the grid."""
        return monthly[np.arange(self.n_months) % 12]


def _sunrise_solar_h(latitude_deg: float, doy: np.ndarray) -> np.ndarray:
    declination = np.radians(23.44) * np.sin(2 * np.pi * (284 + doy) / 365.0)
    cos_w = np.clip(-np.tan(np.radians(latitude_deg)) * np.tan(declination), -1.0, 1.0)
    return 12.0 - np.degrees(np.arccos(cos_w)) / 15.0


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """A stationary AR(1) series with unit variance and lag-1 correlation ``phi``."""
    noise = rng.standard_normal(n)
    noise[0] /= math.sqrt(1.0 - phi**2)
    return signal.lfilter([math.sqrt(1.0 - phi**2)], [1.0, -phi], noise)


def _clear_sky(clock: _Clock, park: Park) -> pd.DataFrame:
    site = park.site
    with _quiet_pandas():
        turbidity = pvlib.clearsky.lookup_linke_turbidity(
            clock.centres, site.latitude_deg, site.longitude_deg
        )
        airmass = pvlib.atmosphere.get_relative_airmass(clock.sun["apparent_zenith"])
        pressure = pvlib.atmosphere.alt2pres(site.altitude_m)
        airmass = pvlib.atmosphere.get_absolute_airmass(airmass, pressure)
        dni_extra = pvlib.irradiance.get_extra_radiation(clock.centres)
        clear = pvlib.clearsky.ineichen(
            clock.sun["apparent_zenith"], airmass, turbidity, site.altitude_m, dni_extra
        )
    return clear.fillna(0.0)


def _sky(
    climate: Climate, clock: _Clock, park: Park,
    rng_days: np.random.Generator, rng_steps: np.random.Generator,
) -> dict[str, np.ndarray]:
    clear = _clear_sky(clock, park)
    clear_ghi = clear["ghi"].to_numpy()
    ghi_target_wh = clock.per_month(climate.column("ghi_kwh_per_m2")) * 1000 * clock.month_weight
    daily_clear_wh = np.bincount(clock.day, clear_ghi * clock.step_h, minlength=clock.n_days)
    kc_day = _daily_clearness(ghi_target_wh, daily_clear_wh, clock, rng_days)
    u_day = (kc_day - KC_MIN) / (KC_MAX - KC_MIN)
    phi = math.exp(-clock.step_h * 60.0 / INTRADAY_TIME_MIN)
    spread = INTRADAY_SD * 4 * u_day * (1 - u_day)  # largest on half-cloudy days
    noise = _ar1(rng_steps, clock.day.size, phi) * spread[clock.day]
    kc = np.clip(kc_day[clock.day] + noise, 0.02, KC_STEP_MAX)
    ghi = kc * clear_ghi
    ghi *= (ghi_target_wh / clock.month_sum(ghi * clock.step_h))[clock.month_key]
    dhi_target_wh = clock.per_month(climate.column("dhi_kwh_per_m2")) * 1000 * clock.month_weight
    dni, dhi = _split(ghi, dhi_target_wh, clock, clear["dni"].to_numpy())
    return {"ghi": ghi, "dni": dni, "dhi": dhi, "daily_clearness": u_day}


def _daily_clearness(
    target_wh: np.ndarray, daily_clear_wh: np.ndarray, clock: _Clock, rng: np.random.Generator
) -> np.ndarray:
    """Daily clear-sky index: persistent latent Gaussian through each month's beta law.

    The latent series is shifted per month (bisection) so that the month's GHI comes out at
    its target before any rescaling, which keeps clear days near the clear-sky curve.
    """
    latent = _ar1(rng, clock.n_days, DAILY_PERSISTENCE)
    key = clock.day_month_key
    mean_kc = target_wh / np.bincount(key, daily_clear_wh, minlength=clock.n_months)
    mu = np.clip((mean_kc - KC_MIN) / (KC_MAX - KC_MIN), 0.05, 0.95)[key]
    a, b = mu * DAILY_SPREAD, (1 - mu) * DAILY_SPREAD

    def kc_for(shift: np.ndarray) -> np.ndarray:
        u = stats.beta.ppf(special.ndtr(latent + shift[key]), a, b)
        return KC_MIN + (KC_MAX - KC_MIN) * u

    def excess(shift: np.ndarray) -> np.ndarray:
        ghi_wh = np.bincount(key, kc_for(shift) * daily_clear_wh, minlength=clock.n_months)
        return ghi_wh - target_wh

    shift = _bisect(excess, -4.0, 4.0, clock.n_months)
    return kc_for(shift)


def _bisect(excess, low: float, high: float, n: int, iterations: int = 30) -> np.ndarray:
    """Per-month root of an increasing vector function by bisection (clipped to the bounds)."""
    lo, hi = np.full(n, low), np.full(n, high)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        above = excess(mid) > 0
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return (lo + hi) / 2


def _split(
    ghi: np.ndarray, dhi_target_wh: np.ndarray, clock: _Clock, clear_dni: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """DNI and DHI from GHI: Erbs, then the monthly diffuse totals matched (see above)."""
    zenith = clock.sun["zenith"].to_numpy()
    doy = clock.centres.day_of_year.to_numpy()
    with _quiet_pandas():
        erbs = pvlib.irradiance.erbs(ghi, zenith, doy)
    fraction = np.where(ghi > 0, np.clip(erbs["dhi"] / np.where(ghi > 0, ghi, 1.0), 1e-3, 1.0), 1.0)
    cos_z = np.cos(np.radians(zenith))
    low_sun = zenith > DNI_GUARD_ZENITH
    beam_cap = np.where(low_sun, 0.0, np.maximum(clear_dni, 0.0) * np.maximum(cos_z, 0.0))

    def components(power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dhi = np.maximum(ghi * fraction ** power[clock.month_key], ghi - beam_cap)
        return ghi - dhi, dhi  # beam on the horizontal, diffuse

    def excess(log_power: np.ndarray) -> np.ndarray:  # falls as the power grows
        dhi = components(np.exp(log_power))[1]
        return dhi_target_wh - clock.month_sum(dhi * clock.step_h)

    log_power = _bisect(excess, -3.0, 3.0, clock.n_months)
    beam, dhi = components(np.exp(log_power))
    dni = np.where(low_sun, 0.0, beam / np.where(low_sun, 1.0, cos_z))
    return dni, dhi


def _between_days(clock: _Clock, daily: np.ndarray) -> np.ndarray:
    """A daily value at each step, linear between the days' centres."""
    return np.interp(clock.t_days, clock.day_noon, daily)


def _temperature(
    climate: Climate, clock: _Clock, clearness: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Air temperature, °C: smooth monthly means + day anomaly + diurnal cycle."""
    anomaly = _between_days(clock, _ar1(rng, clock.n_days, TEMP_PERSISTENCE) * TEMP_ANOMALY_SD_C)
    clear_weight = 0.4 + 1.2 * clearness  # clear days swing more; the mean range is kept
    range_c = _between_days(
        clock, climate.diurnal_temp_range_c * clear_weight / clear_weight.mean()
    )
    sunrise = clock.sunrise_h[clock.day]
    diurnal = 0.5 * range_c * _diurnal_shape(clock.solar_h, sunrise, TEMP_MAX_SOLAR_H)
    target = clock.per_month(climate.column("temp_air_c"))
    return _smooth_monthly(clock, target, anomaly + diurnal) + anomaly + diurnal


def _diurnal_shape(solar_h: np.ndarray, low_h: np.ndarray, high_h: float) -> np.ndarray:
    """−1 at ``low_h``, +1 at ``high_h``, half-cosines between (daily mean ≈ 0)."""
    rising = (solar_h >= low_h) & (solar_h < high_h)
    since_high = (solar_h - high_h) % 24.0
    up = -np.cos(np.pi * (solar_h - low_h) / (high_h - low_h))
    down = np.cos(np.pi * since_high / (24.0 - (high_h - low_h)))
    return np.where(rising, up, down)


def _smooth_monthly(clock: _Clock, target: np.ndarray, added: np.ndarray) -> np.ndarray:
    """A curve through mid-month nodes whose monthly means, plus ``added``, hit ``target``.

    The node values are corrected until the means match (linear interpolation is linear in
    the nodes, so the fixed-point iteration converges fast).
    """
    mid = clock.month_mean(clock.t_days)
    x = np.r_[mid[0] - 31.0, mid, mid[-1] + 31.0]  # December before, January after

    def curve(nodes: np.ndarray) -> np.ndarray:
        return np.interp(clock.t_days, x, np.r_[nodes[-1], nodes, nodes[0]])

    nodes = target.astype(float).copy()
    for _ in range(12):
        nodes += target - clock.month_mean(curve(nodes) + added)
    return curve(nodes)


def _humidity(
    climate: Climate, clock: _Clock, temp_air: np.ndarray, clearness: np.ndarray
) -> np.ndarray:
    """Relative humidity, %: monthly mean, lower when warmer than the day's mean, clear days."""
    daily_mean = np.bincount(clock.day, temp_air) / np.bincount(clock.day)
    rh = (
        -RH_PER_C * (temp_air - _between_days(clock, daily_mean))
        - 10.0 * (_between_days(clock, clearness) - 0.5)
    )
    target = clock.per_month(climate.column("relative_humidity_pct"))
    for _ in range(3):
        rh = np.clip(rh + (target - clock.month_mean(rh))[clock.month_key], 5.0, 100.0)
    return rh


def _weibull_cv2(k: np.ndarray) -> np.ndarray:
    return special.gamma(1 + 2 / k) / special.gamma(1 + 1 / k) ** 2 - 1


def _k_before_diurnal(k: np.ndarray) -> np.ndarray:
    """The Weibull k that, after the diurnal factor's extra spread, gives ``k`` overall.

    speed = W·D with E[D] = 1, E[D²] = 1 + a²/2, so 1 + cv² = (1 + cv_W²)(1 + a²/2).
    """
    cv2_w = (1 + _weibull_cv2(k)) / (1 + WIND_DIURNAL**2 / 2) - 1
    return _bisect(lambda kw: cv2_w - _weibull_cv2(kw), 1.0, 12.0, k.size, iterations=40)


def _wind(climate: Climate, clock: _Clock, rng: np.random.Generator) -> np.ndarray:
    """Wind speed at the climate's height, m/s: Weibull marginal, AR(1), diurnal cycle."""
    phi = WIND_HOURLY_CORRELATION ** clock.step_h
    u = special.ndtr(_ar1(rng, clock.day.size, phi))
    k = clock.per_month(_k_before_diurnal(climate.column("weibull_k")))[clock.month_key]
    mean = clock.per_month(climate.column("wind_speed_m_s"))
    scale = mean[clock.month_key] / special.gamma(1 + 1 / k)
    speed = scale * (-np.log1p(-u)) ** (1 / k)
    speed *= 1 + WIND_DIURNAL * np.cos(2 * np.pi * (clock.solar_h - WIND_PEAK_SOLAR_H) / 24)
    return speed * (mean / clock.month_mean(speed))[clock.month_key]
