"""The service's side of its planner processes (``parkgrid serve``): a pool per park.

Each park gets a pool of planner processes (:mod:`parkgrid.serve_worker`), each with its own
model built once at start-up; a request is solved by one planner, one request at a time per
model (one solver per model), so a park plans as many requests in parallel as it has
planners. This module is what the HTTP process needs of them and imports no optimizer,
Pyomo or HiGHS: the planners import those in their own processes.

The latest plan of a park is the plan of the request that *arrived* last among those
answered with a plan (:meth:`PlannerPool.ticket` numbers requests on arrival): an earlier
request finishing after a later one does not replace the later one's plan. It is kept in
memory and written to ``latest.json`` (atomically) so that a restart serves it again.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from parkgrid.config import Park
from parkgrid.errors import ParkgridError
from parkgrid.io.atomic import atomic_write

DEFAULT_HORIZON_H = 24.0
PLAN_FUNCTION = "parkgrid.serve_worker:plan_request"
"""The planners' plan function, ``module:name`` (imported in the planner process only)."""
MAX_DEFAULT_PLANNERS = 4
"""Most planners per park by default (est.: each holds its own model and interpreter,
~100–150 MB unique memory measured with bench_serve.py; more than 4 busy planners per park
rarely fit the cores of an EMS host)."""
ANSWER_GRACE_S = 60.0
"""How long a planner may take beyond the request's solver time limit (building the model
of a new horizon length, the inputs and the document; est.: a 168 h model builds in < 2 s
on one core) before it is taken as hung, killed and restarted."""
START_TIMEOUT_S = 300.0
"""How long a planner process may take to start (imports and the 24 h model; est.: ~10 s on
a loaded 2-core machine)."""
LATEST = "latest.json"
"""The latest plan of a park, in its plan folder."""
PRELOAD = ["parkgrid.serve_worker"]
"""What the fork server imports once: every planner is forked from it with the optimizer
loaded, so planners start (and restart) without importing it again and share its pages."""


class PlannerDown(ParkgridError):
    """A park's planner process stopped or did not answer; it is being started again."""


@dataclass
class Answer:
    """A planner's answer: ``kind`` 'plan' (``body``: the document as JSON bytes), 'invalid'
    (pydantic-style errors), 'no_solution' (the reason), 'error' (a traceback) or 'ready'."""

    kind: str
    body: Any
    solver: dict[str, Any] = field(default_factory=dict)


def default_planners() -> int:
    """Planners per park by default: the cores this process may use, at most
    ``MAX_DEFAULT_PLANNERS``."""
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    return max(1, min(MAX_DEFAULT_PLANNERS, cores))


def plan_function(reference: str) -> Callable[..., Any]:
    """The function named by ``module:name``."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def event(**fields: Any) -> None:
    """One structured line on stderr (restarts, failed writes)."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    print(json.dumps({"time": now, **fields}), file=sys.stderr, flush=True)


