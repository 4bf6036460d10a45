"""The VPP split: convex hulls, the least-cost allocation, and `parkgrid vpp` end to end."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import MINIMAL_PARK, merged
from parkgrid.cli import app
from parkgrid.dr.vpp import allocate, interpolated_cost_yuan, load_portfolio, lower_hull
from parkgrid.errors import ConfigError

runner = CliRunner()


def test_lower_hull_drops_points_above_the_chord():
    assert lower_hull([0, 10, 20], [0, 30, 40]) == [(0, 0), (20, 40)]
    assert lower_hull([0, 10, 20], [0, 10, 40]) == [(0, 0), (10, 10), (20, 40)]


def test_allocation_fills_the_cheapest_segments_first():
    curves = [{"park": "a", "kw": [0, 10, 20], "cost_yuan": [0, 10, 40]},   # 1, then 3 /kW
              {"park": "b", "kw": [0, 10, 20], "cost_yuan": [0, 20, 40]},   # 2 /kW
              {"park": "c", "kw": [0, 10, 20], "cost_yuan": [0, 50, 60]}]   # hull: 3 /kW
    assert allocate(curves, 25.0) == pytest.approx({"a": 10.0, "b": 15.0, "c": 0.0})
    assert allocate(curves, 100.0) == pytest.approx({"a": 20.0, "b": 20.0, "c": 20.0})
    assert interpolated_cost_yuan(curves[2], 10.0) == pytest.approx(30.0)


@given(st.lists(st.tuples(st.floats(0.1, 50), st.floats(0, 20)), min_size=1, max_size=4),
       st.lists(st.tuples(st.floats(0.1, 50), st.floats(0, 20)), min_size=1, max_size=4),
       st.floats(0, 200))
def test_no_other_split_of_the_request_costs_less(segs_a, segs_b, request_kw):
    def curve(name, segs):  # convex: slopes sorted
        kw, cost = [0.0], [0.0]
        for width, slope in sorted(segs, key=lambda s: s[1]):
            kw.append(kw[-1] + width)
            cost.append(cost[-1] + width * slope)
        return {"park": name, "kw": kw, "cost_yuan": cost}

    a, b = curve("a", segs_a), curve("b", segs_b)
    share = allocate([a, b], request_kw)
    total = min(request_kw, a["kw"][-1] + b["kw"][-1])
    assert share["a"] + share["b"] == pytest.approx(total, abs=1e-6)
    best = interpolated_cost_yuan(a, share["a"]) + interpolated_cost_yuan(b, share["b"])
    for i in range(21):  # any other split of the same total
        x = min(a["kw"][-1], total) * i / 20
        if total - x <= b["kw"][-1] + 1e-9:
            other = interpolated_cost_yuan(a, x) + interpolated_cost_yuan(b, total - x)
            assert best <= other + 1e-6


def _portfolio(tmp_path, request_kw=150, **programme):
    parks = []
    for name, power, wear in (("cheap", 100, 0.05), ("dear", 100, 0.4)):
        data = merged(MINIMAL_PARK, {
            "name": name, "tariff": {"demand": {"kind": "none"}},
            "batteries": [{"name": "bat", "power_kw": power, "energy_kwh": 400,
                           "degradation_cost_yuan_per_kwh": wear}]})
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        parks.append(path.name)
    portfolio = {"name": "test_vpp", "parks": parks, "levels": 4, "programme": {
        "name": "agg", "kind": "peak_shaving", "capacity_kw": 1000, "baseline": "declared_plan",
        "price_yuan_per_kwh": 2.0, **programme}}
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(portfolio), encoding="utf-8")
    event = tmp_path / "request.csv"
    event.write_text(f"programme,date,start,end,requested_kw\nagg,2025-07-16,14:00,16:00,"
                     f"{request_kw}\n", encoding="utf-8")
    return path, event


def test_vpp_splits_by_cost_and_settles_each_park(tmp_path):
    portfolio, event = _portfolio(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["vpp", str(portfolio), "--event", str(event), "--out", str(out),
                                 "--forecast", "perfect"])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "vpp.json").read_text(encoding="utf-8"))
    (event_doc,) = doc["events"]
    shares = {p["park"]: p for p in event_doc["parks"]}
    assert event_doc["allocated_kw"] == pytest.approx(150.0)
    # the battery with less wear delivers first: all it can (its curve's top), the rest dear
    cheap = shares["cheap"]
    assert cheap["share_kw"] == pytest.approx(max(cheap["curve"]["kw"]))
    assert shares["dear"]["share_kw"] == pytest.approx(150.0 - cheap["share_kw"])
    for park in shares.values():
        costs = park["curve"]["cost_yuan"]
        assert costs[0] == 0.0 and all(c >= -1e-3 for c in costs)
        settlement = park["settlement"]
        assert settlement["status"] in ("in_band", "above_cap")
        assert settlement["offered_kw"] == pytest.approx(park["share_kw"])


def test_bad_portfolios_are_refused(tmp_path):
    portfolio, event = _portfolio(tmp_path)
    data = yaml.safe_load(portfolio.read_text(encoding="utf-8"))
    data["parks"].append("missing.yaml")
    portfolio.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        load_portfolio(portfolio)
    data["parks"] = data["parks"][:1] * 2
    data["levels"] = 1
    portfolio.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, ["vpp", str(portfolio), "--event", str(event)])
    assert result.exit_code == 2 and "levels" in result.output
    portfolio, event = _portfolio(tmp_path)
    event.write_text("programme,date,start,end,requested_kw\nother,2025-07-16,14:00,16:00,5\n",
                     encoding="utf-8")
    result = runner.invoke(app, ["vpp", str(portfolio), "--event", str(event)])
    assert result.exit_code == 2 and "request.csv" in result.output and "programme" in result.output


def test_a_large_portfolio_runs_on_dask_with_the_same_split(tmp_path):
    from parkgrid.dr.vpp import read_requests, vpp

    path, event_file = _portfolio(tmp_path)
    portfolio, parks = load_portfolio(path)
    events = read_requests(event_file, portfolio, parks[0])
    here = vpp(portfolio, parks, events, "perfect")
    portfolio.dask_from_parks = 2
    there = vpp(portfolio, parks, events, "perfect", workers=1)
    assert (here["dask"], there["dask"]) == (False, True)
    for a, b in zip(here["events"][0]["parks"], there["events"][0]["parks"], strict=True):
        assert a["share_kw"] == pytest.approx(b["share_kw"])
        assert a["settlement"]["net_yuan"] == pytest.approx(b["settlement"]["net_yuan"])
