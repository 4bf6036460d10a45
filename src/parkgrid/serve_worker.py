"""One served park's planner in its own process (``parkgrid serve``).

Each park's model is built once in a process of its own and re-solved there per request,
one request at a time (one solver per model). Parks therefore plan truly in parallel, on
their own cores and interpreters: a slow solve of one park cannot stall another's pandas
and Pyomo work. HiGHS keeps the model and its last basis between requests, so each solve
starts from the previous request's solution (a hot start).

The service's process sends a validated :class:`parkgrid.serve.PlanRequest`; the planner
answers with the plan document as JSON text, or with why there is none, and only then
writes the plan to ``latest.json`` (atomically, in request order, off the request's
critical path). A planner that dies or does not answer in time is killed and started again;
the request it held is answered with :class:`PlannerDown` (HTTP 503), never left hanging.
"""

from __future__ import annotations

import json
import multiprocessing
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi.exceptions import RequestValidationError

from parkgrid.atomic import atomic_write
from parkgrid.config import Park
from parkgrid.errors import ArgumentError, ParkgridError, SolverError
from parkgrid.export import plan_document
from parkgrid.forecast_inputs import (
    PRICE_COLUMNS,
    forecast_columns,
    forecast_inputs,
    horizon_index,
)
from parkgrid.optimizer.command import horizon_steps, issue_plan, step_start
from parkgrid.optimizer.planner import DayAheadOptimizer
from parkgrid.schedule import Schedule
from parkgrid.state_file import resolve_state

DEFAULT_HORIZON_H = 24.0
SOLVER_THREADS = 1
"""HiGHS threads per solve: each park's planner uses one core."""
ANSWER_GRACE_S = 60.0
"""How long a planner may take beyond the request's solver time limit (building the model
of a new horizon length, the inputs and the document; est.: a 168 h model builds in < 2 s
on one core) before it is taken as hung, killed and restarted."""
START_TIMEOUT_S = 300.0
"""How long a planner process may take to start (imports and the 24 h model; est.: ~10 s on
a loaded 2-core machine)."""
LATEST = "latest.json"
"""The latest plan of a park, in its plan folder."""


class PlannerDown(ParkgridError):
    """A park's planner process stopped or did not answer; it is being started again."""


@dataclass
class Planner:
    """What a plan function works with, inside the planner process."""

    park: Park
    optimizer: DayAheadOptimizer
    plan_dir: Path


@dataclass
class Answer:
    """A planner's answer: ``kind`` 'plan' (``body``: the document as JSON bytes), 'invalid'
    (pydantic-style errors), 'no_solution' (the reason) or 'error' (a traceback)."""

    kind: str
    body: Any
    solver: dict[str, Any] = field(default_factory=dict)


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


def answer(planner: Planner, request: Any, plan: PlanFunction) -> Answer:
    """The answer to one request (every failure caught: the planner keeps serving); its
    ``solver`` facts include the planner's wall and CPU time on it (for the log)."""
    started, cpu = time.perf_counter(), time.process_time()
    reply = _answer(planner, request, plan)
    reply.solver |= {"planner_ms": round(1000 * (time.perf_counter() - started), 1),
                     "planner_cpu_ms": round(1000 * (time.process_time() - cpu), 1)}
    return reply


def _answer(planner: Planner, request: Any, plan: PlanFunction) -> Answer:
    try:
        schedule = plan(planner, request)
        text = json.dumps(plan_document(schedule), allow_nan=False).encode()  # compact
    except RequestValidationError as exc:
        return Answer("invalid", list(exc.errors()))
    except SolverError as exc:
        return Answer("no_solution", str(exc), {"solver_status": "no solution"})
    except Exception:  # a bug: its traceback goes to the service's log, not to the client
        return Answer("error", traceback.format_exc())
    meta = schedule.metadata
    return Answer("plan", text, {"solver_status": str(meta["termination"]),
                                 "solve_s": round(meta["solve_time_s"], 3),
                                 "time_limit_hit": bool(meta["time_limit_hit"])})


