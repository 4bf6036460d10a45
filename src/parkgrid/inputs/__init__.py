"""Build a year of park inputs (weather, RE output, loads, tariff, CO2) as one time-indexed frame.

Convention: the index is tz-aware local time at the park's step; a row's label is the start
of its interval and every power column is the mean over the interval.

Columns of ``Inputs.series``:
  ``pv_kw_<array>``         PV power delivered to the array's bus, kW
  ``wind_kw_<farm>``        wind power delivered to the AC bus, kW
  ``load_kw_<load>``        inflexible electric load on the load's bus, kW
  ``cooling_load_kw_th``    cooling demand, kW_th (0 without a cooling plant)
  ``heating_load_kw_th``    heating demand, kW_th (only with a heating plant)
  ``heat_pump_cop``         the heat pump's COP (only with a heat pump)
  ``price_import_yuan_per_kwh``, ``price_export_yuan_per_kwh``, ``tou_period``
  ``co2_kg_per_kwh``        grid emission factor (kg/kWh = t/MWh)
  ``is_holiday``            the day is a public holiday (tariff calendar)
``Inputs.weather`` keeps pvlib's names (ghi, dni, dhi, temp_air, wind_speed, pressure).
``Inputs.ev_sessions`` has one row per session: charger, pile, bus, arrival, departure,
energy_kwh, max_kw (at the bus, i.e. including the charger's efficiency).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.errors import ConfigError
from parkgrid.inputs import emissions, loads, pv, tariff, weather, wind
from parkgrid.inputs.calibration import calibration_key
from parkgrid.model import registry

EV_COLUMNS = loads.EV_COLUMNS

NON_INPUT_FIELDS = (
    "name", "description", "batteries", "cooling.chillers", "cooling.tank", "buses", "grid",
    "deferrable", "objective", "tariff.demand", "emissions.carbon_price_yuan_per_t",
    "emissions.coal_gce_per_kwh", "demand_response",
)
"""Config fields :func:`build_inputs` does not read: changing them leaves the inputs as they
are (sweeps build shared inputs once). Keep in step with what :func:`build_inputs` reads; any
field not listed is taken to change the inputs (the safe side)."""


def affects_inputs(path: str) -> bool:
    """Whether a change of the config field at dotted ``path`` changes the park's inputs."""
    return not any(path == f or path.startswith(f + ".") for f in NON_INPUT_FIELDS)


@dataclass
class Inputs:
    """A period of park inputs; slice it with :meth:`window`."""

    park: Park
    series: pd.DataFrame
    weather: pd.DataFrame
    ev_sessions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EV_COLUMNS))
    build_seconds: float = 0.0
    calibration: dict[str, float] = field(default_factory=dict)
    """Resource scales found by calibration (:mod:`parkgrid.inputs.calibration`), e.g.
    ``{'wind.w465.wind_speed_scale': 1.6}``; keys 'weather.wind_speed_scale',
    'wind.<farm>.wind_speed_scale', 'pv.<array>.irradiance_scale'."""
    dr_events: tuple = ()
    """Demand-response events a plan of these inputs knows of
    (:class:`parkgrid.dr.events.PlannedEvent`; set per horizon, not carried by ``window``)."""

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.series.index  # type: ignore[return-value]

    def columns(self, prefix: str | tuple[str, ...]) -> list[str]:
        """Columns whose name starts with ``prefix`` (e.g. 'pv_kw_'; or any of a tuple)."""
        return [c for c in self.series.columns.tolist() if c.startswith(prefix)]

    def bus_total_kw(self, prefix: str, assets: list, bus: str) -> pd.Series:
        """Sum of the ``prefix<name>`` columns of the assets on ``bus``, kW."""
        total = np.zeros(len(self.index))
        for a in assets:
            if a.bus == bus:
                total = total + self.series[f"{prefix}{a.name}"].to_numpy(float)
        return pd.Series(total, index=self.index)

    def window(self, start: pd.Timestamp, n_steps: int) -> Inputs:
        """The inputs of ``n_steps`` steps from ``start``; EV sessions that overlap it."""
        pos = self.index.get_loc(start)
        series = self.series.iloc[pos : pos + n_steps]
        if len(series) < n_steps:
            raise ValueError(f"window of {n_steps} steps from {start} runs past the inputs")
        end = series.index[-1] + pd.Timedelta(minutes=self.park.time_step_minutes)
        ev = self.ev_sessions
        overlapping = ev.iloc[np.flatnonzero((utc_values(ev["arrival"]) < end.asm8)
                                             & (utc_values(ev["departure"]) > start.asm8))]
        return Inputs(self.park, series, self.weather.iloc[pos : pos + n_steps],
                      overlapping.reset_index(drop=True), calibration=self.calibration)

    def day(self, date: str | pd.Timestamp, days: int = 1) -> Inputs:
        """The inputs of ``days`` local days from ``date``."""
        start = pd.Timestamp(date).tz_localize(None).normalize().tz_localize(self.index.tz)
        return self.window(start, days * self.park.steps_per_day)


