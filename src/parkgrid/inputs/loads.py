"""Park demand: inflexible electric loads, cooling demand, EV charging sessions and deferrable
windows — each from a measured file or a seeded synthetic model.

Synthetic loads are built over whole calendar years (so a step's value does not depend on the
window asked for) and scaled so that each year's energy is exactly the target.
"""

from __future__ import annotations

import heapq
import zlib
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from parkgrid.config import (
    EV,
    Charger,
    Cooling,
    CoolingLoadModel,
    DeferrableLoad,
    Heating,
    HeatingLoadModel,
    Load,
    Park,
    SyntheticLoad,
)
from parkgrid.errors import InputDataError
from parkgrid.inputs import tariff
from parkgrid.inputs.timeseries import TZ_OFFSET, read_cells

EV_COLUMNS = ["charger", "pile", "bus", "arrival", "departure", "energy_kwh", "max_kw"]
SESSION_CSV_COLUMNS = ["arrival", "departure", "energy_kwh", "charger"]
CHARGER_KINDS = get_args(Charger.model_fields["kind"].annotation)

# Day types (codes) used by every schedule below.
WORKDAY, SATURDAY, SUNDAY, HOLIDAY, CLOSED = range(5)
DAY_TYPE_NAMES = ("workday", "Saturday", "Sunday", "holiday", "Spring Festival closure")

# Activity by hour of day (interpolated between hour centres): the share of the production
# (or occupancy) load running. Shapes are engineering estimates.
_INDUSTRIAL_ACTIVITY = {
    1: [0, 0, 0, 0, 0, 0, 0, 0.2, 1, 1, 1, 1, 0.6, 1, 1, 1, 1, 0.3, 0, 0, 0, 0, 0, 0],
    2: [0.1, 0, 0, 0, 0, 0, 0, 0.3, 1, 1, 1, 1, 0.7, 1, 1, 1, 0.9, 1, 0.8, 1, 1, 1, 1, 0.6],
    3: [0.85, 0.9, 0.9, 0.85, 0.85, 0.9, 0.9, 0.95, 0.85, 1, 1, 1, 0.85, 1, 1, 1, 0.85, 1,
        0.9, 1, 1, 1, 0.95, 0.9],
}
_OFFICE_ACTIVITY = [0, 0, 0, 0, 0, 0, 0.05, 0.3, 0.8, 1, 1, 1, 0.7, 0.9, 1, 1, 1, 0.9, 0.5,
                    0.25, 0.15, 0.05, 0, 0]
# Always-on share of the peak (lighting, IT, compressors, ventilation), by shape/shifts.
_INDUSTRIAL_BASE = {1: 0.20, 2: 0.25, 3: 0.35}
_OFFICE_BASE = 0.25
# Factor on the activity part and on the base part per day type
# (workday, Saturday, Sunday, public holiday, Spring Festival closure).
_INDUSTRIAL_DAY = np.array([1.0, 0.7, 0.25, 0.15, 0.0])
_OFFICE_DAY = np.array([1.0, 0.2, 0.1, 0.1, 0.05])
_BASE_DAY = np.array([1.0, 1.0, 1.0, 1.0, 0.6])
# Noise: a day-to-day level (σ) and an hour-scale AR(1) term (σ, correlation time).
_DAILY_SIGMA, _AR_SIGMA, _AR_TAU_H = 0.04, 0.05, 1.0

# Cooling schedules: on-hours per day type (start h, end h); other steps run at
# off_hours_fraction.
_COOLING_HOURS = {"industrial": (7.0, 22.0), "office": (7.0, 19.0)}
_COOLING_DAYS = {"industrial": (WORKDAY, SATURDAY), "office": (WORKDAY,)}

