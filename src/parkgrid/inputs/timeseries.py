"""Read measured time series (CSV or Parquet) and align them to the park's time index.

File convention: one timestamp column and value columns; a row's timestamp is the start of
its interval and its value the mean over the interval (the same convention as
``inputs.Inputs.series``). Naive timestamps are local time in the park's zone; timestamps
with a UTC offset are converted. A file may be at the park step, at a coarser step that is a
multiple of it (each park step gets the coarse interval's value) or at a finer step that
divides it (values are averaged). Problems are reported with the row: the 1-based line of a
CSV file (the header is line 1) or the 1-based record of a Parquet file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.config import DataFile, Park
from parkgrid.errors import InputDataError, not_utf8

_NS_PER_MIN = 60_000_000_000
TZ_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{1,2}(?::?\d{2})?)\s*$"
"""A timestamp whose time ends in a UTC offset ('Z', '+08:00', '+0800', '+08', '+8:00'; a
date alone as '2025-07-15' has none)."""
_FILL_HINT = "set 'fill: interpolate' or 'fill: zero' on the data file to fill gaps"


@dataclass
class Table:
    """A parsed file: UTC times (ns), values (rows × columns), and each row's number."""

    path: Path
    what: str
    times_ns: np.ndarray
    values: np.ndarray
    rows: np.ndarray
    columns: list[str]
    tz: str
    hints: bool = True
    """Whether messages tell how to fix the file's entry in the config (``fill``, ...)."""

    def fail(self, message: str) -> InputDataError:
        return InputDataError(self.path, f"{self.what}: {message}")


PLAUSIBLE_MULTIPLE = 1.5
"""A measured series above this multiple of its asset's rating is refused (see
:func:`read_profile`)."""


def read_profile(
    datafile: DataFile, park: Park, index: pd.DatetimeIndex, what: str, unit: str,
    rating: float,
) -> pd.Series:
    """The measured series of ``datafile`` on ``index``, times ``datafile.scale``.

    ``what`` names the series in error messages (e.g. "load 'plant'"). Every value (after
    scaling) must be ≥ 0 and at most :data:`PLAUSIBLE_MULTIPLE` × ``rating`` (in ``unit``):
    a value outside is refused, never clipped or warned about, since a wrong unit or a
    corrupt row would otherwise skew every result silently.
    """
    path = park.resolve(datafile.path)
    assert path is not None
    frame = read_frame(
        path, index, park.time_step_minutes, what,
        timestamp_column=datafile.timestamp_column,
        columns=[datafile.column] if datafile.column else None,
        fill=datafile.fill,
    )
    series = frame.iloc[:, 0] * datafile.scale
    check_plausible(series, path, what, unit, rating, f" (after scale {datafile.scale:g})")
    return series


def check_plausible(series: pd.Series, source: Path | str, what: str, unit: str,
                    rating: float, note: str = "") -> None:
    """Refuse a value of ``series`` outside 0 to :data:`PLAUSIBLE_MULTIPLE` × ``rating``
    (a wrong unit or a corrupt row), naming ``source``, ``what`` and the first such step."""
    values = series.to_numpy(dtype=float)
    limit = PLAUSIBLE_MULTIPLE * rating
    bad = np.flatnonzero(~((values >= 0) & (values <= limit)))
    if bad.size:
        at = series.index[bad[0]]
        raise InputDataError(source, (
            f"{what}: got {values[bad[0]]:g} {unit} at {at:%Y-%m-%d %H:%M}{note}; expected 0 "
            f"to {limit:g} {unit} ({PLAUSIBLE_MULTIPLE:g} × the rating {rating:g} {unit})"))


def read_frame(path: Path, index: pd.DatetimeIndex, step_minutes: int, what: str,
               **options: Any) -> pd.DataFrame:
    """Columns of a CSV/Parquet file aligned to ``index``: :func:`read_frame_filled`'s frame
    (``options`` as its keywords)."""
    return read_frame_filled(path, index, step_minutes, what, **options)[0]