def planner_context() -> multiprocessing.context.ForkServerContext:
    """How planner processes start: forked from a fork server (a clean single-threaded
    process, never the threaded service) that has imported ``PRELOAD``."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # before the server starts; later: no effect
    return context


def _run_planner(conn: Connection, park: Park, plan_dir: Path, plan: str) -> None:
    """The planner process's entry (imported here, in the child, so that the service's
    process never loads the optimizer)."""
    from parkgrid.serve_worker import serve_requests

    serve_requests(conn, park, plan_dir, plan_function(plan))


@dataclass
class _Pending:
    number: int
    future: Future
    limit_s: float
    sent_at: float


class PlannerProcess:
    """The service's handle on one planner process of a park.

    :meth:`submit` sends a request and returns a future of its answer; a reader thread
    resolves the futures in order. When the process dies, or the request it works on gets no
    answer within its time limit + ``grace_s``, the process is killed and started again and
    every request it held fails with :class:`PlannerDown`.
    """

    def __init__(self, name: str, park: Park, plan_dir: Path, plan: str = PLAN_FUNCTION,
                 grace_s: float = ANSWER_GRACE_S) -> None:
        self.name, self.park, self.plan_dir, self.plan = name, park, Path(plan_dir), plan
        self.grace_s = grace_s
        self.restarts = 0
        self._context = planner_context()
        self._process: Any = None
        self._conn: Connection | None = None
        self._ready = False
        self._lock = threading.Lock()  # guards the process, the pipe's sending end, _pending
        self._pending: deque[_Pending] = deque()
        self._numbers = itertools.count()
        self._reader: threading.Thread | None = None
        self._closing = False
        self.facts: dict[str, Any] = {}
        """What the planner said of its park when it was ready (``forecast_columns``)."""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def held(self) -> int:
        """Requests sent to the process and not yet answered."""
        return len(self._pending)

    def start(self) -> None:
        """Start the process (its model is built in the background: see :meth:`wait_ready`)."""
        ours, theirs = self._context.Pipe()
        self._process = self._context.Process(
            target=_run_planner, args=(theirs, self.park, self.plan_dir, self.plan),
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
        self._ready, self.facts = True, reply.body
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
        event(event="planner_restarted", park=self.name, reason=reason)
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
        """Ask the process to finish, then stop it."""
        self._closing = True
        with self._lock:
            if self._process is not None and self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
                self._process.join(timeout_s)
            self._stop()
        if self._reader is not None:
            self._reader.join()


class PlannerPool:
    """A park's planner processes and its latest plan.

    ``planners`` each solve one request at a time (the service picks a free one);
    ``latest`` is the plan (JSON bytes) of the latest-arriving request answered with a plan.
    """

    def __init__(self, name: str, park: Park, plan_dir: Path, size: int,
                 plan: str = PLAN_FUNCTION, grace_s: float = ANSWER_GRACE_S) -> None:
        if size < 1:
            raise ValueError(f"{name}: a pool needs at least one planner, got {size}")
        self.name, self.plan_dir = name, Path(plan_dir)
        self.planners = [PlannerProcess(name, park, plan_dir, plan, grace_s)
                         for _ in range(size)]
        latest = self.plan_dir / LATEST
        self.latest: bytes | None = latest.read_bytes() if latest.is_file() else None
        self._tickets = itertools.count(1)
        self._latest_ticket = self._written_ticket = 0
        self._lock = threading.Lock()  # guards the tickets and the latest plan in memory
        self._write_lock = threading.Lock()  # one write of latest.json at a time

    @property
    def restarts(self) -> int:
        """Restarts of the pool's planners after they died or hung."""
        return sum(p.restarts for p in self.planners)

    def start(self) -> None:
        for planner in self.planners:
            planner.start()

    def wait_ready(self) -> None:
        for planner in self.planners:
            planner.wait_ready()

    def close(self) -> None:
        """Stop the planners; the latest plan is on disk."""
        for planner in self.planners:
            planner.close()
        self.write_latest()

    def ticket(self) -> int:
        """The arrival number of a new request (1, 2, …)."""
        with self._lock:
            return next(self._tickets)

    def keep(self, ticket: int, plan: bytes) -> bool:
        """Make ``plan`` (of request ``ticket``) the latest unless a later-arriving request's
        plan already is; whether it became the latest."""
        with self._lock:
            if ticket < self._latest_ticket:
                return False
            self.latest, self._latest_ticket = plan, ticket
            return True

    def write_latest(self) -> None:
        """Write the latest plan to ``latest.json`` (atomic) unless it is there already; a
        failure is reported on stderr (the answer stands)."""
        with self._write_lock:
            with self._lock:
                plan, ticket = self.latest, self._latest_ticket
            if plan is None or ticket <= self._written_ticket:
                return
            path = self.plan_dir / LATEST
            try:
                atomic_write(path, lambda tmp: tmp.write_bytes(plan))
            except OSError as exc:
                event(event="latest_plan_not_written", park=self.name, path=str(path),
                      error=str(exc))
                return
            self._written_ticket = ticket
