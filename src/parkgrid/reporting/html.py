"""The run report: a results folder → one self-contained HTML file (``report.html``).

Everything is inside the file — the plots as base64 PNG, the KPI tables, the baselines, the
zero-carbon indicators with pass/fail, solver statistics and the events — so it opens
offline in any browser and can be mailed. Every number taken from ``kpis.json`` sits in a
cell ``<td data-kpi="path.in.kpis.json" data-value="raw JSON value">`` (the shown text is the
value formatted in the unit of its row), and every plot is an ``<img data-plot="name">``:
tests and scripts can read the report back without guessing.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import string
from collections.abc import Iterable, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from parkgrid.config import Park
from parkgrid.errors import InputDataError
from parkgrid.io.atomic import atomic_write
from parkgrid.model import registry
from parkgrid.reporting import display, plots

REPORT_FILE = "report.html"
DPI = 100
FIGURE_WIDTH_IN = 13.0
"""Every report figure is drawn 1,300 px wide: the page's full width at 100 % zoom."""
MAX_HEIGHT_IN = 5.5
MAX_EVENTS = 300
BASELINE_TITLES = {"grid_only": "grid only", "re_no_storage": "RE, no storage",
                   "rules": "rules"}
BOUND_TITLE = "perfect foresight"

Row = tuple[str, str, str, float, str]
KPI_ROWS: list[Row] = [
    # label, key, unit shown, scale from the key's unit, format
    ("cost (energy + demand − export)", "cost_yuan", "yuan", 1.0, "{:,.0f}"),
    ("  energy", "energy_cost_yuan", "yuan", 1.0, "{:,.0f}"),
    ("  demand charge", "demand_charge_yuan", "yuan", 1.0, "{:,.0f}"),
    ("  export revenue", "export_revenue_yuan", "yuan", 1.0, "{:,.0f}"),
    ("battery wear (degradation)", "degradation_yuan", "yuan", 1.0, "{:,.0f}"),
    ("penalties (unserved, unmet)", "penalty_yuan", "yuan", 1.0, "{:,.0f}"),
    ("total cost", "total_cost_yuan", "yuan", 1.0, "{:,.0f}"),
    ("consumption", "consumption_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("RE generation (available)", "re_generation_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("RE used on site", "re_self_used_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("curtailed", "curtailed_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("exported", "exported_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("grid import", "imported_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("self-sufficiency, time-matched", "self_sufficiency", "%", 100.0, "{:.1f}"),
    ("self-sufficiency, annual balance", "self_sufficiency_annual", "%", 100.0, "{:.1f}"),
    ("self-consumption", "self_consumption", "%", 100.0, "{:.1f}"),
    ("peak import (highest month)", "peak_import_kw", "kW", 1.0, "{:,.0f}"),
    ("battery throughput", "battery_throughput_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("unserved load", "unserved_kwh", "kWh", 1.0, "{:,.1f}"),
    ("EV energy unmet", "ev_unmet_kwh", "kWh", 1.0, "{:,.1f}"),
    ("CO2", "co2_t", "t", 1.0, "{:,.1f}"),
    ("CO2 avoided (vs grid only)", "co2_avoided_t", "t", 1.0, "{:,.1f}"),
]
MONTHLY_ROWS: list[Row] = [
    ("consumption", "consumption_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("RE generation", "re_generation_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("grid import", "imported_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("exported", "exported_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("curtailed", "curtailed_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("self-sufficiency, time-matched", "self_sufficiency", "%", 100.0, "{:.1f}"),
    ("self-sufficiency, annual balance", "self_sufficiency_annual", "%", 100.0, "{:.1f}"),
    ("peak import", "peak_import_kw", "kW", 1.0, "{:,.0f}"),
    ("demand charge", "demand_charge_yuan", "yuan", 1.0, "{:,.0f}"),
    ("cost", "cost_yuan", "yuan", 1.0, "{:,.0f}"),
    ("CO2", "co2_t", "t", 1.0, "{:,.1f}"),
]
SELF_SUFFICIENCY_NOTE = (
    "self-sufficiency, time-matched = RE used on site when generated ÷ consumption; "
    "self-sufficiency, annual balance = RE generated ÷ consumption over the period, the "
    "kind parks and zero-carbon balances usually publish.")
INDICATORS = {
    "self_used_re_share_of_generation": ("self-used RE / RE generation", "%", 100.0),
    "self_used_re_share_of_consumption": ("self-used RE / consumption", "%", 100.0),
    "self_used_re_share_of_consumption_2030": ("self-used RE / consumption (2030)", "%",
                                               100.0),
    "export_share_of_generation": ("export / RE generation", "%", 100.0),
    "clean_energy_share": ("clean energy / energy use", "%", 100.0),
    "co2_per_energy_t_per_tce": ("CO2 per unit of energy", "tCO2/tce", 1.0),
}


_NEEDS = {
    # indicator: (KPI the shortfall is a share of, what closes it)
    "self_used_re_share_of_generation": ("re_generation_kwh", "more of the RE used on site "
                                         "(storage, shifted loads) instead of exported or "
                                         "curtailed"),
    "self_used_re_share_of_consumption": ("consumption_kwh", "more RE used on site (more PV "
                                          "or wind, with storage to use it)"),
    "self_used_re_share_of_consumption_2030": ("consumption_kwh", "more RE used on site "
                                               "(more PV or wind, with storage to use it)"),
    "export_share_of_generation": ("re_generation_kwh", "less export (store the surplus or "
                                   "use it on site)"),
    "clean_energy_share": ("consumption_kwh", "more clean energy: grid electricity counts as "
                           "not clean, so more on-site RE or green-power contracts"),
    "co2_per_energy_t_per_tce": ("energy_use_tce", "less CO2 from grid import"),
}


def indicator_verdict(name: str, ind: dict[str, Any], k: dict[str, Any] | None = None) -> str:
    """One line on a zero-carbon indicator: value, rule and, when it fails, what it needs —
    e.g. "export / RE generation 45.0 % > 20.0 % allowed: 1,234.5 MWh less export (…)"."""
    label, unit, scale = INDICATORS.get(name, (name.replace("_", " "), "", 1.0))
    fmt = "{:.1f}" if scale == 100.0 else "{:.3f}"
    shown = lambda v: f"{fmt.format(v * scale)} {unit}"  # noqa: E731
    value, threshold, rule = ind["value"], ind["threshold"], ind["rule"]
    if ind.get("pass"):
        return f"{label} {shown(value)} meets {rule} {shown(threshold)}"
    text = (f"{label} {shown(value)} > {shown(threshold)} allowed" if rule == "<=" else
            f"{label} {shown(value)} < {shown(threshold)} required")
    base_key, remedy = _NEEDS.get(name, ("", ""))
    base = (k or {}).get(base_key)
    if not remedy:
        return text
    if base:
        amount = abs(threshold - value) * float(base)
        size = (f"{amount:,.1f} t" if name == "co2_per_energy_t_per_tce"
                else f"{amount / 1000:,.1f} MWh")
        return f"{text}: {size} {remedy}"
    return f"{text}: {remedy}"


# --- reading a results folder ----------------------------------------------------------------


def read_results(folder: Path | str) -> tuple[dict[str, Any], pd.DataFrame, list[str]]:
    """The KPI document, the ledger and the event lines of a results folder."""
    from parkgrid.io.results import EVENTS_FILE, KPIS_FILE, TIMESERIES_FILE

    folder = Path(folder)
    kpis_path = folder / KPIS_FILE
    try:
        doc = json.loads(kpis_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputDataError(kpis_path, f"cannot read the KPI file ({exc.strerror}); "
                             "expected a results folder written by `parkgrid run`") from None
    except json.JSONDecodeError as exc:
        raise InputDataError(kpis_path, f"not valid JSON (line {exc.lineno}: {exc.msg})") \
            from None
    if not isinstance(doc, dict):
        raise InputDataError(kpis_path, f"got {type(doc).__name__} {str(doc)[:40]}; expected a "
                             "run's KPI document (a JSON object)")
    for key in ("strategy", "period", "run"):
        if not isinstance(doc.get(key), dict):
            raise InputDataError(kpis_path, f"missing the key {key!r} of a run's KPI document")
    series_path = folder / TIMESERIES_FILE
    try:
        ledger = pd.read_parquet(series_path)
    except (OSError, ValueError) as exc:
        raise InputDataError(series_path, f"cannot read the ledger ({exc})") from None
    events_path = folder / EVENTS_FILE
    events = (events_path.read_text(encoding="utf-8").splitlines()
              if events_path.is_file() else [])
    return doc, ledger, events


def strategy_title(doc: dict[str, Any]) -> str:
    run = doc.get("run", {})
    return f"{run.get('planner', 'strategy')} ({run.get('forecast', '?')})"


def kpi_frame(doc: dict[str, Any]) -> pd.DataFrame:
    """Period KPIs of a run: one row per KPI of :data:`KPI_ROWS` (raw units), one column per
    strategy — the strategy, each baseline, and the perfect-foresight bound's total cost."""
    columns = {strategy_title(doc): doc["strategy"]}
    for name, k in (doc.get("baselines") or {}).items():
        columns[BASELINE_TITLES.get(name, name)] = k
    keys = [key for _, key, *_ in KPI_ROWS]
    table = pd.DataFrame({title: [k.get(key) for key in keys] for title, k in columns.items()},
                         index=keys, dtype=float)
    bound = run_bound(doc)
    if bound:
        table[BOUND_TITLE] = float("nan")
        table.loc["total_cost_yuan", BOUND_TITLE] = bound["total_cost_yuan"]
    return table


def run_bound(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The perfect-foresight bound of a run, or None (not computed, or failed)."""
    bound = doc.get("perfect_foresight")
    return bound if bound and "total_cost_yuan" in bound else None


def monthly_frame(period_kpis: dict[str, Any]) -> pd.DataFrame:
    """The monthly KPIs of a period's KPI dict (key ``monthly``), one row per 'YYYY-MM'."""
    monthly = period_kpis.get("monthly") or {}
    return pd.DataFrame.from_dict(monthly, orient="index").sort_index()


def peaks_frame(doc: dict[str, Any]) -> pd.DataFrame:
    """Monthly peak import (kW): the strategy and each baseline, one row per month."""
    columns = {strategy_title(doc): doc["strategy"].get("monthly_peak_import_kw", {})}
    for name in ("re_no_storage", "grid_only", "rules"):
        k = (doc.get("baselines") or {}).get(name)
        if k:
            columns[BASELINE_TITLES[name]] = k.get("monthly_peak_import_kw", {})
    return pd.DataFrame(columns).sort_index()


def read_baseline_flows(folder: Path | str) -> pd.DataFrame | None:
    """The baselines' grid flows of a results folder (``baselines.parquet``), or None."""
    from parkgrid.io.results import BASELINES_FILE

    path = Path(folder) / BASELINES_FILE
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputDataError(path, f"cannot read the baselines' flows ({exc})") from None


def monthly_bill_frame(doc: dict[str, Any], ledger: pd.DataFrame,
                       flows: pd.DataFrame | None) -> pd.DataFrame:
    """Each month's bill with the system (the strategy) and without it (the grid-only
    baseline, when its flows are there): energy by TOU period, demand charge, export revenue
    (yuan), index (month, case). The energy parts sum to the month's ``energy_cost_yuan``."""
    step_h = float(doc["period"].get("time_step_minutes", 15)) / 60.0
    month = ledger.index.strftime("%Y-%m")
    tou = ledger["tou_period"].astype(str) if "tou_period" in ledger else "flat"
    cases = {"with the system": (ledger["grid_import_kw"], ledger["grid_export_kw"],
                                 doc["strategy"])}
    grid_only = (doc.get("baselines") or {}).get("grid_only")
    if flows is not None and grid_only and "grid_only.grid_import_kw" in flows:
        cases["without (grid only)"] = (flows["grid_only.grid_import_kw"].to_numpy(float),
                                        flows["grid_only.grid_export_kw"].to_numpy(float),
                                        grid_only)
    parts = []
    for case, (imp, exp, k) in cases.items():
        energy = pd.DataFrame({"yuan": np.asarray(imp, float) * ledger["price_import"]
                               .to_numpy(float) * step_h, "month": month, "tou": tou})
        table = energy.pivot_table(index="month", columns="tou", values="yuan",
                                   aggfunc="sum", fill_value=0.0)
        table.columns = [f"energy_{p}_yuan" for p in table.columns]
        export = pd.Series(np.asarray(exp, float) * ledger["price_export"].to_numpy(float)
                           * step_h, index=ledger.index).groupby(month).sum()
        table["demand_charge_yuan"] = [k["monthly"][m]["demand_charge_yuan"]
                                       for m in table.index]
        table["export_revenue_yuan"] = export.reindex(table.index).to_numpy()
        table["case"] = case
        parts.append(table)
    bill = pd.concat(parts).fillna(0.0)
    return bill.set_index("case", append=True)


def grid_exchange(ledger: pd.DataFrame, flows: pd.DataFrame | None,
                  doc: dict[str, Any]) -> dict[str, pd.Series]:
    """Grid import − export (kW) of the strategy and of each baseline with flows."""
    out = {f"with the system ({strategy_title(doc)})":
           ledger["grid_import_kw"] - ledger["grid_export_kw"]}
    for name in (doc.get("baselines") or {}):
        if flows is not None and f"{name}.grid_import_kw" in flows:
            out[BASELINE_TITLES.get(name, name)] = (flows[f"{name}.grid_import_kw"]
                                                    - flows[f"{name}.grid_export_kw"])
    return out


# --- HTML pieces ------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value: object, scale: float, fmt: str) -> str:
    if value is None or isinstance(value, dict | list) or pd.isna(value):  # type: ignore[arg-type]
        return "–"
    return fmt.format(float(value) * scale)  # type: ignore[arg-type]


def _cell(path: str, value: object, scale: float, fmt: str, css: str = "") -> str:
    """A KPI cell carrying its kpis.json path and raw value."""
    cls = f' class="{css}"' if css else ""
    if value is None:
        return f"<td{cls}>–</td>"
    raw = json.dumps(value)
    return (f'<td{cls} data-kpi="{_e(path)}" data-value="{_e(raw)}" data-scale="{scale:g}">'
            f"{_e(_fmt(value, scale, fmt))}</td>")


def _table(head: Sequence[str], rows: Iterable[str], css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table{cls}><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _section(key: str, title: str, *parts: str) -> str:
    return f'<section id="{key}"><h2>{_e(title)}</h2>{"".join(parts)}</section>'


BASELINE_DEFINITIONS = {
    "grid_only": "no PV, wind or storage: every kWh bought from the grid" + "".join(
        f" (and {section.before})" for section in registry.hooks("report") if section.before),
    "re_no_storage": "the park's PV and wind, batteries and tank left idle",
    "rules": "the same assets run by fixed rules (charge in valley hours or from surplus RE, "
             "discharge in peak hours), no optimizer",
}
PLANNER_WORDS = {"milp": "an optimized day-ahead plan (MILP), re-made every day",
                 "rules": "fixed rules", "none": "no storage use"}
FORECAST_WORDS = {"noisy": "forecasts with realistic errors", "perfect": "perfect forecasts",
                  "persistence": "yesterday-repeats forecasts"}
COST_DEFINITION = ("cost = energy bought + demand charge − export revenue, yuan: what the "
                   "park pays the grid")

Card = tuple[str, str, str, str]
HEADLINE_CARDS: list[Card] = [
    # kpis.json path, label, key whose unit formats the value, note; a card whose path is
    # absent from the document is left out (e.g. the economics of a run without costs)
    ("strategy.cost_yuan", "cost", "cost_yuan", "energy + demand charge − export"),
    ("comparison.savings_yuan.grid_only", "saves vs grid only", "savings_yuan",
     "buying every kWh from the grid"),
    ("strategy.self_sufficiency", "self-sufficiency, time-matched", "self_sufficiency",
     "consumption met by on-site RE as it is generated"),
    ("strategy.self_sufficiency_annual", "self-sufficiency, annual balance",
     "self_sufficiency_annual", "RE generated ÷ consumption over the period"),
    ("comparison.co2_avoided_t", "CO2 avoided", "co2_avoided_t", "vs grid only"),
    ("economics.npv_yuan", "net present value", "npv_yuan", "of the investment"),
    ("economics.simple_payback_years", "simple payback", "simple_payback_years",
     "years to earn back the investment"),
]


def lookup(doc: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of the KPI document, or None."""
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def headline_cards() -> list[Card]:
    """:data:`HEADLINE_CARDS` with the plants' cards (their registry reports) after CO2."""
    cards = list(HEADLINE_CARDS)
    at = 1 + next(i for i, c in enumerate(cards) if c[0] == "comparison.co2_avoided_t")
    return cards[:at] + [c for s in registry.hooks("report") for c in s.cards] + cards[at:]


def _cards(doc: dict[str, Any]) -> str:
    """The headline figures: one card per :func:`headline_cards` entry present in ``doc``."""
    cards = []
    for path, label, key, note in headline_cards():
        value = lookup(doc, path)
        if value is None or isinstance(value, dict | list):
            continue
        if path == "comparison.savings_yuan.grid_only":
            pct = lookup(doc, "comparison.savings_pct.grid_only")
            note = f"{pct:.1f} % less than {note}" if pct is not None else note
        if path == "strategy.cost_yuan":
            note = f"{note}, {doc['period'].get('days')} days"
        text = display.value(key, value)
        scale = 100.0 if display.unit_of(key) == "%" and not key.endswith("_pct") else 1.0
        cards.append(f'<div class="card"><div class="label">{_e(label)}</div>'
                     f'<div class="value" data-kpi="{_e(path)}" data-value="'
                     f'{_e(json.dumps(value))}" data-scale="{scale:g}">{_e(text)}</div>'
                     f'<div class="note">{_e(note)}</div></div>')
    return f'<div class="cards">{"".join(cards)}</div>'


def system_html(doc: dict[str, Any]) -> str:
    """What the system is (sizes, tariff, weather source) and what was simulated."""
    system = doc.get("system") or {}
    run = doc.get("run") or {}
    every = run.get("replan_every_min") or doc.get("replan_every_min")
    how = (f"Run with {PLANNER_WORDS.get(run.get('planner'), run.get('planner'))} and "
           f"{FORECAST_WORDS.get(run.get('forecast'), run.get('forecast'))}"
           + (f", re-planned intraday every {every:g} min" if every else "") + ".")
    if not system:
        return f'<div class="system"><p>{_e(how)}</p></div>'
    sizes = " · ".join(f"{_e(name)} <b>{_e(size)}</b>"
                       for name, size in (system.get("assets") or {}).items())
    weather = system.get("weather", "")
    flag = (' <span class="warn">synthetic weather: yields are estimates</span>'
            if system.get("weather_synthetic") else "")
    return ('<div class="system">'
            f'<p><span class="what">System</span> {sizes}</p>'
            f'<p><span class="what">Tariff</span> {_e(system.get("tariff", ""))}</p>'
            f'<p><span class="what">Weather</span> {_e(weather)}{flag}</p>'
            f'<p><span class="what">Operation</span> {_e(how)}</p></div>')


def baselines_html(doc: dict[str, Any]) -> str:
    """The plan's cost next to each baseline, each defined in a line, and what it saves."""
    comp = doc.get("comparison") or {}
    run = doc.get("run") or {}
    rows = [f'<tr class="main"><td>this plan ({_e(strategy_title(doc))})</td><td class="what">'
            f"{_e(PLANNER_WORDS.get(run.get('planner'), ''))}, "
            f"{_e(FORECAST_WORDS.get(run.get('forecast'), ''))}</td>"
            + _cell("strategy.cost_yuan", doc["strategy"].get("cost_yuan"), 1.0, "{:,.0f}")
            + "<td></td><td></td></tr>"]
    for name, k in (doc.get("baselines") or {}).items():
        rows.append(
            f"<tr><td>{_e(BASELINE_TITLES.get(name, name))}</td>"
            f'<td class="what">{_e(BASELINE_DEFINITIONS.get(name, ""))}</td>'
            + _cell(f"baselines.{name}.cost_yuan", k.get("cost_yuan"), 1.0, "{:,.0f}")
            + _cell(f"comparison.savings_yuan.{name}",
                    (comp.get("savings_yuan") or {}).get(name), 1.0, "{:,.0f}")
            + _cell(f"comparison.savings_pct.{name}",
                    (comp.get("savings_pct") or {}).get(name), 1.0, "{:.1f}") + "</tr>")
    table = _table(["", "what it is", "cost (yuan)", "saving (yuan)", "saving (%)"], rows,
                   "baselines")
    return table + f'<p class="note">{_e(COST_DEFINITION)}.</p>' + foresight_html(doc)


def foresight_html(doc: dict[str, Any]) -> str:
    """How close the plan came to the best possible, in words."""
    comp, bound = doc.get("comparison") or {}, run_bound(doc)
    failed = (doc.get("perfect_foresight") or {}).get("error")
    if failed:
        return (f'<p class="fail">The perfect-foresight bound failed: {_e(failed)} (so the best '
                "possible cost is unknown).</p>")
    if not bound or "regret_yuan" not in comp:
        return ""
    return ("<p>Had the whole period's weather and loads been known in advance, the best "
            "possible cost (with battery wear and penalties) would have been "
            + _span("perfect_foresight.total_cost_yuan", bound["total_cost_yuan"], "{:,.0f}")
            + " yuan; forecast errors and day-by-day planning cost "
            + _span("comparison.regret_yuan", comp["regret_yuan"], "{:,.0f}") + " yuan ("
            + _span("comparison.regret_pct", comp["regret_pct"], "{:.2f}")
            + " %) more.</p>")


def _span(path: str, value: object, fmt: str) -> str:
    return (f'<span data-kpi="{_e(path)}" data-value="{_e(json.dumps(value))}" data-scale="1">'
            f"{_e(_fmt(value, 1.0, fmt))}</span>")


def verdicts_html(doc: dict[str, Any]) -> str:
    """How many zero-carbon indicators pass; each failing one with what it needs."""
    zc = doc["strategy"].get("zero_carbon") or {}
    if not zc:
        return ""
    passed = sum(bool(v.get("pass")) for v in zc.values())
    items = "".join(f'<li class="fail" data-verdict="{_e(name)}">'
                    f"{_e(indicator_verdict(name, v, doc['strategy']))}</li>"
                    for name, v in zc.items() if not v.get("pass"))
    return (f'<p class="verdict"><b>Zero-carbon park indicators: {passed} of {len(zc)} '
            f'pass</b> (<a href="#zero-carbon">details</a>)</p>'
            + (f"<ul class=\"needs\">{items}</ul>" if items else ""))


def kpi_table_html(doc: dict[str, Any]) -> str:
    """The strategy next to every baseline and the bound (KPI rows)."""
    baselines = [n for n in (doc.get("baselines") or {})]
    bound = run_bound(doc)
    head = ["KPI", "unit", strategy_title(doc), *[BASELINE_TITLES.get(n, n) for n in baselines]]
    if bound:
        head.append(BOUND_TITLE)
    rows = []
    for label, key, unit, scale, fmt in KPI_ROWS:
        cells = [_cell(f"strategy.{key}", doc["strategy"].get(key), scale, fmt, "main")]
        cells += [_cell(f"baselines.{n}.{key}", doc["baselines"][n].get(key), scale, fmt)
                  for n in baselines]
        if bound:
            cells.append(_cell("perfect_foresight.total_cost_yuan", bound["total_cost_yuan"],
                               scale, fmt) if key == "total_cost_yuan" else "<td></td>")
        rows.append(f'<tr><td>{_e(label)}</td><td class="unit">{_e(unit)}</td>'
                    f'{"".join(cells)}</tr>')
    return _table(head, rows, "kpis").replace(f"<th>{_e(strategy_title(doc))}</th>",
                                              f'<th class="main">{_e(strategy_title(doc))}</th>',
                                              1)


ECONOMICS_ROWS: list[Row] = [
    ("net present value", "npv_yuan", "yuan", 1.0, "{:,.0f}"),
    ("investment (capex, year 0)", "capex_yuan", "yuan", 1.0, "{:,.0f}"),
    ("savings in year 1", "first_year_savings_yuan", "yuan", 1.0, "{:,.0f}"),
    ("internal rate of return", "irr", "%", 100.0, "{:.1f}"),
    ("simple payback", "simple_payback_years", "yr", 1.0, "{:.1f}"),
    ("discounted payback", "discounted_payback_years", "yr", 1.0, "{:.1f}"),
    ("lifecycle cost", "lifecycle_cost_yuan", "yuan", 1.0, "{:,.0f}"),
    ("lifecycle cost of the baseline", "baseline_lifecycle_cost_yuan", "yuan", 1.0, "{:,.0f}"),
    ("LCOE of on-site RE", "lcoe_yuan_per_kwh", "yuan/kWh", 1.0, "{:.3f}"),
    ("LCOS of the batteries", "lcos_yuan_per_kwh", "yuan/kWh", 1.0, "{:.3f}"),
    ("cost per t CO2 avoided", "co2_abatement_cost_yuan_per_t", "yuan/t", 1.0, "{:,.0f}"),
]


def economics_html(doc: dict[str, Any]) -> str:
    """The economics section (none when the park has no ``economics``)."""
    eco = doc.get("economics")
    if not eco:
        return ""
    if "error" in eco:
        return _section("economics", "Economics", f'<p class="fail">{_e(eco["error"])}</p>')
    rows = [f'<tr><td>{_e(label)}</td><td class="unit">{_e(unit)}</td>'
            f'{_cell(f"economics.{key}", eco.get(key), scale, fmt, "main")}</tr>'
            for label, key, unit, scale, fmt in ECONOMICS_ROWS]
    terms = (f" the baseline '{eco['baseline']}' over {eco['analysis_years']} years at "
             f"{100 * eco['discount_rate']:.1f} % a year" if {"baseline", "analysis_years",
             "discount_rate"} <= eco.keys() else " its baseline")
    note = (f"Against{terms}: the simulated period stands for every year, escalated and "
            "degraded (docs/economics.md); cashflow.csv has every line.")
    if eco.get("period_days", 365.0) < 365:
        note += (f" The year is scaled from {eco['period_days']:g} simulated days: seasons "
                 "not simulated are not in it.")
    return _section("economics", "Economics: what the investment pays",
                    _table(["metric", "unit", "value"], rows),
                    f'<p class="note">{_e(note)}</p>')


DR_COLUMNS = [
    # kpis.json key of an event, column head, scale, format
    ("date", "day", 1.0, "{}"), ("programme", "programme", 1.0, "{}"),
    ("start", "from", 1.0, "{}"), ("end", "to", 1.0, "{}"),
    ("offered_kw", "offered kW", 1.0, "{:,.0f}"),
    ("baseline_kwh", "baseline kWh", 1.0, "{:,.0f}"), ("actual_kwh", "actual kWh", 1.0, "{:,.0f}"),
    ("response_kwh", "response kWh", 1.0, "{:,.0f}"), ("paid_kwh", "paid kWh", 1.0, "{:,.0f}"),
    ("net_yuan", "earned yuan", 1.0, "{:,.0f}"),
    ("delivery_cost_yuan", "cost to deliver yuan", 1.0, "{:,.0f}"),
    ("status", "status", 1.0, "{}"),
]


def demand_response_html(doc: dict[str, Any]) -> str:
    """The demand-response section: each event day and the period's totals (none without
    events)."""
    dr = doc.get("demand_response")
    if not dr:
        return ""
    rows = []
    for i, event in enumerate(dr["events"]):
        cells = "".join(
            _cell(f"demand_response.events.{i}.{key}", event.get(key), scale, fmt)
            if not isinstance(event.get(key), str) else f"<td>{_e(event[key])}</td>"
            for key, _, scale, fmt in DR_COLUMNS)
        rows.append(f"<tr>{cells}</tr>")
    period = dr["period"]
    note = (f"{period['events']} events, {period['events_in_band']} delivered within the "
            f"band: earned {period['revenue_yuan']:,.0f} yuan (payments "
            f"{period['payment_yuan']:,.0f}, capacity {period['capacity_yuan']:,.0f}, "
            f"penalties {period['penalty_yuan']:,.0f}).")
    if "delivery_cost_yuan" in period:
        note += (f" Delivering cost {period['delivery_cost_yuan']:,.0f} yuan against the same "
                 f"run without events: net benefit {period['net_benefit_yuan']:,.0f} yuan.")
    return _section("demand-response", "Demand response: event days",
                    _table([head for _, head, _, _ in DR_COLUMNS], rows),
                    f'<p class="note">{_e(note)} Response = baseline − actual net import '
                    "(peak shaving) over the window; docs/demand_response.md.</p>")


SIZING_ROWS = ["npv_yuan", "capex_yuan", "first_year_savings_yuan", "irr",
               "simple_payback_years", "discounted_payback_years"]
"""The :data:`ECONOMICS_ROWS` shown promised (sizing LP) beside realised (this run)."""


def sizing_html(doc: dict[str, Any]) -> str:
    """The sizing section of a ``parkgrid size`` check run (none without a ``sizing`` key):
    the sizes with their bounds, the NPV promised by the perfect-foresight LP beside the NPV
    this run realised, and NPV around the optimum."""
    sizing = doc.get("sizing")
    if not sizing:
        return ""
    rows = []
    for name, a in sizing["assets"].items():
        path = f"sizing.assets.{name}"
        binding = a.get("binding")
        rows.append(f"<tr><td>{_e(name)}</td><td class=\"unit\">{_e(a['unit'])}</td>"
                    + "".join(_cell(f"{path}.{k}", a.get(k), 1.0, "{:,.0f}", css)
                              for k, css in (("size", "main"), ("lower", ""), ("upper", ""),
                                             ("configured", "")))
                    + f'<td data-kpi="{_e(path)}.binding" data-value="'
                    f'{_e(json.dumps(binding))}">{_e(binding or "no")}</td></tr>')
    sizes = _table(["asset", "unit", "recommended", "lower bound", "upper bound",
                    "configured", "bound binds"], rows)
    labels = {key: (label, unit, scale, fmt) for label, key, unit, scale, fmt in ECONOMICS_ROWS}
    money = []
    for key in SIZING_ROWS:
        label, unit, scale, fmt = labels[key]
        promised = _cell(f"sizing.predicted.{key}", lookup(doc, f"sizing.predicted.{key}"),
                         scale, fmt, "main")
        realised = _cell(f"economics.{key}", lookup(doc, f"economics.{key}"), scale, fmt)
        money.append(f'<tr><td>{_e(label)}</td><td class="unit">{_e(unit)}</td>'
                     f"{promised}{realised}</tr>")
    red = sizing.get("reduction") or {}
    note = (f"Promised: the sizing LP (perfect foresight, integers relaxed, storage cyclic) "
            f"over {red.get('days', 0):g} days at {red.get('step_minutes', 0):g}-min steps "
            f"from {str(red.get('start', '?'))[:10]}. Realised: this run of the sized park "
            f"(its planner and forecasts: the summary below) over "
            f"{doc['period'].get('days')} days. Both scaled to a year and judged against the "
            "economics baseline (docs/economics.md).")
    head = ["metric", "unit", "promised (perfect foresight)", "realised (this run)"]
    parts = [sizes, _table(head, money), f'<p class="note">{_e(note)}</p>']
    if sizing.get("sensitivity"):
        parts.append(figure_html(plots.npv_sensitivity(pd.DataFrame(sizing["sensitivity"])),
                                 "sizing_sensitivity", "NPV and the LP's objective with each "
                                 "size moved around the optimum, the others held (yuan)."))
    return _section("sizing", "Sizing: what to add and what it pays", *parts)


def plant_html(doc: dict[str, Any], section: registry.Report) -> str:
    """A plant's figures (a kind's :class:`~parkgrid.model.registry.Report`) next to the
    park before its projects (the grid-only baseline); empty when its KPIs are absent."""
    strategy = doc["strategy"]
    if section.present not in strategy:
        return ""
    before = (doc.get("baselines") or {}).get("grid_only")
    rows = []
    for label, key, unit, scale, fmt in section.rows:
        cells = _cell(f"strategy.{key}", strategy.get(key), scale, fmt, "main")
        if before is not None:
            cells += _cell(f"baselines.grid_only.{key}", before.get(key), scale, fmt)
        rows.append(f'<tr><td>{_e(label)}</td><td class="unit">{_e(unit)}</td>{cells}</tr>')
    head = ["", "unit", strategy_title(doc)] + ([BASELINE_TITLES.get("grid_only", "grid only")]
                                               if before is not None else [])
    note = f'<p class="note">{_e(section.note)}</p>' if section.note else ""
    return _section(section.key, section.title, _table(head, rows, "kpis"), note)


def zero_carbon_html(doc: dict[str, Any]) -> str:
    """The zero-carbon park indicators of the strategy, each with its rule and pass/fail."""
    rows = []
    for name, ind in (doc["strategy"].get("zero_carbon") or {}).items():
        label, unit, scale = INDICATORS.get(name, (name.replace("_", " "), "", 1.0))
        verdict = "pass" if ind.get("pass") else "fail"
        fmt = "{:.1f}" if scale == 100.0 else "{:.3f}"
        rows.append(
            f'<tr data-indicator="{_e(name)}" data-pass="{str(bool(ind.get("pass"))).lower()}">'
            f"<td>{_e(label)}</td><td class=\"unit\">{_e(unit)}</td>"
            + _cell(f"strategy.zero_carbon.{name}.value", ind.get("value"), scale, fmt)
            + f'<td>{_e(ind.get("rule", ""))} {_e(_fmt(ind.get("threshold"), scale, fmt))}</td>'
            f'<td class="{verdict}">{verdict.upper()}</td><td class="unit">'
            f'{_e(ind.get("source", ""))}</td></tr>')
    return _table(["indicator", "unit", "value", "rule", "result", "source"], rows,
                  "zero-carbon")


def monthly_html(doc: dict[str, Any]) -> str:
    """Monthly KPIs of the strategy (months as columns)."""
    monthly = doc["strategy"].get("monthly") or {}
    months = sorted(monthly)
    rows = []
    for label, key, unit, scale, fmt in MONTHLY_ROWS:
        cells = "".join(_cell(f"strategy.monthly.{m}.{key}", monthly[m].get(key), scale, fmt)
                        for m in months)
        rows.append(f'<tr><td>{_e(label)}</td><td class="unit">{_e(unit)}</td>{cells}</tr>')
    return _table(["KPI", "unit", *months], rows, "monthly")


def solver_html(doc: dict[str, Any]) -> str:
    """Planner statistics, fallback days and the bound's months."""
    solver = doc.get("solver") or {}
    parts = []
    if solver.get("days"):
        per_day = pd.DataFrame(solver.get("per_day") or [])
        if {"date", "solve_s"} <= set(per_day.columns):
            parts.append(figure_html(plots.solve_times(per_day), "solve_times",
                                     "Planner solve time per day (s); fallback days in red."))
        stats = [("days planned", "days", "", "{:,.0f}"),
                 ("solve time, median", "solve_s_median", "s", "{:.3f}"),
                 ("solve time, 95th percentile", "solve_s_p95", "s", "{:.3f}"),
                 ("solve time, max", "solve_s_max", "s", "{:.3f}"),
                 ("solve time, total", "solve_s_total", "s", "{:.1f}"),
                 ("MIP gap, median", "gap_median", "", "{:.2e}"),
                 ("MIP gap, max", "gap_max", "", "{:.2e}")]
        if "replans" in solver:  # intraday re-planning
            stats += [("intraday re-plans", "replans", "", "{:,.0f}"),
                      ("re-plans failed (previous plan kept)", "replans_failed", "", "{:,.0f}"),
                      ("re-plan solve time, total", "replan_solve_s_total", "s", "{:.1f}")]
        rows = [f'<tr><td>{_e(label)}</td><td class="unit">{_e(unit)}</td>'
                + _cell(f"solver.{key}", solver.get(key), 1.0, fmt) + "</tr>"
                for label, key, unit, fmt in stats]
        rows.append("<tr><td>status counts</td><td></td><td>" + _e(", ".join(
            f"{k}: {v}" for k, v in (solver.get("status_counts") or {}).items())) + "</td></tr>")
        parts.append(_table(["statistic", "unit", "value"], rows, "solver"))
        fallback = solver.get("fallback_days") or []
        parts.append(f'<p data-fallback-days="{len(fallback)}">Days that fell back to the '
                     f"rule-based planner: {len(fallback)}.</p>")
        if fallback:
            parts.append(_table(["date", "reason"], [
                f"<tr><td>{_e(f['date'])}</td><td style=\"text-align:left\">{_e(f['reason'])}"
                "</td></tr>" for f in fallback]))
    else:
        parts.append("<p>The strategy's planner ran no solver.</p>")
    bound = run_bound(doc)
    if bound:
        parts.append(f"<h3>Perfect-foresight bound</h3><p>{_e(bound.get('description', ''))}; "
                     f"computed in {_e(_fmt(bound.get('wall_s'), 1.0, '{:.1f}'))} s.</p>")
        rows = [f"<tr><td>{_e(m.get('month'))}</td><td>{_e(m.get('status'))}</td>"
                + _cell(f"perfect_foresight.months.{i}.bound_yuan", m.get("bound_yuan"), 1.0,
                        "{:,.0f}")
                + _cell(f"perfect_foresight.months.{i}.solve_s", m.get("solve_s"), 1.0,
                        "{:.2f}") + "</tr>"
                for i, m in enumerate(bound.get("months") or [])]
        parts.append(_table(["month", "status", "bound (yuan)", "solve (s)"], rows))
    run = doc.get("run") or {}
    if "wall_s" in run:
        parts.append(f"<p class=\"note\">Run wall time {_e(_fmt(run['wall_s'], 1.0, '{:.1f}'))}"
                     " s.</p>")
    return "".join(parts)


def events_html(events: list[str]) -> str:
    if not events:
        return '<p data-events="0">No events: no fallback, no unserved energy, no warning.</p>'
    shown = events[:MAX_EVENTS]
    more = (f"<p class=\"note\">… and {len(events) - MAX_EVENTS} more lines in events.log.</p>"
            if len(events) > MAX_EVENTS else "")
    return (f'<p data-events="{len(events)}">{len(events)} event line(s).</p>'
            f'<pre class="events">{_e(chr(10).join(shown))}</pre>{more}')


# --- figures ------------------------------------------------------------------------------------


def figure_html(fig: Figure, key: str, caption: str) -> str:
    """A figure as an embedded PNG with its caption."""
    w, h = fig.get_size_inches()
    fig.set_size_inches(FIGURE_WIDTH_IN, min(h * FIGURE_WIDTH_IN / w, MAX_HEIGHT_IN))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    width, height = (fig.get_size_inches() * DPI).round().astype(int)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img data-plot="{_e(key)}" alt="{_e(caption)}" width="{width}" '
            f'height="{height}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _days_of_interest(ledger: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """The day of the highest import peak and the day with the most renewable power."""
    local = ledger.index
    days = local.normalize()
    out = {"peak": days[int(ledger["grid_import_kw"].to_numpy(float).argmax())]}
    re = plots.column_total(ledger, "pv_kw") + plots.column_total(ledger, "wind_kw")
    if re.sum() > 0:
        best = re.groupby(days).sum().idxmax()
        if best != out["peak"]:
            out["re"] = best
    return out


def report_figures(doc: dict[str, Any], ledger: pd.DataFrame, park: Park | None = None,
                   flows: pd.DataFrame | None = None) -> list[tuple[str, str, Figure]]:
    """(key, caption, figure) of every plot of the report; ``flows``: the baselines' grid
    flows (:func:`read_baseline_flows`) for the curves and bills without the system."""
    title = strategy_title(doc)
    figs: list[tuple[str, str, Figure]] = []
    if doc["strategy"].get("monthly") and "price_import" in ledger:
        figs.append(("monthly_bill", "The electricity bill month by month, with the system "
                     "(plain) and without it (hatched, the grid-only baseline): energy by "
                     "TOU period and demand charge above zero, export revenue below, the net "
                     "bill as a black mark.", plots.monthly_bill(
                         monthly_bill_frame(doc, ledger, flows))))
    figs.append(("load_duration", "How often the grid connection carries each power level, "
                 "with and without the system (import − export, kW, sorted).",
                 plots.load_duration(grid_exchange(ledger, flows, doc))))
    monthly = monthly_frame(doc["strategy"])
    if not monthly.empty:
        figs.append(("monthly_energy", "Where the energy comes from, month by month (MWh).",
                     plots.monthly_energy(monthly, f"Monthly energy balance — {title}")))
    peaks = peaks_frame(doc)
    if not peaks.empty:
        figs.append(("monthly_peaks", "Each month's peak 15-min import (sets the demand "
                     "charge), with and without storage (kW).",
                     plots.monthly_peaks(peaks, "Monthly peak import")))
    costs = kpi_frame(doc).drop(columns=[BOUND_TITLE], errors="ignore").T
    figs.append(("cost_breakdown", "Cost by part, per strategy.",
                 plots.cost_breakdown(costs, "Cost by part")))
    figs.append(("import_heatmap", "Grid import by hour of day and date (kW).",
                 plots.import_heatmap(ledger["grid_import_kw"], f"Grid import — {title}")))
    figs.append(("storage_by_season", "The average day of the battery and the tank, by "
                 "season.", plots.storage_by_season(ledger)))
    days = _days_of_interest(ledger)
    names = {"peak": "the day of the highest import peak", "re": "the day with the most "
             "renewable power"}
    for key, day in days.items():
        frame = ledger.loc[str(day.date())]
        figs.append((f"dispatch_{key}", f"Dispatch on {names[key]}, {day.date()} (kW); TOU "
                     "periods shaded, import price on the right axis.",
                     plots.dispatch_stack(frame, f"Dispatch, {day.date()} ({names[key]})")))
    peak = days["peak"]
    week = ledger.loc[str((peak - pd.Timedelta(days=3)).date()):
                      str((peak + pd.Timedelta(days=3)).date())]
    limits, tank = storage_limits(park)
    figs.append(("storage_levels", "Battery energy (kWh) and tank level (kWh_th) in the week "
                 "around the peak day.", plots.storage_levels(week, limits, tank,
                                                              "Storage around the peak day")))
    if "cashflow" in (doc.get("economics") or {}):
        from parkgrid.design.economics import cashflow_frame

        figs.append(("cashflow", "Cash flow of the investment against the baseline, year by "
                     "year (yuan; docs/economics.md).",
                     plots.cashflow(cashflow_frame(doc["economics"]))))
    return figs


def day_picker_html(ledger: pd.DataFrame, first: pd.Timestamp) -> str:
    """Any day's dispatch, offline: the ledger's flows (kW, rounded to 0.1 kW) inline as JSON
    and a small inline script (``data/day_picker.js``) that draws the chosen day as SVG."""
    series = []
    for sign, items in ((1, plots.SOURCES), (-1, plots.SINKS)):
        for base, label, colour in items:
            values = plots.column_total(ledger, base).clip(lower=0).round(1)
            if values.abs().sum() > 0:
                series.append({"label": label, "colour": colour, "sign": sign,
                               "values": [v if v % 1 else int(v) for v in values.tolist()]})
    days = ledger.index.strftime("%Y-%m-%d")
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    periods = list(plots.TOU_COLOURS)
    tou = (ledger["tou_period"].astype(str).map({p: i for i, p in enumerate(periods)})
           .fillna(-1).astype(int).tolist() if "tou_period" in ledger else [])
    data = {"days": [days[i] for i in starts], "offsets": [*starts.tolist(), len(ledger)],
            "first": str(first.date()), "series": series, "tou": tou,
            "tou_colours": [plots.TOU_COLOURS[p] for p in periods]}
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    script = resources.files("parkgrid").joinpath("data", "day_picker.js").read_text("utf-8")
    legend = "".join(f'<span><i style="background:{_e(s["colour"])}"></i>{_e(s["label"])}'
                     "</span>" for s in series)
    legend += "".join(f'<span><i style="background:{c};opacity:0.6"></i>TOU: '
                      f'{_e(p.replace("_", " "))}</span>'
                      for p, c in plots.TOU_COLOURS.items())
    return ('<figure class="picker"><div class="controls"><button id="dispatch-prev" '
            'type="button">◀ day before</button> <input type="date" id="dispatch-day"> '
            '<button id="dispatch-next" type="button">day after ▶</button></div>'
            '<svg id="dispatch-svg" data-plot="dispatch_any_day" viewBox="0 0 1300 440" '
            'role="img" aria-label="dispatch of the chosen day"></svg>'
            f'<div class="legend">{legend}</div><figcaption>Dispatch of any day of the run '
            "(kW; sources above zero, sinks below, TOU periods shaded): pick a date."
            "</figcaption></figure>"
            f'<script type="application/json" id="dispatch-data">{payload}</script>'
            f"<script>{script}</script>")


def storage_limits(park: Park | None) -> tuple[tuple[float, float] | None, float | None]:
    """(battery energy min, max) summed over the batteries, kWh, and the tank capacity,
    kWh_th; ``None`` for what the park (or an unknown park) lacks."""
    if park is None:
        return None, None
    limits = None
    if park.batteries:
        limits = (sum(b.soc_min * b.energy_kwh for b in park.batteries),
                  sum(b.soc_max * b.energy_kwh for b in park.batteries))
    tank = park.cooling.tank if park.cooling is not None else None
    return limits, (tank.capacity_kwh_th if tank is not None else None)


# --- the document ---------------------------------------------------------------------------


def _version() -> str:
    try:
        return metadata.version("parkgrid")
    except metadata.PackageNotFoundError:  # pragma: no cover - not installed
        return "dev"


def render_report(doc: dict[str, Any], ledger: pd.DataFrame, events: list[str],
                  park: Park | None = None, flows: pd.DataFrame | None = None) -> str:
    """The report's HTML text."""
    period, run = doc["period"], doc.get("run") or {}
    last = (pd.Timestamp(period["end"]) - pd.Timedelta(days=1)).date()  # the end is exclusive
    title = f"{doc.get('park', 'park')}: {period['start']} to {last}"
    figures = "".join(figure_html(fig, key, caption)
                      for key, caption, fig in report_figures(doc, ledger, park, flows))
    generated = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    nav = "".join(f'<a href="#{k}">{_e(t)}</a>' for k, t in (
        ("kpis", "KPIs"), ("zero-carbon", "zero-carbon"), ("plots", "plots"),
        ("any-day", "any day"), ("monthly", "monthly"), ("solver", "solver"),
        ("events", "events")))
    body = "".join([
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_e(period.get("days"))} days at {_e(period.get("time_step_minutes"))}'
        f"-min steps · forecast seed {_e(run.get('seed'))} · generated {_e(generated)} by "
        f"parkgrid {_e(_version())}</p>",
        sizing_html(doc),
        '<section id="summary">', system_html(doc), _cards(doc),
        '<div class="columns"><div>', baselines_html(doc), "</div><div>", verdicts_html(doc),
        "</div></div></section>",
        f"<nav>{nav}</nav>",
        _section("kpis", "Every figure: the plan and the baselines", kpi_table_html(doc),
                 '<p class="note">' + _e(SELF_SUFFICIENCY_NOTE) + "</p>"),
        economics_html(doc),
        demand_response_html(doc),
        *(plant_html(doc, section) for section in registry.hooks("report")),
        _section("zero-carbon", "Zero-carbon park indicators", zero_carbon_html(doc)),
        _section("plots", "Plots", figures),
        _section("any-day", "Any day's dispatch",
                 day_picker_html(ledger, _days_of_interest(ledger)["peak"])),
        _section("monthly", "Month by month", monthly_html(doc)),
        _section("solver", "Solver statistics", solver_html(doc)),
        _section("events", "Events", events_html(events)),
    ])
    template = string.Template(
        resources.files("parkgrid").joinpath("data", "report.html").read_text("utf-8"))
    return template.substitute(title=_e(title), body=body, version=_e(_version()))


def write_report(results_dir: Path | str, out: Path | str | None = None,
                 park: Park | None = None) -> Path:
    """Write the self-contained HTML report of a results folder (default
    ``RESULTS_DIR/report.html``, written atomically); returns its path. ``park`` (optional)
    adds the storage limits to the storage plot."""
    doc, ledger, events = read_results(results_dir)
    try:
        text = render_report(doc, ledger, events, park,
                             read_baseline_flows(results_dir))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        from parkgrid.io.results import KPIS_FILE

        raise InputDataError(Path(results_dir) / KPIS_FILE, "incomplete or malformed results "
                             f"({type(exc).__name__}: {exc}); expected a folder written by "
                             "`parkgrid run`") from None
    target = Path(out) if out is not None else Path(results_dir) / REPORT_FILE
    return atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
