"""The notebook API: load a park, build its inputs, plan a day, simulate a period, compare
strategies and designs — results as pandas objects with ``plot_*`` helpers.

::

    import parkgrid as pg
    park = pg.load_park("haiyan")                       # models/haiyan.yaml, or any path
    inputs = pg.build_inputs(park)                      # a year of 15-min inputs
    day = pg.plan_day(park, "2025-07-15", inputs=inputs, forecast="noisy")
    day.frame, day.plot(), day.save("plan.csv")         # schedule, figure, export
    sim = pg.simulate_period(park, "2025-07-01", days=14, inputs=inputs)
    sim.summary, sim.monthly, sim.plot_dispatch("2025-07-03")
    run = pg.run_period(park, "2025-07-01", days=14)    # + baselines and the bound
    run.table(), run.save("results/july")               # results folder + report.html
    pg.compare_designs(park, {"1 MWh": {"batteries.0.energy_kwh": 1000}, ...}, ...)
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from parkgrid.config import Park, parse_park
from parkgrid.config import load_park as _load_park_file
from parkgrid.errors import ConfigError
from parkgrid.inputs import Inputs, build_inputs
from parkgrid.model.schedule import ParkState, Schedule
from parkgrid.reporting import plots
from parkgrid.reporting.html import (
    BOUND_TITLE,
    kpi_frame,
    monthly_frame,
    peaks_frame,
    read_results,
    storage_limits,
    write_report,
)

REFERENCE_PARKS = ("haiyan", "dameisha")
DEFAULT_STRATEGIES: dict[str, tuple[str, str]] = {
    # name: (forecast, planner)
    "MILP, noisy forecast": ("noisy", "milp"),
    "MILP, perfect forecast": ("perfect", "milp"),
    "rules, noisy forecast": ("noisy", "rules"),
    "no storage": ("perfect", "none"),
}


# --- parks and inputs -----------------------------------------------------------------------


def load_park(source: Path | str) -> Park:
    """A park config: a YAML path, or the name of a reference park ('haiyan', 'dameisha')
    looked up in ``models/`` of the working directory, its parents, or this checkout."""
    path = Path(source)
    if path.exists() or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return _load_park_file(path)
    name = str(source)
    roots = [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[2]]
    for root in roots:
        candidate = root / "models" / f"{name}.yaml"
        if candidate.is_file():
            return _load_park_file(candidate)
    raise ConfigError(name, [f"no park file {name!r} and no models/{name}.yaml here or above; "
                             f"reference parks: {', '.join(REFERENCE_PARKS)}"])


def with_changes(park: Park, changes: Mapping[str, Any]) -> Park:
    """A copy of ``park`` with fields set by dotted path, re-validated, e.g.
    ``{"batteries.0.energy_kwh": 2000, "tariff.calendar": "zhejiang_2026"}``.
    Relative paths in the config still resolve against the original file."""
    from parkgrid.sweeps.variants import set_field

    doc = park.model_dump(mode="json")
    for path, value in changes.items():
        try:
            set_field(doc, path, copy.deepcopy(value))
        except KeyError as exc:
            raise ConfigError(park.source_file or park.name, [f"{path}: {exc.args[0]}"]) from None
    return parse_park(doc, park.source_file or "<memory>")


def reprice(park: Park, kpis: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The ``economics`` section of a run's KPI document (``kpis.json``) with economics or
    cost fields changed by dotted path, without re-running (the simulated year does not depend
    on them), e.g. ``{"economics.electricity_escalation": 0.02,
    "batteries.0.cost.capex_yuan_per_unit": 1200}``."""
    from parkgrid.design import economics

    physical = [p for p in changes if not (p.startswith("economics.") or ".cost." in p)]
    if physical:
        raise ConfigError(park.source_file or park.name, [
            f"{p}: not an economics or cost field; a change of the park's physics needs a new "
            "run" for p in physical])
    changed = with_changes(park, changes)
    if changed.economics is None:
        raise ConfigError(park.source_file or park.name,
                          ["economics: the park has no economics section"])
    return economics.evaluate(changed, kpis["strategy"], kpis["baselines"])


def _inputs_for(park: Park, start: pd.Timestamp, inputs: Inputs | None) -> Inputs:
    return inputs if inputs is not None else build_inputs(park, start.year)


def _start(park: Park, start: object | None) -> pd.Timestamp:
    stamp = pd.Timestamp(f"{park.year}-01-01" if start is None else start)  # type: ignore[arg-type]
    tz = park.site.timezone
    return (stamp.tz_convert(tz) if stamp.tzinfo else stamp.tz_localize(tz)).normalize()


# --- one day ----------------------------------------------------------------------------------


