"""Settlement of one event: verified response, effective band, payment and penalty.

With ``E = offered kW × window h`` (the offered energy): the verified response ``r`` (kWh) is
``baseline − actual`` net import over the window (peak shaving) or ``actual − baseline``
(valley filling). Within the band (``r ≥ band_floor·E``) the response is paid up to
``band_cap·E`` at ``price_yuan_per_kwh`` and the offer earns ``capacity_yuan_per_kw``; below
the floor nothing is paid and the shortfall ``band_floor·E − r`` (a negative response adds
to it) costs ``penalty_yuan_per_kwh``. An offer of 0 (an optional event declined) settles to
nothing. The optimizer's block (:mod:`parkgrid.optimizer.demand_response`) prices a plan by
exactly these rules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from parkgrid.config import DRProgramme


@dataclass(frozen=True)
class Settlement:
    """What one event earned (kWh, yuan)."""

    offered_kw: float
    response_kwh: float
    floor_kwh: float
    cap_kwh: float
    paid_kwh: float
    payment_yuan: float
    capacity_yuan: float
    shortfall_kwh: float
    penalty_yuan: float
    status: str  # 'in_band' | 'above_cap' | 'below_floor' | 'declined'

    @property
    def net_yuan(self) -> float:
        return self.payment_yuan + self.capacity_yuan - self.penalty_yuan

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self) | {"net_yuan": self.net_yuan}


def verified_response_kwh(sign: float, baseline_kwh: float, actual_kwh: float) -> float:
    """Baseline − actual (sign +1, peak shaving) or actual − baseline (sign −1)."""
    return sign * (baseline_kwh - actual_kwh)


def settle(programme: DRProgramme, offered_kw: float, hours: float,
           response_kwh: float) -> Settlement:
    """Settle a verified response of ``response_kwh`` to an offer of ``offered_kw`` over a
    window of ``hours``."""
    energy = offered_kw * hours
    floor, cap = programme.band_floor * energy, programme.band_cap * energy
    if offered_kw <= 0:
        return Settlement(0.0, response_kwh, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, "declined")
    if response_kwh >= floor - 1e-9:
        paid = min(response_kwh, cap)
        return Settlement(offered_kw, response_kwh, floor, cap, paid,
                          programme.price_yuan_per_kwh * paid,
                          programme.capacity_yuan_per_kw * offered_kw, 0.0, 0.0,
                          "above_cap" if response_kwh > cap + 1e-9 else "in_band")
    short = floor - response_kwh
    return Settlement(offered_kw, response_kwh, floor, cap, 0.0, 0.0, 0.0, short,
                      programme.penalty_yuan_per_kwh * short, "below_floor")
