"""A plan function for the service's planner process whose behaviour a test picks through the
request's ``mip_gap`` (the planner runs in another process: monkeypatching cannot reach it).
It must live in an importable module: the planner process imports it by name."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from parkgrid.errors import SolverError
from parkgrid.serve_worker import Planner, plan_request

NO_SOLUTION, BUG, SLOW, HANG, HELD = 0.9, 0.8, 0.7, 0.6, 0.5
"""``mip_gap`` values: 409, a bug (500), a plan after 1 s, no answer for 60 s, a plan once the
test releases it (see ``HELD_FILE``)."""
SCRIPTED = "serve_support:scripted"
"""The plan function, as the service's ``plan`` option names it."""
SPANS = "spans.txt"
"""Where SLOW requests note when they ran (in the park's plan folder): ``pid start end``."""
HELD_FILE, RELEASE_FILE = "held", "release"
"""A HELD request creates ``HELD_FILE`` in the park's plan folder, then waits (up to 60 s)
until the test creates ``RELEASE_FILE`` there."""


def scripted(planner: Planner, request: Any) -> Any:
    gap = request.mip_gap
    if gap == NO_SOLUTION:
        raise SolverError("haiyan: HiGHS found no schedule (status infeasible)")
    if gap == BUG:
        raise RuntimeError("a bug")
    if gap == HANG:
        time.sleep(60)
    if gap == HELD:
        Path(planner.plan_dir, HELD_FILE).touch()
        release = Path(planner.plan_dir, RELEASE_FILE)
        for _ in range(6000):
            if release.exists():
                break
            time.sleep(0.01)
    if gap == SLOW:
        started = time.time()
        time.sleep(1.0)
        with Path(planner.plan_dir, SPANS).open("a") as spans:
            spans.write(f"{os.getpid()} {started} {time.time()}\n")
    return plan_request(planner, request)
