"""A rollout's demand-response events: each is known from its notice time on, planned with
the baseline fixed when it is first seen, and settled on the actual ledger.

The session wraps the rollout's planner (``plan(inputs, state) -> Schedule``): a plan issued
at ``t`` (its horizon's first step) sees the events notified by ``t`` that are not over, with
their baselines; the first plan to see an event of an optional programme decides the offer,
which binds every later plan. A plan that starts inside an event's window plans the rest of
the window (its baseline, request and band pro rata). Day-ahead events are in the day-ahead
plan; an hours-ahead event notified during a day triggers a re-plan at its notice time
(:meth:`DRSession.replan_steps`, on top of ``--replan-every``). ``observe`` adds each day's
actual net import to the history the similar-days baselines are taken from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from parkgrid.config import Park
from parkgrid.dr.baseline import event_baseline_kw, net_import_kw
from parkgrid.dr.events import Event, PlannedEvent
from parkgrid.dr.settlement import settle, verified_response_kwh
from parkgrid.inputs import Inputs
from parkgrid.model.schedule import ParkState, Schedule

PlannerFn = Callable[[Inputs, ParkState], Schedule]


class DRSession:
    """The events of one rollout and what the plans made of them."""

    def __init__(self, park: Park, events: list[Event]) -> None:
        self.park = park
        self.events = events
        self.event_days = {e.start.normalize() for e in events}
        self._days: list[pd.Series] = []
        self._history: pd.Series | None = None
        self.baselines: dict[str, np.ndarray] = {}
        self.offers: dict[str, float] = {}
        self.planned: dict[str, dict[str, Any]] = {}
        self.skipped: dict[str, str] = {}

    @property
    def history_kw(self) -> pd.Series:
        """Actual net import of the days observed so far, kW."""
        if self._history is None:
            self._history = pd.concat(self._days) if self._days else pd.Series(dtype=float)
        return self._history

    def observe(self, ledger: pd.DataFrame) -> None:
        """Add a day's actual ledger to the baseline history."""
        self._days.append(net_import_kw(ledger))
        self._history = None

    def wrap(self, plan: PlannerFn) -> PlannerFn:
        """``plan`` with the events known at each horizon's start passed in its inputs."""

        def planner(inputs: Inputs, state: ParkState) -> Schedule:
            known = self.known(inputs, plan, state)
            if not known:
                return plan(inputs, state)
            schedule = plan(replace(inputs, dr_events=tuple(known)), state)
            for row in schedule.metadata.get("demand_response", []):
                self.offers.setdefault(row["event"], float(row["offered_kw"]))
                self.planned.setdefault(row["event"], row)
            return schedule

        planner.name = getattr(plan, "name", "custom")  # type: ignore[attr-defined]
        return planner

    def known(self, inputs: Inputs, plan: PlannerFn, state: ParkState) -> list[PlannedEvent]:
        """The events a plan of ``inputs`` knows of, with their baselines and offers."""
        index = inputs.index
        issue, end = index[0], index[-1] + pd.Timedelta(minutes=self.park.time_step_minutes)
        out = []
        for event in self.events:
            if event.notified > issue or event.end <= issue or event.start >= end:
                continue
            baseline = self.baseline(event, inputs, plan, state)
            if baseline is not None:
                out.append(PlannedEvent(event, baseline, self.offers.get(event.key)))
        return out

    def baseline(self, event: Event, inputs: Inputs, plan: PlannerFn,
                 state: ParkState) -> np.ndarray | None:
        """The event's baseline, fixed when first asked for (None: not available)."""
        if event.key in self.baselines:
            return self.baselines[event.key]
        declared = None
        if event.programme.baseline == "declared_plan":
            declared = self._declared_kw(event, inputs, plan, state)
        baseline = event_baseline_kw(event, self.history_kw, self.event_days,
                                     self.park.steps_per_day, declared)
        if baseline is None:
            self.skipped[event.key] = ("no similar day in the history before it"
                                       if declared is None and event.programme.baseline ==
                                       "similar_days" else "no declared plan covers it")
            return None
        self.baselines[event.key] = baseline
        return baseline

    def _declared_kw(self, event: Event, inputs: Inputs, plan: PlannerFn,
                     state: ParkState) -> np.ndarray | None:
        """The net import over the event's window of the plan without it (the plan the park
        declares when notified)."""
        steps = event.steps(inputs.index)
        if steps.size * self.park.step_h < event.hours - 1e-9:
            return None
        others = tuple(p for p in self.known_without(event, inputs, plan, state))
        schedule = plan(replace(inputs, dr_events=others), state)
        return net_import_kw(schedule.frame).to_numpy(float)[steps]

    def known_without(self, event: Event, inputs: Inputs, plan: PlannerFn,
                      state: ParkState) -> list[PlannedEvent]:
        """The events already planned with, other than ``event``."""
        return [PlannedEvent(e, self.baselines[e.key], self.offers.get(e.key))
                for e in self.events if e is not event and e.key in self.baselines
                and e.end > inputs.index[0] and e.start <= inputs.index[-1]]

    def replan_steps(self, day: pd.Timestamp) -> list[int]:
        """Steps of ``day`` at which an hours-ahead event is notified (a re-plan then)."""
        step = pd.Timedelta(minutes=self.park.time_step_minutes)
        out = set()
        for event in self.events:
            after = (event.notified - day) / step
            if event.programme.notice == "hours_ahead" and 0 < after < self.park.steps_per_day:
                out.add(math.ceil(after - 1e-9))
        return sorted(out)

    def settle(self, ledger: pd.DataFrame) -> list[dict[str, Any]]:
        """Every event within the ledger settled on its actual net import."""
        net = net_import_kw(ledger)
        dt = self.park.step_h
        rows = []
        for event in self.events:
            steps = event.steps(ledger.index)
            if steps.size * dt < event.hours - 1e-9:
                continue
            history = net[net.index < event.start.normalize()]
            baseline = self.baselines.get(event.key)
            if baseline is None:
                baseline = event_baseline_kw(event, history, self.event_days,
                                             self.park.steps_per_day)
            row: dict[str, Any] = {
                "event": event.key, "programme": event.programme.name,
                "kind": event.programme.kind, "date": str(event.start.date()),
                "start": f"{event.start:%H:%M}", "end": clock(event.end, event.start),
                "requested_kw": event.requested_kw,
                "planned_response_kwh": self.planned.get(event.key, {}).get("response_kwh"),
            }
            if baseline is None:
                rows.append(row | {"status": "no_baseline", "offered_kwh": 0.0,
                                   "reason": self.skipped.get(event.key, "no baseline")})
                continue
            actual_kwh = float(net.to_numpy(float)[steps].sum() * dt)
            baseline_kwh = float(np.sum(baseline) * dt)
            firm = event.programme.commitment == "firm"
            offered = self.offers.get(event.key, event.requested_kw if firm else 0.0)
            response = verified_response_kwh(event.sign, baseline_kwh, actual_kwh)
            rows.append(row | {"baseline_kwh": baseline_kwh, "actual_kwh": actual_kwh,
                               "offered_kwh": offered * event.hours}
                        | settle(event.programme, offered, event.hours, response).to_dict())
        return rows


def clock(end: pd.Timestamp, start: pd.Timestamp) -> str:
    """``end`` as the calendar writes it: "24:00" for the midnight that ends ``start``'s day."""
    return "24:00" if end == start.normalize() + pd.Timedelta(days=1) else f"{end:%H:%M}"
