"""Calibration: scale a resource so that a model meets a published or measured annual figure.

As HOMER scales a resource to an annual average, parkgrid scales the *resource*, never the
output: the wind speed a farm sees (before the power curve, so the curve's shape, rated
power and cut-out still act), the irradiance an array sees (before pvlib, so temperature,
inverter efficiency and clipping still act), or the weather's wind speed (to a mean speed at
a height). The scale found is reported (``Inputs.calibration``, `parkgrid profiles` and
`validate`).

An annual target is per 365-day year: over a built period it is pro-rated by the period's
hours (a leap year's target is 8,784 / 8,760 of it).

The root find: ``exact(s)`` (the full model) is expensive, ``surrogate(s)`` (the same model
without its slow refinement, e.g. windpowerlib's curve without density correction) is cheap
and nearly proportional to it. Each round solves ``ratio · surrogate(s) = target`` by Brent's
method (scipy ``brentq``) on the first bracket found by a geometric scan of scales (later
rounds: near the last round's scale), then runs
the exact model once at that scale and updates ``ratio`` = exact / surrogate there; it stops
when the exact energy is within :data:`TOLERANCE` (0.05 %) of the target (usually after two
exact runs). Energy need not rise with the scale (a wind farm's falls again once most winds pass
cut-out): the smallest scale that meets the target is taken. A target no scale reaches is a
ConfigError naming the field and the most that can be reached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd
from scipy import optimize

from parkgrid.config import PVArray, WindFarm
from parkgrid.errors import ConfigError
from parkgrid.inputs.weather import HOURS_PER_YEAR

MIN_SCALE, MAX_SCALE = 0.05, 20.0
SCAN_POINTS = 60         # geometric scan of [MIN_SCALE, MAX_SCALE] for the first bracket
LOCAL_SPAN = 1.05        # later rounds look for the root within ×/÷ this of the last one
TOLERANCE = 5e-4         # relative: the exact energy meets the target within 0.05 %
MAX_ROUNDS = 8
CACHE_SIZE = 64          # scales remembered per process (see resource_scale's key)
_FOUND: dict[str, float] = {}

T = TypeVar("T")


def period_target_kwh(annual_kwh: float, index: pd.DatetimeIndex, step_h: float) -> float:
    """An annual (365-day) target pro-rated to the hours of ``index``, kWh."""
    return annual_kwh * len(index) * step_h / HOURS_PER_YEAR  # a 365-day year


def fingerprint(*parts: object) -> str:
    """A key for :func:`resource_scale`'s cache: everything the scale depends on (arrays by
    their bytes, anything else by its repr)."""
    digest = hashlib.sha1()
    for part in parts:
        data = (np.ascontiguousarray(part).tobytes() if isinstance(part, np.ndarray)
                else repr(part).encode())
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def resource_scale(
    exact: Callable[[float], tuple[float, T]], surrogate: Callable[[float], float],
    target_kwh: float, source: str, field: str, ceiling: str = "", key: str | None = None,
) -> tuple[float, T]:
    """The smallest resource scale at which ``exact`` meets ``target_kwh``, and the exact
    model's output there. ``exact(s)`` returns (energy kWh, output); ``surrogate(s)`` an
    energy close to proportional to it. ``source``/``field`` name the target in errors;
    ``ceiling`` explains the most any scale could give (e.g. rated output × hours).

    With ``key`` (a :func:`fingerprint` of the model, its inputs and the target) a scale
    found before in this process is reused: the exact model then runs once (sweeps and
    repeated builds pay for the root find once)."""
    if key is not None and key in _FOUND:
        scale = _FOUND[key]
        return scale, exact(scale)[1]
    scale, output = _solve(exact, surrogate, target_kwh, source, field, ceiling)
    if key is not None:
        if len(_FOUND) >= CACHE_SIZE:
            _FOUND.pop(next(iter(_FOUND)))
        _FOUND[key] = scale
    return scale, output


def _solve(exact: Callable[[float], tuple[float, T]], surrogate: Callable[[float], float],
           target_kwh: float, source: str, field: str, ceiling: str) -> tuple[float, T]:
    """:func:`resource_scale` without the cache (see the module docstring)."""
    ratio = 1.0
    closest = (np.inf, 1.0)
    scale = None
    for _ in range(MAX_ROUNDS):
        def excess(s: float, ratio: float = ratio) -> float:
            return ratio * surrogate(s) - target_kwh

        near = None if scale is None else _local_root(excess, scale)
        scale = near or _first_root(excess, target_kwh, source, field, ceiling)
        energy_kwh, output = exact(scale)
        miss = abs(energy_kwh - target_kwh) / target_kwh
        if miss <= TOLERANCE:
            return scale, output
        closest = min(closest, (miss, scale))
        ratio = energy_kwh / surrogate(scale)
    raise ConfigError(source, [
        f"{field}: got {target_kwh:,.0f} kWh; the calibration came no closer than "
        f"{100 * closest[0]:.2f} % (scale {closest[1]:.4g}) after {MAX_ROUNDS} rounds"
    ])


def _local_root(excess: Callable[[float], float], scale: float) -> float | None:
    """A root within ±:data:`LOCAL_SPAN` of the last round's scale, if bracketed there with
    the excess rising (the smallest root is then the one near the last)."""
    low, high = scale / LOCAL_SPAN, scale * LOCAL_SPAN
    if not excess(low) < 0.0 <= excess(high):
        return None
    return float(optimize.brentq(excess, low, high, xtol=1e-9, rtol=1e-10))


def _first_root(excess: Callable[[float], float], target_kwh: float, source: str, field: str,
                ceiling: str) -> float:
    """The smallest scale in [MIN_SCALE, MAX_SCALE] where ``excess`` turns ≥ 0 (brentq)."""
    scales = np.geomspace(MIN_SCALE, MAX_SCALE, SCAN_POINTS)
    values = np.array([excess(s) for s in scales])
    reached = np.flatnonzero(values >= 0.0)
    if reached.size == 0:
        best = int(np.argmax(values))
        most = values[best] + target_kwh
        why = f" ({ceiling})" if ceiling else ""
        raise ConfigError(source, [
            f"{field}: got {target_kwh:,.0f} kWh for the period; expected at most "
            f"{most:,.0f} kWh, the most any resource scale from {MIN_SCALE:g} to "
            f"{MAX_SCALE:g} gives (at ×{scales[best]:.3g}){why}"
        ])
    i = int(reached[0])
    if i == 0:
        raise ConfigError(source, [
            f"{field}: got {target_kwh:,.0f} kWh for the period; expected more than "
            f"{values[0] + target_kwh:,.0f} kWh, what the resource scaled by {MIN_SCALE:g} "
            "already gives"
        ])
    if values[i] == 0.0:
        return float(scales[i])
    return float(optimize.brentq(excess, scales[i - 1], scales[i], xtol=1e-9, rtol=1e-10))


def calibration_key(asset: PVArray | WindFarm) -> str:
    """The key of an asset's scale in ``Inputs.calibration``."""
    if isinstance(asset, PVArray):
        return f"pv.{asset.name}.irradiance_scale"
    return f"wind.{asset.name}.wind_speed_scale"
