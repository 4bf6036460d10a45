"""Grid tariff: Chinese public holidays, TOU calendars (data files) → step prices, demand charges.

A TOU calendar is a YAML file (built-in ones in ``parkgrid/data/``): seasons (sets of months)
map hour ranges to periods, holiday rules overlay periods on the days off of named festivals,
and default prices per period. A step's period is that of its start time (the index labels
interval starts). Public holidays come from ``data/holidays_cn.yaml`` (2020–2035).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from parkgrid.config import Park, Tariff, describe_error, read_yaml
from parkgrid.errors import ConfigError, InputDataError

PERIODS = ("sharp", "peak", "flat", "valley", "deep_valley")
FESTIVALS = ("new_year", "spring_festival", "qingming", "may_day", "dragon_boat", "mid_autumn",
             "national_day")
BUILTIN_CALENDARS = ("zhejiang_2024", "zhejiang_2026", "guangdong")
DEMAND_WINDOW = "15min"
DECLARED_TOLERANCE = 1.05
"""Import up to 105 % of the declared demand is not penalised."""

Period = Literal["sharp", "peak", "flat", "valley", "deep_valley"]
Festival = Literal["new_year", "spring_festival", "qingming", "may_day", "dragon_boat",
                   "mid_autumn", "national_day"]
_MINUTES_PER_DAY = 1440
_RANGE = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*[-–]\s*(\d{1,2})(?::(\d{2}))?\s*$")


def _data_path(name: str) -> Path:
    return Path(str(resources.files("parkgrid").joinpath("data", name)))


# --- public holidays -------------------------------------------------------------------------


class HolidayTable:
    """The days off (a bit per festival) and make-up working days of the holiday data file."""

    def __init__(self, path: Path) -> None:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.path = path
        self.first_year, self.last_year = int(doc["first_year"]), int(doc["last_year"])
        self.derived_years = sorted(y for y, v in doc["years"].items() if v["status"] == "derived")
        bits: dict[np.datetime64, int] = {}
        workdays: list[np.datetime64] = []
        for year in doc["years"].values():
            for festival, (first, last) in year["days_off"].items():
                for day in np.arange(np.datetime64(first), np.datetime64(last) + 1):
                    bits[day] = bits.get(day, 0) | _festival_bits([festival])
            workdays.extend(np.datetime64(d) for d in year["workdays"])
        order = sorted(bits)
        self.days = np.array(order, dtype="datetime64[D]")
        self.bits = np.array([bits[d] for d in order], dtype=np.int64)
        self.workdays = np.array(sorted(workdays), dtype="datetime64[D]")

    def local_days(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Each step's local calendar day; an error if a year is not in the table."""
        years = np.unique(index.year)
        outside = [int(y) for y in years if not self.first_year <= y <= self.last_year]
        if outside:
            raise InputDataError(
                self.path,
                f"no public holidays for {', '.join(map(str, outside))}: the table covers "
                f"{self.first_year}–{self.last_year}; choose a year in that range (park 'year')",
            )
        return index.tz_localize(None).to_numpy().astype("datetime64[D]")

    def festival_bits(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Per step: the festivals whose days off include the step's day, as bits."""
        days = self.local_days(index)
        pos = np.clip(np.searchsorted(self.days, days), 0, len(self.days) - 1)
        return np.where(self.days[pos] == days, self.bits[pos], 0)


def _festival_bits(festivals: list[str]) -> int:
    return sum(1 << FESTIVALS.index(f) for f in set(festivals))


@lru_cache(maxsize=1)
def holiday_table() -> HolidayTable:
    """The shipped table of Chinese statutory public holidays."""
    return HolidayTable(_data_path("holidays_cn.yaml"))


def holiday_mask(index: pd.DatetimeIndex) -> pd.Series:
    """True on the steps of Chinese statutory public holidays (days off), on ``index`` (every
    calendar uses them)."""
    bits = holiday_table().festival_bits(index)
    return pd.Series(bits != 0, index=index, name="is_holiday")


def festival_mask(index: pd.DatetimeIndex, festivals: list[str]) -> pd.Series:
    """True on the days off of any of ``festivals`` (names in ``FESTIVALS``)."""
    unknown = sorted(set(festivals) - set(FESTIVALS))
    if unknown:
        raise ValueError(f"unknown festival(s) {unknown}; expected some of {list(FESTIVALS)}")
    bits = holiday_table().festival_bits(index)
    return pd.Series((bits & _festival_bits(festivals)) != 0, index=index)


def makeup_workday_mask(index: pd.DatetimeIndex) -> pd.Series:
    """True on weekend days that are official make-up working days (调休上班).

    Only published years list them; derived years have none.
    """
    table = holiday_table()
    return pd.Series(np.isin(table.local_days(index), table.workdays), index=index)


# --- TOU calendars ---------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _parse_range(key: object) -> tuple[int, int]:
    """'08-11' or '08:30-11:00' → (start, end) minutes of the day."""
    match = _RANGE.match(key) if isinstance(key, str) else None
    if match is None:
        raise ValueError(
            f"hour range {key!r} should look like '08-11' or '08:30-11:00' (quote it in YAML)"
        )
    h0, m0, h1, m1 = (int(g) if g else 0 for g in match.groups())
    start, end = 60 * h0 + m0, 60 * h1 + m1
    if m0 >= 60 or m1 >= 60 or not 0 <= start < end <= _MINUTES_PER_DAY:
        raise ValueError(f"hour range {key!r} should run forward within 00:00–24:00")
    return start, end


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute_codes(hours: dict[str, str], cover: bool) -> np.ndarray:
    """Period code per minute of the day (-1 where no range applies); overlaps are errors."""
    codes = np.full(_MINUTES_PER_DAY, -1, dtype=np.int8)
    for key, period in hours.items():
        start, end = _parse_range(key)
        taken = np.flatnonzero(codes[start:end] >= 0)
        if taken.size:
            raise ValueError(
                f"ranges that do not overlap; {key!r} overlaps another range at "
                f"{_clock(start + int(taken[0]))}"
            )
        codes[start:end] = PERIODS.index(period)
    gaps = np.flatnonzero(codes < 0)
    if cover and gaps.size:
        first = int(gaps[0])
        last = first + int(np.argmax(codes[first:] >= 0)) if (codes[first:] >= 0).any() else 1440
        raise ValueError(
            f"ranges covering the whole day (00:00–24:00); {_clock(first)}–{_clock(last)} "
            "is not covered"
        )
    return codes


class Season(_Strict):
    """Months that share one daily pattern of TOU periods."""

    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(min_length=1)
    hours: dict[str, Period] = Field(description="'HH-HH' or 'HH:MM-HH:MM' → period")

    @field_validator("hours")
    @classmethod
    def _covers_day(cls, hours: dict[str, str]) -> dict[str, str]:
        _minute_codes(hours, cover=True)
        return hours


class HolidayRule(_Strict):
    """Periods that replace the normal ones on the days off of some festivals."""

    festivals: list[Festival] = Field(min_length=1)
    hours: dict[str, Period]

    @field_validator("hours")
    @classmethod
    def _no_overlap(cls, hours: dict[str, str]) -> dict[str, str]:
        _minute_codes(hours, cover=False)
        return hours


class Calendar(_Strict):
    """A TOU calendar file: seasons, holiday rules and default prices."""

    name: str
    description: str = ""
    source: str = ""
    prices_yuan_per_kwh: dict[Period, Annotated[float, Field(ge=0)]] = {}
    seasons: list[Season] = Field(min_length=1)
    holiday_rules: list[HolidayRule] = []

    @model_validator(mode="after")
    def _every_month_once(self) -> Calendar:
        months = [m for s in self.seasons for m in s.months]
        missing = sorted(set(range(1, 13)) - set(months))
        twice = sorted({m for m in months if months.count(m) > 1})
        if missing or twice:
            detail = "; ".join(
                part for part in (f"missing {missing}" if missing else "",
                                  f"more than once {twice}" if twice else "") if part
            )
            raise ValueError(f"every month 1–12 in exactly one season ({detail})")
        return self

    def minute_table(self) -> np.ndarray:
        """Period codes, shape (12 months, 1440 minutes)."""
        table = np.empty((12, _MINUTES_PER_DAY), dtype=np.int8)
        for season in self.seasons:
            table[np.array(season.months) - 1] = _minute_codes(season.hours, cover=True)
        return table

    def periods_used(self) -> set[str]:
        rules = [*self.seasons, *self.holiday_rules]
        return {p for r in rules for p in r.hours.values()}


def read_calendar(path: Path) -> Calendar:
    """Read and validate a TOU calendar YAML file; ConfigError naming each bad field."""
    data = read_yaml(path, "calendar file")
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping (name, seasons, …)"])
    try:
        return Calendar.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, [describe_error(e) for e in exc.errors()]) from None


