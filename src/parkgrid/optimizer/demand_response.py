"""Demand-response block: the settlement rules of each event in the horizon priced into the
objective (:mod:`parkgrid.dr.settlement`), against the baseline known when planning.

Present only in models of horizons with events (the window of each event in the horizon is
part of the model's structure; baselines, offers and prices are data). Per event, over the
part ``W`` of its window inside the horizon (hours ``W_h``), with the offered energy
``E = R·W_h`` for the request R, sign s (+1 peak shaving, −1 valley filling), big-M ``M``:

- response ``resp = s·Σ_W (baseline − import + export)·Δt`` (kWh, free);
- accept ``y`` ∈ {0, 1} (fixed to 1 for a firm or accepted event, 0 once declined),
  in-band ``z`` ∈ {0, 1}, ``z ≤ y``;
- paid ``paid ≤ resp``, ``floor·E·z ≤ paid ≤ cap·E·z`` — paid only within the band;
- shortfall ``short ≥ floor·E·y − resp − M·(1 − y)``, ``short ≥ 0``;
- objective: ``− price·paid − capacity·R·z + penalty·short``.

At the optimum ``paid = min(resp, cap·E)`` when in band and the shortfall is ``max(0,
floor·E − resp)`` otherwise: exactly the settlement. How the response is delivered (battery
discharge, pre-cooling the tank, deferring flexible loads) follows from the rest of the
model. No term rewards raising consumption outside an event (a baseline is data, never a
function of the plan): a plan never inflates its own baseline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from parkgrid.config import Park
from parkgrid.dr.events import PlannedEvent
from parkgrid.optimizer.core import AssetBlock, Build
from parkgrid.optimizer.horizon import Horizon

Window = tuple[int, int, float]
"""(first step, one past the last step, sign) of an event's part in a horizon."""


def event_windows(events: tuple[PlannedEvent, ...], index: pd.DatetimeIndex
                  ) -> tuple[Window, ...]:
    """The model structure the events of a horizon need (empty parts left out)."""
    return tuple((first, last, e.event.sign) for e in in_horizon(events, index)
                 for first, last in [e.part(index)])


def in_horizon(events: tuple[PlannedEvent, ...], index: pd.DatetimeIndex
               ) -> list[PlannedEvent]:
    """The events with at least one step in ``index``."""
    return [e for e in events if e.part(index)[1] > e.part(index)[0]]


