"""Tariffs: public holidays, TOU calendars hour by hour, custom calendar files, demand charges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgrid.config import parse_park
from parkgrid.errors import ConfigError, InputDataError
from parkgrid.inputs import tariff

TZ = "Asia/Shanghai"
V, F, P, S, D = "valley", "flat", "peak", "sharp", "deep_valley"


def park_doc(**tariff_cfg) -> dict:
    return {
        "name": "test park",
        "site": {"latitude_deg": 30.5, "longitude_deg": 120.9},
        "weather": {"source": "synthetic", "climate": "climate.csv"},
        "loads": [{"name": "plant", "synthetic": {"shape": "industrial", "annual_kwh": 1e6}}],
        "grid": {"import_limit_kw": 1000},
        "tariff": {"calendar": "zhejiang_2024", **tariff_cfg},
        "emissions": {"grid_factor_t_per_mwh": 0.5},
    }


def make_park(source: Path | str = "<memory>", **tariff_cfg):
    return parse_park(park_doc(**tariff_cfg), source)


def day_index(date: str, minutes: int = 15) -> pd.DatetimeIndex:
    start = pd.Timestamp(date, tz=TZ)
    return pd.date_range(start, start + pd.Timedelta(days=1), freq=f"{minutes}min",
                         inclusive="left")


def year_index(year: int, minutes: int = 15) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1),
                         freq=f"{minutes}min", inclusive="left", tz=TZ)


def hourly_periods(calendar: str, date: str, **tariff_cfg) -> list[str]:
    """The TOU period of every hour of ``date``, checked to hold for all four quarters."""
    park = make_park(calendar=calendar, **tariff_cfg)
    frame = tariff.tariff_frame(park.tariff, park, day_index(date))
    quarters = frame["tou_period"].astype(str).to_numpy().reshape(24, 4)
    assert (quarters == quarters[:, :1]).all(), "a period changes inside an hour"
    return list(quarters[:, 0])


def hours(*spans: tuple[int, int, str]) -> list[str]:
    """24 periods from (start hour, end hour, period) spans."""
    out = [""] * 24
    for start, end, period in spans:
        out[start:end] = [period] * (end - start)
    assert "" not in out
    return out


# --- holidays ----------------------------------------------------------------------------------


def test_spring_festival_2024_days_off_are_holidays() -> None:
    mask = tariff.holiday_mask(day_index("2024-02-10").union(day_index("2024-02-17")))
    assert mask.all()


def test_makeup_working_sunday_is_not_a_holiday() -> None:
    index = day_index("2024-02-18")
    assert not tariff.holiday_mask(index).any()
    assert tariff.makeup_workday_mask(index).all()


def test_holiday_mask_is_a_named_bool_series_on_the_index() -> None:
    index = year_index(2025)
    mask = tariff.holiday_mask(index)
    assert mask.dtype == bool and mask.name == "is_holiday" and mask.index.equals(index)


def test_2025_has_the_published_number_of_days_off() -> None:
    # 2025 notice: 1 + 8 + 3 + 5 + 3 + 8 days (Mid-Autumn inside the National Day block)
    days = tariff.holiday_mask(year_index(2025, 60)).sum() / 24
    assert days == 28


def test_new_year_block_may_start_in_december() -> None:
    assert tariff.holiday_mask(day_index("2023-12-30")).all()


def test_year_outside_the_table_is_a_clear_error() -> None:
    with pytest.raises(InputDataError, match=r"no public holidays for 2040.*2020–2035"):
        tariff.holiday_mask(day_index("2040-03-01"))


def test_derived_years_are_2027_to_2035() -> None:
    assert tariff.holiday_table().derived_years == list(range(2027, 2036))


@pytest.mark.parametrize("year", range(2020, 2036))
def test_spring_festival_block_contains_the_lunar_new_year(year: int) -> None:
    doc = yaml.safe_load(tariff._data_path("holidays_cn.yaml").read_text(encoding="utf-8"))
    entry = doc["years"][year]
    for festival in ("spring_festival", "dragon_boat", "mid_autumn", "qingming"):
        first, last = entry["days_off"][festival]
        assert first <= entry["festival_dates"][festival] <= last, festival


def test_festival_mask_picks_only_the_named_festival() -> None:
    index = day_index("2024-04-04").union(day_index("2024-05-01"))
    mask = tariff.festival_mask(index, ["may_day"])
    assert not mask.iloc[:96].any() and mask.iloc[96:].all()


# --- built-in calendars hour by hour -------------------------------------------------------------

ZJ24_SPRING = hours((0, 8, V), (8, 11, P), (11, 13, V), (13, 17, P), (17, 24, F))
ZJ24_WINTER_SUMMER = hours((0, 8, V), (8, 9, P), (9, 11, S), (11, 13, V), (13, 15, F),
                           (15, 17, S), (17, 23, P), (23, 24, F))
ZJ26_SPRING = hours((0, 7, V), (7, 11, F), (11, 14, V), (14, 16, F), (16, 23, P), (23, 24, F))
ZJ26_WINTER_SUMMER = hours((0, 7, V), (7, 11, F), (11, 14, V), (14, 16, F), (16, 18, P),
                           (18, 22, S), (22, 23, P), (23, 24, F))
GD_NORMAL = hours((0, 8, V), (8, 10, F), (10, 12, P), (12, 14, F), (14, 19, P), (19, 24, F))
GD_SUMMER = hours((0, 8, V), (8, 10, F), (10, 11, P), (11, 12, S), (12, 14, F), (14, 15, P),
                  (15, 17, S), (17, 19, P), (19, 24, F))


@pytest.mark.parametrize(("calendar", "date", "expected"), [
    ("zhejiang_2024", "2024-01-10", ZJ24_WINTER_SUMMER),  # January workday
    ("zhejiang_2024", "2024-04-10", ZJ24_SPRING),
    ("zhejiang_2024", "2024-07-10", ZJ24_WINTER_SUMMER),
    ("zhejiang_2026", "2026-01-14", ZJ26_WINTER_SUMMER),
    ("zhejiang_2026", "2026-04-15", ZJ26_SPRING),
    ("zhejiang_2026", "2026-07-15", ZJ26_WINTER_SUMMER),
    ("guangdong", "2025-07-16", GD_SUMMER),
    ("guangdong", "2025-03-12", GD_NORMAL),
], ids=lambda v: v if isinstance(v, str) else None)
def test_calendar_hour_by_hour(calendar: str, date: str, expected: list[str]) -> None:
    assert hourly_periods(calendar, date) == expected


@pytest.mark.parametrize("date", ["2024-02-12", "2024-05-02", "2024-10-03"])
@pytest.mark.parametrize("calendar", ["zhejiang_2024", "zhejiang_2026"])
def test_zhejiang_deep_valley_10_to_14_on_long_holidays(calendar: str, date: str) -> None:
    periods = hourly_periods(calendar, date)
    assert periods[10:14] == [D] * 4
    assert D not in periods[:10] + periods[14:]


def test_zhejiang_2024_deep_valley_leaves_other_hours_as_usual() -> None:
    periods = hourly_periods("zhejiang_2024", "2024-05-02")
    assert periods[:10] + periods[14:] == ZJ24_SPRING[:10] + ZJ24_SPRING[14:]


def test_no_deep_valley_on_qingming() -> None:
    assert hourly_periods("zhejiang_2024", "2024-04-04") == ZJ24_SPRING


def test_guangdong_has_no_holiday_rule() -> None:
    assert hourly_periods("guangdong", "2025-10-02") == GD_NORMAL


def test_leap_day_is_priced_like_february() -> None:
    park = make_park()
    frame = tariff.tariff_frame(park.tariff, park, year_index(2024))
    assert len(frame) == 366 * 96
    assert hourly_periods("zhejiang_2024", "2024-02-29") == ZJ24_SPRING
    assert frame.loc["2024-02-29"].shape[0] == 96


def test_tariff_frame_columns_and_index() -> None:
    park = make_park(export_price_yuan_per_kwh=0.4153)
    index = year_index(2025)
    frame = tariff.tariff_frame(park.tariff, park, index)
    assert list(frame.columns) == ["price_import_yuan_per_kwh", "price_export_yuan_per_kwh",
                                   "tou_period"]
    assert frame.index.equals(index)
    assert (frame["price_export_yuan_per_kwh"] == 0.4153).all()
    assert list(frame["tou_period"].cat.categories) == list(tariff.PERIODS)


def test_prices_follow_the_period() -> None:
    park = make_park()
    frame = tariff.tariff_frame(park.tariff, park, year_index(2025))
    by_period = frame.groupby("tou_period", observed=True)["price_import_yuan_per_kwh"].unique()
    assert {p: list(v) for p, v in by_period.items()} == {
        S: [1.32], P: [1.10], F: [0.65], V: [0.33], D: [0.264]
    }


def test_zhejiang_2026_prices_keep_the_published_ratio() -> None:
    prices = tariff._builtin_calendar("zhejiang_2026").prices_yuan_per_kwh
    ratios = [prices[p] / prices[F] for p in (S, P, F, V, D)]
    assert ratios == pytest.approx([2.05, 1.85, 1.0, 0.4, 0.2])


def test_price_override_changes_only_that_period() -> None:
    park = make_park(prices_yuan_per_kwh={"peak": 2.0})
    frame = tariff.tariff_frame(park.tariff, park, day_index("2024-04-10"))
    is_peak = (frame["tou_period"] == P).to_numpy()
    assert (frame["price_import_yuan_per_kwh"][is_peak] == 2.0).all()
    assert set(frame["price_import_yuan_per_kwh"][~is_peak]) == {0.33, 0.65}


@settings(max_examples=20, deadline=None)
@given(day=st.integers(0, 365), minutes=st.sampled_from([10, 15, 20, 30, 60]))
def test_period_of_a_step_does_not_depend_on_the_step_size(day: int, minutes: int) -> None:
    park = make_park()
    date = str((pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)).date())
    fine = tariff.tariff_frame(park.tariff, park, day_index(date, minutes))
    quarter = tariff.tariff_frame(park.tariff, park, day_index(date, 5))
    assert (fine["tou_period"] == quarter["tou_period"].reindex(fine.index)).all()


# --- custom calendar files ----------------------------------------------------------------------

CUSTOM = """\
name: two_rate
prices_yuan_per_kwh: {peak: 1.0, valley: 0.3}
seasons:
  - months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    hours:
      "00:00-07:30": valley
      "07:30-22:00": peak
      "22-24": valley
