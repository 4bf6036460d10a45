"""Figures on small hand-made frames: the right artists, legend entries and axis units."""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from parkgrid.reporting import plots

TZ = "Asia/Shanghai"


def day_frame(n: int = 8) -> pd.DataFrame:
    """Eight 3-hour steps of one day: PV on two arrays, a battery, grid import, a load."""
    index = pd.date_range("2025-07-15", periods=n, freq="3h", tz=TZ)
    return pd.DataFrame({
        "pv_kw_roof": [0, 0, 100, 300, 300, 100, 0, 0],
        "pv_kw_carport": [0, 0, 10, 30, 30, 10, 0, 0],
        "pv_curtailed_kw_roof": [0, 0, 0, 50, 0, 0, 0, 0],
        "wind_kw": 0.0,
        "grid_import_kw": [200, 200, 90, 0, 0, 90, 250, 200],
        "grid_export_kw": [0, 0, 0, 30, 0, 0, 0, 0],
        "battery_charge_kw": [0, 0, 0, 100, 100, 0, 0, 0],
        "battery_discharge_kw": [0, 0, 0, 0, 0, 0, 50, 0],
        "battery_soc_kwh": [100, 100, 100, 400, 700, 700, 550, 550],
        "load_kw": [200, 200, 200, 200, 230, 200, 300, 200],
        "tes_level_kwh_th": [10, 20, 30, 30, 20, 10, 10, 10],
        "tes_charge_kw_th": [5, 5, 0, 0, 0, 0, 0, 0],
        "tes_discharge_kw_th": [0, 0, 0, 0, 5, 5, 0, 0],
        "price_import": [0.3, 0.3, 1.1, 1.3, 1.3, 1.1, 1.1, 0.6],
        "tou_period": ["valley", "valley", "peak", "sharp", "sharp", "peak", "peak", "flat"],
    }, index=index).astype({c: float for c in ("wind_kw",)})


def legend_labels(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in
            ax.get_legend().get_texts()]


def test_figures_are_not_registered_with_pyplot() -> None:
    before = plt.get_fignums()
    plots.dispatch_stack(day_frame())
    assert plt.get_fignums() == before


def test_column_total_sums_per_asset_columns_only() -> None:
    frame = day_frame()
    total = plots.column_total(frame, "pv_kw")
    assert total.tolist() == [0, 0, 110, 330, 330, 110, 0, 0]  # curtailment not included
    assert plots.column_total(frame, "ev_charge_kw").eq(0).all()


def test_column_total_skips_thermal_columns_of_the_same_base() -> None:
    frame = pd.DataFrame({"tes_charge_kw": [1.0], "tes_charge_kw_th": [9.0]})
    assert plots.column_total(frame, "tes_charge_kw").tolist() == [1.0]


def test_dispatch_stack_labels_sources_sinks_price_and_tou_periods() -> None:
    fig = plots.dispatch_stack(day_frame(), "a day")
    labels = legend_labels(fig)
    for label in ("PV", "grid import", "battery discharge", "loads", "battery charge",
                  "grid export", "import price", "TOU: valley", "TOU: peak", "TOU: sharp",
                  "TOU: flat"):
        assert label in labels
    assert "wind" not in labels  # zero all day: left out
    main, price = fig.axes
    assert "(kW)" in main.get_ylabel()
    assert price.get_ylabel() == "import price (yuan/kWh)"
    assert main.get_title() == "a day"


def test_dispatch_stack_sources_add_up_to_pv_battery_and_import() -> None:
    frame = day_frame()
    fig = plots.dispatch_stack(frame)
    top = max(c.get_paths()[0].vertices[:, 1].max() for c in fig.axes[0].collections
              if c.get_paths())
    expected = (plots.column_total(frame, "pv_kw") + frame["battery_discharge_kw"]
                + frame["grid_import_kw"]).max()
    assert top == pytest.approx(expected)


