"""Which part of the transit a planet's visits hold: whether there is a transit at all (the
no-transit model's chi2 excess), and the probability of each contact T1-T4 inside a visit
under the geometry's uncertainty. A depth fitted from a visit without its transit is the
fit's bound, not a measurement; one from an ingress alone leans on the geometry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spectramind.fit.white_light import TransitSearch, VisitCurves, WhiteLightFit
from spectramind.guards import GuardOptions

CONTACTS = ("T1", "T2", "T3", "T4")
GEOMETRY_SAMPLES = 500
GEOMETRY_SEED = 20250  # fixed: the same fit gives the same probabilities
AIRS = "AIRS-CH0"


def transit_significance(searches: Sequence[TransitSearch]) -> float:
    """Sigma by which a transit beats no transit over all visits: the square root of the
    visits' chi2 excesses, each divided by its noise inflation squared."""
    excess = sum(max(s.delta_chi2, 0.0) / s.inflation**2 for s in searches)
    return float(np.sqrt(excess))


def contact_times(
    t0_h: np.ndarray, sma: np.ndarray, inclination: np.ndarray, depth: np.ndarray, period_d: float
) -> np.ndarray:
    """(4, ...) times (h) of T1-T4 of a circular orbit (Seager & Mallen-Ornelas 2003); T2 and
    T3 are NaN where the orbit is grazing (the planet never lies wholly on the disc) and all
    four where it misses the star."""
    k = np.sqrt(np.clip(depth, 0.0, None))
    incl = np.radians(inclination)
    b = sma * np.cos(incl)
    half_angle = period_d * 24.0 / (2 * np.pi)

    def half_duration(reach: np.ndarray) -> np.ndarray:
        chord = reach**2 - b**2
        arg = np.sqrt(np.where(chord >= 0, chord, np.nan)) / (sma * np.sin(incl))
        return half_angle * np.arcsin(np.clip(arg, 0.0, 1.0))

    outer, inner = half_duration(1 + k), half_duration(1 - k)
    return np.array([t0_h - outer, t0_h - inner, t0_h + inner, t0_h + outer])


@dataclass
class Coverage:
    """What the visits hold: the transit's significance, the probability of each contact
    inside the best-covering visit, and the probability that the orbit is grazing."""

    significance: float
    contacts: dict[str, float]
    grazing: float

    def state(self, guards: GuardOptions) -> tuple[str, str]:
        """Guard state of a planet whose transit was seen (partial_transit, grazing or
        normal; spectramind.guards.GUARD_STATES) and the reason, in words."""
        missing = [c for c in ("T1", "T4") if self.contacts[c] < guards.contact_probability]
        if missing:
            seen = ", ".join(f"{c} {self.contacts[c]:.2f}" for c in CONTACTS)
            return "partial_transit", f"{' and '.join(missing)} outside the visit ({seen})"
        if self.grazing > 0.5:
            return "grazing", f"grazing orbit (probability {self.grazing:.2f}): no T2, T3"
        return "normal", ""


def missing_transit(significance: float, guards: GuardOptions) -> str | None:
    """Why the visits hold no transit (the reason, in words), or None when one was seen."""
    if significance >= guards.min_transit_significance:
        return None
    return (
        f"no transit in the visits: {significance:.1f} sigma over no transit, below "
        f"{guards.min_transit_significance:g}"
    )


def sample_geometry(white: WhiteLightFit) -> np.ndarray:
    """GEOMETRY_SAMPLES draws of (t0 per visit, a/Rs, inclination, AIRS depth) from the
    white-light fit's Laplace approximation (seeded: the same fit, the same draws)."""
    mean = np.r_[white.geometry.t0_h, white.geometry.sma, white.geometry.inclination,
                 white.depth[AIRS]]  # fmt: skip
    values, vectors = np.linalg.eigh(white.geometry_covariance)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    normal = np.random.default_rng(GEOMETRY_SEED).standard_normal((GEOMETRY_SAMPLES, mean.size))
    return mean + normal @ root.T


def transit_coverage(
    visits: Sequence[VisitCurves], white: WhiteLightFit, searches: Sequence[TransitSearch]
) -> Coverage:
    """The coverage of a fitted planet: per contact, the largest over visits of the share
    of geometry draws that put it inside that visit's AIRS time span."""
    n_visits = len(visits)
    draws = sample_geometry(white)
    sma, inclination, depth = draws[:, n_visits], draws[:, n_visits + 1], draws[:, n_visits + 2]
    period_d = white.geometry.period_d
    inside = np.zeros(len(CONTACTS))
    for v, visit in enumerate(visits):
        times = contact_times(draws[:, v], sma, inclination, depth, period_d)
        start, end = visit.time_h[AIRS][0], visit.time_h[AIRS][-1]
        share = np.mean((times >= start) & (times <= end), axis=1)  # NaN compares False
        inside = np.maximum(inside, share)
    k = np.sqrt(np.clip(depth, 0.0, None))
    impact = sma * np.cos(np.radians(inclination))
    return Coverage(
        significance=transit_significance(searches),
        contacts=dict(zip(CONTACTS, map(float, inside), strict=True)),
        grazing=float(np.mean(impact > 1 - k)),
    )
