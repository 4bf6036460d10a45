"""Mutated shipped parks: `validate` refuses with exit 2 naming the field, or accepts and a
one-day schedule balances every bus (checked by parkgrid.model.balance)."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parkgrid.commands.schedule import _inputs, initial_state
from parkgrid.config import parse_park
from parkgrid.errors import ConfigError, ParkgridError
from parkgrid.model.balance import check_schedule
from parkgrid.optimizer import plan_day

MODELS = Path(__file__).resolve().parents[1] / "models"
PARKS = {name: yaml.safe_load((MODELS / f"{name}.yaml").read_text())
         for name in ("haiyan", "dameisha")}


def _leaves(doc: object, path: tuple = ()) -> list[tuple]:
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _leaves(v, (*path, k))]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in _leaves(v, (*path, i))]
    return [path]


def _set(doc: dict, path: tuple, value: object) -> None:
    for part in path[:-1]:
        doc = doc[part]
    doc[path[-1]] = value


bad_values = st.one_of(
    st.booleans(), st.just(math.nan), st.just(math.inf), st.just(-math.inf),
    st.sampled_from([1e308, 1e12, -1e12, -1, 0, 0.0, 1e-300]),
    st.floats(-1e6, 1e6), st.integers(-10**6, 10**6), st.text(max_size=4), st.none(),
)


@st.composite
def mutated_parks(draw) -> tuple[str, dict, tuple, str]:
    """A shipped park with one mutation: a leaf's value, a repeated asset name, or a key
    removed. Returns (park, document, mutated path, kind)."""
    name = draw(st.sampled_from(sorted(PARKS)))
    doc = copy.deepcopy(PARKS[name])
    kind = draw(st.sampled_from(["value", "value", "value", "duplicate", "remove"]))
    leaves = [p for p in _leaves(doc) if p[0] not in ("name", "description")]
    path = draw(st.sampled_from(leaves))
    if kind == "value":
        _set(doc, path, draw(bad_values))
    elif kind == "duplicate":
        named = [p[:-1] for p in leaves if p[-1] == "name"]
        first, second = draw(st.sampled_from(named)), draw(st.sampled_from(named))
        source = doc
        for part in first:
            source = source[part]
        _set(doc, (*second, "name"), source["name"])
        path = second
    else:
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict):
            parent.pop(path[-1])
        else:
            kind = "unchanged"
    return name, doc, path, kind


def _names_the_field(message: str, path: tuple) -> bool:
    prefixes = [".".join(map(str, path[:n])) for n in range(1, len(path) + 1)]
    return any(f"{p}:" in message or f"{p}." in message for p in prefixes) \
        or "(top level)" in message


def _check(case: tuple[str, dict, tuple, str]) -> None:
    name, doc, path, kind = case
    source = MODELS / f"{name}.yaml"
    try:
        park = parse_park(doc, source)
    except ConfigError as exc:
        assert str(exc).startswith(str(source)), str(exc)
        assert _names_the_field(str(exc), path), (path, str(exc))
        return
    names = park.asset_names()
    assert kind != "duplicate" or len(set(names)) == len(names), path
    try:
        start = pd.Timestamp("2025-07-01", tz=park.site.timezone)
        inputs = _inputs(park, start, park.steps_per_day)
    except ParkgridError as exc:  # a file refused on read (e.g. a mutated path): names it
        assert Path(str(exc).split(":")[0]).is_absolute(), str(exc)
        return
    schedule = plan_day(inputs, initial_state(park, None), park)
    assert check_schedule(schedule.frame, park, inputs) == [], path


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated_parks())
def test_a_mutated_park_is_refused_naming_the_field_or_plans_a_balanced_day(case) -> None:
    _check(case)


@pytest.mark.slow
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated_parks())
def test_many_mutated_parks_are_refused_or_plan_a_balanced_day(case) -> None:
    _check(case)
