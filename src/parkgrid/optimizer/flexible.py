"""Flexible loads block: EV charging sessions and deferrable loads.

Both are *channels* — one per EV pile, one per deferrable load — that serve *jobs* (a
session; a day's window) one after another. The structure per channel and step is fixed
(power ``x``, energy still owed ``r``, energy given up ``miss``) so the model is built once;
the jobs of a horizon enter only as bounds and right-hand sides:

    r[t] − r[t−1] + x[t]·Δt + miss[t] = energy of the jobs that start at t   (r[−1] = 0)
    0 ≤ x[t] ≤ power while a job is plugged in / its window is open (pro rata on a
        partly covered step), else 0
    r[t] = 0 at a job's last step, where ``miss`` may be > 0 (penalised)

EV energies and powers are at the bus (``Inputs.ev_sessions``: energy drawn from the bus,
charger efficiency included). Unmet EV energy costs ``ev_unmet_penalty_yuan_per_kwh``;
unmet deferrable energy is unserved load at ``unserved_penalty_yuan_per_kwh``.

A job that crosses the horizon's start or end owes, in this horizon, the share of its
energy equal to the share of its plugged-in time (window) inside the horizon, due by the
horizon's last step. So a session planned over two days is asked for its pro-rata part on
each; the simulator's controller, which sees the whole session, settles the rest. A
deferrable load's window is [window_start_h, window_end_h) local time on each day, skipped
on weekends and holidays (``is_holiday``) when ``workdays_only``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from parkgrid.config import Park
from parkgrid.errors import InputDataError
from parkgrid.inputs import utc_values
from parkgrid.optimizer.core import AssetBlock, Build
from parkgrid.optimizer.horizon import Horizon


@dataclass(frozen=True)
class Channel:
    kind: str  # 'ev' or 'deferrable'
    name: str  # charger or load name
    pile: int
    bus: str
    max_kw: float
    penalty: float

    @property
    def key(self) -> str:
        return f"{self.kind}.{self.name}.{self.pile}"


@dataclass
class Jobs:
    """One channel's jobs in a horizon, as per-step arrays."""

    power_kw: np.ndarray
    arrive_kwh: np.ndarray
    due: np.ndarray  # bool: a job's last step in the horizon
    unplaced_kwh: float = 0.0


def channels(park: Park) -> list[Channel]:
    """Every EV pile and every deferrable load, in a fixed order."""
    out = []
    if park.ev is not None:
        out += [Channel("ev", c.name, j, c.bus, c.power_kw / c.efficiency,
                        park.objective.ev_unmet_penalty_yuan_per_kwh)
                for c in park.ev.chargers for j in range(c.count)]
    out += [Channel("deferrable", d.name, 0, d.bus, d.max_kw,
                    park.objective.unserved_penalty_yuan_per_kwh) for d in park.deferrable]
    return out


def step_fractions(start_h: float, end_h: float, n: int, step_h: float) -> np.ndarray:
    """Share of each step covered by the interval [start_h, end_h) (hours from the start)."""
    edges = np.arange(n + 1) * step_h
    return np.clip(np.minimum(end_h, edges[1:]) - np.maximum(start_h, edges[:-1]), 0, None) / step_h


def plugged_kw(park: Park, h: Horizon) -> dict[str, np.ndarray]:
    """Per bus with EV piles or deferrable loads and per step of ``h``, the most they can
    draw, kW: per channel its jobs' power over the share of the step each is plugged in or
    its window open, at most the channel's — at least what :class:`FlexibleBlock` lets them
    draw (jobs that overlap on a pile are counted in full here)."""
    of = {ch.key: ch for ch in channels(park)}
    job_kw = {key: np.zeros(h.n) for key in of}
    for key, (start_h, end_h, _kwh, kw) in FlexibleBlock(park)._intervals(h) if of else ():
        if key in of and end_h > start_h:
            job_kw[key] += kw * step_fractions(start_h, end_h, h.n, h.step_h)
    total = {ch.bus: np.zeros(h.n) for ch in of.values()}
    for key, ch in of.items():
        total[ch.bus] += np.minimum(job_kw[key], ch.max_kw)  # as day_data's power
    return total


def blocks(park: Park) -> dict[str, AssetBlock]:
    """EV chargers and deferrable loads in one block (the registry's ``chargers`` and
    ``deferrable`` kinds)."""
    return {"flexible": FlexibleBlock(park)} if park.ev is not None or park.deferrable else {}


