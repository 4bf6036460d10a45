"""Store (or check) every KPI of ``kpis.json`` for the reference runs: the strategy rollout,
the baselines and the bound as ``parkgrid run`` computes them (noisy forecasts, MILP planner,
seed 0; the per-day time limit raised, see ``TIME_LIMIT_S``), for Dameisha's and Haiyan's
year and a 14-day period of each.

The stored files (``tests/data/reference_kpis/<case>.json``) prove that a refactor does not
change behaviour: ``tests/simulate/test_reference_kpis.py`` compares a fresh run with them,
every numeric KPI within 1e-6 relative (1e-9 absolute near zero). Timings (wall and solve
seconds) and MIP gaps are left out: they are not behaviour.

    .venv/bin/python benchmarks/reference_kpis.py [CASE ...] [--check]

CASE: dameisha_14d, haiyan_14d, dameisha_year, haiyan_year (default: all four).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from parkgrid.config import load_park
from parkgrid.inputs import build_inputs
from parkgrid.simulate.run import run

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "tests" / "data" / "reference_kpis"
CASES: dict[str, tuple[str, str | None, int | None]] = {
    "dameisha_14d": ("dameisha", "2025-07-07", 14),
    "haiyan_14d": ("haiyan", "2025-01-13", 14),
    "dameisha_year": ("dameisha", None, None),
    "haiyan_year": ("haiyan", None, None),
}
"""case -> (park file stem in models/, first day or None for 1 January, days or None: a year)"""
TIME_LIMIT_S = 600.0
"""The MILP's time limit per day: high enough that no day stops on it, so that the result
does not depend on how loaded the machine is (a plan cut short by the clock differs from run
to run); the parks' own 10 s limits bind on a busy machine."""
TIMING = ("wall_s", "solve_s", "build_s", "build_seconds", "rollout_wall_s", "solve_time_s",
          "gap")
"""Keys left out: times, and MIP gaps (a day stopped by its time limit reports the gap it had
reached when the clock ran out; its plan, and so every KPI, can still be the same)."""
REL, ABS = 1e-6, 1e-9


def without_timings(doc: Any) -> Any:
    """``doc`` without the keys that measure time (they vary run to run)."""
    if isinstance(doc, dict):
        return {k: without_timings(v) for k, v in doc.items()
                if not any(k == t or k.endswith(t) or k.startswith(t) for t in TIMING)}
    if isinstance(doc, list):
        return [without_timings(v) for v in doc]
    return doc


def reference_kpis(case: str) -> dict[str, Any]:
    """The KPI document of ``case`` as ``parkgrid run`` writes it, timings left out."""
    stem, start, days = CASES[case]
    # the parks as they were stored: Haiyan's heating plant came later (#11's proof)
    park = load_park(ROOT / "models" / f"{stem}.yaml").model_copy(update={"heating": None})
    inputs = build_inputs(park, int(start[:4]) if start else park.year)
    result = run(park, start, days, "noisy", "milp", 0, inputs=inputs,
                 planner_options={"time_limit_s": TIME_LIMIT_S})
    return without_timings(json.loads(json.dumps(result.kpis, default=str)))


def differences(got: Any, want: Any, path: str = "") -> list[str]:
    """Where ``got`` differs from ``want`` (numbers within REL relative / ABS absolute).
    A key of ``want`` missing from ``got`` is a difference; a key only in ``got`` is not (a
    new KPI, e.g. of a kind the park does not have, changes no stored figure)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{path}/{k}: missing" for k in want if k not in got]
        for k in want.keys() & got.keys():
            out += differences(got[k], want[k], f"{path}/{k}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{path}: {len(got)} items, stored {len(want)}"]
        return [d for i, (g, w) in enumerate(zip(got, want, strict=True))
                for d in differences(g, w, f"{path}[{i}]")]
    numbers = (int, float)
    if isinstance(want, numbers) and isinstance(got, numbers) and not isinstance(want, bool):
        if math.isnan(want) and math.isnan(got):
            return []
        if math.isclose(got, want, rel_tol=REL, abs_tol=ABS):
            return []
        return [f"{path}: {got!r}, stored {want!r}"]
    return [] if got == want else [f"{path}: {got!r}, stored {want!r}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", metavar="CASE",
                        help=f"of {', '.join(CASES)} (default: all four)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the stored files instead of writing them")
    args = parser.parse_args()
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:  # not choices=: argparse refuses an empty list against them
        parser.error(f"unknown case {', '.join(unknown)}; expected one of {', '.join(CASES)}")
    failed = False
    for case in args.cases or list(CASES):
        started = time.perf_counter()
        doc = reference_kpis(case)
        path = STORE / f"{case}.json"
        if args.check:
            diff = differences(doc, json.loads(path.read_text()))
            failed |= bool(diff)
            print(f"{case}: {'identical' if not diff else f'{len(diff)} differences'} "
                  f"({time.perf_counter() - started:.0f} s)")
            print("\n".join(f"  {d}" for d in diff[:40]))
        else:
            STORE.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
            print(f"{case}: stored {path.relative_to(ROOT)} "
                  f"({time.perf_counter() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
