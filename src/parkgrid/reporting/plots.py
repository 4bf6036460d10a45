"""Matplotlib figures of schedules, ledgers and KPIs; every function returns a Figure.

Frames use the schedule's column names (``docs/schedule.md``); where a park has several assets
of a kind the columns carry an ``_<asset>`` suffix and are summed here. ``pv_kw`` and
``wind_kw`` are the power used (after curtailment). Figures are plain
:class:`matplotlib.figure.Figure` objects, not registered with pyplot: they never pile up in
memory, and a notebook shows one when it is a cell's last expression (after
``%matplotlib inline``). Time axes show the frame's local wall-clock time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, StrMethodFormatter

TOU_COLOURS = {"sharp": "#f4a6a6", "peak": "#f8d3a0", "flat": "#f2f2f2",
               "valley": "#cfe3f5", "deep_valley": "#a9cbe8"}
BILL_COLOURS = {"sharp": "#c0392b", "peak": "#e67e22", "flat": "#95a5a6",
                "valley": "#5dade2", "deep_valley": "#1f618d"}
LEGEND = {"loc": "upper left", "bbox_to_anchor": (1.01, 1), "borderaxespad": 0}
"""A legend beside the axes, never over the data."""
SOURCES = [("pv_kw", "PV", "#f5b800"), ("wind_kw", "wind", "#2b6cb0"),
           ("battery_discharge_kw", "battery discharge", "#6a3d9a"),
           ("grid_import_kw", "grid import", "#7f7f7f"),
           ("unserved_kw", "unserved load", "#e41a1c")]
SINKS = [("load_kw", "loads", "#2c2c2c"), ("chiller_electric_kw", "chillers", "#17becf"),
         ("ev_charge_kw", "EV charging", "#33a02c"), ("deferrable_kw", "deferrable", "#b2df8a"),
         ("battery_charge_kw", "battery charge", "#cab2d6"),
         ("grid_export_kw", "grid export", "#bdbdbd")]
SEASONS = {"winter (Dec–Feb)": (12, 1, 2), "spring (Mar–May)": (3, 4, 5),
           "summer (Jun–Aug)": (6, 7, 8), "autumn (Sep–Nov)": (9, 10, 11)}
SEASON_COLOURS = ("#1f78b4", "#33a02c", "#e31a1c", "#ff7f00")
METRICS: dict[str, tuple[str, str, float]] = {
    # KPI key: (label, unit shown, scale from the key's unit)
    "self_sufficiency": ("self-sufficiency", "%", 100.0),
    "self_consumption": ("self-consumption", "%", 100.0),
    "cost_yuan": ("cost", "yuan", 1.0),
    "total_cost_yuan": ("total cost", "yuan", 1.0),
    "co2_t": ("CO2", "t", 1.0),
    "co2_kg": ("CO2", "kg", 1.0),
    "co2_avoided_t": ("CO2 avoided", "t", 1.0),
    "demand_charge_yuan": ("demand charge", "yuan", 1.0),
    "energy_cost_yuan": ("energy cost", "yuan", 1.0),
    "peak_import_kw": ("peak import", "kW", 1.0),
    "imported_kwh": ("grid import", "MWh", 1e-3),
    "exported_kwh": ("export", "MWh", 1e-3),
    "curtailed_kwh": ("curtailed", "MWh", 1e-3),
    "consumption_kwh": ("consumption", "MWh", 1e-3),
}
MIN_SPAN = 0.05
"""Sensitivity panels show at least ±2.5 % around the values' mean (see :func:`_min_span`)."""
UNIT_SUFFIXES = (("_kwh_th", "kWh_th"), ("_kw_th", "kW_th"), ("_kwh", "kWh"), ("_kw", "kW"),
                 ("_yuan", "yuan"), ("_tce", "tce"), ("_t", "t"), ("_kg", "kg"),
                 ("_pct", "%"), ("_s", "s"))


