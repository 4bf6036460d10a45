"""Behaviour preserved: every KPI of ``parkgrid run`` (strategy, baselines, bound) equals the
result stored from the code before the asset-registry refactor (benchmarks/reference_kpis.py
stores and checks them), within 1e-6 relative (1e-9 absolute near zero)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("reference_kpis",
                                               ROOT / "benchmarks" / "reference_kpis.py")
assert _spec is not None and _spec.loader is not None
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)


def _check(case: str) -> None:
    stored = json.loads((reference.STORE / f"{case}.json").read_text())
    got = reference.reference_kpis(case)
    diff = reference.differences(got, stored)
    assert not diff, f"{case}: {len(diff)} KPIs differ:\n" + "\n".join(diff[:30])


@pytest.mark.parametrize("case", ["dameisha_14d", "haiyan_14d"])
def test_two_weeks_match_the_stored_result(case: str) -> None:
    _check(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["dameisha_year", "haiyan_year"])
def test_years_match_the_stored_result(case: str) -> None:
    _check(case)


def test_the_comparison_catches_a_changed_kpi() -> None:
    stored = json.loads((reference.STORE / "haiyan_14d.json").read_text())
    changed = json.loads(json.dumps(stored))
    changed["strategy"]["total_cost_yuan"] *= 1.0 + 1e-5
    changed["baselines"]["rules"].pop("co2_t")
    diff = reference.differences(changed, stored)
    assert any("total_cost_yuan" in d for d in diff)
    assert any("co2_t: missing" in d for d in diff)
    assert not reference.differences(stored, stored)
    assert not reference.differences(changed | {"new_kpi_kwh": 1.0}, changed)
    assert "wall_s" not in json.dumps(reference.without_timings({"run": {"wall_s": 1.0}}))
