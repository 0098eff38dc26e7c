"""Molecular absorption bands in the AIRS-CH0 range: the places where a molecule the
training labels lack would show itself first.

The table serves two readers: the V50 graph joins the bins inside one band
(``spectramind.models.graph``), and the spectral prior's conflict test looks for a feature
at each band (``spectral_prior.guarded_posterior``): a few hypotheses fixed by physics, not
hundreds of windows, so a real band is caught at a fraction of the signal the blind window
scan needs.
"""

from __future__ import annotations

import numpy as np

# (start_um, end_um) of each molecule's strong bands, clipped to 1.9-4.0 um (AIRS-CH0 is
# ~1.95-3.9 um). Band origins are the textbook vibrational ones (Herzberg 1945; HITRAN), in
# cm^-1 and um; each interval spans the band's strong P/R branches.
MOLECULAR_BANDS: dict[str, tuple[tuple[float, float], ...]] = {
    # nu2+nu3 (5331 cm^-1, 1.88 um; its long-wavelength half, the band starts at ~1.8 um);
    # nu1 (3657, 2.73 um) and nu3 (3756, 2.66 um) stretches.
    "H2O": ((1.90, 2.00), (2.50, 3.00)),
    # 2nu1+nu3 triad (1.96 / 2.01 / 2.06 um) and the nu1+nu3 / 2nu2+nu3 Fermi dyad
    # (2.77 / 2.69 um); the strongest, nu3 at 4.3 um, is outside AIRS-CH0.
    "CO2": ((1.95, 2.10), (2.65, 2.85)),
    # nu2+nu3 (2.20 um) and nu3+nu4 (2.32 um) combinations; nu3 C-H stretch (3019, 3.31 um).
    "CH4": ((2.15, 2.50), (3.20, 3.50)),
    # First overtone 2-0 (4260 cm^-1, 2.35 um); the fundamental at 4.67 um is outside AIRS-CH0.
    "CO": ((2.25, 2.45),),
}


# Where a band's feature may be centred, in its profile's sigmas from the interval's middle:
# the intervals are coarse (a band's P and R branches, a Fermi dyad's two members), and a
# matched filter one sigma off centre keeps only ~60 % of the signal's significance.
CENTRE_SHIFTS = (-1.0, -0.5, 0.0, 0.5, 1.0)


def band_profiles(wavelength_um: np.ndarray) -> np.ndarray:
    """(profiles, bins) absorption profiles of the bands of ``MOLECULAR_BANDS`` whose middle
    lies inside the bins' wavelength range (the FGS1 bin included: far from every band, ~0):
    per band, a Gaussian in wavelength whose +-2 sigma spans the interval (its strong
    branches), peak 1, centred at each of ``CENTRE_SHIFTS``. A band's strength relative to
    the molecule's other bands depends on the atmosphere, so each band is its own profile."""
    wavelength_um = np.asarray(wavelength_um, dtype=np.float64)
    low, high = wavelength_um.min(), wavelength_um.max()
    profiles = [
        np.exp(-0.5 * ((wavelength_um - middle - shift * width) / width) ** 2)
        for intervals in MOLECULAR_BANDS.values()
        for middle, width in (((a + b) / 2, (b - a) / 4) for a, b in intervals)
        if low <= middle <= high
        for shift in CENTRE_SHIFTS
    ]
    return np.array(profiles).reshape(len(profiles), wavelength_um.size)