def metric_label(key: str) -> tuple[str, float]:
    """An axis label with its unit for a KPI or column key, and the scale to apply to values
    (e.g. ``'self_sufficiency'`` → ``('self-sufficiency (%)', 100)``)."""
    if key in METRICS:
        label, unit, scale = METRICS[key]
        return f"{label} ({unit})", scale
    for suffix, unit in UNIT_SUFFIXES:
        if key.endswith(suffix):
            name = key[: -len(suffix)].replace("_", " ")
            return f"{name} ({unit})", 1.0
    if key.startswith("price_"):
        return f"{key.replace('_', ' ')} (yuan/kWh)", 1.0
    return key.replace("_", " "), 1.0


def column_total(frame: pd.DataFrame, base: str) -> pd.Series:
    """``frame[base]`` plus the per-asset columns ``base_<asset>`` (e.g. ``pv_kw_roof``);
    a Series of 0 if there are none. ``base_th…`` columns (another quantity) are skipped."""
    cols = [c for c in frame.columns
            if c == base or (c.startswith(f"{base}_") and not c.startswith(f"{base}_th"))]
    if not cols:
        return pd.Series(0.0, index=frame.index)
    return frame[cols].astype(float).sum(axis=1)


def _local(index: pd.Index) -> pd.Index:
    """Timestamps as naive local wall-clock time (matplotlib would show tz-aware ones in UTC)."""
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        return index.tz_localize(None)
    return index


def _step(index: pd.Index) -> pd.Timedelta:
    if len(index) > 1:
        return index[1] - index[0]
    return pd.Timedelta(minutes=15)


def _edges(index: pd.Index) -> pd.Index:
    """The n + 1 interval edges of a step index (a row labels its interval's start)."""
    x = _local(index)
    return x.append(pd.Index([x[-1] + _step(x)])) if len(x) else x


def _post(values: pd.Series | np.ndarray) -> np.ndarray:
    """Values repeated at the last edge, for ``step='post'`` drawing over :func:`_edges`."""
    arr = np.asarray(values, dtype=float)
    return np.append(arr, arr[-1]) if len(arr) else arr


def _runs(codes: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) positions of the runs of equal values in ``codes``."""
    if len(codes) == 0:
        return []
    change = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    starts, stops = np.r_[0, change], np.r_[change, len(codes)]
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _tou_band(ax: Axes, frame: pd.DataFrame) -> list[Patch]:
    """Shade the background of ``ax`` by TOU period; returns legend handles of the periods."""
    if "tou_period" not in frame or frame.empty:
        return []
    periods = frame["tou_period"].astype(str).to_numpy()
    edges = _edges(frame.index)
    for start, stop in _runs(periods):
        ax.axvspan(edges[start], edges[stop], color=TOU_COLOURS.get(periods[start], "w"),
                   alpha=0.6, lw=0, zorder=0)
    present = [p for p in TOU_COLOURS if p in set(periods)]
    return [Patch(color=TOU_COLOURS[p], alpha=0.6, label=f"TOU: {p.replace('_', ' ')}")
            for p in present]


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def yuan_axis(ax: Axes, values: Sequence[float] | np.ndarray, what: str = "cost") -> None:
    """Money on the y axis in yuan, k yuan or M yuan by the values' size (no 1e7 offset)."""
    top = float(np.nanmax(np.abs(np.asarray(values, dtype=float)))) if len(values) else 0.0
    scale, prefix = (1e6, "M ") if top >= 2e6 else (1e3, "k ") if top >= 2e3 else (1.0, "")
    digits = 1 if top / scale < 20 else 0
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / scale:,.{digits}f}"))
    ax.set_ylabel(f"{what} ({prefix}yuan)")