def serve_requests(conn: Connection, park: Park, plan_dir: Path, plan: PlanFunction) -> None:
    """The planner process: build the 24 h model, say so, then answer requests until the
    service says stop (``None``) or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the service's to handle
    try:
        optimizer = DayAheadOptimizer(park, threads=SOLVER_THREADS)
        optimizer.model(horizon_steps(DEFAULT_HORIZON_H, park))
    except Exception:
        conn.send(Answer("error", traceback.format_exc()))
        return
    planner = Planner(park, optimizer, plan_dir)
    conn.send(Answer("ready", None))
    while True:
        try:
            request = conn.recv()
        except EOFError:  # the service is gone
            return
        if request is None:
            return
        reply = answer(planner, request, plan)
        conn.send(reply)
        if reply.kind == "plan":
            _keep(plan_dir / LATEST, reply.body)


def _keep(path: Path, text: bytes) -> None:
    """Write the latest plan (atomic); a failure is reported on stderr, the answer stands."""
    try:
        atomic_write(path, lambda tmp: tmp.write_bytes(text))
    except OSError as exc:
        print(json.dumps({"time": pd.Timestamp.now(tz="UTC").isoformat(timespec="milliseconds"),
                          "event": "latest_plan_not_written", "path": str(path),
                          "error": str(exc)}), file=sys.stderr, flush=True)


class PlannerProcess:
    """The service's handle on one park's planner process: start it, send it one request
    at a time (the caller serialises), restart it when it dies or hangs."""

    def __init__(self, name: str, park: Park, plan_dir: Path, plan: PlanFunction = plan_request,
                 grace_s: float = ANSWER_GRACE_S) -> None:
        self.name, self.park, self.plan_dir, self.plan = name, park, Path(plan_dir), plan
        self.grace_s = grace_s
        self.restarts = 0
        self._context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        self._process: Any = None
        self._conn: Connection | None = None
        self._ready = False
        self._lock = threading.Lock()  # one request on the pipe at a time, whoever calls

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        """Whether the process runs and its end of the pipe is open (nothing is pending on
        it between requests: anything readable is the end of a process that stopped)."""
        return (self._process is not None and self._process.is_alive()
                and self._conn is not None and not (self._ready and self._conn.poll()))

    def start(self) -> None:
        """Start the process (its model is built in the background: see :meth:`wait_ready`)."""
        ours, theirs = self._context.Pipe()
        self._process = self._context.Process(
            target=serve_requests, args=(theirs, self.park, self.plan_dir, self.plan),
            name=f"parkgrid-planner-{self.name}", daemon=True)
        self._process.start()
        theirs.close()  # only the child holds its end: its death reads as EOF here
        self._conn, self._ready = ours, False

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until the model is built; :class:`PlannerDown` if the process fails."""
        if self._ready:
            return
        reply = self._receive(timeout_s)
        if reply is None or reply.kind != "ready":
            detail = reply.body.strip().splitlines()[-1] if reply is not None else \
                self._stopped()
            self._stop()
            raise PlannerDown(f"{self.name}: the planner failed to start ({detail})")
        self._ready = True

    def call(self, request: Any, time_limit_s: float) -> Answer:
        """Send ``request`` and wait for the answer, at most ``time_limit_s`` + the grace.
        A process found stopped is started again first; one that stops or hangs while it
        holds the request is restarted and the request gets :class:`PlannerDown`."""
        with self._lock:
            return self._call(request, time_limit_s)

    def _call(self, request: Any, time_limit_s: float) -> Answer:
        if not self.alive:
            self._restart()
        self.wait_ready()
        assert self._conn is not None
        try:
            self._conn.send(request)
        except OSError:  # it died between the check and the send: the request was not taken
            self._restart()
            self.wait_ready()
            self._conn.send(request)
        reply = self._receive(time_limit_s + self.grace_s)
        if reply is not None:
            return reply
        reason = self._stopped()
        self._restart()
        raise PlannerDown(f"{self.name}: the planner {reason} while planning; it is being "
                          "restarted, retry the request")

    def _receive(self, timeout_s: float) -> Answer | None:
        """The next answer, or None if the process stopped or said nothing in time."""
        assert self._conn is not None and self._process is not None
        if wait([self._conn, self._process.sentinel], timeout_s):
            try:
                if self._conn.poll():
                    return self._conn.recv()
            except (EOFError, OSError):
                pass
            self._process.join(5.0)  # it stopped: reap it, for its exit code
        return None

    def _stopped(self) -> str:
        """Why the process gave no answer, as words."""
        code = self._process.exitcode if self._process is not None else None
        if code is None:
            return f"did not answer within the time limit + {self.grace_s:g} s"
        return f"stopped (exit code {code})" if code >= 0 else \
            f"was killed ({signal.Signals(-code).name})"

    def _restart(self) -> None:
        self._stop()
        self.restarts += 1
        self.start()

    def _stop(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
        if self._process is not None:
            self._process.join()
        if self._conn is not None:
            self._conn.close()

    def close(self, timeout_s: float = 30.0) -> None:
        """Ask the process to finish (its last plan is written first), then stop it."""
        if self._process is None:
            return
        try:
            assert self._conn is not None
            self._conn.send(None)
        except OSError:
            pass
        self._process.join(timeout_s)
        self._stop()
        self._process = None