"""


def custom_park(tmp_path: Path, text: str, **tariff_cfg):
    (tmp_path / "calendars").mkdir(exist_ok=True)
    (tmp_path / "calendars" / "mine.yaml").write_text(text, encoding="utf-8")
    return make_park(tmp_path / "park.yaml", calendar="calendars/mine.yaml", **tariff_cfg)


def custom_error(tmp_path: Path, text: str) -> str:
    park = custom_park(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        tariff.tariff_frame(park.tariff, park, day_index("2025-01-06"))
    return str(info.value)


def test_custom_calendar_relative_to_the_park_file(tmp_path: Path) -> None:
    park = custom_park(tmp_path, CUSTOM)
    frame = tariff.tariff_frame(park.tariff, park, day_index("2025-01-06"))
    periods = frame["tou_period"].astype(str)
    assert periods.loc["2025-01-06 07:15"] == V and periods.loc["2025-01-06 07:30"] == P
    assert periods.loc["2025-01-06 22:00"] == V
    assert frame["price_import_yuan_per_kwh"].loc["2025-01-06 12:00"] == 1.0


def test_custom_calendar_overlapping_hours(tmp_path: Path) -> None:
    msg = custom_error(tmp_path, CUSTOM.replace('"22-24"', '"21-24"'))
    assert "mine.yaml" in msg
    assert "seasons.0.hours: got {…}; expected ranges that do not overlap" in msg
    assert "'21-24' overlaps another range at 21:00" in msg


def test_custom_calendar_hours_not_covering_the_day(tmp_path: Path) -> None:
    msg = custom_error(tmp_path, CUSTOM.replace('      "22-24": valley\n', ""))
    assert "expected ranges covering the whole day (00:00–24:00); 22:00–24:00 is not covered" \
        in msg


@pytest.mark.parametrize("text,expected", [
    (CUSTOM.replace('"22-24": valley', '"22-24": night'),
     "seasons.0.hours.22-24: got 'night'; expected 'sharp', 'peak', 'flat', 'valley' or "
     "'deep_valley'"),
    (CUSTOM + "holiday_rule: []\n", "holiday_rule: unknown key"),
    (CUSTOM.replace(", 12]", "]"), "every month 1–12 in exactly one season (missing [12])"),
    (CUSTOM.replace('"22-24"', '"22-25"'),
     "hour range '22-25' should run forward within 00:00–24:00"),
    (CUSTOM + 'holiday_rules:\n  - festivals: [christmas]\n    hours: {"10-14": valley}\n',
     "holiday_rules.0.festivals.0: got 'christmas'"),
], ids=["unknown period", "unknown key", "missing month", "bad hour range", "unknown festival"])
def test_a_bad_custom_calendar_names_the_field(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in custom_error(tmp_path, text)


def test_custom_calendar_without_price_for_a_period(tmp_path: Path) -> None:
    msg = custom_error(tmp_path, CUSTOM.replace(", valley: 0.3", ""))
    assert "tariff.prices_yuan_per_kwh: no price for valley" in msg
    assert "park.yaml" in msg


def test_missing_price_can_come_from_the_park(tmp_path: Path) -> None:
    park = custom_park(tmp_path, CUSTOM.replace(", valley: 0.3", ""),
                       prices_yuan_per_kwh={"valley": 0.2})
    frame = tariff.tariff_frame(park.tariff, park, day_index("2025-01-06"))
    assert frame["price_import_yuan_per_kwh"].min() == 0.2


def test_unknown_calendar_name_lists_the_builtins(tmp_path: Path) -> None:
    park = make_park(tmp_path / "park.yaml", calendar="zhejiang_2025")
    with pytest.raises(ConfigError, match=r"tariff.calendar: got 'zhejiang_2025'; expected a "
                                          r"built-in calendar \(zhejiang_2024, zhejiang_2026"):
        tariff.tariff_frame(park.tariff, park, day_index("2025-01-06"))


# --- demand charges ----------------------------------------------------------------------------


def demand_tariff(**demand):
    return make_park(demand=demand).tariff


def test_max_demand_charge_is_rate_times_each_monthly_peak() -> None:
    cfg = demand_tariff(kind="max_demand", rate_yuan_per_kw_month=40)
    peaks = pd.Series([1000.0, 1500.0])
    assert tariff.demand_charge_yuan(peaks, cfg) == 40 * 2500


def test_capacity_charge_is_fixed() -> None:
    cfg = demand_tariff(kind="capacity", capacity_kva=2000, rate_yuan_per_kva_month=30)
    assert tariff.demand_charge_yuan(pd.Series([10.0, 5000.0, 0.0]), cfg) == 3 * 30 * 2000


@pytest.mark.parametrize(("peak_kw", "expected_yuan"), [
    (800.0, 40 * 1000),                        # below declared: the declared kW is paid
    (1040.0, 40 * 1000),                       # within 105 %: no surcharge
    (1200.0, 40 * 1000 + 2 * 40 * 150),        # 150 kW above 1050 at double rate
])
def test_declared_demand_charge(peak_kw: float, expected_yuan: float) -> None:
    cfg = demand_tariff(kind="declared", declared_kw=1000, rate_yuan_per_kw_month=40)
    assert tariff.demand_charge_yuan(peak_kw, cfg) == pytest.approx(expected_yuan)


def test_no_demand_charge() -> None:
    assert tariff.demand_charge_yuan([1000.0], demand_tariff(kind="none")) == 0.0


def test_monthly_peak_is_the_largest_15_min_average() -> None:
    index = pd.date_range("2025-01-31", "2025-02-02", freq="5min", inclusive="left", tz=TZ)
    import_kw = pd.Series(100.0, index=index)
    import_kw["2025-01-31 10:00"] = 400.0          # one 5-min spike → 15-min mean 200
    import_kw["2025-02-01 10:00":"2025-02-01 10:10"] = 300.0  # a whole window at 300
    peaks = tariff.monthly_peaks_kw(import_kw)
    assert list(peaks) == pytest.approx([200.0, 300.0])
    assert list(peaks.index.month) == [1, 2]


def test_monthly_peak_from_hourly_steps_holds_the_step_value() -> None:
    index = pd.date_range("2025-03-01", periods=48, freq="60min", tz=TZ)
    import_kw = pd.Series(np.arange(48.0), index=index)
    assert tariff.monthly_peaks_kw(import_kw).iloc[0] == 47.0
