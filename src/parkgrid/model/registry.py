"""The asset registry: every energy carrier, bus and kind of asset a park can have, as data.

The pipeline reads this module instead of naming kinds: the schedule's columns and their
order (:mod:`parkgrid.model.schedule`), the per-asset column suffixes, the state carried
between horizons and the ``--soc`` names, the controller's bookkeeping and its plant steps,
the balance checker's buses, the KPIs' energy sums, the plots' sources and sinks, and the
optimizer's blocks. Adding a kind is adding an :class:`AssetKind` to ``_KINDS`` (and a
:class:`Carrier` and its :class:`Bus` for a new energy carrier: its unserved column and
balance follow); docs/adding_an_asset.md is the recipe.

Signs: every power column is ≥ 0; its :class:`Column` ``role`` says which way it flows on
its bus — ``source`` (into the bus), ``sink`` (out of the bus), ``level`` (stored energy at
the end of the step, kWh or kWh_th), ``info`` (neither: curtailed power, prices, commitment).
The optimizer blocks and the controller steps are named as ``"module:attribute"`` and
imported when used, so that ``model/`` never imports ``optimizer/`` or ``simulate/``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from parkgrid.config import (
    Battery,
    Boiler,
    Charger,
    Chiller,
    Cooling,
    DCBus,
    DeferrableLoad,
    Grid,
    Heating,
    HeatPump,
    Load,
    Park,
    PVArray,
    Tank,
    WasteHeat,
    WindFarm,
)


@dataclass(frozen=True)
class Carrier:
    """An energy carrier with its own balance (electricity, cooling, heat)."""

    name: str
    power_unit: str  # unit of its power columns: 'kW' or 'kW_th'
    energy_unit: str  # 'kWh' or 'kWh_th'
    unserved: str  # the schedule column of demand its buses could not meet
    demand: str  # the schedule column of its inflexible demand (the inputs' series echoed)


@dataclass(frozen=True)
class Bus:
    """A node on which a carrier balances at every step (an electrical bus, a thermal loop)."""

    name: str
    carrier: str
    label: str
    present: Callable[[Park], bool]


CARRIERS: dict[str, Carrier] = {
    "electricity": Carrier("electricity", "kW", "kWh", "unserved_kw", "load_kw"),
    "cooling": Carrier("cooling", "kW_th", "kWh_th", "cooling_unserved_kw_th",
                       "cooling_load_kw_th"),
    "heat": Carrier("heat", "kW_th", "kWh_th", "heating_unserved_kw_th", "heating_load_kw_th"),
}
BUSES: dict[str, Bus] = {
    "ac": Bus("ac", "electricity", "AC bus", lambda park: True),
    "dc": Bus("dc", "electricity", "DC bus", lambda park: park.buses.dc is not None),
    "cooling": Bus("cooling", "cooling", "chilled-water loop",
                   lambda park: park.cooling is not None),
    "heat": Bus("heat", "heat", "hot-water loop", lambda park: park.heating is not None),
}


def buses(park: Park, carrier: str | None = None) -> list[str]:
    """The buses ``park`` has (of ``carrier`` only, when given), in registry order."""
    return [b.name for b in BUSES.values()
            if b.present(park) and (carrier is None or b.carrier == carrier)]


def carrier_bus(carrier: str) -> str:
    """The bus of a carrier with a single bus (every carrier but electricity)."""
    return next(b.name for b in BUSES.values() if b.carrier == carrier)


@dataclass(frozen=True)
class Column:
    """A schedule column of a kind: base name (per-asset columns add ``_<asset>`` when the
    park has several), unit, role on its carrier (see the module docstring), label, and
    the plot colour when the power plot stacks it (sources up, sinks down, by ``plot``
    rank); ``setpoint``: the controller follows it from a plan (a plan's set-points must be
    finite); ``kpi``: for an electricity sink that is part of the park's consumption, the
    key of its energy in the KPIs (:mod:`parkgrid.simulate.kpi`)."""

    base: str
    unit: str
    role: str
    label: str
    carrier: str = "electricity"
    plot: tuple[int, str] | None = None  # (stack rank, colour)
    schedule: bool = True  # False: kept per asset internally, not published
    setpoint: bool = False  # the controller reads it from a plan
    kpi: str | None = None  # KPI key of its energy over a period (a part of consumption)


@dataclass(frozen=True)
class State:
    """Stored energy a kind carries from one horizon to the next.

    ``key``: the :class:`~parkgrid.model.schedule.ParkState` entry (and ``state_out`` key in
    a plan's metadata); ``column``: the schedule column holding the level at the end of
    each step; ``capacity``: per asset, the level a ``--soc NAME=FRACTION`` fraction
    scales; ``window``: per asset, the fractions allowed; ``initial``: per asset, the
    fraction at the start of a run."""

    key: str
    column: str
    capacity: Callable[[Any], float]
    window: Callable[[Any], tuple[float, float]]
    initial: Callable[[Any], float]
    setpoint: str | None = None
    """The exported plan's signed set-point column of the store (+ discharge, − charge, at
    its bus; :mod:`parkgrid.io.plan_document`), from its kind's sink and source columns."""