def dispatch_stack(frame: pd.DataFrame, title: str = "Dispatch") -> Figure:
    """A day's dispatch: sources stacked above zero, sinks below (kW), the TOU periods shaded
    behind and the import price on a second axis. Flows that are zero all day are left out."""
    fig = _figure(11, 5)
    ax = fig.subplots()
    tou = _tou_band(ax, frame)
    x = _edges(frame.index)
    for sign, items in ((1, SOURCES), (-1, SINKS)):
        shown = [(column_total(frame, base).clip(lower=0), label, colour)
                 for base, label, colour in items]
        shown = [s for s in shown if s[0].abs().sum() > 0]
        if shown:
            ax.stackplot(x, *[sign * _post(v) for v, _, _ in shown],
                         labels=[label for _, label, _ in shown],
                         colors=[colour for _, _, colour in shown],
                         step="post", zorder=2, alpha=0.9)
    ax.axhline(0, color="k", lw=0.8, zorder=3)
    ax.set_ylabel("power (kW): sources > 0 > sinks")
    ax.set_xlabel("local time")
    ax.set_xlim(x[0], x[-1])
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    if "price_import" in frame:
        price_ax = ax.twinx()
        line = price_ax.step(x, _post(frame["price_import"]), where="post", color="crimson",
                             lw=1.4, label="import price")
        price_ax.set_ylabel("import price (yuan/kWh)", color="crimson")
        price_ax.set_ylim(bottom=0)
        handles += line
        labels.append("import price")
    handles += tou
    labels += [p.get_label() for p in tou]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.08, 1))
    return fig


def storage_levels(frame: pd.DataFrame, battery_limits_kwh: tuple[float, float] | None = None,
                   tank_capacity_kwh_th: float | None = None, title: str = "Storage") -> Figure:
    """Battery energy (kWh) and chilled-water tank level (kWh_th) over time, their limits as
    dashed lines."""
    fig = _figure(11, 5)
    bat_ax, tank_ax = fig.subplots(2, 1, sharex=True)
    x = _local(frame.index)
    bat_ax.plot(x, column_total(frame, "battery_soc_kwh"), color="#6a3d9a",
                label="battery energy")
    if battery_limits_kwh is not None:
        for name, limit in zip(("SOC min", "SOC max"), battery_limits_kwh, strict=True):
            bat_ax.axhline(limit, ls="--", color="grey", lw=0.8, label=name)
    bat_ax.set_ylabel("battery (kWh)")
    bat_ax.set_title(title)
    tank_ax.plot(x, column_total(frame, "tes_level_kwh_th"), color="#1f78b4",
                 label="tank level")
    if tank_capacity_kwh_th is not None:
        tank_ax.axhline(tank_capacity_kwh_th, ls="--", color="grey", lw=0.8, label="capacity")
        tank_ax.axhline(0.0, ls=":", color="grey", lw=0.8)
    tank_ax.set_ylabel("tank (kWh_th)")
    tank_ax.set_xlabel("local time")
    for ax in (bat_ax, tank_ax):
        ax.legend(**LEGEND)
    return fig


def monthly_energy(monthly: pd.DataFrame, title: str = "Monthly energy balance") -> Figure:
    """Bars per month (MWh): supply (RE used on site, grid import) above zero, export and
    curtailment below, consumption as a marker.

    ``monthly`` has a month index and columns in kWh: ``re_self_used_kwh`` (or
    ``re_used_kwh``), ``imported_kwh``, ``exported_kwh``, ``curtailed_kwh`` and optionally
    ``consumption_kwh`` — the monthly KPIs of :mod:`parkgrid.simulate.kpi`.
    """
    fig = _figure(10, 4.5)
    ax = fig.subplots()
    x = np.arange(len(monthly))
    mwh = monthly.astype(float) / 1000.0
    used = mwh["re_self_used_kwh"] if "re_self_used_kwh" in mwh else mwh["re_used_kwh"]
    ax.bar(x, used, color="#4daf4a", label="RE used on site")
    ax.bar(x, mwh["imported_kwh"], bottom=used, color="#7f7f7f", label="grid import")
    ax.bar(x, -mwh["exported_kwh"], color="#bdbdbd", label="export")
    ax.bar(x, -mwh["curtailed_kwh"], bottom=-mwh["exported_kwh"], color="#e41a1c",
           label="curtailed")
    if "consumption_kwh" in mwh:
        ax.plot(x, mwh["consumption_kwh"], "k_", ms=18, mew=2, ls="none", label="consumption")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, [str(m) for m in monthly.index], rotation=45 if len(x) > 6 else 0)
    ax.set_xlim(-0.9, max(len(x), 3) - 0.1)
    ax.set_ylabel("energy (MWh): supply > 0 > export, curtailed")
    ax.set_xlabel("month")
    ax.set_title(title)
    ax.legend(**LEGEND)
    return fig