class FlexibleBlock(AssetBlock):
    def __init__(self, park: Park) -> None:
        self.park = park
        self.channels = channels(park)

    def build(self, b: pyo.Block, ctx: Build) -> None:
        dt = ctx.step_h
        for ch in self.channels:
            c = pyo.Block()
            b.add_component(ch.key.replace(".", "_"), c)
            c.x, c.owed, c.miss = (ctx.var(c, v) for v in ("x", "owed", "miss"))
            x, owed, miss = ([v[t] for t in ctx.steps] for v in (c.x, c.owed, c.miss))
            prev = [0.0, *owed[:-1]]
            rows = ctx.rows(c, "owed_update", [
                r - p + dt * xx + m == 0 for r, p, xx, m in zip(owed, prev, x, miss, strict=True)
            ])
            for name, kind, items in (("power", "col_upper", x), ("owed_max", "col_upper", owed),
                                      ("miss_max", "col_upper", miss), ("arrive", "row_fix", rows)):
                ctx.slot(f"{ch.key}.{name}", kind, items)
            ctx.inject(ch.bus, [-xx for xx in x])
            ctx.cost(ch.penalty * sum(miss))
            ctx.output(f"{ch.key}.x", x)
            ctx.output(f"{ch.key}.miss", miss)

    def day_data(self, h: Horizon) -> dict[str, np.ndarray]:
        jobs = {ch.key: Jobs(np.zeros(h.n), np.zeros(h.n), np.zeros(h.n, bool))
                for ch in self.channels}
        for key, (start_h, end_h, kwh, kw) in sorted(self._intervals(h), key=lambda j: j[1]):
            if key not in jobs:
                raise InputDataError("EV sessions", f"no pile {key!r} in the park's chargers")
            self._place(jobs[key], start_h, end_h, kwh, kw, h, key)
        self.unplaced = {k: j.unplaced_kwh for k, j in jobs.items()}  # of the last horizon
        data = {}
        for ch in self.channels:
            j = jobs[ch.key]
            total = float(j.arrive_kwh.sum())
            data[f"{ch.key}.power"] = np.minimum(j.power_kw, ch.max_kw)
            data[f"{ch.key}.owed_max"] = np.where(j.due, 0.0, total)
            data[f"{ch.key}.miss_max"] = np.where(j.due, total, 0.0)
            data[f"{ch.key}.arrive"] = j.arrive_kwh
        return data

    def _intervals(self, h: Horizon) -> list[tuple[str, tuple[float, float, float, float]]]:
        """(channel key, (start h, end h, energy kWh, max kW)) of every job touching ``h``."""
        start, ev, out = h.index[0], h.inputs.ev_sessions, []
        if len(ev):
            out = self._sessions(ev, start)
        if self.park.deferrable:
            out += self._windows(h)
        return out

    @staticmethod
    def _sessions(ev: pd.DataFrame, start: pd.Timestamp
                  ) -> list[tuple[str, tuple[float, float, float, float]]]:
        hour = np.timedelta64(1, "h")
        arrive_h = (utc_values(ev["arrival"]) - start.asm8) / hour
        depart_h = (utc_values(ev["departure"]) - start.asm8) / hour
        return [(f"ev.{charger}.{int(pile)}", (a, d, kwh, kw)) for charger, pile, a, d, kwh, kw
                in zip(ev["charger"].tolist(), ev["pile"].tolist(), arrive_h.tolist(),
                       depart_h.tolist(), ev["energy_kwh"].tolist(), ev["max_kw"].tolist(),
                       strict=True)]

    def _windows(self, h: Horizon) -> list[tuple[str, tuple[float, float, float, float]]]:
        start = h.index[0]
        midnights = h.index.normalize()
        firsts = np.flatnonzero(np.append(True, midnights[1:] != midnights[:-1]))
        holiday = h.series["is_holiday"].to_numpy(bool)[firsts]  # as of each day's first step
        out = []
        for day, is_holiday in zip(midnights[firsts], holiday.tolist(), strict=True):
            workday = day.weekday() < 5 and not is_holiday
            offset_h = (day - start) / pd.Timedelta(hours=1)
            for d in self.park.deferrable:
                if d.workdays_only and not workday:
                    continue
                out.append((f"deferrable.{d.name}.0", (offset_h + d.window_start_h,
                            offset_h + d.window_end_h, d.energy_kwh_per_day, d.max_kw)))
        return out

    @staticmethod
    def _place(jobs: Jobs, start_h: float, end_h: float, kwh: float, kw: float,
               h: Horizon, key: str) -> None:
        """Add one job; the pro-rata share of its energy is owed within the horizon."""
        span_h = h.n * h.step_h
        inside = min(end_h, span_h) - max(start_h, 0.0)
        if inside <= 0 or end_h <= start_h:
            return
        owed = kwh * inside / (end_h - start_h)
        frac = step_fractions(start_h, end_h, h.n, h.step_h)
        steps = np.flatnonzero(frac > 0)
        first, last = int(steps[0]), int(steps[-1])
        busy = np.flatnonzero((jobs.power_kw > 0) | jobs.due)
        if busy.size and busy[-1] >= first:  # shares a step with the previous job
            first = int(busy[-1]) + 1
            h.warnings.append(f"{key}: overlapping jobs, the later one starts a step later")
            if first > last:
                jobs.unplaced_kwh += owed
                return
            frac[: first] = 0.0
        jobs.power_kw += kw * frac
        jobs.arrive_kwh[first] += owed
        jobs.due[last] = True

    def columns(self, out: dict[str, np.ndarray], h: Horizon) -> dict[str, np.ndarray]:
        cols: dict[str, np.ndarray] = {}
        for ch in self.channels:
            base = "ev_charge_kw" if ch.kind == "ev" else "deferrable_kw"
            col = f"{base}_{ch.name}"
            cols[col] = cols.get(col, 0.0) + out[f"{ch.key}.x"]
        return cols

    def unmet_kwh(self, out: dict[str, np.ndarray]) -> dict[str, float]:
        """Energy owed in the horizon but not delivered, kWh, per kind ('ev', 'deferrable')."""
        totals = {"ev": 0.0, "deferrable": 0.0}
        for ch in self.channels:
            totals[ch.kind] += float(out[f"{ch.key}.miss"].sum()) + self.unplaced.get(ch.key, 0.0)
        return totals
