"""Matplotlib figures of schedules, ledgers and KPIs; every function returns a Figure.

Frames use the schedule's column names (``docs/schedule.md``); where a park has several assets
of a kind the columns carry an ``_<asset>`` suffix and are summed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

TOU_COLOURS = {"sharp": "#f4a6a6", "peak": "#f8d3a0", "flat": "#f2f2f2",
               "valley": "#cfe3f5", "deep_valley": "#a9cbe8"}
SOURCES = [("pv_kw", "PV", "#f5b800"), ("wind_kw", "wind", "#3a9ad9"),
           ("battery_discharge_kw", "battery discharge", "#6a3d9a"),
           ("grid_import_kw", "grid import", "#7f7f7f")]
SINKS = [("load_kw", "loads", "#2c2c2c"), ("chiller_electric_kw", "chillers", "#1f78b4"),
         ("ev_charge_kw", "EV charging", "#33a02c"), ("deferrable_kw", "deferrable", "#b2df8a"),
         ("battery_charge_kw", "battery charge", "#cab2d6"),
         ("grid_export_kw", "grid export", "#bdbdbd")]


def column_total(frame: pd.DataFrame, base: str) -> pd.Series:
    """``frame[base]``, or the sum of the per-asset columns ``base_<asset>``; 0 if neither."""
    if base in frame:
        return frame[base].astype(float)
    cols = [c for c in frame.columns if c.startswith(f"{base}_") and not c.endswith("_th")]
    if not cols:
        return pd.Series(0.0, index=frame.index)
    return frame[cols].astype(float).sum(axis=1)


def _tou_band(ax: plt.Axes, frame: pd.DataFrame) -> None:
    """Shade the background of ``ax`` by TOU period."""
    if "tou_period" not in frame:
        return
    periods = frame["tou_period"].astype(str)
    step = frame.index[1] - frame.index[0] if len(frame) > 1 else pd.Timedelta(minutes=15)
    start = 0
    for i in range(1, len(frame) + 1):
        if i == len(frame) or periods.iloc[i] != periods.iloc[start]:
            end = frame.index[i - 1] + step
            ax.axvspan(frame.index[start], end, color=TOU_COLOURS.get(periods.iloc[start], "w"),
                       alpha=0.6, lw=0, zorder=0)
            start = i


def dispatch_stack(frame: pd.DataFrame, title: str = "Dispatch") -> Figure:
    """A day's dispatch: sources stacked above zero, sinks below, TOU band and price behind."""
    fig, ax = plt.subplots(figsize=(11, 5), layout="constrained")
    _tou_band(ax, frame)
    used = {"pv_kw": column_total(frame, "pv_kw") - column_total(frame, "pv_curtailed_kw"),
            "wind_kw": column_total(frame, "wind_kw") - column_total(frame, "wind_curtailed_kw")}
    x = frame.index
    for sign, items in ((1, SOURCES), (-1, SINKS)):
        values = [used.get(base, column_total(frame, base)).clip(lower=0) for base, _, _ in items]
        labels = [label for _, label, _ in items]
        colours = [colour for _, _, colour in items]
        ax.stackplot(x, *[sign * v.to_numpy() for v in values], labels=labels, colors=colours,
                     step="post", zorder=2, alpha=0.9)
    ax.axhline(0, color="k", lw=0.8, zorder=3)
    ax.set_ylabel("power (kW); sources > 0 > sinks")
    ax.set_title(title)
    if "price_import" in frame:
        price_ax = ax.twinx()
        price_ax.step(x, frame["price_import"], where="post", color="crimson", lw=1.2,
                      label="import price")
        price_ax.set_ylabel("import price (yuan/kWh)", color="crimson")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.08, 1), fontsize=8)
    return fig


def storage_levels(frame: pd.DataFrame, battery_limits_kwh: tuple[float, float] | None = None,
                   tank_capacity_kwh_th: float | None = None, title: str = "Storage") -> Figure:
    """Battery SOC (kWh) and tank level (kWh_th) with their limits as dashed lines."""
    fig, (bat_ax, tank_ax) = plt.subplots(2, 1, figsize=(11, 5), sharex=True,
                                          layout="constrained")
    soc = column_total(frame, "battery_soc_kwh")
    bat_ax.plot(frame.index, soc, color="#6a3d9a", label="battery SOC")
    if battery_limits_kwh is not None:
        for limit in battery_limits_kwh:
            bat_ax.axhline(limit, ls="--", color="grey", lw=0.8)
    bat_ax.set_ylabel("battery (kWh)")
    bat_ax.set_title(title)
    level = frame["tes_level_kwh_th"] if "tes_level_kwh_th" in frame else soc * 0
    tank_ax.plot(frame.index, level, color="#1f78b4", label="tank level")
    if tank_capacity_kwh_th is not None:
        for limit in (0.0, tank_capacity_kwh_th):
            tank_ax.axhline(limit, ls="--", color="grey", lw=0.8)
    tank_ax.set_ylabel("tank (kWh_th)")
    for ax in (bat_ax, tank_ax):
        ax.legend(loc="upper left", fontsize=8)
    return fig