@lru_cache(maxsize=len(BUILTIN_CALENDARS))
def _builtin_calendar(name: str) -> Calendar:
    return read_calendar(_data_path(f"tariff_{name}.yaml"))


def load_calendar(tariff_cfg: Tariff, park: Park) -> Calendar:
    """The calendar named by ``tariff_cfg.calendar``: a built-in name or a YAML file."""
    if tariff_cfg.calendar in BUILTIN_CALENDARS:
        return _builtin_calendar(tariff_cfg.calendar)
    path = park.resolve(tariff_cfg.calendar)
    assert path is not None
    if not path.is_file():
        source = park.source_file or "<park>"
        raise ConfigError(source, [
            f"tariff.calendar: got {tariff_cfg.calendar!r}; expected a built-in calendar "
            f"({', '.join(BUILTIN_CALENDARS)}) or a calendar YAML file (not found: {path})"
        ])
    return read_calendar(path)


def _prices(calendar: Calendar, tariff_cfg: Tariff, park: Park) -> np.ndarray:
    """Price per period code (NaN for unused periods), overrides applied."""
    prices = {**calendar.prices_yuan_per_kwh, **(tariff_cfg.prices_yuan_per_kwh or {})}
    missing = sorted(calendar.periods_used() - set(prices), key=PERIODS.index)
    if missing:
        raise ConfigError(park.source_file or "<park>", [
            f"tariff.prices_yuan_per_kwh: no price for {', '.join(missing)}; expected a price "
            f"for every period of calendar {calendar.name!r}"
        ])
    return np.array([prices.get(p, np.nan) for p in PERIODS])


