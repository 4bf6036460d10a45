"""Sizing: a known-answer arbitrage case, the fixed-size LP against the bound, brute force
on a battery × tank grid, bounds and bad command-line values."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import parkgrid as pg
from optimizer_support import IDEAL_BATTERY, hours, make_inputs, make_park
from parkgrid.cli import app
from parkgrid.config import load_park
from parkgrid.design.sizing import (
    SizingModel,
    annualised_yuan_per_unit,
    parse_assets,
    parse_bounds,
    reduced_inputs,
)
from parkgrid.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
HAIYAN = ROOT / "models" / "haiyan.yaml"
LOW, HIGH, MID = 0.3, 1.0, 0.6  # yuan/kWh: valley 0–8 h, peak 12–20 h, flat otherwise
ECONOMICS = {"analysis_years": 20, "discount_rate": 0.07, "baseline": "re_no_storage"}


def arbitrage_park(capex_yuan_per_kwh: float):
    """A lossless battery against a steady load: lifetime = analysis period, no O&M, so the
    annualised cost per kWh is CRF × capex."""
    cost = {"capex_yuan_per_unit": capex_yuan_per_kwh, "om_yuan_per_unit_year": 0.0,
            "lifetime_years": 20}
    return make_park(batteries=[IDEAL_BATTERY | {"cost": cost}], economics=ECONOMICS)


def arbitrage_inputs(park, days: int):
    n = days * 96
    h = hours(park, n)
    price = np.where(h < 8, LOW, np.where((h >= 12) & (h < 20), HIGH, MID))
    return make_inputs(park, n, load_kw_plant=500.0, price_import_yuan_per_kwh=price)


@pytest.mark.parametrize("ratio", [0.8, 1.25])
def test_arbitrage_battery_sized_at_the_analytic_optimum(ratio: float) -> None:
    """One full cycle a day earns HIGH − LOW per kWh; the LP buys the upper bound when the
    annualised cost per kWh is below 365 × that margin, nothing when above, and its
    objective moves by exactly E × days × (margin − annualised/365)."""
    r, n = 0.07, 20
    crf = r * (1 + r) ** n / ((1 + r) ** n - 1)
    margin_day = HIGH - LOW
    park = arbitrage_park(ratio * 365 * margin_day / crf)
    assert annualised_yuan_per_unit(park, "battery") == pytest.approx(ratio * 365 * margin_day)
    days, upper = 3, 2000.0
    model = SizingModel(park, arbitrage_inputs(park, days), {"battery": (0.0, upper)})
    best = model.solve()
    empty = model.solve({"battery": 0.0})
    expected = upper if ratio < 1 else 0.0
    assert best.sizes["battery"] == pytest.approx(expected, abs=1e-6)
    assert best.binding["battery"] == ("upper" if ratio < 1 else "lower")
    gain = max(0.0, upper * days * margin_day * (1 - ratio))
    assert empty.objective_yuan - best.objective_yuan == pytest.approx(gain, rel=1e-6, abs=1e-6)


def test_sizes_inside_their_bounds_are_not_binding() -> None:
    park = arbitrage_park(0.8 * 365 * (HIGH - LOW) / 0.0944)
    model = SizingModel(park, arbitrage_inputs(park, 2), {"battery": (100.0, 500.0)})
    assert model.solve({"battery": 300.0}).binding == {"battery": None}
    assert model.solve({"battery": 100.0}).binding == {"battery": "lower"}


def test_fixed_sizes_cost_what_the_bound_lp_costs() -> None:
    """With the sizes fixed at the park's, no cyclic rule and a whole calendar month, the
    sizing LP is the bound's LP of that month: same cost to 1e-6 relative."""
    from parkgrid.simulate.bound import perfect_foresight_bound

    park = load_park(HAIYAN)
    coarse, inputs = reduced_inputs(park, 60, "2025-02-01", 28)
    sizes = {"battery": 1000.0, "tank": 10000.0}
    model = SizingModel(coarse, inputs, {a: (s, s) for a, s in sizes.items()}, cyclic=False)
    fixed = model.solve()
    capex = sum(fixed.annualised_yuan.values()) * model.days / 365.0
    bound = perfect_foresight_bound(coarse, inputs, inputs.index[0],
                                    inputs.index[-1] + np.timedelta64(1, "h"))
    assert len(bound.months) == 1
    assert fixed.objective_yuan - capex == pytest.approx(bound.total_cost_yuan, rel=1e-6)
    assert fixed.operating_yuan == pytest.approx(bound.total_cost_yuan, rel=1e-6)


def test_brute_force_grid_is_no_better_than_the_sized_optimum() -> None:
    """Haiyan, battery × tank, 4 days: every grid point solved with its sizes fixed costs at
    least the sized optimum, and the best grid point is a neighbour of it."""
    park = load_park(HAIYAN)
    coarse, inputs = reduced_inputs(park, 60, "2025-07-14", 4)
    bounds = {"battery": (0.0, 4000.0), "tank": (0.0, 40000.0)}
    model = SizingModel(coarse, inputs, bounds)
    best = model.solve()
    grid = {a: np.linspace(lo, hi, 5) for a, (lo, hi) in bounds.items()}
    costs = {}
    for e, c in itertools.product(grid["battery"], grid["tank"]):
        costs[(e, c)] = model.solve({"battery": e, "tank": c}).objective_yuan
    assert min(costs.values()) >= best.objective_yuan - 1e-6 * abs(best.objective_yuan)
    e, c = min(costs, key=costs.__getitem__)
    step = {a: g[1] - g[0] for a, g in grid.items()}
    assert abs(e - best.sizes["battery"]) <= step["battery"] + 1e-6
    assert abs(c - best.sizes["tank"]) <= step["tank"] + 1e-6


