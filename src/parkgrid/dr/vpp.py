"""The virtual power plant: an aggregator's request split across the parks of a portfolio at
least total cost, and each park's share delivered and settled.

**Each park's cost curve**, from its own model: the day-ahead plan of the event's day without
the event (the plan the park declares; its net import over the window is the baseline the
curve's deliveries are counted from), then plans that must deliver ``x`` kW over the window
at ``levels`` points from 0 to what the park could shed (the most a plan paid 100 yuan/kWh
of response delivers), each through the optimizer's DR block with a
probe programme (band exactly ``x``, no payment, a 100 yuan/kWh shortfall penalty). A level's
cost is the plan's objective minus the declared plan's (energy, demand charge, wear, stored
energy left at midnight); a level the park cannot reach ends its curve. The plans start from
the park's initial state with the declared plan's own peak as the month-to-date peak (so a
curve prices the demand charge of a peak its delivery raises, not the whole month's).

**The split** minimises the total cost over the curves' lower convex hulls — an LP over
piecewise-linear convex costs, solved exactly by filling the cheapest segments (yuan per kW)
first; a request above the portfolio's capacity is split up to it and the rest reported.

**Settlement**: each park's share is an event of the portfolio's programme (firm: the split
binds), delivered in a rollout of the park ending on the event's day (starting a week before,
or early enough for a similar-days baseline) and settled by :mod:`.settlement`. A firm share
may still be under-delivered: the park's planner weighs the shortfall penalty against what
delivering costs it. Curves and rollouts are
tasks on Dask (the sweeps' cluster) when the portfolio has ``dask_from_parks`` parks or
more, or a scheduler is given.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError

from parkgrid.config import (
    DRProgramme,
    FilePath,
    Int,
    Park,
    Strict,
    Text,
    describe_error,
    load_park,
    read_yaml,
)
from parkgrid.dr.baseline import net_import_kw
from parkgrid.dr.events import Event, PlannedEvent, parse_calendar
from parkgrid.dr.session import clock
from parkgrid.errors import ConfigError

PROBE_PENALTY_YUAN_PER_KWH = 100.0
"""The probe's shortfall penalty: above any cost of delivering a kWh (the dearest TOU price
is under 2 yuan/kWh), below the unserved-load penalty (a probe never sheds load)."""


SETTLE_LOOKBACK_DAYS = 7
"""A share's rollout starts at least this many days before the event (a month-to-date peak
and storage levels that are the park's own, not the config's initial ones)."""


REACHED = 1e-3
"""A level counts as delivered within this share of it (the plans' MIP gap may leave a
hair of shortfall at the probe's penalty)."""


class Portfolio(Strict):
    """A VPP portfolio: the parks an aggregator pools, and its programme with the grid."""

    name: Text = Field(description="portfolio name")
    parks: list[FilePath] = Field(min_length=1, description="park configs, relative to this "
                                  "file")
    programme: DRProgramme = Field(description="the aggregator's programme: its rules settle "
                                   "each park's share (as a firm event)")
    levels: Annotated[Int, Field(ge=2, le=20)] = Field(
        5, description="delivery levels solved per park for its cost curve")
    dask_from_parks: Annotated[Int, Field(ge=1, le=100_000)] = Field(
        4, description="portfolios of this many parks or more run on Dask")


def load_portfolio(path: Path | str) -> tuple[Portfolio, list[Park]]:
    """Read a portfolio YAML file and its parks (one step and time zone for all)."""
    path = Path(path)
    data = read_yaml(path, "portfolio")
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping of portfolio settings"])
    try:
        portfolio = Portfolio.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, [describe_error(e, "docs/demand_response.md")
                                 for e in exc.errors()]) from None
    files = [p if p.is_absolute() else path.resolve().parent / p for p in portfolio.parks]
    missing = [f"parks: file not found: {f}" for f in files if not f.is_file()]
    if missing:
        raise ConfigError(path, missing)
    parks = [load_park(f) for f in files]
    names = [p.name for p in parks]
    clocks = {(p.time_step_minutes, p.site.timezone) for p in parks}
    if len(set(names)) < len(names) or len(clocks) > 1:
        raise ConfigError(path, ["parks: expected parks of distinct names sharing one time "
                                 f"step and time zone; got {names} with {sorted(clocks)}"])
    return portfolio, parks