@dataclass(frozen=True)
class Report:
    """What the report and ``parkgrid run``'s summary show of a kind (a plant's section).

    ``present``: the KPI key whose presence in the strategy's KPIs shows the section;
    ``rows``: (label, KPI key, unit, scale, format) beside the grid-only baseline;
    ``cards``: headline cards (kpis.json path, label, KPI key of the unit, note);
    ``summary``: ``"module:function"`` with ``function(kpis) -> str``, a line of the run
    summary; ``before``: what the park before its projects (the grid-only baseline) does
    instead of the plant, words of the report's baseline definition; ``totals``:
    ``"module:function"`` with ``function(inputs) -> {key: value}``, the plant's figures of
    the input totals (``validate``, ``profiles``), labelled by ``labels``; ``energies``:
    ``"module:function"`` with ``function(totals) -> {size label: text}``, its energy
    beside its size on the ``validate`` screen."""

    key: str
    title: str
    present: str
    rows: tuple[tuple[str, str, str, float, str], ...]
    note: str = ""
    cards: tuple[tuple[str, str, str, str], ...] = ()
    summary: str | None = None
    before: str = ""
    totals: str | None = None
    energies: str | None = None
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AssetKind:
    """One kind of asset: where the park lists it, its columns, state, costs, optimizer
    block and controller step.

    ``assets(park)``: the configured assets (objects of ``config``); ``name_of``: an asset's
    name (the per-asset column suffix); ``per_asset``: columns are kept per asset (else one
    column for the kind); ``role``: source, sink, store, plant or network (what the kind
    does, for the docs and the report); ``cost_lines``: the keys of
    :mod:`parkgrid.model.costs` it contributes; ``costs``: ``"module:function"`` with
    ``function(flows: costs.Flows, park) -> {key: value}``, lines the kind adds to the
    breakdown (keys ending in ``_fuel_yuan`` count in ``cost_yuan``; ``co2_t`` adds to the
    CO2); ``kpis``: ``"module:function"`` with ``function(ledger, park) -> {key: value}``,
    the kind's own KPIs (:func:`parkgrid.simulate.kpi.energy_kpis` adds them;
    keys ending ``_fuel_tce`` among them count in ``energy_use_tce``); ``block``:
    ``"module:factory"`` with ``factory(park) -> {name: AssetBlock}`` (the optimizer's
    blocks, built in ``block_rank`` order: the order of the model's columns, which can steer
    which of equally cheap plans the solver returns); ``step``: ``"module:Class"`` of its
    controller plant step (:class:`parkgrid.simulate.controller.PlantStep`), or None when
    another kind's step (or the electrical settlement) covers it.

    Hooks of a plant (usually on its demand kind; all ``"module:attribute"``): ``sizes``:
    ``function(park) -> {label: size}``, its lines of the system summary
    (:func:`parkgrid.model.system.asset_sizes`); ``checks``: ``function(checker)``, its
    limits in the balance checker (:mod:`parkgrid.model.balance`); ``rules``:
    ``function(park, inputs, state, frame) -> kW``, its set-points in the rule-based
    planner's ``frame`` and the electricity they draw at the AC bus
    (:mod:`parkgrid.simulate.rules`; the park before its projects is a plan whose metadata
    has ``before_projects``); ``co2``: ``function(park) -> {optimizer output: kg CO2 per
    unit}``, what it emits beside the grid (CO2 minimisation and the cost/CO2 front's cap);
    ``report``: a :class:`Report`; ``parameters``: ``function(park, weather, given) ->
    {column: values}``, per-step parameters of its physics beside the inputs' series (a
    heat pump's COP), from a forecast file's optional ``parameter_columns`` (``given``) or
    the config; ``ValueError`` on bad values."""

    name: str
    label: str
    config: type | None
    listed_at: str
    role: str
    columns: tuple[Column, ...]
    assets: Callable[[Park], list[Any]]
    per_asset: bool = True
    name_of: Callable[[Any], str] = lambda a: a.name
    state: State | None = None
    cost_lines: tuple[str, ...] = ()
    costs: str | None = None
    kpis: str | None = None
    block: str | None = None
    block_rank: int = 100
    step: str | None = None
    bus_of: Callable[[Any], str] = lambda a: getattr(a, "bus", "ac")
    sizes: str | None = None
    checks: str | None = None
    rules: str | None = None
    co2: str | None = None
    report: str | None = None
    parameters: str | None = None
    parameter_columns: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def names(self, park: Park) -> list[str]:
        """The names of the park's assets of this kind."""
        return [self.name_of(a) for a in self.assets(park)]

    def column(self, base: str) -> Column:
        return next(c for c in self.columns if c.base == base)


