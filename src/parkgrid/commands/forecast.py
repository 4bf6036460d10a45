"""The body of ``parkgrid forecast``: a forecast file from history, or a backtest of skill.

History file (CSV/Parquet, the measured-series reader): ``timestamp`` + any of the
forecast columns (``load_kw_<load>``, ``cooling_load_kw_th``, ``pv_kw_<array>``,
``wind_kw_<farm>``) + optionally the measured weather (``ghi``, ``temp_air``,
``wind_speed``; ``dni``/``dhi`` split from GHI when absent). Gaps are interpolated. The
weather forecast has the weather file's columns (GHI, temperature, wind speed at least).
The forecast file written has the columns ``parkgrid schedule --forecast`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from parkgrid.commands.arguments import local_midnight
from parkgrid.commands.schedule import horizon_steps, step_start
from parkgrid.config import Park, load_park
from parkgrid.errors import ArgumentError, InputDataError
from parkgrid.forecasting.ev import forecast_sessions, write_sessions
from parkgrid.forecasting.inputs import check_values, forecast_columns, horizon_index, ratings
from parkgrid.forecasting.model import Forecast, make_forecast, year_scales
from parkgrid.inputs.loads import SESSION_CSV_COLUMNS, session_table
from parkgrid.inputs.timeseries import file_span, read_frame, read_frame_filled
from parkgrid.inputs.weather import read_weather_csv
from parkgrid.io.atomic import atomic_write
from parkgrid.io.targets import check_target, has_columns, is_png

LEAD_BUCKETS_H = (0, 6, 12, 24, 48, 72, 168)
"""Edges of the lead-time bands of a backtest, h (a step of lead h is in (edge, next])."""


@dataclass
class ForecastResult:
    forecast: Forecast | None = None
    skill: pd.DataFrame | None = None
    written: list[Path] = field(default_factory=list)
    ev_sessions: pd.DataFrame | None = None
    """The EV sessions forecast to arrive in the horizon (``--ev-history``)."""


def read_history(path: Path, park: Park, until: pd.Timestamp | None = None) -> pd.DataFrame:
    """Every step of the history file up to (not including) ``until``, with its forecast and
    weather columns; gaps are interpolated from the rows before ``until`` only."""
    first, last, names = file_span(path, park.site.timezone, "history", before=until,
                                    hints=False)
    end = last + pd.Timedelta(minutes=park.time_step_minutes)  # the meter's last step
    if until is not None:
        end = min(end, until)
    index = pd.date_range(first.ceil(f"{park.time_step_minutes}min"), end, inclusive="left",
                          freq=f"{park.time_step_minutes}min")
    if index.empty:
        raise InputDataError(path, f"history: no whole {park.time_step_minutes}-min step from "
                             f"{first:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}")
    loads = [c for c in forecast_columns(park) if not c.startswith(("pv_kw_", "wind_kw_"))]
    if missing := [c for c in loads if c not in names]:
        raise InputDataError(path, f"history: missing column(s) {missing} (every load of the "
                             f"park is forecast from its history); columns are {names}")
    wanted = [c for c in forecast_columns(park) if c in names]
    frame, gaps = read_frame_filled(path, index, park.time_step_minutes, "history",
                                    columns=wanted, fill="interpolate", before=until,
                                    hints=False)
    if {"ghi", "temp_air", "wind_speed"} <= set(names):
        frame = frame.join(read_weather_csv(path, park, index, "history weather", split_ghi=True,
                                            fill="interpolate", before=until, hints=False))
    elif "temp_air" in names:
        frame = frame.join(read_frame(path, index, park.time_step_minutes, "history",
                                      columns=["temp_air"], fill="interpolate", before=until,
                                      hints=False))
    frame[wanted], noise = _meter_noise(frame[wanted], park)
    check_values(frame[wanted], str(path), park, "history")
    frame.attrs["notes"] = [_gap_note(gaps, park)] if gaps.any() else []
    if noise:
        frame.attrs["notes"].append(
            f"history: {noise} PV/wind reading(s) slightly below 0 (at most "
            f"{METER_NOISE_SHARE:.0%} of the rating: an inverter's standby draw) read as 0")
    return frame


def _gap_note(gaps: np.ndarray, park: Park) -> str:
    """What was interpolated in a history (``gaps``: steps with a value missing)."""
    edges = np.diff(np.concatenate([[0], gaps.astype(int), [0]]))
    longest_h = (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max() * park.step_h
    return (f"history: {gaps.sum():,} of {gaps.size:,} steps had a value missing, filled by "
            f"linear interpolation (longest gap {longest_h:g} h)")


def forecast_command(park_path: Path | str, history: Path | str, weather_forecast: Path | str,
                     issue: str | None = None, horizon_h: float = 24.0,
                     out: Path | str | None = None,
                     backtest: str | None = None,
                     ev_history: Path | str | None = None) -> ForecastResult:
    """Forecast ``horizon_h`` from ``issue`` and write it to ``out`` (CSV/Parquet), or with
    ``backtest`` START:END score day-ahead forecasts issued at each local midnight of the
    period against the history (``out``: the skill table as CSV, and ``<out>.png``).
    ``ev_history``: the park's EV session CSV; the arrivals of the horizon are forecast from
    it (:mod:`parkgrid.forecasting.ev`) and written to ``<out stem>.ev_sessions.csv``."""
    park = load_park(park_path)
    n_steps = horizon_steps(horizon_h, park, "--horizon-h")
    history_path, weather_path = Path(history), Path(weather_forecast)
    if ev_history is not None and park.ev is None:
        raise ArgumentError("--ev-history", str(ev_history), "a park with EV chargers")
    if ev_history is not None and backtest is not None:
        raise ArgumentError("--ev-history", str(ev_history),
                            "no --ev-history with --backtest (EV arrivals are not scored)")
    reads = {"park": park_path, "--history": history_path, "--weather-forecast": weather_path,
             "--ev-history": ev_history}
    ev_path = None
    if out is not None:
        _check_out(Path(out), park, reads, backtest is not None)
        if ev_history is not None:
            ev_path = _ev_path(Path(out), reads)
    if backtest is not None:
        if issue is not None:
            raise ArgumentError("--issue", issue, "no --issue with --backtest (a backtest issues "
                                "a forecast at each midnight of its period)")
        result = ForecastResult(skill=backtest_skill(park, history_path, weather_path,
                                                     backtest, n_steps))
        if out is not None:
            result.written += write_skill(result.skill, Path(out))
        return result
    if issue is None:
        raise ArgumentError("--issue", None, "the issue time (or --backtest START:END)")
    start = step_start(issue, park, "--issue")
    index = horizon_index(park, start, n_steps)
    ev_table = None if ev_history is None else session_table(  # read first: fail fast
        Path(ev_history), park.ev.chargers, park.site.timezone)
    weather = read_weather_csv(weather_path, park, index, "weather forecast", split_ghi=True,
                               hints=False)
    past = read_history(history_path, park, start)
    made = make_forecast(park, past, weather, start, year_scales(park, start.year))
    made.notes[:0] = past.attrs["notes"]
    result = ForecastResult(made)
    if park.ev is not None:
        _forecast_ev(result, park, ev_table, start, index)
    if out is not None:
        result.written.append(write_forecast(made.frame, Path(out)))
        if ev_path is not None and result.ev_sessions is not None:
            result.written.append(write_sessions(result.ev_sessions, ev_path))
    return result


METER_NOISE_SHARE = 0.02
"""(est.) A PV or wind history reading at most this share of its asset's rating below 0 is
meter noise (inverters at night and idle turbines draw a little standby power) and read as
0, with a note; one further below, or a load below 0, is refused as any implausible value
is."""


def _meter_noise(frame: pd.DataFrame, park: Park) -> tuple[pd.DataFrame, int]:
    """``frame`` with its generators' meter noise below 0 (:data:`METER_NOISE_SHARE`) read as
    0, and how many readings that changed."""
    frame, changed = frame.copy(), 0
    for name, (_unit, rating) in ratings(park).items():
        if name in frame.columns and name.startswith(("pv_kw_", "wind_kw_")):
            values = frame[name].to_numpy(dtype=float)
            noise = (values < 0) & (values >= -METER_NOISE_SHARE * rating)
            changed += int(noise.sum())
            frame[name] = np.where(noise, 0.0, values)
    return frame, changed


OUT_SUFFIXES = (".csv", ".parquet")
"""The formats ``--out`` may name (forecast file and skill table alike)."""


SKILL_COLUMNS = ["quantity", "lead", "mae", "rmse", "persistence_rmse", "skill", "n_steps"]
"""The backtest's skill table (:func:`backtest_skill`)."""


