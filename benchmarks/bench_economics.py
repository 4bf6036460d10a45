"""What the economics add to a run (target: ≤ 1 s): ``economics.evaluate`` on the run's KPIs
plus writing ``cashflow.csv``, and the report's cash-flow chart.

Usage: python benchmarks/bench_economics.py [PARK.yaml] [--repeat N]
The economics read the KPIs only, so their cost does not depend on the period: a 2-day run
(no bound) gives the KPIs. Prints the first (cold: imports, turbine) call and the median of
the repeats.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from parkgrid.config import load_park
from parkgrid.design import economics
from parkgrid.reporting import plots
from parkgrid.simulate import run

ROOT = Path(__file__).resolve().parents[1]


def once(park, doc, folder: Path) -> tuple[float, float]:
    started = time.perf_counter()
    section = economics.evaluate(park, doc["strategy"], doc["baselines"])
    economics.cashflow_frame(section).to_csv(folder / "cashflow.csv", index=False)
    middle = time.perf_counter()
    plots.cashflow(economics.cashflow_frame(section)).savefig(folder / "cf.png", dpi=80)
    return middle - started, time.perf_counter() - middle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("park", nargs="?", default=ROOT / "models" / "haiyan.yaml", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    park = load_park(args.park)
    doc = run(park, f"{park.year}-07-01", 2, perfect_foresight=False, parallel=False).kpis
    with tempfile.TemporaryDirectory() as tmp:
        cold = once(park, doc, Path(tmp))
        warm = [once(park, doc, Path(tmp)) for _ in range(args.repeat)]
    run_s = [w[0] for w in warm]
    chart_s = [w[1] for w in warm]
    print(f"park: {park.name}; first call: economics {cold[0]:.4f} s, chart {cold[1]:.3f} s")
    print("economics + cashflow.csv (s): " + ", ".join(f"{s:.4f}" for s in run_s))
    print(f"median economics + cashflow.csv: {statistics.median(run_s):.4f} s (target ≤ 1 s)")
    print(f"median cash-flow chart (report): {statistics.median(chart_s):.3f} s")


if __name__ == "__main__":
    main()