def test_time_axes_show_local_wall_clock_time() -> None:
    fig = plots.dispatch_stack(day_frame())
    price_line = fig.axes[1].get_lines()[0]
    first = mdates.num2date(price_line.get_xdata(orig=False)[0]).replace(tzinfo=None)
    assert first == pd.Timestamp("2025-07-15 00:00").to_pydatetime()


def test_storage_levels_draws_levels_and_limits_with_units() -> None:
    fig = plots.storage_levels(day_frame(), (50.0, 950.0), 100.0)
    bat, tank = fig.axes
    assert bat.get_ylabel() == "battery (kWh)"
    assert tank.get_ylabel() == "tank (kWh_th)"
    assert {"battery energy", "SOC min", "SOC max", "tank level", "capacity"} <= set(
        legend_labels(fig))
    assert bat.get_lines()[0].get_ydata().tolist() == day_frame()["battery_soc_kwh"].tolist()


def monthly_kpis() -> pd.DataFrame:
    return pd.DataFrame({
        "re_self_used_kwh": [1000.0, 2000.0], "imported_kwh": [3000.0, 1000.0],
        "exported_kwh": [500.0, 0.0], "curtailed_kwh": [0.0, 250.0],
        "consumption_kwh": [4000.0, 3000.0],
    }, index=["2025-06", "2025-07"])


def test_monthly_energy_bars_are_in_mwh_with_supply_up_and_export_down() -> None:
    fig = plots.monthly_energy(monthly_kpis())
    ax = fig.axes[0]
    assert "(MWh)" in ax.get_ylabel()
    assert {"RE used on site", "grid import", "export", "curtailed", "consumption"} <= set(
        legend_labels(fig))
    heights = sorted(round(p.get_height(), 3) for p in ax.patches)
    assert -0.5 in heights and 3.0 in heights and 2.0 in heights


def test_import_heatmap_is_hour_by_day_of_hourly_means() -> None:
    index = pd.date_range("2025-03-01", periods=2 * 96, freq="15min", tz=TZ)
    values = pd.Series(np.arange(len(index), dtype=float), index=index)
    fig = plots.import_heatmap(values)
    ax = fig.axes[0]
    image = ax.get_images()[0].get_array()
    assert image.shape == (24, 2)
    assert image[0, 0] == pytest.approx(values.iloc[0:4].mean())
    assert image[23, 1] == pytest.approx(values.iloc[-4:].mean())
    assert ax.get_xlabel() == "date"
    assert fig.axes[1].get_ylabel() == "grid import (kW)"  # the colour bar


def test_import_heatmap_shows_months_on_a_years_axis() -> None:
    index = pd.date_range("2025-01-01", "2025-12-31 23:45", freq="15min", tz=TZ)
    fig = plots.import_heatmap(pd.Series(1.0, index=index))
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[:3] == ["Jan", "Feb", "Mar"] and "Dec" in labels


def test_money_axes_read_in_k_or_m_yuan_without_an_offset() -> None:
    kpis = pd.DataFrame({"energy_cost_yuan": [20_347_512.0, 7_197_310.0],
                         "demand_charge_yuan": [2_643_458.0, 2_413_998.0],
                         "export_revenue_yuan": [0.0, 5_577_682.0],
                         "cost_yuan": [22_990_970.0, 4_033_626.0]}, index=["grid only", "milp"])
    fig = plots.cost_breakdown(kpis)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_ylabel() == "cost (M yuan)"
    assert ax.yaxis.get_offset_text().get_text() == ""
    assert all(len(t.get_text().replace("−", "-").lstrip("-")) <= 5
               for t in ax.get_yticklabels())


