"""One planner process of a served park (``parkgrid serve``; the service's handle on it is
:class:`parkgrid.serve_pool.PlannerProcess`).

The planner builds the park's model once and re-solves it per request, one request after
the other (one solver per model); a park has a pool of such processes, so it plans as many
requests in parallel as it has planners, on their own cores and interpreters. HiGHS keeps
the model and its last basis between requests, so each solve starts from the previous
request's solution (a hot start).

The service's process sends a validated :class:`parkgrid.serve.PlanRequest`; the planner
answers with the plan document as JSON text, or with why there is none. Answering (the
document and its JSON) runs in a second thread while the first thread solves the next
request, off the solver's critical path. This module is only imported in the planner
processes (and by tests and benchmarks): it loads the optimizer.
"""

from __future__ import annotations

import json
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi.exceptions import RequestValidationError

from parkgrid.commands.schedule import horizon_steps, issue_plan, step_start
from parkgrid.config import Park
from parkgrid.errors import ArgumentError, ParkgridError, SolverError
from parkgrid.forecasting.inputs import (
    PRICE_COLUMNS,
    forecast_columns,
    forecast_inputs,
    horizon_index,
)
from parkgrid.inputs import build_inputs
from parkgrid.io.export import plan_document
from parkgrid.io.state_file import other_stores, resolve_state
from parkgrid.model.schedule import ParkState, Schedule
from parkgrid.optimizer.planner import DayAheadOptimizer
from parkgrid.serve_pool import DEFAULT_HORIZON_H, Answer

SOLVER_THREADS = 1
"""HiGHS threads per solve: each planner uses one core."""


@dataclass
class Planner:
    """What a plan function works with, inside the planner process."""

    park: Park
    optimizer: DayAheadOptimizer
    plan_dir: Path


