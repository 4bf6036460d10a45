"""One served park's planner in its own process (``parkgrid serve``).

Each park's model is built once in a process of its own and re-solved there per request,
one request after the other through the one model (one solver per model). Parks therefore
plan truly in parallel, on their own cores and interpreters: a slow solve of one park cannot
stall another's pandas and Pyomo work. HiGHS keeps the model and its last basis between
requests, so each solve starts from the previous request's solution (a hot start).

The service's process sends a validated :class:`parkgrid.serve.PlanRequest`; the planner
answers with the plan document as JSON text, or with why there is none, and only then
writes the plan to ``latest.json`` (atomically, in request order). Answering and writing run
in a second thread of the planner while its first thread solves the next request, so they
are off the solver's critical path. A planner that dies or does not answer in time is
killed and started again; the requests it held are answered with :class:`PlannerDown`
(HTTP 503), never left hanging.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import queue
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
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
from parkgrid.io.atomic import atomic_write
from parkgrid.io.export import plan_document
from parkgrid.io.state_file import resolve_state
from parkgrid.model.schedule import Schedule
from parkgrid.optimizer.planner import DayAheadOptimizer

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
    one turns each solved request into its answer, sends it and writes ``latest.json``, while
    the next request is solved (HiGHS releases the GIL)."""
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
    publisher = threading.Thread(target=_publish_all, args=(conn, solved, plan_dir / LATEST),
                                 name="publisher")
    conn.send(Answer("ready", None))
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


def _publish_all(conn: Connection, solved: queue.SimpleQueue, latest: Path) -> None:
    """Answer the solved requests in order, then keep each plan as the latest."""
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
        if reply.kind == "plan":
            _keep(latest, reply.body)


def _keep(path: Path, text: bytes) -> None:
    """Write the latest plan (atomic); a failure is reported on stderr, the answer stands."""
    try:
        atomic_write(path, lambda tmp: tmp.write_bytes(text))
    except OSError as exc:
        print(json.dumps({"time": pd.Timestamp.now(tz="UTC").isoformat(timespec="milliseconds"),
                          "event": "latest_plan_not_written", "path": str(path),
                          "error": str(exc)}), file=sys.stderr, flush=True)


@dataclass
class _Pending:
    number: int
    future: Future
    limit_s: float
    sent_at: float


