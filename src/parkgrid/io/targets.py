"""Where a command may write a file: never over one parkgrid did not write.

Every command that writes a named file (``schedule --out`` and its Pareto table,
``forecast --out`` and its companions) checks each target here before any work is done.
A target is refused (exit 2) when it has another format than the command writes, is a
folder, is one of the command's own inputs, exists but is not a file of the kind parkgrid
writes there (a plan, a forecast table, …), or lies in a folder that cannot be written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import pandas as pd

from parkgrid.errors import ArgumentError

NEVER = "parkgrid never replaces files it did not write"


def check_target(path: Path | str, option: str, suffixes: Collection[str],
                 reads: Mapping[str, Path | str | None], ours: Callable[[Path], bool],
                 kind: str) -> Path:
    """``path`` if the command may write there, else :class:`ArgumentError` naming ``option``.

    ``suffixes``: the formats it writes; ``reads``: the files it reads (what → path, None
    when not given); ``ours``: whether an existing file is one parkgrid wrote there (then it
    is replaced); ``kind``: what is written, for the message (e.g. "plan")."""
    path = Path(path)
    if path.is_dir():
        raise ArgumentError(option, str(path), f"a file, not a folder ({NEVER})")
    if path.suffix.lower() not in suffixes:
        raise ArgumentError(option, str(path), f"a {' or '.join(suffixes)} file")
    for what, given in reads.items():
        if given is not None and same_file(path, Path(given)):
            raise ArgumentError(option, str(path), f"a file other than the {what} file the "
                                f"command reads ({NEVER})")
    if path.exists() and not ours(path):
        raise ArgumentError(option, str(path), f"a new file or a {kind} parkgrid wrote (this "
                            f"file exists and is not one; {NEVER})")
    folder = next(p for p in path.absolute().parents if p.exists())  # made if missing
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        why = "read-only" if folder.is_dir() else "not a folder"
        raise ArgumentError(option, str(path), f"a file in a folder that can be written "
                            f"({folder} is {why})")
    return path


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (hard and symbolic links included)."""
    if a.exists() and b.exists():
        return a.samefile(b)
    return a.resolve() == b.resolve()


def table_columns(path: Path) -> list[str] | None:
    """The column names of a CSV (its first line) or Parquet file; None if unreadable."""
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        with path.open(encoding="utf-8") as f:
            return pd.read_csv(f, nrows=0).columns.tolist()
    except (OSError, ValueError, pd.errors.ParserError):  # pyarrow's ArrowInvalid is one
        return None


def has_columns(expected: Callable[[list[str]], bool]) -> Callable[[Path], bool]:
    """An ``ours`` test: the file is a table whose columns pass ``expected``."""
    def ours(path: Path) -> bool:
        columns = table_columns(path)
        return columns is not None and expected(columns)

    return ours


def is_png(path: Path) -> bool:
    """An ``ours`` test for a plot: the file is a PNG image."""
    try:
        with path.open("rb") as f:
            return f.read(8) == b"\x89PNG\r\n\x1a\n"
    except OSError:
        return False