def _check_out(out: Path, park: Park, reads: dict[str, Path | str | None],
               backtest: bool) -> None:
    """Refuse, before any work is done, an ``--out`` (and a backtest's plot ``<out>.png``)
    that would replace one of the command's inputs or a file that is not a forecast (skill)
    table parkgrid wrote (:func:`parkgrid.io.targets.check_target`)."""
    if backtest:
        check_target(out, "--out", OUT_SUFFIXES, reads,
                     has_columns(lambda names: names == SKILL_COLUMNS), "skill table")
        check_target(out.with_name(out.name + ".png"), "--out", (".png",), reads, is_png,
                     "skill plot")
        return
    known = {"timestamp", *forecast_columns(park)}
    check_target(out, "--out", OUT_SUFFIXES, reads,
                 has_columns(lambda names: names[:1] == ["timestamp"] and set(names) <= known),
                 "forecast table")


def _write_table(table: pd.DataFrame, path: Path) -> Path:
    """``table`` (its columns; no index) as CSV or Parquet, atomically."""
    if path.suffix.lower() == ".parquet":
        return atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))
    if path.suffix.lower() != ".csv":  # for callers of the API; the command checked it
        raise ArgumentError("--out", str(path), "a .csv or .parquet file")
    return atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def _forecast_ev(result: ForecastResult, park: Park, history: pd.DataFrame | None,
                 start: pd.Timestamp, index: pd.DatetimeIndex) -> None:
    """The EV arrivals of the horizon from the session ``history``
    (:func:`~parkgrid.inputs.loads.session_table`) into ``result``, or a note that there are
    none."""
    assert result.forecast is not None
    if history is None:
        result.forecast.notes.append("EV: no --ev-history; no EV arrivals forecast")
        return
    end = index[-1] + pd.Timedelta(minutes=park.time_step_minutes)
    result.ev_sessions, notes = forecast_sessions(history, park, start, end)
    result.forecast.notes.extend(notes)