class PlannerProcess:
    """The service's handle on one park's planner process.

    :meth:`submit` sends a request and returns a future of its answer; a reader thread
    resolves the futures in order. When the process dies, or the request it works on gets no
    answer within its time limit + ``grace_s``, the process is killed and started again and
    every request it held fails with :class:`PlannerDown`. ``latest`` is the latest plan
    answered (JSON bytes), set in order.
    """

    def __init__(self, name: str, park: Park, plan_dir: Path, plan: PlanFunction = plan_request,
                 grace_s: float = ANSWER_GRACE_S) -> None:
        self.name, self.park, self.plan_dir, self.plan = name, park, Path(plan_dir), plan
        self.grace_s = grace_s
        self.restarts = 0
        latest = self.plan_dir / LATEST
        self.latest: bytes | None = latest.read_bytes() if latest.is_file() else None
        self._context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        self._process: Any = None
        self._conn: Connection | None = None
        self._ready = False
        self._lock = threading.Lock()  # guards the process, the pipe's sending end, _pending
        self._pending: deque[_Pending] = deque()
        self._numbers = itertools.count()
        self._reader: threading.Thread | None = None
        self._closing = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

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
        """Wait until the model is built, then start answering; :class:`PlannerDown` if the
        process fails to start."""
        assert self._conn is not None and self._process is not None
        reply = None
        if wait([self._conn, self._process.sentinel], timeout_s) and self._conn.poll():
            with contextlib.suppress(EOFError, OSError):
                reply = self._conn.recv()
        if not isinstance(reply, Answer) or reply.kind != "ready":
            detail = (reply.body.strip().splitlines()[-1] if isinstance(reply, Answer)
                      else self._stopped(self._process))
            self._stop()
            raise PlannerDown(f"{self.name}: the planner failed to start ({detail})")
        self._ready = True
        if self._reader is None:
            self._reader = threading.Thread(target=self._read, daemon=True,
                                            name=f"parkgrid-planner-{self.name}-reader")
            self._reader.start()

    def submit(self, request: Any, time_limit_s: float) -> Future:
        """Send ``request``; the future's result is its :class:`Answer` (or it raises
        :class:`PlannerDown`). A process found stopped is started again first."""
        future: Future = Future()
        future.set_running_or_notify_cancel()  # a client that goes away cannot cancel it
        with self._lock:
            if self._process is None:  # it failed to start: try again
                self._restart("stopped before it was ready")
            assert self._conn is not None
            pending = _Pending(next(self._numbers), future, time_limit_s, time.monotonic())
            self._pending.append(pending)
            with contextlib.suppress(OSError):  # if it died, the reader fails the request
                self._conn.send((pending.number, request))
        return future

    def _read(self) -> None:
        """The reader thread: answers to futures in order; deaths and hangs to restarts."""
        while not self._closing:
            try:
                self._read_once()
            except Exception:  # a bug here must not leave requests waiting forever
                print(traceback.format_exc(), file=sys.stderr, flush=True)
                self._fail(self._process, "lost its answers (see the service log)", True)

    def _read_once(self) -> None:
        """Wait up to 0.5 s for an answer, a stopped process or a request out of time."""
        with self._lock:
            conn, process = self._conn, self._process
            oldest = self._pending[0] if self._pending else None
        if conn is None or process is None:
            time.sleep(0.1)
            return
        try:
            ready = wait([conn, process.sentinel], 0.5)
            message = conn.recv() if conn in ready and conn.poll() else None
        except (EOFError, OSError):
            message, ready = None, [process.sentinel]
        if self._closing:
            return
        if isinstance(message, Answer):  # a restarted process is ready (or failed)
            self._started(message.kind == "ready")
        elif message is not None:
            self._answer(*message)
        elif ready:  # stopped
            process.join(5.0)
            self._fail(process, self._stopped(process), restart=self._ready)
        elif oldest is not None and time.monotonic() - oldest.sent_at > (
                oldest.limit_s + self.grace_s + (0 if self._ready else START_TIMEOUT_S)):
            self._fail(process, f"did not answer within the time limit + {self.grace_s:g} s",
                       restart=True)

    def _started(self, ready: bool) -> None:
        with self._lock:
            self._ready = ready
            if ready and self._pending:  # the first request's clock starts now
                self._pending[0].sent_at = max(self._pending[0].sent_at, time.monotonic())

    def _answer(self, number: int, reply: Answer) -> None:
        with self._lock:
            pending = self._pending.popleft()
            if self._pending:  # the next request's clock starts now
                self._pending[0].sent_at = max(self._pending[0].sent_at, time.monotonic())
        assert pending.number == number, "answers come in request order"
        if reply.kind == "plan":
            self.latest = reply.body
        pending.future.set_result(reply)

    def _fail(self, process: Any, reason: str, restart: bool) -> None:
        """Fail every request ``process`` held; restart it (or leave that to the next
        request when it never became ready)."""
        with self._lock:
            if process is not self._process:  # already handled
                return
            failed = list(self._pending)
            self._pending.clear()
            if restart and not self._closing:
                self._restart(reason)
            else:
                self._stop()
        for pending in failed:
            pending.future.set_exception(PlannerDown(
                f"{self.name}: the planner {reason} while planning; it is being restarted, "
                "retry the request"))

    def _stopped(self, process: Any) -> str:
        """Why ``process`` gave no answer, as words."""
        code = process.exitcode if process is not None else None
        if code is None:
            return "did not start in time"
        return f"stopped (exit code {code})" if code >= 0 else \
            f"was killed ({signal.Signals(-code).name})"

    def _restart(self, reason: str) -> None:
        """Stop the process (if it runs) and start a new one (the lock is held)."""
        self._stop()
        self.restarts += 1
        print(json.dumps({"time": pd.Timestamp.now(tz="UTC").isoformat(timespec="milliseconds"),
                          "event": "planner_restarted", "park": self.name, "reason": reason}),
              file=sys.stderr, flush=True)
        self.start()

    def _stop(self) -> None:
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self, timeout_s: float = 30.0) -> None:
        """Ask the process to finish (its last plan is written first), then stop it."""
        self._closing = True
        with self._lock:
            if self._process is not None and self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
                self._process.join(timeout_s)
            self._stop()
        if self._reader is not None:
            self._reader.join()
