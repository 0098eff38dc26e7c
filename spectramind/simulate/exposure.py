"""Photon shot noise and cosmic rays on the up-the-ramp reads of a CDS pair."""

from __future__ import annotations

import numpy as np

from spectramind.io.layout import SHORT_READ_S

COSMIC_RATE_PER_PIXEL_S = 1.5e-5  # ~5 hits / cm^2 / s on 18 um pixels, as at L2
COSMIC_MEDIAN_E = 800.0
COSMIC_LOG_SPREAD = 0.8


def expose_pairs(
    rates: np.ndarray, integration_s: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Charge (e-) at the short and at the long read of each pair, for rates (n, 32, W) e-/s.

    The long read sees the short read's charge plus what arrives during the integration,
    each a Poisson draw, so the two reads are correlated as on a real ramp.
    """
    short = rng.poisson(rates * SHORT_READ_S).astype(np.float64)
    long = rng.poisson(rates * integration_s).astype(np.float64)
    long += short
    _add_cosmic_rays(short, long, integration_s, rng)
    return short, long


def _add_cosmic_rays(
    short: np.ndarray, long: np.ndarray, integration_s: float, rng: np.random.Generator
) -> None:
    """Deposit rare cosmic-ray charge: before the short read it reaches both reads, after it
    only the long one (and so survives CDS)."""
    ramp_s = SHORT_READ_S + integration_s
    n_hits = rng.poisson(COSMIC_RATE_PER_PIXEL_S * ramp_s * short.size)
    if n_hits == 0:
        return
    where = np.unravel_index(rng.integers(0, short.size, n_hits), short.shape)
    charge = COSMIC_MEDIAN_E * np.exp(COSMIC_LOG_SPREAD * rng.standard_normal(n_hits))
    before_short = rng.random(n_hits) < SHORT_READ_S / ramp_s
    np.add.at(long, where, charge)
    np.add.at(short, tuple(w[before_short] for w in where), charge[before_short])