class DemandResponseBlock(AssetBlock):
    """The events of a horizon with the windows ``windows``."""

    def __init__(self, park: Park, windows: tuple[Window, ...]) -> None:
        self.park = park
        self.windows = windows
        self.limit_kw = max(park.grid.import_limit_kw, park.grid.export_limit_kw)

    def build(self, b: pyo.Block, ctx: Build) -> None:
        imp = ctx.outputs["grid.import"]
        exp = ctx.outputs.get("grid.export", [0.0] * ctx.n_steps)
        events = range(len(self.windows))
        b.resp = ctx.var(b, "resp", index=events, bounds=(None, None), domain=pyo.Reals)
        b.paid = ctx.var(b, "paid", index=events)
        b.short = ctx.var(b, "short", index=events)
        b.inband = ctx.var(b, "inband", index=events, bounds=(0, 1), domain=pyo.Binary)
        b.accept = ctx.var(b, "accept", index=events, bounds=(0, 1), domain=pyo.Binary)
        for e, (first, last, sign) in enumerate(self.windows):
            resp, paid, short, z, y = b.resp[e], b.paid[e], b.short[e], b.inband[e], b.accept[e]
            net = sum(imp[t] - exp[t] for t in range(first, last)) * ctx.step_h
            fix = ctx.rows(b, f"response_{e}", [resp + sign * net == 0])
            floor = ctx.rows(b, f"floor_{e}", [paid - 1.0 * z >= 0])
            cap = ctx.rows(b, f"cap_{e}", [paid - 1.0 * z <= 0])
            shortfall = ctx.rows(b, f"shortfall_{e}", [short + resp - 1.0 * y >= 0])
            ctx.rows(b, f"accept_{e}", [z - y <= 0])
            ctx.rows(b, f"paid_{e}", [paid - resp <= 0])
            ctx.slot(f"dr.{e}.baseline", "row_fix", fix)
            ctx.slot(f"dr.{e}.floor", "coef", [(floor[0], z)])
            ctx.slot(f"dr.{e}.cap", "coef", [(cap[0], z)])
            ctx.slot(f"dr.{e}.short_m", "coef", [(shortfall[0], y)])
            ctx.slot(f"dr.{e}.short_rhs", "row_lower", shortfall)
            ctx.slot(f"dr.{e}.accept_lo", "col_lower", [y])
            ctx.slot(f"dr.{e}.accept_hi", "col_upper", [y])
            ctx.slot(f"dr.{e}.price", "cost", [paid])
            ctx.slot(f"dr.{e}.capacity", "cost", [z])
            ctx.slot(f"dr.{e}.penalty", "cost", [short])
            for name, var in (("response", resp), ("paid", paid), ("short", short),
                              ("inband", z), ("accept", y)):
                ctx.output(f"dr.{e}.{name}", [var])

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        events = in_horizon(h.inputs.dr_events, h.index)
        data: dict[str, np.ndarray] = {}
        for e, (planned, (first, last, sign)) in enumerate(zip(events, self.windows,
                                                               strict=True)):
            prog = planned.event.programme
            hours = (last - first) * h.step_h
            base_kwh = float(planned.baseline_in(h.index, self.park.time_step_minutes).sum()
                             * h.step_h)
            energy = planned.event.requested_kw * hours
            big_m = abs(base_kwh) + self.limit_kw * hours + prog.band_floor * energy
            offered = planned.offered_kw
            if offered is None and prog.commitment == "firm":
                offered = planned.event.requested_kw
            lo, hi = (0.0, 1.0) if offered is None else ((1.0, 1.0) if offered > 0 else (0.0, 0.0))
            data |= {
                f"dr.{e}.baseline": np.array([sign * base_kwh]),
                f"dr.{e}.floor": np.array([-prog.band_floor * energy]),
                f"dr.{e}.cap": np.array([-prog.band_cap * energy]),
                f"dr.{e}.short_m": np.array([-(prog.band_floor * energy + big_m)]),
                f"dr.{e}.short_rhs": np.array([-big_m]),
                f"dr.{e}.accept_lo": np.array([lo]), f"dr.{e}.accept_hi": np.array([hi]),
                f"dr.{e}.price": np.array([-prog.price_yuan_per_kwh]),
                f"dr.{e}.capacity": np.array([-prog.capacity_yuan_per_kw
                                              * planned.event.requested_kw]),
                f"dr.{e}.penalty": np.array([prog.penalty_yuan_per_kwh]),
            }
        return data

    def summary(self, out: dict[str, np.ndarray], h: Horizon) -> list[dict[str, object]]:
        """Per event in the horizon: the plan's offer, response, payment and penalty."""
        rows = []
        for e, planned in enumerate(in_horizon(h.inputs.dr_events, h.index)):
            prog, event = planned.event.programme, planned.event
            accepted = bool(round(float(out[f"dr.{e}.accept"][0])))
            paid = float(out[f"dr.{e}.paid"][0])
            short = float(out[f"dr.{e}.short"][0])
            rows.append({
                "event": event.key, "programme": prog.name, "accepted": accepted,
                "offered_kw": event.requested_kw if accepted else 0.0,
                "response_kwh": float(out[f"dr.{e}.response"][0]),
                "paid_kwh": paid, "payment_yuan": prog.price_yuan_per_kwh * paid
                + (prog.capacity_yuan_per_kw * event.requested_kw
                   if round(float(out[f"dr.{e}.inband"][0])) else 0.0),
                "penalty_yuan": prog.penalty_yuan_per_kwh * short,
            })
        return rows
