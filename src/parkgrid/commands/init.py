"""`parkgrid init NAME`: a commented starter park (and the climate file its synthetic
weather reads) in a new folder, ready for `parkgrid validate` and `parkgrid run`."""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path

from parkgrid.errors import ArgumentError
from parkgrid.io.atomic import atomic_write

PARK_FILE = "park.yaml"
CLIMATE_FILE = "climate_hangzhou.yaml"


def write_starter(name: str, folder: Path | str | None = None) -> list[Path]:
    """Write ``FOLDER/park.yaml`` (park called ``name``) and its climate file; ``folder``
    defaults to ``name`` made a file name. Never overwrites: an existing file is an error."""
    if not name.strip() or "\n" in name or ":" in name or "#" in name:
        raise ArgumentError("NAME", name, "a park name on one line, without ':' or '#'")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name.strip()).strip("_") or "park"
    target = Path(folder) if folder is not None else Path(slug)
    park, climate = target / PARK_FILE, target / CLIMATE_FILE
    taken = [str(p) for p in (park, climate) if p.exists()]
    if taken:
        raise ArgumentError("--out", ", ".join(taken), "a folder without park.yaml or its "
                            "climate file (nothing was written: they already exist)")
    data = resources.files("parkgrid").joinpath("data")
    text = string.Template(data.joinpath("starter_park.yaml").read_text("utf-8")).substitute(
        name=name.strip(), file=park)
    target.mkdir(parents=True, exist_ok=True)
    atomic_write(climate, lambda tmp: tmp.write_text(
        data.joinpath(CLIMATE_FILE).read_text("utf-8"), encoding="utf-8"))
    atomic_write(park, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return [park, climate]