def tou_codes(calendar: Calendar, index: pd.DatetimeIndex) -> np.ndarray:
    """Index into ``PERIODS`` of each step's TOU period (by the step's start time)."""
    minute = (index.hour * 60 + index.minute).to_numpy()
    codes = calendar.minute_table()[index.month.to_numpy() - 1, minute]
    if calendar.holiday_rules:
        bits = holiday_table().festival_bits(index)
        for rule in calendar.holiday_rules:
            override = _minute_codes(rule.hours, cover=False)[minute]
            applies = ((bits & _festival_bits(rule.festivals)) != 0) & (override >= 0)
            codes = np.where(applies, override, codes)
    return codes


def tariff_frame(tariff_cfg: Tariff, park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Per step: import and export price (yuan/kWh) and the TOU period name."""
    calendar = load_calendar(tariff_cfg, park)
    prices = _prices(calendar, tariff_cfg, park)
    codes = tou_codes(calendar, index)
    return pd.DataFrame({
        "price_import_yuan_per_kwh": prices[codes],
        "price_export_yuan_per_kwh": np.full(len(index), tariff_cfg.export_price_yuan_per_kwh),
        "tou_period": pd.Categorical.from_codes(codes, categories=list(PERIODS)),
    }, index=index)


# --- demand charge -----------------------------------------------------------------------------


def demand_15min_kw(import_kw: pd.Series) -> pd.Series:
    """Mean import over each clock-aligned 15-min window, kW (from any step that is a multiple
    of 5 min; coarser steps are held constant within the step)."""
    index = import_kw.index
    step = pd.Timedelta(index.freq) if index.freq is not None else index[1] - index[0]
    repeat = step // pd.Timedelta("5min")
    if repeat < 1 or step % pd.Timedelta("5min"):
        raise ValueError(f"step {step} is not a multiple of 5 min")
    fine = pd.Series(
        np.repeat(import_kw.to_numpy(dtype=float), repeat),
        index=pd.date_range(index[0], periods=len(index) * repeat, freq="5min"),
    )
    return fine.resample(DEMAND_WINDOW).mean()


def monthly_peaks_kw(import_kw: pd.Series) -> pd.Series:
    """Maximum 15-min average import of each calendar month, kW (index: month starts)."""
    return demand_15min_kw(import_kw).resample("MS").max().rename("peak_kw")


def demand_charge_yuan(monthly_peaks_kw: pd.Series | np.ndarray | float,
                       tariff_cfg: Tariff) -> float:
    """The demand charge of the given months, summed, yuan (one value = one month).

    - ``max_demand``: rate × the month's maximum 15-min import;
    - ``capacity``: rate × capacity_kva, whatever the peak;
    - ``declared``: rate × declared_kw, plus the part of the peak above 105 % of declared_kw
      at twice the rate (our reading of the rule "demand above 105 % is billed at double
      rate": only the excess over 105 % is doubled; below the declared value, the declared
      value is paid);
    - ``none``: 0.
    """
    demand = tariff_cfg.demand
    peaks = np.atleast_1d(np.asarray(monthly_peaks_kw, dtype=float))
    rate = demand.rate_yuan_per_kw_month
    if demand.kind == "max_demand":
        charges = rate * peaks
    elif demand.kind == "capacity":
        charges = np.full(peaks.shape, demand.rate_yuan_per_kva_month * demand.capacity_kva)
    elif demand.kind == "declared":
        declared = demand.declared_kw
        excess = np.maximum(peaks - DECLARED_TOLERANCE * declared, 0.0)
        charges = rate * declared + 2.0 * rate * excess
    else:
        charges = np.zeros(peaks.shape)
    return float(charges.sum())