# EV generator: arrival hour, dwell hours, energy shape (gamma shape parameter).
_FAST_PEAKS = ((0.3, 8.5, 0.7), (0.3, 18.0, 1.0))  # (weight, mean h, sd h); rest uniform
_FAST_SPAN_H, _FAST_DWELL_H = (7.0, 21.0), (0.5, 1.5)
_SLOW_ARRIVAL_H, _SLOW_DWELL_H = (9.0, 0.5, 8.0, 10.0), (8.0, 1.0, 6.0, 10.0)  # mean, sd, lo, hi
_ENERGY_GAMMA_SHAPE = 4.0


# --- calendar helpers --------------------------------------------------------------------------


def day_types(index: pd.DatetimeIndex, holidays: pd.Series | None = None) -> np.ndarray:
    """Day type code per step: WORKDAY (incl. make-up working days), SATURDAY, SUNDAY,
    HOLIDAY, CLOSED (the Spring Festival days off); ``holidays``: the shipped calendar's
    (:func:`parkgrid.inputs.tariff.holiday_mask`) when not given."""
    if holidays is None:
        holidays = tariff.holiday_mask(index)
    weekday = index.day_of_week.to_numpy()
    kinds = np.select([weekday == 5, weekday == 6], [SATURDAY, SUNDAY], WORKDAY)
    kinds[tariff.makeup_workday_mask(index).to_numpy()] = WORKDAY
    off = holidays.to_numpy(dtype=bool)
    kinds[off] = HOLIDAY
    kinds[off & tariff.festival_mask(index, ["spring_festival"]).to_numpy()] = CLOSED
    return kinds


def _hour_of_day(index: pd.DatetimeIndex) -> np.ndarray:
    return (index.hour + index.minute / 60.0).to_numpy()


def _step_minutes(index: pd.DatetimeIndex) -> float:
    step = pd.Timedelta(index.freq) if index.freq is not None else index[1] - index[0]
    return step / pd.Timedelta("1min")


def _stable_seed(*parts: object) -> list[int]:
    """Seed material that is the same in every run (unlike hash())."""
    return [zlib.crc32(str(p).encode()) for p in parts]


def deferrable_window_mask(
    deferrable_cfg: DeferrableLoad, index: pd.DatetimeIndex, holidays: pd.Series
) -> pd.Series:
    """True on steps that lie wholly inside the daily window (on workdays only, if asked)."""
    start_min = (index.hour * 60 + index.minute).to_numpy()
    inside = (start_min >= deferrable_cfg.window_start_h * 60) & (
        start_min + _step_minutes(index) <= deferrable_cfg.window_end_h * 60
    )
    if deferrable_cfg.workdays_only:
        inside &= day_types(index, holidays) == WORKDAY
    return pd.Series(inside, index=index, name=f"window_{deferrable_cfg.name}")


# --- electric load -----------------------------------------------------------------------------


def electric_load_kw(
    load_cfg: Load, park: Park, index: pd.DatetimeIndex, holidays: pd.Series
) -> pd.Series:
    """The load's power at each step, kW (profile file, or synthetic scaled to its annual kWh)."""
    name = f"load_kw_{load_cfg.name}"
    if load_cfg.profile is not None:
        from parkgrid.inputs.timeseries import read_profile

        return read_profile(load_cfg.profile, park, index, f"load '{load_cfg.name}'", "kW",
                            supply_kw(park)).rename(name)
    full = _whole_years(index, park.time_step_minutes)
    full_holidays = _holidays_on(full, index, holidays)
    values = _synthetic_load_kw(load_cfg.synthetic, load_cfg.name, full, full_holidays,
                                park.step_h)
    series = pd.Series(values, index=full, name=name)
    return series if full.equals(index) else series.reindex(index)


def _whole_years(index: pd.DatetimeIndex, step_minutes: int) -> pd.DatetimeIndex:
    first, last = int(index[0].year), int(index[-1].year)
    return pd.date_range(pd.Timestamp(first, 1, 1), pd.Timestamp(last + 1, 1, 1),
                         inclusive="left", freq=f"{step_minutes}min", tz=index.tz)


