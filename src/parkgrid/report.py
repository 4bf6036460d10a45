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

import pandas as pd
from matplotlib.figure import Figure

from parkgrid import plots
from parkgrid.atomic import atomic_write
from parkgrid.config import Park
from parkgrid.errors import InputDataError

REPORT_FILE = "report.html"
DPI = 80
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
    ("battery degradation", "degradation_yuan", "yuan", 1.0, "{:,.0f}"),
    ("penalties (unserved, unmet)", "penalty_yuan", "yuan", 1.0, "{:,.0f}"),
    ("total cost", "total_cost_yuan", "yuan", 1.0, "{:,.0f}"),
    ("consumption", "consumption_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("RE generation (available)", "re_generation_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("RE used on site", "re_self_used_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("curtailed", "curtailed_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("exported", "exported_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("grid import", "imported_kwh", "MWh", 1e-3, "{:,.1f}"),
    ("self-sufficiency", "self_sufficiency", "%", 100.0, "{:.1f}"),
    ("self-consumption", "self_consumption", "%", 100.0, "{:.1f}"),
    ("highest monthly peak", "peak_import_kw", "kW", 1.0, "{:,.0f}"),
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
    ("self-sufficiency", "self_sufficiency", "%", 100.0, "{:.1f}"),
    ("peak import", "peak_import_kw", "kW", 1.0, "{:,.0f}"),
    ("demand charge", "demand_charge_yuan", "yuan", 1.0, "{:,.0f}"),
    ("cost", "cost_yuan", "yuan", 1.0, "{:,.0f}"),
    ("CO2", "co2_t", "t", 1.0, "{:,.1f}"),
]
INDICATORS = {
    "self_used_re_share_of_generation": ("self-used RE / RE generation", "%", 100.0),
    "self_used_re_share_of_consumption": ("self-used RE / consumption", "%", 100.0),
    "self_used_re_share_of_consumption_2030": ("self-used RE / consumption (2030)", "%",
                                               100.0),
    "export_share_of_generation": ("export / RE generation", "%", 100.0),
    "clean_energy_share": ("clean energy / energy use", "%", 100.0),
    "co2_per_energy_t_per_tce": ("CO2 per unit of energy", "tCO2/tce", 1.0),
}


# --- reading a results folder ----------------------------------------------------------------


def read_results(folder: Path | str) -> tuple[dict[str, Any], pd.DataFrame, list[str]]:
    """The KPI document, the ledger and the event lines of a results folder."""
    from parkgrid.results import EVENTS_FILE, KPIS_FILE, TIMESERIES_FILE

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


def _cards(doc: dict[str, Any]) -> str:
    k, comp = doc["strategy"], doc.get("comparison") or {}
    items = [("strategy.self_sufficiency", k.get("self_sufficiency"), 100.0, "{:.1f} %",
              "self-sufficiency"),
             ("strategy.cost_yuan", k.get("cost_yuan"), 1.0, "{:,.0f} yuan", "cost"),
             ("strategy.co2_t", k.get("co2_t"), 1.0, "{:,.1f} t", "CO2"),
             ("comparison.co2_avoided_t", comp.get("co2_avoided_t"), 1.0, "{:,.1f} t",
              "CO2 avoided vs grid only"),
             ("comparison.regret_pct", comp.get("regret_pct"), 1.0, "{:.2f} %",
              "regret vs perfect foresight")]
    cards = []
    for path, value, scale, fmt, label in items:
        if value is None:
            continue
        cards.append(f'<div class="card"><div class="value" data-kpi="{_e(path)}" '
                     f'data-value="{_e(json.dumps(value))}" data-scale="{scale:g}">'
                     f"{_e(_fmt(value, scale, fmt))}</div><div class=\"label\">{_e(label)}"
                     "</div></div>")
    return f'<div class="cards">{"".join(cards)}</div>'


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


def comparison_html(doc: dict[str, Any]) -> str:
    """Savings against each baseline and the regret against the bound."""
    comp = doc.get("comparison") or {}
    rows = []
    for name, saving in (comp.get("savings_yuan") or {}).items():
        rows.append(
            f"<tr><td>{_e(BASELINE_TITLES.get(name, name))}</td>"
            + _cell(f"comparison.savings_yuan.{name}", saving, 1.0, "{:,.0f}")
            + _cell(f"comparison.savings_pct.{name}", comp.get("savings_pct", {}).get(name),
                    1.0, "{:.1f}")
            + _cell(f"comparison.savings_total_cost_yuan.{name}",
                    comp.get("savings_total_cost_yuan", {}).get(name), 1.0, "{:,.0f}")
            + "</tr>")
    parts = [_table(["saving vs", "cost (yuan)", "cost (%)", "total cost (yuan)"], rows)]
    bound = run_bound(doc)
    failed = (doc.get("perfect_foresight") or {}).get("error")
    if failed:
        parts.append(f'<p class="fail">The perfect-foresight bound failed: {_e(failed)}</p>')
    if bound and "regret_yuan" in comp:
        parts.append(
            "<p>Regret against the perfect-foresight bound (total cost − bound): "
            f'<span data-kpi="comparison.regret_yuan" '
            f'data-value="{_e(json.dumps(comp["regret_yuan"]))}" data-scale="1">'
            f'{_e(_fmt(comp["regret_yuan"], 1.0, "{:,.0f}"))}</span> yuan '
            f'(<span data-kpi="comparison.regret_pct" '
            f'data-value="{_e(json.dumps(comp["regret_pct"]))}" data-scale="1">'
            f'{_e(_fmt(comp["regret_pct"], 1.0, "{:.2f}"))}</span> %). '
            f'Bound: {_e(bound.get("description", bound.get("method", "")))}.</p>')
    return "".join(parts)


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


def report_figures(doc: dict[str, Any], ledger: pd.DataFrame,
                   park: Park | None = None) -> list[tuple[str, str, Figure]]:
    """(key, caption, figure) of every plot of the report."""
    title = strategy_title(doc)
    figs: list[tuple[str, str, Figure]] = []
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
    figs.append(("cost_breakdown", "Cost by part, per strategy (yuan).",
                 plots.cost_breakdown(costs, "Cost by part")))
    figs.append(("import_heatmap", "Grid import by hour of day and day of year (kW).",
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
    return figs


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
                  park: Park | None = None) -> str:
    """The report's HTML text."""
    period, run = doc["period"], doc.get("run") or {}
    last = (pd.Timestamp(period["end"]) - pd.Timedelta(days=1)).date()  # the end is exclusive
    title = f"{doc.get('park', 'park')}: {period['start']} to {last}"
    figures = "".join(figure_html(fig, key, caption)
                      for key, caption, fig in report_figures(doc, ledger, park))
    generated = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    nav = "".join(f'<a href="#{k}">{_e(t)}</a>' for k, t in (
        ("kpis", "KPIs"), ("zero-carbon", "zero-carbon"), ("plots", "plots"),
        ("monthly", "monthly"), ("solver", "solver"), ("events", "events")))
    body = "".join([
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_e(period.get("days"))} days at {_e(period.get("time_step_minutes"))}'
        f" min · planner <b>{_e(run.get('planner'))}</b> with <b>{_e(run.get('forecast'))}</b>"
        f" forecasts · seed {_e(run.get('seed'))} · generated {_e(generated)} by parkgrid "
        f"{_e(_version())}</p>",
        f"<nav>{nav}</nav>",
        _cards(doc),
        _section("kpis", "KPIs: the strategy and the baselines", kpi_table_html(doc),
                 '<p class="note">' + _e(doc.get("units", "")) + "</p>",
                 "<h3>Savings and regret</h3>", comparison_html(doc)),
        _section("zero-carbon", "Zero-carbon park indicators", zero_carbon_html(doc)),
        _section("plots", "Plots", figures),
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
        text = render_report(doc, ledger, events, park)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        from parkgrid.results import KPIS_FILE

        raise InputDataError(Path(results_dir) / KPIS_FILE, "incomplete or malformed results "
                             f"({type(exc).__name__}: {exc}); expected a folder written by "
                             "`parkgrid run`") from None
    target = Path(out) if out is not None else Path(results_dir) / REPORT_FILE
    return atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