def _cooling(park: Park) -> list[Any]:
    return list(park.cooling.chillers) if park.cooling else []


def _tank(park: Park) -> list[Any]:
    return [park.cooling.tank] if park.cooling and park.cooling.tank else []


def _chargers(park: Park) -> list[Any]:
    return list(park.ev.chargers) if park.ev else []


def _heating(part: str) -> Callable[[Park], list[Any]]:
    """The park's heating ``part`` ('heat_pump', 'tank', …) as a list of none or one."""
    return lambda park: ([getattr(park.heating, part)] if park.heating is not None
                         and getattr(park.heating, part) is not None else [])


def _import(path: str) -> Any:
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


E, C, H = "electricity", "cooling", "heat"
TANK = "tank"
"""The name of the chilled-water tank (one per park): its ``--soc`` name and column suffix."""
HOT_TANK = "hot_tank"
"""The name of the hot-water tank (one per park): its ``--soc`` name."""

_KINDS: list[AssetKind] = [
    AssetKind("grid", "grid connection", Grid, "grid", "network", (
        Column("grid_import_kw", "kW", "source", "grid import", plot=(3, "#7f7f7f"), setpoint=True),
        Column("grid_export_kw", "kW", "sink", "grid export", plot=(15, "#bdbdbd"))),
        assets=lambda park: [park.grid], per_asset=False, name_of=lambda a: "grid",
        cost_lines=("energy_cost_yuan", "demand_charge_yuan", "export_revenue_yuan",
                    "carbon_cost_yuan"),
        block="parkgrid.optimizer.grid:blocks", block_rank=1),
    AssetKind("pv", "PV", PVArray, "pv", "source", (
        Column("pv_kw", "kW", "source", "PV", plot=(0, "#f5b800")),
        Column("pv_curtailed_kw", "kW", "info", "PV curtailed")),
        assets=lambda park: list(park.pv), block="parkgrid.optimizer.renewables:blocks",
        block_rank=0),
    AssetKind("wind", "wind", WindFarm, "wind", "source", (
        Column("wind_kw", "kW", "source", "wind", plot=(1, "#2b6cb0")),
        Column("wind_curtailed_kw", "kW", "info", "wind curtailed")),
        assets=lambda park: list(park.wind), bus_of=lambda a: "ac"),
    AssetKind("batteries", "battery", Battery, "batteries", "store", (
        Column("battery_charge_kw", "kW", "sink", "battery charge", plot=(14, "#cab2d6"),
               setpoint=True),
        Column("battery_discharge_kw", "kW", "source", "battery discharge",
               plot=(2, "#6a3d9a"), setpoint=True),
        Column("battery_soc_kwh", "kWh", "level", "battery energy")),
        assets=lambda park: list(park.batteries),
        state=State("battery_soc_kwh", "battery_soc_kwh", lambda b: b.energy_kwh,
                    lambda b: (b.soc_min, b.soc_max), lambda b: b.soc_initial,
                    setpoint="battery_setpoint_kw"),
        cost_lines=("degradation_yuan",), block="parkgrid.optimizer.battery:blocks",
        block_rank=0),  # before the grid, whose direction rows read the batteries' flows
    AssetKind("chillers", "chiller", Chiller, "cooling.chillers", "plant", (
        Column("chiller_electric_kw", "kW", "sink", "chillers", plot=(11, "#17becf"),
               kpi="chillers_kwh"),
        Column("chiller_cooling_kw_th", "kW_th", "source", "chiller cooling", C, setpoint=True),
        Column("chiller_on", "-", "info", "chiller on", C, schedule=False)),
        assets=_cooling, block="parkgrid.optimizer.cooling:blocks", block_rank=3,
        step="parkgrid.simulate.controller:CoolingStep"),
    AssetKind(TANK, "chilled-water tank", Tank, "cooling.tank", "store", (
        Column("tes_charge_kw_th", "kW_th", "sink", "tank charge", C, setpoint=True),
        Column("tes_discharge_kw_th", "kW_th", "source", "tank discharge", C, setpoint=True),
        Column("tes_level_kwh_th", "kWh_th", "level", "tank level", C)),
        assets=_tank, per_asset=False, name_of=lambda a: TANK, bus_of=lambda a: "cooling",
        state=State("tank_level_kwh_th", "tes_level_kwh_th", lambda t: t.capacity_kwh_th,
                    lambda t: (0.0, 1.0), lambda t: t.level_initial,
                    setpoint="tes_setpoint_kw_th")),
    AssetKind("chargers", "EV charger", Charger, "ev.chargers", "sink", (
        Column("ev_charge_kw", "kW", "sink", "EV charging", plot=(12, "#33a02c"),
               kpi="ev_kwh", setpoint=True),),
        assets=_chargers, cost_lines=("penalty_yuan",),
        block="parkgrid.optimizer.flexible:blocks", block_rank=5,
        step="parkgrid.simulate.controller:EVStep"),
    AssetKind("deferrable", "deferrable load", DeferrableLoad, "deferrable", "sink", (
        Column("deferrable_kw", "kW", "sink", "deferrable", plot=(13, "#b2df8a"),
               kpi="deferrable_kwh", setpoint=True),),
        assets=lambda park: list(park.deferrable), cost_lines=("penalty_yuan",),
        step="parkgrid.simulate.controller:DeferrableStep"),
    AssetKind("loads", "load", Load, "loads", "sink", (
        Column("load_kw", "kW", "sink", "loads", plot=(10, "#2c2c2c")),),
        assets=lambda park: list(park.loads), per_asset=False),
    AssetKind("cooling_load", "cooling demand", Cooling, "cooling.load", "sink", (
        Column("cooling_load_kw_th", "kW_th", "sink", "cooling demand", C),),
        assets=lambda park: [park.cooling] if park.cooling else [], per_asset=False,
        name_of=lambda a: "cooling", bus_of=lambda a: "cooling"),
    AssetKind("converter", "AC/DC converter", DCBus, "buses.dc", "network", (
        Column("converter_ac_to_dc_kw", "kW", "info", "AC→DC"),
        Column("converter_dc_to_ac_kw", "kW", "info", "DC→AC")),
        assets=lambda park: [park.buses.dc] if park.buses.dc else [], per_asset=False,
        name_of=lambda a: "converter", block="parkgrid.optimizer.dcbus:blocks", block_rank=4),
    # the heating plant (#11's proof): one block and one controller step for the plant
    # (on its demand kind), a kind per asset
    AssetKind("heat_pump", "ground-source heat pump", HeatPump, "heating.heat_pump", "plant", (
        Column("heat_pump_electric_kw", "kW", "sink", "heat pump", plot=(16, "#d62728"),
               kpi="heat_pump_kwh"),
        Column("heat_pump_heat_kw_th", "kW_th", "source", "heat pump heat", H, setpoint=True)),
        assets=_heating("heat_pump"), per_asset=False, name_of=lambda a: "heat_pump"),
    AssetKind("waste_heat", "waste-heat recovery", WasteHeat, "heating.waste_heat", "source", (
        Column("waste_heat_kw_th", "kW_th", "source", "waste heat", H),),
        assets=_heating("waste_heat"), per_asset=False, name_of=lambda a: "waste_heat",
        bus_of=lambda a: H),
    AssetKind("boiler", "diesel boiler", Boiler, "heating.boiler", "source", (
        Column("boiler_heat_kw_th", "kW_th", "source", "diesel boiler", H, setpoint=True),),
        assets=_heating("boiler"), per_asset=False, name_of=lambda a: "boiler",
        bus_of=lambda a: H, cost_lines=("boiler_fuel_yuan",),
        costs="parkgrid.model.heating:boiler_costs"),
    AssetKind(HOT_TANK, "hot-water tank", Tank, "heating.tank", "store", (
        Column("hot_tank_charge_kw_th", "kW_th", "sink", "hot-water tank charge", H,
               setpoint=True),
        Column("hot_tank_discharge_kw_th", "kW_th", "source", "hot-water tank discharge", H,
               setpoint=True),
        Column("hot_tank_level_kwh_th", "kWh_th", "level", "hot-water tank level", H)),
        assets=_heating("tank"), per_asset=False, name_of=lambda a: HOT_TANK,
        bus_of=lambda a: H,
        state=State("hot_tank_level_kwh_th", "hot_tank_level_kwh_th",
                    lambda t: t.capacity_kwh_th, lambda t: (0.0, 1.0),
                    lambda t: t.level_initial, setpoint="hot_tank_setpoint_kw_th")),
    AssetKind("heating", "heating demand", Heating, "heating.load", "sink", (
        Column("heating_load_kw_th", "kW_th", "sink", "heating demand", H),),
        assets=lambda park: [park.heating] if park.heating else [], per_asset=False,
        name_of=lambda a: "heating", bus_of=lambda a: H,
        kpis="parkgrid.model.heating:heating_kpis",
        block="parkgrid.optimizer.heating:blocks", block_rank=6,
        step="parkgrid.simulate.heating:HeatingStep",
        sizes="parkgrid.model.heating:sizes", checks="parkgrid.model.heating:check",
        rules="parkgrid.simulate.heating:rules", co2="parkgrid.optimizer.heating:co2",
        report="parkgrid.model.heating:REPORT",
        parameters="parkgrid.model.heating:parameters", parameter_columns=("heat_pump_cop",)),
]
"""The kinds in schedule-column order (the published column order follows this list)."""