def monthly_energy(monthly: pd.DataFrame, title: str = "Monthly energy balance") -> Figure:
    """Bars per month: supply (RE used, import) above zero, export and curtailment below.

    ``monthly`` has a month index and columns in kWh: ``re_used_kwh``, ``import_kwh``,
    ``export_kwh``, ``curtailed_kwh`` and optionally ``consumption_kwh`` (drawn as a line).
    """
    fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
    x = np.arange(len(monthly))
    mwh = monthly / 1000.0
    ax.bar(x, mwh["re_used_kwh"], color="#4daf4a", label="RE used on site")
    ax.bar(x, mwh["import_kwh"], bottom=mwh["re_used_kwh"], color="#7f7f7f", label="grid import")
    ax.bar(x, -mwh["export_kwh"], color="#bdbdbd", label="export")
    ax.bar(x, -mwh["curtailed_kwh"], bottom=-mwh["export_kwh"], color="#e41a1c",
           label="curtailed")
    if "consumption_kwh" in mwh:
        ax.plot(x, mwh["consumption_kwh"], "k_", ms=18, mew=2, label="consumption")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, [str(m) for m in monthly.index])
    ax.set_ylabel("energy (MWh)")
    ax.set_title(title)
    ax.legend(fontsize=8, ncols=3)
    return fig


def import_heatmap(import_kw: pd.Series, title: str = "Grid import") -> Figure:
    """Grid import (kW) by hour of day × day of year."""
    hourly = import_kw.resample("1h").mean()
    table = pd.DataFrame({"value": hourly.to_numpy(), "hour": hourly.index.hour,
                          "day": hourly.index.dayofyear}).pivot_table(
        index="hour", columns="day", values="value", aggfunc="mean")
    fig, ax = plt.subplots(figsize=(11, 4), layout="constrained")
    image = ax.imshow(table.to_numpy(), aspect="auto", origin="lower", cmap="magma",
                      extent=(table.columns.min() - 0.5, table.columns.max() + 0.5, -0.5, 23.5))
    fig.colorbar(image, ax=ax, label="import (kW)")
    ax.set_xlabel("day of year")
    ax.set_ylabel("hour of day")
    ax.set_title(title)
    return fig


def monthly_peaks(peaks_kw: pd.DataFrame, title: str = "Monthly peak import") -> Figure:
    """Grouped bars of monthly 15-min peak import (kW), one group per strategy (column)."""
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    x = np.arange(len(peaks_kw))
    width = 0.8 / max(len(peaks_kw.columns), 1)
    for i, column in enumerate(peaks_kw.columns):
        ax.bar(x + i * width, peaks_kw[column], width, label=str(column))
    ax.set_xticks(x + width * (len(peaks_kw.columns) - 1) / 2, [str(m) for m in peaks_kw.index])
    ax.set_ylabel("peak import (kW)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def pareto_front(front: pd.DataFrame, cost: str = "cost_yuan", co2: str = "co2_kg",
                 title: str = "Cost vs CO2") -> Figure:
    """The cost/CO2 trade-off: one point per ε-constraint solution (or per variant)."""
    fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    ordered = front.sort_values(co2)
    ax.plot(ordered[co2], ordered[cost], "o-", color="#1b9e77")
    ax.set_xlabel(co2.replace("_", " "))
    ax.set_ylabel(cost.replace("_", " "))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig


def forecast_vs_actual(forecast: pd.DataFrame, actual: pd.DataFrame,
                       columns: Sequence[str], title: str = "Forecast vs actual") -> Figure:
    """One panel per quantity: forecast (dashed) against actual (solid)."""
    fig, axes = plt.subplots(len(columns), 1, figsize=(11, 2.2 * len(columns)), sharex=True,
                             layout="constrained", squeeze=False)
    for ax, column in zip(axes[:, 0], columns, strict=True):
        ax.plot(actual.index, column_total(actual, column), color="k", label="actual")
        ax.plot(forecast.index, column_total(forecast, column), "--", color="#d95f02",
                label="forecast")
        ax.set_ylabel(column)
        ax.legend(fontsize=8, loc="upper left")
    axes[0, 0].set_title(title)
    return fig