def invalid(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    """A 422 answer naming ``loc`` in the request body, like pydantic's own."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", *loc),
                                    "msg": message, "input": None}])


def _begin(request: Any, park: Park) -> pd.Timestamp:
    if request.start is not None:
        try:
            return step_start(request.start.isoformat(), park, "start")
        except ArgumentError as exc:
            raise invalid(("start",), str(exc)) from None
    tz = park.site.timezone
    now = (pd.Timestamp(request.state.timestamp) if request.state.timestamp is not None
           else pd.Timestamp.now(tz="UTC"))
    now = now.tz_localize(tz) if now.tzinfo is None else now.tz_convert(tz)
    return now.ceil(f"{park.time_step_minutes}min")


def _forecast(request: Any, park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    required, n = forecast_columns(park), len(index)
    for name in request.forecast.keys() - {*required, *PRICE_COLUMNS}:
        raise invalid(("forecast", name), f"unknown column; expected {', '.join(required)} "
                      f"and optionally {', '.join(PRICE_COLUMNS)}")
    for name in required:
        if name not in request.forecast:
            raise invalid(("forecast", name), "missing: the park needs this forecast")
    for name, values in request.forecast.items():
        if len(values) < n:
            raise invalid(("forecast", name), f"got {len(values)} values, {n} needed "
                          f"({n} steps of {park.time_step_minutes} min from {index[0]})")
    return pd.DataFrame({k: v[:n] for k, v in request.forecast.items()}, index=index)


def plan_request(planner: Planner, request: Any) -> Schedule:
    """Solve ``request`` (a :class:`parkgrid.serve.PlanRequest`) on the park's optimizer;
    content that contradicts the park raises a 422 naming the field."""
    park = planner.park
    begin = _begin(request, park)
    try:
        n_steps = horizon_steps(request.horizon_hours, park, "horizon_hours")
    except ArgumentError as exc:
        raise invalid(("horizon_hours",), str(exc)) from None
    index = horizon_index(park, begin, n_steps)
    frame = _forecast(request, park, index)
    try:
        given = resolve_state(request.state, park, begin, "state")
    except ParkgridError as exc:
        raise invalid(("state",), str(exc)) from None
    try:
        inputs = forecast_inputs(park, frame, given.ev_sessions, None, "request")
    except ParkgridError as exc:
        raise invalid(("forecast",), str(exc)) from None
    options = {k: v for k, v in (("time_limit_s", request.time_limit_s),
                                 ("mip_gap", request.mip_gap)) if v is not None}
    prices = "request" if request.forecast.keys() & set(PRICE_COLUMNS) else "tariff calendar"
    return issue_plan(planner.optimizer, inputs, given.state, given.warnings, "request",
                      prices, **options)


PlanFunction = Callable[[Planner, Any], Schedule]


def solve(planner: Planner, request: Any, plan: PlanFunction) -> Schedule | Answer:
    """The schedule of one request, or the answer that says why there is none (every
    failure caught: the planner keeps serving)."""
    try:
        return plan(planner, request)
    except RequestValidationError as exc:
        return Answer("invalid", list(exc.errors()))
    except SolverError as exc:
        return Answer("no_solution", str(exc), {"solver_status": "no solution"})
    except Exception:  # a bug: its traceback goes to the service's log, not to the client
        return Answer("error", traceback.format_exc())


def publish(outcome: Schedule | Answer) -> Answer:
    """The answer of a solved request: the plan document as compact JSON text."""
    if isinstance(outcome, Answer):
        return outcome
    try:
        text = json.dumps(plan_document(outcome), allow_nan=False).encode()
    except Exception:
        return Answer("error", traceback.format_exc())
    meta = outcome.metadata
    return Answer("plan", text, {"solver_status": str(meta["termination"]),
                                 "solve_s": round(meta["solve_time_s"], 3),
                                 "time_limit_hit": bool(meta["time_limit_hit"])})


def serve_requests(conn: Connection, park: Park, plan_dir: Path, plan: PlanFunction) -> None:
    """The planner process: build the 24 h model, say so, then answer ``(id, request)``
    messages with ``(id, answer)`` in order until the service says stop (``None``) or goes
    away. This thread solves one request after the other (one solver per model); a second
    one turns each solved request into its answer and sends it while the next request is
    solved (HiGHS releases the GIL)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the service's to handle
    try:
        optimizer = DayAheadOptimizer(park, threads=SOLVER_THREADS)
        optimizer.model(horizon_steps(DEFAULT_HORIZON_H, park))
    except Exception:
        conn.send(Answer("error", traceback.format_exc()))
        return
    planner = Planner(park, optimizer, plan_dir)
    solved: queue.SimpleQueue[tuple[int, Schedule | Answer, float, float] | None] = \
        queue.SimpleQueue()
    publisher = threading.Thread(target=_publish_all, args=(conn, solved), name="publisher")
    conn.send(Answer("ready", {"forecast_columns": forecast_columns(park)}))
    publisher.start()
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:  # the service is gone
                return
            if message is None:
                return
            number, request = message
            started, cpu = time.perf_counter(), time.thread_time()
            outcome = solve(planner, request, plan)
            solved.put((number, outcome, started, time.thread_time() - cpu))
    finally:
        solved.put(None)
        publisher.join()


def _publish_all(conn: Connection, solved: queue.SimpleQueue) -> None:
    """Answer the solved requests in order."""
    while (item := solved.get()) is not None:
        number, outcome, started, solve_cpu_s = item
        cpu = time.thread_time()
        reply = publish(outcome)
        reply.solver |= {"planner_ms": round(1000 * (time.perf_counter() - started), 1),
                         "planner_cpu_ms": round(1000 * (solve_cpu_s + time.thread_time()
                                                         - cpu), 1)}
        try:
            conn.send((number, reply))
        except OSError:  # the service is gone
            return


def example_request(park: Park, start: str, horizon_hours: float = DEFAULT_HORIZON_H,
                    state: dict[str, Any] | None = None) -> dict[str, Any]:
    """A plan request on the park's own year as the forecast (perfect foresight) from
    ``start`` (naive = park local time), with ``state`` (default: the config's storage)."""
    begin = step_start(start, park, "start")
    n_steps = horizon_steps(horizon_hours, park)
    window = build_inputs(park, begin.year).window(begin, n_steps)
    if state is None:
        state = {"month_peak_kw": 0.0, "evs": [],
                 "batteries": {b.name: {"soc": b.soc_initial} for b in park.batteries},
                 "chillers": {name: {"on": on} for name, on in
                              ParkState.initial(park).chillers_on.items()}}
        if park.cooling is not None and park.cooling.tank is not None:
            state["tank"] = {"level": park.cooling.tank.level_initial}
        if stores := other_stores(park):
            state["stores"] = {name: {"level": kind.state.initial(asset)}
                               for name, (kind, asset) in stores.items()}
    columns = forecast_columns(park)
    return {"start": start, "horizon_hours": horizon_hours, "state": state,
            "forecast": {c: window.series[c].round(3).tolist() for c in columns}}
