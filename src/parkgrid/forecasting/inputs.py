"""A plan's inputs from forecast files that cover its horizon only.

A forecast file (CSV or Parquet, read by :func:`parkgrid.inputs.timeseries.read_frame`: timestamp
column + value columns, any step that divides or is a multiple of the park's) carries the
columns of ``Inputs.series`` the plan needs: ``pv_kw_<array>``, ``wind_kw_<farm>``,
``load_kw_<load>``, ``cooling_load_kw_th`` (with a cooling plant) and ``heating_load_kw_th``
(with a heating plant; an optional ``heat_pump_cop`` column, else the COP from the config
with its ``ground_temp_c``). Optional price columns
``price_import_yuan_per_kwh``, ``price_export_yuan_per_kwh`` and ``co2_kg_per_kwh`` (dynamic
tariffs, provincial spot prices) replace the calendar's values step by step; they may also
come from a separate prices file, which wins. The tariff calendar stays the default (and names
``tou_period``). No weather file is read. Rows before the plan's start are refused (a forecast
is about the future), as is a file that ends before the horizon does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from parkgrid.config import MAX_GRID_FACTOR_T_PER_MWH, Park
from parkgrid.errors import InputDataError
from parkgrid.inputs import Inputs, emissions, tariff
from parkgrid.inputs.timeseries import check_plausible, read_frame
from parkgrid.model import registry

PRICE_COLUMNS = ("price_import_yuan_per_kwh", "price_export_yuan_per_kwh", "co2_kg_per_kwh")
"""Columns that may replace the calendar's prices and the configured CO2 factor."""


def horizon_index(park: Park, start: pd.Timestamp, n_steps: int) -> pd.DatetimeIndex:
    """The ``n_steps`` steps from ``start`` (tz-aware, on the park's step)."""
    return pd.date_range(start, periods=n_steps, freq=f"{park.time_step_minutes}min")


def forecast_columns(park: Park) -> list[str]:
    """The columns a forecast file must have for ``park``."""
    return ([f"pv_kw_{a.name}" for a in park.pv] + [f"wind_kw_{w.name}" for w in park.wind]
            + [f"load_kw_{ld.name}" for ld in park.loads]
            + (["cooling_load_kw_th"] if park.cooling is not None else [])
            + (["heating_load_kw_th"] if park.heating is not None else []))


SERIES_NAMES = ("pv_kw_", "wind_kw_", "load_kw_", "cooling_load_kw_th", "heating_load_kw_th")
"""Beginnings of the names of a forecast's series: a column so named must be one of the
park's (:func:`forecast_columns`), else the user's forecast of it would be dropped unseen."""


def foreign_columns(park: Park, names: list[str]) -> str | None:
    """The problem with ``names`` (a forecast's columns) that name a series of no asset of
    ``park`` (``load_kw_office`` in a park without that load), or None."""
    known = forecast_columns(park)
    foreign = [n for n in names if n.startswith(SERIES_NAMES) and n not in known]
    if not foreign:
        return None
    return (f"column(s) {foreign} name no input of the park; expected the park's "
            f"{', '.join(known)} (and optionally {', '.join(PRICE_COLUMNS)})")


def read_forecast(path: Path | str, park: Park, index: pd.DatetimeIndex,
                  columns: list[str], optional: tuple[str, ...] = (),
                  what: str = "forecast") -> pd.DataFrame:
    """``columns`` (and ``optional`` ones present) of the file at ``path`` on ``index``;
    a column naming a series of no asset of the park is refused."""
    return read_frame(Path(path), index, park.time_step_minutes, what, columns=columns,
                      optional=optional, not_before=index[0],
                      refuse=lambda names: foreign_columns(park, names), hints=False)


