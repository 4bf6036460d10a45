"""``parkgrid serve``: the plan over HTTP for a park's EMS (FastAPI + uvicorn).

Each park has a pool of planner processes (:mod:`parkgrid.serve_pool`,
:mod:`parkgrid.serve_worker`; ``--planners-per-park``), each with its own model built once
and re-solved per request, one request at a time per model (one solver per model); a
request goes to the least busy planner of its park, so a park plans as many requests in
parallel as it has planners and different parks plan in parallel, on their own cores, while
this process only speaks HTTP and validates requests (it never loads the optimizer). A request
carries the state (the state file's JSON, :class:`parkgrid.io.state_file.StateDocument`) and
the forecast series (the forecast file's columns, :mod:`parkgrid.forecasting.inputs`) and is
answered with the plan document (:class:`parkgrid.io.plan_document.PlanDocument`, as
``parkgrid schedule --out plan.json`` writes it). The latest plan of each park is kept in
memory and in ``DATA_DIR/<park>/latest.json`` (an atomic write after the answer is sent;
the CSV form is made from it on request), so a restart serves it again; it is the plan of
the request that arrived last, whichever planner finished first.
docs/serve.md documents the API, its errors and how to run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import stat
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from parkgrid.config import Park, load_park
from parkgrid.errors import ArgumentError, ConfigError
from parkgrid.io.export import csv_text
from parkgrid.io.plan_document import PlanDocument, config_hash, parkgrid_version
from parkgrid.io.state_file import StateDocument
from parkgrid.serve_pool import (
    ANSWER_GRACE_S,
    DEFAULT_HORIZON_H,
    PLAN_FUNCTION,
    PlannerDown,
    PlannerPool,
    default_planners,
)

log = logging.getLogger("parkgrid.serve")

MAX_HORIZON_H = 168.0
"""Longest horizon a request may ask for (a week, est.: beyond it forecasts carry no skill)."""
MAX_VALUES = int(MAX_HORIZON_H * 60)
"""Most values a forecast column may carry (the longest horizon at 1-min steps)."""
PIPELINE_DEPTH = 2
"""Requests inside a park's only planner at once: it solves one while it answers the one
before; the rest queue here. A park with several planners sends a request only to an idle
one (its planners already keep the cores busy, and a request queued inside a planner could
wait behind a slow solve while another planner is free)."""
RETRY_AFTER_S = 10
"""Retry-After of a 503 while a planner restarts (est.: its start-up on a loaded machine)."""


class PlanRequest(BaseModel):
    """A plan request: the park's state now and its forecasts for the horizon."""

    model_config = ConfigDict(extra="forbid")

    start: datetime | None = Field(
        None, description="first step of the plan, ISO 8601 (naive = park local time), on the "
        "park's step; default: the step boundary at or after state.timestamp (or now)")
    horizon_hours: float = Field(DEFAULT_HORIZON_H, gt=0, le=MAX_HORIZON_H,
                                 description="plan length, a multiple of the park's step")
    time_limit_s: float | None = Field(None, gt=0, le=3600,
                                       description="solver time limit (default: the config's)")
    mip_gap: float | None = Field(None, ge=0, le=1, description="relative MIP gap")
    state: StateDocument = Field(description="the state file's document (docs/state.schema"
                                 ".json); parts left out fall back to the config, with warnings")
    forecast: dict[str, Annotated[list[FiniteFloat], Field(max_length=MAX_VALUES)]] = Field(
        description="one list per forecast column (pv_kw_<array>, wind_kw_<farm>, "
        "load_kw_<load>, cooling_load_kw_th; optional price_import_yuan_per_kwh, "
        "price_export_yuan_per_kwh, co2_kg_per_kwh), one value per park step from start; "
        "at least the horizon's steps (more are ignored)")


@dataclass
class ParkService:
    """One served park: its config and its pool of planner processes."""

    name: str
    park: Park
    pool: PlannerPool
    config_sha256: str

    @property
    def plan_dir(self) -> Path:
        """Where the park's latest plan is kept."""
        return self.pool.plan_dir

    @property
    def latest(self) -> bytes | None:
        """The latest plan (JSON bytes, also in ``plan_dir/latest.json``)."""
        return self.pool.latest


