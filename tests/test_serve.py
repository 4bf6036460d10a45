"""``parkgrid serve``: the service on 127.0.0.1 (uvicorn in a thread), called with httpx."""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from parkgrid.cli import app as cli_app
from parkgrid.config import load_park
from parkgrid.errors import ConfigError
from parkgrid.io.plan_document import PlanDocument
from parkgrid.serve import (
    ParkService,
    check_bind,
    close_parks,
    create_app,
    is_loopback,
    load_parks,
    read_token,
)
from parkgrid.serve_pool import PlannerPool
from parkgrid.serve_worker import example_request
from serve_support import (
    BUG,
    HANG,
    HELD,
    HELD_FILE,
    NO_SOLUTION,
    RELEASE_FILE,
    SCRIPTED,
    SLOW,
    SPANS,
)

MODELS = Path(__file__).resolve().parents[1] / "models"
SRC = Path(__file__).resolve().parents[1] / "src"
PARKS = [MODELS / "haiyan.yaml", MODELS / "dameisha.yaml"]
START = "2025-07-15T00:00"
HAIYAN = load_park(PARKS[0])


@contextmanager
def running(services: dict[str, ParkService], token: str | None = None) -> Iterator[str]:
    """The service on a free loopback port, in a thread; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(services, token), host="127.0.0.1",
                                           port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the service did not start")
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


@contextmanager
def parks(paths: list[Path], data_dir: Path, **options) -> Iterator[dict[str, ParkService]]:
    """The parks' services, their planner processes stopped at the end."""
    services = load_parks(paths, data_dir, **options)
    try:
        yield services
    finally:
        close_parks(services)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ParkService]]:
    with parks(PARKS, tmp_path_factory.mktemp("plans"), planners_per_park=1) as served:
        yield served


@pytest.fixture(scope="module")
def scripted_haiyan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ParkService]]:
    """Haiyan with two planners whose behaviour the request picks (tests/serve_support.py)."""
    with parks(PARKS[:1], tmp_path_factory.mktemp("scripted"), planners_per_park=2,
               plan=SCRIPTED, grace_s=3.0) as served:
        yield served


@pytest.fixture(scope="module")
def url(services: dict[str, ParkService]) -> Iterator[str]:
    with running(services) as base:
        yield base


@pytest.fixture(scope="module")
def bodies(services: dict[str, ParkService]) -> dict[str, dict]:
    return {name: example_request(s.park, START) for name, s in services.items()}