@dataclass
class DayPlan:
    """A day-ahead plan: the schedule, the forecast it was made from, and the actual day."""

    park: Park
    schedule: Schedule
    forecast: Inputs
    actual: Inputs

    @property
    def frame(self) -> pd.DataFrame:
        """The schedule: one row per step, the documented columns (docs/schedule.md)."""
        return self.schedule.frame

    @property
    def metadata(self) -> dict[str, Any]:
        """Solver status, objective and its parts, solve time."""
        return self.schedule.metadata

    def save(self, path: Path | str) -> Path:
        """Export the schedule (CSV, JSON or Parquet by extension, with its metadata)."""
        from parkgrid.io.export import write_schedule

        path = Path(path)
        write_schedule(self.schedule, path)
        return path

    def plot(self, title: str | None = None) -> Figure:
        """The forecast and the plan made from it, on one figure."""
        return plots.forecast_and_plan(self.forecast.series, self.frame,
                                       title or f"{self.park.name}: forecast and plan, "
                                                f"{self.frame.index[0]:%Y-%m-%d}")

    def plot_dispatch(self, title: str | None = None) -> Figure:
        """The planned dispatch stack with the TOU periods and the price."""
        return plots.dispatch_stack(self.frame, title or f"{self.park.name}: planned dispatch, "
                                                         f"{self.frame.index[0]:%Y-%m-%d}")

    def plot_forecast_vs_actual(self, columns: Sequence[str] | None = None) -> Figure:
        """Forecast (dashed) against what actually happened, per input quantity."""
        series = self.actual.series
        columns = columns or [c for c in ("load_kw", "pv_kw", "wind_kw", "cooling_load_kw_th")
                              if plots.column_total(series, c).abs().sum() > 0]
        return plots.forecast_vs_actual(self.forecast.series, series, columns,
                                        f"{self.park.name}: forecast vs actual, "
                                        f"{series.index[0]:%Y-%m-%d}")


def _forecast(park: Park, day: pd.Timestamp, inputs: Inputs, forecast: str,
              seed: int) -> tuple[Inputs, Inputs]:
    from parkgrid.simulate import make_forecaster

    actuals = replace(inputs, park=park)
    return make_forecaster(forecast, seed)(actuals, day), actuals.window(day,
                                                                        park.steps_per_day)


def plan_day(park: Park, date: object, *, inputs: Inputs | None = None,
             state: ParkState | None = None, forecast: str = "perfect", seed: int = 0,
             **options: Any) -> DayPlan:
    """Plan the local day ``date`` with the MILP from a ``forecast`` ('perfect', 'persistence',
    'noisy') issued at 12:00 the day before; ``state``: battery SOC, tank level and
    month-to-date peak at midnight (default: the config's initial state). ``options``:
    :class:`parkgrid.optimizer.PlanOptions` fields (time_limit_s, mip_gap, …)."""
    from parkgrid.optimizer import plan_day as optimize

    day = _start(park, date)
    inputs = _inputs_for(park, day, inputs)
    predicted, actual = _forecast(park, day, inputs, forecast, seed)
    schedule = optimize(predicted, state, park=park, **options)
    return DayPlan(park, schedule, predicted, actual)


def pareto_front(park: Park, date: object, n_points: int = 6, *, inputs: Inputs | None = None,
                 state: ParkState | None = None, forecast: str = "perfect",
                 seed: int = 0) -> pd.DataFrame:
    """The day's cost/CO2 trade-off by the ε-constraint method: one row per point, columns
    ``total_cost_yuan`` and ``co2_t`` (and the rest of the cost breakdown); plot it with
    :func:`parkgrid.reporting.plots.pareto_front`."""
    from parkgrid.optimizer import pareto_front as front

    day = _start(park, date)
    inputs = _inputs_for(park, day, inputs)
    predicted, _ = _forecast(park, day, inputs, forecast, seed)
    return front(predicted, state, n_points, park=park)


# --- a period ---------------------------------------------------------------------------------