PRICE_COLUMNS = ("price_import", "price_export", "tou_period", "co2_kg_per_kwh")
"""Columns of every schedule that are no asset's: the step's prices, TOU period and CO2
factor (inputs echoed)."""


def _unserved_kind(carrier: Carrier) -> AssetKind:
    """Unmet demand on a carrier's buses: per bus for electricity (``unserved_kw_<bus>`` on
    a park with a DC bus), one column for the others."""
    electric = carrier.name == E
    return AssetKind(
        "buses" if electric else f"{carrier.name}_unserved", f"unserved {carrier.name}",
        None, "buses", "network",
        (Column(carrier.unserved, carrier.power_unit, "source", f"unserved {carrier.name}"
                if not electric else "unserved load", carrier.name,
                plot=(4, "#e41a1c") if electric else None),),
        assets=lambda park: buses(park, carrier.name), per_asset=electric,
        name_of=lambda bus: bus, bus_of=lambda bus: bus)


KINDS: dict[str, AssetKind] = {k.name: k for k in
                               _KINDS + [_unserved_kind(c) for c in CARRIERS.values()]}


def kinds_with(attribute: str) -> list[AssetKind]:
    """The kinds whose ``attribute`` (e.g. 'state', 'step', 'block') is set, in order."""
    return [k for k in KINDS.values() if getattr(k, attribute) is not None]


