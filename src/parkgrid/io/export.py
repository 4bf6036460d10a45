"""Write and read schedule files: CSV, JSON or Parquet by extension, always with metadata.

- ``.json``: ``{"metadata": {...}, "schedule": [{"timestamp": ..., column: value, ...}, ...]}``
- ``.csv``: a first line ``# parkgrid plan …; metadata: <file>.meta.json …`` saying where the
  metadata is, then one row per step (``timestamp`` first); the metadata in
  ``<file>.meta.json``, with the SHA-256 of the file it describes (``table_sha256``). The
  pair is one unit: the sidecar is first replaced by one describing both the new table and
  the previous one (``previous``), then the table, then the sidecar without ``previous``; a
  reader picks the metadata whose digest matches the table, so a kill at any moment leaves a
  readable pair.
- ``.parquet``: the table, with the metadata as JSON under the file metadata key ``parkgrid``
Every table carries the storage set-point columns of :mod:`parkgrid.io.plan_document` beside
the planner's (reading drops them again: they are derived). Timestamps are ISO 8601 local
time with the UTC offset. The metadata carries the end state
(``state_out``) so that the next day can be planned from the file. Every file is written to
a temporary sibling and renamed into place: it is either complete or absent.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.errors import InputDataError, ParkgridError
from parkgrid.io.atomic import atomic_write
from parkgrid.io.plan_document import is_setpoint, issue_metadata, setpoints
from parkgrid.model.schedule import ParkState, Schedule

FORMATS = (".csv", ".json", ".parquet")
PARQUET_KEY = b"parkgrid"
CSV_BANNER = "# parkgrid plan"
"""The start of a CSV plan's first line."""


def meta_path(path: Path | str) -> Path:
    """The metadata sidecar of a CSV schedule."""
    path = Path(path)
    return path.with_name(path.name + ".meta.json")


def write_schedule(schedule: Schedule, path: Path | str) -> Path:
    """Write ``schedule`` to ``path`` in the format its extension names; returns the path."""
    return write_plan(*plan_parts(schedule), path)


def write_plan(metadata: dict[str, Any], table: pd.DataFrame, path: Path | str) -> Path:
    """Write a plan's :func:`plan_parts` to ``path`` in the format its extension names."""
    path = Path(path)
    suffix = _format(path)
    if suffix == ".json":
        text = json.dumps(document_of(metadata, table), indent=1, allow_nan=False)
        return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    if suffix == ".csv":
        text = csv_text(metadata, table, meta_path(path).name)
        return _write_csv_pair(text.encode("utf-8"), metadata, Path(path))
    return atomic_write(path, lambda tmp: _write_parquet(table, metadata, tmp))


def check_plan_target(path: Path | str, reads: Mapping[str, Path | str | None]) -> None:
    """Refuse to write a plan to ``path`` when that would lose a file parkgrid did not write:
    one of the files the command ``reads`` (option → path), a folder, or a file that is not a
    plan (:func:`is_plan_file`); a plan parkgrid wrote is replaced."""
    path = Path(path)
    _format(path)
    for option, given in reads.items():
        if given is not None and path.resolve() == Path(given).resolve():
            raise ParkgridError(f"{path}: is the {option} file this plan reads; parkgrid never "
                                "replaces files it did not write: choose another --out")
    if path.is_dir() or (path.exists() and not is_plan_file(path)):
        raise ParkgridError(f"{path}: exists and is not a parkgrid plan; parkgrid never "
                            "replaces files it did not write: choose another --out")


def is_plan_file(path: Path) -> bool:
    """Whether the file at ``path`` is a plan parkgrid wrote: a JSON document with its
    metadata, a CSV whose first line is the plan banner (or with a plan's sidecar), a Parquet
    file with the metadata key."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":  # before the banner (schema 1.0): its sidecar says so
            with path.open("rb") as file:
                return (file.readline().startswith(CSV_BANNER.encode())
                        or "schema_version" in (_sidecar(path) or {}))
        if suffix == ".json":
            document = json.loads(path.read_text(encoding="utf-8"))
            return (isinstance(document, dict) and "schedule" in document
                    and isinstance(document.get("metadata"), dict)
                    and "schema_version" in document["metadata"])
        import pyarrow.parquet as pq

        return PARQUET_KEY in (pq.read_schema(path).metadata or {})
    except (OSError, ValueError):
        return False


def plan_document(schedule: Schedule) -> dict[str, Any]:
    """The JSON plan document of ``schedule`` (docs/plan.schema.json) as plain JSON types:
    ``document_of(*plan_parts(schedule))``, built from the columns without the table."""
    frame = schedule.frame
    columns = {"timestamp": [stamp.isoformat() for stamp in frame.index]}
    columns |= _plain_columns(frame) | _plain_columns(setpoints(frame))
    return _document(plan_metadata(schedule), columns)


def document_of(metadata: dict[str, Any], table: pd.DataFrame) -> dict[str, Any]:
    """The JSON plan document of a plan's :func:`plan_parts`."""
    return _document(metadata, _plain_columns(table))


def _document(metadata: dict[str, Any], columns: dict[str, list[Any]]) -> dict[str, Any]:
    names = list(columns)
    return {"metadata": metadata,
            "schedule": [dict(zip(names, row, strict=True))
                         for row in zip(*columns.values(), strict=True)]}