def _holidays_on(full: pd.DatetimeIndex, index: pd.DatetimeIndex, holidays: pd.Series) -> pd.Series:
    """``holidays`` on the whole years; days outside ``index`` from the holiday table."""
    if full.equals(index):
        return holidays
    given = holidays.reindex(full)
    return given.where(given.notna(), tariff.holiday_mask(full)).astype(bool)


def _synthetic_load_kw(
    cfg: SyntheticLoad, name: str, index: pd.DatetimeIndex, holidays: pd.Series, step_h: float
) -> np.ndarray:
    kinds = day_types(index, holidays)
    hours = _hour_of_day(index) + step_h / 2  # the interval midpoint
    activity, base, day = _shape_parameters(cfg)
    shape = np.interp(hours, np.arange(24) + 0.5, activity, period=24)
    relative = base * _BASE_DAY[kinds] + (1 - base) * shape * day[kinds]
    relative *= _noise(cfg.seed, name, index, step_h)
    year = index.year.to_numpy()
    year = year - year.min()
    energy_per_year = np.bincount(year, weights=relative) * step_h
    return relative * (cfg.target_annual_kwh / energy_per_year)[year]


def _shape_parameters(cfg: SyntheticLoad) -> tuple[list[float], float, np.ndarray]:
    """Hourly activity, always-on share and day-type factors of a synthetic shape."""
    if cfg.shape == "industrial":
        return _INDUSTRIAL_ACTIVITY[cfg.shifts], _INDUSTRIAL_BASE[cfg.shifts], _INDUSTRIAL_DAY
    return _OFFICE_ACTIVITY, _OFFICE_BASE, _OFFICE_DAY


def _noise(seed: int, name: str, index: pd.DatetimeIndex, step_h: float) -> np.ndarray:
    """Multiplicative noise (mean ≈ 1, ≥ 0): a daily level times an AR(1) term, seeded per year."""
    out = np.empty(len(index))
    years = index.year.to_numpy()
    days = index.tz_localize(None).normalize().to_numpy()
    phi = np.exp(-step_h / _AR_TAU_H)
    for year in np.unique(years):
        rows = np.flatnonzero(years == year)
        rng = np.random.default_rng([seed, int(year), *_stable_seed(name)])
        day_codes = np.unique(days[rows], return_inverse=True)[1]
        daily = rng.normal(0.0, _DAILY_SIGMA, day_codes.max() + 1)[day_codes]
        white = rng.normal(0.0, 1.0, len(rows))
        ar = lfilter([_AR_SIGMA * np.sqrt(1 - phi**2)], [1.0, -phi], white)
        out[rows] = np.clip((1 + daily) * (1 + ar), 0.0, None)
    return out


# --- cooling -----------------------------------------------------------------------------------


def supply_kw(park: Park) -> float:
    """The most power the park could ever deliver to its loads: grid import, PV and wind
    nameplate and battery power, kW (the rating a measured load is checked against)."""
    from parkgrid.inputs.wind import farm_capacity_kw

    return (park.grid.import_limit_kw + sum(a.capacity_kwp for a in park.pv)
            + sum(farm_capacity_kw(f, park) for f in park.wind)
            + sum(b.power_kw for b in park.batteries))


def cooling_rating_kw_th(cooling_cfg: Cooling) -> float:
    """The most cooling the plant can deliver: chillers and tank discharge, kW_th (the rating
    a measured or forecast cooling load is checked against)."""
    tank = cooling_cfg.tank
    return (sum(c.capacity_kw_th for c in cooling_cfg.chillers)
            + (tank.max_discharge_kw_th if tank is not None else 0.0))


def cooling_load_kw_th(
    cooling_cfg: Cooling, park: Park, weather: pd.DataFrame, holidays: pd.Series
) -> pd.Series:
    """Cooling demand at each step, kW_th (profile file, or the degree-hour model)."""
    name = "cooling_load_kw_th"
    if cooling_cfg.profile is not None:
        from parkgrid.inputs.timeseries import read_profile

        return read_profile(cooling_cfg.profile, park, weather.index, "cooling load", "kW_th",
                            cooling_rating_kw_th(cooling_cfg)).rename(name)
    model = cooling_cfg.load
    assert model is not None
    kw_th = model.peak_kw_th * degree_share(model, weather, holidays)
    return pd.Series(np.clip(kw_th, 0.0, None), index=weather.index, name=name)