def store_flows(kind: AssetKind) -> tuple[str, str]:
    """The (charge, discharge) column bases of a store kind: its sink and source columns."""
    return (next(c.base for c in kind.columns if c.role == "sink"),
            next(c.base for c in kind.columns if c.role == "source"))


def hooks(attribute: str) -> list[Any]:
    """The objects the kinds' ``attribute`` hook names ('sizes', 'checks', …), imported, in
    registry order."""
    return [load(getattr(k, attribute)) for k in kinds_with(attribute)]


def parameter_columns() -> tuple[str, ...]:
    """The optional columns of a forecast file that the kinds' ``parameters`` read."""
    return tuple(c for k in KINDS.values() for c in k.parameter_columns)


def stores(park: Park) -> dict[str, tuple[AssetKind, Any]]:
    """Every store asset of ``park`` by its ``--soc`` name: (kind, config object)."""
    return {k.name_of(a): (k, a) for k in kinds_with("state") for a in k.assets(park)}


def load(path: str) -> Any:
    """The object a kind's ``block`` or ``step`` names (imported on first use)."""
    return _import(path)


def schedule_columns() -> list[str]:
    """The published schedule's columns in order (per-asset ones under their base name)."""
    return [c.base for k in KINDS.values() for c in k.columns if c.schedule] + list(
        PRICE_COLUMNS)


def per_asset_columns() -> dict[str, tuple[str, ...]]:
    """Kind → the column bases kept per asset."""
    return {k.name: tuple(c.base for c in k.columns) for k in KINDS.values() if k.per_asset}


def kind_of_column() -> dict[str, AssetKind]:
    """Column base → its kind."""
    return {c.base: k for k in KINDS.values() for c in k.columns}


def columns_with(role: str | None = None, carrier: str | None = None,
                 setpoint: bool | None = None) -> list[Column]:
    """The columns of ``role`` on ``carrier`` (that are set-points), in registry order."""
    return [c for k in KINDS.values() for c in k.columns
            if (role is None or c.role == role) and (carrier is None or c.carrier == carrier)
            and (setpoint is None or c.setpoint == setpoint)]
