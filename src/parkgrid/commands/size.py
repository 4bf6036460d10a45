"""``parkgrid size``: the sizing LP, its predicted NPV, the sensitivity around the optimum,
``sized.yaml`` and a check rollout of the sized park (MILP planner, noisy forecasts), all
written to one results folder at once.

Folder: ``sizing.json`` (sizes, bounds, binding, annualised costs, objective, predicted and
realised NPV, the reduction), ``sensitivity.csv`` / ``sensitivity.png`` (NPV against each
size around the optimum, the others held), ``sized.yaml`` (the park with the sizes written
in; paths made absolute) and ``check/`` (the check rollout's results folder).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from rich.console import Console
from rich.table import Table

from parkgrid.commands.arguments import number
from parkgrid.config import BASELINE_WITHOUT, Park, load_park
from parkgrid.design.economics import evaluate
from parkgrid.design.sizing import (
    ASSETS,
    KIND,
    SizingModel,
    SizingResult,
    configured_size,
    parse_assets,
    parse_bounds,
    reduced_inputs,
    scaled_park,
)
from parkgrid.errors import ArgumentError
from parkgrid.io.results import ResultsFolderError, dumps, staged_folder, write_results

SENSITIVITY_RATIOS = (0.5, 0.8, 1.0, 1.25, 1.5)
"""Sizes tried around the optimum, as multiples of it (clipped to the bounds)."""


def baseline_sizes(park: Park, result: SizingResult) -> dict[str, float]:
    """The sized assets the economics baseline runs without, at size 0."""
    eco = park.economics
    assert eco is not None
    return {a: 0.0 for a in result.sizes if KIND[a] in BASELINE_WITHOUT[eco.baseline]}


def npv_of(park: Park, sizes: dict[str, float], kpis: dict[str, Any],
           base: dict[str, Any]) -> dict[str, Any]:
    """economics.evaluate of the park at ``sizes`` on LP costs ``kpis`` vs ``base``."""
    eco = park.economics
    assert eco is not None
    sized = scaled_park(park, sizes)
    section = evaluate(sized, kpis, {eco.baseline: base})
    section.pop("cashflow", None)
    return section


def sensitivity(park: Park, model: SizingModel, result: SizingResult,
                base: dict[str, Any]) -> pd.DataFrame:
    """NPV and LP objective with each size moved around the optimum, the others held."""
    rows = []
    for asset, best in result.sizes.items():
        lo, hi = result.bounds[asset]
        centre = best if best > 0 else 0.25 * hi
        for ratio in SENSITIVITY_RATIOS:
            size = min(max(centre * ratio, lo), hi)
            fixed = {**result.sizes, asset: size}
            r = result if size == best else model.solve(fixed)  # warm-started
            rows.append({"asset": asset, "size": size, "size_ratio": size / centre,
                         "objective_yuan": r.objective_yuan,
                         "npv_yuan": npv_of(park, fixed, r.kpis, base)["npv_yuan"]})
    return pd.DataFrame(rows).drop_duplicates(["asset", "size"]).reset_index(drop=True)


def sized_yaml(park: Park) -> str:
    """The park as YAML, its relative paths made absolute (the file moves)."""
    data = park.model_dump(mode="python", exclude_none=True)

    def fix(value: Any) -> Any:
        if isinstance(value, Path):
            return str(park.resolve(value))
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    header = "# written by `parkgrid size`: the sized assets scaled to the LP's optimum\n"
    return header + yaml.safe_dump(fix(data), sort_keys=False, allow_unicode=True)


STEP_MINUTES = (15, 30, 60)
"""Time steps the sizing LP may use (the reduction)."""


def size_command(park_path: Path | str, assets: str, bounds: list[str],
                 out: Path | str | None = None, step_minutes: int = 60,
                 start: str | None = None, days: int | None = None,
                 check_days: int | None = None, check: bool = True, seed: int = 0,
                 console: Console | None = None) -> dict[str, Any]:
    """Size, evaluate, check and write the folder; returns the ``sizing.json`` document."""
    console = console or Console()
    started = time.perf_counter()
    park = load_park(park_path)
    names = parse_assets(park, assets)
    limits = parse_bounds(park, names, bounds)
    if step_minutes not in STEP_MINUTES:
        raise ArgumentError("--step-minutes", step_minutes, "15, 30 or 60")
    number("--days", days, 1, 366)
    number("--check-days", check_days, 1, 366)
    out = Path(out) if out is not None else Path("results") / f"{Path(park_path).stem}_size"
    _check_out(out)
    with console.status(f"sizing {', '.join(names)} of {park.name}"):
        coarse, inputs = reduced_inputs(park, step_minutes, start, days)
        model = SizingModel(coarse, inputs, limits)
        result = model.solve()
        base = model.solve(baseline_sizes(park, result)).kpis
        predicted = npv_of(coarse, result.sizes, result.kpis, base)
        table = sensitivity(coarse, model, result, base)
    sized = scaled_park(park, result.sizes)
    doc: dict[str, Any] = {
        "park": park.name, "assets": {
            a: {"size": result.sizes[a], "unit": ASSETS[a], "configured": configured_size(park, a),
                "lower": limits[a][0], "upper": limits[a][1], "binding": result.binding[a],
                "annualised_yuan_per_unit_year": model.annual[a]} for a in names},
        "objective_yuan": result.objective_yuan, "operating_cost_yuan": result.operating_yuan,
        "reduction": {"step_minutes": step_minutes, "steps": result.steps,
                      "days": model.days, "start": str(inputs.index[0])},
        "predicted": predicted, "solve_s": result.solve_s,
        "lp_kpis": {"strategy": result.kpis, "baselines": {predicted["baseline"]: base}},
    }
    with staged_folder(out) as tmp:
        (tmp / "sized.yaml").write_text(sized_yaml(sized), encoding="utf-8")
        sized = load_park(tmp / "sized.yaml")  # must validate
        if check:
            block = {k: doc[k] for k in ("assets", "predicted", "reduction")}
            block["sensitivity"] = table.to_dict("records")
            doc["realised"] = _check(sized, start, check_days, seed, tmp / "check", block,
                                     console)
        doc["wall_s"] = time.perf_counter() - started
        table.to_csv(tmp / "sensitivity.csv", index=False)
        _plot(table, tmp / "sensitivity.png")
        (tmp / "sizing.json").write_text(dumps(doc) + "\n", encoding="utf-8")
    console.print(size_table(doc))
    console.print(f"wrote {out}" + (f"; report: {out / 'check' / 'report.html'}"
                                     if check else ""))
    return doc


def _check_out(out: Path) -> None:
    """Refuse an ``out`` that is anything but absent, empty or an earlier size folder:
    parkgrid never replaces files it did not write."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or (any(out.iterdir()) and not (out / "sizing.json").is_file()):
        raise ResultsFolderError(f"{out}: not a parkgrid size folder (no sizing.json); "
                                 "parkgrid never replaces files it did not write: choose "
                                 "another --out")