def import_heatmap(import_kw: pd.Series, title: str = "Grid import") -> Figure:
    """Grid import (kW, hourly mean) by hour of day × day, months on the time axis."""
    hourly = import_kw.astype(float).resample("1h").mean()
    local = _local(hourly.index)
    table = pd.DataFrame({"value": hourly.to_numpy(), "hour": local.hour,
                          "day": local.normalize()}).pivot_table(
        index="hour", columns="day", values="value", aggfunc="mean", dropna=False)
    table = table.reindex(index=range(24))
    fig = _figure(11, 4)
    ax = fig.subplots()
    first, last = mdates.date2num(table.columns.min()), mdates.date2num(table.columns.max())
    image = ax.imshow(table.to_numpy(), aspect="auto", origin="lower", cmap="magma",
                      interpolation="nearest", extent=(first, last + 1, -0.5, 23.5))
    fig.colorbar(image, ax=ax, label="grid import (kW)")
    ax.xaxis_date()
    if last - first > 45:
        ax.xaxis.set_major_locator(mdates.MonthLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
    else:
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.set_xlabel("date")
    ax.set_ylabel("hour of day (local)")
    ax.set_yticks([0, 6, 12, 18, 23])
    ax.set_title(title)
    return fig


def monthly_bill(bill: pd.DataFrame, title: str = "Monthly electricity bill") -> Figure:
    """Each month's bill with and without the system, side by side: energy by TOU period and
    the demand charge stacked above zero, export revenue below, the net bill as a marker.

    ``bill``: index (month, case) — case e.g. "with the system", "grid only" — and columns
    ``energy_<period>_yuan`` (TOU periods), ``demand_charge_yuan``, ``export_revenue_yuan``.
    """
    months = list(dict.fromkeys(bill.index.get_level_values(0)))
    cases = list(dict.fromkeys(bill.index.get_level_values(1)))
    fig = _figure(11, 4.8)
    ax = fig.subplots()
    width = 0.8 / len(cases)
    periods = [p for p in BILL_COLOURS if f"energy_{p}_yuan" in bill]
    for j, case in enumerate(cases):
        part = bill.xs(case, level=1).reindex(months).fillna(0.0)
        x = np.arange(len(months)) + (j - (len(cases) - 1) / 2) * width
        bottom = np.zeros(len(months))
        hatch = None if j == 0 else "//"
        for period in periods:
            values = part[f"energy_{period}_yuan"].to_numpy(float)
            ax.bar(x, values, width, bottom=bottom, color=BILL_COLOURS[period], hatch=hatch,
                   label=f"energy, {period.replace('_', ' ')}" if j == 0 else None)
            bottom += values
        demand = part["demand_charge_yuan"].to_numpy(float)
        ax.bar(x, demand, width, bottom=bottom, color="#6c3483", hatch=hatch,
               label="demand charge" if j == 0 else None)
        export = part["export_revenue_yuan"].to_numpy(float)
        ax.bar(x, -export, width, color="#bdbdbd", hatch=hatch,
               label="export revenue" if j == 0 else None)
        ax.plot(x, bottom + demand - export, "k_", ms=12, mew=2, ls="none",
                label="net bill" if j == 0 else None)
        ax.bar(x, 0, width, color="white", edgecolor="k", hatch=hatch, label=case)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(months)), months, rotation=45 if len(months) > 6 else 0)
    yuan_axis(ax, np.r_[bill.sum(axis=1).to_numpy(float), bill.abs().max().to_numpy(float)],
              "bill")
    ax.set_title(title)
    ax.legend(**LEGEND)
    return fig


