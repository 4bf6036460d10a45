"""Forecasters: the planner's view of the next local day, from what is known at planning time.

A forecaster is a callable ``forecast(actuals, day_start, n_steps) -> Inputs`` that returns
the inputs of the ``n_steps`` from local midnight ``day_start`` (default: one day) as a
planner would see them when it plans at 12:00 the day before (the issue time), so lead times
run from 12 h to 36 h for one day (to 60 h for a 48-h look-ahead).

- :class:`Perfect` — the actuals themselves (perfect foresight of the horizon).
- :class:`Persistence` — renewables: the latest observation at the same time of day before
  the issue time (the day before for steps before 12:00, two days before after, three days
  before on the next day's afternoon); loads (electric, cooling, heating, EV sessions): the same
  weekday one week before. At the start of the inputs the history wraps around to the end
  of the same (typical) year.
- :class:`Model` — the forecaster of ``parkgrid forecast`` trained on the history before
  the issue time, on forecast weather made from the actual weather (see the class).
- :class:`Noisy` — the actuals plus seeded errors that are autocorrelated in time (AR(1))
  and whose spread grows with lead time (see :data:`DEFAULT_ERRORS`).

Intraday re-plans (``parkgrid run --replan-every``) call a forecaster with ``issue`` = the
re-plan time and a ``day_start`` on any step. :class:`Noisy` then keeps each step's error
realisation (its sign and shape: the day-ahead forecast's) and scales it to the shorter lead
time (:func:`spread_factor`): the forecast of the next hour is close to the actuals, that of
the evening still carries most of the day-ahead error. The others ignore ``issue``.

Tariff, CO2 factor and holiday columns are calendar data and are never perturbed. The
noisy forecaster keeps the actual EV sessions (reservations) and the actual weather.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from parkgrid.inputs import Inputs

ISSUE_HOUR = 12.0
"""Forecasts are issued at 12:00 local time the day before the planned day."""

RE_PREFIXES = ("pv_kw_", "wind_kw_")
LOAD_PREFIXES = ("load_kw_", "cooling_load_kw_th", "heating_load_kw_th")


@dataclass(frozen=True)
class ErrorModel:
    """Forecast error of one variable kind.

    ``sigma_24h``: standard deviation of the error at 24 h lead time — relative to the
    value (``kind='relative'``: forecast = actual × (1 + e)) or to the column's capacity
    (its maximum over the inputs; ``kind='capacity'``: forecast = actual + e × capacity).
    The spread at lead time L hours is ``sigma_24h × (0.5 + 0.5 × L / 24)`` (0.75× at
    12 h, 1.25× at 36 h, 1.75× at 60 h). ``tau_h``: correlation time of the AR(1) error process.
    """

    sigma_24h: float
    tau_h: float
    kind: str = "relative"


DEFAULT_ERRORS: dict[str, ErrorModel] = {
    # day-ahead wind power: ~15 % of capacity (nRMSE 10–20 % is typical) — the worst
    "wind": ErrorModel(0.15, 6.0, "capacity"),
    # day-ahead PV: ~30 % of the output (≈ 7–9 % of capacity) — in between
    "pv": ErrorModel(0.30, 3.0, "relative"),
    # cooling demand follows the temperature forecast: ~8 %
    "cooling": ErrorModel(0.08, 6.0, "relative"),
    # electric load: ~5 % — the most accurate
    "load": ErrorModel(0.05, 4.0, "relative"),
    # heating demand follows the temperature forecast, as cooling: ~8 % (est.)
    "heating": ErrorModel(0.08, 6.0, "relative"),
}


def _positions(actuals: Inputs, day_start: pd.Timestamp, n_steps: int | None) -> tuple[int, int]:
    """Position of ``day_start`` in the inputs and the number of steps (default: a day)."""
    n = n_steps or actuals.park.steps_per_day
    pos = actuals.index.get_loc(day_start)
    if pos + n > len(actuals.index):
        raise ValueError(f"{n} steps from {day_start} run past the end of the inputs")
    return int(pos), n


def lead_time_h(index: pd.DatetimeIndex, day_start: pd.Timestamp, step_h: float,
                issue: pd.Timestamp | None = None) -> np.ndarray:
    """Lead time of each step (its mid-point) from the issue time, hours (default issue:
    12:00 the day before ``day_start``: 12–36 h for the planned day)."""
    if issue is None:
        issue = day_start - pd.Timedelta(hours=24.0 - ISSUE_HOUR)
    seconds = (index.values - issue.asm8) / np.timedelta64(1, "s")  # numpy: faster
    return seconds / 3600.0 + step_h / 2.0


def spread_factor(lead_h: np.ndarray) -> np.ndarray:
    """The error spread at lead time ``lead_h`` relative to ``sigma_24h``: 0.5 + 0.5 L/24
    (0.75 at 12 h, 1.25 at 36 h), times L/12 below 12 h (only intraday re-plans see leads
    that short): it falls to 0 as the lead time does."""
    return (0.5 + 0.5 * lead_h / 24.0) * np.clip(lead_h / (24.0 - ISSUE_HOUR), 0.0, 1.0)


class Perfect:
    """The actual inputs of the day (perfect foresight)."""

    name = "perfect"

    def __call__(self, actuals: Inputs, day_start: pd.Timestamp,
                 n_steps: int | None = None, issue: pd.Timestamp | None = None) -> Inputs:
        return actuals.window(day_start, n_steps or actuals.park.steps_per_day)


class Persistence:
    """Last observed values at the same time of day (renewables); same weekday (loads)."""

    name = "persistence"

    def __call__(self, actuals: Inputs, day_start: pd.Timestamp,
                 n_steps: int | None = None, issue: pd.Timestamp | None = None) -> Inputs:
        pos, n = _positions(actuals, day_start, n_steps)
        steps, per_day = np.arange(n), actuals.park.steps_per_day
        # whole days back to the latest same time of day at or before the issue time
        days_back = np.floor((steps * actuals.park.step_h + 24.0 - ISSUE_HOUR) / 24.0) + 1
        re_rows = (pos + steps - days_back.astype(int) * per_day) % len(actuals.index)
        load_pos = _same_weekday_before(actuals, pos, n)
        day = actuals.window(day_start, n)
        series = day.series.copy()
        for cols, rows in ((day.columns(RE_PREFIXES), re_rows),
                           (day.columns(LOAD_PREFIXES), load_pos + steps)):
            if cols:
                series[cols] = actuals.series[cols].to_numpy()[rows]
        weather = actuals.weather.iloc[re_rows].set_axis(day.index)
        source = actuals.window(actuals.index[load_pos], n).ev_sessions.copy()
        offset = day_start - actuals.index[load_pos]
        for col in ("arrival", "departure"):
            source[col] = source[col] + offset
        return Inputs(actuals.park, series, weather, source.reset_index(drop=True))


def _same_weekday_before(actuals: Inputs, pos: int, n_steps: int) -> int:
    """Position of the same weekday one week before ``pos``; without that history, the
    latest same weekday of the inputs with ``n_steps`` after it (the history wraps around a
    typical year)."""
    week = 7 * actuals.park.steps_per_day
    if pos >= week:
        return pos - week
    last_start = len(actuals.index) - n_steps
    return pos + week * ((last_start - pos) // week)


def ar1_noise(rng: np.random.Generator, n: int, step_h: float, tau_h: float) -> np.ndarray:
    """A stationary AR(1) series of unit variance with correlation time ``tau_h``."""
    phi = float(np.exp(-step_h / tau_h))
    shocks = rng.standard_normal(n)
    shocks[1:] *= np.sqrt(1.0 - phi**2)
    return lfilter([1.0], [1.0, -phi], shocks)


def day_noise(rng: np.random.Generator, day_start: pd.Timestamp, n: int, step_h: float,
              tau_h: float) -> np.ndarray:
    """The AR(1) error realisation of ``day_start``'s local day, over ``n`` steps from
    ``day_start``: a re-plan at noon sees the errors the day-ahead plan saw at noon."""
    offset = round((day_start - day_start.normalize()) / pd.Timedelta(hours=step_h))
    return ar1_noise(rng, offset + n, step_h, tau_h)[offset:]


@dataclass
class Noisy:
    """Actuals with seeded, autocorrelated errors growing with lead time.

    The same (seed, day) always gives the same forecast, whatever the run's start date.
    """

    seed: int = 0
    errors: dict[str, ErrorModel] = field(default_factory=lambda: dict(DEFAULT_ERRORS))
    name: str = "noisy"
    _capacity: dict[str, float] = field(default_factory=dict, repr=False)

    def __call__(self, actuals: Inputs, day_start: pd.Timestamp,
                 n_steps: int | None = None, issue: pd.Timestamp | None = None) -> Inputs:
        day = actuals.window(day_start, n_steps or actuals.park.steps_per_day)
        series = day.series.copy()
        step_h = actuals.park.step_h
        midnight = day_start.normalize()  # the error realisation is that of the local day
        growth = spread_factor(lead_time_h(day.index, midnight, step_h, issue))
        day_key = midnight.date().toordinal()
        groups = {
            "wind": day.columns("wind_kw_"),
            "pv": day.columns("pv_kw_"),
            "cooling": day.columns("cooling_load_kw_th"),
            "load": day.columns("load_kw_"),
            "heating": day.columns("heating_load_kw_th"),  # last: the others keep their seeds
        }
        for key, (kind, cols) in enumerate(groups.items()):
            model = self.errors.get(kind)
            if not cols or model is None or model.sigma_24h == 0:
                continue
            rng = np.random.default_rng([self.seed, day_key, key])
            err = model.sigma_24h * growth * day_noise(rng, day_start, len(series), step_h,
                                                        model.tau_h)
            for col in cols:
                series[col] = self._perturb(actuals, col, series[col].to_numpy(), err, model)
        return Inputs(actuals.park, series, day.weather, day.ev_sessions)

    def _perturb(self, actuals: Inputs, col: str, actual: np.ndarray, err: np.ndarray,
                 model: ErrorModel) -> np.ndarray:
        """Forecast of one column (never negative; RE never above its capacity)."""
        if col not in self._capacity:
            self._capacity[col] = float(actuals.series[col].max())
        cap = self._capacity[col]
        values = actual + err * cap if model.kind == "capacity" else actual * (1.0 + err)
        upper = cap if col.startswith(RE_PREFIXES) else np.inf
        return np.clip(values, 0.0, upper)


WEATHER_ERRORS: dict[str, ErrorModel] = {
    # (est.) day-ahead NWP 2-m temperature RMSE 1.5–2 °C: 1.5 °C at 24 h, absolute
    "temp_air": ErrorModel(1.5, 6.0, "absolute"),
    # (est.) day-ahead GHI ~30 % of the value, as the noisy PV error above
    "irradiance": ErrorModel(0.30, 3.0, "relative"),
    # (est.) hub-height wind speed ~15 % day-ahead
    "wind_speed": ErrorModel(0.15, 6.0, "relative"),
}


@dataclass
class Model:
    """The forecaster of ``parkgrid forecast`` (:mod:`parkgrid.forecasting.model`), trained on the
    actuals strictly before the issue time, fed with forecast weather = the actual weather
    plus seeded AR(1) errors whose spread grows with lead time as the noisy forecaster's
    (:data:`WEATHER_ERRORS`, :func:`spread_factor`). Before a day of history exists it
    answers with :class:`Persistence`. Loads are learned from calendar + temperature; PV
    and wind are the park's chains on the forecast weather (no bias: the actuals come from
    the same chains). EV sessions and calendar columns are the actuals'."""

    seed: int = 0
    name: str = "model"
    _trained: tuple[Any, pd.Timestamp, Any] | None = field(default=None, repr=False)

    def __call__(self, actuals: Inputs, day_start: pd.Timestamp,
                 n_steps: int | None = None, issue: pd.Timestamp | None = None) -> Inputs:
        from parkgrid.forecasting.inputs import forecast_columns

        park = actuals.park
        n = n_steps or park.steps_per_day
        ahead = day_start.normalize() - pd.Timedelta(hours=24 - ISSUE_HOUR)
        issue = ahead if issue is None else issue
        trained_at = min(issue, ahead)
        if (actuals.index < trained_at).sum() < park.steps_per_day:
            return Persistence()(actuals, day_start, n)
        window = actuals.window(day_start, n)
        weather = self.weather(window, day_start, issue)
        columns = forecast_columns(park)
        made = self.trained(actuals, trained_at).predict(weather, actuals.calibration)
        series = window.series.copy()
        series[columns] = made.frame[columns].to_numpy()
        return Inputs(park, series, weather, window.ev_sessions)

    def trained(self, actuals: Inputs, issue: pd.Timestamp) -> Any:
        """The forecaster trained on the actuals strictly before ``issue`` (the day-ahead
        issue time of the day planned: an intraday re-plan of that day re-predicts with it
        on its refreshed weather, never retrains); the latest one is kept (per actuals)."""
        from parkgrid.forecasting.inputs import forecast_columns
        from parkgrid.forecasting.model import train

        kept = self._trained
        if kept is None or kept[0] is not actuals.series or kept[1] != issue:
            past = actuals.index < issue
            history = actuals.series.loc[past, forecast_columns(actuals.park)].join(
                actuals.weather.loc[past, ["temp_air"]])
            kept = self._trained = (actuals.series, issue, train(actuals.park, history, issue))
        return kept[2]

    def weather(self, window: Inputs, day_start: pd.Timestamp,
                issue: pd.Timestamp) -> pd.DataFrame:
        """The actual weather of ``window`` plus lead-time-dependent errors."""
        step_h = window.park.step_h
        midnight = day_start.normalize()  # the error realisation is that of the local day
        growth = spread_factor(lead_time_h(window.index, midnight, step_h, issue))
        weather = window.weather.copy()
        day_key = midnight.date().toordinal()
        for key, (name, model) in enumerate(WEATHER_ERRORS.items()):
            rng = np.random.default_rng([self.seed, day_key, 100 + key])
            err = model.sigma_24h * growth * day_noise(rng, day_start, len(weather), step_h,
                                                        model.tau_h)
            if name == "temp_air":
                weather["temp_air"] = weather["temp_air"] + err
            else:
                cols = list(IRRADIANCE) if name == "irradiance" else [name]
                weather[cols] = weather[cols].mul(np.clip(1.0 + err, 0.0, None), axis=0)
        return weather


IRRADIANCE = ("ghi", "dni", "dhi")
FORECASTERS = ("perfect", "persistence", "noisy", "model")


def make_forecaster(name: str, seed: int = 0) -> Perfect | Persistence | Noisy | Model:
    """A forecaster by name: 'perfect', 'persistence', 'noisy' (seeded) or 'model'
    (trained on the history before each issue time, seeded forecast weather)."""
    if name == "perfect":
        return Perfect()
    if name == "persistence":
        return Persistence()
    if name == "noisy":
        return Noisy(seed=seed)
    if name == "model":
        return Model(seed=seed)
    raise ValueError(f"unknown forecast {name!r}; expected one of {', '.join(FORECASTERS)}")
