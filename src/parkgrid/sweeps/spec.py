"""The sweep file: pydantic models that are its schema, and the YAML loader.

A sweep is a base park (or a portfolio of park files) plus parameter axes over config fields
by dotted path (``batteries.0.energy_kwh``), the rollout options, and the KPIs to collect.
Paths inside a sweep file are relative to the sweep file. Unknown keys are errors.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from parkgrid.config import Seed, describe_error, read_yaml
from parkgrid.errors import ConfigError

FIELD_PATH = re.compile(r"^[a-z_][a-z0-9_]*(\.([a-z_][a-z0-9_]*|[0-9]+))*$")


def _field_path(path: str) -> str:
    if not FIELD_PATH.match(path):
        raise ValueError("a field path: dotted keys and list indices, e.g. "
                         "'batteries.0.energy_kwh'")
    return path


AxisPath = Annotated[str, AfterValidator(_field_path)]
AxisValues = Annotated[list[Any], Field(min_length=1)]


DEFAULT_MAX_VARIANTS = 10_000
"""Most variants a sweep may hold unless its file raises ``max_variants``."""
MAX_VARIANTS_CEILING = 1_000_000
"""The highest ``max_variants`` a sweep file may set."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Uniform(Strict):
    """A float drawn uniformly from [low, high]; rounded to ``decimals`` if given."""

    kind: ClassVar[str] = "uniform"
    uniform: tuple[float, float]
    decimals: Annotated[int, Field(ge=0, le=12)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        low, high = self.uniform
        if not low < high:
            raise ValueError(f"need low < high in 'uniform', got [{low}, {high}]")
        return self


class Choice(Strict):
    """One of the listed values, each equally likely."""

    kind: ClassVar[str] = "choice"
    choice: AxisValues


def _distribution_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((k for k in ("uniform", "choice") if k in value), None)
    return getattr(value, "kind", None)


Distribution = Annotated[
    Annotated[Uniform, Tag("uniform")] | Annotated[Choice, Tag("choice")],
    Discriminator(_distribution_kind, custom_error_type="distribution",
                  custom_error_message="Input should be a mapping with 'uniform: [low, high]' "
                  "or 'choice: [values]'"),
]


class RandomAxes(Strict):
    """``samples`` seeded random draws, each field drawn independently."""

    samples: Annotated[int, Field(ge=1)]
    seed: Seed = 0
    fields: Annotated[dict[AxisPath, Distribution], Field(min_length=1)]


class Rollout(Strict):
    """The rollout of each variant: the options of ``parkgrid run``."""

    start: dt.date | None = Field(None, description="first local day; default: 1 Jan of the "
                                  "park's year")
    days: Annotated[int, Field(ge=1, le=366)] | None = Field(
        None, description="number of days; default: to the end of the start's year")
    forecast: Literal["perfect", "persistence", "noisy"] = "noisy"
    planner: Literal["milp", "rules", "none"] = "milp"
    seed: Seed = 0
    baselines: list[Literal["grid_only", "re_no_storage", "rules"]] = Field(
        ["grid_only"], description="baseline rollouts per variant (grid_only gives CO2 avoided)")
    perfect_foresight: bool = Field(
        False, description="also solve the perfect-foresight bound per variant (regret)")

    def period(self, park_year: int) -> tuple[dt.date, dt.date]:
        """First local day and the day after the last one."""
        start = self.start or dt.date(park_year, 1, 1)
        if self.days is None:
            return start, dt.date(start.year + 1, 1, 1)
        return start, start + dt.timedelta(days=self.days)


class Sweep(Strict):
    """A whole sweep: the root of the sweep file."""

    name: str
    description: str = ""
    park: Path | None = Field(None, description="base park file")
    parks: Annotated[list[Path], Field(min_length=1)] | None = Field(
        None, description="portfolio: park files, each run with every variant of the axes")
    grid: Annotated[dict[AxisPath, AxisValues], Field(min_length=1)] | None = Field(
        None, description="cartesian product of the values of every field")
    zipped: Annotated[dict[AxisPath, AxisValues], Field(min_length=1)] | None = Field(
        None, alias="list", description="i-th variant takes the i-th value of every field; "
        "with 'grid', the zipped fields are one more axis of the product")
    random: RandomAxes | None = None
    rollout: Rollout = Rollout()
    kpis: list[str] | None = Field(None, description="KPI keys or glob patterns; default: all "
                                   "period-level KPIs")
    max_variants: Annotated[int, Field(strict=True, ge=1, le=MAX_VARIANTS_CEILING)] = Field(
        DEFAULT_MAX_VARIANTS, description="a sweep with more variants is refused (counted "
        "before any is generated); raise it knowingly")
    source_file: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _one_base_one_kind(self) -> Sweep:
        if (self.park is None) == (self.parks is None):
            raise ValueError("give exactly one of 'park' (a base park) and 'parks' (a portfolio)")
        if self.random is not None and (self.grid is not None or self.zipped is not None):
            raise ValueError("'random' cannot be combined with 'grid' or 'list'")
        both = set(self.grid or {}) & set(self.zipped or {})
        if both:
            raise ValueError(f"a field is swept in both 'grid' and 'list': {', '.join(both)}")
        if self.park is not None and self.grid is self.zipped is self.random is None:
            raise ValueError("a sweep of one park needs axes: 'grid', 'list' or 'random'")
        if self.variant_count > self.max_variants:
            raise ValueError(f"{self.variant_count:,} variants, above max_variants "
                             f"{self.max_variants:,}: narrow the axes or raise max_variants")
        return self

    @property
    def variant_count(self) -> int:
        """How many variants the sweep runs (parks × axis combinations), without making them."""
        parks = len(self.parks) if self.parks is not None else 1
        if self.random is not None:
            return parks * self.random.samples
        sizes = [len(v) for v in (self.grid or {}).values()]
        if self.zipped:
            sizes.append(len(next(iter(self.zipped.values()))))
        return parks * math.prod(sizes)

    @field_validator("zipped")
    @classmethod
    def _same_length(cls, axes: dict[str, list] | None) -> dict[str, list] | None:
        if axes is not None and len({len(v) for v in axes.values()}) > 1:
            lengths = ", ".join(f"{k}: {len(v)}" for k, v in axes.items())
            raise ValueError(f"every field of 'list' needs the same number of values ({lengths})")
        return axes

    @property
    def park_files(self) -> list[Path]:
        """The park files, absolute (resolved against the sweep file)."""
        files = [self.park] if self.park is not None else list(self.parks or [])
        base = self.source_file.parent if self.source_file else Path.cwd()
        return [(base / f).resolve() for f in files]

    @property
    def axis_paths(self) -> list[str]:
        """The swept field paths, in file order."""
        if self.random is not None:
            return list(self.random.fields)
        return [*(self.zipped or {}), *(self.grid or {})]

    @property
    def axis_groups(self) -> list[list[str]]:
        """The swept fields grouped by what varies together (the zipped list is one group)."""
        if self.random is not None:
            return [[p] for p in self.random.fields]
        return ([list(self.zipped)] if self.zipped else []) + [[p] for p in self.grid or {}]


def parse_sweep(data: object, source: Path | str = "<memory>") -> Sweep:
    """Validate a parsed sweep document; raise ConfigError naming every bad field."""
    if not isinstance(data, dict):
        raise ConfigError(source, ["(top level): expected a mapping of sweep settings"])
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as exc:
        problems = [describe_error(e, "docs/sweeps.md") for e in exc.errors()]
        raise ConfigError(source, problems) from None
    if isinstance(source, Path):
        sweep.source_file = source.resolve()
    missing = [str(p) for p in sweep.park_files if not p.is_file()]
    if missing:
        raise ConfigError(source, [f"park: file not found: {p}" for p in missing])
    return sweep


def load_sweep(path: Path | str) -> Sweep:
    """Read and validate a sweep YAML file."""
    return parse_sweep(read_yaml(path), Path(path))