def load_duration(exchange_kw: Mapping[str, pd.Series],
                  title: str = "Load-duration curve of the grid connection") -> Figure:
    """Each case's grid exchange (import − export, kW) sorted from highest to lowest against
    the share of the period's hours it is exceeded."""
    fig = _figure(11, 4.2)
    ax = fig.subplots()
    for i, (name, series) in enumerate(exchange_kw.items()):
        values = np.sort(series.to_numpy(float))[::-1]
        share = np.arange(1, len(values) + 1) / max(len(values), 1) * 100.0
        ax.plot(share, values, color=f"C{i}", lw=2 if i == 0 else 1.4, label=name)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of the period exceeded (%)")
    ax.set_ylabel("grid import − export (kW)")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.grid(alpha=0.3)
    ax.set_title(title)
    ax.legend(**LEGEND)
    return fig


def monthly_peaks(peaks_kw: pd.DataFrame, title: str = "Monthly peak import") -> Figure:
    """Grouped bars of each month's maximum 15-min import (kW), one bar per strategy (column),
    e.g. the strategy next to the no-storage baseline."""
    fig = _figure(10, 4)
    ax = fig.subplots()
    x = np.arange(len(peaks_kw))
    n = max(len(peaks_kw.columns), 1)
    width = 0.8 / n
    for i, column in enumerate(peaks_kw.columns):
        ax.bar(x + i * width, peaks_kw[column].astype(float), width, label=str(column),
               color=f"C{i}")
    ax.set_xticks(x + width * (n - 1) / 2, [str(m) for m in peaks_kw.index],
                  rotation=45 if len(x) > 6 else 0)
    ax.set_xlim(-0.6, max(len(x), 3) - 0.2)
    ax.set_ylabel("peak 15-min import (kW)")
    ax.set_xlabel("month")
    ax.set_title(title)
    ax.legend(**LEGEND)
    return fig


