"""``parkgrid serve``: the plan over HTTP for a park's EMS (FastAPI + uvicorn).

Each park's optimizer is built once at start-up (its 24 h model compiled) and re-solved per
request; one ``asyncio.Lock`` per park serialises its requests (one solver per model) while
the solves run in the thread pool, so different parks plan in parallel and the event loop
stays responsive. A request carries the state (the state file's JSON,
:class:`parkgrid.io.state_file.StateDocument`) and the forecast series (the forecast file's
columns, :mod:`parkgrid.forecasting.inputs`) and is answered with the plan document
(:class:`parkgrid.io.plan_document.PlanDocument`, as ``parkgrid schedule --out plan.json``
writes it). The latest plan of each park is kept in ``DATA_DIR/<park>/latest.json`` (an
atomic write; the CSV form is made from it on request), so a restart serves it again.
docs/serve.md documents the API, its errors and how to run it.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import stat
import time
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat
from starlette.concurrency import run_in_threadpool

from parkgrid.commands.schedule import horizon_steps, issue_plan, step_start
from parkgrid.config import Park, load_park
from parkgrid.errors import ArgumentError, ConfigError, ParkgridError, SolverError
from parkgrid.forecasting.inputs import (
    PRICE_COLUMNS,
    forecast_columns,
    forecast_inputs,
    horizon_index,
)
from parkgrid.inputs import build_inputs
from parkgrid.io.atomic import atomic_write
from parkgrid.io.export import csv_text, plan_document
from parkgrid.io.plan_document import PlanDocument, config_hash
from parkgrid.io.state_file import StateDocument, resolve_state
from parkgrid.model.schedule import ParkState, Schedule
from parkgrid.optimizer.planner import DayAheadOptimizer

log = logging.getLogger("parkgrid.serve")

DEFAULT_HORIZON_H = 24.0
MAX_HORIZON_H = 168.0
"""Longest horizon a request may ask for (a week, est.: beyond it forecasts carry no skill)."""
MAX_VALUES = int(MAX_HORIZON_H * 60)
"""Most values a forecast column may carry (the longest horizon at 1-min steps)."""
SOLVER_THREADS = 1
"""HiGHS threads per solve: parks solve in parallel, one core each."""


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
    """One served park: its config, its optimizer (models kept) and its plan folder."""

    name: str
    park: Park
    optimizer: DayAheadOptimizer
    plan_dir: Path
    config_sha256: str

    @property
    def latest_json(self) -> Path:
        return self.plan_dir / "latest.json"



def load_parks(paths: list[Path], data_dir: Path) -> dict[str, ParkService]:
    """Each park config under its file stem, with its 24 h model built now."""
    services: dict[str, ParkService] = {}
    for path in paths:
        name = Path(path).stem
        if name in services:
            raise ConfigError(path, [f"a second park named {name!r} (parks are served under "
                                     "their file names)"])
        park = load_park(path)
        optimizer = DayAheadOptimizer(park, threads=SOLVER_THREADS)
        optimizer.model(horizon_steps(DEFAULT_HORIZON_H, park))
        services[name] = ParkService(name, park, optimizer, Path(data_dir) / name,
                                     config_hash(park))
    return services


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


def _invalid(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    """A 422 answer naming ``loc`` in the request body, like pydantic's own."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", *loc),
                                    "msg": message, "input": None}])


def _begin(request: PlanRequest, park: Park) -> pd.Timestamp:
    if request.start is not None:
        try:
            return step_start(request.start.isoformat(), park, "start")
        except ArgumentError as exc:
            raise _invalid(("start",), str(exc)) from None
    tz = park.site.timezone
    now = (pd.Timestamp(request.state.timestamp) if request.state.timestamp is not None
           else pd.Timestamp.now(tz="UTC"))
    now = now.tz_localize(tz) if now.tzinfo is None else now.tz_convert(tz)
    return now.ceil(f"{park.time_step_minutes}min")


def _forecast(request: PlanRequest, park: Park, index: pd.DatetimeIndex) -> pd.DataFrame:
    required, n = forecast_columns(park), len(index)
    for name in request.forecast.keys() - {*required, *PRICE_COLUMNS}:
        raise _invalid(("forecast", name), f"unknown column; expected {', '.join(required)} "
                       f"and optionally {', '.join(PRICE_COLUMNS)}")
    for name in required:
        if name not in request.forecast:
            raise _invalid(("forecast", name), "missing: the park needs this forecast")
    for name, values in request.forecast.items():
        if len(values) < n:
            raise _invalid(("forecast", name), f"got {len(values)} values, {n} needed "
                           f"({n} steps of {park.time_step_minutes} min from {index[0]})")
    return pd.DataFrame({k: v[:n] for k, v in request.forecast.items()}, index=index)