class Dispatch:
    """Which planner of a park a request goes to: the least busy one, with at most
    ``PIPELINE_DEPTH`` requests in a park's only planner and one in each of several; when
    all are full, requests wait here in arrival order. One per app (asyncio objects belong
    to its event loop)."""

    def __init__(self, planners: int) -> None:
        self.held = [0] * planners
        self._room = asyncio.Semaphore(PIPELINE_DEPTH if planners == 1 else planners)

    @contextlib.asynccontextmanager
    async def planner(self) -> AsyncIterator[int]:
        """The index of the planner to send a request to, while it holds it."""
        async with self._room:  # with room left, the least busy planner has room
            index = self.held.index(min(self.held))
            self.held[index] += 1
            try:
                yield index
            finally:
                self.held[index] -= 1


def load_parks(paths: list[Path], data_dir: Path, planners_per_park: int | None = None,
               plan: str = PLAN_FUNCTION, grace_s: float = ANSWER_GRACE_S
               ) -> dict[str, ParkService]:
    """Each park config under its file stem, its planner processes started (all in parallel)
    and ready, its latest plan read back. ``planners_per_park`` (default
    :func:`default_planners`), ``plan`` and ``grace_s``: see :class:`PlannerPool`."""
    size = planners_per_park or default_planners()
    services: dict[str, ParkService] = {}
    for path in paths:
        name = Path(path).stem
        if name in services:
            raise ConfigError(path, [f"a second park named {name!r} (parks are served under "
                                     "their file names)"])
        park = load_park(path)
        plan_dir = Path(data_dir) / name
        try:  # made now: a planner may write beside the latest plan before the first answer
            plan_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArgumentError("--data-dir", str(data_dir),
                                f"a directory the service can write ({exc.strerror})") from exc
        pool = PlannerPool(name, park, plan_dir, size, plan, grace_s)
        services[name] = ParkService(name, park, pool, config_hash(park))
    try:
        for service in services.values():
            service.pool.start()
        for service in services.values():
            service.pool.wait_ready()
    except BaseException:
        close_parks(services)
        raise
    return services


def close_parks(services: dict[str, ParkService]) -> None:
    """Stop the parks' planner processes (the latest plans are on disk)."""
    for service in services.values():
        service.pool.close()


def read_token(path: Path | str) -> str:
    """The bearer token in the file at ``path``: it must exist, be non-empty and not be
    readable or writable by others (chmod 600)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(path, [f"token file: cannot read ({exc.strerror})"]) from None
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise ConfigError(path, [f"token file: mode {stat.filemode(mode)} lets every user read "
                                 "or change it; expected no access for others (chmod 600)"])
    if not token:
        raise ConfigError(path, ["token file: empty; expected the bearer token on one line"])
    return token


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token."""
    if token is None and not is_loopback(host):
        raise ConfigError("--host", [f"{host}: binding beyond loopback needs --token-file "
                                     "(a bearer token every client must send)"])


Credentials = Annotated[HTTPAuthorizationCredentials | None,
                        Depends(HTTPBearer(auto_error=False,
                                           description="the token of --token-file"))]
"""The ``Authorization: Bearer`` credentials of a request, if any."""