@dataclass
class Simulation:
    """One rollout: the ledger (one row per step, the schedule's columns), its KPIs, the
    per-day planner records, the events and the state at its end (battery SOC, tank level,
    month-to-date peak: where the next day starts)."""

    ledger: pd.DataFrame
    kpis: dict[str, Any]
    park: Park | None = None
    days: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: list[str] = field(default_factory=list)
    name: str = "strategy"
    state: ParkState | None = None

    @classmethod
    def from_rollout(cls, rollout: Any, park: Park) -> Simulation:
        from parkgrid.simulate import kpis

        return cls(rollout.ledger, kpis(rollout.ledger, park), park, rollout.days_frame(),
                   list(rollout.events), rollout.name, rollout.state)

    @property
    def summary(self) -> pd.Series:
        """The period's scalar KPIs (units in the names; shares are fractions)."""
        return pd.Series({k: v for k, v in self.kpis.items() if not isinstance(v, dict)},
                         name=self.name)

    @property
    def monthly(self) -> pd.DataFrame:
        """Monthly KPIs, one row per month ('YYYY-MM')."""
        return monthly_frame(self.kpis)

    @property
    def zero_carbon(self) -> pd.DataFrame:
        """The zero-carbon park indicators: value, rule, threshold, pass."""
        return pd.DataFrame.from_dict(self.kpis.get("zero_carbon", {}), orient="index")

    def day(self, date: object) -> pd.DataFrame:
        """The ledger of one local day."""
        return self.ledger.loc[str(pd.Timestamp(date).date())]  # type: ignore[arg-type]

    def plot_dispatch(self, date: object, title: str | None = None) -> Figure:
        """What every asset did on ``date`` (kW), the TOU periods and the price behind."""
        frame = self.day(date)
        return plots.dispatch_stack(frame, title or f"Dispatch, {frame.index[0]:%Y-%m-%d}")

    def plot_storage(self, start: object | None = None, end: object | None = None) -> Figure:
        """Battery energy and tank level from ``start`` to ``end`` (inclusive dates)."""
        frame = self.ledger.loc[slice(None if start is None else str(start),
                                      None if end is None else str(end))]
        limits, tank = storage_limits(self.park)
        return plots.storage_levels(frame, limits, tank, "Battery and chilled-water tank")

    def plot_monthly_energy(self) -> Figure:
        """Where the energy came from and went, month by month (MWh)."""
        return plots.monthly_energy(self.monthly)

    def plot_import_heatmap(self) -> Figure:
        """Grid import by hour of day and day of year (kW)."""
        return plots.import_heatmap(self.ledger["grid_import_kw"])

    def plot_storage_by_season(self) -> Figure:
        """The average day of the battery and the tank in each season."""
        return plots.storage_by_season(self.ledger)


def simulate_period(park: Park, start: object | None = None, days: int | None = None,
                    forecast: str = "noisy", planner: str = "milp", *, seed: int = 0,
                    inputs: Inputs | None = None) -> Simulation:
    """Roll day-ahead planning (``forecast`` × ``planner``) over ``days`` days from ``start``
    (default: the park's whole year) against the actual inputs."""
    from parkgrid.simulate import simulate

    first = _start(park, start)
    inputs = _inputs_for(park, first, inputs)
    end = None if days is None else first + pd.Timedelta(days=days)
    rollout = simulate(park, first, end, forecast, planner, inputs=inputs, seed=seed,
                       name=f"{planner} · {forecast}")
    return Simulation.from_rollout(rollout, park)


@dataclass
class RunSummary:
    """A run: the strategy, the baselines, the perfect-foresight bound and the KPI document
    (``kpis.json``). Loaded from a results folder, ``baselines`` is empty (only their KPIs
    are kept, in ``kpis``)."""

    kpis: dict[str, Any]
    strategy: Simulation
    baselines: dict[str, Simulation] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    folder: Path | None = None

    def table(self) -> pd.DataFrame:
        """Period KPIs: one row per KPI, one column per strategy (strategy, baselines, bound)."""
        return kpi_frame(self.kpis)

    def plot_monthly_peaks(self) -> Figure:
        """Each month's peak import of the strategy next to the baselines' (kW)."""
        return plots.monthly_peaks(peaks_frame(self.kpis),
                                   "Monthly peak import: with and without storage")

    def plot_cost_breakdown(self) -> Figure:
        """Cost by part (energy, demand charge, export revenue, degradation), per strategy."""
        table = self.table().T
        return plots.cost_breakdown(table.drop(index=BOUND_TITLE, errors="ignore"))

    def cashflow(self) -> pd.DataFrame:
        """The year-by-year cash flow against the economics baseline (empty without an
        ``economics`` section; docs/economics.md)."""
        from parkgrid.design.economics import cashflow_frame

        return cashflow_frame(self.kpis.get("economics") or {})

    def plot_cashflow(self) -> Figure:
        """The cash flow: each year's lines stacked, cumulative and discounted cumulative."""
        return plots.cashflow(self.cashflow())

    def save(self, out: Path | str, report: bool = True, force: bool = False) -> Path:
        """Write the results folder (kpis.json, timeseries.parquet, schedules/, events.log)
        and, unless ``report=False``, its ``report.html``; returns the folder. ``force``:
        replace a results folder holding another run (see :mod:`parkgrid.io.results`)."""
        from parkgrid.io.results import write_results

        folder = write_results(out, self.kpis, self.strategy.ledger, self.schedules,
                               self.strategy.events,
                               {name: b.ledger for name, b in self.baselines.items()}, force=force)
        if report:
            write_report(folder)
        self.folder = folder
        return folder


