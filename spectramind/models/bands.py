"""Molecular absorption bands in the AIRS-CH0 range, for the graph's band edges.

Bins inside one band see the same molecule's opacity, so their depths move together; the AIRS
graph joins every pair of them (``spectramind.models.graph.band_edges``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# (start_um, end_um) of each molecule's strong bands, clipped to 1.9-4.0 um (AIRS-CH0 is
# ~1.95-3.9 um). Band origins are the textbook vibrational ones (Herzberg 1945; HITRAN), in
# cm^-1 and um; each interval spans the band's strong P/R branches.
DEFAULT_BANDS: dict[str, tuple[tuple[float, float], ...]] = {
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


def validate_bands(bands: Mapping[str, Sequence[tuple[float, float]]]) -> None:
    """Raise ValueError naming the molecule and band if a band is not a finite (start < end)."""
    for molecule, intervals in bands.items():
        for band in intervals:
            start, end = band
            if not (np.isfinite(start) and np.isfinite(end)):
                raise ValueError(f"{molecule} band {band}: start and end must be finite (um)")
            if start >= end:
                raise ValueError(f"{molecule} band {band}: start must be below end (um)")


def bins_in_band(wavelength_um: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """Indices of the bins whose wavelength lies in the closed interval ``band`` (um)."""
    wavelength_um = np.asarray(wavelength_um, dtype=np.float64)
    start, end = band
    return np.flatnonzero((wavelength_um >= start) & (wavelength_um <= end))


def band_membership(
    wavelength_um: np.ndarray, bands: Mapping[str, Sequence[tuple[float, float]]]
) -> dict[str, np.ndarray]:
    """Sorted indices of the bins inside any of each molecule's bands."""
    validate_bands(bands)
    members = {}
    for molecule, intervals in bands.items():
        indices = [bins_in_band(wavelength_um, band) for band in intervals]
        members[molecule] = np.unique(np.concatenate([np.empty(0, dtype=np.int64), *indices]))
    return members