def token_guard(token: str) -> Any:
    """A FastAPI dependency: 401 unless ``Authorization: Bearer <token>`` (constant-time)."""
    expected = token.encode()

    def guard(credentials: Credentials) -> None:
        given = credentials.credentials.encode() if credentials is not None else b""
        if not hmac.compare_digest(given, expected):
            raise HTTPException(401, "missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    return guard


def _media_type(accept: str) -> str | None:
    """'json' or 'csv' by the Accept header (first acceptable wins), None if neither."""
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ("application/json", "*/*", "application/*", ""):
            return "json"
        if media in ("text/csv", "text/*"):
            return "csv"
    return None


def create_app(services: dict[str, ParkService], token: str | None = None) -> FastAPI:
    """The service's ASGI app for the parks ``services`` (bearer ``token`` if given)."""
    __version__ = parkgrid_version()
    app = FastAPI(title="parkgrid EMS service", version=__version__,
                  description="Day-ahead and intraday plans of the served parks "
                              "(docs/serve.md).")
    guard = [Depends(token_guard(token))] if token is not None else []
    dispatch = {name: Dispatch(len(s.pool.planners)) for name, s in services.items()}

    def service_of(name: str) -> ParkService:
        if name not in services:
            raise HTTPException(404, f"no park {name!r}; served: {', '.join(services)}")
        return services[name]

    @app.middleware("http")
    async def log_request(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:  # any bug: logged with its traceback, answered without it
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            response = JSONResponse({"detail": "internal error; see the service log"}, 500)
        solver = getattr(request.state, "solver", {})
        log.info(json.dumps({
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": request.method, "path": request.url.path,
            "park": request.scope.get("path_params", {}).get("name"),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1), **solver}))
        return response

    @app.get("/v1/health", dependencies=guard)
    async def health() -> dict[str, Any]:
        """Liveness: the version, the parks served, their planners and how often the
        planner processes were restarted (after one died or hung)."""
        return {"status": "ok", "parkgrid_version": __version__, "parks": list(services),
                "planners": {n: len(s.pool.planners) for n, s in services.items()},
                "planner_restarts": {n: s.pool.restarts for n, s in services.items()}}

    @app.get("/v1/parks", dependencies=guard)
    async def parks() -> list[dict[str, Any]]:
        """The served parks: name, title, config hash, version, step and forecast columns."""
        return [{"name": s.name, "title": s.park.name, "park_config_sha256": s.config_sha256,
                 "parkgrid_version": __version__, "timezone": s.park.site.timezone,
                 "step_minutes": s.park.time_step_minutes,
                 "forecast_columns": s.pool.planners[0].facts["forecast_columns"],
                 "latest_plan": s.latest is not None} for s in services.values()]

    @app.post("/v1/parks/{name}/plan", dependencies=guard,
              responses={200: {"model": PlanDocument, "description": "the plan document"},
                         409: {"description": "no plan found (infeasible, or no solution "
                                              "within the time limit): the reason"},
                         422: {"description": "a field of the request is wrong: which, why"}})
    async def plan(name: str, body: PlanRequest, request: Request) -> Response:
        """Plan the horizon from the given state on the given forecasts; kept as latest
        unless a request that arrived later has its plan already."""
        service = service_of(name)
        pool = service.pool
        ticket = pool.ticket()
        limit_s = body.time_limit_s or service.park.objective.time_limit_s
        async with dispatch[name].planner() as index:
            try:
                answer = await run_in_threadpool(pool.planners[index].submit, body, limit_s)
                reply = await asyncio.wrap_future(answer)
            except PlannerDown as exc:
                log.error("%s", exc)
                request.state.solver = {"solver_status": "planner restarted",
                                        "planner": index}
                return JSONResponse({"detail": str(exc), "reason": "planner_restarted"}, 503,
                                    headers={"Retry-After": str(RETRY_AFTER_S)})
        request.state.solver = reply.solver | {"planner": index}
        if reply.kind == "invalid":
            raise RequestValidationError(reply.body)
        if reply.kind == "no_solution":
            return JSONResponse({"detail": reply.body, "reason": "no_solution"}, 409)
        if reply.kind != "plan":
            raise RuntimeError(f"the planner of {name!r} failed:\n{reply.body}")
        headers = {"X-Parkgrid-Solver-Status": reply.solver["solver_status"],
                   "X-Parkgrid-Time-Limit-Hit": str(reply.solver["time_limit_hit"]).lower()}
        written = BackgroundTask(pool.write_latest) if pool.keep(ticket, reply.body) else None
        return Response(reply.body, media_type="application/json", headers=headers,
                        background=written)

    @app.get("/v1/parks/{name}/plan/latest", dependencies=guard,
             responses={200: {"model": PlanDocument,
                              "content": {"text/csv": {}},
                              "description": "the latest plan, JSON or CSV by Accept"},
                        404: {"description": "no plan yet"}, 406: {"description": "Accept"}})
    async def latest(name: str, request: Request) -> Response:
        """The latest plan of the park (kept across restarts), JSON or CSV by Accept."""
        service = service_of(name)
        kind = _media_type(request.headers.get("accept", "*/*"))
        if kind is None:
            raise HTTPException(406, "expected Accept: application/json or text/csv")
        text = service.latest
        if text is None:
            raise HTTPException(404, f"no plan for {name!r} yet: POST one to "
                                     f"/v1/parks/{name}/plan")
        if kind == "json":
            return Response(text, media_type="application/json")
        document = json.loads(text)
        csv = csv_text(document["metadata"], pd.DataFrame(document["schedule"]),
                       f"GET /v1/parks/{name}/plan/latest with Accept: application/json")
        return Response(csv, media_type="text/csv; charset=utf-8")

    return app


def serve(parks: list[Path], host: str, port: int, token_file: Path | None,
          data_dir: Path, planners_per_park: int | None = None) -> None:
    """Check the bind, start the parks' planners (models built) and serve until
    interrupted."""
    import uvicorn

    token = read_token(token_file) if token_file is not None else None
    check_bind(host, token)
    services = load_parks(parks, data_dir, planners_per_park)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        uvicorn.run(create_app(services, token), host=host, port=port, access_log=False,
                    log_level="info")
    finally:
        close_parks(services)
