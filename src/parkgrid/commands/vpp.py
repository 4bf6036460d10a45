"""`parkgrid vpp`: split an aggregator's request across a portfolio, settle each park, write
``vpp.json`` and print the split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from parkgrid.dr.vpp import load_portfolio, no_nan, read_requests, vpp
from parkgrid.errors import ArgumentError
from parkgrid.io.atomic import atomic_write
from parkgrid.simulate.forecast import FORECASTERS


def vpp_command(portfolio_path: Path | str, event_file: Path | str,
                out: Path | str | None = None, forecast: str = "noisy", seed: int = 0,
                workers: int | None = None, scheduler: str | None = None,
                console: Console | None = None) -> dict[str, Any]:
    """Load the portfolio and the events, split and settle each, write ``OUT/vpp.json``
    (default ``results/vpp/<portfolio stem>``) and print a table per event."""
    console = console or Console()
    if forecast not in FORECASTERS:
        raise ArgumentError("--forecast", forecast, f"one of {', '.join(FORECASTERS)}")
    if workers is not None and workers < 1:
        raise ArgumentError("--workers", workers, "at least 1")
    portfolio, parks = load_portfolio(portfolio_path)
    events = read_requests(Path(event_file), portfolio, parks[0])
    result = vpp(portfolio, parks, events, forecast, seed, workers, scheduler)
    out = Path(out) if out is not None else Path("results") / "vpp" / Path(portfolio_path).stem
    path = atomic_write(out / "vpp.json", lambda tmp: tmp.write_text(
        json.dumps(no_nan(result), indent=1), encoding="utf-8"))
    for event in result["events"]:
        table = Table(title=f"{event['event']}: {event['requested_kw']:,.0f} kW asked, "
                            f"{event['allocated_kw']:,.0f} kW allocated", title_justify="left")
        for head in ("park", "share kW", "planned cost yuan", "response kWh", "status",
                     "settled yuan"):
            table.add_column(head, justify="left" if head in ("park", "status") else "right")
        for row in event["parks"]:
            s = row["settlement"]
            table.add_row(row["park"], f"{row['share_kw']:,.1f}",
                          f"{row['planned_cost_yuan']:,.1f}",
                          f"{s['response_kwh']:,.1f}" if "response_kwh" in s else "–",
                          str(s.get("status", "–")), f"{float(s.get('net_yuan', 0.0)):,.1f}")
        console.print(table)
    console.print(f"wrote {path}")
    return result