def test_monthly_bill_and_load_duration_have_with_and_without() -> None:
    months = pd.MultiIndex.from_product([["2025-01", "2025-02"], ["with", "without"]])
    bill = pd.DataFrame({"energy_peak_yuan": [1e5, 3e5, 1e5, 3e5],
                         "energy_valley_yuan": [5e4, 2e4, 5e4, 2e4],
                         "demand_charge_yuan": [4e4, 6e4, 4e4, 6e4],
                         "export_revenue_yuan": [2e4, 0.0, 2e4, 0.0]}, index=months)
    labels = legend_labels(plots.monthly_bill(bill))
    assert {"with", "without", "energy, peak", "energy, valley", "demand charge",
            "export revenue", "net bill"} <= set(labels)
    series = {"with": pd.Series([3.0, -1.0, 2.0]), "without": pd.Series([5.0, 4.0, 6.0])}
    ax = plots.load_duration(series).axes[0]
    lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
    assert list(lines["with"]) == [3.0, 2.0, -1.0] and list(lines["without"]) == [6.0, 5.0, 4.0]


def test_monthly_peaks_has_a_bar_series_per_strategy() -> None:
    peaks = pd.DataFrame({"milp": [900.0, 950.0], "no storage": [1000.0, 1100.0]},
                         index=["2025-06", "2025-07"])
    fig = plots.monthly_peaks(peaks)
    ax = fig.axes[0]
    assert legend_labels(fig) == ["milp", "no storage"]
    assert len(ax.containers) == 2
    assert [p.get_height() for p in ax.containers[1]] == [1000.0, 1100.0]
    assert ax.get_ylabel() == "peak 15-min import (kW)"


def test_pareto_front_sorts_by_co2_and_labels_units() -> None:
    front = pd.DataFrame({"total_cost_yuan": [100.0, 130.0, 110.0], "co2_t": [50.0, 30.0, 40.0]})
    fig = plots.pareto_front(front)
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    assert line.get_xdata().tolist() == [30.0, 40.0, 50.0]
    assert line.get_ydata().tolist() == [130.0, 110.0, 100.0]
    assert ax.get_xlabel() == "CO2 (t)"
    assert ax.get_ylabel() == "total cost (yuan)"
    assert "Pareto front" in legend_labels(fig)


def test_forecast_vs_actual_has_a_panel_per_quantity() -> None:
    actual = day_frame()
    forecast = actual.assign(load_kw=actual["load_kw"] * 1.1)
    fig = plots.forecast_vs_actual(forecast, actual, ["load_kw", "pv_kw"])
    assert [ax.get_ylabel() for ax in fig.axes] == ["load (kW)", "pv (kW)"]
    assert legend_labels(fig)[:2] == ["actual", "forecast"]
    assert fig.axes[0].get_lines()[1].get_ydata() == pytest.approx(forecast["load_kw"])


def test_forecast_and_plan_shows_forecast_above_and_plan_below() -> None:
    plan = day_frame()
    forecast = plan.rename(columns={"load_kw": "load_kw_plant"}).assign(
        cooling_load_kw_th=50.0)
    fig = plots.forecast_and_plan(forecast, plan)
    labels = legend_labels(fig)
    for label in ("electric load forecast", "PV + wind forecast",
                  "cooling demand forecast (kW_th)", "planned grid import",
                  "planned battery (discharge > 0)", "planned tank level", "TOU: sharp"):
        assert label in labels
    assert fig.axes[0].get_ylabel() == "forecast (kW, kW_th)"
    assert fig.axes[1].get_ylabel() == "plan (kW)"


def test_storage_by_season_draws_one_line_per_season_present() -> None:
    index = pd.date_range("2025-01-01", "2025-07-31 23:00", freq="1h", tz=TZ)
    ledger = pd.DataFrame({"battery_charge_kw": 0.0, "battery_discharge_kw": 10.0,
                           "tes_charge_kw_th": 5.0, "tes_discharge_kw_th": 0.0}, index=index)
    fig = plots.storage_by_season(ledger)
    bat, tank = fig.axes
    assert legend_labels(fig) == ["winter (Dec–Feb)", "spring (Mar–May)", "summer (Jun–Aug)"]
    assert bat.get_ylabel().endswith("(kW)") and tank.get_ylabel().endswith("(kW_th)")
    assert bat.get_lines()[1].get_ydata() == pytest.approx(np.full(24, 10.0))
    assert tank.get_lines()[1].get_ydata() == pytest.approx(np.full(24, -5.0))


