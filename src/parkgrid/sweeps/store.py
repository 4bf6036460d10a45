"""A sweep's results folder: one JSON row per finished variant, consolidated into Parquet.

Layout of ``out/``: ``variants/<variant_id>.json`` (written atomically as each variant
finishes, so an interrupted sweep loses nothing), ``manifest.json`` (the sweep's variants),
``sweep.parquet`` (one row per variant, rebuilt from the rows at the end and on resume).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from parkgrid.errors import ParkgridError
from parkgrid.io.atomic import atomic_write
from parkgrid.sweeps.task import META_COLUMNS
from parkgrid.sweeps.variants import Variant

TABLE = "sweep.parquet"


class ResultsExistError(ParkgridError):
    """The output folder already holds a sweep's results and --resume was not given."""


def rows_dir(out: Path) -> Path:
    return out / "variants"


def prepare(out: Path, resume: bool) -> None:
    """Make ``out``; refuse to mix a new sweep into an old one's results without --resume."""
    if not resume and any(rows_dir(out).glob("*.json")):
        raise ResultsExistError(
            f"{out}: holds results of a sweep already; pass --resume to continue it "
            "(only missing variants are run) or choose another --out")
    rows_dir(out).mkdir(parents=True, exist_ok=True)


def write_row(out: Path, row: dict[str, Any]) -> Path:
    """Write one variant's row atomically: complete or absent, never half-written."""
    text = json.dumps(row, indent=1, allow_nan=False)
    return atomic_write(rows_dir(out) / f"{row['variant_id']}.json",
                        lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_rows(out: Path) -> dict[str, dict[str, Any]]:
    """Every row on disk by variant id (unreadable files are skipped: they are re-run)."""
    rows = {}
    for path in sorted(rows_dir(out).glob("*.json")):
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows[row.get("variant_id", path.stem)] = row
    return rows


def write_manifest(out: Path, name: str, variants: list[Variant], rollout: dict) -> Path:
    """The list of variants (id, park, values) with the sweep's name and rollout options."""
    doc = {"name": name, "rollout": rollout,
           "variants": [{"variant_id": v.id, "variant": v.index, "park": v.park_label,
                         "values": v.values} for v in variants]}
    text = json.dumps(doc, indent=1, default=str)
    return atomic_write(out / "manifest.json", lambda tmp: tmp.write_text(text, "utf-8"))


def consolidate(out: Path, variants: list[Variant], axes: list[str]) -> pd.DataFrame:
    """One row per variant of this sweep (finished or not) → ``out/sweep.parquet``."""
    rows = read_rows(out)
    records = []
    for v in variants:
        row = rows.get(v.id) or {**v.row_head(), "status": "missing", "error": ""}
        records.append(row)
    table = pd.DataFrame.from_records(records)
    front = [c for c in ["variant_id", "variant", "park", *axes] if c in table.columns]
    meta = [c for c in META_COLUMNS if c in table.columns and c not in front]
    kpis = [c for c in table.columns if c not in front and c not in meta]
    table = _parquet_safe(table[front + kpis + meta])
    atomic_write(out / TABLE, lambda tmp: table.to_parquet(tmp, index=False))
    return table


def _parquet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed Python types (e.g. a 'choice' of numbers and names) become text."""
    for col in table.columns:
        if table[col].dtype == object:
            kinds = {type(x) for x in table[col].dropna()}
            if len(kinds) > 1 and not kinds <= {int, float}:
                table[col] = table[col].map(lambda x: None if x is None else str(x))
    return table