def degree_share(
    model: CoolingLoadModel | HeatingLoadModel, weather: pd.DataFrame, holidays: pd.Series
) -> np.ndarray:
    """The share of the peak a thermal load takes at each step: ``base_fraction``, plus the
    rest in proportion to how far the air is from the balance temperature towards the design
    temperature (above it for cooling, below it for heating), on the occupancy schedule."""
    temp_c = weather["temp_air"].to_numpy(dtype=float)
    toward_design = np.clip((temp_c - model.balance_temp_c)
                            / (model.design_temp_c - model.balance_temp_c), 0.0, 1.0)
    schedule = occupancy_schedule(model, weather.index, holidays)
    return model.base_fraction + (1 - model.base_fraction) * toward_design * schedule


def occupancy_schedule(
    model: CoolingLoadModel | HeatingLoadModel, index: pd.DatetimeIndex, holidays: pd.Series
) -> np.ndarray:
    """1 in occupied/production hours, ``off_hours_fraction`` otherwise."""
    if model.schedule == "continuous":
        return np.ones(len(index))
    start_h, end_h = _COOLING_HOURS[model.schedule]
    hours = _hour_of_day(index)
    on = (hours >= start_h) & (hours < end_h) & np.isin(
        day_types(index, holidays), _COOLING_DAYS[model.schedule]
    )
    return np.where(on, 1.0, model.off_hours_fraction)


# --- heating -----------------------------------------------------------------------------------


def heating_load_kw_th(
    heating: Heating, park: Park, weather: pd.DataFrame, holidays: pd.Series
) -> pd.Series:
    """Heating demand at each step, kW_th (profile file, or the degree-hour model: the share
    of the peak below the balance temperature, on the occupancy schedule, scaled to the peak
    or to the year's ``annual_kwh_th``)."""
    name = "heating_load_kw_th"
    if heating.profile is not None:
        from parkgrid.inputs.timeseries import read_profile

        return read_profile(heating.profile, park, weather.index, "heating load", "kW_th",
                            heating.capacity_kw_th).rename(name)
    model = heating.load
    assert model is not None
    share = degree_share(model, weather, holidays)
    if model.peak_kw_th is not None:
        kw_th = model.peak_kw_th * share
    else:
        # the shape's energy over the weather's period, prorated to a whole year
        full = len(_whole_years(weather.index, park.time_step_minutes))
        kwh_per_year = float(share.sum()) * park.step_h * full / len(weather.index)
        if kwh_per_year <= 0:
            raise InputDataError(park.source_file or "<memory>", (
                "heating.load.annual_kwh_th: the weather is never below balance_temp_c "
                f"({model.balance_temp_c:g} °C) and base_fraction is 0: no demand to scale"))
        kw_th = share * (model.annual_kwh_th / kwh_per_year)
    return pd.Series(np.clip(kw_th, 0.0, None), index=weather.index, name=name)


# --- EV sessions -------------------------------------------------------------------------------


def ev_sessions(
    ev_cfg: EV, park: Park, index: pd.DatetimeIndex, holidays: pd.Series
) -> pd.DataFrame:
    """One row per charging session that arrives within ``index`` (see ``EV_COLUMNS``).

    Times are on the step grid; ``energy_kwh`` is drawn from the bus (energy to the car /
    charger efficiency) and ``max_kw`` is the charger's power at the bus. Sessions on one pile
    never overlap.
    """
    if ev_cfg.sessions is not None:
        steps = _read_sessions(ev_cfg, park, index)
    else:
        steps = _generate_sessions(ev_cfg, park, index, holidays)
    return _to_frame(steps, ev_cfg.chargers, index, park.time_step_minutes)