def test_cost_breakdown_stacks_parts_and_marks_the_net_cost() -> None:
    kpis = pd.DataFrame({"energy_cost_yuan": [100.0], "demand_charge_yuan": [40.0],
                         "degradation_yuan": [5.0], "export_revenue_yuan": [20.0],
                         "cost_yuan": [120.0]}, index=["milp"])
    fig = plots.cost_breakdown(kpis)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "cost (yuan)"
    assert {"energy", "demand charge", "battery degradation", "export revenue",
            "cost (energy + demand − export)"} <= set(legend_labels(fig))
    assert list(ax.get_lines()[0].get_ydata()) == [120.0]


def test_sensitivity_scales_shares_to_percent_and_groups_lines() -> None:
    table = pd.DataFrame({"battery_kwh": [1000, 2000, 1000, 2000],
                          "tariff": ["2024", "2024", "2026", "2026"],
                          "self_sufficiency": [0.5, 0.6, 0.55, 0.65],
                          "cost_yuan": [10.0, 9.0, 11.0, 8.0]})
    fig = plots.sensitivity(table, "battery_kwh", ["self_sufficiency", "cost_yuan"],
                            group="tariff")
    share, cost = fig.axes
    assert share.get_ylabel() == "self-sufficiency (%)"
    assert cost.get_ylabel() == "cost (yuan)"
    assert share.get_xlabel() == "battery (kWh)"
    assert share.get_lines()[0].get_ydata() == pytest.approx([50.0, 60.0])
    assert legend_labels(fig) == ["tariff = 2024", "tariff = 2026"]


def test_kpi_bars_draw_one_bar_per_row_and_panel_per_kpi() -> None:
    table = pd.DataFrame({"co2_t": [10.0, 8.0], "self_sufficiency": [0.2, 0.4]},
                         index=["none", "milp"])
    fig = plots.kpi_bars(table, ["co2_t", "self_sufficiency"])
    assert [ax.get_ylabel() for ax in fig.axes] == ["CO2 (t)", "self-sufficiency (%)"]
    assert [p.get_height() for p in fig.axes[1].patches] == pytest.approx([20.0, 40.0])


def test_solve_times_marks_fallback_days() -> None:
    days = pd.DataFrame({"date": ["2025-07-01", "2025-07-02"], "solve_s": [0.1, 0.3],
                         "fallback": [False, True]})
    fig = plots.solve_times(days)
    assert legend_labels(fig) == ["planned", "fell back to rules"]
    assert fig.axes[0].get_ylabel() == "solve time (s)"


@pytest.mark.parametrize(("key", "label", "scale"), [
    ("self_sufficiency", "self-sufficiency (%)", 100.0),
    ("imported_kwh", "grid import (MWh)", 1e-3),
    ("tes_level_kwh_th", "tes level (kWh_th)", 1.0),
    ("battery_soc_kwh", "battery soc (kWh)", 1.0),
    ("price_import", "price import (yuan/kWh)", 1.0),
])
def test_metric_label_names_the_unit(key: str, label: str, scale: float) -> None:
    assert plots.metric_label(key) == (label, scale)


def test_sensitivity_does_not_blow_up_differences_of_a_fraction_of_a_percent() -> None:
    table = pd.DataFrame({"size": [1, 2], "self_sufficiency": [0.658, 0.660]})
    fig = plots.sensitivity(table, "size", ["self_sufficiency"])
    low, high = fig.axes[0].get_ylim()
    assert high - low >= 0.05 * 65.9