def _ev_path(out: Path, reads: dict[str, Path | str | None]) -> Path:
    """``<out stem>.ev_sessions.csv``, checked as ``--out`` is (an EV session table parkgrid
    wrote is replaced, no other file)."""
    return check_target(out.with_name(out.stem + ".ev_sessions.csv"), "--out", (".csv",), reads,
                        has_columns(lambda names: names == SESSION_CSV_COLUMNS),
                        "EV session table")


def write_forecast(frame: pd.DataFrame, path: Path) -> Path:
    """A forecast frame as CSV or Parquet (``timestamp`` = ISO 8601 step start)."""
    table = frame.copy()
    table.index = table.index.map(pd.Timestamp.isoformat).rename("timestamp")
    return _write_table(table.reset_index(), path)


def backtest_skill(park: Park, history_path: Path, weather_path: Path, period: str,
                   n_steps: int) -> pd.DataFrame:
    """MAE, RMSE and skill vs persistence per quantity the history measures and lead band over
    forecasts issued at each local midnight of ``period`` (START:END, END exclusive), on the
    metered steps only (a gap in the history is not scored). Persistence repeats the day
    before the issue; skill = 1 − RMSE / RMSE of persistence; ``n_steps`` steps scored."""
    first_day, last_day = _period(period, park)
    history = read_history(history_path, park)
    scored = [c for c in forecast_columns(park) if c in history.columns]
    measured = read_frame(history_path, history.index, park.time_step_minutes, "history",
                          columns=scored, fill="keep")
    scales = year_scales(park, first_day.year)
    days = pd.date_range(first_day, last_day, inclusive="left", freq="D")
    span = horizon_index(park, first_day, (len(days) - 1) * park.steps_per_day + n_steps)
    weather_all = read_weather_csv(weather_path, park, span, "weather forecast", split_ghi=True,
                                   hints=False)
    rows = []
    for day in days:
        index = horizon_index(park, day, n_steps)
        if index[-1] > history.index[-1] or day - pd.Timedelta(days=1) < history.index[0]:
            raise InputDataError(history_path, f"history: covers {history.index[0]} to "
                                 f"{history.index[-1]}; the backtest needs the day before "
                                 f"{day:%Y-%m-%d} and {n_steps} steps from it")
        weather = weather_all.loc[index]
        made = make_forecast(park, read_history(history_path, park, day), weather, day, scales)
        actual = measured.loc[index]
        before = measured.loc[index - pd.Timedelta(days=1) * np.ceil(
            (index - day + pd.Timedelta(1)) / pd.Timedelta(days=1))]
        lead_h = (index - day) / pd.Timedelta(hours=1) + park.step_h
        for name in scored:
            truth = actual[name].to_numpy()
            metered = np.isfinite(truth) & np.isfinite(before[name].to_numpy())
            rows.append(pd.DataFrame({"quantity": name, "lead_h": lead_h,
                                      "error": made.frame[name].to_numpy() - truth,
                                      "persistence_error": before[name].to_numpy() - truth,
                                      }).loc[metered])
    errors = pd.concat(rows, ignore_index=True)
    edges = [e for e in LEAD_BUCKETS_H if e < errors["lead_h"].max()] + [errors["lead_h"].max()]
    errors["lead"] = pd.cut(errors["lead_h"], edges, labels=[
        f"{a:g}–{b:g} h" for a, b in pairwise(edges)])
    grouped = errors.groupby(["quantity", "lead"], observed=True)
    skill = pd.DataFrame({
        "mae": grouped["error"].apply(lambda e: e.abs().mean()),
        "rmse": grouped["error"].apply(lambda e: np.sqrt((e**2).mean())),
        "persistence_rmse": grouped["persistence_error"].apply(lambda e: np.sqrt((e**2).mean())),
    })
    skill["skill"] = 1.0 - skill["rmse"] / skill["persistence_rmse"].replace(0.0, np.nan)
    skill["n_steps"] = grouped["error"].size()
    return skill.reset_index()