def _to_frame(
    s: pd.DataFrame, chargers: list[Charger], index: pd.DatetimeIndex, step_minutes: int
) -> pd.DataFrame:
    """Sessions in steps from ``index[0]`` (charger, pile, start, end, car kWh) → EV_COLUMNS."""
    by_name = {c.name: c for c in chargers}
    eff = np.array([by_name[n].efficiency for n in s["charger"]], dtype=float)
    def at(steps: pd.Series) -> pd.DatetimeIndex:
        return index[0] + pd.to_timedelta(steps.to_numpy(dtype=np.int64) * step_minutes, "min")

    frame = pd.DataFrame({
        "charger": s["charger"].astype(object).to_numpy(),
        "pile": s["pile"].to_numpy(dtype=np.int64),
        "bus": [by_name[n].bus for n in s["charger"]],
        "arrival": at(s["start"]),
        "departure": at(s["end"]),
        "energy_kwh": s["car_kwh"].to_numpy(dtype=float) / eff,
        "max_kw": np.array([by_name[n].power_kw for n in s["charger"]], dtype=float) / eff,
    }, columns=EV_COLUMNS)
    return frame.sort_values(["arrival", "charger", "pile"], kind="stable").reset_index(drop=True)


# --- session file --------------------------------------------------------------------------------