def pareto_front(front: pd.DataFrame, cost: str = "total_cost_yuan", co2: str = "co2_t",
                 title: str = "Cost vs CO2", annotate: str | None = None) -> Figure:
    """The cost/CO2 trade-off: one point per ε-constraint solution (or per variant), joined in
    order of CO2; ``annotate`` names a column whose values label the points."""
    fig = _figure(6.5, 4.5)
    ax = fig.subplots()
    ordered = front.sort_values(co2)
    x_label, x_scale = metric_label(co2)
    y_label, y_scale = metric_label(cost)
    ax.plot(ordered[co2] * x_scale, ordered[cost] * y_scale, "o-", color="#1b9e77",
            label="Pareto front")
    if annotate is not None:
        for _, row in ordered.iterrows():
            ax.annotate(str(row[annotate]), (row[co2] * x_scale, row[cost] * y_scale),
                        fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def forecast_vs_actual(forecast: pd.DataFrame, actual: pd.DataFrame,
                       columns: Sequence[str], title: str = "Forecast vs actual") -> Figure:
    """One panel per quantity (a column base such as ``pv_kw``; per-asset columns summed):
    forecast (dashed) against actual (solid)."""
    fig = _figure(11, 2.2 * len(columns) + 0.6)
    axes = np.atleast_1d(fig.subplots(len(columns), 1, sharex=True, squeeze=False)[:, 0])
    for ax, column in zip(axes, columns, strict=True):
        ax.plot(_local(actual.index), column_total(actual, column), color="k", label="actual")
        ax.plot(_local(forecast.index), column_total(forecast, column), "--", color="#d95f02",
                label="forecast")
        ax.set_ylabel(metric_label(column)[0])
        ax.legend(fontsize=8, loc="upper left")
    axes[0].set_title(title)
    axes[-1].set_xlabel("local time")
    return fig


def forecast_and_plan(forecast: pd.DataFrame, plan: pd.DataFrame,
                      title: str = "Forecast and plan") -> Figure:
    """The planner's forecast (top: electric load, PV + wind, cooling demand) above the plan it
    made from it (bottom: grid import, battery, chillers and the tank level), TOU shaded."""
    fig = _figure(11, 7)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.3])
    x = _edges(forecast.index)
    re = column_total(forecast, "pv_kw") + column_total(forecast, "wind_kw")
    top.step(x, _post(column_total(forecast, "load_kw")), where="post", color="k",
             label="electric load forecast")
    top.step(x, _post(re), where="post", color="#f5b800", lw=2, label="PV + wind forecast")
    if column_total(forecast, "cooling_load_kw_th").abs().sum() > 0:
        top.step(x, _post(column_total(forecast, "cooling_load_kw_th")), where="post",
                 color="#1f78b4", ls="--", label="cooling demand forecast (kW_th)")
    top.set_ylabel("forecast (kW, kW_th)")
    top.set_title(title)
    top.legend(fontsize=8, loc="upper left")
    tou = _tou_band(bottom, plan)
    xp = _edges(plan.index)
    battery = column_total(plan, "battery_discharge_kw") - column_total(plan, "battery_charge_kw")
    bottom.step(xp, _post(column_total(plan, "grid_import_kw")), where="post", color="#7f7f7f",
                lw=2, label="planned grid import")
    bottom.step(xp, _post(battery), where="post", color="#6a3d9a",
                label="planned battery (discharge > 0)")
    bottom.step(xp, _post(column_total(plan, "chiller_electric_kw")), where="post",
                color="#1f78b4", label="planned chillers")
    bottom.axhline(0, color="k", lw=0.6)
    bottom.set_ylabel("plan (kW)")
    bottom.set_xlabel("local time")
    handles, labels = bottom.get_legend_handles_labels()
    if column_total(plan, "tes_level_kwh_th").abs().sum() > 0:
        level_ax = bottom.twinx()
        line = level_ax.plot(_local(plan.index), column_total(plan, "tes_level_kwh_th"),
                             color="#a6cee3", lw=2, ls=":", label="planned tank level")
        level_ax.set_ylabel("tank level (kWh_th)")
        handles += line
        labels.append("planned tank level")
    bottom.legend(handles + tou, labels + [p.get_label() for p in tou],
                  loc="upper left", bbox_to_anchor=(1.08, 1))
    bottom.set_xlim(xp[0], xp[-1])
    return fig


def storage_by_season(ledger: pd.DataFrame, title: str = "What storage does, by season"
                      ) -> Figure:
    """Average day of the battery (discharge − charge, kW) and of the chilled-water tank
    (discharge − charge, kW_th) in each season present in ``ledger``, by hour of day."""
    fig = _figure(11, 4.2)
    bat_ax, tank_ax = fig.subplots(1, 2, sharex=True)
    battery = column_total(ledger, "battery_discharge_kw") - column_total(ledger,
                                                                          "battery_charge_kw")
    tank = column_total(ledger, "tes_discharge_kw_th") - column_total(ledger,
                                                                      "tes_charge_kw_th")
    local = _local(ledger.index)
    hour = local.hour + local.minute / 60.0
    for (season, months), colour in zip(SEASONS.items(), SEASON_COLOURS, strict=True):
        mask = np.isin(local.month, months)
        if not mask.any():
            continue
        for ax, values in ((bat_ax, battery), (tank_ax, tank)):
            profile = values[mask].groupby(hour[mask]).mean()
            ax.plot(profile.index, profile.to_numpy(), color=colour, label=season)
    for ax in (bat_ax, tank_ax):
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xlabel("hour of day (local)")
        ax.set_xticks(range(0, 25, 6))
        ax.grid(alpha=0.3)
    bat_ax.set_ylabel("battery: discharge − charge (kW)")
    tank_ax.set_ylabel("tank: discharge − charge (kW_th)")
    tank_ax.legend(**LEGEND)
    fig.suptitle(title)
    return fig