def test_plan_for_both_parks_is_the_plan_document(url, bodies, services) -> None:
    parks = {p["name"]: p for p in httpx.get(f"{url}/v1/parks").json()}
    assert set(parks) == {"haiyan", "dameisha"}
    for name, body in bodies.items():
        answer = httpx.post(f"{url}/v1/parks/{name}/plan", json=body, timeout=None)
        assert answer.status_code == 200, answer.text
        document = answer.json()
        PlanDocument.model_validate(document)
        meta = document["metadata"]
        assert meta["horizon_steps"] == 96 and meta["horizon_start"].startswith(START)
        assert meta["park_config_sha256"] == parks[name]["park_config_sha256"]
        assert meta["forecast_source"] == "request" and meta["warnings"] == []
        assert answer.headers["x-parkgrid-solver-status"] == meta["termination"]
        assert any(c.startswith("battery_setpoint_kw") for c in document["schedule"][0])
        latest = httpx.get(f"{url}/v1/parks/{name}/plan/latest")
        assert latest.json() == document
        csv = httpx.get(f"{url}/v1/parks/{name}/plan/latest", headers={"Accept": "text/csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.startswith("# parkgrid plan") and len(csv.text.splitlines()) == 98


def test_state_and_start_are_honoured(url, services) -> None:
    park = services["haiyan"].park
    battery = park.batteries[0]
    state = {"batteries": {battery.name: {"soc": battery.soc_max}}, "month_peak_kw": 0.0}
    body = example_request(park, "2025-07-15T13:00", horizon_hours=6, state=state)
    answer = httpx.post(f"{url}/v1/parks/haiyan/plan", json=body, timeout=None)
    assert answer.status_code == 200, answer.text
    meta = answer.json()["metadata"]
    assert meta["horizon_steps"] == 24 and meta["horizon_start"] == "2025-07-15T13:00:00+08:00"
    assert any("no tank" in w for w in meta["warnings"])  # missing parts fall back, said so
    first = answer.json()["schedule"][0]  # the given SOC is where the first step starts from
    step_kwh = (battery.charge_efficiency * first["battery_charge_kw"]
                - first["battery_discharge_kw"] / battery.discharge_efficiency) * 0.25
    keep = 1 - battery.self_discharge_pct_per_h / 100 * 0.25
    assert first["battery_soc_kwh"] == pytest.approx(
        battery.soc_max * battery.energy_kwh * keep + step_kwh, abs=1e-3)


def _soc_17(body: dict) -> None:
    body["state"]["batteries"] = {k: {"soc": 1.7} for k in body["state"]["batteries"]}


def _short(body: dict) -> None:
    body["forecast"]["load_kw_plant"] = body["forecast"]["load_kw_plant"][:50]


def _soc_text(body: dict) -> None:
    body["state"]["batteries"] = {k: {"soc": "high"} for k in body["state"]["batteries"]}


def _value_text(body: dict) -> None:
    body["forecast"]["pv_kw_roof_steel"][3] = "sunny"


@pytest.mark.parametrize(("spoil", "field"), [
    (lambda b: b.pop("forecast"), ["body", "forecast"]),
    (lambda b: b.pop("state"), ["body", "state"]),
    (_soc_17, ["body", "state", "batteries", "lfp", "soc"]),
    (_short, ["body", "forecast", "load_kw_plant"]),
    (lambda b: b["forecast"].pop("wind_kw_w465"), ["body", "forecast", "wind_kw_w465"]),
    (lambda b: b["forecast"].update(pv_kw_typo=[0.0] * 96), ["body", "forecast", "pv_kw_typo"]),
    (_soc_text, ["body", "state", "batteries", "lfp", "soc"]),
    (_value_text, ["body", "forecast", "pv_kw_roof_steel", 3]),
    (lambda b: b.update(horizon_hours="long"), ["body", "horizon_hours"]),
    (lambda b: b.update(horizon_hours=0.1), ["body", "horizon_hours"]),
    (lambda b: b.update(start="2025-07-15T00:07"), ["body", "start"]),
    (lambda b: b.update(start="tomorrow"), ["body", "start"]),
    (lambda b: b.update(extra=1), ["body", "extra"]),
    (lambda b: b["forecast"].update(load_kw_plant=[1.0] * 20_000),
     ["body", "forecast", "load_kw_plant"]),
])
def test_bad_bodies_answer_422_naming_the_field(url, bodies, spoil, field) -> None:
    body = json.loads(json.dumps(bodies["haiyan"]))
    spoil(body)
    answer = httpx.post(f"{url}/v1/parks/haiyan/plan", json=body, timeout=None)
    assert answer.status_code == 422, answer.text
    assert field in [e["loc"] for e in answer.json()["detail"]], answer.text
    assert "Traceback" not in answer.text


def test_contradictions_in_content_answer_422_with_the_reason(url, bodies) -> None:
    body = json.loads(json.dumps(bodies["haiyan"]))
    body["state"]["batteries"] = {"lfp": {"soc": 0.0}}  # below the battery's soc_min
    answer = httpx.post(f"{url}/v1/parks/haiyan/plan", json=body, timeout=None)
    assert answer.status_code == 422
    assert "batteries.lfp.soc" in answer.json()["detail"][0]["msg"]
    body = json.loads(json.dumps(bodies["haiyan"]))
    body["forecast"]["load_kw_plant"][5] = -1.0
    answer = httpx.post(f"{url}/v1/parks/haiyan/plan", json=body, timeout=None)
    assert answer.status_code == 422 and "load_kw_plant" in answer.json()["detail"][0]["msg"]
    body = "{not json"
    answer = httpx.post(f"{url}/v1/parks/haiyan/plan", content=body, timeout=None,
                        headers={"Content-Type": "application/json"})
    assert answer.status_code == 422


def test_unknown_park_and_bad_accept(url) -> None:
    assert httpx.get(f"{url}/v1/parks/nowhere/plan/latest").status_code == 404
    answer = httpx.get(f"{url}/v1/parks/haiyan/plan/latest", headers={"Accept": "image/png"})
    assert answer.status_code == 406
    assert httpx.get(f"{url}/openapi.json").json()["paths"].keys() >= {
        "/v1/parks/{name}/plan", "/v1/parks/{name}/plan/latest", "/v1/health", "/v1/parks"}


def test_no_solution_answers_409_and_a_bug_a_clean_500(scripted_haiyan, bodies,
                                                      caplog) -> None:
    with running(scripted_haiyan) as base:
        body = bodies["haiyan"] | {"mip_gap": NO_SOLUTION}
        answer = httpx.post(f"{base}/v1/parks/haiyan/plan", json=body, timeout=None)
        assert answer.status_code == 409 and "infeasible" in answer.json()["detail"]
        with caplog.at_level(logging.INFO, logger="parkgrid.serve"):
            answer = httpx.post(f"{base}/v1/parks/haiyan/plan", json=bodies["haiyan"]
                                | {"mip_gap": BUG}, timeout=None)
        assert answer.status_code == 500 and "Traceback" not in answer.text
        assert answer.json() == {"detail": "internal error; see the service log"}
        assert "RuntimeError: a bug" in caplog.text  # the traceback is logged
        lines = [json.loads(r.getMessage()) for r in caplog.records
                 if r.getMessage()[:1] == "{"]
        assert lines[-1]["park"] == "haiyan" and lines[-1]["status"] == 500
        # the planner survives both and plans the next request
        answer = httpx.post(f"{base}/v1/parks/haiyan/plan", json=bodies["haiyan"], timeout=None)
        assert answer.status_code == 200


def test_one_structured_log_line_per_request(url, bodies, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="parkgrid.serve"):
        httpx.post(f"{url}/v1/parks/dameisha/plan", json=bodies["dameisha"], timeout=None)
        httpx.get(f"{url}/v1/health")
    lines = [json.loads(r.getMessage()) for r in caplog.records]
    assert [line["path"] for line in lines] == ["/v1/parks/dameisha/plan", "/v1/health"]
    plan = lines[0]
    assert plan["park"] == "dameisha" and plan["status"] == 200 and plan["planner"] == 0
    assert plan["solver_status"] in ("optimal", "time_limit") and plan["duration_ms"] > 0


def test_requests_for_one_model_are_serialised(scripted_haiyan, bodies) -> None:
    service = scripted_haiyan["haiyan"]
    spans = service.plan_dir / SPANS
    spans.unlink(missing_ok=True)
    answers: list[int] = []
    with running(scripted_haiyan) as base, httpx.Client(timeout=None) as client:
        def post() -> None:
            body = bodies["haiyan"] | {"mip_gap": SLOW}
            answers.append(client.post(f"{base}/v1/parks/haiyan/plan", json=body).status_code)

        threads = [threading.Thread(target=post) for _ in range(5)]
        for thread in threads:
            thread.start()
        health = client.get(f"{base}/v1/health")  # the service answers while plans run
        for thread in threads:
            thread.join()
    assert health.status_code == 200 and health.json()["planners"] == {"haiyan": 2}
    assert answers == [200] * 5
    by_planner: dict[str, list[tuple[float, float]]] = {}
    for line in spans.read_text().splitlines():
        pid, start, end = line.split()
        by_planner.setdefault(pid, []).append((float(start), float(end)))
    assert sum(map(len, by_planner.values())) == 5
    for ran in by_planner.values():  # one request at a time in each planner's model
        ran.sort()
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(ran))


def _wait_for(path: Path, holds: Callable[[bytes], bool] = lambda _: True) -> None:
    """Until ``path`` exists (and its bytes satisfy ``holds``)."""
    for _ in range(6000):  # a guard against a broken test, not a time limit on the service
        if path.exists() and holds(path.read_bytes()):
            return
        time.sleep(0.01)
    raise AssertionError(f"{path} never appeared as expected")


def test_a_pool_plans_in_parallel_and_latest_is_the_last_request(scripted_haiyan,
                                                                   bodies) -> None:
    service = scripted_haiyan["haiyan"]
    held, release = service.plan_dir / HELD_FILE, service.plan_dir / RELEASE_FILE
    held.unlink(missing_ok=True)
    release.unlink(missing_ok=True)
    later = example_request(service.park, "2025-07-16T00:00")
    answers: list[httpx.Response] = []
    with running(scripted_haiyan) as base, httpx.Client(timeout=None) as client:
        url = f"{base}/v1/parks/haiyan/plan"
        first = threading.Thread(target=lambda: answers.append(
            client.post(url, json=bodies["haiyan"] | {"mip_gap": HELD})))
        first.start()
        _wait_for(held)  # the first request is in one planner and stays there ...
        second = client.post(url, json=later)  # ... while the second is planned by the other
        assert second.status_code == 200
        assert client.get(f"{url}/latest").json() == second.json()
        release.touch()
        first.join()
        assert answers[0].status_code == 200  # answered after the later request's plan ...
        assert answers[0].json()["metadata"]["horizon_start"].startswith(START)
        latest = client.get(f"{url}/latest").json()  # ... which stays the latest
        assert latest == second.json() != answers[0].json()
        # written by the answer's background task, never replaced by the earlier request's
        _wait_for(service.plan_dir / "latest.json", lambda b: json.loads(b) == second.json())
        assert json.loads((service.plan_dir / "latest.json").read_bytes()) == second.json()
        third = client.post(url, json=bodies["haiyan"])  # a later request replaces it
        assert client.get(f"{url}/latest").json() == third.json() != second.json()
    release.unlink()


def test_a_planner_of_a_pool_that_dies_or_hangs_is_restarted(scripted_haiyan, bodies,
                                                              caplog) -> None:
    service = scripted_haiyan["haiyan"]
    planner, other = service.pool.planners  # an idle pool sends a request to the first
    other_pid = other.pid
    with running(scripted_haiyan) as base, httpx.Client(timeout=None) as client:
        url = f"{base}/v1/parks/haiyan/plan"
        first = client.post(url, json=bodies["haiyan"])
        assert first.status_code == 200
        restarts = client.get(f"{base}/v1/health").json()["planner_restarts"]["haiyan"]
        answers: list[httpx.Response] = []
        slow = threading.Thread(target=lambda: answers.append(
            client.post(url, json=bodies["haiyan"] | {"mip_gap": SLOW})))
        slow.start()
        while planner.held == 0:
            time.sleep(0.01)
        os.kill(planner.pid, signal.SIGKILL)  # dies while it holds the request
        slow.join()
        answer = answers[0]
        assert answer.status_code == 503 and answer.headers["retry-after"]
        assert answer.json()["reason"] == "planner_restarted"
        assert "killed (SIGKILL)" in answer.json()["detail"]
        assert client.post(url, json=bodies["haiyan"]).status_code == 200  # the pool serves
        killed = planner.pid
        os.kill(killed, signal.SIGKILL)  # dies while idle: started again at once
        while planner.pid in (killed, None):
            time.sleep(0.01)
        last = client.post(url, json=bodies["haiyan"])
        assert last.status_code == 200
        with caplog.at_level(logging.INFO, logger="parkgrid.serve"):
            hung = client.post(url, json=bodies["haiyan"] | {"mip_gap": HANG,
                                                             "time_limit_s": 0.5})
        assert hung.status_code == 503 and "did not answer" in hung.json()["detail"]
        assert any("did not answer" in r.getMessage() for r in caplog.records)
        health = client.get(f"{base}/v1/health").json()
        assert health["planner_restarts"]["haiyan"] == restarts + 3
        assert other.pid == other_pid and other.restarts == 0  # the other planner untouched
        assert client.get(f"{base}/v1/parks/haiyan/plan/latest").json() == last.json()
        for _ in range(3):  # both planners serve again
            assert client.post(url, json=bodies["haiyan"]).status_code == 200


def test_restart_serves_the_previous_latest_plan(tmp_path, bodies) -> None:
    with parks(PARKS[:1], tmp_path) as served, running(served) as base:
        assert httpx.get(f"{base}/v1/parks/haiyan/plan/latest").status_code == 404
        posted = httpx.post(f"{base}/v1/parks/haiyan/plan", json=bodies["haiyan"],
                            timeout=None).json()
    with parks(PARKS[:1], tmp_path) as served, running(served) as base:
        assert httpx.get(f"{base}/v1/parks/haiyan/plan/latest").json() == posted
        csv = httpx.get(f"{base}/v1/parks/haiyan/plan/latest", headers={"Accept": "text/csv"})
        assert csv.status_code == 200 and csv.text.startswith("# parkgrid plan")


def test_token_required_when_given(services, bodies) -> None:
    with running(services, token="s3cret-token") as base:
        assert httpx.get(f"{base}/v1/health").status_code == 401
        wrong = httpx.get(f"{base}/v1/parks", headers={"Authorization": "Bearer s3cret"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        answer = httpx.post(f"{base}/v1/parks/haiyan/plan", json=bodies["haiyan"], timeout=None)
        assert answer.status_code == 401
        right = {"Authorization": "Bearer s3cret-token"}
        assert httpx.get(f"{base}/v1/parks", headers=right).status_code == 200


def test_binding_off_loopback_needs_a_token() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    assert not is_loopback("ems.example.org")
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "token")
    with pytest.raises(ConfigError, match="--token-file"):
        check_bind("0.0.0.0", None)
    result = CliRunner().invoke(cli_app, ["serve", str(PARKS[0]), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--token-file" in result.output
    result = CliRunner().invoke(cli_app, ["serve", str(PARKS[0]), "--planners-per-park", "0"])
    assert result.exit_code == 2 and "--planners-per-park" in result.output


def test_a_data_dir_the_service_cannot_make_exits_2(tmp_path) -> None:
    # made at start-up, before any planner: not a traceback on the first plan
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = CliRunner().invoke(cli_app, ["serve", str(PARKS[0]), "--port", "1",
                                          "--data-dir", str(blocker / "plans")])
    assert result.exit_code == 2, result.output
    assert "--data-dir" in result.output and "Not a directory" in result.output


def test_token_file_must_exist_be_non_empty_and_private(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        read_token(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    empty.chmod(0o600)
    with pytest.raises(ConfigError, match="empty"):
        read_token(empty)
    public = tmp_path / "public"
    public.write_text("abc\n")
    public.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_token(public)
    public.chmod(0o600)
    assert read_token(public) == "abc"
    result = CliRunner().invoke(cli_app, ["serve", str(PARKS[0]), "--host", "0.0.0.0",
                                          "--token-file", str(empty)])
    assert result.exit_code == 2 and "empty" in result.output


def test_time_limit_answers_the_best_plan_and_says_so(tmp_path) -> None:
    with parks(PARKS[1:], tmp_path) as served:  # a fresh model: no hot start
        body = example_request(served["dameisha"].park, "2025-07-03T00:00")
        body["time_limit_s"] = 0.01
        with running(served) as base:
            answer = httpx.post(f"{base}/v1/parks/dameisha/plan", json=body, timeout=None)
    if answer.status_code == 409:  # no plan at all within the limit: the reason
        assert "no schedule" in answer.json()["detail"]
        return
    assert answer.status_code == 200, answer.text
    meta = answer.json()["metadata"]
    assert answer.headers["x-parkgrid-time-limit-hit"] == str(meta["time_limit_hit"]).lower()
    assert meta["time_limit_hit"] == (meta["termination"] == "time_limit")
    if meta["time_limit_hit"]:
        assert meta["status"] == "feasible" and meta["gap"] is not None


def test_the_http_process_does_not_load_the_optimizer() -> None:
    code = ("import sys, parkgrid.serve; print(sorted(m for m in ('pyomo', 'highspy', "
            "'parkgrid.optimizer', 'parkgrid.serve_worker', 'pvlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=os.environ | {"PYTHONPATH": str(SRC)})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(1, 7)), writes=st.lists(st.booleans(), min_size=6,
                                                          max_size=6))
def test_the_latest_plan_is_the_last_arrived_whatever_the_finishing_order(
        tmp_path, order, writes) -> None:
    pool = PlannerPool("haiyan", HAIYAN, tmp_path, 1)  # its planner is never started
    (tmp_path / "latest.json").unlink(missing_ok=True)
    tickets = [pool.ticket() for _ in order]
    assert tickets == [1, 2, 3, 4, 5, 6]
    finished: list[int] = []
    for ticket, write in zip(order, writes, strict=True):  # plans finish in ``order``
        kept = pool.keep(ticket, f"plan {ticket}".encode())
        assert kept == (ticket > max(finished, default=0))
        finished.append(ticket)
        assert pool.latest == f"plan {max(finished)}".encode()
        if write:  # a background write may run after any answer, in any order
            pool.write_latest()
            assert (tmp_path / "latest.json").read_bytes() == pool.latest
    pool.write_latest()
    assert (tmp_path / "latest.json").read_bytes() == b"plan 6"
