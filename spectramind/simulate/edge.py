"""Edge-case planets: no transit in the visit, only ingress or egress, a grazing orbit.

The real test set holds such planets, and a confident depth from a visit without a transit
costs more than a thousand good planets earn. Switched on (SimulationConfig.edge_*), a share
of the planets is drawn as each kind:

- no_transit: every visit's mid-time lies 4..6 h beyond either end of the visit (further
  when the transit is long), so no contact T1..T4 falls inside it;
- partial_transit: every visit's mid-time lies just outside the visit, so it holds only the
  ingress (T1, not T4) or only the egress (T4, not T1), with 20..45 % of the transit's
  duration inside;
- grazing: the impact parameter b lies in (1 - 0.9 k, 1 + 0.5 k) with k = Rp/Rs of the white
  light, so the planet never lies wholly on the disc (a shallower, V-shaped transit).

The depth labels stay (Rp/Rs)^2: only the light curve changes. The kind and its draws come
from their own stream (config.STREAM_EDGE), so no other draw moves and all shares 0 is the
default simulator.
"""

from __future__ import annotations

import numpy as np

from spectramind.simulate.config import EDGE_KINDS
from spectramind.simulate.constants import VISIT_LENGTH_S

NORMAL = "normal"
VISIT_LENGTH_H = VISIT_LENGTH_S / 3600.0
# no_transit: distance (h) of the mid-time beyond the visit's end, and the least gap between
# the nearest contact and the visit.
NO_TRANSIT_OFFSET_H = (4.0, 6.0)
NO_TRANSIT_CLEARANCE_H = 0.5
# partial_transit: share of the transit's duration T14 inside the visit.
PARTIAL_INSIDE_FRACTION = (0.2, 0.45)
# grazing: b - 1 in units of k (above -1: never wholly on the disc; below 1: visible).
GRAZING_LIMB_OFFSET = (-0.9, 0.5)


def draw_kind(rng: np.random.Generator, fractions: dict[str, float]) -> str:
    """One planet's kind: each of EDGE_KINDS with its share, else NORMAL (one uniform draw)."""
    u = rng.random()
    bound = 0.0
    for kind in EDGE_KINDS:
        bound += fractions[kind]
        if u < bound:
            return kind
    return NORMAL


def grazing_impact_parameter(rng: np.random.Generator, k: float) -> float:
    """b of a grazing orbit for radius ratio ``k``: 1 + k * U(GRAZING_LIMB_OFFSET)."""
    return 1.0 + k * rng.uniform(*GRAZING_LIMB_OFFSET)


def _no_transit_offset_h(rng: np.random.Generator, duration_h: float) -> float:
    """Mid-time beyond the visit (h): 4..6 h, more if half the transit plus the clearance
    needs it."""
    extra = max(0.0, duration_h / 2 + NO_TRANSIT_CLEARANCE_H - NO_TRANSIT_OFFSET_H[0])
    return rng.uniform(*NO_TRANSIT_OFFSET_H) + extra


def _partial_offset_h(rng: np.random.Generator, duration_h: float) -> float:
    """Mid-time beyond the visit (h) leaving PARTIAL_INSIDE_FRACTION of the transit inside."""
    return (0.5 - rng.uniform(*PARTIAL_INSIDE_FRACTION)) * duration_h


# The kinds whose mid-times lie outside the visit, and the distance beyond it of each.
OUTSIDE_VISIT = {"no_transit": _no_transit_offset_h, "partial_transit": _partial_offset_h}


def mid_time_h(rng: np.random.Generator, kind: str, duration_h: float) -> float:
    """A visit's mid-transit time (h) for a planet of an OUTSIDE_VISIT kind whose transit
    lasts ``duration_h``: before the visit's start or after its end, at random."""
    offset = OUTSIDE_VISIT[kind](rng, duration_h)
    return VISIT_LENGTH_H + offset if rng.random() < 0.5 else -offset