def run_period(park: Park, start: object | None = None, days: int | None = None,
               forecast: str = "noisy", planner: str = "milp", *, seed: int = 0,
               inputs: Inputs | None = None, baselines: Sequence[str] | None = None,
               perfect_foresight: bool = True) -> RunSummary:
    """What ``parkgrid run`` does, without the files: the strategy, the baselines
    ('grid_only', 're_no_storage', 'rules'; default all) and the perfect-foresight bound."""
    from parkgrid.simulate import BASELINES, run

    first = _start(park, start)
    inputs = _inputs_for(park, first, inputs)
    result = run(park, first, days, forecast, planner, seed, inputs=inputs,
                 baselines=tuple(BASELINES if baselines is None else baselines),
                 perfect_foresight=perfect_foresight)
    doc = result.kpis
    strategy = Simulation(result.strategy.ledger, doc["strategy"], park,
                          result.strategy.days_frame(), list(result.strategy.events),
                          result.strategy.name, result.strategy.state)
    base = {name: Simulation(r.ledger, doc["baselines"][name], park, r.days_frame(),
                             list(r.events), name, r.state)
            for name, r in result.baselines.items()}
    return RunSummary(doc, strategy, base, dict(result.strategy.schedules))


def load_results(folder: Path | str, park: Park | None = None) -> RunSummary:
    """A results folder written by ``parkgrid run`` (or :meth:`RunSummary.save`);
    ``park`` adds the storage limits to the storage plot."""
    doc, ledger, events = read_results(folder)
    strategy = Simulation(ledger, doc["strategy"], park, _days(doc), events,
                          doc.get("run", {}).get("planner", "strategy"))
    return RunSummary(doc, strategy, folder=Path(folder))


def _days(doc: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame((doc.get("solver") or {}).get("per_day", []))


# --- comparisons ------------------------------------------------------------------------------


def compare_strategies(park: Park, start: object | None = None, days: int | None = None,
                       strategies: Mapping[str, tuple[str, str]] | None = None, *,
                       seed: int = 0, inputs: Inputs | None = None) -> pd.DataFrame:
    """Period KPIs of each strategy (name → (forecast, planner); default
    :data:`DEFAULT_STRATEGIES`) on the same actuals: one row per strategy, plus 'grid only'
    (no RE, no storage) from which ``co2_avoided_t`` is counted."""
    from parkgrid.simulate.run import without_renewables

    first = _start(park, start)
    inputs = _inputs_for(park, first, inputs)
    rows = {}
    for name, (forecast, planner) in (strategies or DEFAULT_STRATEGIES).items():
        rows[name] = simulate_period(park, first, days, forecast, planner, seed=seed,
                                     inputs=inputs).summary
    grid = simulate_period(park, first, days, "perfect", "none", seed=seed,
                           inputs=without_renewables(inputs)).summary
    rows["grid only"] = grid
    table = pd.DataFrame(rows).T
    table["co2_avoided_t"] = grid["co2_t"] - table["co2_t"]
    return table


def compare_designs(park: Park, variants: Mapping[str, Mapping[str, Any]],
                    start: object | None = None, days: int | None = None,
                    forecast: str = "noisy", planner: str = "milp", *, seed: int = 0,
                    inputs: Inputs | None = None) -> pd.DataFrame:
    """Period KPIs of each design variant (name → field changes, see :func:`with_changes`),
    each rolled out with the same strategy and seed: one row per variant, the changed
    fields as columns first. Inputs are rebuilt only for changes that affect them (e.g. the
    tariff calendar); ``inputs`` serves the others."""
    from parkgrid.inputs import affects_inputs

    first = _start(park, start)
    base_inputs = _inputs_for(park, first, inputs)
    rows = []
    for name, changes in variants.items():
        variant = with_changes(park, changes)
        own = any(affects_inputs(p) for p in changes)
        variant_inputs = build_inputs(variant, first.year) if own else base_inputs
        summary = simulate_period(variant, first, days, forecast, planner, seed=seed,
                                  inputs=variant_inputs).summary
        rows.append(pd.Series({"variant": name, **changes, **summary.to_dict()}))
    return pd.DataFrame(rows).set_index("variant")


__all__ = [
    "DEFAULT_STRATEGIES", "REFERENCE_PARKS", "DayPlan", "RunSummary", "Simulation",
    "build_inputs", "compare_designs", "compare_strategies", "load_park", "load_results",
    "pareto_front", "plan_day", "reprice", "run_period", "simulate_period", "with_changes",
    "write_report",
]