def read_requests(path: Path, portfolio: Portfolio, park: Park) -> list[Event]:
    """The aggregator's events (the calendar format, programme = the portfolio's)."""
    return parse_calendar(path, [portfolio.programme], park.time_step_minutes,
                          park.site.timezone)


def _probe(kind: str, for_max: bool = False) -> DRProgramme:
    """The probe programme: a level exactly (band [1, 1], a shortfall penalty, no pay), or
    with ``for_max`` the most the park can deliver (paid up to 5 × the request at the
    highest price a programme may have, no band floor)."""
    if for_max:
        return DRProgramme(name="vpp_probe", kind=kind, capacity_kw=1e7,  # type: ignore[arg-type]
                           baseline="declared_plan", price_yuan_per_kwh=100.0, band_floor=0.0,
                           band_cap=5.0)
    return DRProgramme(name="vpp_probe", kind=kind, capacity_kw=1e7,  # type: ignore[arg-type]
                       baseline="declared_plan", price_yuan_per_kwh=0.0, band_floor=1.0,
                       band_cap=1.0, penalty_yuan_per_kwh=PROBE_PENALTY_YUAN_PER_KWH)


def cost_curve(park: Park, event: Event, levels: int) -> dict[str, Any]:
    """The park's cost of delivering each level of ``event``'s response (see the module doc):
    ``kw`` and ``cost_yuan`` (from 0, 0), the declared ``baseline_kw``."""
    from parkgrid.inputs import build_inputs
    from parkgrid.model.schedule import ParkState
    from parkgrid.optimizer import DayAheadOptimizer

    day = build_inputs(park, event.start.year).day(event.start.tz_localize(None).normalize())
    optimizer = DayAheadOptimizer(park)
    first = optimizer.plan(day)
    state = replace(ParkState.initial(park), month=event.start.month,
                    month_peak_kw=float(first.frame["grid_import_kw"].max()))
    declared = optimizer.plan(day, state)
    steps = event.steps(day.index)
    baseline = net_import_kw(declared.frame).to_numpy(float)[steps]

    def probe(kw: float, programme: DRProgramme) -> tuple[float, float]:
        """(response kWh, cost yuan) of the plan asked for ``kw`` under ``programme``."""
        planned = PlannedEvent(Event(programme, event.start, event.end, kw), baseline, kw)
        plan = optimizer.plan(replace(day, dr_events=(planned,)), state)
        (row,) = plan.metadata["demand_response"]
        cost = plan.metadata["objective"] + row["payment_yuan"] - row["penalty_yuan"]
        return float(row["response_kwh"]), float(cost - declared.metadata["objective"])

    most_kwh, _ = probe(event.requested_kw, _probe(event.programme.kind, for_max=True))
    top = max(0.0, min(most_kwh / event.hours, event.requested_kw))
    kws, costs = [0.0], [0.0]
    for kw in np.linspace(0.0, top, levels + 1)[1:]:
        response, cost = probe(float(kw), _probe(event.programme.kind))
        if response < kw * event.hours * (1 - REACHED) - 1e-6:
            break
        kws.append(float(kw))
        costs.append(cost)
    return {"park": park.name, "kw": kws, "cost_yuan": costs,
            "baseline_kw": baseline.tolist()}


def lower_hull(kw: list[float], cost: list[float]) -> list[tuple[float, float]]:
    """The lower convex hull of the points (kw, cost), by increasing kW."""
    hull: list[tuple[float, float]] = []
    for point in sorted(zip(kw, cost, strict=True)):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (point[1] - y1) - (y2 - y1) * (point[0] - x1) <= 0:
                hull.pop()  # the middle point lies on or above the chord
            else:
                break
        hull.append(point)
    return hull


def allocate(curves: list[dict[str, Any]], request_kw: float) -> dict[str, float]:
    """The least-cost split of ``request_kw`` over the curves' convex hulls (park → kW)."""
    segments = []
    for curve in curves:
        hull = lower_hull(curve["kw"], curve["cost_yuan"])
        for (x1, y1), (x2, y2) in pairwise(hull):
            if x2 > x1:
                segments.append(((y2 - y1) / (x2 - x1), curve["park"], x2 - x1))
    share = {c["park"]: 0.0 for c in curves}
    left = request_kw
    for _slope, park, width in sorted(segments):
        if left <= 1e-9:
            break
        take = min(width, left)
        share[park] += take
        left -= take
    return share


