"""Command-line argument checks: one date format, ranges for numbers, errors named as
argument errors (exit 2), shared by every command and the Python API."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date as Date

import pandas as pd

from parkgrid.config import YEARS
from parkgrid.errors import ArgumentError

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_date(option: str, text: str) -> Date:
    """``text`` as an ISO 8601 calendar date YYYY-MM-DD in :data:`YEARS`; 05/07/2025 (May or
    July?) and other forms are refused."""
    expected = f"an ISO 8601 date YYYY-MM-DD from {YEARS[0]} to {YEARS[1]}, e.g. 2025-07-01"
    try:
        if not ISO_DATE.match(str(text)):
            raise ValueError
        day = Date.fromisoformat(text)
    except ValueError:
        raise ArgumentError(option, text, expected) from None
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise ArgumentError(option, text, expected)
    return day


def number(option: str, value: float | int | None, low: float, high: float, *,
           low_open: bool = False, high_open: bool = False) -> None:
    """Refuse a non-finite ``value`` or one outside its range ('(' / ')' when open)."""
    if value is None:
        return
    inside = (math.isfinite(value) and (low < value if low_open else low <= value)
              and (value < high if high_open else value <= high))
    if not inside:
        whole = isinstance(value, int) and float(low).is_integer() and float(high).is_integer()
        lo, hi = (f"{int(low)}", f"{int(high)}") if whole else (f"{low:g}", f"{high:g}")
        shown = f"{'(' if low_open else '['}{lo}, {hi}{')' if high_open else ']'}"
        raise ArgumentError(option, value, f"a {'whole' if whole else 'finite'} number in {shown}")


def soc_pairs(overrides: Mapping[str, float] | Iterable[str] | None) -> dict[str, float]:
    """``--soc NAME=FRACTION`` values by name; a name given twice with different values,
    a malformed pair or a non-finite fraction is refused."""
    if overrides is None:
        return {}
    items = (list(overrides.items()) if isinstance(overrides, Mapping)
             else [_pair(item) for item in overrides])
    pairs: dict[str, float] = {}
    for name, value in items:
        number("--soc", value, 0.0, 1.0)
        if name in pairs and pairs[name] != value:
            raise ArgumentError("--soc", f"{name}={value:g}",
                                f"one value per storage ({name}={pairs[name]:g} given before)")
        pairs[str(name)] = float(value)
    return pairs


def _pair(item: str) -> tuple[str, float]:
    name, _, value = item.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise ArgumentError("--soc", item, "NAME=FRACTION, e.g. lfp=0.6") from None


def local_midnight(option: str, text: str, timezone: str) -> pd.Timestamp:
    """The local midnight starting the ISO date ``text`` in ``timezone``."""
    return pd.Timestamp(iso_date(option, text)).tz_localize(timezone)