@pytest.mark.parametrize(("assets", "bounds", "message"), [
    ("battery,boiler", [], "got 'boiler'"),
    ("", [], "--assets is empty"),
    ("battery", ["battery=5:1"], "expected 0 ≤ LO ≤ HI"),
    ("battery", ["tank=0:10"], "expected ASSET=LO:HI"),
    ("battery", ["battery=a:b"], "must be numbers"),
    ("battery", ["battery"], "expected ASSET=LO:HI"),
])
def test_bad_assets_and_bounds_are_config_errors(assets: str, bounds: list[str],
                                                 message: str) -> None:
    park = load_park(HAIYAN)
    with pytest.raises(ConfigError, match=message):
        parse_bounds(park, parse_assets(park, assets), bounds)


def test_size_cli_bad_values_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    for args, message in ((["--assets", "battery,boiler"], "got 'boiler'"),
                          (["--bounds", "battery=9:1"], "expected 0 ≤ LO ≤ HI"),
                          (["--step-minutes", "7"], "expected 15, 30 or 60")):
        result = runner.invoke(app, ["size", str(HAIYAN), "--out", str(tmp_path / "o"), *args])
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def size_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A short `parkgrid size` of Haiyan's battery and tank with a one-day check."""
    out = tmp_path_factory.mktemp("size") / "sized"
    result = CliRunner().invoke(app, [
        "size", str(HAIYAN), "--assets", "battery,tank", "--start", "2025-07-14", "--days",
        "3", "--check-days", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_size_cli_writes_sizes_sized_yaml_and_the_check(size_run: tuple[Path, str]) -> None:
    import json

    out, output = size_run
    doc = json.loads((out / "sizing.json").read_text())
    assert set(doc["assets"]) == {"battery", "tank"}
    for a in doc["assets"].values():
        assert a["lower"] - 1e-6 <= a["size"] <= a["upper"] + 1e-6
    assert doc["predicted"]["npv_yuan"] is not None
    assert doc["realised"]["npv_yuan"] is not None
    repriced = pg.reprice(load_park(out / "sized.yaml"), doc["lp_kpis"], {})  # the promise again
    assert repriced["npv_yuan"] == pytest.approx(doc["predicted"]["npv_yuan"], rel=1e-9)
    sized = load_park(out / "sized.yaml")
    assert sum(b.energy_kwh for b in sized.batteries) == pytest.approx(
        doc["assets"]["battery"]["size"], rel=1e-6)
    assert (out / "sensitivity.png").stat().st_size > 0
    assert (out / "check" / "kpis.json").exists()
    assert "NPV promised" in output


def test_the_check_report_opens_with_the_sizing_from_sizing_json(
        size_run: tuple[Path, str]) -> None:
    """The check's report.html: a sizing section before the summary whose cells are the
    sizes, bounds, binding flags and promised NPV of sizing.json, the realised NPV of the
    check's own economics, and the sensitivity plot."""
    import json

    from test_report import lookup, parse

    out, _ = size_run
    doc = json.loads((out / "sizing.json").read_text())
    check = json.loads((out / "check" / "kpis.json").read_text())
    page = (out / "check" / "report.html").read_text(encoding="utf-8")
    assert page.index('id="sizing"') < page.index('id="summary"')
    cells = {c["data-kpi"]: c for c in parse(out / "check").cells}
    for name, a in doc["assets"].items():
        for key in ("size", "lower", "upper", "binding"):
            cell = cells[f"sizing.assets.{name}.{key}"]
            expected = a[key] if key == "binding" else pytest.approx(a[key])
            assert json.loads(cell["data-value"]) == expected, (name, key)
    for key in ("npv_yuan", "simple_payback_years"):
        promised = cells.get(f"sizing.predicted.{key}")
        if doc["predicted"].get(key) is None:
            assert promised is None
        else:
            assert json.loads(promised["data-value"]) == pytest.approx(doc["predicted"][key])
    realised = cells["economics.npv_yuan"]
    assert json.loads(realised["data-value"]) == pytest.approx(doc["realised"]["npv_yuan"])
    assert lookup(check, "sizing.predicted.npv_yuan") == pytest.approx(
        doc["predicted"]["npv_yuan"])
    plots = {img.get("data-plot") for img in parse(out / "check").images}
    assert "sizing_sensitivity" in plots


def test_a_size_of_zero_removes_the_asset_and_the_park_still_validates() -> None:
    from parkgrid.commands.size import sized_yaml
    from parkgrid.config import Park
    from parkgrid.design.sizing import scaled_park

    park = load_park(HAIYAN)
    sized = scaled_park(park, {"battery": 0.0, "tank": 2500.0})
    assert sized.batteries == []
    assert sized.cooling.tank.capacity_kwh_th == pytest.approx(2500.0)
    ratio = park.cooling.tank.max_charge_kw_th / park.cooling.tank.capacity_kwh_th
    assert sized.cooling.tank.max_charge_kw_th == pytest.approx(2500.0 * ratio)
    import yaml
    again = Park.model_validate(yaml.safe_load(sized_yaml(sized)))
    assert again.cooling.tank.capacity_kwh_th == pytest.approx(2500.0)


@pytest.mark.parametrize("kind", ["folder of other files", "regular file"])
def test_size_never_replaces_what_parkgrid_did_not_write(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    if kind == "regular file":
        out.write_text("mine", encoding="utf-8")
    else:
        out.mkdir()
        (out / "my_notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(app, ["size", str(HAIYAN), "--assets", "battery", "--days", "1",
                                      "--no-check", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "not a parkgrid size folder" in " ".join(result.output.split())
    kept = out if kind == "regular file" else out / "my_notes.txt"
    assert kept.read_text(encoding="utf-8") == "mine"