def cost_breakdown(kpis: pd.DataFrame, title: str = "Cost by part") -> Figure:
    """Stacked bars per strategy (row of ``kpis``), yuan: energy, demand charge and
    degradation above zero, export revenue below, the net cost as a marker."""
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    x = np.arange(len(kpis))
    bottom = np.zeros(len(kpis))
    parts = (("energy_cost_yuan", "energy", "#7f7f7f"),
             ("demand_charge_yuan", "demand charge", "#e6550d"),
             ("degradation_yuan", "battery degradation", "#6a3d9a"))
    for key, label, colour in parts:
        values = kpis[key].astype(float).to_numpy() if key in kpis else np.zeros(len(kpis))
        ax.bar(x, values, bottom=bottom, color=colour, label=label)
        bottom += values
    if "export_revenue_yuan" in kpis:
        ax.bar(x, -kpis["export_revenue_yuan"].astype(float), color="#bdbdbd",
               label="export revenue")
    if "cost_yuan" in kpis:
        ax.plot(x, kpis["cost_yuan"].astype(float), "k_", ms=24, mew=2.5, ls="none",
                label="cost (energy + demand − export)")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, [str(i) for i in kpis.index])
    export = kpis["export_revenue_yuan"].astype(float) if "export_revenue_yuan" in kpis else 0
    yuan_axis(ax, np.r_[bottom, -np.asarray(export, dtype=float).ravel()])
    ax.set_title(title)
    ax.legend(**LEGEND)
    return fig


def sensitivity(table: pd.DataFrame, x: str,
                metrics: Sequence[str] = ("self_sufficiency", "cost_yuan", "co2_t"),
                group: str | None = None, x_label: str | None = None,
                title: str | None = None) -> Figure:
    """One panel per KPI against a design parameter ``x`` (a column of ``table``), one line
    per value of ``group`` when given; units from the KPI names."""
    fig = _figure(4.2 * len(metrics), 3.8)
    axes = np.atleast_1d(fig.subplots(1, len(metrics), squeeze=False)[0])
    groups: list[tuple[object, pd.DataFrame]] = (
        list(table.groupby(group, sort=True)) if group else [(None, table)])
    numeric = pd.api.types.is_numeric_dtype(table[x])
    for ax, metric in zip(axes, metrics, strict=True):
        label, scale = metric_label(metric)
        for i, (key, part) in enumerate(groups):
            part = part.sort_values(x) if numeric else part
            xs = part[x] if numeric else part[x].astype(str)
            ax.plot(xs, part[metric].astype(float) * scale, "o-", color=f"C{i}",
                    label=f"{group} = {key}" if group else None)
        ax.set_xlabel(x_label or metric_label(x)[0])
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        _min_span(ax, table[metric].astype(float) * scale)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.4g}"))
    if group:
        axes[-1].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def _min_span(ax: Axes, values: pd.Series, fraction: float = MIN_SPAN) -> None:
    """Widen the y-range of ``ax`` to at least ``fraction`` of the values' mean magnitude, so
    that differences of a fraction of a percent do not fill the panel."""
    lo, hi = float(values.min()), float(values.max())
    span = fraction * abs((lo + hi) / 2.0)
    if hi - lo < span:
        mid = (lo + hi) / 2.0
        ax.set_ylim(mid - span / 2.0 - 0.05 * span, mid + span / 2.0 + 0.05 * span)


