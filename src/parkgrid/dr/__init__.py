"""Demand response and virtual-power-plant events: programme rules, the event calendar,
baselines, settlement (pure functions), the rollout's event session and the VPP split.

- :mod:`.events` — the event calendar (CSV) and each event's window and notice time;
- :mod:`.baseline` — the baseline an event's response is verified against;
- :mod:`.settlement` — verified response, band, payment and penalty of one event;
- :mod:`.session` — a rollout's events: known at notice, planned, settled on actuals.

The optimizer's block is :mod:`parkgrid.optimizer.demand_response`.
"""