def _read_sessions(ev_cfg: EV, park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Validate the session CSV row by row, align it to the steps and assign piles."""
    datafile = ev_cfg.sessions
    assert datafile is not None
    path = park.resolve(datafile.path)
    assert path is not None
    by_name = {c.name: c for c in ev_cfg.chargers}
    table = session_table(path, ev_cfg.chargers, str(index.tz))
    arrival, rows = pd.DatetimeIndex(table["arrival"]), table["row"].to_numpy()
    step_ns = park.time_step_minutes * 60 * 10**9
    first, last = index[0].year, index[-1].year
    outside = np.flatnonzero((arrival.year < first) | (arrival.year > last))
    if outside.size:  # sessions of the simulated year(s) outside ``index`` are left out
        i = outside[0]
        raise InputDataError(path, (
            f"EV sessions: row {rows[i]}: got arrival {arrival[i]:%Y-%m-%d %H:%M}; expected an "
            f"arrival in the simulated year{'s' if last > first else ''} "
            f"{first}{f'–{last}' if last > first else ''}"))
    sessions = _on_steps(table, index, step_ns)
    sessions["pile"] = _assign_piles(sessions, by_name, path, index, step_ns)
    return sessions


def session_table(path: Path, chargers: list[Charger], tz: str) -> pd.DataFrame:
    """The rows of a session CSV (``SESSION_CSV_COLUMNS``) validated one by one: charger,
    arrival, departure (in ``tz``), car_kwh (energy to the car) and row (line number)."""
    raw, rows = _read_csv(path)
    by_name = {c.name: c for c in chargers}
    arrival = _parse_stamps(raw["arrival"], rows, path, "arrival", tz)
    departure = _parse_stamps(raw["departure"], rows, path, "departure", tz)
    energy = pd.to_numeric(raw["energy_kwh"], errors="coerce").to_numpy(dtype=float)
    charger = raw["charger"].astype("string").str.strip().fillna("")
    power_kw = charger.map({n: c.power_kw for n, c in by_name.items()}).to_numpy(dtype=float)
    stay_h = (departure - arrival) / pd.Timedelta("1h")
    fine = (energy >= 0) & (energy <= power_kw * stay_h * (1 + 1e-9)) & (stay_h > 0)
    suspect = ~np.asarray(fine, dtype=bool)  # NaN (unknown charger, bad number) is suspect
    for i in np.flatnonzero(suspect):  # the message is worked out row by row, first bad wins
        problem = _session_problem(by_name, charger.iloc[i], arrival[i], departure[i], energy[i],
                                   raw["energy_kwh"].iloc[i])
        if problem:
            raise InputDataError(path, f"EV sessions: row {rows[i]}: {problem}")
    return pd.DataFrame({"charger": charger.to_numpy(dtype=object), "arrival": arrival,
                         "departure": departure, "car_kwh": energy, "row": rows})


def planned_sessions(
    table: pd.DataFrame, chargers: list[Charger], path: Path, index: pd.DatetimeIndex,
    taken: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The sessions of ``table`` (:func:`session_table`) arriving within ``index`` as
    ``EV_COLUMNS``, piles assigned by :func:`_assign_piles` around the piles ``taken`` (sessions
    in ``EV_COLUMNS`` already on a pile, e.g. the EVs plugged in at the start)."""
    step_minutes = round(_step_minutes(index))
    step_ns = step_minutes * 60 * 10**9
    sessions = _on_steps(table, index, step_ns)
    held = None
    if taken is not None and not taken.empty:
        held = list(zip(taken["charger"], taken["pile"].astype(int),
                        _steps_from(taken["departure"], index, step_ns), strict=True))
    by_name = {c.name: c for c in chargers}
    sessions["pile"] = _assign_piles(sessions, by_name, path, index, step_ns, held)
    return _to_frame(sessions, chargers, index, step_minutes)


def fitting_sessions(table: pd.DataFrame, chargers: list[Charger],
                     index: pd.DatetimeIndex) -> pd.DataFrame:
    """The rows of ``table`` (:func:`session_table`) arriving within ``index`` that find a free
    pile (:func:`_assign_piles`, earliest arrival first); the others are left out."""
    table = table.reset_index(drop=True)
    step_ns = round(_step_minutes(index)) * 60 * 10**9
    sessions = _on_steps(table, index, step_ns)
    piles = _assign_piles(sessions, {c.name: c for c in chargers}, Path("sessions"), index,
                          step_ns, skip=True)
    return table.loc[sessions.index[piles >= 0]].reset_index(drop=True)


def _steps_from(times: pd.Series, index: pd.DatetimeIndex, step_ns: int) -> np.ndarray:
    """Times as whole steps from ``index[0]`` (rounded to the nearest step)."""
    ns = pd.DatetimeIndex(times).as_unit("ns").asi8
    return np.rint((ns - index[0].value) / step_ns).astype(np.int64)


def _on_steps(table: pd.DataFrame, index: pd.DatetimeIndex, step_ns: int) -> pd.DataFrame:
    """The sessions of ``table`` arriving within ``index``, in steps (at least one)."""
    start = _steps_from(table["arrival"], index, step_ns)
    end = np.maximum(_steps_from(table["departure"], index, step_ns), start + 1)
    keep = (start >= 0) & (start < len(index))
    return pd.DataFrame({"charger": table["charger"].to_numpy(dtype=object), "start": start,
                         "end": end, "car_kwh": table["car_kwh"].to_numpy(dtype=float),
                         "row": table["row"].to_numpy()})[keep]


def _read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The cells as text and each row's line number (the header is line 1)."""
    raw, rows = read_cells(path, "EV sessions")
    missing = [c for c in SESSION_CSV_COLUMNS if c not in raw.columns]
    if missing:
        raise InputDataError(path, f"EV sessions: missing column(s) {missing}; expected "
                                   f"{SESSION_CSV_COLUMNS}, found {list(raw.columns)}")
    return raw, rows


def _parse_stamps(
    cells: pd.Series, rows: np.ndarray, path: Path, column: str, tz: str
) -> pd.DatetimeIndex:
    """Timestamps in the park's zone; naive ones are local time, ones with an offset converted."""
    text = cells.astype("string").str.strip().fillna("")
    aware = text.str.contains(TZ_OFFSET, regex=True).to_numpy(dtype=bool)
    utc_ns = np.full(len(text), np.iinfo(np.int64).min)
    if aware.any():
        utc_ns[aware] = _to_datetime(text[aware], utc=True).as_unit("ns").asi8
    if (~aware).any():
        naive = _to_datetime(text[~aware], utc=False)
        local = naive.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        utc_ns[~aware] = local.as_unit("ns").asi8
    bad = np.flatnonzero(utc_ns == np.iinfo(np.int64).min)
    if bad.size:
        raise InputDataError(path, (
            f"EV sessions: row {rows[bad[0]]}: cannot read {column} {text.iloc[bad[0]]!r} "
            "(expected e.g. '2025-03-01 08:15' or '2025-03-01T08:15:00+08:00')"
        ))
    return pd.DatetimeIndex(utc_ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)


def _to_datetime(text: pd.Series, utc: bool) -> pd.DatetimeIndex:
    """ISO 8601 first; other formats only for the cells that need it."""
    stamps = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
    retry = stamps.isna().to_numpy()
    if retry.any():
        again = pd.to_datetime(text[retry], format="mixed", errors="coerce", utc=utc)
        stamps = stamps.fillna(again.astype(stamps.dtype))
    return pd.DatetimeIndex(stamps)


def _session_problem(
    chargers: dict[str, Charger], name: str, arrival: pd.Timestamp, departure: pd.Timestamp,
    energy_kwh: float, energy_cell: object,
) -> str | None:
    """What is wrong with one session row, or None."""
    if name not in chargers:
        return f"unknown charger {name!r}; expected one of {list(chargers)}"
    if not np.isfinite(energy_kwh) or energy_kwh < 0:
        return f"energy_kwh {energy_cell!r} is not a number ≥ 0"
    if departure <= arrival:
        return (f"departure {departure:%Y-%m-%d %H:%M} is not after arrival "
                f"{arrival:%Y-%m-%d %H:%M}")
    power_kw = chargers[name].power_kw
    stay_h = (departure - arrival) / pd.Timedelta("1h")
    if energy_kwh > power_kw * stay_h * (1 + 1e-9):
        return (f"energy_kwh {energy_kwh:g} cannot be delivered in the {stay_h:.2f} h stay at "
                f"{power_kw:g} kW of charger {name!r} ({power_kw * stay_h:.1f} kWh at most)")
    return None


def _assign_piles(
    sessions: pd.DataFrame, chargers: dict[str, Charger], path: Path,
    index: pd.DatetimeIndex, step_ns: int,
    held: list[tuple[str, int, int]] | None = None, skip: bool = False,
) -> np.ndarray:
    """Pile per session so that sessions on one pile never share a step (lowest free pile).
    ``held``: (charger, pile, end step) already taken (EVs plugged in; shown as row 0 in a
    conflict). ``skip``: a session finding no free pile gets pile −1 instead of an error."""
    piles = np.zeros(len(sessions), dtype=np.int64)
    order = np.lexsort((sessions["end"].to_numpy(), sessions["start"].to_numpy()))
    names = sessions["charger"].to_numpy()
    start, end, rows = (sessions[c].to_numpy() for c in ("start", "end", "row"))
    free = {n: list(range(c.count)) for n, c in chargers.items()}
    busy: dict[str, list[tuple[int, int, int]]] = {n: [] for n in chargers}  # (end, pile, row)
    for name, pile, until in held or []:
        free[name].remove(pile)
        heapq.heappush(busy[name], (until, pile, 0))
    for i in order:
        name = names[i]
        while busy[name] and busy[name][0][0] <= start[i]:
            heapq.heappush(free[name], heapq.heappop(busy[name])[1])
        if not free[name] and skip:
            piles[i] = -1
            continue
        if not free[name]:
            at = index[0] + pd.Timedelta(int(start[i]) * step_ns, "ns")
            others = sorted(int(r) for _, _, r in busy[name] if r)
            plugged = len(busy[name]) - len(others)  # held piles carry row 0
            raise InputDataError(path, (
                f"EV sessions: row {rows[i]}: charger {name!r} has {chargers[name].count} "
                f"pile(s), all in use at {at:%Y-%m-%d %H:%M} (rows {others}"
                f"{f' and {plugged} EV(s) plugged in at the start' if plugged else ''}); times "
                "are rounded to the park's step"
            ))
        piles[i] = heapq.heappop(free[name])
        heapq.heappush(busy[name], (int(end[i]), int(piles[i]), int(rows[i])))
    return piles


# --- session generator ---------------------------------------------------------------------------


def _generate_sessions(
    ev_cfg: EV, park: Park, index: pd.DatetimeIndex, holidays: pd.Series
) -> pd.DataFrame:
    """Seeded sessions: per pile and day a Poisson count (workday vs weekend/holiday rate)."""
    gen = ev_cfg.generator
    assert gen is not None
    step_h = park.step_h
    first_steps = np.flatnonzero(
        np.r_[True, np.diff(index.tz_localize(None).normalize().to_numpy()) > np.timedelta64(0)]
    )
    day_start = (first_steps - (_hour_of_day(index)[first_steps] / step_h)).round().astype(int)
    workday = day_types(index, holidays)[first_steps] == WORKDAY
    parts = []
    for charger in ev_cfg.chargers:
        rng = np.random.default_rng([gen.seed, *_stable_seed(charger.name)])
        rate = np.where(workday, gen.sessions_per_pile_workday[charger.kind],
                        gen.sessions_per_pile_weekend[charger.kind])
        counts = rng.poisson(rate, size=(charger.count, len(rate)))
        for pile in range(charger.count):
            day_of = np.repeat(np.arange(len(rate)), counts[pile])
            arrival_h, dwell_h = _draw_times(rng, charger.kind, len(day_of))
            start = day_start[day_of] + np.rint(arrival_h / step_h).astype(int)
            dwell = np.maximum(np.rint(dwell_h / step_h).astype(int), 1)
            start, end = _queue(start, dwell)
            car_max_kwh = charger.power_kw * (end - start) * step_h
            mean_kwh = gen.mean_energy_kwh[charger.kind]
            drawn = rng.gamma(_ENERGY_GAMMA_SHAPE, mean_kwh / _ENERGY_GAMMA_SHAPE, len(start))
            keep = (start >= 0) & (start < len(index))
            parts.append(pd.DataFrame({
                "charger": charger.name, "pile": pile, "start": start[keep], "end": end[keep],
                "car_kwh": np.minimum(drawn, car_max_kwh)[keep],
            }))
    return pd.concat(parts, ignore_index=True)


def _draw_times(rng: np.random.Generator, kind: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Arrival hour of day and dwell hours of ``n`` sessions of a charger kind."""
    if kind == "fast_dc":
        lo, hi = _FAST_SPAN_H
        pick = rng.random(n)
        arrival = rng.uniform(lo, hi, n)
        edge = 0.0
        for weight, mean_h, sd_h in _FAST_PEAKS:
            chosen = (pick >= edge) & (pick < edge + weight)
            arrival[chosen] = rng.normal(mean_h, sd_h, n)[chosen]
            edge += weight
        return np.clip(arrival, lo, hi), rng.uniform(*_FAST_DWELL_H, n)
    return _clipped_normal(rng, _SLOW_ARRIVAL_H, n), _clipped_normal(rng, _SLOW_DWELL_H, n)


def _clipped_normal(rng: np.random.Generator, spec: tuple[float, ...], n: int) -> np.ndarray:
    mean, sd, lo, hi = spec
    return np.clip(rng.normal(mean, sd, n), lo, hi)


def _queue(start: np.ndarray, dwell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sessions of one pile in arrival order, each waiting for the previous to leave (steps).

    end_i = max(start_i, end_{i-1}) + dwell_i, solved at once: with W the cumulative dwell,
    end_i = W_i + max_{j≤i}(start_j − W_{j−1}).
    """
    order = np.argsort(start, kind="stable")
    start, dwell = start[order], dwell[order]
    total = np.cumsum(dwell)
    end = total + np.maximum.accumulate(start - (total - dwell))
    return end - dwell, end