def utc_values(times: pd.Series) -> np.ndarray:
    """A datetime column (e.g. EV arrivals) as numpy UTC datetimes, to compare with a
    timestamp's ``asm8`` or subtract it from: numpy, where pandas' datetime arithmetic costs
    ~50× more per call (the rollout does it several times a horizon). The times must carry
    their time zone (wall-clock times would be off by its offset)."""
    times = times if times.dtype.kind == "M" else pd.to_datetime(times)
    if len(times) and not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"column {times.name!r}: times without a time zone")
    return times.values


def year_index(park: Park, year: int | None = None) -> pd.DatetimeIndex:
    """Every step of a local calendar year (DST-free zones give 8760 h or 8784 h)."""
    year = park.year if year is None else year
    return pd.date_range(
        pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1), inclusive="left",
        freq=f"{park.time_step_minutes}min", tz=park.site.timezone,
    )


def build_inputs(park: Park, year: int | None = None) -> Inputs:
    """Build a year of inputs for ``park`` from its models and data files."""
    started = time.perf_counter()
    index = year_index(park, year)
    wx, wind_scale = weather.load_weather_calibrated(park, index)
    calibration = {} if wind_scale is None else {"weather.wind_speed_scale": wind_scale}
    holidays = tariff.holiday_mask(index)
    columns: dict[str, pd.Series] = {}
    for array in park.pv:
        columns[f"pv_kw_{array.name}"], scale = pv.array_output(array, park, wx)
        if scale is not None:
            calibration[calibration_key(array)] = scale
    for farm in park.wind:
        columns[f"wind_kw_{farm.name}"], scale = wind.farm_output(farm, park, wx)
        if scale is not None:
            calibration[calibration_key(farm)] = scale
    for load in park.loads:
        columns[f"load_kw_{load.name}"] = loads.electric_load_kw(load, park, index, holidays)
    columns["cooling_load_kw_th"] = (
        loads.cooling_load_kw_th(park.cooling, park, wx, holidays)
        if park.cooling is not None else pd.Series(0.0, index=index)
    )
    if park.heating is not None:
        columns["heating_load_kw_th"] = loads.heating_load_kw_th(park.heating, park, wx,
                                                                 holidays)
    for parameters in registry.hooks("parameters"):  # a plant's (a heat pump's COP)
        try:
            columns.update({name: pd.Series(value, index=index)
                            for name, value in parameters(park, wx).items()})
        except ValueError as exc:
            raise ConfigError(park.source_file or "<memory>", [str(exc)]) from None
    series = pd.DataFrame(columns, index=index)
    series = series.join(tariff.tariff_frame(park.tariff, park, index))
    series["co2_kg_per_kwh"] = emissions.grid_factor_kg_per_kwh(park.emissions, park, index)
    series["is_holiday"] = holidays
    sessions = (
        loads.ev_sessions(park.ev, park, index, holidays)
        if park.ev is not None else pd.DataFrame(columns=EV_COLUMNS)
    )
    series.attrs["calibration"] = calibration  # kept in the Parquet file's metadata
    return Inputs(park, series, wx, sessions, time.perf_counter() - started, calibration)
