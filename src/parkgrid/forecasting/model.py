"""Forecasts of a park's loads, PV and wind from its metered history and a weather forecast.

- Loads (every ``load_kw_<load>`` and ``cooling_load_kw_th``): scikit-learn's
  ``HistGradientBoostingRegressor`` on calendar features (time of day, weekday, the day type
  of the shipped holiday calendar) and the air temperature. Gradient-boosted trees need no
  scaling, take the non-linear temperature response (cooling) and the day-type steps without
  hand-made interactions, and train on a year of 15-min steps in about a second; scikit-learn
  is the best-kept library offering them. With less than ``MIN_TRAINING_DAYS`` of history
  (or no temperature in the history) the load falls back to a seasonal profile: the mean of
  each step of the day per day type over the last ``PROFILE_DAYS`` of history, and the
  forecast says so.
- PV and wind: the park's own pvlib / windpowerlib chains (:mod:`parkgrid.inputs.pv`,
  :mod:`parkgrid.inputs.wind`) on the forecast weather, times a bias factor learned from history
  where it has the measured output and the weather: Σ measured / Σ modelled over the
  training days, kept within ``BIAS_LIMITS``.

Only history strictly before the issue time is used (``Forecast.trained_until``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.errors import InputDataError
from parkgrid.forecasting.inputs import forecast_columns
from parkgrid.inputs import build_inputs, loads, pv, wind
from parkgrid.inputs.calibration import calibration_key

MIN_TRAINING_DAYS = 14
"""(est.) Two weeks hold every weekday twice; below that the learned model is not trusted."""
PROFILE_DAYS = 28
"""(est.) The seasonal profile's window: the last four weeks hold every weekday four times and
follow the season (a profile over a long history forecast June's cooling from winter days)."""
BIAS_LIMITS = (0.5, 1.5)
"""(est.) A bias factor outside this range points at a metering or config error, not at
weather: it is clipped and reported."""
WEATHER_FEATURES = ("ghi", "temp_air", "wind_speed")


@dataclass
class Forecast:
    """Forecast columns on the horizon's index and how each was made."""

    frame: pd.DataFrame
    methods: dict[str, str]
    trained_until: pd.Timestamp | None
    notes: list[str] = field(default_factory=list)


def features(index: pd.DatetimeIndex, temp_air: np.ndarray | None) -> np.ndarray:
    """Calendar (hour of day, weekday, day type) and temperature features per step."""
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60.0
    kinds = loads.day_types(index)
    columns = [hour, index.day_of_week.to_numpy(), kinds]
    if temp_air is not None:
        columns.append(temp_air)
    return np.column_stack(columns).astype(float)


def seasonal_profile(history: pd.Series, index: pd.DatetimeIndex) -> np.ndarray:
    """The mean of each step of the day per day type over the last ``PROFILE_DAYS`` of
    ``history`` (a day type absent from them: its mean over the whole history, else the
    recent mean over all days at that step)."""
    def keys(ix: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
        step = (ix.hour.to_numpy() * 60 + ix.minute.to_numpy())
        return loads.day_types(ix), step

    kind, step = keys(history.index)  # type: ignore[arg-type]
    frame = pd.DataFrame({"kind": kind, "step": step, "v": history.to_numpy(dtype=float)})
    recent = frame[history.index > history.index[-1] - pd.Timedelta(days=PROFILE_DAYS)]
    want_kind, want_step = keys(index)
    pairs = pd.MultiIndex.from_arrays([want_kind, want_step])
    values = recent.groupby(["kind", "step"])["v"].mean().reindex(pairs).to_numpy()
    for fallback in (frame.groupby(["kind", "step"])["v"].mean().reindex(pairs),
                     recent.groupby("step")["v"].mean().reindex(want_step)):
        values = np.where(np.isnan(values), fallback.to_numpy(), values)
    return np.nan_to_num(values, nan=float(history.mean()))


def _fit_load(history: pd.Series, x: np.ndarray) -> Any:
    """A load model fitted on ``history`` with its feature matrix ``x`` (:func:`features`)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(max_iter=100, categorical_features=[2],
                                          early_stopping=False, random_state=0)
    return model.fit(x, history.to_numpy(dtype=float))  # type: ignore[arg-type]


@dataclass
class Trained:
    """The forecaster fitted on the history before one issue time (``past``): the load
    models (None: seasonal profiles), re-used by every :meth:`predict` from that issue on —
    a rollout trains once a day and re-predicts at each intraday re-plan."""

    park: Park
    past: pd.DataFrame
    load_models: dict[str, Any] | None
    notes: list[str]

    def predict(self, weather_fc: pd.DataFrame,
                scales: Mapping[str, float] | None = None) -> Forecast:
        """Forecasts on ``weather_fc.index`` for every column of :func:`forecast_columns`.
        ``scales``: the calibration of the park's year (``Inputs.calibration``,
        :func:`year_scales`), applied to the forecast weather of calibrated PV arrays and
        wind farms."""
        from threadpoolctl import threadpool_limits

        park, past, index = self.park, self.past, weather_fc.index
        frame, methods, notes = pd.DataFrame(index=index), {}, list(self.notes)
        x = (features(index, weather_fc["temp_air"].to_numpy(dtype=float))
             if self.load_models is not None else None)  # one for all loads
        for name in forecast_columns(park):
            if name.startswith(("pv_kw_", "wind_kw_")):
                frame[name], methods[name] = _renewable(park, name, past, weather_fc, notes,
                                                        scales or {})
            elif self.load_models is not None:
                with threadpool_limits(1):
                    predicted = self.load_models[name].predict(x)
                frame[name] = np.clip(predicted, 0.0, None)
                methods[name] = "gradient boosting (calendar + temperature)"
            else:
                frame[name] = seasonal_profile(past[name], index)
                methods[name] = "seasonal profile"
        return Forecast(frame, methods, past.index[-1], notes)


def train(park: Park, history: pd.DataFrame, issue: pd.Timestamp) -> Trained:
    """The forecaster fitted on ``history`` (park-step rows; the columns it has, and
    optionally weather columns) cut strictly before ``issue``."""
    past = history[history.index < issue]
    if past.empty:
        raise InputDataError("history", f"no rows before the issue time {issue.isoformat()}")
    days = len(past) * park.step_h / 24.0
    notes: list[str] = []
    if (stale := (issue - past.index[-1]) / pd.Timedelta(days=1)) > 1.0:
        notes.append(f"history ends {past.index[-1]:%Y-%m-%d %H:%M}, {stale:.1f} days before "
                     "the issue time: nothing after it is known to the forecast")
    has_temp = "temp_air" in past and past["temp_air"].notna().all()
    learned = days >= MIN_TRAINING_DAYS and has_temp
    if not learned:
        why = (f"{days:.1f} days of history (< {MIN_TRAINING_DAYS})" if days < MIN_TRAINING_DAYS
               else "no temp_air in the history")
        notes.append(f"loads: {why}; seasonal profile per day type instead of the learned model")
    names = [n for n in forecast_columns(park) if not n.startswith(("pv_kw_", "wind_kw_"))]
    for name in names:
        if name not in past:
            raise InputDataError("history", f"no column {name!r}; columns are "
                                 f"{list(history.columns)}")
    models = None
    if learned:
        from threadpoolctl import threadpool_limits

        x = features(past.index, past["temp_air"].to_numpy(dtype=float))  # one for all loads
        with threadpool_limits(1):  # OpenMP threads spin badly on a busy machine; one is plenty
            models = {name: _fit_load(past[name], x) for name in names}
    return Trained(park, past, models, notes)


def make_forecast(park: Park, history: pd.DataFrame, weather_fc: pd.DataFrame,
                  issue: pd.Timestamp, scales: Mapping[str, float] | None = None) -> Forecast:
    """Forecasts on ``weather_fc.index`` (the horizon, from ``issue``) for every column of
    :func:`forecast_columns`, from ``history`` cut strictly before ``issue`` (:func:`train`,
    then :meth:`Trained.predict`)."""
    return train(park, history, issue).predict(weather_fc, scales)


def year_scales(park: Park, year: int) -> dict[str, float]:
    """The calibration scales of the park's modelled ``year`` (none without targets)."""
    if not any(a.annual_energy_kwh is not None for a in (*park.pv, *park.wind)):
        return {}
    return build_inputs(park, year).calibration


def _renewable(park: Park, name: str, past: pd.DataFrame, weather_fc: pd.DataFrame,
               notes: list[str], scales: Mapping[str, float]) -> tuple[np.ndarray, str]:
    """The park's chain on the forecast weather, bias-corrected from history if possible; a
    calibrated asset keeps its year's scale (calibrating to the horizon would force every
    forecast to the target's share of energy)."""
    def chain(weather: pd.DataFrame) -> np.ndarray:
        if name.startswith("pv_kw_"):
            array = next(a for a in park.pv if f"pv_kw_{a.name}" == name)
            scale = scales.get(calibration_key(array), 1.0 if array.annual_energy_kwh else None)
            return pv.array_output_kw(array, park, weather, scale).to_numpy(dtype=float)
        farm = next(f for f in park.wind if f"wind_kw_{f.name}" == name)
        scale = scales.get(calibration_key(farm), 1.0 if farm.annual_energy_kwh else None)
        return wind.farm_output_kw(farm, park, weather, scale).to_numpy(dtype=float)

    modelled = chain(weather_fc)
    weather_cols = list(weather_fc.columns)
    if name not in past or not all(c in past for c in weather_cols):
        notes.append(f"{name}: no measured output with weather in the history; no bias "
                     "correction")
        return modelled, "park model on forecast weather"
    hindcast = chain(past[weather_cols])
    total = hindcast.sum()
    if total <= 0:
        return modelled, "park model on forecast weather"
    factor = float(past[name].sum() / total)
    low, high = BIAS_LIMITS
    if not low <= factor <= high:
        notes.append(f"{name}: measured / modelled {factor:.2f} outside [{low}, {high}], "
                     "clipped (check the metering and the config)")
        factor = min(max(factor, low), high)
    return modelled * factor, f"park model on forecast weather × bias {factor:.3f}"