def _period(period: str, park: Park) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The START:END of ``--backtest`` as local midnights (ISO dates, END after START)."""
    start, colon, end = period.partition(":")
    if not colon:
        raise ArgumentError("--backtest", period, "START:END dates YYYY-MM-DD, END after START")
    tz = park.site.timezone
    first, last = local_midnight("--backtest", start, tz), local_midnight("--backtest", end, tz)
    if last <= first:
        raise ArgumentError("--backtest", period, "START:END dates YYYY-MM-DD, END after START")
    return first, last


def write_skill(skill: pd.DataFrame, path: Path) -> list[Path]:
    """The skill table as CSV or Parquet at ``path`` and its plot at ``<path>.png``."""
    from matplotlib.figure import Figure

    written = [_write_table(skill.astype({"lead": str}), path)]
    figure = Figure(figsize=(8, 4.5))
    ax = figure.add_subplot()
    for name, rows in skill.groupby("quantity"):
        ax.plot(rows["lead"].astype(str), rows["skill"], marker="o", label=str(name))
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xlabel("lead time")
    ax.set_ylabel("skill vs persistence (1 − RMSE / RMSE persistence)")
    ax.legend(fontsize=8)
    figure.tight_layout()
    png = path.with_name(path.name + ".png")
    written.append(atomic_write(png, lambda tmp: figure.savefig(tmp, format="png", dpi=100)))
    return written