def plan_request(service: ParkService, request: PlanRequest) -> Schedule:
    """Solve ``request`` on the park's optimizer (bad content → 422 naming the field)."""
    park = service.park
    begin = _begin(request, park)
    try:
        n_steps = horizon_steps(request.horizon_hours, park, "horizon_hours")
    except ArgumentError as exc:
        raise _invalid(("horizon_hours",), str(exc)) from None
    index = horizon_index(park, begin, n_steps)
    frame = _forecast(request, park, index)
    try:
        given = resolve_state(request.state, park, begin, "state")
    except ParkgridError as exc:
        raise _invalid(("state",), str(exc)) from None
    try:
        inputs = forecast_inputs(park, frame, given.ev_sessions, None, "request")
    except ParkgridError as exc:
        raise _invalid(("forecast",), str(exc)) from None
    options = {k: v for k, v in (("time_limit_s", request.time_limit_s),
                                 ("mip_gap", request.mip_gap)) if v is not None}
    prices = "request" if request.forecast.keys() & set(PRICE_COLUMNS) else "tariff calendar"
    return issue_plan(service.optimizer, inputs, given.state, given.warnings, "request",
                      prices, **options)


def store_plan(service: ParkService, schedule: Schedule) -> str:
    """Keep ``schedule`` as the park's latest plan (JSON, atomic); its document as
    JSON text."""
    text = json.dumps(plan_document(schedule), allow_nan=False)  # compact: the C encoder
    atomic_write(service.latest_json, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return text


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
    __version__ = version("parkgrid")
    app = FastAPI(title="parkgrid EMS service", version=__version__,
                  description="Day-ahead and intraday plans of the served parks "
                              "(docs/serve.md).")
    guard = [Depends(token_guard(token))] if token is not None else []
    locks = {name: asyncio.Lock() for name in services}  # one solve at a time per model
    # the next solve of a park starts while the previous plan is written; the writes take
    # their lock before the solve lock is released (FIFO), so the latest solved is the latest
    write_locks = {name: asyncio.Lock() for name in services}

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
            "time": pd.Timestamp.now(tz="UTC").isoformat(timespec="milliseconds"),
            "method": request.method, "path": request.url.path,
            "park": request.scope.get("path_params", {}).get("name"),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1), **solver}))
        return response

    @app.get("/v1/health", dependencies=guard)
    async def health() -> dict[str, Any]:
        """Liveness: the version and the parks served."""
        return {"status": "ok", "parkgrid_version": __version__, "parks": list(services)}

    @app.get("/v1/parks", dependencies=guard)
    async def parks() -> list[dict[str, Any]]:
        """The served parks: name, title, config hash, version, step and forecast columns."""
        return [{"name": s.name, "title": s.park.name, "park_config_sha256": s.config_sha256,
                 "parkgrid_version": __version__, "timezone": s.park.site.timezone,
                 "step_minutes": s.park.time_step_minutes,
                 "forecast_columns": forecast_columns(s.park),
                 "latest_plan": s.latest_json.exists()} for s in services.values()]

    @app.post("/v1/parks/{name}/plan", dependencies=guard,
              responses={200: {"model": PlanDocument, "description": "the plan document"},
                         409: {"description": "no plan found (infeasible, or no solution "
                                              "within the time limit): the reason"},
                         422: {"description": "a field of the request is wrong: which, why"}})
    async def plan(name: str, body: PlanRequest, request: Request) -> JSONResponse:
        """Plan the horizon from the given state on the given forecasts; kept as latest."""
        service = service_of(name)
        async with locks[name]:
            try:
                schedule = await run_in_threadpool(plan_request, service, body)
            except SolverError as exc:
                request.state.solver = {"solver_status": "no solution"}
                return JSONResponse({"detail": str(exc), "reason": "no_solution"}, 409)
            await write_locks[name].acquire()  # queued before the next solve can finish
        try:
            text = await run_in_threadpool(store_plan, service, schedule)
        finally:
            write_locks[name].release()
        meta = schedule.metadata
        request.state.solver = {"solver_status": meta["termination"],
                                "solve_s": round(meta["solve_time_s"], 3)}
        headers = {"X-Parkgrid-Solver-Status": str(meta["termination"]),
                   "X-Parkgrid-Time-Limit-Hit": str(meta["time_limit_hit"]).lower()}
        return Response(text, media_type="application/json", headers=headers)

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
        if not service.latest_json.exists():
            raise HTTPException(404, f"no plan for {name!r} yet: POST one to "
                                     f"/v1/parks/{name}/plan")
        text = service.latest_json.read_bytes()
        if kind == "json":
            return Response(text, media_type="application/json")
        document = json.loads(text)
        csv = csv_text(document["metadata"], pd.DataFrame(document["schedule"]),
                       f"GET /v1/parks/{name}/plan/latest with Accept: application/json")
        return Response(csv, media_type="text/csv; charset=utf-8")

    return app


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
    columns = forecast_columns(park)
    return {"start": start, "horizon_hours": horizon_hours, "state": state,
            "forecast": {c: window.series[c].round(3).tolist() for c in columns}}


def serve(parks: list[Path], host: str, port: int, token_file: Path | None,
          data_dir: Path) -> None:
    """Check the bind, build the parks' models and serve until interrupted."""
    import uvicorn

    token = read_token(token_file) if token_file is not None else None
    check_bind(host, token)
    services = load_parks(parks, data_dir)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    uvicorn.run(create_app(services, token), host=host, port=port, access_log=False,
                log_level="info")