def _plain_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Every column of ``frame`` as plain JSON values (NaN/inf → None), in order; the float
    columns converted as one block."""
    floats = [c for c, dtype in frame.dtypes.items() if pd.api.types.is_float_dtype(dtype)]
    plain: dict[Any, list[Any]] = {}
    if floats:
        block = frame[floats].to_numpy(float)
        lists = block.T.tolist()
        for j in np.flatnonzero(~np.isfinite(block).all(axis=0)):
            lists[j] = [v if math.isfinite(v) else None for v in lists[j]]
        plain = dict(zip(floats, lists, strict=True))
    return {str(c): plain[c] if c in plain else _plain_column(frame[c]) for c in frame.columns}


def _plain_column(column: pd.Series) -> list[Any]:
    """A column as plain JSON values, a whole column at a time (NaN/inf → None)."""
    if pd.api.types.is_float_dtype(column):
        return [v if math.isfinite(v) else None for v in column.to_numpy(float).tolist()]
    whole = pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column)
    if whole and not column.isna().any():
        return column.to_numpy().tolist()
    return [jsonable(v) for v in column.astype(object).where(column.notna(), None).tolist()]


def plan_metadata(schedule: Schedule) -> dict[str, Any]:
    """A plan's metadata as plain JSON types, its issue facts and end state included."""
    return jsonable(issue_metadata() | schedule.metadata
                    | {"state_out": _state_dict(schedule.state_out)})


def plan_parts(schedule: Schedule) -> tuple[dict[str, Any], pd.DataFrame]:
    """A plan's metadata (plain JSON types) and its table (set-points joined, ``timestamp``
    first as ISO 8601 text): what every plan format is written from."""
    table = schedule.frame.join(setpoints(schedule.frame)).reset_index()
    table.insert(0, "timestamp", table.pop(table.columns[0]).map(pd.Timestamp.isoformat))
    return plan_metadata(schedule), table


def csv_text(metadata: dict[str, Any], table: pd.DataFrame, metadata_at: str) -> str:
    """A CSV plan: a first line saying where its metadata is (``metadata_at``), then the
    table."""
    banner = (f"{CSV_BANNER}, schema {metadata['schema_version']}; metadata: {metadata_at} "
              "(JSON, docs/plan.schema.json); rows: timestamp = step start, powers = step means")
    return banner + "\n" + table.to_csv(index=False)


def read_schedule(path: Path | str) -> Schedule:
    """Read a schedule file written by :func:`write_schedule`."""
    path = Path(path)
    suffix = _format(path)
    try:
        if suffix == ".json":
            document = json.loads(path.read_text(encoding="utf-8"))
            metadata, table = document["metadata"], pd.DataFrame(document["schedule"])
        elif suffix == ".csv":
            metadata = _csv_metadata(path)
            metadata.pop("table_sha256", None)
            table = pd.read_csv(path, dtype={"tou_period": str}, comment="#")
        else:
            import pyarrow.parquet as pq

            parquet = pq.read_table(path)
            metadata = json.loads(parquet.schema.metadata[PARQUET_KEY])
            table = parquet.to_pandas()
    except (OSError, KeyError, ValueError) as exc:
        raise InputDataError(path, f"not a parkgrid schedule file ({exc})") from None
    frame = table.set_index("timestamp")
    frame = frame[[c for c in frame.columns if not is_setpoint(c)]]
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index, utc=True)).tz_convert(
        metadata.get("timezone", "UTC"))
    state = metadata.pop("state_out", None)
    return Schedule(frame, metadata, ParkState(**state) if state else None)


def _write_csv_pair(data: bytes, metadata: dict[str, Any], path: Path) -> Path:
    """The CSV table and its sidecar as one unit (see the module docstring)."""
    current = metadata | {"table_sha256": hashlib.sha256(data).hexdigest()}
    previous = _sidecar(path)
    if previous is not None and path.is_file():
        previous.pop("previous", None)
        interim = current | {"previous": previous}
        _write_json(meta_path(path), interim)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    _write_json(meta_path(path), current)
    return path


def _write_json(path: Path, document: dict[str, Any]) -> None:
    text = json.dumps(document, indent=1, allow_nan=False)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _sidecar(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(meta_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _csv_metadata(path: Path) -> dict[str, Any]:
    """The sidecar metadata that describes the table now at ``path``."""
    document = json.loads(meta_path(path).read_text(encoding="utf-8"))
    if "table_sha256" not in document:  # written before digests: trust the pair
        return document
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    previous = document.pop("previous", None)
    for candidate in (document, previous):
        if isinstance(candidate, dict) and candidate.get("table_sha256") == digest:
            return candidate
    raise ValueError(f"the sidecar {meta_path(path).name} describes another table (SHA-256 "
                     "mismatch): the pair was changed by something other than parkgrid")


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ParkgridError(f"{path}: unknown schedule format {suffix or '(none)'!r}; "
                            f"use one of {', '.join(FORMATS)}")
    return suffix


def _write_parquet(table: pd.DataFrame, metadata: dict[str, Any], tmp: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    schema_meta = dict(arrow.schema.metadata or {})
    schema_meta[PARQUET_KEY] = json.dumps(metadata, allow_nan=False).encode()
    pq.write_table(arrow.replace_schema_metadata(schema_meta), tmp)


def _state_dict(state: ParkState | None) -> dict[str, Any] | None:
    return state.to_dict() if state is not None else None


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, non-finite numbers → null, timestamps →
    ISO 8601, anything else unknown → its text."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