def _check(sized: Park, start: str | None, days: int | None, seed: int, folder: Path,
           sizing: dict[str, Any], console: Console) -> dict[str, Any]:
    """Roll the sized park out with the MILP planner and noisy forecasts; its results folder
    carries ``sizing`` (sizes, the promise, the sensitivity) in kpis.json and a report.html
    that shows it beside what the rollout realised."""
    from parkgrid.reporting.html import write_report
    from parkgrid.simulate.run import run

    with console.status(f"check rollout of the sized park ({days or 'a year of'} days)"):
        result = run(sized, start, days, "noisy", "milp", seed, keep_schedules=False)
    r = result.strategy
    write_results(folder, {**result.kpis, "sizing": sizing}, r.ledger, r.schedules, r.events,
                  {name: b.ledger for name, b in result.baselines.items()})
    with console.status("report of the check"):
        write_report(folder, park=sized)
    eco = result.kpis.get("economics") or {}
    return {"npv_yuan": eco.get("npv_yuan"), "simple_payback_years":
            eco.get("simple_payback_years"), "period_days": eco.get("period_days"),
            "cost_yuan": result.kpis["strategy"]["cost_yuan"],
            "error": eco.get("error")}


def _plot(table: pd.DataFrame, path: Path) -> None:
    from parkgrid.reporting.plots import npv_sensitivity

    fig = npv_sensitivity(table)
    fig.savefig(path, dpi=110, bbox_inches="tight")


def size_table(doc: dict[str, Any]) -> Table:
    """The sizes, their bounds and the promised vs realised NPV, within 80 columns."""
    table = Table(title=f"{doc['park']}: sizes", title_justify="left")
    for col in ("asset", "size", "bounds", "binding"):
        table.add_column(col, justify="right" if col != "asset" else "left")
    for name, a in doc["assets"].items():
        table.add_row(name, f"{a['size']:,.0f} {a['unit']}",
                      f"{a['lower']:,.0f}–{a['upper']:,.0f}", a["binding"] or "no")
    promised = doc["predicted"].get("npv_yuan")
    realised = (doc.get("realised") or {}).get("npv_yuan")
    table.caption = (f"NPV promised (perfect foresight) {_money(promised)}; "
                     f"realised (MILP, noisy) {_money(realised)}")
    return table


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1e6:,.2f} M yuan"