def kpi_bars(table: pd.DataFrame, metrics: Sequence[str] = ("self_sufficiency", "cost_yuan",
                                                            "co2_t"),
             title: str | None = None, colours: Mapping[str, str] | None = None) -> Figure:
    """One panel per KPI, one bar per row of ``table`` (strategies or design variants)."""
    fig = _figure(4.2 * len(metrics), 3.8)
    axes = np.atleast_1d(fig.subplots(1, len(metrics), squeeze=False)[0])
    names = [str(i) for i in table.index]
    colour = [(colours or {}).get(n, f"C{i}") for i, n in enumerate(names)]
    for ax, metric in zip(axes, metrics, strict=True):
        label, scale = metric_label(metric)
        ax.bar(names, table[metric].astype(float) * scale, color=colour)
        ax.set_ylabel(label)
        ax.tick_params(axis="x", rotation=30)
        ax.grid(alpha=0.3, axis="y")
    if title:
        fig.suptitle(title)
    return fig


def solve_times(days: pd.DataFrame, title: str = "Planner solve time per day") -> Figure:
    """Solve time of each day's plan (s, log scale), days that fell back to the rules in red.

    ``days``: one row per day with ``date``, ``solve_s`` and ``fallback`` (the rollout's
    per-day records).
    """
    fig = _figure(10, 3.2)
    ax = fig.subplots()
    dates = pd.to_datetime(days["date"])
    solve = days["solve_s"].astype(float).clip(lower=1e-4)
    fallback = days["fallback"].astype(bool) if "fallback" in days else pd.Series(False,
                                                                                   days.index)
    ax.bar(dates[~fallback], solve[~fallback], width=0.8, color="#1f78b4", label="planned")
    if fallback.any():
        ax.bar(dates[fallback], solve[fallback], width=0.8, color="#e41a1c",
               label="fell back to rules")
    ax.set_yscale("log")
    ax.set_ylabel("solve time (s)")
    ax.set_xlabel("day")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return fig


def cashflow(flow: pd.DataFrame, title: str = "Cash flow against the baseline") -> Figure:
    """A lifecycle cash flow (``parkgrid.design.economics.COLUMNS``), yuan: each year's lines
    stacked (costs below zero), the cumulative and the discounted cumulative as lines."""
    fig = _figure(9, 4.5)
    ax = fig.subplots()
    years = flow["year"].to_numpy()
    parts = (("capex_yuan", "capex", "#7f7f7f"), ("replacement_yuan", "replacement", "#6a3d9a"),
             ("om_yuan", "O&M", "#bdbdbd"), ("energy_savings_yuan", "energy saving", "#2b6cb0"),
             ("demand_savings_yuan", "demand-charge saving", "#e6550d"),
             ("export_savings_yuan", "export", "#17becf"),
             ("carbon_value_yuan", "carbon value", "#33a02c"),
             ("residual_value_yuan", "residual value", "#f5b800"))
    up, down = np.zeros(len(flow)), np.zeros(len(flow))
    for key, label, colour in parts:
        values = flow[key].astype(float).to_numpy()
        if not np.any(values):
            continue
        base = np.where(values >= 0, up, down)
        ax.bar(years, values, bottom=base, color=colour, label=label, width=0.8)
        up += np.clip(values, 0, None)
        down += np.clip(values, None, 0)
    ax.plot(years, flow["cumulative_yuan"], "k-", marker=".", label="cumulative")
    ax.plot(years, flow["cumulative_discounted_yuan"], "k--", label="cumulative, discounted")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("year")
    yuan_axis(ax, np.r_[up, down, flow["cumulative_yuan"].to_numpy(float)], "cash flow")
    ax.set_title(title)
    ax.legend(**LEGEND)
    return fig


def npv_sensitivity(table: pd.DataFrame) -> Figure:
    """NPV and the sizing LP's objective against each size ÷ its optimum (``parkgrid size``'s
    sensitivity table: columns ``asset``, ``size_ratio``, ``npv_yuan``, ``objective_yuan``)."""
    return sensitivity(table, "size_ratio", metrics=("npv_yuan", "objective_yuan"),
                       group="asset", x_label="size ÷ optimum",
                       title="NPV around the sized optimum")
