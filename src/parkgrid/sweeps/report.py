"""A finished sweep's summary (best variants by cost, CO2, self-sufficiency) and its plots."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from rich import box
from rich.table import Table

from parkgrid.reporting import display

# The simulator's period-level KPI keys the summary and the plots rank variants by:
# (column, label, True if lower is better).
CRITERIA = (
    ("economics.npv_yuan", "NPV", False),  # first: sweeps rank by lifecycle value
    ("cost_yuan", "cost", True),
    ("co2_t", "CO2", True),
    ("self_sufficiency", "self-sufficiency", False),
)
SUMMARY_KPIS = (CRITERIA[0][0], "economics.capex_yuan", "economics.first_year_savings_yuan",
                *(c[0] for c in CRITERIA[1:]))
"""Shown for each best variant: NPV with the capex and the yearly savings beside it."""


def ok_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The variants that finished without error."""
    return table[table["status"] == "ok"] if "status" in table else table.iloc[:0]


def best_variants(table: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """(criterion label, row) of the best variant by each criterion present in the table."""
    ok = ok_rows(table)
    best = []
    for column, label, lower in CRITERIA:
        if column in ok and ok[column].notna().any():
            values = ok[column].astype(float)
            best.append((label, ok.loc[values.idxmin() if lower else values.idxmax()]))
    return best


def summary_table(table: pd.DataFrame, axes: list[str], title: str) -> Table:
    """A rich table: one line per criterion with the best variant's values and KPIs."""
    out = Table(title=title, title_justify="left", show_lines=True, box=box.SIMPLE_HEAD,
                pad_edge=False)
    out.add_column("best by", no_wrap=True)
    out.add_column("variant", ratio=1, overflow="fold")
    kpis = [c for c in SUMMARY_KPIS if c in table]
    names = {column: name for column, name, _ in CRITERIA}
    for kpi in kpis:
        name = names.get(kpi) or display.label(kpi.removeprefix("economics."))
        out.add_column(f"{name}\n{display.unit_of(kpi)}", justify="right")
    shown = (["park"] if table["park"].nunique() > 1 else []) + axes
    for label, row in best_variants(table):
        values = [f"{a} = {_fmt(row[a])}" for a in shown]
        out.add_row(label, "\n".join([str(row["variant"]), *values]),
                    *(display.number(k, row[k]) for k in kpis))
    return out


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating | int | np.integer) and not isinstance(value, bool):
        if float(value).is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def pareto_front(cost: np.ndarray, co2: np.ndarray) -> np.ndarray:
    """Positions of the variants no other variant beats on both cost and CO2, by cost."""
    order = np.lexsort((co2, cost))
    front, best_co2 = [], np.inf
    for i in order:
        if co2[i] < best_co2:
            front.append(i)
            best_co2 = co2[i]
    return np.array(front, dtype=int)


def plot_all(table: pd.DataFrame, groups: list[list[str]], out: Path) -> list[Path]:
    """KPI vs each swept field and the cost/CO2 Pareto plot as PNGs in ``out``.

    ``groups``: the swept fields grouped by what varies together (a zipped list is one
    group); a field's plot draws one line per combination of the other groups.
    """
    ok = ok_rows(table)
    kpis = [(c, lbl) for c, lbl, _ in CRITERIA if c in ok and ok[c].notna().any()]
    if ok.empty or not kpis:
        return []
    groups = ([["park"]] if table["park"].nunique() > 1 else []) + groups
    written = []
    for group in groups:
        others = [g for g in groups if g is not group]
        written += [_plot_axis(ok, axis, others, kpis, out) for axis in group]
    if {"cost_yuan", "co2_t"} <= set(ok.columns):
        written.append(_plot_pareto(ok, out))
    return written


def _plot_axis(ok: pd.DataFrame, axis: str, others: list[list[str]], kpis: list,
               out: Path) -> Path:
    """One panel per KPI; a line per combination of the ``others`` (grids), else points."""
    from matplotlib.figure import Figure

    keys = [g[0] for g in others]
    named = [a for g in others for a in g]
    groups = list(ok.groupby(keys, dropna=False, sort=True)) if keys else [((), ok)]
    numeric = pd.api.types.is_numeric_dtype(ok[axis])
    lines = numeric and len(groups) <= 8 and all(len(g) > 1 for _, g in groups)
    fig = Figure(figsize=(4.2 * len(kpis), 3.6))  # not pyplot: the caller's backend is left alone
    panels = fig.subplots(1, len(kpis), squeeze=False)
    for panel, (column, label) in zip(panels[0], kpis, strict=True):
        for _, group in groups:
            group = group.sort_values(axis) if numeric else group
            x = group[axis] if numeric else group[axis].astype(str)
            name = ", ".join(f"{a}={group[a].iloc[0]}" for a in named)
            style = "-o" if lines else "o"
            panel.plot(x, group[column], style, ms=4, label=name or None)
        panel.set_xlabel(axis)
        panel.set_ylabel(f"{label} ({column})")
        panel.grid(alpha=0.3)
        if not numeric:
            panel.tick_params(axis="x", rotation=45)
    if lines and keys:
        panels[0][-1].legend(fontsize=7)
    fig.tight_layout()
    path = out / f"kpi_vs_{_slug(axis)}.png"
    fig.savefig(path, dpi=110)
    return path


def _plot_pareto(ok: pd.DataFrame, out: Path) -> Path:
    """Cost vs CO2 of every variant, the non-dominated front highlighted and labelled."""
    from matplotlib.figure import Figure

    data = ok.dropna(subset=["cost_yuan", "co2_t"])
    cost, co2 = data["cost_yuan"].to_numpy(float), data["co2_t"].to_numpy(float)
    front = pareto_front(cost, co2)
    fig = Figure(figsize=(6, 4.5))
    ax = fig.subplots()
    ax.plot(cost, co2, "o", color="0.6", ms=5, label="variant")
    ax.plot(cost[front], co2[front], "-o", color="C3", ms=6, label="Pareto front")
    for i in front:
        ax.annotate(str(data["variant"].iloc[i]), (cost[i], co2[i]), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("cost (yuan)")
    ax.set_ylabel("CO2 (t)")
    ax.set_title("cost vs CO2 across variants")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = out / "pareto_cost_co2.png"
    fig.savefig(path, dpi=110)
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
