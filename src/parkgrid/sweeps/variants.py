"""Variant expansion: a sweep's axes → one park document per variant, with a stable id.

A variant is the base park's YAML document with the swept fields set by dotted path, then
re-validated with :func:`parkgrid.config.parse_park`. Its id is a hash of the edited document
and the rollout options, so a resumed sweep recognises the variants it has already run.
Variants whose inputs (weather, RE output, loads, tariff) are the same share one ``inputs_key``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from parkgrid.config import Park, parse_park, read_yaml
from parkgrid.errors import ConfigError
from parkgrid.inputs import NON_INPUT_FIELDS, affects_inputs
from parkgrid.sweeps.spec import Choice, Rollout, Sweep

MAX_PROBLEMS = 10


@dataclass(frozen=True)
class Variant:
    """One run of a sweep: a park document, the swept values, and its ids."""

    index: int
    park_file: Path
    park_label: str
    values: dict[str, Any]
    doc: dict[str, Any]
    id: str
    inputs_key: str

    def park(self) -> Park:
        """The validated park of this variant."""
        return parse_park(self.doc, self.park_file)

    def row_head(self) -> dict[str, Any]:
        """The identifying columns of its result row: id, number, park and swept values."""
        return {"variant_id": self.id, "variant": self.index, "park": self.park_label,
                **self.values}

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"variant {self.index} ({self.park_label}{': ' + shown if shown else ''})"


def axis_values(sweep: Sweep) -> list[dict[str, Any]]:
    """The swept values of every variant of one park: random samples, or the cartesian
    product of the grid's axes and the zipped list (one axis of its own)."""
    if sweep.random is not None:
        return _random_values(sweep)
    blocks: list[list[dict[str, Any]]] = []
    if sweep.zipped is not None:
        keys = list(sweep.zipped)
        blocks.append([dict(zip(keys, combo, strict=True))
                       for combo in zip(*sweep.zipped.values(), strict=True)])
    for path, values in (sweep.grid or {}).items():
        blocks.append([{path: value} for value in values])
    return [{k: v for part in combo for k, v in part.items()}
            for combo in itertools.product(*blocks)]


def _random_values(sweep: Sweep) -> list[dict[str, Any]]:
    """``samples`` draws; field by field from one seeded generator, so they are reproducible."""
    spec = sweep.random
    assert spec is not None
    rng = np.random.default_rng(spec.seed)
    columns: dict[str, list[Any]] = {}
    for path, dist in spec.fields.items():
        if isinstance(dist, Choice):
            picks = rng.integers(0, len(dist.choice), size=spec.samples)
            columns[path] = [dist.choice[int(i)] for i in picks]
        else:
            draws = rng.uniform(*dist.uniform, size=spec.samples)
            if dist.decimals is not None:
                draws = np.round(draws, dist.decimals)
            columns[path] = [float(x) for x in draws]
    return [{p: columns[p][i] for p in columns} for i in range(spec.samples)]


def set_field(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set the field at dotted ``path`` in ``doc``; containers on the way must exist."""
    *parents, last = path.split(".")
    node: Any = doc
    walked: list[str] = []
    for part in parents:
        node = _child(node, part, walked)
        walked.append(part)
    if isinstance(node, list):
        _child(node, last, walked)  # the index must exist
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise KeyError(f"{'.'.join(walked)} is a value ({node!r}), not a section")


def _child(node: Any, part: str, walked: list[str]) -> Any:
    where = ".".join(walked) or "(top level)"
    if isinstance(node, list):
        if not part.isdigit() or int(part) >= len(node):
            raise KeyError(f"{where} has {len(node)} entries; no index {part!r}")
        return node[int(part)]
    if isinstance(node, dict):
        if part not in node or node[part] is None:
            raise KeyError(f"{'.'.join([*walked, part])} is not in the base park")
        return node[part]
    raise KeyError(f"{where} is a value ({node!r}), not a section")


def _apply(doc: dict[str, Any], values: dict[str, Any], rollout: Rollout) -> list[str]:
    """Set every swept field in ``doc`` and re-validate it; the problems found, one a line."""
    problems = []
    for path, value in values.items():
        try:
            set_field(doc, path, value)
        except KeyError as exc:
            problems.append(f"{path}: {exc.args[0]}")
    if problems:
        return problems
    try:
        park = parse_park(doc, "<variant>")
    except ConfigError as exc:
        return exc.problems
    return _period_problems(park, rollout)


def _period_problems(park: Park, rollout: Rollout) -> list[str]:
    """The rollout must lie in one calendar year (inputs are built a year at a time)."""
    start, end = rollout.period(park.year)
    if start.year != (end - dt.timedelta(days=1)).year:
        return [f"rollout: {start} to {end} crosses a year end; a rollout must lie within "
                "one calendar year"]
    return []


def _digest(obj: Any, n: int = 12) -> str:
    text = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def inputs_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The part of a park document that its inputs depend on."""
    kept = copy.deepcopy(doc)
    for path in NON_INPUT_FIELDS:
        *parents, last = path.split(".")
        node = kept
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return kept


def expand(sweep: Sweep) -> list[Variant]:
    """Every variant of the sweep, validated; ConfigError lists the bad ones by name."""
    options = sweep.rollout.model_dump(mode="json")
    base_dir = sweep.source_file.parent if sweep.source_file else Path.cwd()
    combos = axis_values(sweep)
    variants: list[Variant] = []
    problems: list[str] = []
    labels = _labels(sweep.park_files, base_dir)
    for park_file, label in zip(sweep.park_files, labels, strict=True):
        base = _read_doc(park_file)
        for values in combos:
            index = len(variants)
            doc = copy.deepcopy(base)
            variant = Variant(index, park_file, label, values, doc, "", "")
            problems += [f"{variant.describe()}: {p}" for p in _apply(doc, values, sweep.rollout)]
            key = {"park": doc, "rollout": options}
            variants.append(Variant(index, park_file, label, values, doc, _digest(key),
                                    _digest([str(park_file.parent), inputs_doc(doc)])))
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"... and {len(problems) - MAX_PROBLEMS} more")
        raise ConfigError(sweep.source_file or "<sweep>", shown)
    return variants


def _read_doc(path: Path) -> dict[str, Any]:
    """The park's YAML document, validated once as it stands."""
    data = read_yaml(path)
    parse_park(data, path)  # a bad base park is reported against its own file
    return data  # type: ignore[return-value]


def _labels(park_files: list[Path], base_dir: Path) -> list[str]:
    """A short name per park file: its stem, or its path from the sweep file if stems clash."""
    stems = [f.stem for f in park_files]
    if len(set(stems)) == len(stems):
        return stems
    return [os.path.relpath(f, base_dir) for f in park_files]


def input_axes(sweep: Sweep) -> list[str]:
    """The swept fields that change the inputs (these variants rebuild inputs in the task)."""
    return [p for p in sweep.axis_paths if affects_inputs(p)]