def interpolated_cost_yuan(curve: dict[str, Any], kw: float) -> float:
    """The cost of ``kw`` on the curve's convex hull, yuan."""
    hull = lower_hull(curve["kw"], curve["cost_yuan"])
    xs, ys = zip(*hull, strict=True)
    return float(np.interp(kw, xs, ys))


def settle_share(park: Park, event: Event, share_kw: float, forecast: str,
                 seed: int) -> dict[str, Any]:
    """The park's share delivered in a rollout to the end of the event's day and settled."""
    from parkgrid.simulate.rollout import simulate

    if share_kw <= 1e-9:
        return {"park": park.name, "status": "not asked"}
    programme = event.programme.model_copy(update={"commitment": "firm"})
    share = Event(programme, event.start, event.end, share_kw)
    day = event.start.normalize()
    lookback = max(SETTLE_LOOKBACK_DAYS, 2 * programme.baseline_days + 4
                   if programme.baseline == "similar_days" else 0)
    start = max(day - pd.Timedelta(days=lookback),
                pd.Timestamp(f"{day.year}-01-01", tz=day.tz))
    result = simulate(park, start, day + pd.Timedelta(days=1), forecast, "milp", seed=seed,
                      dr_events=[share])
    (row,) = result.demand_response or [{}]
    return {"park": park.name, **row}


def run_tasks(fn: Any, args: list[tuple], client: Any | None) -> list[Any]:
    """``fn(*a)`` for each ``a`` in ``args``: on the Dask ``client`` or, without one, here."""
    if client is None:
        return [fn(*a) for a in args]
    return client.gather([client.submit(fn, *a, pure=False) for a in args])


def vpp(portfolio: Portfolio, parks: list[Park], events: list[Event], forecast: str = "noisy",
        seed: int = 0, workers: int | None = None, scheduler: str | None = None
        ) -> dict[str, Any]:
    """Split, deliver and settle each event across the portfolio (``vpp.json``'s content)."""
    dask = scheduler is not None or len(parks) >= portfolio.dask_from_parks
    if dask:
        from parkgrid.sweeps.run import dask_client  # (Dask loads only when it is used)
    with (dask_client(workers, scheduler) if dask else contextlib.nullcontext()) as client:
        out = [_event(portfolio, parks, event, forecast, seed, client) for event in events]
    return {"portfolio": portfolio.name, "programme": portfolio.programme.name,
            "forecast": forecast, "seed": seed, "dask": dask, "events": out}


def _event(portfolio: Portfolio, parks: list[Park], event: Event, forecast: str, seed: int,
           client: Any | None) -> dict[str, Any]:
    """One event split across the portfolio, delivered and settled (``client``: Dask's)."""
    curves = run_tasks(cost_curve, [(p, event, portfolio.levels) for p in parks], client)
    shares = allocate(curves, event.requested_kw)
    settled = run_tasks(settle_share, [(p, event, shares[p.name], forecast, seed)
                                       for p in parks], client)
    rows = []
    for curve, settlement in zip(curves, settled, strict=True):
        kw = shares[curve["park"]]
        rows.append({"park": curve["park"], "share_kw": kw,
                     "planned_cost_yuan": interpolated_cost_yuan(curve, kw),
                     "curve": {"kw": curve["kw"], "cost_yuan": curve["cost_yuan"]},
                     "settlement": settlement})
    allocated = sum(shares.values())
    return {
        "event": event.key, "date": str(event.start.date()),
        "start": f"{event.start:%H:%M}", "end": clock(event.end, event.start),
        "requested_kw": event.requested_kw, "allocated_kw": allocated,
        "unallocated_kw": max(0.0, event.requested_kw - allocated),
        "planned_cost_yuan": sum(r["planned_cost_yuan"] for r in rows),
        "settled_net_yuan": sum(float(r["settlement"].get("net_yuan", 0.0)) for r in rows),
        "parks": rows,
    }


def no_nan(value: Any) -> Any:
    """``value`` with NaN floats as None (JSON)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [no_nan(v) for v in value]
    return value