def calendar_prices(park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    """The configured tariff, CO2 factor and holidays on ``index`` (the defaults)."""
    frame = tariff.tariff_frame(park.tariff, park, index)
    frame["co2_kg_per_kwh"] = emissions.grid_factor_kg_per_kwh(park.emissions, park, index)
    frame["is_holiday"] = tariff.holiday_mask(index)
    return frame


def forecast_inputs(park: Park, forecast: pd.DataFrame, ev_sessions: pd.DataFrame,
                    prices: pd.DataFrame | None = None, source: str = "forecast") -> Inputs:
    """The plan's inputs from ``forecast`` (the columns of :func:`forecast_columns`, optional
    ``PRICE_COLUMNS``, on the horizon's index) and optional ``prices`` (``PRICE_COLUMNS``,
    wins over the forecast's). Values must be finite; powers and the CO2 factor ≥ 0."""
    index = forecast.index
    series = forecast[forecast_columns(park)].copy()
    if park.cooling is None:
        series["cooling_load_kw_th"] = 0.0
    for parameters in registry.hooks("parameters"):  # a plant's (a heat pump's COP)
        try:
            for name, values in parameters(park, None, forecast).items():
                series[name] = values
        except ValueError as exc:
            raise InputDataError(source, f"forecast: {exc}") from None
    calendar = calendar_prices(park, index)
    given = forecast.drop(columns=[*forecast_columns(park), *registry.parameter_columns()],
                          errors="ignore")
    if prices is not None:
        given = prices.combine_first(given)  # the prices file wins
    for name in calendar.columns:
        series[name] = given[name] if name in given.columns else calendar[name]
    check_values(series, source, park)
    return Inputs(park, series, pd.DataFrame(index=index), ev_sessions)


def ratings(park: Park) -> dict[str, tuple[str, float]]:
    """Unit and rating of each forecast column with one, as a measured series of it is
    checked (:func:`parkgrid.inputs.timeseries.check_plausible`): PV kWp, wind farm capacity,
    the park's supply for a load, the cooling plant, the heating plant, the highest grid CO2
    factor."""
    from parkgrid.inputs.loads import cooling_rating_kw_th, supply_kw
    from parkgrid.inputs.wind import farm_capacity_kw

    rated = {f"pv_kw_{a.name}": ("kW", a.capacity_kwp) for a in park.pv}
    rated |= {f"wind_kw_{w.name}": ("kW", farm_capacity_kw(w, park)) for w in park.wind}
    rated |= {f"load_kw_{ld.name}": ("kW", supply_kw(park)) for ld in park.loads}
    if park.cooling is not None:
        rated["cooling_load_kw_th"] = ("kW_th", cooling_rating_kw_th(park.cooling))
    if park.heating is not None:
        rated["heating_load_kw_th"] = ("kW_th", park.heating.capacity_kw_th)
    return rated | {"co2_kg_per_kwh": ("kg/kWh", MAX_GRID_FACTOR_T_PER_MWH)}


def check_values(series: pd.DataFrame, source: str, park: Park,
                 what: str = "forecast") -> None:
    """Refuse a value that is not finite, negative outside the ``price_`` columns, or beyond
    what its asset's rating makes plausible (:func:`ratings`)."""
    numbers = series.drop(columns=["tou_period", "is_holiday"], errors="ignore")
    for name in numbers.columns:
        values = numbers[name].to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if not name.startswith("price_"):
            bad |= values < 0
        if bad.any():
            at = numbers.index[bad.argmax()]
            expected = "a finite number" + ("" if name.startswith("price_") else " ≥ 0")
            raise InputDataError(source, f"{what}: column {name!r} at {at.isoformat()}: got "
                                 f"{values[bad.argmax()]:g}, expected {expected}")
    for name, (unit, rating) in ratings(park).items():
        if name in numbers.columns:
            check_plausible(numbers[name], source, f"{what}: column {name!r}", unit, rating)


def read_forecast_inputs(park: Park, start: pd.Timestamp, n_steps: int, path: Path | str,
                         ev_sessions: pd.DataFrame,
                         prices_path: Path | str | None = None) -> tuple[Inputs, str]:
    """The inputs of ``n_steps`` from ``start`` out of the forecast file (and prices file),
    and where their prices came from (:func:`price_source`)."""
    index = horizon_index(park, start, n_steps)
    forecast = read_forecast(path, park, index, forecast_columns(park),
                             (*PRICE_COLUMNS, *registry.parameter_columns()))
    prices = read_prices(prices_path, park, index) if prices_path is not None else None
    given = {str(path): list(forecast.columns)}
    if prices is not None:
        given[str(prices_path)] = list(prices.columns)
    return forecast_inputs(park, forecast, ev_sessions, prices, str(path)), price_source(given)


def price_source(given: dict[str, list[str]]) -> str:
    """Where a plan's prices and CO2 factors came from, for its metadata: each source (in
    ``given``, later ones winning) with the ``PRICE_COLUMNS`` it gave; the tariff calendar
    and the configured CO2 factor for the rest."""
    taken = {column: source for source, columns in given.items() for column in columns
             if column in PRICE_COLUMNS}
    if not taken:
        return "tariff calendar"
    defaults = {"price_import_yuan_per_kwh": "tariff calendar",
                "price_export_yuan_per_kwh": "tariff calendar",
                "co2_kg_per_kwh": "configured CO2 factor"}
    sources = {c: taken.get(c, defaults[c]) for c in PRICE_COLUMNS}
    return "; ".join(f"{source} ({', '.join(c for c in PRICE_COLUMNS if sources[c] == source)})"
                     for source in dict.fromkeys(sources.values()))


def read_prices(path: Path | str, park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    """The ``PRICE_COLUMNS`` a prices file has (at least one) on ``index``, checked as a
    forecast's (finite; the CO2 factor ≥ 0)."""
    prices = read_forecast(path, park, index, [], PRICE_COLUMNS, "prices")
    if prices.columns.empty:
        raise InputDataError(path, f"prices: none of the columns {', '.join(PRICE_COLUMNS)}")
    check_values(prices, str(path), park, "prices")
    return prices