def read_frame_filled(
    path: Path,
    index: pd.DatetimeIndex,
    step_minutes: int,
    what: str,
    *,
    timestamp_column: str = "timestamp",
    columns: list[str] | None = None,
    optional: tuple[str, ...] = (),
    fill: str = "none",
    not_before: pd.Timestamp | None = None,
    before: pd.Timestamp | None = None,
    refuse: Callable[[list[str]], str | None] | None = None,
    hints: bool = True,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Columns of a CSV/Parquet file aligned to ``index`` (tz-aware, ``step_minutes`` apart),
    and per step whether a value in it was missing (filled by ``fill``, or NaN with 'keep').

    ``columns=None`` takes the only non-timestamp column; ``optional`` columns are read when
    present. ``fill`` ('none', 'interpolate', 'zero'; 'keep': NaN) is the policy for missing steps.
    ``not_before``: a row stamped earlier is an error (a forecast's rows are in the future).
    ``before``: rows stamped at or after it are dropped before gaps are filled (a history cut
    at an issue time: a gap is never filled from what came later).
    ``refuse``: given the file's value columns, the problem with them (e.g. one naming no
    asset of the park), or None. ``hints=False``: the file is no data file of the config
    (a command-line file), so errors do not suggest the config's ``fill`` or ``column``.
    """
    if index.tz is None or index.empty:
        raise ValueError("the index must be a non-empty tz-aware DatetimeIndex")
    raw, rows = _read_raw(path, what)
    wanted = _pick_columns(raw, path, what, timestamp_column, columns, optional, hints)
    if refuse is not None and (problem := refuse(
            [c for c in raw.columns if c != timestamp_column])):
        raise InputDataError(path, f"{what}: {problem}")
    tz = str(index.tz)
    table = Table(path, what, np.empty(0, np.int64), np.empty((0, 0)), rows, wanted, tz, hints)
    table.times_ns = _parse_times(raw[timestamp_column], table, timestamp_column)
    table.values = _parse_values(raw, table)
    _sort_and_check_duplicates(table)
    if before is not None:
        keep = table.times_ns < before.value
        table.times_ns, table.values, table.rows = (
            table.times_ns[keep], table.values[keep], table.rows[keep])
    if not_before is not None and table.times_ns.size and table.times_ns[0] < not_before.value:
        raise table.fail(f"row {table.rows[0]}: timestamp {_local(table, table.times_ns[0])} "
                         f"is before the start {_local(table, not_before.value)}")
    origin_ns, file_step_ns, grid, missing = _to_grid(table, step_minutes * _NS_PER_MIN, fill)
    frame = pd.DataFrame(_align(table, origin_ns, file_step_ns, grid, index, step_minutes),
                         index=index, columns=wanted)
    filled = _align(table, origin_ns, file_step_ns, missing[:, None], index, step_minutes)
    return frame, filled[:, 0] > 0


def file_span(path: Path, tz: str, what: str, timestamp_column: str = "timestamp",
              before: pd.Timestamp | None = None, hints: bool = True,
              ) -> tuple[pd.Timestamp, pd.Timestamp, list[str]]:
    """The first and last timestamp of a CSV/Parquet file (local time in ``tz``; of the rows
    stamped before ``before`` if given) and its value columns; ``hints`` as
    :func:`read_frame`'s."""
    raw, rows = _read_raw(path, what)
    names = _pick_columns(raw, path, what, timestamp_column, [], tuple(raw.columns), hints)
    table = Table(path, what, np.empty(0, np.int64), np.empty((0, 0)), rows, names, tz, hints)
    times = _parse_times(raw[timestamp_column], table, timestamp_column)
    if before is not None:
        times = times[times < before.value]
    if times.size == 0:
        raise table.fail("no rows" + (f" before {before:%Y-%m-%d %H:%M}" if before else ""))
    first, last = (pd.Timestamp(int(t), tz="UTC").tz_convert(tz) for t in (times.min(),
                                                                           times.max()))
    return first, last, [c for c in names if c != timestamp_column]


# --- reading -----------------------------------------------------------------------------


def _read_raw(path: Path, what: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The file's cells (CSV: as text) and each row's number; blank lines are skipped."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InputDataError(path, f"{what}: expected a .csv or .parquet file")
    return read_cells(path, what, csv=suffix == ".csv")


def read_cells(path: Path, what: str, csv: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
    """A CSV file's cells as text (or a Parquet file's columns) and each row's number in the
    file (CSV: line number, the header being line 1); blank rows are dropped, column names
    stripped. Unreadable files raise InputDataError naming ``what``."""
    try:
        if csv:
            raw = pd.read_csv(path, dtype=str, skip_blank_lines=False, encoding="utf-8-sig")
            rows = np.arange(len(raw)) + 2
        else:
            raw = pd.read_parquet(path)
            rows = np.arange(len(raw)) + 1
    except FileNotFoundError:
        raise InputDataError(path, f"{what}: file not found") from None
    except UnicodeDecodeError:
        raise InputDataError(path, f"{what}: {not_utf8(path.read_bytes())}") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputDataError(path, f"{what}: cannot read the file ({exc})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    keep = ~raw.isna().all(axis=1).to_numpy()
    return raw[keep].reset_index(drop=True), rows[keep]


def _pick_columns(
    raw: pd.DataFrame, path: Path, what: str, timestamp_column: str,
    columns: list[str] | None, optional: tuple[str, ...], hints: bool = True,
) -> list[str]:
    names = list(raw.columns)
    if timestamp_column not in names:
        raise InputDataError(
            path, f"{what}: no timestamp column {timestamp_column!r}; columns are {names}"
            + (" (set 'timestamp_column')" if hints else "")
        )
    others = [c for c in names if c != timestamp_column]
    if columns is None:
        if len(others) != 1:
            raise InputDataError(
                path, f"{what}: expected one value column besides {timestamp_column!r}, "
                f"found {others}; set 'column'"
            )
        return others
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputDataError(
            path, f"{what}: missing column(s) {missing}; columns are {names}"
        )
    return list(columns) + [c for c in optional if c in names]


def _parse_times(cells: pd.Series, table: Table, column: str) -> np.ndarray:
    """UTC nanoseconds of each row's timestamp; naive timestamps are local time."""
    if pd.api.types.is_datetime64_any_dtype(cells.dtype):
        stamps = pd.DatetimeIndex(cells)
        if stamps.isna().any():
            row = table.rows[np.flatnonzero(stamps.isna())[0]]
            raise table.fail(f"row {row}: no timestamp in column {column!r}")
        return _utc_ns(stamps if stamps.tz is not None else _localize(stamps, table))
    text = cells.astype("string").str.strip()
    empty = text.isna() | (text == "")
    if empty.any():
        row = table.rows[np.flatnonzero(empty.to_numpy())[0]]
        raise table.fail(f"row {row}: no timestamp in column {column!r}")
    aware = text.str.contains(TZ_OFFSET, regex=True).to_numpy(dtype=bool)
    if aware.any() and not aware.all():
        row = table.rows[np.flatnonzero(aware != aware[0])[0]]
        raise table.fail(
            f"row {row}: timestamp {text.iloc[np.flatnonzero(aware != aware[0])[0]]!r} "
            "mixes timestamps with and without a UTC offset; use one form throughout"
        )
    stamps = _to_datetime(text, utc=bool(aware.all()))
    bad = np.flatnonzero(stamps.isna())
    if bad.size:
        raise table.fail(
            f"row {table.rows[bad[0]]}: cannot read timestamp {text.iloc[bad[0]]!r} in column "
            f"{column!r} (expected ISO 8601, e.g. '2025-01-01 00:15' or "
            "'2025-01-01T00:15:00+08:00')"
        )
    # an offset pandas reads but TZ_OFFSET does not know is still an offset, not local time
    return _utc_ns(stamps if aware.all() or stamps.tz is not None
                   else _localize(stamps, table))


def _to_datetime(text: pd.Series, utc: bool) -> pd.DatetimeIndex:
    """ISO 8601 timestamps (also with '/' between year, month and day); NaT where unreadable.

    Day-first or month-first dates ('01/03/2025') are refused rather than guessed.
    """
    stamps = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
    retry = (stamps.isna() & text.str.match(r"^\d{4}/\d{1,2}/\d{1,2}")).to_numpy(dtype=bool)
    if retry.any():
        dashed = text[retry].str.replace("/", "-", n=2, regex=False)
        again = pd.to_datetime(dashed, format="ISO8601", errors="coerce", utc=utc)
        stamps = stamps.fillna(again.astype(stamps.dtype))
    return pd.DatetimeIndex(stamps)


def _localize(stamps: pd.DatetimeIndex, table: Table) -> pd.DatetimeIndex:
    local = stamps.tz_localize(table.tz, ambiguous="NaT", nonexistent="NaT")
    bad = np.flatnonzero(local.isna())
    if bad.size:
        raise table.fail(
            f"row {table.rows[bad[0]]}: local time {stamps[bad[0]]} does not exist or is "
            f"ambiguous in {table.tz} (daylight saving); give timestamps with a UTC offset"
        )
    return local


def _utc_ns(stamps: pd.DatetimeIndex) -> np.ndarray:
    return stamps.tz_convert("UTC").as_unit("ns").asi8.copy()


def _parse_values(raw: pd.DataFrame, table: Table) -> np.ndarray:
    """Floats per row and column; empty cells become NaN (gaps), text is an error."""
    out = np.empty((len(raw), len(table.columns)))
    first_bad: tuple[int, str, str] | None = None
    for j, name in enumerate(table.columns):
        cells = raw[name]
        numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(numbers) & cells.notna().to_numpy())
        if cells.dtype == object or pd.api.types.is_string_dtype(cells.dtype):
            text = cells.astype("string").str.strip().str.lower()
            gap = text.isin(["", "nan", "na", "null"]).to_numpy(dtype=bool)
            bad = bad[~gap[bad]]
        if bad.size and (first_bad is None or bad[0] < first_bad[0]):
            first_bad = (int(bad[0]), name, str(cells.iloc[bad[0]]))
        out[:, j] = numbers
    if first_bad is not None:
        i, name, value = first_bad
        raise table.fail(f"row {table.rows[i]}: value {value!r} in column {name!r} is not a number")
    return out


def _sort_and_check_duplicates(table: Table) -> None:
    order = np.argsort(table.times_ns, kind="stable")
    table.times_ns, table.values, table.rows = (
        table.times_ns[order], table.values[order], table.rows[order]
    )
    dup = np.flatnonzero(np.diff(table.times_ns) == 0)
    if dup.size:
        i = dup[0]
        raise table.fail(
            f"row {table.rows[i + 1]}: duplicate timestamp {_local(table, table.times_ns[i])} "
            f"(also row {table.rows[i]})"
        )


# --- grid, gaps and alignment --------------------------------------------------------------


def _to_grid(table: Table, park_step_ns: int,
             fill: str) -> tuple[int, int, np.ndarray, np.ndarray]:
    """The file on its own regular grid: origin, step (ns), values with gaps filled and per
    slot 1.0 where a value was missing."""
    times = table.times_ns
    if times.size < 2:
        raise table.fail(f"needs at least 2 rows to tell the time step, found {times.size}")
    steps, counts = np.unique(np.diff(times), return_counts=True)
    step = int(steps[np.argmax(counts)])
    if step % park_step_ns and park_step_ns % step:
        raise table.fail(
            f"rows are {_minutes(step)} apart; the park step is {_minutes(park_step_ns)}, so the "
            "file step must divide it or be a multiple of it"
        )
    offsets = times - times[0]
    off_grid = np.flatnonzero(offsets % step)
    if off_grid.size:
        i = off_grid[0]
        raise table.fail(
            f"row {table.rows[i]}: timestamp {_local(table, times[i])} is off the file's "
            f"{_minutes(step)} grid"
        )
    slots = offsets // step
    grid = np.full((int(slots[-1]) + 1, table.values.shape[1]), np.nan)
    grid[slots] = table.values
    missing = np.isnan(grid).any(axis=1).astype(float)  # per slot: a value was missing
    _fill_gaps(table, grid, slots, step, fill)
    return int(times[0]), step, grid, missing


def _fill_gaps(
    table: Table, grid: np.ndarray, slots: np.ndarray, step_ns: int, fill: str
) -> None:
    """Fill missing grid slots and empty cells by ``fill``, or report the first gap."""
    missing = np.isnan(grid)
    if not missing.any():
        return
    if fill == "zero":
        grid[missing] = 0.0
        return
    if fill == "keep":  # left missing (NaN), e.g. not scored
        return
    if fill == "interpolate":
        x = np.arange(grid.shape[0])
        for j in range(grid.shape[1]):
            known = ~missing[:, j]
            if not known.any():
                raise table.fail(f"column {table.columns[j]!r} has no values")
            grid[:, j] = np.interp(x, x[known], grid[known, j])
        return
    raise table.fail(_gap_message(table, missing.any(axis=1), slots, step_ns))


def _gap_message(
    table: Table, missing_slots: np.ndarray, slots: np.ndarray, step_ns: int
) -> str:
    """Describe the first gap (by the rows around it) and how many steps are missing."""
    first = int(np.flatnonzero(missing_slots)[0])
    pos = int(np.searchsorted(slots, first))
    if slots[pos] == first:  # the row exists but a cell is empty
        name = table.columns[int(np.flatnonzero(np.isnan(table.values[pos]))[0])]
        where = f"row {table.rows[pos]}: no value in column {name!r}"
    else:
        n = int(slots[pos] - slots[pos - 1] - 1)
        start = table.times_ns[0] + first * step_ns
        where = (
            f"rows {table.rows[pos - 1]}–{table.rows[pos]}: {n} missing "
            f"step{'s' * (n > 1)} from {_local(table, start)}"
        )
    total = int(missing_slots.sum())
    hint = _FILL_HINT if table.hints else "give every step a value"
    return f"{where}; {total} step{'s' * (total > 1)} missing in all; {hint}"


def _align(
    table: Table, origin_ns: int, file_step_ns: int, grid: np.ndarray,
    index: pd.DatetimeIndex, step_minutes: int,
) -> np.ndarray:
    """Values on ``index``: coarse steps repeated, fine steps averaged."""
    step_ns = step_minutes * _NS_PER_MIN
    starts = _utc_ns(index)
    if (starts[0] - origin_ns) % min(step_ns, file_step_ns):
        raise table.fail(
            f"timestamps start at {_local(table, origin_ns)}, which is not on the park's "
            f"{_minutes(step_ns)} steps; a timestamp must mark the start of its interval"
        )
    per_step = max(1, step_ns // file_step_ns)
    first = (starts - origin_ns) // file_step_ns
    last = first + per_step - 1
    if first.min() < 0 or last.max() >= grid.shape[0]:
        end = origin_ns + grid.shape[0] * file_step_ns
        raise table.fail(
            f"covers {_local(table, origin_ns)} to {_local(table, end)}, but {len(index)} steps "
            f"of {_minutes(step_ns)} from {_local(table, starts[0])} to "
            f"{_local(table, starts[-1] + step_ns)} are needed"
        )
    if per_step == 1:
        return grid[first]
    return grid[first[:, None] + np.arange(per_step)].mean(axis=1)


def _local(table: Table, utc_ns: int) -> str:
    return pd.Timestamp(int(utc_ns), tz="UTC").tz_convert(table.tz).strftime("%Y-%m-%d %H:%M")


def _minutes(ns: int) -> str:
    return f"{ns / _NS_PER_MIN:g} min"
